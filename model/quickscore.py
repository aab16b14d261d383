"""Fast exact inference for this network's structure, vectorised over cases and parameter draws.

The network has a small context layer, causes that are independent given the context, and
noisy-OR findings. Given the context, a negative finding multiplies each cause's odds by a
constant, so any number of them is absorbed for free; positive findings are handled by the
inclusion-exclusion of Quickscore (Heckerman 1989, Proc. UAI 5: 174-181), whose cost is
exponential only in their number. Unobserved context variables are summed over explicitly.

Inclusion-exclusion alternates in sign, and with many positive findings its terms can cancel to
far below their own size. The engine bounds the rounding error of every posterior from the terms
themselves, and recomputes a case whose bound exceeds `PRECISION` by enumerating the causes linked
to its positive findings instead: a sum of positive terms, exact to rounding, slower but stable.

pgmpy's variable elimination (`model.inference`) stays the reference; the tests check this engine
against it to 1e-9 on random contexts and evidence.

A *query* is a joint event over the causes: each cause free, clamped present or clamped absent.
The engine returns P(query event and evidence) for every draw, case and query; posteriors are
ratios of these (see `QuickscoreEngine.posteriors`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.network import AXES, NetworkTables

FREE, PRESENT, ABSENT = 0, 1, 2
LOG_FLOOR = 1e-300  # inhibitors of exactly 0 (a certain link) stay finite in log space
PRECISION = 1e-11  # bound on a posterior's rounding error before a case is recomputed stably
QUICKSCORE_MAX_POSITIVES = 6  # beyond this, cancellation is near certain: eliminate directly
WORK_BUDGET = 4_000_000  # elements of the largest working array, which sets the chunk size
EPSILON = np.finfo(float).eps


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


@dataclass(frozen=True)
class EncodedCases:
    """Cases as indices: the form the engine computes on.

    Attributes
    ----------
    context : numpy.ndarray
        Shape ``(cases, context variables)``: the observed state's index, or -1 where unknown.
    findings : numpy.ndarray
        Shape ``(cases, findings)``: 1 for yes, 0 for no, -1 where unknown.
    """

    context: np.ndarray
    findings: np.ndarray

    def __len__(self) -> int:
        return len(self.context)


class QuickscoreEngine:
    """Exact posteriors for many cases and parameter draws at once.

    Parameters
    ----------
    tables : NetworkTables
        From `model.network.network_tables`; its draws axis is carried through every result.
    context_states : Mapping[str, Sequence[str]]
        The states of each context variable, in vocabulary order.
    causes : Sequence[str]
        Cause ids, in the order of the tables' cause axis.
    serious : Sequence[str]
        The serious causes (for the ``none_serious`` query).

    Examples
    --------
    >>> from model import build_model
    >>> engine = build_model().fast
    >>> cases = engine.encode([{"age_band": "25_34"}], [{"test_chlamydia": True}])
    >>> post = engine.posteriors(cases)
    >>> round(float(post[0, 0, engine.queries.index("chlamydia")]), 2)
    0.85
    """

    def __init__(
        self, tables: NetworkTables, context_states: Mapping[str, Sequence[str]], causes: Sequence[str],
        serious: Sequence[str],
    ) -> None:  # fmt: skip
        self.tables = tables
        self.context_states = {v: tuple(s) for v, s in context_states.items()}
        self.context = tuple(tables.context_parent)
        self.causes = tuple(causes)
        self.findings = tables.findings
        self.queries = standard_queries(self.causes, serious)
        self._log_q = np.log(np.maximum(tables.cause_inhibitor, LOG_FLOOR))
        self._log_base = np.log1p(-tables.finding_leak)
        self._log_context_q = {
            v: np.log(np.maximum(a, LOG_FLOOR)) for v, a in tables.context_inhibitor.items()
        }
        self._cause_vars = {c: tables.cause_parents[c] for c in self.causes}
        self._linked = tables.cause_inhibitor != 1.0  # (draws, causes, findings)

    # -- encoding -------------------------------------------------------------------------------

    def encode(
        self, contexts: Sequence[Mapping[str, str]], findings: Sequence[Mapping[str, bool]]
    ) -> EncodedCases:
        """Turn cases (context id to state, finding id to True/False) into indices; absent keys are unknown."""
        context = np.full((len(contexts), len(self.context)), -1, dtype=np.int64)
        for n, answers in enumerate(contexts):
            for var, state in answers.items():
                context[n, self.context.index(var)] = self.context_states[var].index(state)
        answers = np.full((len(findings), len(self.findings)), -1, dtype=np.int8)
        index = {f: j for j, f in enumerate(self.findings)}
        for n, given in enumerate(findings):
            for finding, value in given.items():
                answers[n, index[finding]] = 1 if value else 0
        return EncodedCases(context, answers)

    # -- results --------------------------------------------------------------------------------

    def joint(self, cases: EncodedCases, queries: Queries | None = None) -> np.ndarray:
        """Return P(query event and evidence), shape ``(draws, cases, queries)``.

        Cases are grouped by which context variables are known and how many findings are
        positive, and computed in chunks that keep the working arrays within `WORK_BUDGET`. Cases
        whose Quickscore precision bound fails are recomputed by elimination, grouped by their
        positive findings. The first query must be ``evidence`` (nothing clamped).
        """
        clamp = (queries or self.queries).clamp
        draws = self.tables.draws
        result = np.zeros((draws, len(cases), len(clamp)))
        groups: dict[tuple, list[int]] = defaultdict(list)
        for n in range(len(cases)):
            groups[(tuple(cases.context[n] >= 0), int((cases.findings[n] == 1).sum()))].append(n)
        unstable_groups: dict[tuple, list[int]] = defaultdict(list)
        for (known, positives), members in groups.items():
            known = np.array(known, dtype=bool)
            if positives > QUICKSCORE_MAX_POSITIVES:
                for n in members:
                    unstable_groups[(tuple(known), tuple(np.flatnonzero(cases.findings[n] == 1)))].append(n)
                continue
            width = (2**positives) * max(self._width(known), len(clamp), len(self.causes))
            step = max(1, WORK_BUDGET // (width * draws))
            for start in range(0, len(members), step):
                chunk = np.array(members[start : start + step])
                joint, unstable = self._quickscore(cases.context[chunk], cases.findings[chunk], known, clamp)
                result[:, chunk] = joint
                for n in chunk[unstable]:
                    unstable_groups[(tuple(known), tuple(np.flatnonzero(cases.findings[n] == 1)))].append(n)
        for (known, _), members in unstable_groups.items():
            known = np.array(known, dtype=bool)
            step = max(1, WORK_BUDGET // (self._width(known) * draws))
            for start in range(0, len(members), step):
                chunk = np.array(members[start : start + step])
                result[:, chunk] = self._eliminate(cases.context[chunk], cases.findings[chunk], known, clamp)
        return result

    def posteriors(self, cases: EncodedCases, queries: Queries | None = None) -> np.ndarray:
        """Return P(query event | evidence), shape ``(draws, cases, queries)``; NaN where P(evidence) = 0."""
        joint = self.joint(cases, queries)
        evidence = joint[..., :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(evidence > 0, joint / evidence, np.nan)

    # -- the two formulations -------------------------------------------------------------------

    def _quickscore(
        self, context: np.ndarray, findings: np.ndarray, known: np.ndarray, clamp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inclusion-exclusion over the positive findings of cases that share which context is known.

        Returns the joint probabilities and, per case, whether the rounding bound failed.
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
            weight = weight * free[c]
        axes = tuple(range(3, 3 + len(self.context)))
        terms = np.empty((*weight.shape[:3], len(clamp)))
        for k, row in enumerate(clamp):
            term = weight
            for c in np.flatnonzero(row):
                target = present[c] if row[c] == PRESENT else absent[c]
                with np.errstate(divide="ignore", invalid="ignore"):
                    term = term * np.where(free[c] > 0, target / free[c], 0.0)
            terms[..., k] = term.sum(axis=axes)
        joint = np.einsum("s,dnsk->dnk", sign, terms)
        size = np.abs(terms).sum(axis=2)
        evidence, evidence_size = joint[..., :1], size[..., :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = len(sign) * EPSILON * (size + np.abs(joint / evidence) * evidence_size) / np.abs(evidence)
        unstable = ~np.all((bound <= PRECISION) | (evidence_size == 0), axis=(0, 2))
        return joint, unstable

    def _eliminate(
        self, context: np.ndarray, findings: np.ndarray, known: np.ndarray, clamp: np.ndarray
    ) -> np.ndarray:
        """Sum out the causes linked to the positive findings, and the unknown context, by elimination.

        Every term is positive, so the result is exact to rounding whatever the number of positive
        findings. The cases must share their positive findings and which context is known; the sum
        is one `numpy.einsum` per query, contracted in the order `numpy.einsum_path` finds.
        """
        draws, cases = self.tables.draws, len(context)
        positive = np.flatnonzero(findings[0] == 1)
        linked = np.flatnonzero(self._linked[:, :, positive].any(axis=(0, 2)))
        negatives = (findings == 0).astype(float)
        t = np.exp(np.einsum("nf,dcf->dnc", negatives, self._log_q))
        letter = {v: AXES[i] for i, v in enumerate(self.context)}
        cause_letter = {c: AXES[i].upper() for i, c in enumerate(linked)}  # batch axis: "Z"; causes < 26
        operands: list[np.ndarray] = []
        subscripts: list[str] = []

        def add(table: np.ndarray, variables: Sequence[str], causes: str = "", per_case: bool = False) -> int:
            values, kept = self._slice(table, variables, context, known, per_case, len(causes))
            letters = causes + "".join(letter[v] for v in kept)
            order = sorted(range(len(letters)), key=letters.__getitem__)  # one spelling per factor scope
            values = values.reshape(draws * cases, *values.shape[2:]).transpose(0, *(1 + i for i in order))
            operands.append(values)
            subscripts.append("Z" + "".join(letters[i] for i in order))
            return len(operands) - 1

        add(np.exp(np.einsum("nf,df->dn", negatives, self._log_base)), [], per_case=True)
        for var, logs in self._log_context_q.items():
            add(np.exp(np.einsum("nf,dfx->dnx", negatives, logs)), [var], per_case=True)
        for var, parent in self.tables.context_parent.items():
            cpd = self.tables.context_cpd[var]
            add(cpd[:, :, 0], [var]) if parent is None else add(cpd, [var, parent])
        position, swaps = {}, {}
        for c, cause in enumerate(self.causes):
            variables = self._cause_vars[cause]
            p = np.broadcast_to(
                self.tables.cause_present[cause][:, None],
                (draws, cases, *self.tables.cause_present[cause].shape[1:]),
            )
            g = p * t[:, :, c].reshape(draws, cases, *(1,) * len(variables))
            h, zero = 1 - p, np.zeros_like(p)
            if c in cause_letter:
                choices = [np.stack(pair, axis=2) for pair in ((h, g), (zero, g), (h, zero))]
            else:
                choices = [h + g, g, h]
            indices = [add(x, variables, cause_letter.get(c, ""), per_case=True) for x in choices]
            position[c] = indices[0]
            swaps[c] = {PRESENT: operands[indices[1]], ABSENT: operands[indices[2]]}
            del operands[indices[0] + 1 :], subscripts[indices[0] + 1 :]
        for j in positive:
            causes = [c for c in linked if self._linked[:, c, j].any()]
            inhibition = np.ones((draws,))
            for c in causes:
                pair = np.stack([np.ones(draws), np.exp(self._log_q[:, c, j])], axis=-1)
                inhibition = inhibition[..., None] * pair.reshape(draws, *(1,) * (inhibition.ndim - 1), 2)
            variables = list(self._log_context_q)
            base = np.exp(self._log_base[:, j]).reshape(draws, *(1,) * len(causes))
            for v in variables:
                base = base[..., None] * np.exp(self._log_context_q[v][:, j]).reshape(
                    draws, *(1,) * (base.ndim - 1), -1
                )
            yes = 1 - base * inhibition.reshape(*inhibition.shape, *(1,) * len(variables))
            add(yes, variables, "".join(cause_letter[c] for c in causes))
        # Factors over the same variables are multiplied first: fewer operands, far less einsum overhead.
        scopes = list(dict.fromkeys(subscripts))
        merged = [np.ones(1)] * len(scopes)
        for operand, scope in zip(operands, subscripts, strict=True):
            merged[scopes.index(scope)] = merged[scopes.index(scope)] * operand
        expression = ",".join(scopes) + "->Z"
        path = np.einsum_path(expression, *merged, optimize="greedy")[0]
        result = np.empty((draws * cases, len(clamp)))
        for k, row in enumerate(clamp):
            clamped = list(merged)
            for c in np.flatnonzero(row):
                free, target = operands[position[c]], swaps[c][row[c]]
                scope = scopes.index(subscripts[position[c]])
                with np.errstate(divide="ignore", invalid="ignore"):
                    clamped[scope] = clamped[scope] * np.where(free > 0, target / free, 0.0)
            result[:, k] = np.einsum(expression, *clamped, optimize=path)
        return result.reshape(draws, cases, len(clamp))

    # -- shared pieces --------------------------------------------------------------------------

    def _width(self, known: np.ndarray) -> int:
        """Return the number of configurations of the unknown context variables."""
        sizes = [len(self.context_states[v]) for v, k in zip(self.context, known, strict=True) if not k]
        return int(np.prod(sizes))

    def _slice(
        self, table: np.ndarray, variables: Sequence[str], context: np.ndarray, known: np.ndarray,
        per_case: bool = False, leading: int = 0,
    ) -> tuple[np.ndarray, list[str]]:  # fmt: skip
        """Index a table at each case's known context states.

        ``table`` has shape ``(draws, [cases,] *leading axes, *variables)``. Returns an array of shape
        ``(draws, cases, *leading axes, *unknown variables)`` and the unknown variables, in order.
        """
        cases = len(context)
        values = table if per_case else table[:, None]
        values = np.broadcast_to(values, (values.shape[0], cases, *values.shape[2:]))
        kept = []
        for offset, var in reversed(list(enumerate(variables))):
            i = self.context.index(var)
            axis = 2 + leading + offset
            if known[i]:
                index = context[:, i].reshape([1, cases] + [1] * (values.ndim - 2))
                values = np.take_along_axis(values, index, axis=axis).squeeze(axis)
            else:
                kept.insert(0, var)
        return values, kept

    def _place(
        self, table: np.ndarray, variables: Sequence[str], context: np.ndarray, known: np.ndarray,
        per_case: bool = False,
    ) -> np.ndarray:  # fmt: skip
        """Index a table at each case's known states, laid out as ``(draws, cases, entries, *context)``.

        ``table`` has shape ``(draws, [cases, entries,] *variables)``. Each context axis has the
        variable's size if it is unknown and among ``variables``, else 1.
        """
        leading = 1 if per_case else 0
        values, kept = self._slice(table, variables, context, known, per_case, leading)
        if not per_case:
            values = values[:, :, None]
        order = np.argsort([self.context.index(v) for v in kept])
        values = values.transpose(0, 1, 2, *(3 + order))
        shape = [1] * len(self.context)
        for v in kept:
            shape[self.context.index(v)] = len(self.context_states[v])
        return values.reshape(*values.shape[:3], *shape)
