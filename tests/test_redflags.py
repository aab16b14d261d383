import pytest

from model import KnowledgeError, load_knowledge
from model.redflags import LEVELS, RedFlagPolicy


def test_policy_loads_levels_rules_and_advice(tiny_knowledge):
    policy = tiny_knowledge.red_flags
    assert tuple(policy.levels) == LEVELS
    assert [r.id for r in policy.rules] == ["lesion_seen", "old_with_bleeding", "cancer_probability"]
    assert policy.rules[1].when == {"age": ("old",), "contact_bleeding": ("yes",)}
    assert policy.rules[2].cause == "cancer" and policy.rules[2].at_least == 0.2
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
        ("{cause: cancer, at_least: 0.2,", "{cause: tumour, at_least: 0.2,", r"field 'probability': needs 'cause'"),
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: 2,", r"field 'at_least': must be a probability"),
        ("combine_at_most: 2}", "combine_at_most: 0}", r"field 'combine_at_most': must be a whole number"),
        ("  - id: old_with_bleeding", "  - id: lesion_seen", r"rule 'lesion_seen', field 'id': is used twice"),
        ("baseline: routine", "baseline: later", r"baseline: must be one of"),
        ("  urgent: {label: Same day, action: Today.}\n", "", r"levels: must list, most urgent first"),
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
        assert rule.locator and rule.message.endswith(".")
