"""Read the model's vocabulary and bibliography: ``priors/vocabulary.yaml`` and ``priors/sources.yaml``.

This module owns the words of the model (ids, labels, questions, which cause is possible in which
context) and the list of publications that numbers may cite. It holds no numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from model.errors import KnowledgeError
from model.intake import NotUtf8, decode_utf8

FINDING_GROUPS = ("history", "examination", "tests")
CAUSE_STATES = ("absent", "present")
FINDING_STATES = ("no", "yes")
# libyaml's parser, where PyYAML was built with it, reads the priors ten times faster than the
# pure-Python one; both build the same objects with the same safe constructor.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ContextVariable:
    """A context variable (age band, menopause...) and its ordered states."""

    id: str
    label: str
    states: tuple[str, ...]
    state_labels: Mapping[str, str]
    parent: str | None = None
    help: str = ""


@dataclass(frozen=True)
class Cause:
    """A cause of bleeding after sex: a binary node, present or absent."""

    id: str
    label: str
    description: str
    serious: bool
    possible_only_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """Something a clinician can observe: a history item, an examination sign or a test result."""

    id: str
    group: str
    label: str
    question: str


@dataclass(frozen=True)
class ImpossibleCombination:
    """Answers that cannot occur together; a case that has them all is rejected with ``message``."""

    when: Mapping[str, tuple[str, ...]]
    message: str


@dataclass(frozen=True)
class Source:
    """A publication or guideline that numbers cite."""

    key: str
    authors: str
    year: int
    title: str
    journal: str
    pmid: int | None = None
    doi: str | None = None
    url: str | None = None
    note: str = ""
    short: str = ""

    def citation(self) -> str:
        """Return a one-line citation: authors, year, title, journal and identifier."""
        ident = f"PMID {self.pmid}" if self.pmid else f"doi:{self.doi}" if self.doi else self.url or ""
        return f"{self.authors} ({self.year}). {self.title}. {self.journal}. {ident}".strip()


@dataclass(frozen=True)
class Vocabulary:
    """All ids of the model, in file order, with their words.

    ``presenting`` is the finding every case has unless it says otherwise (bleeding after sex): the
    complaint whose explanation the differential reports.
    """

    context: Mapping[str, ContextVariable]
    causes: Mapping[str, Cause]
    findings: Mapping[str, Finding]
    impossible_combinations: tuple[ImpossibleCombination, ...]
    presenting: str | None = None


class _UniqueKeyLoader(SAFE_LOADER):
    """PyYAML's safe loader, refusing a key given twice in one mapping (it would keep only the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} is given twice in one mapping; give it once",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep)


def read_yaml(path: Path, display: str) -> Any:
    """Read a YAML file safely: UTF-8 (with or without a byte-order mark), no key given twice.

    Raises
    ------
    KnowledgeError
        Naming the file, the line and the problem: not found, not UTF-8, not valid YAML, or a
        duplicate key.
    """
    try:
        text = decode_utf8(path.read_bytes())
    except FileNotFoundError:
        raise KnowledgeError(display, "", "", "file not found") from None
    except OSError as exc:
        raise KnowledgeError(display, "", "", f"cannot read ({exc.strerror or exc})") from None
    except NotUtf8 as exc:
        raise KnowledgeError(display, f"line {exc.line}", "", str(exc)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a subclass of the (C) safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise KnowledgeError(display, where, "", f"not valid YAML: {problem}") from None


def _mapping(value: Any, display: str, entry: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise KnowledgeError(display, entry, key, "must be a mapping of ids to entries")
    for item in value:
        if not isinstance(item, str):
            raise KnowledgeError(
                display, entry, key, f"id {item!r} must be text (quote yes/no/numbers in YAML)"
            )
    return value


def required_text(entry: Mapping, name: str, display: str, where: str, required: bool = True) -> str:
    """Return ``entry[name]`` as text with its white space folded, or raise naming the field."""
    value = entry.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise KnowledgeError(display, where, name, "must be non-empty text")
    return " ".join(value.split())


def _context(raw: Any, display: str) -> dict[str, ContextVariable]:
    variables: dict[str, ContextVariable] = {}
    for var_id, entry in _mapping(raw, display, "", "context").items():
        where = f"context '{var_id}'"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping with label and states")
        states = _mapping(entry.get("states"), display, where, "states")
        if len(states) < 2:
            raise KnowledgeError(display, where, "states", "needs at least two states")
        parent = entry.get("given")
        if parent is not None and parent not in variables:
            raise KnowledgeError(
                display, where, "given", f"'{parent}' must be a context variable listed above it"
            )
        variables[var_id] = ContextVariable(
            id=var_id,
            label=required_text(entry, "label", display, where),
            states=tuple(states),
            state_labels={s: str(label) for s, label in states.items()},
            parent=parent,
            help=required_text(entry, "help", display, where, required=False),
        )
    return variables


def parse_condition(
    raw: Any, context: Mapping[str, ContextVariable], findings: Mapping[str, Any], display: str, where: str
) -> dict[str, tuple[str, ...]]:
    """Parse a condition ``{id: [state, ...], ...}`` over context variables and findings.

    Findings take the states ``yes`` and ``no`` (YAML booleans are accepted). All entries must hold
    for the condition to hold; an entry holds when the case's answer is one of its states.

    Raises
    ------
    KnowledgeError
        For an unknown id, a state that id does not have, or a value that is not a list.
    """
    condition = _mapping(raw, display, where, "when")
    parsed = {}
    for var, states in condition.items():
        allowed = context[var].states if var in context else FINDING_STATES if var in findings else None
        if allowed is None:
            raise KnowledgeError(display, where, var, "is not a context variable or finding id")
        if not isinstance(states, list):
            raise KnowledgeError(display, where, var, 'must be a list of states, e.g. ["yes"]')
        states = [("yes" if s else "no") if isinstance(s, bool) else s for s in states]
        bad = [s for s in states if s not in allowed]
        if not states or bad:
            raise KnowledgeError(display, where, var, f"states must be a list from: {', '.join(allowed)}")
        parsed[var] = tuple(states)
    return parsed


def load_vocabulary(path: Path, display: str) -> Vocabulary:
    """Read and check ``vocabulary.yaml``.

    Parameters
    ----------
    path : Path
        The file to read.
    display : str
        How to name the file in error messages (e.g. ``priors/vocabulary.yaml``).

    Returns
    -------
    Vocabulary
        Context variables, causes, findings and impossible combinations, in file order.

    Raises
    ------
    KnowledgeError
        Naming the entry and field of the first problem found.
    """
    raw = read_yaml(path, display)
    if not isinstance(raw, dict):
        raise KnowledgeError(display, "", "", "must be a mapping with context, causes and findings")
    context = _context(raw.get("context"), display)
    findings = {}
    for fid, entry in _mapping(raw.get("findings"), display, "", "findings").items():
        where = f"finding '{fid}'"
        group = entry.get("group") if isinstance(entry, dict) else None
        if group not in FINDING_GROUPS:
            raise KnowledgeError(display, where, "group", f"must be one of {', '.join(FINDING_GROUPS)}")
        findings[fid] = Finding(
            fid,
            group,
            required_text(entry, "label", display, where),
            required_text(entry, "question", display, where),
        )
    causes = {}
    for cid, entry in _mapping(raw.get("causes"), display, "", "causes").items():
        where = f"cause '{cid}'"
        if not isinstance(entry, dict) or not isinstance(entry.get("serious"), bool):
            raise KnowledgeError(display, where, "serious", "must be true or false")
        only = entry.get("possible_only_when") or {}
        only = parse_condition(only, context, {}, display, where) if only else {}
        causes[cid] = Cause(
            cid,
            required_text(entry, "label", display, where),
            required_text(entry, "description", display, where),
            entry["serious"],
            only,
        )
    clash = (set(context) & set(causes)) | (set(context) & set(findings)) | (set(causes) & set(findings))
    if clash:
        raise KnowledgeError(display, "", "", f"ids used twice: {', '.join(sorted(clash))}")
    combos = []
    for number, entry in enumerate(raw.get("impossible_combinations") or [], start=1):
        where = f"impossible_combinations entry {number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping with when and message")
        combos.append(
            ImpossibleCombination(
                parse_condition(entry.get("when"), context, findings, display, where),
                required_text(entry, "message", display, where),
            )
        )
    presenting = raw.get("presenting")
    if presenting is not None and presenting not in findings:
        raise KnowledgeError(display, "presenting", "", f"'{presenting}' is not a finding of this file")
    return Vocabulary(context, causes, findings, tuple(combos), presenting)


def load_sources(path: Path, display: str) -> dict[str, Source]:
    """Read and check ``sources.yaml``: every source needs authors, year, title, journal and an identifier.

    Raises
    ------
    KnowledgeError
        Naming the source key and field of the first problem found.
    """
    sources = {}
    for key, entry in _mapping(read_yaml(path, display), display, "", "sources").items():
        where = f"source '{key}'"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping")
        year = entry.get("year")
        if not isinstance(year, int) or not 1900 <= year <= 2100:
            raise KnowledgeError(display, where, "year", "must be a four-digit year")
        pmid = entry.get("pmid")
        if pmid is not None and not isinstance(pmid, int):
            raise KnowledgeError(display, where, "pmid", "must be a whole number")
        if not (pmid or entry.get("doi") or entry.get("url")):
            raise KnowledgeError(display, where, "pmid", "give at least one of pmid, doi or url")
        sources[key] = Source(
            key=key,
            authors=required_text(entry, "authors", display, where),
            year=year,
            title=required_text(entry, "title", display, where),
            journal=required_text(entry, "journal", display, where),
            pmid=pmid,
            doi=entry.get("doi"),
            url=entry.get("url"),
            note=required_text(entry, "note", display, where, required=False),
            short=required_text(entry, "short", display, where, required=False),
        )
    return sources
