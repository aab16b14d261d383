import pytest

from model import KnowledgeError, load_knowledge
from model.redflags import LEVELS, RedFlagPolicy


def test_policy_loads_levels_rules_and_advice(tiny_knowledge):
    policy = tiny_knowledge.red_flags
    assert tuple(policy.levels) == LEVELS
    assert [r.id for r in policy.rules] == [
        "lesion_seen",
        "old_with_bleeding",
        "untested_bleeding",
        "cancer_probability",
    ]
    assert policy.rules[1].when == {"age": ("old",), "contact_bleeding": ("yes",)}
    assert policy.rules[2].unless == {"test_infection": ("no",)}
    assert policy.rules[3].cause == "cancer" and policy.rules[3].at_least == 0.2
    assert policy.rules[0].clinician == "For the clinician, a lesion was seen."
    assert policy.levels["soon"].clinician == "Clinician soon." and policy.baseline_clinician
    assert policy.baseline == "routine" and policy.reassurance[0].level == "self_care"
    assert policy.advice["self_care"] == ("Come back if it happens again.",)


def test_urgency_orders_levels():
    assert [RedFlagPolicy.urgency(level) for level in LEVELS] == [5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("level: soon", "level: whenever", r"rule 'lesion_seen', field 'level': must be one of: emergency"),
        ("when: {lesion: [\"yes\"]}", "when: {lesion: [\"maybe\"]}", r"rule 'lesion_seen', field 'lesion': states"),
        ("when: {lesion: [\"yes\"]}", "when: {rash: [\"yes\"]}", r"field 'rash': is not a context variable or finding"),
        ("when: {lesion: [\"yes\"]}", "when: {lesion: \"yes\"}", r"field 'lesion': must be a list of states"),
        ("message: A lesion was seen.", "message: ''", r"rule 'lesion_seen', field 'message': must be non-empty"),
        ("clinician: For the clinician, a lesion was seen.", "clinician: ''", r"rule 'lesion_seen', field 'clinician': must be non-empty"),
        ("clinician: Clinician soon.", "clinician: ''", r"level 'soon', field 'clinician': must be non-empty"),
        ("unless: {test_infection: [\"no\"]}", "unless: {test_infection: [\"yes\"]}", r"rule 'untested_bleeding', field 'unless': may only list findings answered \"no\""),
        ("unless: {test_infection: [\"no\"]}", "unless: {age: [old]}", r"rule 'untested_bleeding', field 'age': is not a context variable or finding"),
        ("{cause: cancer, at_least: 0.2,", "{cause: tumour, at_least: 0.2,", r"field 'probability': needs 'cause'"),
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: 2,", r"field 'at_least': must be a probability"),
        ("combine_at_most: 2}", "combine_at_most: 0}", r"field 'combine_at_most': must be a whole number"),
        ("  - id: old_with_bleeding", "  - id: lesion_seen", r"rule 'lesion_seen', field 'id': is used twice"),
        ("baseline: routine", "baseline: later", r"baseline: must be one of"),
        ("  urgent: {label: Same day, action: Today., clinician: Clinician today.}\n", "", r"levels: must list, most urgent first"),
        ("    source: [fixture]\n    locator: fixture\n  - id: old", "    source: [nobody]\n    locator: fixture\n  - id: old",
         r"rule 'lesion_seen', field 'source': must list keys of sources.yaml"),
    ],
)  # fmt: skip
def test_rule_errors_name_the_rule_and_field(tiny_copy, old, new, match):
    path = tiny_copy / "red_flags.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KnowledgeError, match=match):
        load_knowledge(tiny_copy)


def test_every_shipped_rule_cites_guidance(shipped_knowledge):
    policy = shipped_knowledge.red_flags
    for rule in (*policy.rules, *policy.reassurance):
        assert rule.source and all(key in shipped_knowledge.sources for key in rule.source)
        assert rule.locator and rule.message.endswith(".") and rule.clinician.endswith(".")


def test_a_completed_work_up_hands_over_to_the_guidelines_next_step(shipped_knowledge):
    """A rule's ``unless`` is the work-up after which another rule takes over: that rule's condition
    is exactly the first one's condition with the completed work-up (NICE CKS; SA Health)."""
    rules = {r.id: r for r in shipped_knowledge.red_flags.rules}
    recurrent, worked_up = rules["recurrent_bleeding"], rules["recurrent_bleeding_after_negative_work_up"]
    assert dict(worked_up.when) == {**recurrent.when, **recurrent.unless}
    assert RedFlagPolicy.urgency(worked_up.level) < RedFlagPolicy.urgency(recurrent.level)
