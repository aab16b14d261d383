"""Streamlit app: set the context, answer findings, watch the differential and the triage update.

A thin shell over `model`: every number, rule and wording comes from there. Nothing about a case is
logged, stored or sent; the case lives in this browser session and, when shared, in the link.
Start it with ``pcb-app`` (`model.launch`: usage statistics off from any folder). A tuned priors
folder (written by `Knowledge.write`) is loaded with ``pcb-app -- --priors DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys

import streamlit as st

from model import CaseError, KnowledgeError, build_model, diagnose, load_knowledge
from model.case import (
    SHARE_LINK_NOTE,
    UNKNOWN,
    Case,
    case_from_file,
    case_from_query,
    case_to_query,
    parse_case,
)
from model.charts import differential_spec, explanation_spec, trajectory_spec
from model.evaluation import load_vignettes
from model.explain import contributions, trajectory, triage_after_each_answer
from model.inference import diagnose_as_entered
from model.page import (
    CONTEXT_LIMIT,
    GUIDELINES_OVER_CHANCES,
    KEEP_ANSWER_IN_PLACE,
    QUESTIONS_CONTEXT_LIMIT,
    ask_first,
    differential_alt,
    differential_rows,
    explanation,
    parameter_meaning,
    question_rows,
    reason_lines,
    teaching_causes,
    teaching_steps,
    trajectory_rows,
    what_if_rows,
)
from model.present import (
    SEEK_CARE,
    answer_steps,
    diagnosis_record,
    format_probability,
    network_dot,
    patient_summary,
)
from model.questions import TARGETS, next_questions
from model.uncertainty import context_configurations, posterior_intervals

st.set_page_config(page_title="Bleeding after sex: Bayesian differential", layout="wide")
st.set_option("client.showErrorDetails", "none")  # however the app is started: no traceback in the page
BANNER = {  # a colour and an icon for each level: the levels differ by more than colour alone
    "emergency": (st.error, ":material/local_hospital:"),
    "urgent": (st.error, ":material/alarm:"),
    "suspected_cancer": (st.error, ":material/priority_high:"),
    "soon": (st.warning, ":material/date_range:"),
    "routine": (st.info, ":material/event:"),
    "self_care": (st.success, ":material/check_circle:"),
}
ANSWERS = {"yes": ":material/check: Yes", "no": ":material/close: No"}  # neither chosen: unknown
PRESENTING_ANSWERS = {"yes": "Yes", "no": "No, the bleeding is at other times"}
INTERVAL_DRAWS = 500  # enough for a 90% interval to two digits, quick enough for every rerun


def priors_folder() -> str | None:
    """The folder given after ``--`` as ``--priors DIR``; None for the shipped priors."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--priors")
    return parser.parse_known_args(sys.argv[1:])[0].priors


@st.cache_resource(show_spinner="Building the network...")
def loaded_model(priors: str | None):
    """The model is built once per process and priors folder, and shared: it is immutable."""
    return build_model(load_knowledge(priors))


@st.cache_resource
def published_cases(priors: str | None):
    """The case library is published data, read once per process (never a user's case)."""
    return {v.id: v for v in load_vignettes(loaded_model(priors))}


@st.cache_data(show_spinner=False)
def published_trajectory(priors: str | None, vignette_id: str):
    """A library case's causes to follow, their trajectory and the triage after each answer.

    The same for everyone, so computed once.
    """
    vignette = published_cases(priors)[vignette_id]
    causes = teaching_causes(diagnose(loaded_model(priors), vignette.case).ranking, vignette.diagnosis)
    return (
        trajectory(loaded_model(priors), vignette.case, causes),
        triage_after_each_answer(loaded_model(priors), vignette.case),
    )


@st.cache_resource(show_spinner="Rebuilding with your change...")
def tuned_model(priors: str | None, parameter: str, value: float):
    return build_model(loaded_model(priors).knowledge, overrides={parameter: value})


PRIORS = priors_folder()
try:
    model = loaded_model(PRIORS)
    published_cases(PRIORS)  # the folder's own case library, for the teaching section
except KnowledgeError as exc:
    st.error(f"The priors folder '{PRIORS}' could not be loaded: {exc}")
    st.stop()
vocab = model.knowledge.vocabulary
keys = {**{v: f"context:{v}" for v in vocab.context}, **{f: f"finding:{f}" for f in vocab.findings}}


def remembered(name: str, compute, case: Case, *options):
    """``compute(model, case, *options)``, recomputed only when the case or the options change.

    Switching a view, a target or the explained cause reruns the page without changing the case, so
    its numbers are reused. Only the latest result of each computation is kept, in this session's
    state beside the case itself: nothing is shared between sessions or kept after one ends.
    """
    key = repr((case, options))  # a case's repr keeps the order of its answers, which "Why" depends on
    memo = st.session_state.setdefault("memo", {})
    if name not in memo or memo[name][0] != key:
        memo[name] = (key, compute(model, case, *options))
    return memo[name][1]


def load_case(case: Case) -> None:
    """Replace the case in the form; messages about the case it replaces go with it."""
    unknown = {
        **{v: UNKNOWN for v in vocab.context},
        **{f: None for f in vocab.findings},
        vocab.presenting: "yes",
    }
    for node, key in keys.items():
        st.session_state[key] = case.evidence().get(node, unknown[node])
    st.session_state["answer_order"] = [f for f in case.findings if f != vocab.presenting]
    for stale in ("upload_error", "link_problems", "explain_pinned"):
        st.session_state.pop(stale, None)


def note_answer(finding: str) -> None:
    """Keep the answers in the order given, so that "Why" steps through them as the user did."""
    order = [f for f in st.session_state.get("answer_order", []) if f != finding]
    st.session_state["answer_order"] = order + ([finding] if st.session_state[keys[finding]] else [])


def reset() -> None:
    load_case(Case())
    st.query_params.clear()


def pick_cause() -> None:
    """Pinned when the user picks a cause other than the leading one; "Why" follows the lead otherwise."""
    st.session_state["explain_pinned"] = st.session_state["explain"] != st.session_state.get(
        "explain_leading"
    )


def load_upload() -> None:
    upload = st.session_state.get("upload")
    if upload is None:
        return
    try:
        load_case(case_from_file(upload.getvalue(), vocab))
        st.session_state.pop("upload_error", None)
    except CaseError as exc:
        st.session_state["upload_error"] = str(exc)  # untrusted: shown as plain text


if "started" not in st.session_state:  # first run: a shared link restores its case
    st.session_state["started"] = True
    restored, problems = case_from_query({k: st.query_params.get_all(k) for k in st.query_params}, vocab)
    load_case(restored)
    st.session_state["link_problems"] = problems
    st.session_state["share_link"] = False  # the case leaves the address bar until asked for again

st.title("Bleeding after sex: a Bayesian differential")
st.html(KEEP_ANSWER_IN_PLACE, unsafe_allow_javascript=True)  # a constant script, never user text
st.info(SEEK_CARE, icon="ℹ️")
if PRIORS:
    st.caption(f"Numbers from the priors folder **{PRIORS}**, not the shipped priors.")
if st.session_state.get("link_problems"):
    st.warning("Part of the link was not understood and was left out; the rest of the case is loaded:")
    st.text("\n".join(st.session_state["link_problems"]))  # untrusted: plain text, never Markdown

with st.sidebar:
    st.header("Context")
    for var in vocab.context.values():
        st.selectbox(var.label, [UNKNOWN, *var.states], key=keys[var.id], help=var.help or None,
                     format_func=lambda s, v=var: "Unknown" if s == UNKNOWN else v.state_labels[s])  # fmt: skip
    st.button("Reset to a blank case", on_click=reset)
    st.file_uploader("Open a saved case (JSON)", type=["json"], key="upload", on_change=load_upload)
    if st.session_state.get("upload_error"):
        st.error("The case file could not be used; the case on the page is unchanged.")
        st.text(st.session_state["upload_error"])  # untrusted: plain text, never Markdown

given = st.session_state.get("answer_order", [])
answered = sorted((f for f in vocab.findings if st.session_state.get(keys[f]) in ANSWERS),
                  key=lambda f: (f != vocab.presenting, given.index(f) if f in given else len(given)))  # fmt: skip
raw = {
    "context": {v: st.session_state[keys[v]] for v in vocab.context if st.session_state[keys[v]] != UNKNOWN},
    "findings": {f: st.session_state[keys[f]] == "yes" for f in answered},  # the complaint, then as given
}
entered = parse_case(raw, vocab, check_combinations=False)
result, contradicted = remembered("diagnosis", diagnose_as_entered, entered)
# The messages above the columns vary in number; in one container they leave every later element
# where it was, so the browser updates the charts and controls instead of drawing them anew.
verdict = st.container()
with verdict:
    for problem in contradicted:
        st.error(problem)
with st.sidebar:  # privacy: the case goes into the address only when asked for
    if st.toggle("Put this case in the page link, to share it", key="share_link"):
        st.query_params.from_dict(case_to_query(entered))
        st.caption(SHARE_LINK_NOTE)
    else:
        st.query_params.clear()

triage = result.triage
with verdict:
    banner, icon = BANNER[triage.level]
    banner(f"**Triage: {triage.label}.** {triage.clinician_action}", icon=icon)
    if st.session_state.get("triage_level", triage.level) != triage.level:  # seen even when scrolled away
        st.toast(f"Triage now: {triage.label}", icon=icon)
    st.session_state["triage_level"] = triage.level
    for line, references, red in reason_lines(triage, model.knowledge):  # red flags first, then next steps
        # In words and colour as well as by icon: a red flag must not look like a routine step.
        label = f":red[**Red flag.**] {line}" if red else f"**Next step.** {line}"
        with st.expander(label, icon=":material/flag:" if red else ":material/arrow_forward:"):
            for reference in references:
                st.text(reference)
    if triage.red_flags:
        st.markdown(GUIDELINES_OVER_CHANCES)

# Side by side when both fit (1400 px), stacked on a narrower screen instead of squeezing the chart.
with st.container(horizontal=True, gap="small"):
    left, right = st.container(width=360), st.container(width=540)
with left:
    st.header("Findings")
    # Each finding takes two Tab stops (its help, then its answers): a way past them to the results.
    st.caption("[Skip to the results](#differential)")
    if vocab.presenting:
        presenting = vocab.findings[vocab.presenting]
        st.radio(presenting.question, list(PRESENTING_ANSWERS), key=keys[presenting.id], horizontal=True,
                 format_func=PRESENTING_ANSWERS.get,
                 help="The model explains bleeding after sex. Answer no to use it for bleeding at other "
                 "times, such as after the menopause; it then shows which causes are present.")  # fmt: skip
    first = ask_first(model.knowledge)

    def answer_controls(findings: list) -> None:
        # Controls of one width flow into as many columns as fit (two in the column),
        # row by row, so reading order and keyboard order agree.
        with st.container(horizontal=True, gap="medium"):
            for finding in findings:
                st.segmented_control(finding.label, list(ANSWERS), key=keys[finding.id], format_func=ANSWERS.get,
                                     width=160, help=f"{finding.question} Leave both unselected when not known.",
                                     on_change=note_answer, args=(finding.id,))  # fmt: skip

    st.markdown("**Ask first**: an answer here can raise a red flag on its own")
    answer_controls([vocab.findings[f] for f in first])
    groups = {"history": "History", "examination": "Examination", "tests": "Tests"}
    counts = {"Ask first": 0, **dict.fromkeys(groups.values(), 0)}
    for f in answered:
        if f != vocab.presenting:
            counts["Ask first" if f in first else groups[vocab.findings[f].group]] += 1
    st.caption("Answered: " + " · ".join(f"{place} {n}" for place, n in counts.items()))
    for group, tab in zip(groups, st.tabs(list(groups.values())), strict=True):
        with tab:
            answer_controls([f for f in vocab.findings.values()
                             if f.group == group and f.id != vocab.presenting and f.id not in first])  # fmt: skip

with right:
    st.header("Differential", anchor="differential")
    explaining = result.explains is not None
    view = "explains"
    if explaining:
        view = st.radio(
            "Show", ["explains", "present"], horizontal=True, key="differential_view",
            format_func={"explains": "What explains the bleeding", "present": "Which causes are present"}.get,
            help="Explains: the chance that the cause is there AND is what made this bleeding happen. "
            "Present: the chance that the cause is there at all, whether or not it caused the bleeding; "
            "several causes can be present at once.",
        )  # fmt: skip
    rows = differential_rows(result, model.knowledge, view)
    title = "Chance it explains the bleeding" if explaining and view == "explains" else "Chance it is present"
    show_intervals = st.checkbox(
        "Show how sure the numbers are (90% credible interval)", key="intervals",
        help=f"Redraws every cited number {INTERVAL_DRAWS} times from its published uncertainty and shows "
        "where 90% of the resulting probabilities fall.",
    )  # fmt: skip
    unknown = ", ".join(v.label.lower() for v in vocab.context.values() if v.id not in result.case.context)
    configurations = context_configurations(model, result.case)
    if show_intervals and configurations > CONTEXT_LIMIT:
        st.info(f"Set more of the context to see the intervals (still unknown: {unknown}): with this much "
                "unknown they take too long to recompute on every change.")  # fmt: skip
        show_intervals = False
    if show_intervals:
        spread = remembered("intervals", posterior_intervals, result.case, INTERVAL_DRAWS)
        ends = ["explains_low", "explains_high"] if view == "explains" and explaining else ["low", "high"]
        rows = rows.merge(spread[ends].set_axis(["low", "high"], axis=1), left_on="cause", right_index=True)
    st.vega_lite_chart(rows, differential_spec(rows, title, show_intervals), width="stretch",
                       alt=differential_alt(rows, title))  # fmt: skip
    summary = (
        f"No modelled cause explains the bleeding: {result.unexplained:.1%} (in published clinics, no cause "
        "is found for 40 to 50 in 100 women). "
        if explaining
        else "Not bleeding after sex: the chart shows which causes are present. "
    )
    st.caption(
        "Bar: the chance now, written at its end (the three leading causes outlined)"
        + (" with the chance the cause is present beside it" if explaining and view == "explains" else "")
        + "; hollow diamond: with the context and the presenting answer only, before any other answer"
        + ("; thin line: 90% credible interval over the uncertainty of the cited numbers" if show_intervals else "")
        + f". {summary}No modelled cause present: {result.no_cause_found:.1%}. A cause can be present without "
        "being what caused the bleeding."
    )  # fmt: skip

    st.subheader("What to ask next")
    target = st.radio(
        "Most useful for", TARGETS, horizontal=True, key="question_target",
        format_func={"differential": "the whole differential", "serious": "whether a serious cause is present"}.get,
    )  # fmt: skip
    if configurations > QUESTIONS_CONTEXT_LIMIT and not st.toggle("Rank them with this much of the context unknown (seconds per answer)",
                                      key="rank_anyway"):  # fmt: skip
        st.info(
            f"Set more of the context to rank the next questions on every change (still unknown: {unknown})."
        )
    else:
        st.table(
            question_rows(
                remembered("questions", next_questions, result.case, target)[:5],
                model.knowledge,
                target,
                result.posteriors,
            ),
            hide_index=True,
        )
    st.caption(
        "Ranked by how much the answer is expected to reduce the uncertainty (gain in bits: one bit is as "
        "much as halving it), with what each answer would change most: the cause whose chance of being "
        "present moves furthest, or the chance that a serious cause is present. Questions that can raise "
        "a red flag are under Ask first, whatever their rank."
    )

    st.subheader("Why")
    st.session_state["explain_leading"] = result.ranking[0]
    if not st.session_state.get("explain_pinned") or st.session_state.get("explain") not in result.ranking:
        st.session_state["explain"] = result.ranking[0]  # follows the leading cause until another is picked
    cause = st.selectbox("Explain a cause (the leading one unless you pick another)", result.ranking,
                         key="explain", on_change=pick_cause, format_func=lambda c: vocab.causes[c].label)  # fmt: skip
    st.caption("How each answer, in the order given, multiplied the odds that this cause is present (present, "
               "whether or not it explains the bleeding).")  # fmt: skip
    why = explanation(remembered("why", contributions, result.case, cause), model.knowledge)
    if why.start is not None:
        st.markdown(f"Chance that it is present: **{format_probability(why.start)}** with the context alone, "
                    f"**{format_probability(why.end)}** after every answer.")  # fmt: skip
    if why.moved.empty:
        st.write("No answer so far moves this cause away from its chance given the context alone.")
    else:
        st.vega_lite_chart(why.moved, explanation_spec(), width="stretch")
    if why.no_effect:
        st.caption("No effect on this cause: " + "; ".join(why.no_effect) + ".")


def teaching() -> None:
    """A published case's trajectory, and a button that loads it into the form."""
    vignettes = published_cases(PRIORS)
    chosen = vignettes[
        st.selectbox("Case", list(vignettes), key="vignette", format_func=lambda v: vignettes[v].title)
    ]
    st.caption(f"Source: {model.knowledge.sources[chosen.source].citation()}. Final diagnosis: "
               f"{vocab.causes[chosen.diagnosis].label}.")  # fmt: skip
    rows, triages = published_trajectory(PRIORS, chosen.id)
    steps = answer_steps(chosen.case, model.knowledge)
    path = trajectory_rows(steps, rows, model.knowledge, chosen.diagnosis)
    st.vega_lite_chart(path, trajectory_spec(), width="stretch")
    st.caption("Each line: the chance that the cause is present after each answer (the final diagnosis is "
               "always drawn, with the causes that lead at the end).")  # fmt: skip
    # On a 0-100% axis a rare final diagnosis lies flat on zero: its two ends in words.
    st.markdown(f"**{vocab.causes[chosen.diagnosis].label}**, the final diagnosis: "
                f"{format_probability(rows[0][chosen.diagnosis])} with the context alone, "
                f"{format_probability(rows[-1][chosen.diagnosis])} after every answer. A referral in the table "
                "comes from the guideline named, whatever this chance.")  # fmt: skip
    st.table(teaching_steps(steps, triages), hide_index=True)
    st.button("Load this case into the form", on_click=load_case, args=(chosen.case,))


def priors_and_what_if() -> None:
    """One parameter with its provenance, and the differential with another value for it."""
    params = model.knowledge.parameter_frame()
    parameter = st.selectbox("Parameter", params["id"], key="parameter")
    row = params.set_index("id").loc[parameter]
    st.markdown(parameter_meaning(parameter, model.knowledge))
    as_chance = f" ({format_probability(row['value'])})" if row["table"] != "risk_factors" else ""
    st.write(f"**{row['value']:g}**{as_chance} (95% interval {row['ci_low']} to {row['ci_high']}; "
             f"{row['evidence'].replace('_', ' ')}). {row['population']}.")  # fmt: skip
    st.caption(f"{row['source']}. {row['rationale']}")
    st.markdown("**What if** (this page only; the files are unchanged)")
    # One input per parameter: a value tried for one number never carries over to the next one picked.
    value = st.number_input(
        "Try another value", value=float(row["value"]), format="%g", key=f"what_if:{parameter}"
    )
    if value != row["value"]:
        try:
            tuned = diagnose(tuned_model(PRIORS, parameter, value), result.case)
            quantity = "explains the bleeding" if result.explains is not None else "is present"
            st.caption(f"With this number at {value:g}, the chance that each cause {quantity}, for the case "
                       "above. The chart, the triage and the rest of the page keep the published numbers.")  # fmt: skip
            st.table(what_if_rows(result, tuned, model.knowledge, parameter), hide_index=True)
        except (KnowledgeError, CaseError) as exc:
            st.error(f"That value cannot be used: {exc}")


# Panels below are drawn only while open: their content costs the browser time on every change.
for title, key, draw in (
    ("The network", "network_panel", lambda: st.graphviz_chart(network_dot(model.knowledge, result))),
    ("Teaching: step through a published case", "teaching_panel", teaching),
    ("Priors: the numbers behind the model, and what if", "priors_panel", priors_and_what_if),
):
    with st.expander(title, key=key, on_change="rerun") as panel:
        if panel.open:
            draw()

st.download_button("Download case and result (JSON)", json.dumps(diagnosis_record(result), indent=1),
                   file_name="pcb-case.json", mime="application/json")  # fmt: skip
st.download_button("Download a summary in plain words, for the patient", patient_summary(result, model.knowledge),
                   file_name="pcb-case.txt", mime="text/plain")  # fmt: skip
