"""A probe for `app_browser.py --page`: the app's work on each answer, drawn by one custom element.

Not a page for users. It measures how fast a front end that redraws only what an answer changes
could settle, with the model doing on every answer what the app does: the diagnosis with its
triage and its reasons, the chart's rows, the next-question ranking (once enough of the context is
known) and the "Why" steps of the leading cause. The answers and the results are one
``st.components.v2`` element, its results drawn as plain text and bars; the context comes from
the link, as in the app.
"""

from __future__ import annotations

import html

import streamlit as st

from model import build_model
from model.case import case_from_query, parse_case
from model.explain import contributions
from model.inference import diagnose_as_entered
from model.page import QUESTIONS_CONTEXT_LIMIT, differential_rows, explanation, question_rows, reason_lines
from model.questions import next_questions
from model.uncertainty import context_configurations

JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let form = parentElement.querySelector(".probe-form");
  if (!form) {
    form = document.createElement("div");
    form.className = "probe-form";
    form.innerHTML = data.findings.map(([id, label]) => `<div class="st-key-finding-${id}">${label}
      <button data-finding="${id}" data-value="yes">Yes</button>
      <button data-finding="${id}" data-value="no">No</button></div>`).join("");
    form.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const value = button.getAttribute("aria-pressed") === "true" ? null : button.dataset.value;
      setTriggerValue("answer", {finding: button.dataset.finding, value});
    });
    parentElement.appendChild(form);
    parentElement.appendChild(document.createElement("div")).className = "probe-results";
  }
  for (const button of form.querySelectorAll("button")) {
    const pressed = data.answers[button.dataset.finding] === button.dataset.value;
    button.setAttribute("aria-pressed", String(pressed));
  }
  parentElement.querySelector(".probe-results").innerHTML = data.results;
}
"""
CSS = """
:host { display: flex; gap: 2rem; }
.probe-form { columns: 2; }
button[aria-pressed="true"] { background: #1f5f99; color: white; }
.bar { height: 0.8rem; background: #3d6aa8; }
"""
ONE_ELEMENT = st.components.v2.component("one_element_probe", js=JS, css=CSS)


@st.cache_resource
def loaded_model():
    """Built once per process, as in the app."""
    return build_model()


def answer() -> None:
    """Apply a pressed answer; pressing the chosen one again makes it unknown."""
    event = st.session_state["probe"]["answer"]
    answers = st.session_state["answers"]
    answers.pop(event["finding"], None)
    if event["value"]:
        answers[event["finding"]] = event["value"]


model = loaded_model()
vocab = model.knowledge.vocabulary
if "context" not in st.session_state:
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    st.session_state["context"] = dict(case_from_query(query, vocab)[0].context)
    st.session_state["answers"] = {}
answers = st.session_state["answers"]
case = parse_case(
    {"context": st.session_state["context"], "findings": {f: v == "yes" for f, v in answers.items()}},
    vocab,
    check_combinations=False,
)
result, _ = diagnose_as_entered(model, case)
rows = differential_rows(result, model.knowledge, "explains")
ranked = []  # as in the app: with too much of the context unknown the ranking waits for more
if context_configurations(model, result.case) <= QUESTIONS_CONTEXT_LIMIT:
    ranked = next_questions(model, result.case, "differential")[:5]
questions = question_rows(ranked, model.knowledge, "differential", result.posteriors)
why = explanation(contributions(model, result.case, result.ranking[0]), model.knowledge)
triage = result.triage
lines = [f"<p><b>Triage: {html.escape(triage.label)}.</b> {html.escape(triage.clinician_action)}</p>"]
lines += [
    f"<p>{'Red flag' if red else 'Next step'}: {html.escape(line)}</p>"
    for line, _, red in reason_lines(triage, model.knowledge)
]
bars = "<div>{} {}<div class=bar style='width:{:.0f}px'></div></div>"
lines += [bars.format(html.escape(r.name), html.escape(r.text), 300 * r.bar) for r in rows.itertuples()]
lines += [f"<div>{html.escape(' · '.join(map(str, q)))}</div>" for q in questions.itertuples(index=False)]
lines += [f"<div>{html.escape(w.answer)}: x{w.likelihood_ratio:.3g}</div>" for w in why.moved.itertuples()]
ONE_ELEMENT(
    key="probe",
    data={
        "findings": [[f, html.escape(v.label)] for f, v in vocab.findings.items() if f != vocab.presenting],
        "answers": answers,
        "results": "".join(lines),
    },
    on_answer_change=answer,
)
