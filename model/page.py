"""What the app's page shows, as plain data: charts' rows in display order, short citations, groups.

The app draws; this module decides what is drawn and in which order, so the page can be tested
without a browser: the differential sorted by the ranking in use on every rerun, an explanation
split into answers that moved a cause and answers that did not, ticks for a likelihood-ratio axis,
red flags as one line with a short citation, the findings to ask first, a published case step by
step, and one number in plain words, with the differential beside a "what if" value for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from model.explain import Contribution
from model.inference import Diagnosis
from model.knowledge import Knowledge
from model.present import contributions_frame, differential_frame, format_probability
from model.questions import QuestionValue
from model.triage import Triage
from model.vocabulary import Source

NO_EFFECT = 0.01
"""An answer that moves a cause's log-odds by less than this is listed as having no effect (a display
tolerance: a likelihood ratio within 1% of one, invisible on any chart)."""
# Unknown-context configurations beyond which the intervals and the next-question ranking, each summed
# over all of them, would take seconds on every change: they then wait for more context or a request.
CONTEXT_LIMIT = 100
"""For the credible intervals: 500 parameter draws over each configuration."""
QUESTIONS_CONTEXT_LIMIT = 1500
"""For the next-question ranking: age and one more context item set; a few tenths of a second with
several answers."""
GUIDELINES_OVER_CHANCES = (
    "These steps follow the guidelines named, whatever the chances shown below: a low chance of a cause "
    "never makes a referral or a test they call for unnecessary."
)
"""Said under the red flags, so that a small probability in the chart is never read as leave to
set a guideline's referral aside."""
KEEP_ANSWER_IN_PLACE = """<script>
// A red flag that comes or goes above the findings moves every answer button; a second quick click
// could then land on another question. After an answer, scroll the page by however far that
// answer's control moved, so it stays under the pointer (or the keyboard's focus), until the user
// scrolls or moves on.
if (!window.__keepAnswerInPlace) {
  window.__keepAnswerInPlace = true;
  let held = null;
  const hold = (target) => {
    const control = target && target.closest && target.closest('[class*="st-key-finding-"]');
    held = control && {
      key: [...control.classList].find((c) => c.startsWith("st-key-finding-")),
      top: control.getBoundingClientRect().top,
      until: performance.now() + 5000,
    };
  };
  document.addEventListener("pointerdown", (event) => hold(event.target), true);
  document.addEventListener("keydown", (event) => {
    held = null;
    if (event.key === " " || event.key === "Enter") hold(document.activeElement);
  }, true);
  for (const name of ["wheel", "touchstart"]) {
    document.addEventListener(name, () => { held = null; }, {capture: true, passive: true});
  }
  const follow = () => {
    const main = document.querySelector('[data-testid="stMain"]');
    const control = held && performance.now() < held.until && document.querySelector("." + held.key);
    if (!main || !control) return;
    const moved = control.getBoundingClientRect().top - held.top;
    if (Math.abs(moved) >= 1) main.scrollTop += moved;
  };
  const resized = new ResizeObserver(follow);  // the page's height changes as its parts are drawn
  new MutationObserver(() => {
    const content = document.querySelector('[data-testid="stMainBlockContainer"]');
    if (content) resized.observe(content);
    requestAnimationFrame(follow);
  }).observe(document.body, {subtree: true, childList: true});
}
</script>"""
"""Keeps the control just answered where it was when the page above it changes height (run once
per page; the app adds it with ``st.html``, JavaScript allowed: it is this constant, never user text)."""


def differential_rows(diagnosis: Diagnosis, knowledge: Knowledge, by: str, top: int = 3) -> pd.DataFrame:
    """Return the differential's rows for a chart, sorted by ``by``, the most probable first.

    Parameters
    ----------
    diagnosis : Diagnosis
    knowledge : Knowledge
    by : {"explains", "present"}
        Draw and sort by P(explains the bleeding), or by P(present). A case that does not present
        with bleeding after sex has only P(present).
    top : int
        How many leading causes are marked ``leading``.

    Returns
    -------
    pandas.DataFrame
        `model.present.differential_frame`'s columns, plus ``bar`` and ``before`` (the drawn value,
        now and before other answers), ``rank`` (0 for the first), ``name`` (the label, with
        "(serious)" for a serious cause), ``kind`` ("serious cause" or "other cause"), ``leading``
        and ``text`` (the value written at the end of the bar, with P(present) beside P(explains)).

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> result = diagnose(model, {"findings": {"test_chlamydia": True}})
    >>> rows = differential_rows(result, model.knowledge, "explains")
    >>> rows["cause"].iloc[0], bool(rows["bar"].is_monotonic_decreasing)
    ('chlamydia', True)
    >>> rows["text"].iloc[0]
    '62% (present 85%)'

    """
    frame = differential_frame(diagnosis, knowledge)
    explains = by == "explains" and diagnosis.explains is not None
    frame["bar"] = frame["value"] if explains else frame["posterior"]
    frame["before"] = frame["value_before"] if explains else frame["prior"]
    frame = frame.sort_values("bar", ascending=False, kind="stable").reset_index(drop=True)
    frame["rank"] = frame.index
    frame["name"] = [
        f"{label} (serious)" if s else label for label, s in zip(frame.label, frame.serious, strict=True)
    ]
    frame["kind"] = ["serious cause" if s else "other cause" for s in frame.serious]
    frame["leading"] = frame.index < top
    frame["text"] = [
        f"{chart_percent(b)} (present {chart_percent(p)})" if explains else chart_percent(b)
        for b, p in zip(frame.bar, frame.posterior, strict=True)
    ]
    return frame


def differential_alt(rows: pd.DataFrame, title: str) -> str:
    """Return the chart in words, for screen readers: each cause and its value, in the drawn order.

    Examples
    --------
    >>> rows = pd.DataFrame({"name": ["Chlamydia", "Cervical polyp"], "text": ["62%", "3.1%"]})
    >>> differential_alt(rows, "Chance it explains the bleeding")
    'Chance it explains the bleeding, most likely first: Chlamydia 62%; Cervical polyp 3.1%.'
    """
    return (
        f"{title}, most likely first: "
        + "; ".join(f"{n} {t}" for n, t in zip(rows.name, rows.text, strict=True))
        + "."
    )


def chart_percent(p: float) -> str:
    """Write a probability briefly, for the end of a bar: two significant figures, down to 0.1%.

    Examples
    --------
    >>> [chart_percent(p) for p in (0.999, 0.968, 0.1, 0.059, 0.02, 0.0088, 0.00002)]
    ['100%', '97%', '10%', '5.9%', '2.0%', '0.88%', '<0.1%']
    """
    if p < 0.001:
        return "<0.1%"
    if p >= 0.995:
        return "100%"
    return f"{100 * p:#.2g}".rstrip(".") + "%"  # "2.0%", as precise as "2.7%" beside it


@dataclass(frozen=True)
class Explanation:
    """What moved one cause: the answers that did (a table) and those that did not (labels).

    ``start`` and ``end``: the chance that it is present with the context alone and after every
    answer (None without answers).
    """

    moved: pd.DataFrame
    no_effect: tuple[str, ...]
    start: float | None = None
    end: float | None = None


def explanation(steps: Sequence[Contribution], knowledge: Knowledge) -> Explanation:
    """Split the contributions to a cause into answers that moved it and answers with no effect.

    ``moved`` is `model.present.contributions_frame` for the answers with ``|log_odds|`` of at least
    `NO_EFFECT`, plus ``text`` (the likelihood ratio, as "x3.2") and the ends of the axis that
    covers every ratio and 1 (``axis_low``, ``axis_high``: `ratio_ticks`, the same in every row);
    the others are listed by label. ``start`` and ``end``, the chance that the cause is present
    before the first answer and after the last, put the multipliers in proportion.

    Examples
    --------
    >>> from model import build_model
    >>> from model.explain import contributions
    >>> model = build_model()
    >>> case = model.parse({"context": {"menopause": "pre"}, "findings": {"test_chlamydia": True}})
    >>> why = explanation(contributions(model, case, "chlamydia"), model.knowledge)
    >>> list(why.moved["finding"])
    ['postcoital_bleeding', 'test_chlamydia']
    >>> f"{why.start:.1%} -> {why.end:.1%}"
    '1.3% -> 89.1%'
    """
    frame = contributions_frame(steps, knowledge)
    small = frame["log_odds"].abs() < NO_EFFECT
    moved = frame[~small].reset_index(drop=True)
    moved["step"] = moved.index
    moved["text"] = [f"x{ratio:.3g}" for ratio in moved["likelihood_ratio"]]
    if not moved.empty:
        ticks = ratio_ticks(moved["likelihood_ratio"].min(), moved["likelihood_ratio"].max())
        moved["axis_low"], moved["axis_high"] = ticks[0], ticks[-1]
    ends = (steps[0].before, steps[-1].after) if steps else (None, None)
    return Explanation(moved, tuple(frame.loc[small, "answer"]), *ends)


def ratio_ticks(low: float, high: float) -> list[float]:
    """Return ticks for a log axis of likelihood ratios: 1, 3, 10, 30... and their inverses.

    The ticks cover ``[low, high]`` together with 1 (no change), so bars drawn from 1 stay on the axis.

    Examples
    --------
    >>> ratio_ticks(0.2, 40)
    [0.1, 0.3, 1, 3, 10, 30, 100]
    >>> ratio_ticks(1.5, 2)
    [1, 3]
    """
    low, high = min(low, 1.0), max(high, 1.0)
    ticks: list[float] = [1]
    step = 0
    while ticks[-1] < high:  # 3, 10, 30, 100...
        step += 1
        ticks.append(10 ** (step // 2) * (3 if step % 2 else 1))
    step = 0
    while ticks[0] > low:  # 0.3, 0.1, 0.03...
        step += 1
        ticks.insert(0, round(10 ** -((step + 1) // 2) * (3 if step % 2 else 1), 10))
    return ticks


def short_citation(source: Source) -> str:
    """Return a citation of a few words: the source's ``short`` name, or its first author and year.

    Examples
    --------
    >>> from model import load_knowledge
    >>> sources = load_knowledge().sources
    >>> short_citation(sources["nice_ng12"]), short_citation(sources["astrup2004"])
    ('NICE NG12', 'Astrup 2004')
    """
    if source.short:
        return source.short
    first = source.authors.split(",")[0].split()
    name = first[0] if "," in source.authors else " ".join(first)
    return f"{name} {source.year}"


def reason_lines(triage: Triage, knowledge: Knowledge) -> list[tuple[str, list[str], bool]]:
    """Return each reason for the triage as one line in the clinician's words, with its references.

    Red flags come first, each led by its level in words ("Also, ..." below the overall level, so a
    slower step does not read as a second verdict); then the routine next steps (a treatment,
    a referral pathway, or the baseline examination). A reason another fired rule covers is left
    out (`model.triage.Triage.shown_reasons`). Each line ends with short citations; the
    references and the place in the guideline come separately, with whether the line is a red flag.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> triage = diagnose(model, {"findings": {"faintness": True}}).triage
    >>> [(line, refs, red)] = reason_lines(triage, model.knowledge)
    >>> print(line)  # doctest: +ELLIPSIS
    Emergency: Faintness or dizziness with bleeding ... (Victoria SRC gynaecology, SA Health PCB, NICE NG126)
    >>> refs[0].startswith("Department of Health, Victoria (2023)"), red
    (True, True)
    """
    policy, sources = knowledge.red_flags, knowledge.sources
    keys = {rule.id: rule.source for rule in (*policy.rules, *policy.reassurance)}
    keys["baseline"] = policy.baseline_source
    lines = []
    for flag in triage.shown_reasons:
        red = flag in triage.red_flags
        cited = ", ".join(short_citation(sources[k]) for k in keys.get(flag.id, ()))
        label = policy.levels[flag.level].label
        # A flag below the overall level is a further step with its own time frame, not a second verdict.
        lower = policy.urgency(flag.level) < policy.urgency(triage.level)
        level = (f"Also, {label[0].lower()}{label[1:]}: " if lower else f"{label}: ") if red else ""
        line = f"{level}{flag.clinician}" + (
            f" ({cited})" if cited and f"({cited})" not in flag.clinician else ""
        )
        lines.append((line, [*flag.source, *([f"Where: {flag.locator}"] if flag.locator else [])], red))
    return lines


def ask_first(knowledge: Knowledge) -> list[str]:
    """Return the findings that can raise a red flag on their own answer, in vocabulary order.

    Examples
    --------
    >>> from model import load_knowledge
    >>> first = ask_first(load_knowledge())
    >>> "heavy" in first and "faintness" in first and "dryness" not in first
    True
    """
    policy = knowledge.red_flags
    named = {node for rule in policy.rules if policy.urgency(rule.level) > policy.urgency("routine")
             for node in rule.when}  # fmt: skip
    findings = knowledge.vocabulary.findings
    return [f for f in findings if f in named and f != knowledge.vocabulary.presenting]


def question_rows(
    values: Sequence[QuestionValue],
    knowledge: Knowledge,
    target: str = "differential",
    now: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return the next questions as a narrow table: what to ask, and what each answer would change.

    For the whole differential, each answer's column names the cause whose chance of being present
    would move furthest from ``now`` (the chances given the answers so far), as "Atrophy 2.1% →
    82%": the leading cause is in the chart already, and once one cause is nearly certain it would
    name that cause on every row. For whether a serious cause is present, the chance that one is.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> from model.questions import next_questions
    >>> model = build_model()
    >>> case = {"context": {"age_band": "45_54"}, "findings": {"exam_contact_bleeding": True}}
    >>> rows = question_rows(next_questions(model, case, "serious")[:3], model.knowledge, "serious")
    >>> list(rows.columns[-2:])
    ['If yes: a serious cause present', 'If no: a serious cause present']
    >>> now = diagnose(model, case).posteriors
    >>> rows = question_rows(next_questions(model, case)[:3], model.knowledge, now=now)
    >>> list(rows.columns[-2:])
    ['If yes: biggest change (present)', 'If no: biggest change (present)']
    """
    vocab = knowledge.vocabulary

    if target == "serious":
        after = "a serious cause present"
        answers = [
            (format_probability(q.serious_if_yes), format_probability(q.serious_if_no)) for q in values
        ]
    else:
        if now is None:
            raise ValueError("question_rows needs the chances now to show what an answer would change")

        def biggest_change(posteriors: Mapping[str, float]) -> str:
            cause = max(posteriors, key=lambda c: abs(posteriors[c] - now[c]))
            before, then = format_probability(now[cause]), format_probability(posteriors[cause])
            return f"{vocab.causes[cause].label}: {before} → {then}"

        after = "biggest change (present)"
        answers = [(biggest_change(q.if_yes), biggest_change(q.if_no)) for q in values]
    columns = ["Ask about", "Chance of yes", "Gain (bits)", f"If yes: {after}", f"If no: {after}"]
    return pd.DataFrame(
        [
            [vocab.findings[q.finding].label, format_probability(q.probability_yes),
             f"{q.expected_gain:.3f}", *pair]
            for q, pair in zip(values, answers, strict=True)
        ],
        columns=columns,
    )  # fmt: skip


def teaching_causes(ranking: Sequence[str], final: str, count: int = 4) -> list[str]:
    """Return the causes a published case's chart follows: the leading ones, and its final diagnosis.

    The final diagnosis is always among them, in place of the last leading cause when it does not
    lead: a case of cervical cancer whose chart showed only benign causes would teach the wrong
    lesson.

    Examples
    --------
    >>> teaching_causes(["ectropion", "polyp", "hormonal", "period", "cervical_cancer"], "cervical_cancer")
    ['ectropion', 'polyp', 'hormonal', 'cervical_cancer']
    >>> teaching_causes(["ectropion", "polyp", "hormonal", "period"], "polyp")
    ['ectropion', 'polyp', 'hormonal', 'period']
    """
    chosen = list(ranking[:count])
    return chosen if final in chosen else [*chosen[: count - 1], final]


def trajectory_rows(
    steps: Sequence[str], rows: Sequence[Mapping[str, float]], knowledge: Knowledge, final: str | None = None
) -> pd.DataFrame:
    """Return the teaching chart's data: a row per step and cause, with the answer of that step.

    ``steps`` are `model.present.answer_steps`, ``rows`` are `model.explain.trajectory` (a mapping of cause to
    P(present) per step). Columns: ``step``, ``answer``, ``cause`` (its label, with "(final
    diagnosis)" for ``final``), ``probability`` and ``shown`` (as the page writes chances, so a
    tiny one reads "1 in N", not "0.0%").

    Examples
    --------
    >>> from model import load_knowledge
    >>> rows = [{"cervical_cancer": 1e-5}, {"cervical_cancer": 0.008}]
    >>> steps = ["Context only", "Cervix bleeds on touch: yes"]
    >>> frame = trajectory_rows(steps, rows, load_knowledge(), "cervical_cancer")
    >>> frame[["cause", "shown"]].values.tolist()[0]
    ['Cervical cancer (final diagnosis)', '0.001% (1 in 100,000)']
    """
    causes = knowledge.vocabulary.causes

    def name(cause: str) -> str:
        return f"{causes[cause].label} (final diagnosis)" if cause == final else causes[cause].label

    return pd.DataFrame(
        [
            {
                "step": i,
                "answer": steps[i],
                "cause": name(c),
                "probability": p,
                "shown": format_probability(p),
            }
            for i, row in enumerate(rows)
            for c, p in row.items()
        ]
    )


def teaching_steps(steps: Sequence[str], triages: Sequence[Triage]) -> pd.DataFrame:
    """Return a published case's steps as a table: each answer and the triage level after it.

    Read beside the chart, it names every answer (yes or no) without hovering, and the step at which
    a red flag raised the level.
    """
    return pd.DataFrame(
        {"Step": range(len(steps)), "Answer": steps, "Triage after it": [t.label for t in triages]}
    )


def what_if_rows(
    now: Diagnosis, tuned: Diagnosis, knowledge: Knowledge, parameter: str, top: int = 8
) -> pd.DataFrame:
    """Return the differential now and with one number changed, side by side, as text.

    The ``top`` leading causes, and any cause the number belongs to (a base rate, a link from it,
    a risk factor of it) wherever it ranks, in the present order. The values are what the chart
    shows: P(explains the bleeding), or P(present) for a case that does not present with it.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> model = build_model()
    >>> parameter = "finding_links:chlamydia:postcoital_bleeding"
    >>> tuned = build_model(model.knowledge, overrides={parameter: 0.5})
    >>> case = {"findings": {"test_chlamydia": True}}
    >>> rows = what_if_rows(diagnose(model, case), diagnose(tuned, case), model.knowledge, parameter, top=2)
    >>> list(rows.columns), list(rows["Cause"])[:1]
    (['Cause', 'Now', 'What if'], ['Chlamydia'])
    """
    causes = knowledge.vocabulary.causes
    touched = set(knowledge.parameters[parameter].key.values()) & set(causes)
    shown = [c for i, c in enumerate(now.ranking) if i < top or c in touched]
    return pd.DataFrame(
        {
            "Cause": [causes[c].label for c in shown],
            "Now": [format_probability(now.differential[c]) for c in shown],
            "What if": [format_probability(tuned.differential[c]) for c in shown],
        }
    )


def parameter_meaning(parameter: str, knowledge: Knowledge) -> str:
    """Return what a number of the knowledge base is, in words: the chance or odds ratio of what.

    Examples
    --------
    >>> from model import load_knowledge
    >>> knowledge = load_knowledge()
    >>> parameter_meaning("finding_links:chlamydia:postcoital_bleeding", knowledge)
    'The chance that chlamydia, on its own, produces "Bleeding or spotting after sex".'
    >>> parameter_meaning("cause_base_rates:cervical_cancer|age_band=35_44", knowledge)
    'The chance that cervical cancer is present in a sexually active woman (Age: 35 to 44).'
    >>> parameter_meaning("context_prevalence:smoker=yes", knowledge)
    'The share of women with Smokes: Yes.'
    """
    vocab = knowledge.vocabulary
    row = knowledge.parameters[parameter]
    key = row.key

    def cause(cause_id: str) -> str:  # within a sentence: "chlamydia", but "PID" stays as it is
        label = vocab.causes[cause_id].label
        return label[0].lower() + label[1:] if label[1:2].islower() else label

    def state(pair: str) -> str:  # "age_band=35_44" as "Age: 35 to 44"
        variable, value = pair.split("=")
        return f"{vocab.context[variable].label}: {vocab.context[variable].state_labels[value]}"

    if row.table == "context_prevalence":
        parent = vocab.context[key["variable"]].parent
        given = f", among those with {state(f'{parent}=' + key['given_state'])}" if key["given_state"] else ""
        return f"The share of women with {state(key['variable'] + '=' + key['state'])}{given}."
    if row.table == "cause_base_rates":
        stratum = f" ({state(key['stratum'])})" if key["stratum"] else ""
        return f"The chance that {cause(key['cause'])} is present in a sexually active woman{stratum}."
    if row.table == "risk_factors":
        variable = vocab.context[key["variable"]]
        return (
            f"The odds ratio for {cause(key['cause'])} when {variable.label} is "
            f"{variable.state_labels[key['state']]}, against {variable.state_labels[key['reference_state']]}."
        )
    finding = f'"{vocab.findings[key["finding"]].label}"'
    if row.table == "finding_links":
        source = key["link_source"]
        who = cause(source) if source in vocab.causes else state(source)
        return f"The chance that {who}, on its own, produces {finding}."
    return f"The chance of {finding} when no modelled cause is present (the reference context)."
