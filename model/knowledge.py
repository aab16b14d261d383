"""Load and validate the knowledge base in ``priors/``: every number, with its source and uncertainty.

This module owns the `Knowledge` value: the vocabulary, the bibliography and one `Parameter` per CSV
row, each with a stable id (``finding_links:chlamydia:test_chlamydia``) used by overrides, by the
``parameters`` command and by sensitivity analysis. Every check of the files happens here, and every
error names the file, the row and the field. Deriving a tuned copy (`Knowledge.with_overrides`) never
changes the original, and `Knowledge.write` saves one as a new folder that the CLI and the app load.
"""

from __future__ import annotations

import csv
import difflib
import io
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from model.checks import CHECKS
from model.errors import KnowledgeError
from model.intake import NotUtf8, decode_utf8, parse_number, shown
from model.parameter import Parameter
from model.redflags import RedFlagPolicy, load_policy
from model.vocabulary import Source, Vocabulary, load_sources, load_vocabulary

if TYPE_CHECKING:  # pandas is slow to import and only this table needs it
    import pandas as pd

DEFAULT_PRIORS = Path(__file__).resolve().parent.parent / "priors"
PROVENANCE = (
    "value", "ci_low", "ci_high", "events", "total",
    "population", "source", "locator", "evidence", "rationale",
)  # fmt: skip
EVIDENCE = (
    "cohort", "cross_sectional", "case_control", "accuracy_study",
    "systematic_review", "guideline", "derived", "calibrated", "expert_estimate",
)  # fmt: skip
NEEDS_RATIONALE = ("derived", "calibrated", "expert_estimate")
# Optional text column: the assumed factors inside a derived number (empty when none), so a reader
# sees how much judgement a "derived" row carries. Older folders without the column still load.
ASSUMPTIONS = "assumptions"


@dataclass(frozen=True)
class TableSpec:
    """One numeric file: its key columns and what kind of number its ``value`` is."""

    name: str
    keys: tuple[str, ...]
    kind: str  # "probability" or "odds_ratio"

    def parameter_id(self, key: Mapping[str, str]) -> str:
        """Return the stable id of the row with these key values."""
        k = key
        if self.name == "context_prevalence":
            base = f"{k['variable']}={k['state']}"
            return f"{self.name}:{base}|{k['given']}" if k.get("given") else f"{self.name}:{base}"
        if self.name == "cause_base_rates":
            return f"{self.name}:{k['cause']}" + (f"|{k['stratum']}" if k["stratum"] else "")
        if self.name == "risk_factors":
            return f"{self.name}:{k['cause']}:{k['variable']}={k['state']}"
        if self.name == "finding_links":
            return f"{self.name}:{k['link_source']}:{k['finding']}"
        return f"{self.name}:{k['finding']}"


TABLES = {
    spec.name: spec
    for spec in (
        TableSpec("context_prevalence", ("variable", "state", "given_state"), "probability"),
        TableSpec("cause_base_rates", ("cause", "stratum"), "probability"),
        TableSpec("risk_factors", ("cause", "variable", "state", "reference_state"), "odds_ratio"),
        TableSpec("finding_links", ("link_source", "finding"), "probability"),
        TableSpec("finding_leaks", ("finding",), "probability"),
    )
}


@dataclass(frozen=True)
class Knowledge:
    """The whole knowledge base: vocabulary, sources, every parameter and the red-flag rules, validated.

    Build one with `load_knowledge`; derive a tuned copy with `with_overrides`.
    """

    vocabulary: Vocabulary
    sources: Mapping[str, Source]
    parameters: Mapping[str, Parameter]
    red_flags: RedFlagPolicy
    folder: str = "priors"
    path: Path = DEFAULT_PRIORS

    def table(self, name: str) -> Iterator[Parameter]:
        """Iterate over the parameters of one file, in file order."""
        return (p for p in self.parameters.values() if p.table == name)

    def with_overrides(self, overrides: Mapping[str, float]) -> Knowledge:
        """Return a copy with some parameter values replaced, validated like the files.

        Overriding one state of a context distribution rescales its sibling states so that the
        distribution still sums to one.

        Parameters
        ----------
        overrides : Mapping[str, float]
            Parameter id to new value, ids as listed by ``python -m model parameters``.

        Returns
        -------
        Knowledge
            A new, validated knowledge base; this one is unchanged.

        Raises
        ------
        KnowledgeError
            For an unknown id (naming the closest valid ids) or a value the files would not accept.

        Examples
        --------
        >>> kb = load_knowledge()
        >>> tuned = kb.with_overrides({"finding_leaks:fever": 0.05})
        >>> tuned.parameters["finding_leaks:fever"].value
        0.05
        """
        if not isinstance(overrides, Mapping):
            raise KnowledgeError("overrides", "", "", "must be a mapping of parameter id to value")
        params = dict(self.parameters)
        for pid, value in overrides.items():
            if not isinstance(pid, str):
                raise KnowledgeError("overrides", shown(repr(pid)), "", "a parameter id is text")
            self.parameter(pid, "overrides")
            try:
                value = parse_number(value)
            except ValueError as exc:
                raise KnowledgeError("overrides", pid, "value", str(exc)) from None
            old = params[pid]
            params[pid] = replace(old, value=value, evidence=old.evidence)
            _check_value(params[pid], self._display(old.table), "overridden")
            if old.table == "context_prevalence":
                _rescale_siblings(params, params[pid])
        tuned = replace(self, parameters=params)
        check_knowledge(tuned)
        return tuned

    def parameter(self, pid: str, where: str) -> Parameter:
        """Return the parameter with this id; ``where`` names the caller's input in the error.

        Raises
        ------
        KnowledgeError
            For an unknown id, naming the closest valid ids.

        Examples
        --------
        >>> load_knowledge().parameter("finding_leaks:fever", "overrides").value
        0.02
        >>> load_knowledge().parameter("finding_leaks:fevr", "overrides")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        model.errors.KnowledgeError: overrides, finding_leaks:fevr: no such parameter; did you mean ...
        """
        if pid not in self.parameters:
            close = difflib.get_close_matches(pid, self.parameters, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KnowledgeError(where, shown(pid), "", f"no such parameter{hint}")
        return self.parameters[pid]

    def parameter_frame(self) -> pd.DataFrame:
        """Return every parameter as a table: id, where it sits, value, uncertainty and source."""
        import pandas as pd

        rows = [
            {
                "id": p.id,
                "table": p.table,
                "value": p.value,
                "ci_low": p.ci_low,
                "ci_high": p.ci_high,
                "events": p.events,
                "total": p.total,
                "population": p.population,
                "source": "; ".join(self.sources[s].citation() for s in p.source),
                "locator": p.locator,
                "evidence": p.evidence,
                "expert_estimate": p.is_expert_estimate,
                "rationale": p.rationale,
                "assumptions": p.assumptions,
            }
            for p in self.parameters.values()
        ]
        return pd.DataFrame(rows)

    def write(self, folder: str | Path, note: str = "tuned in code") -> Path:
        """Write this knowledge base as a new priors folder, for ``--priors`` in the CLI and the app.

        The words (vocabulary, sources, red flags, cases) are copied from the folder this knowledge
        was loaded from, and the numeric files are rewritten with the current values. A changed row
        says so: its rationale starts "Tuned from OLD to NEW (note)", its evidence becomes
        ``expert_estimate`` (the number is no longer the source's) and, if the new value lies outside
        the source's 95% interval, the interval is widened to include it and the rationale says that.

        Parameters
        ----------
        folder : str or Path
            A new folder, or an empty one. Never the shipped ``priors/`` or the folder loaded from.
        note : str, optional
            Why the values were changed, recorded in every changed row.

        Returns
        -------
        Path
            The folder written.

        Raises
        ------
        KnowledgeError
            If the folder is the shipped or the loaded one, or exists and is not empty.

        Examples
        --------
        >>> import tempfile
        >>> tuned = load_knowledge().with_overrides({"finding_leaks:fever": 0.05})
        >>> folder = tuned.write(Path(tempfile.mkdtemp()) / "tuned", note="example")
        >>> load_knowledge(folder).parameters["finding_leaks:fever"].rationale[:36]
        'Tuned from 0.02 to 0.05 (example); e'
        """
        target = Path(folder).resolve()
        for kept in (DEFAULT_PRIORS, self.path.resolve()):
            if target == kept or kept in target.parents:
                raise KnowledgeError(
                    str(folder), "", "", f"is inside {kept}; write a tuned set to a new folder"
                )
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise KnowledgeError(str(folder), "", "", "already exists and is not empty; choose a new folder")
        by_row = {(p.table, p.row): p for p in self.parameters.values()}
        tables = {name: _tuned_rows(self.path, spec, by_row, note) for name, spec in TABLES.items()}
        numeric = [f"{name}.csv" for name in TABLES]
        shutil.copytree(
            self.path, target, ignore=shutil.ignore_patterns(*numeric, "__pycache__"), dirs_exist_ok=True
        )
        for name, (header, rows) in tables.items():
            with (target / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, header, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        return target

    def _display(self, table: str) -> str:
        return f"{self.folder}/{table}.csv"


def _rescale_siblings(params: dict[str, Parameter], changed: Parameter) -> None:
    siblings = [
        p
        for p in params.values()
        if p.table == "context_prevalence"
        and p.key["variable"] == changed.key["variable"]
        and p.key["given_state"] == changed.key["given_state"]
        and p.id != changed.id
    ]
    rest = sum(p.value for p in siblings)
    if rest <= 0 and changed.value < 1:
        raise KnowledgeError("overrides", changed.id, "value", "the other states are all zero")
    for p in siblings:
        params[p.id] = replace(p, value=p.value * (1 - changed.value) / rest if rest else 0.0)


def _tuned_rows(
    template: Path, spec: TableSpec, by_row: Mapping[tuple[str, int], Parameter], note: str
) -> tuple[list[str], list[dict[str, str]]]:
    """Return a numeric file's header and rows with the current values, changed rows marked as tuned."""
    display = f"{template}/{spec.name}.csv"
    header, numbered = _csv_rows(template / f"{spec.name}.csv", display, spec)
    rows = [row for _, row in numbered]
    if len(rows) != sum(1 for table, _ in by_row if table == spec.name):
        raise KnowledgeError(display, "", "", "no longer has one row per parameter of the knowledge base")
    for n, row in numbered:
        p = by_row.get((spec.name, n))
        if p is None or any((row[c] or "").strip() != p.key[c] for c in spec.keys):
            raise KnowledgeError(
                display, f"row {n}", "", "no longer matches the knowledge base being written"
            )
        old = float(row["value"])
        if p.value == old:
            continue
        widened = ""
        if p.ci_low is not None and p.ci_high is not None and not p.ci_low <= p.value <= p.ci_high:
            row["ci_low"], row["ci_high"] = repr(min(p.ci_low, p.value)), repr(max(p.ci_high, p.value))
            widened = (
                f"; outside the source's 95% interval {p.ci_low:g} to {p.ci_high:g}, widened to include it"
            )
        row["rationale"] = (
            f"Tuned from {old:g} to {p.value:g} ({note}){widened}; evidence was {p.evidence}. {p.rationale}"
        ).strip()
        row["value"], row["evidence"] = repr(p.value), "expert_estimate"
    return header, rows


def _number(raw: str, display: str, entry: str, column: str, required: bool) -> float | None:
    if raw is None or raw.strip() == "":
        if required:
            raise KnowledgeError(display, entry, column, "is empty; a number is required")
        return None
    try:
        return parse_number(raw)
    except ValueError as exc:
        raise KnowledgeError(display, entry, column, str(exc)) from None


def _check_value(p: Parameter, display: str, entry: str) -> None:
    where = f"row {p.row} ({_label(p)})" if entry != "overridden" else p.id
    kind = TABLES[p.table].kind
    if kind == "odds_ratio" and not p.value > 0:
        raise KnowledgeError(display, where, "value", f"{p.value} is not an odds ratio (must be > 0)")
    if kind == "probability" and not 0 <= p.value <= 1:
        raise KnowledgeError(display, where, "value", f"{p.value} is not a probability")
    if p.table == "cause_base_rates" and not 0 < p.value < 1:
        raise KnowledgeError(display, where, "value", f"{p.value} must be strictly between 0 and 1")
    if p.table == "finding_leaks" and p.value >= 1:
        raise KnowledgeError(display, where, "value", "a leak of 1 would make the finding certain")


def _check_provenance(p: Parameter, display: str, entry: str, sources: Mapping[str, Source]) -> None:
    if p.evidence not in EVIDENCE:
        raise KnowledgeError(display, entry, "evidence", f"must be one of: {', '.join(EVIDENCE)}")
    if p.evidence in NEEDS_RATIONALE and not p.rationale:
        raise KnowledgeError(display, entry, "rationale", f"required for {p.evidence} numbers")
    if not p.source:
        raise KnowledgeError(display, entry, "source", "is empty; cite a key of sources.yaml")
    for k in p.source:
        if k not in sources:
            raise KnowledgeError(display, entry, "source", f"'{k}' is not a key of sources.yaml")
    has_ci = p.ci_low is not None and p.ci_high is not None
    has_counts = p.events is not None and p.total is not None
    if not (has_ci or has_counts):
        raise KnowledgeError(
            display, entry, "ci_low", "give a 95% interval (ci_low, ci_high) or events/total"
        )
    if has_ci:
        _check_interval(p, display, entry)
    if has_ci and not p.ci_low <= p.value <= p.ci_high:
        raise KnowledgeError(display, entry, "ci_low", "the value must lie within ci_low..ci_high")
    if has_counts and not 0 <= p.events <= p.total > 0:
        raise KnowledgeError(display, entry, "events", "events must be between 0 and total > 0")


def _check_interval(p: Parameter, display: str, entry: str) -> None:
    if TABLES[p.table].kind == "odds_ratio":
        if not p.ci_low > 0:
            raise KnowledgeError(display, entry, "ci_low", f"{p.ci_low:g} is not an odds ratio (must be > 0)")
    else:
        for name, bound in (("ci_low", p.ci_low), ("ci_high", p.ci_high)):
            if not 0 <= bound <= 1:
                raise KnowledgeError(display, entry, name, f"{bound:g} is not a probability")
    if p.ci_low > p.ci_high:
        raise KnowledgeError(display, entry, "ci_low", f"{p.ci_low:g} is above ci_high {p.ci_high:g}")


def _label(p: Parameter) -> str:
    return " -> ".join(v for v in p.key.values() if v)


def _csv_rows(
    path: Path, display: str, spec: TableSpec
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Return a numeric file's header and its rows, each with the line of the file it starts on.

    Raises
    ------
    KnowledgeError
        For a missing or unreadable file, bytes that are not UTF-8, a malformed CSV, a column
        missing, unknown or named twice, or a row with more or fewer fields than the header.
    """
    try:
        text = decode_utf8(path.read_bytes())
    except FileNotFoundError:
        raise KnowledgeError(display, "", "", "file not found") from None
    except OSError as exc:
        raise KnowledgeError(display, "", "", f"cannot read ({exc.strerror or exc})") from None
    except NotUtf8 as exc:
        raise KnowledgeError(display, f"line {exc.line}", "", str(exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, header = [], None
    try:
        start = 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue  # a blank line
            if header is None:
                header = [name.strip() for name in values]
                _check_header(header, display, spec)
            elif len(values) != len(header):
                raise KnowledgeError(
                    display, f"row {line}", "", f"has {len(values)} fields; the header has {len(header)}"
                )
            else:
                rows.append((line, dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        raise KnowledgeError(
            display, f"line {reader.line_num}", "", f"not a valid CSV file ({exc})"
        ) from None
    if header is None:
        raise KnowledgeError(display, "", "", "is empty; the first line names the columns")
    return header, rows


def _check_header(header: list[str], display: str, spec: TableSpec) -> None:
    columns = (*spec.keys, *PROVENANCE)
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise KnowledgeError(display, "header", "", f"columns named twice: {', '.join(twice)}")
    missing = [c for c in columns if c not in header]
    if missing:
        raise KnowledgeError(display, "header", "", f"missing columns: {', '.join(missing)}")
    unknown = [c for c in header if c not in (*columns, ASSUMPTIONS)]
    if unknown:
        raise KnowledgeError(
            display,
            "header",
            "",
            f"unknown columns: {', '.join(unknown)}; the columns are {', '.join(columns)}",
        )


def _read_table(
    folder: Path, display: str, spec: TableSpec, sources: Mapping[str, Source]
) -> list[Parameter]:
    _, rows = _csv_rows(folder / f"{spec.name}.csv", display, spec)
    return [_parse_row(row, n, display, spec, sources) for n, row in rows]


def _parse_row(row: dict, n: int, display: str, spec: TableSpec, sources: Mapping[str, Source]) -> Parameter:
    key = {c: (row[c] or "").strip() for c in spec.keys}
    entry = f"row {n} ({' -> '.join(v for v in key.values() if v)})"
    num = {c: _number(row[c], display, entry, c, c == "value") for c in PROVENANCE[:5]}
    text = {c: (row[c] or "").strip() for c in PROVENANCE[5:]}
    keys = tuple(s.strip() for s in text["source"].split(";") if s.strip())
    param = Parameter(
        id="",
        table=spec.name,
        key=key,
        source=keys,
        row=n,
        population=text["population"],
        locator=text["locator"],
        evidence=text["evidence"],
        rationale=text["rationale"],
        assumptions=(row.get(ASSUMPTIONS) or "").strip(),
        **num,
    )
    _check_value(param, display, entry)
    _check_provenance(param, display, entry, sources)
    return param


def load_knowledge(path: str | Path | None = None) -> Knowledge:
    """Read, validate and return the knowledge base.

    Parameters
    ----------
    path : str or Path, optional
        A folder laid out like ``priors/``. By default the ``priors/`` folder shipped with the
        package, found relative to it (not to the working directory).

    Returns
    -------
    Knowledge
        Vocabulary, sources and every parameter, all checked.

    Raises
    ------
    KnowledgeError
        Naming the file, the entry and the field of the first problem found.

    Examples
    --------
    >>> kb = load_knowledge()
    >>> "chlamydia" in kb.vocabulary.causes
    True
    """
    folder = Path(path) if path is not None else DEFAULT_PRIORS
    # Messages name the folder as the user gave it (the shipped one as "priors"), never cut.
    shown_folder = str(path) if path is not None else DEFAULT_PRIORS.name
    if not folder.is_dir():
        raise KnowledgeError(shown_folder, "", "", "is not a folder")
    vocabulary = load_vocabulary(folder / "vocabulary.yaml", f"{shown_folder}/vocabulary.yaml")
    sources = load_sources(folder / "sources.yaml", f"{shown_folder}/sources.yaml")
    parameters: dict[str, Parameter] = {}
    for spec in TABLES.values():
        display = f"{shown_folder}/{spec.name}.csv"
        for p in _read_table(folder, display, spec, sources):
            key = dict(p.key)
            if spec.name == "context_prevalence":
                var = vocabulary.context.get(key["variable"])
                parent = var.parent if var else None
                key["given"] = f"{parent}={key['given_state']}" if parent and key["given_state"] else ""
            pid = spec.parameter_id(key)
            if pid in parameters:
                raise KnowledgeError(
                    display, f"row {p.row} ({_label(p)})", "", f"duplicate of row {parameters[pid].row}"
                )
            parameters[pid] = replace(p, id=pid)
    policy = load_policy(folder / "red_flags.yaml", vocabulary, sources, f"{shown_folder}/red_flags.yaml")
    knowledge = Knowledge(vocabulary, sources, parameters, policy, shown_folder, folder)
    check_knowledge(knowledge)
    return knowledge


def check_knowledge(knowledge: Knowledge) -> None:
    """Check the ids and the relations between rows (sums, coverage, references, link versus leak).

    Raises
    ------
    KnowledgeError
        Naming the file, the row and the field of the first problem found.
    """
    for check in CHECKS:
        check(knowledge)
