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

import altair as alt
import pandas as pd
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
from model.evaluation import load_vignettes
from model.explain import contributions, trajectory
from model.inference import diagnose_as_entered
from model.present import (
    SEEK_CARE,
    contributions_frame,
    diagnosis_record,
    diagnosis_text,
    differential_frame,
    format_probability,
    network_dot,
)  # fmt: skip
from model.questions import TARGETS, next_questions
from model.uncertainty import context_configurations, posterior_intervals

st.set_page_config(page_title="Bleeding after sex: Bayesian differential", layout="wide")
st.set_option("client.showErrorDetails", "none")  # however the app is started: no traceback in the page
BANNER = {
    "emergency": st.error,
    "urgent": st.error,
    "suspected_cancer": st.error,
    "soon": st.warning,
    "routine": st.info,
    "self_care": st.success,
}
ANSWERS = {UNKNOWN: "Unknown", "yes": "Yes", "no": "No"}
PRESENTING_ANSWERS = {"yes": "Yes", "no": "No, the bleeding is at other times"}
INTERVAL_DRAWS = 500  # enough for a 90% interval to two digits, quick enough for every rerun
INTERVAL_CONTEXT_LIMIT = 100  # unknown-context configurations beyond which intervals wait for more context


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
    """A library case's leading causes and their trajectory: the same for everyone, so computed once."""
    case = published_cases(priors)[vignette_id].case
    leading = diagnose(loaded_model(priors), case).ranking[:4]
    return leading, trajectory(loaded_model(priors), case, leading)


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


def load_case(case: Case) -> None:
    for node, key in keys.items():
        st.session_state[key] = case.evidence().get(node, "yes" if node == vocab.presenting else UNKNOWN)


def reset() -> None:
    load_case(Case())
    st.query_params.clear()


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

raw = {
    "context": {v: st.session_state[keys[v]] for v in vocab.context if st.session_state[keys[v]] != UNKNOWN},
    "findings": {f: st.session_state[keys[f]] == "yes" for f in vocab.findings
                 if st.session_state.get(keys[f], UNKNOWN) != UNKNOWN},
}  # fmt: skip
entered = parse_case(raw, vocab, check_combinations=False)
result, contradicted = diagnose_as_entered(model, entered)
for problem in contradicted:
    st.error(problem)
with st.sidebar:  # privacy: the case goes into the address only when asked for
    if st.toggle("Put this case in the page link, to share it", key="share_link"):
        st.query_params.from_dict(case_to_query(entered))
        st.caption(SHARE_LINK_NOTE)
    else:
        st.query_params.clear()

triage = result.triage
BANNER[triage.level](f"**Triage: {triage.label}.** {triage.action}")
for flag in triage.red_flags:
    st.markdown(f"- **{flag.level.replace('_', ' ')}**: {flag.message} _({'; '.join(flag.source)})_")

left, right = st.columns([2, 3])
with left:
    st.header("Findings")
    if vocab.presenting:
        presenting = vocab.findings[vocab.presenting]
        st.radio(presenting.question, list(PRESENTING_ANSWERS), key=keys[presenting.id], horizontal=True,
                 format_func=PRESENTING_ANSWERS.get,
                 help="The model explains bleeding after sex. Answer no to use it for bleeding at other "
                 "times, such as after the menopause; it then shows which causes are present.")  # fmt: skip
    for group, tab in zip(
        ("history", "examination", "tests"), st.tabs(["History", "Examination", "Tests"]), strict=True
    ):
        with tab:
            for finding in (
                f for f in vocab.findings.values() if f.group == group and f.id != vocab.presenting
            ):
                st.radio(finding.question, list(ANSWERS), key=keys[finding.id], horizontal=True,
                         format_func=ANSWERS.get, help=finding.label)  # fmt: skip

with right:
    st.header("Differential")
    frame = differential_frame(result, model.knowledge)
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
    column, before = ("value", "value_before") if view == "explains" else ("posterior", "prior")
    frame = frame.sort_values(column, ascending=False, kind="stable")
    title = "Chance it explains the bleeding" if explaining and view == "explains" else "Chance it is present"
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{column}:Q", title=f"{title}: now (bar), before other answers (tick)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
        color=alt.Color("serious:N", title="Serious cause", scale=alt.Scale(range=["#6c8ebf", "#c0504d"])),
        tooltip=["cause", "label", alt.Tooltip("value:Q", title="explains the bleeding", format=".2%"),
                 alt.Tooltip("posterior:Q", title="present", format=".2%"),
                 alt.Tooltip("prior:Q", title="present before other answers", format=".2%")],
    )  # fmt: skip
    ticks = (
        alt.Chart(frame)
        .mark_tick(color="black", thickness=2)
        .encode(x=f"{before}:Q", y=alt.Y("label:N", sort=None))
    )
    chart = bars + ticks
    show_intervals = st.checkbox(
        "Show how sure the numbers are (90% credible interval)", key="intervals",
        help=f"Redraws every cited number {INTERVAL_DRAWS} times from its published uncertainty and shows "
        "where 90% of the resulting probabilities fall.",
    )  # fmt: skip
    if show_intervals and context_configurations(model, result.case) > INTERVAL_CONTEXT_LIMIT:
        st.info(
            "Set more of the context (age, menopause, pregnancy, contraception) to see the intervals: "
            "with most of it unknown they take too long to recompute on every change."
        )
        show_intervals = False
    if show_intervals:
        spread = posterior_intervals(model, result.case, draws=INTERVAL_DRAWS)
        ends = ["explains_low", "explains_high"] if view == "explains" and explaining else ["low", "high"]
        frame = frame.merge(spread[ends].set_axis(["low", "high"], axis=1), left_on="cause", right_index=True)
        chart += alt.Chart(frame).mark_rule(color="black", strokeWidth=1.5).encode(
            x="low:Q", x2="high:Q", y=alt.Y("label:N", sort=None),
            tooltip=["label", alt.Tooltip("low:Q", format=".1%"), alt.Tooltip("high:Q", format=".1%")],
        )  # fmt: skip
    st.altair_chart(chart, width="stretch")
    summary = (
        f"No modelled cause explains the bleeding: {result.unexplained:.1%} (in published clinics, no cause "
        "is found for 40 to 50 in 100 women). "
        if explaining
        else "Not bleeding after sex: the chart shows which causes are present. "
    )
    st.caption(
        summary + f"No modelled cause present: {result.no_cause_found:.1%}. A cause can be present without "
        "being what caused the bleeding."
        + (
            " Black lines: 90% credible intervals over the uncertainty of the cited numbers."
            if show_intervals
            else ""
        )
    )

    st.subheader("What to ask next")
    target = st.radio(
        "Most useful for", TARGETS, horizontal=True, key="question_target",
        format_func={"differential": "the whole differential", "serious": "whether a serious cause is present"}.get,
    )  # fmt: skip
    ranked = next_questions(model, result.case, target)[:5]
    st.dataframe(pd.DataFrame([
        {"Question": vocab.findings[q.finding].question, "Chance of yes": format_probability(q.probability_yes),
         "Expected gain (bits)": round(q.expected_gain, 3),
         "If yes, leading cause": vocab.causes[max(q.if_yes, key=q.if_yes.get)].label,
         "If no, leading cause": vocab.causes[max(q.if_no, key=q.if_no.get)].label}
        for q in ranked
    ]), hide_index=True)  # fmt: skip
    st.caption(
        "Ranked by how much the answer is expected to reduce the uncertainty. Red flags are always asked about."
    )

    st.subheader("Why")
    cause = st.selectbox("Explain a cause", result.ranking, key="explain",
                         format_func=lambda c: vocab.causes[c].label)  # fmt: skip
    st.caption("How each answer, in the order given, moved the chance that this cause is present.")
    steps = contributions_frame(contributions(model, result.case, cause), model.knowledge)
    if steps.empty:
        st.write("Answer some findings to see what moves this cause away from its context-only probability.")
    else:
        st.altair_chart(alt.Chart(steps).mark_bar().encode(
            x=alt.X("log_odds:Q", title="Change in log-odds (right: towards this cause)"),
            y=alt.Y("answer:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.condition("datum.log_odds > 0", alt.value("#c0504d"), alt.value("#6c8ebf")),
            tooltip=["answer", alt.Tooltip("likelihood_ratio:Q", format=".2f"), alt.Tooltip("after:Q", format=".2%")],
        ), width="stretch")  # fmt: skip

with st.expander("The network"):
    st.graphviz_chart(network_dot(model.knowledge, result))

with st.expander("Teaching: step through a published case"):
    vignettes = published_cases(PRIORS)
    chosen = vignettes[
        st.selectbox("Case", list(vignettes), key="vignette", format_func=lambda v: vignettes[v].title)
    ]
    st.caption(f"Source: {model.knowledge.sources[chosen.source].citation()}. Final diagnosis: "
               f"{vocab.causes[chosen.diagnosis].label}.")  # fmt: skip
    leading, rows = published_trajectory(PRIORS, chosen.id)
    steps_taken = ["context only", *[vocab.findings[f].label for f in chosen.case.findings]]
    path = pd.DataFrame([{"step": i, "answer": steps_taken[i], "cause": vocab.causes[c].label, "probability": p}
                         for i, row in enumerate(rows) for c, p in row.items()])  # fmt: skip
    st.altair_chart(alt.Chart(path).mark_line(point=True).encode(
        x=alt.X("step:O", title="Answers added"), y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1])),
        color="cause:N", tooltip=["answer", "cause", alt.Tooltip("probability:Q", format=".2%")],
    ), width="stretch")  # fmt: skip
    st.button("Load this case into the form", on_click=load_case, args=(chosen.case,))

with st.expander("Priors: the numbers behind the model, and what if"):
    params = model.knowledge.parameter_frame()
    parameter = st.selectbox("Parameter", params["id"], key="parameter")
    row = params.set_index("id").loc[parameter]
    st.write(f"**{row['value']:g}** (95% interval {row['ci_low']} to {row['ci_high']}; "
             f"{row['evidence'].replace('_', ' ')}). {row['population']}.")  # fmt: skip
    st.caption(f"{row['source']}. {row['rationale']}")
    st.markdown("**What if** (this page only; the files are unchanged)")
    value = st.number_input("Try another value", value=float(row["value"]), format="%g", key="what_if")
    if value != row["value"]:
        try:
            tuned = diagnose(tuned_model(PRIORS, parameter, value), result.case)
            compare = differential_frame(tuned, model.knowledge)[["label", "value"]].rename(
                columns={"value": "what if"}
            )
            st.dataframe(differential_frame(result, model.knowledge)[["label", "value"]].merge(compare).head(8),
                         hide_index=True)  # fmt: skip
        except (KnowledgeError, CaseError) as exc:
            st.error(f"That value cannot be used: {exc}")

st.download_button("Download case and result (JSON)", json.dumps(diagnosis_record(result), indent=1),
                   file_name="pcb-case.json", mime="application/json")  # fmt: skip
st.download_button("Download a readable summary", diagnosis_text(result, model.knowledge),
                   file_name="pcb-case.txt", mime="text/plain")  # fmt: skip
