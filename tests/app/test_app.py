"""The app through Streamlit's AppTest: every control, red flags, links and bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from model import diagnose, load_knowledge
from model.evaluation import load_vignettes
from model.page import differential_alt, differential_rows
from model.present import diagnosis_record

APP = str(Path(__file__).resolve().parents[2] / "app.py")
VOCAB = load_knowledge().vocabulary
TIMEOUT = 120
FINDINGS = [f for f in VOCAB.findings if f != VOCAB.presenting]  # the presenting one is a yes/no radio


def fresh(query=None):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def banner(at):
    return " ".join(
        e.value for e in (*at.error, *at.warning, *at.info, *at.success) if e.value.startswith("**Triage")
    )


def top_cause(at):
    """The first option of the explain box is the most probable cause (its label)."""
    label = at.selectbox(key="explain").options[0]
    return next(c for c, cause in VOCAB.causes.items() if cause.label == label)


def answer(at, finding, value):
    """Answer a finding "yes" or "no", or None to leave it unknown (neither button pressed)."""
    return at.button_group(key=f"finding:{finding}").set_value(value)


def chart_words(at):
    """The differential chart in words (its alternative text): every cause in the order drawn."""
    return at.get("vega_lite_chart")[0].proto.alt


def chart_data(at, index):
    """The rows a chart was given (Arrow)."""
    return pa.ipc.open_stream(at.get("vega_lite_chart")[index].proto.data.data).read_all().to_pandas()


def open_panel(at, key):
    """Panels draw their content only while open."""
    at.session_state[key] = True
    return at.run()


def test_page_opens_with_disclaimer_and_baseline_triage():
    at = fresh()
    assert not at.exception
    assert any("not a diagnosis" in i.value for i in at.info)
    assert "Triage: Book a check-up" in banner(at)


def test_every_control_can_be_used_without_an_exception():
    at = fresh()
    for var in VOCAB.context.values():
        at.selectbox(key=f"context:{var.id}").set_value(var.states[0])
    at.radio(key=f"finding:{VOCAB.presenting}").set_value("no")
    for finding in FINDINGS:
        answer(at, finding, "no")
    at.run()
    assert not at.exception
    at.radio(key=f"finding:{VOCAB.presenting}").set_value("yes")
    for finding in FINDINGS:
        answer(at, finding, "yes")
    at.run()
    assert not at.exception
    assert "Triage: Emergency" in banner(at)


def test_a_red_flag_raises_the_alert_whatever_the_probabilities():
    at = fresh()
    answer(at, "faintness", "yes").run()
    assert "Triage: Emergency" in banner(at)
    # in words and colour, not only by icon: a red flag never looks like a routine next step
    assert any("faint" in e.label.lower() and e.label.startswith(":red[**Red flag.**] Emergency: ")
               for e in at.expander)  # fmt: skip
    assert all(e.label.startswith((":red[**Red flag.**]", "**Next step.**")) for e in at.expander[:-3])


def test_a_change_of_triage_is_announced_and_red_flags_say_they_override_the_chances():
    """A toast names the new level (seen wherever the page is scrolled); under red flags the page says
    that the guideline's steps hold whatever the chart shows."""
    at = fresh({"age_band": "55_plus", "menopause": "post"})
    assert not at.toast
    assert any("whatever the chances shown below" in m.value for m in at.markdown)
    answer(at, "faintness", "yes").run()
    assert [t.value for t in at.toast] == ["Triage now: Emergency"]
    at.radio(key="differential_view").set_value("present").run()
    assert not at.toast  # the level did not change


def layout(at):
    """The kinds of the page's top-level elements, in order."""
    return [type(element).__name__ for element in at.main.children.values()]


def test_the_page_keeps_its_layout_whatever_the_answers():
    """Red flags, next steps and contradictions come and go inside one block, so every later element
    keeps its place and the browser updates the charts and controls instead of drawing them anew."""
    blank = layout(fresh())
    at = fresh({"menopause": "post", "pregnancy": "first_trimester"})  # a contradiction, and its message
    assert at.error and layout(at) == blank
    answer(at, "faintness", "yes").run()
    assert "Triage: Emergency" in banner(at) and layout(at) == blank


def test_a_positive_test_moves_its_cause_to_the_top():
    at = fresh()
    assert top_cause(at) != "chlamydia"
    answer(at, "test_chlamydia", "yes").run()
    assert top_cause(at) == "chlamydia"


def test_a_link_restores_its_case():
    at = fresh({"age_band": "55_plus", "menopause": "post", "dryness": "yes", "exam_atrophy": "yes"})
    assert at.selectbox(key="context:age_band").value == "55_plus"
    assert at.button_group(key="finding:dryness").value == "yes"
    assert top_cause(at) == "atrophy"
    assert "Triage: Urgent suspected-cancer referral" in banner(
        at
    )  # NICE NG12: postmenopausal bleeding at 55 or over


def test_bad_query_parameters_give_a_message_and_keep_the_rest():
    at = fresh({"age_band": "ancient", "fevr": "yes", "heavy": "maybe", "dryness": "yes"})
    assert not at.exception
    assert any("left out" in w.value for w in at.warning)
    messages = " ".join(t.value for t in at.text)
    assert "'age_band=ancient'" in messages and "'fevr'" in messages and "'heavy=maybe'" in messages
    assert at.button_group(key="finding:dryness").value == "yes"


def test_an_impossible_combination_keeps_every_answer_and_the_most_urgent_triage():
    """Pregnant after the menopause: the pregnancy's same-day flag is kept, no answer is dropped."""
    at = fresh()
    at.selectbox(key="context:menopause").set_value("post")
    at.selectbox(key="context:pregnancy").set_value("first_trimester")
    at.run()
    assert not at.exception
    assert any("cannot both be right" in e.value for e in at.error)
    assert "Triage: Same day" in banner(at)
    assert at.selectbox(key="context:menopause").value == "post"
    assert at.selectbox(key="context:pregnancy").value == "first_trimester"
    at.toggle(key="share_link").set_value(True).run()
    assert at.query_params["menopause"] in ("post", ["post"])


def test_reset_clears_the_case():
    at = fresh({"heavy": "yes"})
    next(b for b in at.button if b.label.startswith("Reset")).click().run()
    assert at.button_group(key="finding:heavy").value is None
    assert "Triage: Book a check-up" in banner(at)


def test_teaching_case_loads_into_the_form():
    at = open_panel(fresh(), "teaching_panel")
    at.selectbox(key="vignette").set_value("laceration_17_consensual_shock").run()
    next(b for b in at.button if "Load this case" in b.label).click().run()
    assert "Triage: Emergency" in banner(at)
    assert top_cause(at) == "coital_trauma"


def test_a_teaching_case_draws_its_final_diagnosis_and_names_each_answer_and_triage(shipped_model):
    at = open_panel(fresh(), "teaching_panel")
    cancer = next(v for v in load_vignettes(shipped_model) if v.diagnosis == "cervical_cancer")
    assert "cervical_cancer" not in diagnose(shipped_model, cancer.case).ranking[:4]  # it does not lead
    at.selectbox(key="vignette").set_value(cancer.id).run()
    assert "Cervical cancer (final diagnosis)" in set(chart_data(at, -1)["cause"])
    assert any(m.value.startswith("**Cervical cancer**, the final diagnosis: ") for m in at.markdown)
    steps = at.table[-1].value
    assert list(steps.columns) == ["Step", "Answer", "Triage after it"]
    assert len(steps) == len(cancer.case.findings) + 1 and steps["Answer"].iloc[1].endswith((": yes", ": no"))
    assert steps["Triage after it"].iloc[-1] != steps["Triage after it"].iloc[0]  # where the red flag came


def test_what_if_override_shows_its_effect_and_rejects_bad_values():
    at = open_panel(fresh({"test_chlamydia": "yes"}), "priors_panel")
    at.selectbox(key="parameter").set_value("finding_leaks:test_chlamydia").run()
    at.number_input(key="what_if:finding_leaks:test_chlamydia").set_value(0.3).run()
    table = at.table[-1].value
    assert not at.exception and list(table.columns) == ["Cause", "Now", "What if"]
    assert (table["Now"] != table["What if"]).any()  # the change shows
    assert any("keep the published numbers" in c.value for c in at.caption)
    at.number_input(key="what_if:finding_leaks:test_chlamydia").set_value(5.0).run()
    assert any("cannot be used" in e.value for e in at.error)


def test_a_what_if_value_stays_with_its_number_and_its_cause_is_always_listed():
    at = open_panel(fresh({"test_chlamydia": "yes"}), "priors_panel")
    at.selectbox(key="parameter").set_value("finding_links:chlamydia:postcoital_bleeding").run()
    at.number_input(key="what_if:finding_links:chlamydia:postcoital_bleeding").set_value(0.5).run()
    at.selectbox(key="parameter").set_value("cause_base_rates:cervical_cancer|age_band=35_44").run()
    base_rate = at.number_input(key="what_if:cause_base_rates:cervical_cancer|age_band=35_44")
    assert (
        base_rate.value
        == load_knowledge().parameters["cause_base_rates:cervical_cancer|age_band=35_44"].value
    )
    base_rate.set_value(0.01).run()
    assert "Cervical cancer" in set(at.table[-1].value["Cause"])  # listed though it does not lead


@pytest.mark.parametrize("cause", ["atrophy", "cervical_cancer"])
def test_explanation_is_shown_for_any_cause(cause):
    at = fresh({"menopause": "post", "dryness": "yes"})
    at.selectbox(key="explain").set_value(cause).run()
    assert not at.exception


def test_a_tuned_priors_folder_is_loaded_and_named(monkeypatch, tmp_path):
    """``streamlit run app.py -- --priors DIR``: the page uses the folder and says so."""
    shipped = fresh()
    tuned = load_knowledge().with_overrides({"cause_base_rates:coagulopathy|anticoagulant=no": 0.9})
    folder = tuned.write(tmp_path / "tuned")
    monkeypatch.setattr(sys, "argv", ["app.py", "--priors", str(folder)])
    at = fresh()
    assert not at.exception
    assert any(str(folder) in c.value for c in at.caption)
    assert top_cause(shipped) != "coagulopathy" and top_cause(at) == "coagulopathy"


def test_a_broken_priors_folder_gives_a_message_naming_the_file(monkeypatch, tiny_copy):
    path = tiny_copy / "finding_leaks.csv"
    path.write_text(path.read_text().replace("lesion,0.01", "lesion,1.3", 1))
    monkeypatch.setattr(sys, "argv", ["app.py", "--priors", str(tiny_copy)])
    at = fresh()
    assert not at.exception
    assert any("finding_leaks.csv, row 5 (lesion), field 'value'" in e.value for e in at.error)


def test_what_to_ask_next_lists_the_most_useful_questions():
    """Contact bleeding in a young woman at higher STI risk: a chlamydia test is among the top questions."""
    blank = fresh()  # with the whole context unknown the ranking waits to be asked for
    assert not blank.table and any("to rank the next questions" in i.value for i in blank.info)
    blank.toggle(key="rank_anyway").set_value(True).run()
    assert not blank.exception and len(blank.table[0].value) == 5
    at = fresh({"age_band": "under_25", "sti_risk": "yes", "exam_contact_bleeding": "yes"})
    questions = at.table[0].value
    assert not at.exception and len(questions) == 5
    assert VOCAB.findings["test_chlamydia"].label in set(questions["Ask about"])
    gains = [float(g) for g in questions["Gain (bits)"]]
    assert gains == sorted(gains, reverse=True)
    at.radio(key="question_target").set_value("serious").run()
    assert not at.exception and len(at.table[0].value) == 5


def test_credible_intervals_can_be_shown_once_the_context_is_set():
    at = fresh({"test_chlamydia": "yes"})
    at.checkbox(key="intervals").check().run()
    assert not at.exception and any("to see the intervals" in i.value for i in at.info)
    at = fresh({"age_band": "25_34", "menopause": "pre", "pregnancy": "not_pregnant", "contraception": "none",
                "test_chlamydia": "yes"})  # fmt: skip
    at.checkbox(key="intervals").check().run()
    assert not at.exception
    assert any("90% credible interval over the uncertainty" in c.value for c in at.caption)


def test_the_differential_says_what_explains_the_bleeding_and_what_is_present():
    """By default the case presents with bleeding after sex: the chart orders by what explains it and
    the caption gives the unexplained share; answering no switches to which causes are present."""
    at = fresh()
    assert at.radio(key="finding:postcoital_bleeding").value == "yes"
    assert at.radio(key="differential_view").value == "explains"
    assert any("No modelled cause explains the bleeding" in c.value for c in at.caption)
    at.radio(key="differential_view").set_value("present").run()
    assert not at.exception
    at.radio(key="finding:postcoital_bleeding").set_value("no").run()
    assert not at.exception
    assert not any(r.key == "differential_view" for r in at.radio)
    assert any("Not bleeding after sex" in c.value for c in at.caption)
    at.toggle(key="share_link").set_value(True).run()
    assert at.query_params["postcoital_bleeding"] in ("no", ["no"])


def test_the_chart_is_sorted_on_every_rerun_by_the_ranking_in_use(shipped_model):
    """The issue's case: answering the chlamydia test yes redraws chlamydia first, without a reload."""
    context = {"age_band": "under_25", "menopause": "pre", "sti_risk": "yes"}
    at = fresh(context)
    assert "first: Chlamydia " not in chart_words(at)
    answer(at, "test_chlamydia", "yes").run()
    assert "first: Chlamydia " in chart_words(at)
    result = diagnose(shipped_model, {"context": context, "findings": {"test_chlamydia": True}})
    at.radio(key="differential_view").set_value("present").run()
    rows = differential_rows(result, shipped_model.knowledge, "present")
    assert list(rows["posterior"]) == sorted(result.posteriors.values(), reverse=True)
    assert chart_words(at) == differential_alt(rows, "Chance it is present")


def test_switching_a_view_reuses_the_case_numbers_and_a_new_answer_recomputes_them(monkeypatch):
    """A view, the explained cause or the intervals switch change no number: the page does not rank
    the questions again (up to 0.1 s each time); a new answer, even one given before, does."""
    import model.questions

    ranked = []
    rank = model.questions.next_questions
    monkeypatch.setattr(model.questions, "next_questions", lambda *a: ranked.append(a[1]) or rank(*a))
    at = fresh(
        {"age_band": "25_34", "menopause": "pre", "pregnancy": "not_pregnant", "contraception": "none"}
    )
    assert len(ranked) == 1
    at.radio(key="differential_view").set_value("present").run()
    at.selectbox(key="explain").set_value("cervical_cancer").run()
    at.checkbox(key="intervals").check().run()
    assert len(ranked) == 1 and not at.exception
    answer(at, "dryness", "yes").run()
    answer(at, "dryness", None).run()
    assert len(ranked) == 3 and ranked[0] == ranked[2]
    at.radio(key="question_target").set_value("serious").run()
    assert len(ranked) == 4


def test_why_follows_the_leading_cause_until_another_is_picked():
    at = fresh()
    assert at.selectbox(key="explain").value == top_cause(at)
    answer(at, "test_chlamydia", "yes").run()
    assert at.selectbox(key="explain").value == top_cause(at) == "chlamydia"
    at.selectbox(key="explain").set_value("cervical_cancer").run()
    answer(at, "dryness", "yes").run()
    assert at.selectbox(key="explain").value == "cervical_cancer"  # the user's pick is kept
    next(b for b in at.button if b.label.startswith("Reset")).click().run()
    assert at.selectbox(key="explain").value == top_cause(at)


def test_answers_with_no_effect_are_listed_not_drawn():
    """Not pregnant: no answer can move a pregnancy problem, so each is listed as having no effect."""
    at = fresh({"pregnancy": "not_pregnant", "fever": "no", "test_chlamydia": "yes"})
    assert len(at.get("vega_lite_chart")) == 2  # the differential and "Why"
    at.selectbox(key="explain").set_value("pregnancy_complication").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1  # no bars of zero
    assert any(c.value.startswith("No effect on this cause: ") and "Fever or feeling unwell: no" in c.value
               for c in at.caption)  # fmt: skip


@pytest.mark.parametrize(
    ("given", "steps"),
    [
        (["fever", "dryness"], ["fever", "dryness"]),
        (["dryness", "fever"], ["dryness", "fever"]),
        (["dryness", "fever", "dryness"], ["fever", "dryness"]),  # cleared and given again: now last
    ],
)
def test_why_steps_through_the_answers_in_the_order_they_were_given(given, steps):
    """Teaching: after the complaint, the steps follow the user's answers, not the question list."""
    at = fresh({"pregnancy": "not_pregnant"})
    for number, finding in enumerate(given):
        if finding in given[:number]:
            answer(at, finding, None).run()
        answer(at, finding, "yes").run()
    at.selectbox(key="explain").set_value("pregnancy_complication").run()  # nothing moves it: all listed
    listed = next(c.value for c in at.caption if c.value.startswith("No effect on this cause: "))
    labels = [VOCAB.findings[f].label for f in [VOCAB.presenting, *steps]]
    positions = [listed.index(f"{label}: ") for label in labels]
    assert positions == sorted(positions), listed


@pytest.mark.parametrize("saved", ["case", "result"])
def test_a_saved_case_or_full_result_opens_and_its_message_clears(saved, shipped_model):
    """Open a saved case accepts the app's own download (a full result) and a case; messages go on reset."""
    case = {"context": {"age_band": "25_34", "menopause": "pre"}, "findings": {"test_chlamydia": True}}
    content = diagnosis_record(diagnose(shipped_model, case)) if saved == "result" else case
    at = fresh()
    at.file_uploader(key="upload").set_value(("bad.json", b"{not json", "application/json")).run()
    assert any("could not be used" in e.value for e in at.error)
    at.file_uploader(key="upload").set_value(
        ("pcb-case.json", json.dumps(content).encode(), "application/json")
    )
    at.run()
    assert not at.exception and not any("case file" in e.value for e in at.error)
    assert at.selectbox(key="context:age_band").value == "25_34"
    assert at.button_group(key="finding:test_chlamydia").value == "yes" and top_cause(at) == "chlamydia"
    at.file_uploader(key="upload").set_value(("bad.json", b'{"posterior": {}}', "application/json")).run()
    assert any("could not be used" in e.value for e in at.error)
    next(b for b in at.button if b.label.startswith("Reset")).click().run()
    assert not any("case file" in e.value for e in at.error)


# Privacy and untrusted input (regressions: the case sat in the URL, a link could inject a link or an
# image into the app's own warning, a long value was echoed in full, an impossible answer crashed).


def test_the_case_goes_into_the_link_only_when_asked_and_the_page_says_what_it_holds():
    at = fresh()
    answer(at, "test_chlamydia", "yes").run()
    assert "test_chlamydia" not in at.query_params
    at.toggle(key="share_link").set_value(True).run()
    assert at.query_params["test_chlamydia"] in ("yes", ["yes"])
    assert any("Anyone who sees the link can read them" in c.value for c in at.caption)
    at.toggle(key="share_link").set_value(False).run()
    assert "test_chlamydia" not in at.query_params


def test_a_shared_link_loads_its_case_then_leaves_the_address():
    at = fresh({"non_consensual": "yes", "age_band": "25_34"})
    assert at.button_group(key="finding:non_consensual").value == "yes"
    assert "non_consensual" not in at.query_params and not at.toggle(key="share_link").value


def test_link_text_is_shown_as_plain_short_text_never_as_a_link_or_image():
    at = fresh(
        {
            "[verify account](http://evil.example/login)": "yes",
            "age_band": "![x](http://host.example/t.png)",
            "fever": "y" * 100_000,
            "dryness": "yes",
        }
    )
    assert not at.exception
    assert at.button_group(key="finding:dryness").value == "yes"  # only the bad pairs are dropped
    rendered = [e.value for e in (*at.markdown, *at.warning, *at.error, *at.info, *at.caption)]
    assert not any("evil.example" in text or "host.example" in text for text in rendered)
    plain = " ".join(t.value for t in at.text)
    assert (
        "[verify account](http://evil.example/login)" in plain and "![x](http://host.example/t.png)" in plain
    )
    assert "… (100,000 characters)" in plain and len(plain) < 1000


def test_an_answer_the_tuned_numbers_rule_out_is_named_and_only_it_set_aside(monkeypatch, tmp_path):
    kb = load_knowledge()
    never = [
        p
        for p in kb.parameters
        if p.endswith(":fever") and p.split(":")[0] in ("finding_links", "finding_leaks")
    ]
    folder = kb.with_overrides(dict.fromkeys(never, 0.0)).write(tmp_path / "tuned")
    monkeypatch.setattr(sys, "argv", ["app.py", "--priors", str(folder)])
    at = fresh({"fever": "yes", "age_band": "25_34", "test_chlamydia": "yes"})
    assert not at.exception
    assert any("cannot occur with the other answers" in e.value for e in at.error)
    assert at.selectbox(key="context:age_band").value == "25_34" and top_cause(at) == "chlamydia"


def test_tracebacks_never_reach_the_page():
    from streamlit import config

    fresh()
    assert config.get_option("client.showErrorDetails") == "none"


def test_a_priors_folder_without_its_case_library_says_so_instead_of_failing_later(monkeypatch, tiny_copy):
    """--priors applies to the case library too: a folder without one is named, not a traceback."""
    monkeypatch.setattr(sys, "argv", ["app.py", "--priors", str(tiny_copy)])
    at = fresh()
    assert not at.exception
    assert any("cases/vignettes.yaml: file not found" in e.value for e in at.error)


def test_a_line_counts_the_answers_in_each_group_so_none_is_hidden_in_a_closed_tab():
    at = fresh()
    answer(at, "faintness", "no").run()
    answer(at, "test_chlamydia", "yes").run()
    assert "Answered: Ask first 1 · History 0 · Examination 0 · Tests 1" in [c.value for c in at.caption]
