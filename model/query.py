"""Joint events over the causes that the fast engine answers (queries), and its logarithm of zero.

A *query* clamps each cause free, present or absent; the engine returns P(query event and
evidence) for each, and posteriors are their ratios to the query with nothing clamped. Shared by
every part of the engine (`model.quickscore`, `model.context_sum`, `model.inclusion_exclusion`,
`model.stable_sums`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FREE, PRESENT, ABSENT = 0, 1, 2
LOG_OF_ZERO = -1e300  # finite stand-in for log(0): sums stay defined and exp() of them is exactly 0


def safe_log(values: np.ndarray) -> np.ndarray:
    """Return log(values), with `LOG_OF_ZERO` for zeros: a certain link keeps its terms at exactly 0.

    Examples
    --------
    >>> np.exp(safe_log(np.array([0.0, 1.0]))).tolist()
    [0.0, 1.0]
    """
    with np.errstate(divide="ignore"):
        return np.where(values > 0, np.log(values), LOG_OF_ZERO)


def clamped_product(present: np.ndarray, absent: np.ndarray, clamp: np.ndarray) -> np.ndarray:
    """Return, for each query, the product of the ratios of the causes it clamps.

    ``present`` and ``absent`` hold each cause's ratio of its clamped term to its free one, with the
    causes on the last axis; ``clamp`` is ``(queries, causes)``. A free cause contributes 1. The
    product is taken through logarithms, as one small matrix product instead of a
    ``(..., queries, causes)`` array; a zero ratio's logarithm is `LOG_OF_ZERO`, so a product with
    one is exactly 0.

    Examples
    --------
    >>> clamped_product(np.array([0.5, 0.0]), np.array([0.5, 1.0]), np.array([[1, 0], [1, 2], [2, 1]]))
    array([0.5, 0.5, 0. ])
    """
    log_product = np.zeros((*present.shape[:-1], len(clamp)))
    for ratio, state in ((present, PRESENT), (absent, ABSENT)):
        mask = np.where(clamp == state, 1.0, 0.0).T  # (causes, queries)
        log_product += np.einsum("...c,cq->...q", safe_log(ratio), mask)  # pragma: no mutate (letters' case)
    return np.exp(log_product)


@dataclass(frozen=True)
class Queries:
    """Named joint events over the causes.

    Attributes
    ----------
    names : tuple[str, ...]
        One name per query.
    clamp : numpy.ndarray
        Shape ``(queries, causes)``: `FREE`, `PRESENT` or `ABSENT` for each cause.
    """

    names: tuple[str, ...]
    clamp: np.ndarray

    def index(self, name: str) -> int:
        """Return the position of a named query."""
        return self.names.index(name)


EVIDENCE, NONE, NONE_SERIOUS = "evidence", "none", "none_serious"


def standard_queries(causes: Sequence[str], serious: Sequence[str]) -> Queries:
    """Return the queries a diagnosis needs.

    ``evidence`` (nothing clamped: P(evidence)), each cause id (that cause present), ``none`` (every
    cause absent) and ``none_serious`` (every serious cause absent).

    Examples
    --------
    >>> q = standard_queries(["a", "b"], ["b"])
    >>> q.names
    ('evidence', 'a', 'b', 'none', 'none_serious')
    >>> q.clamp.tolist()
    [[0, 0], [1, 0], [0, 1], [2, 2], [0, 2]]
    """
    n = len(causes)
    clamp = np.zeros((n + 3, n), dtype=np.int8)
    clamp[1 : n + 1][np.arange(n), np.arange(n)] = PRESENT
    clamp[n + 1] = ABSENT
    clamp[n + 2, [causes.index(c) for c in serious]] = ABSENT
    return Queries((EVIDENCE, *causes, NONE, NONE_SERIOUS), clamp)
