import pytest

from model import KnowledgeError, load_knowledge
from model.vocabulary import load_sources, load_vocabulary


def test_tiny_vocabulary_reads_ids_in_file_order(tiny_knowledge):
    vocab = tiny_knowledge.vocabulary
    assert list(vocab.context) == ["age", "pill"]
    assert vocab.context["pill"].parent == "age"
    assert list(vocab.causes) == ["ectropion", "infection", "cancer"]
    assert vocab.causes["cancer"].possible_only_when == {"age": ("old",)}
    assert vocab.findings["lesion"].group == "examination"
    assert vocab.impossible_combinations[0].when == {"pill": ("yes",), "lesion": ("yes",)}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (("causes:", "causes: [oops"), r"tiny/vocabulary.yaml, line \d+, column \d+: not valid YAML"),
        (("group: history", "group: gossip"), r"finding 'discharge', field 'group': must be one of history"),
        (("given: age", "given: weather"), r"context 'pill', field 'given': 'weather' must be a context"),
        (("serious: true", "serious: maybe"), r"cause 'cancer', field 'serious': must be true or false"),
        (("{age: [old]}", "{age: [ancient]}"), r"cause 'cancer', field 'age': states must be a list from"),
        (("label: Lesion,", "label: '',"), r"finding 'lesion', field 'label': must be non-empty text"),
        (('{pill: ["yes"], lesion', '{pill: ["yes"], rash'), r"field 'rash': is not a context variable"),
    ],
)
def test_vocabulary_errors_name_entry_and_field(tiny_copy, edit, match):
    path = tiny_copy / "vocabulary.yaml"
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(KnowledgeError, match=match):
        load_vocabulary(path, "tiny/vocabulary.yaml")


def test_unquoted_yes_state_is_rejected_with_advice(tiny_copy):
    path = tiny_copy / "vocabulary.yaml"
    path.write_text(path.read_text().replace('{"no": "No", "yes": "Yes"}', "{no: No, yes: Yes}"))
    with pytest.raises(KnowledgeError, match="must be text \\(quote yes/no"):
        load_vocabulary(path, "tiny/vocabulary.yaml")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (("year: 2026", "year: twenty"), "source 'fixture', field 'year': must be a four-digit year"),
        (("  url: tests/data/tiny/README\n", ""), "field 'pmid': give at least one of pmid, doi or url"),
        (("authors: Test fixture", "authors: ''"), "field 'authors': must be non-empty text"),
    ],
)
def test_source_errors_name_key_and_field(tiny_copy, edit, match):
    path = tiny_copy / "sources.yaml"
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(KnowledgeError, match=match):
        load_sources(path, "tiny/sources.yaml")


def test_citation_is_one_line(shipped_knowledge):
    for source in shipped_knowledge.sources.values():
        citation = source.citation()
        assert "\n" not in citation and str(source.year) in citation


def test_missing_file_is_named(tiny_copy):
    (tiny_copy / "sources.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"priors/sources\.yaml: file not found"):
        load_knowledge(tiny_copy)
