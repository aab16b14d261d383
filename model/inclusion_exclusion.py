"""Quickscore: positive findings by inclusion-exclusion, with a bound on its rounding error.

Given the context, causes are independent (P(c present) = p_c) and each finding is a noisy-OR:
P(f = no | causes) = b_f prod_c q_cf^[c present], with b_f = 1 - leak (times the context's own
inhibitors) and q_cf = (1 - link) / (1 - leak). A negative finding therefore multiplies cause c's
weights by q_cf when present and 1 when absent: any number of them is absorbed into
t_c = prod_{negative f} q_cf. A positive finding contributes 1 - b_f prod_c q_cf^[c]; expanding
the product over the positive set P (Heckerman 1989, Proc. UAI 5: 174-181),

    P(E) = sum over S subset of P of (-1)^|S| prod_{f in N u S} b_f
           prod_c (1 - p_c + p_c prod_{f in N u S} q_cf),

2^|P| terms, each a product over causes: cost exponential only in the number of positive
findings. A query clamping cause c present (absent) keeps only the p_c (1 - p_c) part of c's
factor in every term.

The terms alternate in sign and can cancel to far below their own size. Computed in floating
point, a sum of n terms is within n eps sum|terms| of the exact one, so the engine bounds the
rounding error of each posterior P(Q, E) / P(E) by 2^|P| eps (sum|Q terms| + posterior sum|E
terms|) / P(E) (`rounding_bound`) and recomputes a case by a stable sum where that exceeds what is
asked (`model.stable_sums`).

`InclusionExclusion` is a part of `QuickscoreEngine`: it reads the engine's log tables
(``_log_q``, ``_log_base``, ``_log_context_q``) and the context part (`model.context_sum`).
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from model.query import ABSENT, PRESENT, clamped_product

EPSILON = np.finfo(float).eps


def rounding_bound(joint: np.ndarray, magnitude: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Return a bound on the rounding error of each posterior P(query | E) from inclusion-exclusion.

    ``joint`` and ``magnitude`` are the sums and the sums of absolute terms, shape
    ``(draws, cases, queries)`` with the evidence first; ``positives`` the cases' numbers of positive
    findings. Where P(E) is 0 the bound is NaN or infinite and the case counts as failing.

    Examples
    --------
    One positive finding whose two terms, 1 and -0.999, cancel to P(E) = 0.001:

    >>> joint, magnitude = np.array([[[0.001, 0.0005]]]), np.array([[[1.999, 1.0]]])
    >>> print(f"{rounding_bound(joint, magnitude, np.array([1]))[0, 0, 0]:.1e}")
    1.8e-12
    """
    evidence, evidence_size = joint[..., :1], magnitude[..., :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        subsets = (2.0**positives)[None, :, None]
        return subsets * EPSILON * (magnitude + np.abs(joint / evidence) * evidence_size) / np.abs(evidence)


def _product(factors: list[np.ndarray]) -> np.ndarray:
    """Multiply arrays that broadcast together, smallest first: the full size is reached last."""
    return reduce(np.multiply, sorted(factors, key=np.size), np.float64(1.0))


class InclusionExclusion:
    """Inclusion-exclusion over the positive findings, for expanded rows or broadcast context."""

    def _quickscore(
        self, context: np.ndarray, owner: np.ndarray, findings: np.ndarray, clamp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inclusion-exclusion over the positive findings, for rows with every context variable known.

        Row r belongs to case ``owner[r]``, whose answers are ``findings[owner[r]]``; the cases must
        share their number of positive findings. Returns P(query and evidence and the row's context)
        and the sum of the absolute values of its terms, for the rounding bound.
        """
        cases = len(findings)
        m = int((findings[0] == 1).sum())
        positives = np.argsort(findings != 1, axis=1, kind="stable")[:, :m]
        subsets = (np.arange(2**m)[:, None] >> np.arange(m)) & 1  # (subsets, m)
        sign = np.where(subsets.sum(axis=1) % 2, -1.0, 1.0)
        one_hot = np.zeros((cases, m, len(self.findings)))
        one_hot[np.arange(cases)[:, None], np.arange(m), positives] = 1.0
        in_t = np.maximum((findings == 0)[:, None, :], np.einsum("sm,nmf->nsf", subsets, one_hot))
        # What depends on the answers alone is computed per case, then spread to the case's rows.
        t = np.exp(np.einsum("nsf,dcf->dnsc", in_t, self._log_q))[:, owner]
        log_weight = np.einsum("nsf,df->dns", in_t, self._log_base)[:, owner]
        at_state = self._context_log_inhibitors(context)  # (draws, rows, findings)
        log_weight = log_weight + np.einsum("rsf,drf->drs", in_t[owner], at_state)
        prior, p = self._context_terms(context)
        p = p[:, :, None, :]  # (draws, rows, 1, causes)
        free = 1 - p + p * t
        weight = prior[:, :, None] * np.exp(log_weight) * free.prod(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            present = np.where(free > 0, p * t / free, 0.0)
            absent = np.where(free > 0, (1 - p) / free, 0.0)
        terms = np.empty((*weight.shape, len(clamp)))
        single = (clamp == PRESENT).sum(axis=1) == 1
        single &= (clamp == ABSENT).sum(axis=1) == 0
        free_query = ~clamp.any(axis=1)
        terms[..., free_query] = weight[..., None]
        terms[..., single] = weight[..., None] * present[..., np.argmax(clamp[single] == PRESENT, axis=1)]
        other = ~(single | free_query)
        if other.any():  # several causes clamped: products of ratios
            terms[..., other] = weight[..., None] * clamped_product(present, absent, clamp[other])
        return np.einsum("s,drsk->drk", sign, terms), np.abs(terms).sum(axis=2)

    def _quickscore_wide(
        self, context: np.ndarray, findings: np.ndarray, known: np.ndarray, clamp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inclusion-exclusion for cases with much unknown context, summed over it by broadcasting.

        The cases must share which context is known and their number of positive findings. Each
        cause's factor is computed once over its own parents and broadcast over the rest of the
        context, which beats expanding thousands of rows. Returns what `_quickscore` returns.
        """
        cases = len(context)
        positives = np.argsort(findings != 1, axis=1, kind="stable")[:, : int((findings[0] == 1).sum())]
        m = positives.shape[1]
        subsets = (np.arange(2**m)[:, None] >> np.arange(m)) & 1  # (subsets, m)
        sign = np.where(subsets.sum(axis=1) % 2, -1.0, 1.0)
        one_hot = np.zeros((cases, m, len(self.findings)))
        one_hot[np.arange(cases)[:, None], np.arange(m), positives] = 1.0
        in_t = np.maximum((findings == 0)[:, None, :], np.einsum("sm,nmf->nsf", subsets, one_hot))
        t = np.exp(np.einsum("nsf,dcf->dnsc", in_t, self._log_q))
        extra = (1,) * len(self.context)
        weight = np.exp(np.einsum("nsf,df->dns", in_t, self._log_base)).reshape(-1, cases, len(sign), *extra)
        for var, logs in self._log_context_q.items():
            factor = np.exp(np.einsum("nsf,dfx->dnsx", in_t, logs))
            weight = weight * self._place(factor, [var], context, known, per_case=True)
        for var, parent in self.tables.context_parent.items():
            cpd = self.tables.context_cpd[var]
            weight = weight * (
                self._place(cpd[:, :, 0], [var], context, known) if parent is None
                else self._place(cpd, [var, parent], context, known)
            )  # fmt: skip
        free, present, absent = [], [], []
        for c, cause in enumerate(self.causes):
            p = self._place(self.tables.cause_present[cause], self._cause_vars[cause], context, known)
            tc = t[..., c].reshape(*t.shape[:3], *extra)
            free.append(1 - p + p * tc)
            present.append(p * tc)
            absent.append(1 - p)
        unweighted, weight = weight, weight * _product(free)
        axes = tuple(range(3, 3 + len(self.context)))
        terms = np.empty((*weight.shape[:3], len(clamp)))
        marginals: dict[tuple, np.ndarray] = {}  # the weight summed onto one cause's parents
        for k, row in enumerate(clamp):
            clamped = np.flatnonzero(row)
            if len(clamped) == 1 and row[clamped[0]] == PRESENT:  # sum the rest first, then one small product
                c = clamped[0]
                keep = tuple(3 + self.context.index(v) for v in self._cause_vars[self.causes[c]])
                if keep not in marginals:
                    marginals[keep] = weight.sum(axis=tuple(a for a in axes if a not in keep), keepdims=True)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(free[c] > 0, present[c] / free[c], 0.0)
                terms[..., k] = (marginals[keep] * ratio).sum(axis=axes)
                continue
            targets = [present[c] if row[c] == PRESENT else absent[c] for c in clamped]
            if 2 * len(clamped) > len(self.causes):  # mostly clamped: rebuild from the free causes up
                # An absent cause's factor has no subset axis, so "no cause" costs one full-size product.
                others = [free[c] for c in range(len(self.causes)) if not row[c]]
                terms[..., k] = (unweighted * _product(targets + others)).sum(axis=axes)
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = [
                    np.where(free[c] > 0, t / free[c], 0.0) for c, t in zip(clamped, targets, strict=True)
                ]
            terms[..., k] = (weight * _product(ratios)).sum(axis=axes)
        return np.einsum("s,dnsk->dnk", sign, terms), np.abs(terms).sum(axis=2)
