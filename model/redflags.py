"""Read and check the red-flag rules and triage levels in ``priors/red_flags.yaml``.

This module owns the *policy* of the safety layer as data: the ordered triage levels, each rule's
condition, level, messages (one for the person with the bleeding, one for the clinician) and
guideline source, the baseline level, the reassurance pathway and the advice people can read.
Evaluating the rules for a case is `model.triage`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import KnowledgeError
from model.vocabulary import Source, Vocabulary, parse_condition, read_yaml, required_text

LEVELS = ("emergency", "urgent", "suspected_cancer", "soon", "routine", "self_care")  # most urgent first


@dataclass(frozen=True)
class Level:
    """A triage level: how urgent, with the action in words for the person and for the clinician."""

    id: str
    label: str
    action: str
    clinician: str


@dataclass(frozen=True)
class Rule:
    """One red-flag (or reassurance) rule.

    It fires when every entry of ``when`` holds, or, for a probability rule, when the model's
    probability of ``cause`` reaches ``at_least``. A rule with ``unless`` does not fire when every
    entry of it holds: the guideline's work-up is complete and another pathway takes over. Its
    entries are all "no" answers, so a "yes" can never stop a rule from firing. A reassurance entry
    also lists ``benign_yes``, the only findings that may be answered "yes" while it holds: any
    other "yes" points to a cause that needs treatment or follow-up. ``message`` is written for the
    person with the bleeding, ``clinician`` for the clinician. ``covered_by`` names rules, at least
    as urgent, whose own step includes this one: when one of them fires too, this rule still counts
    for the triage but is not written out again.
    """

    id: str
    level: str
    message: str
    source: tuple[str, ...]
    locator: str
    when: Mapping[str, tuple[str, ...]]
    cause: str | None = None
    at_least: float | None = None
    benign_yes: tuple[str, ...] = ()
    combine_at_most: int = 0
    clinician: str = ""
    unless: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    covered_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedFlagPolicy:
    """The whole safety layer as loaded from ``red_flags.yaml``."""

    levels: Mapping[str, Level]
    rules: tuple[Rule, ...]
    reassurance: tuple[Rule, ...]
    baseline: str
    baseline_reason: str
    baseline_clinician: str
    baseline_source: tuple[str, ...]
    advice: Mapping[str, tuple[str, ...]]

    @staticmethod
    def urgency(level: str) -> int:
        """Return a number that grows with urgency (self_care 0 ... emergency 5)."""
        return len(LEVELS) - 1 - LEVELS.index(level)


def _level(entry: Mapping, display: str, where: str) -> str:
    level = entry.get("level")
    if level not in LEVELS:
        raise KnowledgeError(display, where, "level", f"must be one of: {', '.join(LEVELS)}")
    return level


def _sources(raw: Any, sources: Mapping[str, Source], display: str, where: str) -> tuple[str, ...]:
    keys = raw if isinstance(raw, list) else [raw]
    if not keys or not all(isinstance(k, str) and k in sources for k in keys):
        raise KnowledgeError(display, where, "source", "must list keys of sources.yaml")
    return tuple(keys)


def _rule(
    entry: Any, vocabulary: Vocabulary, sources: Mapping[str, Source], display: str, where: str
) -> Rule:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise KnowledgeError(display, where, "id", "each rule needs an id")
    where = f"rule '{entry['id']}'"
    common = {
        "id": entry["id"],
        "level": _level(entry, display, where),
        "message": required_text(entry, "message", display, where),
        "source": _sources(entry.get("source"), sources, display, where),
        "locator": required_text(entry, "locator", display, where),
        "clinician": required_text(entry, "clinician", display, where),
        "covered_by": _covered_by(entry, display, where),
    }
    if "probability" in entry:
        prob = entry["probability"]
        if not isinstance(prob, dict) or prob.get("cause") not in vocabulary.causes:
            raise KnowledgeError(display, where, "probability", "needs 'cause', a cause id")
        at_least = prob.get("at_least")
        if not isinstance(at_least, int | float) or not 0 < at_least <= 1:
            raise KnowledgeError(display, where, "at_least", "must be a probability above 0")
        combine = prob.get("combine_at_most")
        if not isinstance(combine, int) or isinstance(combine, bool) or combine < 1:
            raise KnowledgeError(display, where, "combine_at_most", "must be a whole number of 1 or more")
        return Rule(**common, when={}, cause=prob["cause"], at_least=float(at_least), combine_at_most=combine)
    when = parse_condition(entry.get("when"), vocabulary.context, vocabulary.findings, display, where)
    if not when:
        raise KnowledgeError(display, where, "when", "needs at least one condition")
    benign = entry.get("benign_yes") or []
    if not isinstance(benign, list) or any(f not in vocabulary.findings for f in benign):
        raise KnowledgeError(display, where, "benign_yes", "must list finding ids")
    unless = parse_condition(entry.get("unless") or {}, {}, vocabulary.findings, display, where)
    if any(states != ("no",) for states in unless.values()):
        raise KnowledgeError(display, where, "unless", 'may only list findings answered "no"')
    return Rule(**common, when=when, benign_yes=tuple(benign), unless=unless)


def _covered_by(entry: Mapping, display: str, where: str) -> tuple[str, ...]:
    covered_by = entry.get("covered_by") or []
    if not isinstance(covered_by, list) or not all(isinstance(c, str) for c in covered_by):
        raise KnowledgeError(display, where, "covered_by", "must list rule ids")
    return tuple(covered_by)


def _check_covers(rules: tuple[Rule, ...], display: str) -> None:
    """Refuse a cover that is not another rule or is less urgent: hiding a step never hides urgency."""
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        for cover in rule.covered_by:
            where = f"rule '{rule.id}'"
            if cover not in by_id or cover == rule.id:
                raise KnowledgeError(display, where, "covered_by", f"'{cover}' is not another rule")
            if RedFlagPolicy.urgency(by_id[cover].level) < RedFlagPolicy.urgency(rule.level):
                raise KnowledgeError(
                    display, where, "covered_by", f"'{cover}' is less urgent, so it cannot cover this rule"
                )


def load_policy(
    path: Path, vocabulary: Vocabulary, sources: Mapping[str, Source], display: str
) -> RedFlagPolicy:
    """Read and check ``red_flags.yaml`` against the vocabulary and the bibliography.

    Raises
    ------
    KnowledgeError
        Naming the rule and the field of the first problem found.
    """
    raw = read_yaml(path, display)
    if not isinstance(raw, dict):
        raise KnowledgeError(
            display,
            "",  # pragma: no mutate ("" and None both leave an empty part out of the message)
            "",  # pragma: no mutate
            "must be a mapping with levels, rules and baseline",
        )
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, dict) or tuple(levels_raw) != LEVELS:
        raise KnowledgeError(
            display,
            "levels",
            "",  # pragma: no mutate ("" and None both leave an empty part out of the message)
            f"must list, most urgent first: {', '.join(LEVELS)}",
        )
    levels = {
        lid: Level(
            lid,
            required_text(e, "label", display, f"level '{lid}'"),
            required_text(e, "action", display, f"level '{lid}'"),
            required_text(e, "clinician", display, f"level '{lid}'"),
        )
        for lid, e in levels_raw.items()
    }
    rules = tuple(
        _rule(e, vocabulary, sources, display, f"rules entry {n}")
        for n, e in enumerate(raw.get("rules") or [], 1)
    )
    reassurance = tuple(
        _rule(e, vocabulary, sources, display, f"reassurance entry {n}")
        for n, e in enumerate(raw.get("reassurance") or [], 1)
    )
    _check_covers(rules, display)
    ids = [r.id for r in (*rules, *reassurance)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KnowledgeError(display, f"rule '{duplicates[0]}'", "id", "is used twice")
    baseline = raw.get("baseline")
    if baseline not in LEVELS:
        raise KnowledgeError(
            display,
            "baseline",
            "",  # pragma: no mutate ("" and None both leave an empty part out of the message)
            f"must be one of: {', '.join(LEVELS)}",
        )
    advice = raw.get("advice") or {}
    if not isinstance(advice, dict) or any(
        k not in LEVELS or not isinstance(v, list) for k, v in advice.items()
    ):
        raise KnowledgeError(
            display,
            "advice",
            "",  # pragma: no mutate ("" and None both leave an empty part out of the message)
            "must map levels to lists of sentences",
        )
    return RedFlagPolicy(
        levels=levels,
        rules=rules,
        reassurance=reassurance,
        baseline=baseline,
        baseline_reason=required_text(raw, "baseline_reason", display, "baseline"),
        baseline_clinician=required_text(raw, "baseline_clinician", display, "baseline"),
        baseline_source=_sources(raw.get("baseline_source"), sources, display, "baseline"),
        advice={k: tuple(" ".join(s.split()) for s in v) for k, v in advice.items()},
    )
