import pyagrum as gum
import pytest
from pgmpy.inference import VariableElimination
from pgmpy.readwrite import BIFReader, XMLBIFReader

from model import diagnose, export_network
from model.network import link_node

CASES = [
    {},
    {
        "context": {"age_band": "25_34", "contraception": "combined_hormonal"},
        "findings": {"exam_contact_bleeding": True},
    },
    {
        "context": {"menopause": "post"},
        "findings": {"dryness": True, "exam_atrophy": True, "recurrent": False},
    },
    {"findings": {"test_chlamydia": True, "abnormal_discharge": True, "fever": False}},
]


def _pyagrum_engine(path, evidence):
    bn = gum.loadBN(str(path))
    engine = gum.LazyPropagation(bn)
    engine.setEvidence(dict(evidence))
    engine.makeInference()
    return bn, engine


def _pyagrum_posteriors(path, evidence):
    bn, engine = _pyagrum_engine(path, evidence)
    return {
        c: engine.posterior(c)[{c: "present"}]
        for c in bn.names()
        if bn.variable(c).labels() == ("absent", "present")
    }


@pytest.mark.parametrize("case", CASES)
def test_bif_gives_the_same_posteriors_in_pyagrum(shipped_model, tmp_path, case):
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    result = diagnose(shipped_model, case)
    got = _pyagrum_posteriors(path, result.case.evidence())
    assert set(got) == set(result.posteriors)
    for cause, value in result.posteriors.items():
        assert got[cause] == pytest.approx(value, abs=1e-6), cause


@pytest.mark.parametrize("case", CASES)
def test_what_explains_the_bleeding_reads_off_the_exported_link_nodes(shipped_model, tmp_path, case):
    """The parent-divorcing chain travels with the file: pyAgrum reads the same responsibilities."""
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    result = diagnose(shipped_model, case)
    _, engine = _pyagrum_engine(path, result.case.evidence())
    for cause, value in result.explains.items():
        link = link_node("postcoital_bleeding", cause)
        assert engine.posterior(link)[{link: "yes"}] == pytest.approx(value, abs=1e-6), cause


def test_the_exported_file_stays_small(shipped_model, tmp_path):
    """One table over every cause would have 2^22 columns; the chain keeps the file small."""
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    assert path.stat().st_size < 2_000_000


def test_xmlbif_round_trips_through_pgmpy_and_pyagrum(shipped_model, tmp_path):
    path = export_network(shipped_model.network, tmp_path / "pcb.bifxml", "xmlbif")
    network = XMLBIFReader(str(path)).get_model()
    case = CASES[1]
    expected = diagnose(shipped_model, case).posteriors
    evidence = {**case["context"], "exam_contact_bleeding": "yes", "postcoital_bleeding": "yes"}
    engine = VariableElimination(network)
    for cause, value in expected.items():
        got = engine.query([cause], evidence=evidence, show_progress=False).get_value(**{cause: "present"})
        assert got == pytest.approx(value, abs=1e-6), cause
    evidence = diagnose(shipped_model, case).case.evidence()
    assert _pyagrum_posteriors(path, evidence)["ectropion"] == pytest.approx(expected["ectropion"], abs=1e-6)


def test_bif_round_trips_through_pgmpy(shipped_model, tmp_path):
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    network = BIFReader(str(path)).get_model()
    assert set(network.nodes) == set(shipped_model.network.nodes)


def test_unknown_format_is_refused(shipped_model, tmp_path):
    with pytest.raises(ValueError, match="unknown format 'net'; use one of: bif, xmlbif"):
        export_network(shipped_model.network, tmp_path / "pcb.net", "net")
