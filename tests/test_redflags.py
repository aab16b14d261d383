import pytest

from model import KnowledgeError, load_knowledge
from model.redflags import LEVELS, Level, RedFlagPolicy
from tests.conftest import TINY


def test_policy_loads_levels_rules_and_advice():
    policy = load_knowledge(TINY).red_flags  # loaded here, so a broken loader fails this very test
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
    assert policy.levels["soon"] == Level("soon", "Within two weeks", "Soon.", "Clinician soon.")
    assert (policy.baseline, policy.baseline_reason, policy.baseline_clinician, policy.baseline_source) == (
        "routine",
        "Every case is examined.",
        "Examine every case.",
        ("fixture",),
    )
    assert [r.id for r in policy.reassurance] == ["all_clear"]
    assert policy.reassurance[0].when == {"lesion": ("no",), "test_infection": ("no",)}
    assert policy.rules[3].combine_at_most == 2 and policy.rules[3].when == {}
    assert policy.baseline == "routine" and policy.reassurance[0].level == "self_care"
    assert policy.advice["self_care"] == ("Come back if it happens again.",)


def test_urgency_orders_levels():
    assert [RedFlagPolicy.urgency(level) for level in LEVELS] == [5, 4, 3, 2, 1, 0]


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


LEVEL_NAMES = ", ".join(LEVELS)


def edited_policy(folder, old, new):
    """Replace ``old`` (which must be there) by ``new`` in a copy's red_flags.yaml; return its path."""
    path = folder / "red_flags.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


UNLESS = 'unless: {test_infection: ["no"]}'


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("level: soon", "level: whenever", f", rule 'lesion_seen', field 'level': must be one of: {LEVEL_NAMES}"),
        ("    source: [fixture]\n    locator: fixture\n  - id: old", "    source: []\n    locator: fixture\n  - id: old",
         ", rule 'lesion_seen', field 'source': must list keys of sources.yaml"),
        ("    locator: fixture\n", "", ", rule 'all_clear', field 'locator': must be non-empty text"),
        ("message: A lesion was seen.", "message: ''", ", rule 'lesion_seen', field 'message': must be non-empty text"),
        ("clinician: For the clinician, a lesion was seen.", "clinician: ''",
         ", rule 'lesion_seen', field 'clinician': must be non-empty text"),
        ("when: {lesion: [\"yes\"]}", "when: {rash: [\"yes\"]}",
         ", rule 'lesion_seen', field 'rash': is not a context variable or finding id"),
        (UNLESS, "unless: {age: [old]}", ", rule 'untested_bleeding', field 'age': is not a context variable or finding id"),
        ("  - id: all_clear\n", "  - name: all_clear\n", ", reassurance entry 1, field 'id': each rule needs an id"),
        ("  - id: lesion_seen\n", "  - just text\n  - id: lesion_seen\n", ", rules entry 1, field 'id': each rule needs an id"),
        ("when: {lesion: [\"yes\"]}", "when: {}", ", rule 'lesion_seen', field 'when': needs at least one condition"),
        (UNLESS, UNLESS + "\n    covered_by: [lesion_seen, old_age]",
         ", rule 'untested_bleeding', field 'covered_by': 'old_age' is not another rule"),
        (UNLESS, UNLESS + "\n    covered_by: [untested_bleeding]",
         ", rule 'untested_bleeding', field 'covered_by': 'untested_bleeding' is not another rule"),
        (UNLESS, UNLESS + "\n    covered_by: lesion_seen", ", rule 'untested_bleeding', field 'covered_by': must list rule ids"),
        ("    level: urgent\n    message: Old and bleeding.", "    level: urgent\n    covered_by: [untested_bleeding]\n    message: Old and bleeding.",
         ", rule 'old_with_bleeding', field 'covered_by': 'untested_bleeding' is less urgent, so it cannot cover this rule"),
        ("when: {lesion: [\"yes\"]}", "when: {lesion: [\"maybe\"]}", ", rule 'lesion_seen', field 'lesion': states must be a list from: no, yes"),
        ("when: {lesion: [\"yes\"]}", "when: {lesion: \"yes\"}", ", rule 'lesion_seen', field 'lesion': must be a list of states, e.g. [\"yes\"]"),
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: 2,", ", rule 'cancer_probability', field 'at_least': must be a probability above 0"),
        ("combine_at_most: 2}", "combine_at_most: 0}", ", rule 'cancer_probability', field 'combine_at_most': must be a whole number of 1 or more"),
        ("  urgent: {label: Same day, action: Today., clinician: Clinician today.}\n", "", f", levels: must list, most urgent first: {LEVEL_NAMES}"),
        ("    level: self_care\n", "    level: self_care\n    benign_yes: [rash]\n",
         ", rule 'all_clear', field 'benign_yes': must list finding ids"),
        (UNLESS, UNLESS.replace("no", "yes"), ", rule 'untested_bleeding', field 'unless': may only list findings answered \"no\""),
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: 0,", ", rule 'cancer_probability', field 'at_least': must be a probability above 0"),
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: high,", ", rule 'cancer_probability', field 'at_least': must be a probability above 0"),
        ("{cause: cancer, at_least: 0.2,", "{cause: tumour, at_least: 0.2,", ", rule 'cancer_probability', field 'probability': needs 'cause', a cause id"),
        ("combine_at_most: 2}", "combine_at_most: true}", ", rule 'cancer_probability', field 'combine_at_most': must be a whole number of 1 or more"),
        ("combine_at_most: 2}", "combine_at_most: 1.5}", ", rule 'cancer_probability', field 'combine_at_most': must be a whole number of 1 or more"),
        ("  urgent: {label: Same day, ", "  urgent: {", ", level 'urgent', field 'label': must be non-empty text"),
        ("action: Today., ", "", ", level 'urgent', field 'action': must be non-empty text"),
        ("clinician: Clinician today.", "clinician: ''", ", level 'urgent', field 'clinician': must be non-empty text"),
        ("  - id: old_with_bleeding", "  - id: lesion_seen", ", rule 'lesion_seen', field 'id': is used twice"),
        ("baseline: routine", "baseline: later", f", baseline: must be one of: {LEVEL_NAMES}"),
        ("baseline_reason: Every case is examined.", "baseline_reason: ''", ", baseline, field 'baseline_reason': must be non-empty text"),
        ("baseline_clinician: Examine every case.", "baseline_clinician: ''", ", baseline, field 'baseline_clinician': must be non-empty text"),
        ("baseline_source: [fixture]", "baseline_source: [nobody]", ", baseline, field 'source': must list keys of sources.yaml"),
        ("  routine: [Book an examination.]", "  later: [Book an examination.]", ", advice: must map levels to lists of sentences"),
        ("  routine: [Book an examination.]", "  routine: Book an examination.", ", advice: must map levels to lists of sentences"),
    ],
)  # fmt: skip
def test_every_loader_check_names_the_file_the_entry_and_the_field_exactly(tiny_copy, old, new, message):
    """The whole message, so a check that names the wrong file, entry or field fails here."""
    path = edited_policy(tiny_copy, old, new)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tiny_copy)
    assert str(raised.value) == f"{path}{message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list, not a mapping\n", ": must be a mapping with levels, rules and baseline"),
        ("levels: [\n", ", line 2, column 1: not valid YAML: "),  # then the parser's own words
    ],
)
def test_a_whole_file_that_cannot_be_used_is_named(tiny_copy, text, message):
    path = tiny_copy / "red_flags.yaml"
    path.write_text(text)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tiny_copy)
    assert str(raised.value).startswith(f"{path}{message}")


def test_levels_out_of_order_are_named(tiny_copy):
    path = tiny_copy / "red_flags.yaml"
    text = path.read_text()
    urgent = "  urgent: {label: Same day, action: Today., clinician: Clinician today.}\n"
    path.write_text(text.replace(urgent, "").replace("  soon:", urgent + "  soon:"))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tiny_copy)
    assert str(raised.value) == f"{path}, levels: must list, most urgent first: {LEVEL_NAMES}"


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [
        ("{cause: cancer, at_least: 0.2,", "{cause: cancer, at_least: 1,", lambda p: p.rules[3].at_least == 1.0),
        ("combine_at_most: 2}", "combine_at_most: 1}", lambda p: p.rules[3].combine_at_most == 1),
        ("    source: [fixture]\n    locator: fixture\n  - id: old", "    source: fixture\n    locator: fixture\n  - id: old",
         lambda p: p.rules[0].source == ("fixture",)),
        ("  routine: [Book an examination.]", "  routine: [Book   an\n      examination.]",
         lambda p: p.advice["routine"] == ("Book an examination.",)),
        ("reassurance:\n", "reassurance_unused:\n", lambda p: p.reassurance == ()),
        ("    level: self_care\n", "    level: self_care\n    benign_yes: [lesion]\n",
         lambda p: p.reassurance[0].benign_yes == ("lesion",)),
    ],
)  # fmt: skip
def test_the_edges_the_loader_accepts(tiny_copy, old, new, check):
    """A threshold of exactly 1, a limit of exactly one answer, one source given as text, folded advice."""
    edited_policy(tiny_copy, old, new)
    assert check(load_knowledge(tiny_copy).red_flags)
