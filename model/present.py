"""Turn results into what people read: the JSON contract of the CLI, text tables and wording.

The CLI, the app and the notebooks all present results through these functions, so a cause is
labelled and a probability is written the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from model.case import Case
from model.evaluation import Outcome, summarise
from model.explain import Contribution
from model.inference import Diagnosis
from model.knowledge import Knowledge
from model.network import cause_parents, finding_parents
from model.questions import QuestionValue
from model.triage import RedFlag, Triage

if TYPE_CHECKING:  # pandas and SciPy's optimiser are slow to import: only the tables below need pandas
    import pandas as pd

    from model.calibration import Check

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


def diagnosis_record(diagnosis: Diagnosis, intervals: pd.DataFrame | None = None) -> dict[str, Any]:
    """Return the JSON object of ``python -m model diagnose``.

    Keys: ``ranked_by`` (``"explains"`` when the case presents with bleeding after sex, else
    ``"present"``), ``ranking`` (cause ids, the most probable first by that ordering), ``explains``
    (cause id to P(present and it produced the bleeding after sex)), ``unexplained`` (P(no modelled
    cause produced it)), ``posteriors`` (cause id to P(present)), ``priors`` and ``prior_explains``
    (the same given the context and the presenting answer alone; the ``explains`` keys are null for
    a case that does not present), ``no_cause_found`` (P(no modelled cause present)), ``triage``
    (``level``, ``label``, ``action`` and ``clinician_action``, ``reasons``, ``advice``), ``red_flags``
    (each with ``id``, ``message``, ``clinician``, ``level``, ``source``) and ``case`` (the case as
    understood); with ``intervals`` (from `model.uncertainty.posterior_intervals`), also
    ``intervals`` (cause id to ``low``, ``median``, ``high`` and ``level``).
    """
    triage = diagnosis.triage
    extra = {}
    if intervals is not None:
        extra["intervals"] = {
            cause: {
                "low": float(row.low),
                "median": float(row["median"]),
                "high": float(row.high),
                "level": float(intervals.attrs["level"]),
                **(
                    {"explains": {k: float(row[f"explains_{k}"]) for k in ("low", "median", "high")}}
                    if "explains" in intervals
                    else {}
                ),
            }
            for cause, row in intervals.iterrows()
        }
    return extra | {
        "ranked_by": diagnosis.ranked_by,
        "ranking": diagnosis.ranking,
        "explains": dict(diagnosis.explains) if diagnosis.explains is not None else None,
        "unexplained": diagnosis.unexplained,
        "posteriors": dict(diagnosis.posteriors),
        "priors": dict(diagnosis.priors),
        "prior_explains": dict(diagnosis.prior_explains) if diagnosis.prior_explains is not None else None,
        "no_cause_found": diagnosis.no_cause_found,
        "triage": {
            "level": triage.level,
            "label": triage.label,
            "action": triage.action,
            "clinician_action": triage.clinician_action,
            "reasons": [_flag_record(r) for r in triage.reasons],
            "advice": list(triage.advice),
        },
        "red_flags": [_flag_record(r) for r in triage.red_flags],
        "case": diagnosis.case.to_dict(),
    }


def _flag_record(flag: RedFlag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "level": flag.level,
        "message": flag.message,
        "clinician": flag.clinician,
        "source": list(flag.source),
    }


def triage_text(triage: Triage) -> str:
    """Return the triage in the words written for the person with the bleeding: level, action, advice.

    The app shows the clinician's words (``clinician_action``, each reason's ``clinician``).

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> result = diagnose(build_model(), {"findings": {"heavy": True}})
    >>> print(triage_text(result.triage))  # doctest: +ELLIPSIS
    TRIAGE: EMERGENCY. Go to an emergency department now...
    """
    lines = [f"TRIAGE: {triage.label.upper()}. {triage.action}"]
    for flag in triage.shown_reasons:
        lines.append(f"  ! {flag.message} [{flag.level}; {flag.id}]" if flag in triage.red_flags
                     else f"  - {flag.message}")  # fmt: skip
    lines += [f"  * {tip}" for tip in triage.advice]
    return "\n".join(lines)


def diagnosis_text(diagnosis: Diagnosis, knowledge: Knowledge, intervals: pd.DataFrame | None = None) -> str:
    """Return a readable table of the differential, most probable first, with the context-only prior.

    When the case presents with bleeding after sex the first column is the probability that each
    cause explains it, and the table is ordered by it; the next columns give the probability that
    the cause is present, now and given the context alone.

    With ``intervals`` (from `model.uncertainty.posterior_intervals`) each cause also shows the
    credible interval of its first column over the uncertainty of the numbers in ``priors/``.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> print(diagnosis_text(diagnose(model, {}), model.knowledge))  # doctest: +ELLIPSIS
    TRIAGE: BOOK A CHECK-UP. Book an appointment with a GP, practice nurse or sexual-health clinic...
    ...
    """
    causes = knowledge.vocabulary.causes
    width = max(len(c.label) for c in causes.values())
    lines = [triage_text(diagnosis.triage), ""]
    explains = diagnosis.explains
    header = f"{'Cause':<{width}}"
    if explains is not None:
        header += f"  {'Explains bleeding':>22}"
    header += f"  {'Present now':>22}  {'Before other answers':>22}"
    if intervals is not None:
        header += f"  {str(round(100 * intervals.attrs['level'])) + '% credible interval':>26}"
    lines += [header]
    for cause in diagnosis.ranking:
        line = f"{causes[cause].label:<{width}}"
        if explains is not None:
            line += f"  {format_probability(explains[cause]):>22}"
        now = format_probability(diagnosis.posteriors[cause])
        before = format_probability(diagnosis.priors[cause])
        line += f"  {now:>22}  {before:>22}"
        if intervals is not None:
            columns = ["explains_low", "explains_high"] if explains is not None else ["low", "high"]
            low, high = intervals.loc[cause, columns]
            line += f"  {format_interval(low, high):>26}"
        lines.append(line)
    if diagnosis.unexplained is not None:
        lines.append(
            f"{'No modelled cause explains it':<{width}}  {format_probability(diagnosis.unexplained):>22}"
        )
    gap = f"  {'':>22}" if explains is not None else ""  # under "Present now"
    none_present = format_probability(diagnosis.no_cause_found)
    lines.append(f"{'No modelled cause present':<{width}}{gap}  {none_present:>22}")
    lines += ["", _describe_case(diagnosis, knowledge), "", SEEK_CARE]
    return "\n".join(lines)


def chance_in_words(p: float) -> str:
    """Write a probability for a reader without statistics: "about 3 in 10", "fewer than 1 in 100".

    Examples
    --------
    >>> chance_in_words(0.97), chance_in_words(0.27), chance_in_words(0.043), chance_in_words(0.004)
    ('more than 9 in 10', 'about 3 in 10', 'about 4 in 100', 'fewer than 1 in 100')
    """
    if p >= 0.95:
        return "more than 9 in 10"
    if p >= 0.095:
        return f"about {round(10 * p)} in 10"
    if p >= 0.01:
        return f"about {round(100 * p)} in 100"
    return "fewer than 1 in 100"


def patient_summary(diagnosis: Diagnosis, knowledge: Knowledge, top: int = 3) -> str:
    """Return a short summary for the person with the bleeding: what to do, why, and the likeliest causes.

    The words are the patient's own (each level's ``action``, each rule's ``message``), with no
    internal codes and no table: the three likeliest causes in words, a reminder that an examination
    decides, and when to seek care.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> print(patient_summary(diagnose(model, {"findings": {"heavy": True}}), model.knowledge))
    ... # doctest: +ELLIPSIS
    What to do now: Go to an emergency department now...
    """
    triage, causes = diagnosis.triage, knowledge.vocabulary.causes
    lines = [f"What to do now: {triage.action}"]
    lines += [f"- {flag.message}" for flag in triage.shown_reasons]
    lines += [f"- {tip}" for tip in triage.advice]
    shares = diagnosis.explains if diagnosis.explains is not None else diagnosis.posteriors
    what = (
        "what most likely explains the bleeding" if diagnosis.explains is not None else "what is most likely"
    )
    lines += ["", f"From the answers so far, {what} (an examination by a clinician decides):"]
    lines += [f"- {causes[c].label}: {chance_in_words(shares[c])}" for c in diagnosis.ranking[:top]]
    lines += ["", SEEK_CARE]
    return "\n".join(lines)


def format_interval(low: float, high: float) -> str:
    """Write an interval of probabilities as percentages.

    Examples
    --------
    >>> format_interval(0.012, 0.2345)
    '1.2% to 23.4%'
    """
    return f"{low:.1%} to {high:.1%}"


def questions_text(values: Sequence[QuestionValue], knowledge: Knowledge, top: int = 10) -> str:
    """Return the most useful next questions, with what each answer would do to the leading causes."""
    findings, causes = knowledge.vocabulary.findings, knowledge.vocabulary.causes
    lines = ["Questions that would most reduce the uncertainty, most useful first:", ""]
    for rank, q in enumerate(values[:top], start=1):
        leading_yes = max(q.if_yes, key=q.if_yes.get)
        leading_no = max(q.if_no, key=q.if_no.get)
        lines.append(f"{rank:>2}. {findings[q.finding].question}  (expected gain {q.expected_gain:.3f} bits)")
        lines.append(f"    chance of yes {format_probability(q.probability_yes)}")
        lines.append(f"    if yes: {causes[leading_yes].label} {format_probability(q.if_yes[leading_yes])}")
        lines.append(f"    if no:  {causes[leading_no].label} {format_probability(q.if_no[leading_no])}")
    lines += ["", "Red flags are always asked about, whatever their rank here.", SEEK_CARE]
    return "\n".join(lines)


def questions_record(values: Sequence[QuestionValue]) -> list[dict[str, Any]]:
    """Return the JSON rows of ``python -m model next-questions``."""
    return [
        {"finding": q.finding, "expected_gain": q.expected_gain, "probability_yes": q.probability_yes,
         "if_yes": dict(q.if_yes), "if_no": dict(q.if_no),
         "any_serious_if_yes": q.serious_if_yes, "any_serious_if_no": q.serious_if_no}
        for q in values
    ]  # fmt: skip


def tornado_text(table: pd.DataFrame, knowledge: Knowledge, cause: str, top: int = 15) -> str:
    """Return a tornado table as text: the parameters that move one cause's posterior most."""
    label = knowledge.vocabulary.causes[cause].label
    lines = [
        f"{label}: {format_probability(table.attrs['posterior'])} with the cited values.",
        "Each number set to the ends of its 95% interval, one at a time, widest swing first:",
        "",
    ]
    width = max((len(pid) for pid in table.index[:top]), default=10)
    lines.append(f"{'Parameter':<{width}}  {'value':>8}  {'at low end':>22}  {'at high end':>22}")
    for pid, row in table.head(top).iterrows():
        ends = [
            "answers impossible" if np.isnan(p) else format_probability(p) for p in (row.at_low, row.at_high)
        ]
        lines.append(f"{pid:<{width}}  {row.value:>8.4g}  {ends[0]:>22}  {ends[1]:>22}")
    return "\n".join(lines)


def answer_label(finding: str, answer: bool, knowledge: Knowledge) -> str:
    """Return one answer as the page and the reports write it: "Vaginal dryness: yes".

    Examples
    --------
    >>> from model import load_knowledge
    >>> answer_label("fever", False, load_knowledge())
    'Fever or feeling unwell: no'
    """
    return f"{knowledge.vocabulary.findings[finding].label}: {'yes' if answer else 'no'}"


def answer_steps(case: Case, knowledge: Knowledge) -> list[str]:
    """Return "Context only", then each answer of ``case`` in the order given (`answer_label`).

    Examples
    --------
    >>> from model import load_knowledge
    >>> answer_steps(Case(findings={"dryness": True, "fever": False}), load_knowledge())
    ['Context only', 'Vaginal dryness: yes', 'Fever or feeling unwell: no']
    """
    return ["Context only", *(answer_label(f, a, knowledge) for f, a in case.findings.items())]


def _describe_case(diagnosis: Diagnosis, knowledge: Knowledge) -> str:
    vocab = knowledge.vocabulary
    context = [f"{vocab.context[v].label}: {vocab.context[v].state_labels[s]}"
               for v, s in diagnosis.case.context.items()]  # fmt: skip
    findings = [answer_label(f, a, knowledge) for f, a in diagnosis.case.findings.items()]
    return "\n".join([
        "Context: " + ("; ".join(context) or "none given (summed over the population)"),
        "Findings: " + ("; ".join(findings) or "none answered"),
    ])  # fmt: skip


def evaluation_text(outcomes: Sequence[Outcome], knowledge: Knowledge) -> str:
    """Return the evaluation report: the measures against their targets, then a table of misses."""
    summary = summarise(outcomes)
    lines = [f"Cases: {summary['cases']}"]
    for name, title in (("top1", "Top-1 accuracy"), ("top3", "Top-3 accuracy"),
                        ("under_triage", "Under-triage"), ("over_triage", "Over-triage")):  # fmt: skip
        direction = "at most" if name.endswith("triage") else "at least"
        verdict = "met" if summary["met"][name] else "NOT met"
        lines.append(
            f"{title:<15} {summary[name]:6.1%}   target {direction} {summary['targets'][name]:.0%}: {verdict}"
        )
    misses = [o for o in outcomes if not o.top3_hit or not o.top1_hit or o.triage_error]
    if misses:
        lines += ["", "Misses (diagnosis not first, or triage different from the reference):"]
        header = f"{'case':<42} {'diagnosis':<23} {'rank':>4} {'now':>7} {'before':>7}  {'model top 3':<58}"
        lines.append(header + " triage (model / ref)")
        for o in misses:
            top3 = ", ".join(o.top3)
            case = f"{o.vignette.id:<42} {o.vignette.diagnosis:<23} {o.rank:>4}"
            lines.append(
                f"{case} {o.probability:>7.2%} {o.prior:>7.2%}  {top3:<58} {o.triage} / {o.vignette.triage}"
            )
    return "\n".join(lines)


def parameters_summary(frame: pd.DataFrame) -> str:
    """Return how many numbers rest on each kind of evidence, and how much of it is judgement.

    ``frame`` is `~model.knowledge.Knowledge.parameter_frame`. Judgement is counted twice over:
    expert estimates (no study behind the number), and derived numbers whose derivation contains an
    assumed factor (listed in their ``assumptions``).

    Examples
    --------
    >>> from model import load_knowledge
    >>> print(parameters_summary(load_knowledge().parameter_frame()))  # doctest: +ELLIPSIS
    Parameters: ...
    """
    total = len(frame)
    lines = [f"Parameters: {total}"]
    for evidence, count in frame["evidence"].value_counts().items():
        lines.append(f"  {evidence:<18} {count:>4}  {count / total:6.1%}")
    expert = int(frame["expert_estimate"].sum())
    assumed = int(((frame["evidence"] != "expert_estimate") & (frame["assumptions"] != "")).sum())
    lines += [
        f"Expert estimates (no study behind the number): {expert} ({expert / total:.1%})",
        f"Derived or calibrated numbers that rest on an assumed factor: {assumed} ({assumed / total:.1%})",
        f"Judgement in all: {expert + assumed} of {total} ({(expert + assumed) / total:.1%})",
    ]
    return "\n".join(lines)


def calibration_text(checks: Sequence[Check], knowledge: Knowledge) -> str:
    """Return the calibration report: each published figure beside the model's, and the verdict.

    A target is met inside its published 95% interval, or within a factor of 1.5 when it is rarer
    than 5%; ``fit`` marks the targets the bleeding links were fitted to, the others being
    independent checks.
    """
    lines = [
        f"{'target':<40} {'model':>9} {'published':>10} {'95% interval':>17} {'ratio':>7}  {'fit':<3}  met"
    ]
    for check in checks:
        t = check.target
        interval = f"{t.interval[0]:.2%}-{t.interval[1]:.2%}" if t.interval else "x1.5"
        verdict = "met" if check.ok else "NOT met" + (f" (known: {t.unmet})" if t.unmet else "")
        lines.append(
            f"{t.id:<40} {check.model:>9.3%} {t.published:>10.3%} {interval:>17} {check.ratio:>7.2f}  "
            f"{'yes' if t.fit else 'no':<3}  {verdict}"
        )
    met = sum(c.ok for c in checks)
    lines.append(f"{met} of {len(checks)} targets met, over {len({c.target.source for c in checks})} sources")
    lines += ["", "Sources:"]
    lines += [
        f"  {key}: {knowledge.sources[key].citation()}"
        for key in dict.fromkeys(c.target.source for c in checks)
    ]
    return "\n".join(lines)


def differential_frame(diagnosis: Diagnosis, knowledge: Knowledge) -> pd.DataFrame:
    """Return the differential as a table, first the most probable by the diagnosis's ordering.

    Columns: ``cause``, ``label``, ``value`` (what the differential is ordered by: P(explains the
    bleeding), or P(present) when the case does not present with it), ``value_before`` (the same
    given the context and presenting answer alone), ``posterior`` and ``prior`` (P(present), now
    and before), ``serious`` and ``shown`` (``value`` as text).

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> frame = differential_frame(diagnose(model, {}), model.knowledge)
    >>> bool(frame["value"].is_monotonic_decreasing)
    True
    """
    import pandas as pd

    causes = knowledge.vocabulary.causes
    value = diagnosis.differential
    before = diagnosis.differential_before
    return pd.DataFrame(
        [
            {"cause": c, "label": causes[c].label, "value": value[c], "value_before": before[c],
             "posterior": diagnosis.posteriors[c], "prior": diagnosis.priors[c],
             "serious": causes[c].serious, "shown": format_probability(value[c])}
            for c in diagnosis.ranking
        ]
    )  # fmt: skip


def contributions_frame(steps: Sequence[Contribution], knowledge: Knowledge) -> pd.DataFrame:
    """Return per-answer contributions as a table with readable labels, in the order added."""
    import pandas as pd

    return pd.DataFrame(
        [
            {"finding": s.finding, "answer": answer_label(s.finding, s.answer, knowledge),
             "log_odds": s.log_odds, "likelihood_ratio": s.likelihood_ratio,
             "before": s.before, "after": s.after}
            for s in steps
        ],
        columns=["finding", "answer", "log_odds", "likelihood_ratio", "before", "after"],
    )  # fmt: skip


def trajectory_frame(case: Case, rows: Sequence[Mapping[str, float]], knowledge: Knowledge) -> pd.DataFrame:
    """Return a trajectory (from `model.explain.trajectory`) as a table: a row per step, a column per cause.

    The first row is the context alone; each later row is labelled with the answer just added.

    Examples
    --------
    >>> from model import build_model
    >>> from model.explain import trajectory
    >>> model = build_model()
    >>> case = model.parse({"findings": {"test_chlamydia": True}})
    >>> frame = trajectory_frame(case, trajectory(model, case, ["chlamydia"]), model.knowledge)
    >>> list(frame.index), list(frame.columns)
    (['Context only', 'Bleeding or spotting after sex: yes', 'Chlamydia test positive: yes'], ['Chlamydia'])
    """
    import pandas as pd

    causes = knowledge.vocabulary.causes
    frame = pd.DataFrame(list(rows), index=answer_steps(case, knowledge))
    return frame.rename(columns=lambda c: causes[c].label)


def network_dot(knowledge: Knowledge, diagnosis: Diagnosis | None = None, leading: int = 3) -> str:
    """Return the network as Graphviz DOT: context, causes and findings, with the case highlighted.

    Answered findings are drawn filled and the ``leading`` most probable causes in bold, so the
    picture shows which part of the network the case is using.
    """
    vocab = knowledge.vocabulary
    answered = set(diagnosis.case.findings) if diagnosis else set()
    known = set(diagnosis.case.context) if diagnosis else set()
    top = set(diagnosis.ranking[:leading]) if diagnosis else set()
    lines = ["digraph pcb {", "  rankdir=LR; node [fontname=Helvetica, fontsize=10];"]
    for var in vocab.context.values():
        style = "filled" if var.id in known else "solid"
        lines.append(f'  "{var.id}" [label="{var.label}", shape=box, style={style}, fillcolor="#dddddd"];')
    for cause in vocab.causes.values():
        width = 3 if cause.id in top else 1
        lines.append(f'  "{cause.id}" [label="{cause.label}", shape=ellipse, penwidth={width}];')
    for finding in vocab.findings.values():
        style = "filled" if finding.id in answered else "solid"
        lines.append(
            f'  "{finding.id}" [label="{finding.label}", shape=note, style={style}, fillcolor="#cfe3ff"];'
        )
    lines += [f'  "{parent}" -> "{node}";' for parent, node in network_edges(knowledge)]
    lines.append("}")
    return "\n".join(lines)


def network_edges(knowledge: Knowledge) -> list[tuple[str, str]]:
    """Return the network's dependencies as (parent, child) pairs of vocabulary ids.

    This is the network as a reader thinks of it: the presenting finding has every cause as a
    parent, where the pgmpy network reaches them through its link and OR nodes.

    Examples
    --------
    >>> from model import load_knowledge
    >>> edges = network_edges(load_knowledge())
    >>> ("ectropion", "postcoital_bleeding") in edges and ("chlamydia", "test_chlamydia") in edges
    True
    """
    vocab = knowledge.vocabulary
    return [(parent, node) for node in (*vocab.causes, *vocab.findings, *vocab.context)
            for parent in _parents(knowledge, node)]  # fmt: skip


def _parents(knowledge: Knowledge, node: str) -> list[str]:
    if node in knowledge.vocabulary.causes:
        return cause_parents(knowledge, node)
    if node in knowledge.vocabulary.findings:
        return finding_parents(knowledge, node)
    parent = knowledge.vocabulary.context[node].parent
    return [parent] if parent else []
