import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Case, CaseError, build_model, diagnose, load_knowledge
from model.redflags import RedFlagPolicy
from model.triage import assess_triage, condition_holds, pointing_findings, probability_signal

KB = load_knowledge()
VOCAB = KB.vocabulary


def test_no_rule_gives_the_baseline_with_its_reason(tiny_model):
    triage = diagnose(tiny_model, {"context": {"age": "young"}}).triage
    assert triage.level == "routine"
    assert [r.id for r in triage.reasons] == ["baseline"]
    assert triage.reasons[0].message == "Every case is examined."
    assert triage.reasons[0].clinician == "Examine every case."
    assert triage.reasons[0].source[0].startswith("Test fixture (2026)")
    assert triage.red_flags == ()
    assert triage.advice == ("Book an examination.",)


def test_most_urgent_fired_rule_sets_the_level(tiny_model):
    triage = diagnose(tiny_model, {"context": {"age": "old"}, "findings": {"contact_bleeding": True}}).triage
    assert triage.level == "urgent"
    assert triage.red_flags[0].id == "old_with_bleeding"
    assert triage.red_flags[0].source[0].startswith("Test fixture (2026)")


def test_reassurance_applies_only_when_nothing_fires(tiny_model):
    clear = {"findings": {"lesion": False, "test_infection": False}}
    reassured = diagnose(tiny_model, clear).triage
    assert reassured.level == "self_care"
    assert (reassured.reasons[0].message, reassured.reasons[0].clinician) == (
        "Nothing found.",
        "For the clinician, nothing found.",
    )
    clear["findings"]["contact_bleeding"] = True
    clear["context"] = {"age": "old"}
    assert diagnose(tiny_model, clear).triage.level == "urgent"


def test_a_level_without_advice_gives_none(tiny_copy):
    path = tiny_copy / "red_flags.yaml"
    path.write_text(path.read_text().replace("  routine: [Book an examination.]\n", ""))
    triage = diagnose(build_model(load_knowledge(tiny_copy)), {"context": {"age": "young"}}).triage
    assert triage.level == "routine" and triage.advice == ()


def test_a_completed_work_up_stops_a_rule_and_a_yes_never_does(tiny_model):
    young = {"context": {"age": "young"}}
    fired = diagnose(tiny_model, {**young, "findings": {"contact_bleeding": True}}).triage
    assert fired.level == "soon" and fired.red_flags[0].id == "untested_bleeding"
    assert fired.red_flags[0].clinician == "For the clinician, test for infection."
    done = diagnose(
        tiny_model, {**young, "findings": {"contact_bleeding": True, "test_infection": False}}
    ).triage
    assert done.level == "routine" and not done.red_flags
    still = diagnose(
        tiny_model, {**young, "findings": {"contact_bleeding": True, "test_infection": True}}
    ).triage
    assert still.level == "soon"


def test_probability_rule_fires_at_its_threshold(tiny_model):
    """Old, lesion seen: P(cancer) = 0.035 / 0.0445 = 0.79 >= 0.2, so the probability rule fires."""
    triage = diagnose(tiny_model, {"context": {"age": "old"}, "findings": {"lesion": True}}).triage
    assert {"lesion_seen", "cancer_probability"} <= {r.id for r in triage.red_flags}


def test_a_no_answer_never_lowers_the_probability_signal(tiny_model):
    """Contact bleeding raises cancer; a negative lesion exam lowers the posterior, not the signal."""
    model = tiny_model
    calls = []

    def posteriors_of(cause, evidences):
        calls.extend(dict(e) for e in evidences)
        return [
            diagnose(model, {"context": {k: v for k, v in e.items() if k in ("age", "pill")},
                             "findings": {k: v == "yes" for k, v in e.items() if k not in ("age", "pill")}}
                     ).posteriors[cause]
            for e in evidences
        ]  # fmt: skip

    pointing = pointing_findings(model.knowledge, "cancer")
    case = model.parse({"context": {"age": "old"}, "findings": {"contact_bleeding": True}})
    before = probability_signal("cancer", case, posteriors_of, pointing, 2)
    case = model.parse({"context": {"age": "old"}, "findings": {"contact_bleeding": True, "lesion": False}})
    after = probability_signal("cancer", case, posteriors_of, pointing, 2)
    assert after.value == pytest.approx(before.value) and after.answers == ("contact_bleeding",)
    assert all("lesion" not in evidence for evidence in calls)


def test_condition_needs_every_entry_answered():
    when = {"age": ("old",), "contact_bleeding": ("yes",)}
    assert condition_holds(when, {"age": "old", "contact_bleeding": "yes"})
    assert not condition_holds(when, {"age": "old"})
    assert not condition_holds(when, {"age": "old", "contact_bleeding": "no"})


def _minimal_case(rule):
    context = {v: s[0] for v, s in rule.when.items() if v in VOCAB.context}
    findings = {f: s[0] == "yes" for f, s in rule.when.items() if f in VOCAB.findings}
    return {"context": context, "findings": findings}


PROBABILITY_CASES = {
    "cervical_cancer_probability": {
        "context": {"age_band": "45_54", "smoker": "yes", "screening": "overdue_or_never"},
        "findings": {"exam_cervical_lesion": True, "test_cytology_abnormal": True, "test_hpv": True},
    },
    "endometrial_cancer_probability": {
        "context": {"age_band": "55_plus", "menopause": "post"},
        "findings": {"test_endometrial_thickening": True, "postmenopausal_bleeding": True},
    },
}


@pytest.mark.parametrize("rule", [r for r in KB.red_flags.rules], ids=[r.id for r in KB.red_flags.rules])
def test_every_shipped_rule_fires_on_its_trigger(shipped_model, rule):
    case = PROBABILITY_CASES[rule.id] if rule.cause else _minimal_case(rule)
    triage = diagnose(shipped_model, case).triage
    assert rule.id in {r.id for r in triage.reasons}
    assert RedFlagPolicy.urgency(triage.level) >= RedFlagPolicy.urgency(rule.level)


@pytest.mark.parametrize("rule", [r for r in KB.red_flags.rules if not r.cause], ids=lambda r: r.id)
def test_probabilities_never_silence_a_red_flag(rule):
    """Even if every cause were a hundred times rarer, a rule on answers still fires."""
    rare = {p.id: p.value / 100 for p in KB.table("cause_base_rates")}
    model = build_model(KB, overrides=rare)
    triage = diagnose(model, _minimal_case(rule)).triage
    assert rule.id in {r.id for r in triage.reasons}


@pytest.mark.parametrize("unknown", ["test_hpv", "test_chlamydia", "test_gonorrhea", "exam_cervical_lesion"])
def test_shipped_reassurance_needs_a_full_normal_work_up(shipped_model, unknown):
    """A single PCB episode, normal cervix, negative co-test and STI tests: no further investigation
    (Cancer Council Australia NCSP guideline 2022). An untested infection is not a negative test."""
    case = {
        "context": {"menopause": "pre", "pregnancy": "not_pregnant", "screening": "up_to_date_normal"},
        "findings": {"recurrent": False, "exam_cervical_lesion": False, "test_hpv": False,
                     "test_cytology_abnormal": False, "test_chlamydia": False, "test_gonorrhea": False},
    }  # fmt: skip
    assert diagnose(shipped_model, case).triage.level == "self_care"
    case["findings"].pop(unknown)
    assert diagnose(shipped_model, case).triage.level == "routine"


def test_advice_is_for_a_woman_not_yet_examined_only(shipped_model):
    """The self-care and routine advice (lubricant, gentler sex, book an examination) never sits beside
    a rule's own next step, such as 'no sex until treatment is finished' for a positive test."""
    assert diagnose(shipped_model, {}).triage.advice
    assert diagnose(shipped_model, {"findings": {"heavy": True}}).triage.advice == ()
    assert diagnose(shipped_model, {"findings": {"test_chlamydia": True}}).triage.advice == ()


def test_a_positive_hpv_test_with_bleeding_goes_to_colposcopy(shipped_model):
    """NCSP 2022: a symptomatic woman with a positive HPV test is referred to colposcopy, whatever the
    cytology; a single episode with a positive HPV test is never left at the baseline."""
    case = {"findings": {"recurrent": False, "test_hpv": True, "test_cytology_abnormal": False}}
    triage = diagnose(shipped_model, case).triage
    assert triage.level == "soon" and "hpv_positive_with_bleeding" in {r.id for r in triage.red_flags}


def test_pid_signs_in_pregnancy_are_managed_as_a_possible_ectopic_first(shipped_model):
    """NICE NG126: pain with a positive pregnancy test needs immediate early-pregnancy referral, so the
    PID action starts with a pregnancy test, never with antibiotics alone."""
    case = {"findings": {"test_pregnancy": True, "exam_cervical_motion_tenderness": True}}
    flags = {r.id: r for r in diagnose(shipped_model, case).triage.red_flags}
    assert flags["suspected_pid"].clinician.startswith("Pregnancy test first")


@pytest.mark.parametrize("finding", ["heavy", "faintness"])
def test_an_emergency_for_bleeding_or_faintness_asks_for_a_pregnancy_test(shipped_model, finding):
    """NICE NG126 1.1: a woman of reproductive age with these symptoms may have an ectopic pregnancy;
    the emergency action names the pregnancy test, and the rule cites the guideline."""
    flags = {r.id: r for r in diagnose(shipped_model, {"findings": {finding: True}}).triage.red_flags}
    rule = flags["heavy_bleeding" if finding == "heavy" else finding]
    assert "pregnancy test" in rule.clinician and "ectopic" in rule.clinician
    assert any("NG126" in reference for reference in rule.source)


# The presenting complaint is answered "yes" unless a case says otherwise: answering it "no" asks
# another question (which causes are present), so it is never an answer added to a case.
ADDABLE = [f for f in VOCAB.findings if f != VOCAB.presenting]


@st.composite
def cases_and_an_extra_answer(draw):
    context_ids = draw(st.lists(st.sampled_from(list(VOCAB.context)), unique=True, max_size=4))
    context = {v: draw(st.sampled_from(VOCAB.context[v].states)) for v in context_ids}
    finding_ids = draw(st.lists(st.sampled_from(ADDABLE), unique=True, min_size=1, max_size=7))
    findings = {f: draw(st.booleans()) for f in finding_ids}
    extra = finding_ids.pop()
    return {"context": context, "findings": {f: findings[f] for f in finding_ids}}, extra, findings[extra]


RULES = {rule.id: rule for rule in KB.red_flags.rules}


def assert_only_goes_up_or_hands_over(before, after, answer, evidence):
    """A "yes" never lowers the level nor removes a red flag. A "no" may, only through the guideline's
    completed work-ups: a rule whose ``unless`` now holds, or the reassurance pathway."""
    lost = {r.id for r in before.red_flags} - {r.id for r in after.red_flags}
    fell = RedFlagPolicy.urgency(after.level) < RedFlagPolicy.urgency(before.level)
    if answer:
        assert not lost and not fell, (lost, before.level, after.level)
        return
    handed_over = all(RULES[r].unless and condition_holds(RULES[r].unless, evidence) for r in lost)
    reassured = after.level == "self_care" and before.level == "routine" and not before.red_flags
    assert handed_over and (not fell or lost or reassured), (lost, before.level, after.level)


def add_an_answer_and_check(model, drawn):
    """Diagnose a drawn case before and after its extra answer, check the triage, return the after."""
    case, extra, answer = drawn
    try:
        before = diagnose(model, case).triage
        case["findings"][extra] = answer
        after = diagnose(model, case)
    except CaseError:
        return None  # impossible combinations are rejected by design
    assert_only_goes_up_or_hands_over(before, after.triage, answer, after.case.evidence())
    return after


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=cases_and_an_extra_answer())
def test_adding_an_answer_never_removes_a_red_flag_or_lowers_the_level(shipped_model, drawn):
    """Red flags only accumulate as answers are added, except where a "no" completes a guideline's work-up."""
    add_an_answer_and_check(shipped_model, drawn)


WORK_UP = dict(RULES["recurrent_bleeding"].unless)


@st.composite
def recurrent_cases_and_an_extra_answer(draw):
    """Recurrent bleeding with any part of the work-up answered either way, then one more answer:
    every path into and out of the completed work-up, not left to luck."""
    context_ids = draw(st.lists(st.sampled_from(list(VOCAB.context)), unique=True, max_size=4))
    context = {v: draw(st.sampled_from(VOCAB.context[v].states)) for v in context_ids}
    answered = draw(st.lists(st.sampled_from(list(WORK_UP)), unique=True))
    findings = {"recurrent": True, **{f: draw(st.booleans()) for f in answered}}
    extra = draw(st.sampled_from([f for f in ADDABLE if f not in findings]))
    return {"context": context, "findings": findings}, extra, draw(st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=recurrent_cases_and_an_extra_answer())
def test_a_completed_work_up_is_the_only_way_down_for_recurrent_bleeding(shipped_model, drawn):
    after = add_an_answer_and_check(shipped_model, drawn)
    if after is None:
        return
    fired = {r.id for r in after.triage.reasons}
    complete = condition_holds(WORK_UP, after.case.evidence())
    assert ("recurrent_bleeding" in fired) != complete
    assert ("recurrent_bleeding_after_negative_work_up" in fired) == complete


NEGATIVE_WORK_UP = {f: False for f in WORK_UP}


@pytest.mark.parametrize(
    ("context", "findings", "routine_rule"),
    [
        # An explained, benign recurrence: ectropion seen, infection excluded, negative HPV test.
        ({"age_band": "25_34"}, {"exam_ectropion": True}, "recurrent_bleeding_after_negative_work_up"),
        # Unscheduled bleeding on a progestogen implant with a normal examination (FSRH 2015).
        ({"contraception": "progestogen_only"}, {"exam_polyp": False}, "contraceptive_bleeding_after_negative_work_up"),
        # Bleeding on a copper coil with a normal examination.
        ({"contraception": "copper_iud"}, {"exam_ectropion": False}, "recurrent_bleeding_after_negative_work_up"),
        # A polyp seen, for removal and histology.
        ({"age_band": "35_44"}, {"exam_polyp": True}, "cervical_polyp_seen"),
    ],
)  # fmt: skip
def test_a_worked_up_benign_recurrence_takes_the_routine_pathway(
    shipped_model, context, findings, routine_rule
):
    """NICE CKS (persistent PCB: routine referral if it continues 6-8 weeks after infection is excluded),
    SA Health (recurrent PCB with a normal co-test: category 3), BNSSG Remedy (polyps removed in primary
    care or referred routinely, not to colposcopy), FSRH 2015 (unscheduled bleeding on hormonal
    contraception managed in primary care). Before the work-up, recurrence is seen within two weeks."""
    case = {"context": {**context, "menopause": "pre", "pregnancy": "not_pregnant"},
            "findings": {"recurrent": True, **findings}}  # fmt: skip
    assert diagnose(shipped_model, case).triage.level == "soon"
    case["findings"].update(NEGATIVE_WORK_UP)
    triage = diagnose(shipped_model, case).triage
    assert triage.level == "routine" and not triage.red_flags
    assert routine_rule in {r.id for r in triage.reasons}


def test_the_work_up_stays_open_while_any_part_of_it_is_positive_or_unknown(shipped_model):
    """NCSP 2022 (RANZCOG): recurrent bleeding with a positive HPV test or an infection still goes to
    colposcopy; an unanswered test leaves the work-up incomplete (unknown is not negative)."""
    for test in WORK_UP:
        for answer in (True, None):
            findings = {"recurrent": True, **NEGATIVE_WORK_UP, test: answer}
            findings = {f: a for f, a in findings.items() if a is not None}
            triage = diagnose(shipped_model, {"findings": findings}).triage
            assert "recurrent_bleeding" in {r.id for r in triage.red_flags}, (test, answer)


REASSURANCE = KB.red_flags.reassurance[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.sampled_from(list(VOCAB.findings)), context=st.sampled_from(["pre", "peri"]))
def test_a_yes_keeps_a_reassured_case_reassured_only_if_the_guideline_calls_it_benign(
    shipped_model, extra, context
):
    """Cancer Council Australia NCSP 2022: no further tests after a single episode with a normal cervix and
    a negative co-test, and nothing else; any other "yes" (a positive test, a sign, a symptom) points to
    a cause that needs treatment or follow-up."""
    case = {
        "context": {"menopause": context, "pregnancy": "not_pregnant"},
        "findings": {f: states[0] == "yes" for f, states in REASSURANCE.when.items() if f in VOCAB.findings},
    }
    assert diagnose(shipped_model, case).triage.level == "self_care"
    if extra in case["findings"]:
        return  # a reassuring answer itself
    case["findings"][extra] = True
    try:
        level = diagnose(shipped_model, case).triage.level
    except CaseError:
        return
    assert (level == "self_care") == (extra in REASSURANCE.benign_yes), extra


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=cases_and_an_extra_answer())
def test_no_case_with_a_positive_test_or_an_abnormal_sign_is_sent_home(shipped_model, drawn):
    """Reassurance needs nothing pointing anywhere: any positive test or examination sign rules it out."""
    case, extra, _ = drawn
    if VOCAB.findings[extra].group not in ("examination", "tests"):
        return
    case["findings"][extra] = True
    try:
        assert diagnose(shipped_model, case).triage.level != "self_care"
    except CaseError:
        return


def test_a_benign_yes_never_lowers_a_cancer_flag(shipped_model):
    """The case that fell from 'soon' to 'routine' when 'ectropion seen' was added: overdue screening,
    weight loss, contact bleeding and a positive HPV test (NICE NG12: refer at a 3% chance of cancer)."""
    case = {
        "context": {"screening": "overdue_or_never", "age_band": "45_54"},
        "findings": {"weight_loss": True, "exam_contact_bleeding": True, "test_hpv": True},
    }
    before = diagnose(shipped_model, case).triage
    for benign in ("exam_ectropion", "exam_polyp", "test_uterine_mass_on_ultrasound"):
        after = diagnose(shipped_model, {**case, "findings": {**case["findings"], benign: True}}).triage
        assert RedFlagPolicy.urgency(after.level) >= RedFlagPolicy.urgency(before.level), benign
        assert {r.id for r in before.red_flags} <= {r.id for r in after.red_flags}, benign


SUGGESTIVE = ["exam_contact_bleeding", "exam_cervical_lesion", "intermenstrual_bleeding", "weight_loss",
              "test_hpv", "test_cytology_abnormal", "recurrent", "postmenopausal_bleeding",
              "test_endometrial_thickening", "heavy_periods", "pelvic_pain", "abnormal_discharge"]  # fmt: skip


@st.composite
def near_a_cancer_threshold(draw):
    """Two to four answers suggestive of a cancer in a random context, then one more "yes" of any kind."""
    context_ids = draw(st.lists(st.sampled_from(list(VOCAB.context)), unique=True, max_size=5))
    context = {v: draw(st.sampled_from(VOCAB.context[v].states)) for v in context_ids}
    suggestive = draw(st.lists(st.sampled_from(SUGGESTIVE), unique=True, min_size=2, max_size=4))
    extra = draw(st.sampled_from([f for f in VOCAB.findings if f not in suggestive]))
    return {"context": context, "findings": dict.fromkeys(suggestive, True)}, extra


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=near_a_cancer_threshold())
def test_adding_a_yes_never_lowers_the_triage_near_a_cancer_threshold(shipped_model, drawn):
    """Monotone by construction: the probability rules weigh every combination of "yes" answers, and
    adding one only adds combinations; no "yes" may lower the level or remove a red flag."""
    case, extra = drawn
    try:
        before = diagnose(shipped_model, case).triage
        case["findings"][extra] = True
        after = diagnose(shipped_model, case).triage
    except CaseError:
        return
    assert RedFlagPolicy.urgency(after.level) >= RedFlagPolicy.urgency(before.level)
    assert {r.id for r in before.red_flags} <= {r.id for r in after.red_flags}


def test_a_probability_flag_names_the_answers_and_the_figure_it_reached(shipped_model):
    """The message must never contradict the figure on screen: it names the answers that reached the
    threshold and the figure they reached, and those answers alone (the rest unknown) give it."""
    from model.inference import posteriors_given

    case = {"context": {"age_band": "45_54"},
            "findings": {"exam_cervical_lesion": True, "weight_loss": True, "exam_contact_bleeding": True}}  # fmt: skip
    result = diagnose(shipped_model, case)
    flag = next(r for r in result.triage.red_flags if r.id == "cervical_cancer_probability")
    named = [f for f in result.case.findings if f'"{VOCAB.findings[f].label}"' in flag.message]
    figure = float(flag.message.split("present reaches ")[1].split("%")[0]) / 100
    evidence = {**case["context"], **dict.fromkeys(named, "yes")}
    reached = posteriors_given(shipped_model, [evidence])[0][
        shipped_model.fast.queries.index("cervical_cancer")
    ]
    assert named and figure >= 0.03
    assert reached == pytest.approx(figure, abs=0.0005)


def test_the_signal_never_falls_when_a_yes_explains_the_others_away():
    """An answer the cause can produce may still lower its posterior jointly (here "b" halves it): the
    signal keeps every combination without it, so it cannot fall."""
    from model.case import Case

    def posteriors_of(cause, evidences):
        return [0.04 * (0.5 if e.get("b") == "yes" else 1.0) * (1 + 0.1 * ("a" in e)) for e in evidences]

    before = probability_signal("x", Case({}, {"a": True}), posteriors_of, {"a", "b"}, 3)
    after = probability_signal("x", Case({}, {"a": True, "b": True}), posteriors_of, {"a", "b"}, 3)
    assert after.value >= before.value and after.answers == ("a",)


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ({"findings": {"exam_cervical_lesion": True}}, "cervix_looks_malignant"),
        ({"context": {"age_band": "55_plus", "menopause": "post"}}, "postmenopausal_bleeding_55_plus"),
    ],
)
def test_a_suspected_cancer_sign_takes_the_suspected_cancer_pathway(shipped_model, case, rule):
    """NICE NG12 on cervical and endometrial cancer: a cervix consistent with cancer, or postmenopausal bleeding at 55 or
    over, means a suspected-cancer pathway referral, worded as such and more urgent than 'soon'."""
    triage = diagnose(shipped_model, case).triage
    assert triage.level == "suspected_cancer" and rule in {r.id for r in triage.red_flags}
    assert "suspected-cancer" in triage.label.lower() and "NICE NG12" in triage.clinician_action
    assert "within two weeks" in triage.action and "do not have cancer" in triage.action
    assert RedFlagPolicy.urgency("suspected_cancer") > RedFlagPolicy.urgency("soon")


@pytest.mark.parametrize("test", ["test_chlamydia", "test_gonorrhea", "test_trichomonas"])
def test_a_positive_sti_test_brings_the_guideline_actions(shipped_model, test):
    """CDC STI treatment guidelines 2021: treat, manage sex partners, retest at about three months."""
    triage = diagnose(shipped_model, {"findings": {test: True}}).triage
    actions = next(r for r in triage.reasons if r.id.endswith("_positive"))
    assert "partner" in actions.message and "three months" in actions.message
    assert actions.source[0].startswith("Workowski KA")


# Each rule's behaviour pinned exactly, with a stand-in for the engine so that only the rule is under
# test. These kill mutants of model/triage.py that survived every other test (see README, Tests that
# kill mutants); the thresholds and limits are read from the knowledge base, never copied.

PROBABILITY_RULE = next(rule for rule in KB.red_flags.rules if rule.cause is not None)


def additive(cause, evidences):
    """A stand-in engine: each "yes" in the evidence adds 0.1."""
    return [0.01 + 0.1 * sum(value == "yes" for value in evidence.values()) for evidence in evidences]


def nothing(cause, evidences):
    return [0.0] * len(evidences)


def only_reason(triage, rule_id):
    return next(reason for reason in triage.reasons if reason.id == rule_id)


def test_the_presenting_complaint_is_always_combined_and_not_counted_in_the_limit():
    case = Case({}, {"p": True, "a": True, "b": True})
    signal = probability_signal("x", case, additive, pointing={"p", "a", "b"}, at_most=1, always="p")
    assert signal.answers == ("p", "a") and signal.value == pytest.approx(0.21)


def test_a_presenting_complaint_answered_no_or_not_at_all_is_never_taken_as_yes():
    for findings in ({"p": False, "a": True}, {"a": True}):
        signal = probability_signal(
            "x", Case({}, findings), additive, pointing={"p", "a"}, at_most=1, always="p"
        )
        assert signal.answers == ("a",) and signal.value == pytest.approx(0.11)


def test_a_probability_rule_fires_at_exactly_its_threshold_and_says_so_without_answers():
    rule = PROBABILITY_RULE

    def at_threshold(cause, evidences):
        return [rule.at_least if cause == rule.cause else 0.0 for _ in evidences]

    flag = only_reason(assess_triage(KB, Case({}, {}), at_threshold), rule.id)
    assert flag.level == rule.level and flag.locator == rule.locator
    assert flag.message == (
        f"{rule.message} Here the chance that it is present reaches {rule.at_least:.1%} given the context"
        " and no answer (answered yes). The chart weighs every answer, so its figure can be lower; this"
        " step stands whatever it shows."
    )


def test_a_probability_rule_names_the_complaint_and_up_to_its_limit_of_other_answers():
    rule = PROBABILITY_RULE
    others = sorted(pointing_findings(KB, rule.cause) - {VOCAB.presenting})[: rule.combine_at_most + 1]
    case = Case({}, {VOCAB.presenting: True, **dict.fromkeys(others, True)})
    flag = only_reason(assess_triage(KB, case, additive), rule.id)
    combined = [VOCAB.presenting, *others[: rule.combine_at_most]]  # the first of the equally high
    given = ", ".join(f'"{VOCAB.findings[f].label}"' for f in combined)
    assert f"given the context and {given} (answered yes)" in flag.message


def test_a_rule_on_answers_gives_its_own_message_and_locator_unchanged():
    rule = next(r for r in KB.red_flags.rules if r.cause is None)
    context = {node: states[0] for node, states in rule.when.items() if node in VOCAB.context}
    findings = {node: states[0] == "yes" for node, states in rule.when.items() if node in VOCAB.findings}
    flag = only_reason(assess_triage(KB, Case(context, findings), nothing), rule.id)
    assert (flag.message, flag.locator, flag.level) == (rule.message, rule.locator, rule.level)


def test_the_baseline_reason_is_the_policys_own_words():
    triage = assess_triage(KB, Case({}, {}), nothing)
    policy = KB.red_flags
    assert triage.level == policy.baseline
    assert [(r.id, r.message, r.locator) for r in triage.reasons] == [
        ("baseline", policy.baseline_reason, "")
    ]


def test_a_step_another_fired_rule_includes_counts_but_is_written_once(shipped_model):
    """At 55 or over after the menopause, the suspected-cancer referral (NICE NG12) includes the
    postmenopausal work-up and the modelled-risk referral: reviewers read four flags saying the same
    thing. They still count for the triage and stay in the full record."""
    case = {
        "context": {"age_band": "55_plus", "menopause": "post"},
        "findings": {"postmenopausal_bleeding": True},
    }
    triage = diagnose(shipped_model, case).triage
    assert "other_postmenopausal_bleeding" in {r.id for r in triage.red_flags}
    # the NG12 referral, with the examination of the cervix, includes the other three steps
    assert set(triage.covered) == {
        "other_postmenopausal_bleeding",
        "bleeding_after_menopause",
        "endometrial_cancer_probability",
    }
    assert [r.id for r in triage.shown_reasons] == ["postmenopausal_bleeding_55_plus"]
    alone = diagnose(
        shipped_model, {"findings": {"postmenopausal_bleeding": True}}
    ).triage  # nothing covers it
    assert "other_postmenopausal_bleeding" in {r.id for r in alone.shown_reasons} and not alone.covered


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(drawn=cases_and_an_extra_answer())
def test_a_reason_is_left_unwritten_only_under_a_shown_rule_at_least_as_urgent(shipped_model, drawn):
    case, extra, answer = drawn
    case["findings"][extra] = answer
    try:
        triage = diagnose(shipped_model, case).triage
    except CaseError:
        return
    fired, shown = {r.id: r for r in triage.reasons}, {r.id for r in triage.shown_reasons}

    def covering(rule_id):  # the shown rules that include this one's step, through any chain of covers
        covers = [c for c in RULES[rule_id].covered_by if c in fired] if rule_id in RULES else []
        return [c for cover in covers for c in ([cover] if cover in shown else covering(cover))]

    for reason in triage.reasons:
        if reason.id not in shown:
            covers = covering(reason.id)
            assert covers and all(
                RedFlagPolicy.urgency(fired[c].level) >= RedFlagPolicy.urgency(reason.level) for c in covers
            )
