"""Turn results into what people read: the JSON contract of the CLI, text tables and wording.

The CLI, the app and the notebooks all present results through these functions, so a cause is
labelled and a probability is written the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from model.inference import Diagnosis
from model.knowledge import Knowledge
from model.triage import RedFlag, Triage

SEEK_CARE = (
    "This is educational decision support, not a diagnosis. Bleeding after sex should be checked "
    "by a clinician; seek care the same day for heavy bleeding, feeling faint, severe pain, fever, "
    "or any bleeding in pregnancy."
)


def format_probability(p: float) -> str:
    """Write a probability for people: a percentage, with "1 in N" when it is small.

    Examples
    --------
    >>> format_probability(0.4321)
    '43.2%'
    >>> format_probability(0.000179)
    '0.018% (1 in 5,600)'
    """
    if p >= 0.01:
        return f"{p:.1%}"
    if p <= 0:
        return "0%"
    one_in = 1 / p
    rounded = float(f"{one_in:.2g}")  # two significant figures, as published risks are quoted
    return f"{p * 100:.2g}% (1 in {rounded:,.0f})"


def diagnosis_record(diagnosis: Diagnosis) -> dict[str, Any]:
    """Return the JSON object of ``python -m model diagnose``.

    Keys: ``posteriors`` and ``priors`` (cause id to probability), ``ranking`` (cause ids, most
    probable first), ``no_cause_found``, ``triage`` (``level``, ``label``, ``action``, ``reasons``,
    ``advice``), ``red_flags`` (each with ``id``, ``message``, ``level``, ``source``) and ``case``
    (the case as understood).
    """
    triage = diagnosis.triage
    return {
        "posteriors": dict(diagnosis.posteriors),
        "ranking": diagnosis.ranking,
        "priors": dict(diagnosis.priors),
        "no_cause_found": diagnosis.no_cause_found,
        "triage": {
            "level": triage.level,
            "label": triage.label,
            "action": triage.action,
            "reasons": [_flag_record(r) for r in triage.reasons],
            "advice": list(triage.advice),
        },
        "red_flags": [_flag_record(r) for r in triage.red_flags],
        "case": diagnosis.case.to_dict(),
    }


def _flag_record(flag: RedFlag) -> dict[str, Any]:
    return {"id": flag.id, "level": flag.level, "message": flag.message, "source": list(flag.source)}


def triage_text(triage: Triage) -> str:
    """Return the triage as lines a person reads first: level, action, each red flag, advice.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> result = diagnose(build_model(), {"findings": {"heavy": True}})
    >>> print(triage_text(result.triage))  # doctest: +ELLIPSIS
    TRIAGE: EMERGENCY. Go to an emergency department now...
    """
    lines = [f"TRIAGE: {triage.label.upper()}. {triage.action}"]
    for flag in triage.reasons:
        lines.append(f"  ! {flag.message} [{flag.level}; {flag.id}]" if flag in triage.red_flags
                     else f"  - {flag.message}")  # fmt: skip
    lines += [f"  * {tip}" for tip in triage.advice]
    return "\n".join(lines)


def diagnosis_text(diagnosis: Diagnosis, knowledge: Knowledge) -> str:
    """Return a readable table of the differential, most probable first, with the context-only prior.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> print(diagnosis_text(diagnose(model, {}), model.knowledge))  # doctest: +ELLIPSIS
    TRIAGE: BOOK A CHECK-UP. Book an appointment for an examination and tests.
    ...
    """
    causes = knowledge.vocabulary.causes
    width = max(len(c.label) for c in causes.values())
    lines = [triage_text(diagnosis.triage), ""]
    lines += [f"{'Cause':<{width}}  {'Now':>22}  {'Context only':>22}"]
    for cause in diagnosis.ranking:
        now = format_probability(diagnosis.posteriors[cause])
        before = format_probability(diagnosis.priors[cause])
        lines.append(f"{causes[cause].label:<{width}}  {now:>22}  {before:>22}")
    lines.append(f"{'No modelled cause found':<{width}}  {format_probability(diagnosis.no_cause_found):>22}")
    lines += ["", _describe_case(diagnosis, knowledge), "", SEEK_CARE]
    return "\n".join(lines)


def _describe_case(diagnosis: Diagnosis, knowledge: Knowledge) -> str:
    vocab = knowledge.vocabulary
    context = [f"{vocab.context[v].label}: {vocab.context[v].state_labels[s]}"
               for v, s in diagnosis.case.context.items()]  # fmt: skip
    findings = [f"{vocab.findings[f].label}: {'yes' if a else 'no'}"
                for f, a in diagnosis.case.findings.items()]  # fmt: skip
    return "\n".join([
        "Context: " + ("; ".join(context) or "none given (summed over the population)"),
        "Findings: " + ("; ".join(findings) or "none answered"),
    ])  # fmt: skip
