import pyagrum as gum
import pytest
from pgmpy.inference import VariableElimination
from pgmpy.readwrite import BIFReader, XMLBIFReader

from model import diagnose, export_network

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


def _pyagrum_posteriors(path, case):
    bn = gum.loadBN(str(path))
    engine = gum.LazyPropagation(bn)
    engine.setEvidence(
        {**case.get("context", {}), **{f: "yes" if a else "no" for f, a in case.get("findings", {}).items()}}
    )
    engine.makeInference()
    return {
        c: engine.posterior(c)[{c: "present"}]
        for c in bn.names()
        if bn.variable(c).labels() == ("absent", "present")
    }


@pytest.mark.parametrize("case", CASES)
def test_bif_gives_the_same_posteriors_in_pyagrum(shipped_model, tmp_path, case):
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    expected = diagnose(shipped_model, case).posteriors
    got = _pyagrum_posteriors(path, case)
    assert set(got) == set(expected)
    for cause, value in expected.items():
        assert got[cause] == pytest.approx(value, abs=1e-6), cause


def test_xmlbif_round_trips_through_pgmpy_and_pyagrum(shipped_model, tmp_path):
    path = export_network(shipped_model.network, tmp_path / "pcb.bifxml", "xmlbif")
    network = XMLBIFReader(str(path)).get_model()
    case = CASES[1]
    expected = diagnose(shipped_model, case).posteriors
    evidence = {**case["context"], "exam_contact_bleeding": "yes"}
    engine = VariableElimination(network)
    for cause, value in expected.items():
        got = engine.query([cause], evidence=evidence, show_progress=False).get_value(**{cause: "present"})
        assert got == pytest.approx(value, abs=1e-6), cause
    assert _pyagrum_posteriors(path, case)["ectropion"] == pytest.approx(expected["ectropion"], abs=1e-6)


def test_bif_round_trips_through_pgmpy(shipped_model, tmp_path):
    path = export_network(shipped_model.network, tmp_path / "pcb.bif", "bif")
    network = BIFReader(str(path)).get_model()
    assert set(network.nodes) == set(shipped_model.network.nodes)


def test_unknown_format_is_refused(shipped_model, tmp_path):
    with pytest.raises(ValueError, match="unknown format 'net'; use one of: bif, xmlbif"):
        export_network(shipped_model.network, tmp_path / "pcb.net", "net")
