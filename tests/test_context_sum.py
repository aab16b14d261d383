import numpy as np
import pytest

from model import quickscore
from model.inference import encode_evidence


@pytest.mark.parametrize(
    "evidence",
    [
        {"postcoital_bleeding": "yes"},
        {"age_band": "45_54", "exam_contact_bleeding": "yes", "recurrent": "yes"},
        {"menopause": "post", "dryness": "yes", "test_chlamydia": "no"},
    ],
)
def test_expanding_the_unknown_context_equals_summing_it_by_broadcasting(
    shipped_model, monkeypatch, evidence
):
    """The two ways of summing over unknown context give the same posteriors."""
    cases = encode_evidence(shipped_model, [evidence])
    monkeypatch.setattr(quickscore, "EXPAND_MAX_ROWS", 10**9)
    expanded = shipped_model.fast.explained(cases)
    monkeypatch.setattr(quickscore, "EXPAND_MAX_ROWS", 0)
    broadcast = shipped_model.fast.explained(cases)
    np.testing.assert_allclose(expanded.posteriors, broadcast.posteriors, rtol=0, atol=1e-12)
    np.testing.assert_allclose(expanded.explains, broadcast.explains, rtol=0, atol=1e-12)
