"""Parse and check a case: the context a user set and the findings they answered.

A finding nobody asked about is simply absent from the case: it is unknown, never "no". This module
owns that rule and every check of a case against the vocabulary, so that the CLI, the app and the
API reject the same bad input with the same message.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.errors import CaseError, KnowledgeError
from model.intake import NotUtf8, decode_utf8, read_case_json, shown
from model.vocabulary import FINDING_STATES, ImpossibleCombination, Vocabulary

CASE_KEYS = ("context", "findings")


@dataclass(frozen=True)
class Case:
    """A case: known context states and answered findings (True = yes, False = no).

    Anything not in ``context`` or ``findings`` is unknown and is summed out by the model.
    """

    context: Mapping[str, str] = field(default_factory=dict)
    findings: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the shape at once, so a bad case fails here rather than deep inside an engine.

        Ids and states are checked against a vocabulary by `check_case` (the model does it for
        every case it is given). A NumPy boolean is taken as the boolean it is.

        Raises
        ------
        CaseError
            For a context or findings that is not a mapping of text ids, a state that is not text
            or an answer that is not true or false.

        Examples
        --------
        >>> Case({"age_band": "25_34"}, {"fever": False}).findings
        {'fever': False}
        >>> Case(findings={"fever": "yes"})
        Traceback (most recent call last):
        model.errors.CaseError: findings.fever: "yes" must be true or false
        """
        object.__setattr__(self, "context", _typed(self.context, "context", (str,), "a state id (text)"))
        answers = {
            k: bool(v) if isinstance(v, np.bool_) else v for k, v in _typed(self.findings, "findings").items()
        }
        object.__setattr__(self, "findings", _typed(answers, "findings", (bool,), "true or false"))

    def evidence(self) -> dict[str, str]:
        """Return the case as network evidence: node id to state name (findings as ``yes``/``no``)."""
        observed = dict(self.context)
        observed.update({f: FINDING_STATES[int(v)] for f, v in self.findings.items()})
        return observed

    def to_dict(self) -> dict[str, dict]:
        """Return the case in the JSON shape the CLI reads."""
        return {"context": dict(self.context), "findings": dict(self.findings)}


def _typed(
    raw: Any,
    part: str,
    types: tuple[type, ...] = (object,),
    expected: str = "",  # pragma: no mutate (never shown: any object passes the default types)
) -> dict:
    if not isinstance(raw, Mapping):
        raise CaseError(part, f"must be a mapping of ids, not {type(raw).__name__}")
    for key, value in raw.items():
        if not isinstance(key, str):
            raise CaseError(f"{part}.{_quoted(key)}", "an id is text")
        if not isinstance(value, types):
            raise CaseError(f"{part}.{shown(key)}", f"{_quoted(value)} must be {expected}")
    return dict(raw)


def _quoted(value: Any) -> str:
    """Return a value as it would be written in JSON (repr when it has no JSON form), shortened."""
    try:
        return shown(json.dumps(value))
    except (TypeError, ValueError, RecursionError):
        return shown(repr(value))


def _suggest(word: Any, choices: Any) -> str:
    # Only the closest is shown, and 0.6 is difflib's own cut-off: mutants of either are equivalent.
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)  # pragma: no mutate
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_case(case: Case, vocabulary: Vocabulary) -> Case:
    """Return the case if every id and state is in the vocabulary (combinations are not checked).

    Raises
    ------
    CaseError
        Naming the first unknown id or state.

    Examples
    --------
    >>> from model import load_knowledge
    >>> check_case(Case({"age_band": "banana"}), load_knowledge().vocabulary)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    model.errors.CaseError: context.age_band: "banana" is not a state; use one of: under_25, ...
    """
    _parse_context(case.context, vocabulary)
    _parse_findings(case.findings, vocabulary)
    return case


def parse_case(data: Any, vocabulary: Vocabulary, check_combinations: bool = True) -> Case:
    """Check raw case data against the vocabulary and return a `Case`.

    Parameters
    ----------
    data : Any
        Usually the decoded JSON ``{"context": {...}, "findings": {...}}``. ``null`` for a context
        variable or finding means unknown, the same as leaving it out; the presenting complaint
        (bleeding after sex) is "yes" unless answered (`with_presenting`).
    vocabulary : Vocabulary
        The ids and states the case may use.
    check_combinations : bool, optional
        Reject answers that cannot be true together (the default). `model.inference.diagnose_readings`
        turns it off to weigh each reading of a contradictory case instead.

    Returns
    -------
    Case

    Raises
    ------
    CaseError
        For an unknown key, id or state, a wrong type, or an impossible combination, naming where.

    Examples
    --------
    >>> from model import load_knowledge
    >>> vocab = load_knowledge().vocabulary
    >>> parse_case({"context": {"age_band": "25_34"}, "findings": {"fever": False}}, vocab).findings
    {'postcoital_bleeding': True, 'fever': False}
    """
    if not isinstance(data, dict):
        raise CaseError("", "a case must be a JSON object with 'context' and 'findings'")
    for key in data:
        if key not in CASE_KEYS:
            raise CaseError(
                shown(key) if isinstance(key, str) else _quoted(key),
                f"unknown key; a case has only {' and '.join(CASE_KEYS)}",
            )
    # A missing part reads as empty; the parsers treat None the same way (equivalent mutants).
    context = _parse_context(data.get("context", {}), vocabulary)  # pragma: no mutate
    answers = _parse_findings(data.get("findings", {}), vocabulary)  # pragma: no mutate
    findings = with_presenting(answers, vocabulary)
    case = Case(context, findings)
    if check_combinations:
        _check_combinations(case, vocabulary)
    return case


def with_presenting(findings: Mapping[str, bool], vocabulary: Vocabulary) -> dict[str, bool]:
    """Return the findings with the presenting complaint answered "yes" unless they answer it.

    Everyone the model is used for presents with bleeding after sex, unless the case says
    otherwise (``false`` describes another presentation, such as bleeding after the menopause
    without sex). The presenting finding comes first, as it is the first thing known.

    Examples
    --------
    >>> from model import load_knowledge
    >>> vocab = load_knowledge().vocabulary
    >>> with_presenting({"fever": False}, vocab)
    {'postcoital_bleeding': True, 'fever': False}
    >>> with_presenting({"postcoital_bleeding": False}, vocab)
    {'postcoital_bleeding': False}
    """
    presenting = vocabulary.presenting
    if presenting is None or presenting in findings:
        return dict(findings)
    return {presenting: True, **findings}


def case_in_file(entry: Mapping, vocabulary: Vocabulary, display: str, where: str, prefix: str = "") -> Case:
    """Parse the ``context`` and ``findings`` of an entry in a data file (case library, targets).

    Raises
    ------
    KnowledgeError
        Naming the file, the entry and the field within the case (after ``prefix``), so a bad file
        reads like one.
    """
    try:
        return parse_case({"context": entry.get("context"), "findings": entry.get("findings")}, vocabulary)
    except CaseError as exc:
        raise KnowledgeError(display, where, f"{prefix}{exc.field}", exc.problem) from None


def _parse_context(raw: Any, vocabulary: Vocabulary) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CaseError("context", "must be an object of context variable to state")
    context = {}
    for var_id, state in raw.items():
        variable = vocabulary.context.get(var_id) if isinstance(var_id, str) else None  # pragma: no mutate
        if variable is None:
            raise CaseError(
                f"context.{_quoted(var_id) if not isinstance(var_id, str) else shown(var_id)}",
                f"unknown context variable{_suggest(var_id, vocabulary.context)}; "
                f"use one of: {', '.join(vocabulary.context)}",
            )
        if state is None:
            continue
        if not isinstance(state, str) or state not in variable.states:
            raise CaseError(
                f"context.{var_id}",
                f"{_quoted(state)} is not a state{_suggest(state, variable.states)}; "
                f"use one of: {', '.join(variable.states)}",
            )
        context[var_id] = state
    return context


def _parse_findings(raw: Any, vocabulary: Vocabulary) -> dict[str, bool]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CaseError("findings", "must be an object of finding id to true or false")
    findings = {}
    for finding_id, answer in raw.items():
        if not isinstance(finding_id, str) or finding_id not in vocabulary.findings:
            hint = _suggest(finding_id, vocabulary.findings)
            name = shown(finding_id) if isinstance(finding_id, str) else _quoted(finding_id)
            raise CaseError(f"findings.{name}", f"unknown finding{hint}")
        if answer is None:
            continue
        if not isinstance(answer, bool | np.bool_):
            raise CaseError(
                f"findings.{finding_id}",
                f"{_quoted(answer)} must be true, false, or left out when unknown",
            )
        findings[finding_id] = bool(answer)
    return findings


def contradictions(case: Case, vocabulary: Vocabulary) -> list[ImpossibleCombination]:
    """Return the impossible combinations a case's answers make (each names the answers involved).

    Examples
    --------
    >>> from model import load_knowledge
    >>> vocab = load_knowledge().vocabulary
    >>> case = Case({"pregnancy": "not_pregnant"}, {"test_pregnancy": True})
    >>> [list(c.when) for c in contradictions(case, vocab)]
    [['pregnancy', 'test_pregnancy']]
    """
    evidence = case.evidence()
    return [
        combo
        for combo in vocabulary.impossible_combinations
        if all(evidence.get(var) in states for var, states in combo.when.items())
    ]


def _check_combinations(case: Case, vocabulary: Vocabulary) -> None:
    for combo in contradictions(case, vocabulary)[:1]:  # pragma: no mutate (the first raises)
        raise CaseError(", ".join(combo.when), f"impossible combination: {combo.message}")


UNKNOWN = "unknown"
MAX_LINK_PROBLEMS = 5  # a link with many bad pairs names the first few and counts the rest
SHARE_LINK_NOTE = (
    "The link holds every answer of this case in plain words, including sensitive ones such as sex "
    "that was not wanted or a pregnancy. Anyone who sees the link can read them, and so can this "
    "browser's history. Nothing is stored on the server."
)


def case_to_query(case: Case) -> dict[str, str]:
    """Encode a case as URL query parameters: ``id=state`` (findings as ``yes``/``no``).

    Examples
    --------
    >>> case_to_query(Case({"age_band": "25_34"}, {"fever": False}))
    {'age_band': '25_34', 'fever': 'no'}
    """
    return case.evidence()


def case_from_query(
    params: Mapping[str, str | Sequence[str]], vocabulary: Vocabulary
) -> tuple[Case, list[str]]:
    """Decode URL query parameters into a case, keeping every valid pair.

    A link may be old, edited by hand or crafted: each bad pair is named and left out, never fatal,
    so the rest of the case still loads. ``unknown`` leaves an id unknown; an id given more than
    once with different values is left out. Answers that contradict each other are all kept (see
    `model.inference.diagnose_readings`). The messages quote the link shortened (`shown`) and are
    still untrusted: show them as plain text, never as Markdown or HTML.

    Parameters
    ----------
    params : Mapping
        Query parameter to its value, or to every value it was given in the link.
    vocabulary : Vocabulary

    Returns
    -------
    tuple of (Case, list of str)
        The case, and one message per pair left out (the first `MAX_LINK_PROBLEMS`, then a count).

    Examples
    --------
    >>> from model import load_knowledge
    >>> case, problems = case_from_query({"age_band": "25_34", "fevr": "yes"}, load_knowledge().vocabulary)
    >>> case.context, problems
    ({'age_band': '25_34'}, ["'fevr' is not a context variable or finding (did you mean 'fever'?)"])
    """
    context, findings, problems = {}, {}, []
    for key, given in params.items():
        values = [given] if isinstance(given, str) else list(dict.fromkeys(given))
        if len(values) != 1:
            problems.append(f"'{shown(key)}' is given {len(values)} different values; give it once")
            continue
        value = values[0]
        if value == UNKNOWN:
            continue
        if key in vocabulary.context:
            if value in vocabulary.context[key].states:
                context[key] = value
            else:
                states = ", ".join(vocabulary.context[key].states)
                problems.append(f"'{key}={shown(value)}': use one of {states}")
        elif key in vocabulary.findings:
            if value in FINDING_STATES:
                findings[key] = value == "yes"
            else:
                problems.append(f"'{key}={shown(value)}': use yes, no or unknown")
        else:
            hint = _suggest(key, [*vocabulary.context, *vocabulary.findings])
            problems.append(f"'{shown(key)}' is not a context variable or finding{hint}")
    if len(problems) > MAX_LINK_PROBLEMS:
        rest = len(problems) - MAX_LINK_PROBLEMS
        problems = [*problems[:MAX_LINK_PROBLEMS], f"and {rest:,} more pairs that were not understood"]
    # Answers that contradict each other are kept as entered: `model.inference.diagnose_readings`
    # weighs each reading and names the contradiction, rather than silently dropping an answer.
    return Case(context, with_presenting(findings, vocabulary)), problems


def saved_case(data: Any) -> Any:
    """Return the case inside a saved file: the file itself, or the ``case`` of a full result.

    The app's download and ``python -m model diagnose`` write a full result whose ``case`` is the
    case as understood; a case file has only ``context`` and ``findings``. Anything else is returned
    unchanged, for `parse_case` to name what is wrong with it.

    Examples
    --------
    >>> saved_case({"ranking": ["ectropion"], "case": {"context": {}, "findings": {"fever": True}}})
    {'context': {}, 'findings': {'fever': True}}
    >>> saved_case({"context": {"age_band": "25_34"}})
    {'context': {'age_band': '25_34'}}
    """
    if isinstance(data, dict) and isinstance(data.get("case"), dict):
        return data["case"]
    return data


def case_from_file(data: bytes, vocabulary: Vocabulary) -> Case:
    """Read a saved case file (an upload): UTF-8 JSON within the limits of `model.intake`.

    The file may be a case or any full result the app or the command line wrote (`saved_case`).
    Answers that contradict each other are kept, as from a link.

    Raises
    ------
    CaseError
        For bytes that are not UTF-8, text that is not a JSON case within the limits, or an
        unknown id or state; the message is untrusted text (show it as plain text).

    Examples
    --------
    >>> from model import load_knowledge
    >>> case_from_file(b'{"findings": {"fever": true}}', load_knowledge().vocabulary).findings
    {'postcoital_bleeding': True, 'fever': True}
    >>> case_from_file(b"{not json", load_knowledge().vocabulary)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    model.errors.CaseError: the file: not valid JSON (Expecting property name ... at line 1, column 2)
    """
    try:
        text = decode_utf8(data)
    except NotUtf8 as exc:
        raise CaseError("the file", f"line {exc.line}: {exc}") from None
    data = saved_case(read_case_json(text, "the file"))
    return parse_case(data, vocabulary, check_combinations=False)  # pragma: no mutate (False, None alike)
