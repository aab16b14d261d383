import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.contraction import Contraction

SIZES = {"Z": 3, "a": 2, "b": 3, "A": 2, "B": 2, "C": 2}


@st.composite
def factor_graphs(draw):
    """Random scopes over a few letters, every factor with the batch axis Z first."""
    letters = "abABC"
    scopes = draw(
        st.lists(st.lists(st.sampled_from(letters), unique=True, max_size=3), min_size=1, max_size=6)
    )
    return ["Z" + "".join(sorted(scope)) for scope in scopes]


@settings(max_examples=40, deadline=None)
@given(scopes=factor_graphs(), seed=st.integers(0, 2**32 - 1))
def test_the_sum_and_each_derivative_match_numpy(scopes, seed):
    rng = np.random.default_rng(seed)
    factors = [rng.random([SIZES[letter] for letter in scope]) for scope in scopes]
    total, derivatives = Contraction(scopes, [f.shape for f in factors], "Z").evaluate(factors, True)
    expression = ",".join(scopes) + "->Z"
    np.testing.assert_allclose(total, np.einsum(expression, *factors), rtol=1e-12)
    for i, factor in enumerate(factors):
        scale = rng.random(factor.shape)
        scaled = [f * scale if k == i else f for k, f in enumerate(factors)]
        by_derivative = (derivatives[i] * factor * scale).reshape(len(total), -1).sum(axis=1)
        np.testing.assert_allclose(by_derivative, np.einsum(expression, *scaled), rtol=1e-12)


def test_without_derivatives_only_the_sum_is_returned():
    factors = [np.ones((2, 3)), np.full((2, 3), 2.0)]
    total, derivatives = Contraction(["Za", "Za"], [(2, 3), (2, 3)], "Z").evaluate(factors)
    assert total.tolist() == pytest.approx([6.0, 6.0]) and derivatives is None
