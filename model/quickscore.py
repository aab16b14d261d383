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

from model.contraction import Contraction
from model.network import AXES, NetworkTables

FREE, PRESENT, ABSENT = 0, 1, 2
LOG_OF_ZERO = -1e300  # finite stand-in for log(0): sums stay defined and exp() of them is exactly 0
PRECISION = 1e-10  # bound on a posterior's rounding error before a case is recomputed stably
QUICKSCORE_MAX_POSITIVES = 6  # beyond this, cancellation is near certain: eliminate directly
TIGHT_MAX_POSITIVES = 3  # the same below `PRECISION` (the presenting complaint's two sums ask 2 / leak more)
ENUMERATE_MAX_CAUSES = 12  # linked causes beyond this are left to elimination
ENUMERATE_MAX_TERMS = 2**20  # context configurations times cause configurations, per case
EXPAND_MAX_ROWS = 64  # cases with more unknown-context configurations are summed by broadcasting
WORK_BUDGET = 4_000_000  # elements of the largest working array, which sets the chunk size
TABULATE_LIMIT = 10_000_000  # elements of the per-context tables of P(context) and P(cause | context)
CONTRACTIONS_KEPT = 4096  # compiled sums kept, one per pattern of positive findings and known context
EPSILON = np.finfo(float).eps


def safe_log(values: np.ndarray) -> np.ndarray:
    """Return log(values), with `LOG_OF_ZERO` for zeros: a certain link keeps its terms at exactly 0.

    Examples
    --------
    >>> np.exp(safe_log(np.array([0.0, 1.0]))).tolist()
    [0.0, 1.0]
    """
    with np.errstate(divide="ignore"):
        return np.where(values > 0, np.log(values), LOG_OF_ZERO)


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


@dataclass(frozen=True)
class Explained:
    """Posteriors and what explains the presenting finding, from `QuickscoreEngine.explained`.

    Attributes
    ----------
    joint : numpy.ndarray
        P(query, evidence), shape ``(draws, cases, queries)``.
    posteriors : numpy.ndarray
        P(query | evidence), the same shape; NaN where the evidence is impossible.
    explains : numpy.ndarray
        P(cause present and its link produced the presenting finding | evidence), shape
        ``(draws, cases, causes)``; NaN for a case that does not present.
    unexplained : numpy.ndarray
        P(no modelled cause produced it | evidence), shape ``(draws, cases)``; NaN likewise.
    presenting : numpy.ndarray
        Shape ``(cases,)``: whether each case answered the presenting finding "yes".
    """

    joint: np.ndarray
    posteriors: np.ndarray
    explains: np.ndarray
    unexplained: np.ndarray
    presenting: np.ndarray


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
    presenting : str, optional
        The presenting finding (bleeding after sex), linked to every cause. A "yes" to it is never
        handed to inclusion-exclusion or the stable paths: P(query, E, yes) = P(query, E without
        it) - P(query, E, no), two sums in which it is unknown or negative, so it costs a factor of
        two whatever the other answers, and the same two sums give what explains it (`explained`).

    Examples
    --------
    >>> from model import build_model
    >>> engine = build_model().fast
    >>> cases = engine.encode([{"age_band": "25_34"}], [{"test_chlamydia": True}])
    >>> post = engine.posteriors(cases)
    >>> round(float(post[0, 0, engine.queries.index("chlamydia")]), 2)
    0.68
    """

    def __init__(
        self, tables: NetworkTables, context_states: Mapping[str, Sequence[str]], causes: Sequence[str],
        serious: Sequence[str], presenting: str | None = None,
    ) -> None:  # fmt: skip
        self.tables = tables
        self.presenting = presenting
        self.context_states = {v: tuple(s) for v, s in context_states.items()}
        self.context = tuple(tables.context_parent)
        self.causes = tuple(causes)
        self.findings = tables.findings
        self.queries = standard_queries(self.causes, serious)
        self._log_q = safe_log(tables.cause_inhibitor)
        self._log_base = np.log1p(-tables.finding_leak)
        self._log_context_q = {v: safe_log(a) for v, a in tables.context_inhibitor.items()}
        self._cause_vars = {c: tables.cause_parents[c] for c in self.causes}
        self._linked = tables.cause_inhibitor != 1.0  # (draws, causes, findings)
        self._links = self._linked.any(axis=0).T.astype(float)  # (findings, causes): 1 where linked
        self._sizes = np.array([len(self.context_states[v]) for v in self.context])
        self._tabulated: tuple[np.ndarray, np.ndarray] | None = None  # filled on first use
        self._contractions: dict[tuple, Contraction] = {}  # compiled sums, by factor scopes and shapes

    # -- encoding -------------------------------------------------------------------------------

    def encode(
        self, contexts: Sequence[Mapping[str, str]], findings: Sequence[Mapping[str, bool]]
    ) -> EncodedCases:
        """Turn cases (context id to state, finding id to True or False) into indices; absent is unknown."""
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

    def joint(
        self, cases: EncodedCases, queries: Queries | None = None, precision: float | None = None
    ) -> np.ndarray:
        """Return P(query event and evidence), shape ``(draws, cases, queries)``.

        The first query must be ``evidence`` (nothing clamped). ``precision`` (default `PRECISION`)
        is the rounding bound a posterior must meet; a Monte Carlo summary, precise to far less
        anyway, may relax it. A "yes" to the presenting finding is taken as the difference of two
        sums (see the class docstring).
        """
        unknown, negative, _ = self._split_presenting(cases, queries, precision)
        return unknown - negative

    def explained(
        self, cases: EncodedCases, queries: Queries | None = None, precision: float | None = None
    ) -> Explained:
        """Return the posteriors and, for cases that present, what explains the presentation.

        ``queries`` (default: the standard ones) must begin with the standard queries, so that each
        cause's own query is where `standard_queries` puts it.

        With the presenting finding F a noisy-OR of every cause, let L_c be "cause c is present and
        its link fired" (probability a_c = 1 - inhibitor when c is present). L_c makes F yes
        whatever else happens and is independent of every other finding given c, so

        P(L_c, E) = a_c P(c present, E without F),

        and F = yes with no link fired means the leak fired while every link stayed silent:

        P(no cause explains F, E) = leak / (1 - leak) P(E without F, F = no).

        Both right-hand sides are the two sums that `joint` already takes for a "yes" to F, so
        this costs nothing more. Rows that do not answer F "yes" get NaN in ``explains`` and
        ``unexplained``.
        """
        unknown, negative, presenting = self._split_presenting(cases, queries, precision)
        joint = unknown - negative
        evidence = joint[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            posteriors = np.where(evidence[..., None] > 0, joint / evidence[..., None], np.nan)
        draws, n = evidence.shape
        explains = np.full((draws, n, len(self.causes)), np.nan)
        unexplained = np.full((draws, n), np.nan)
        if presenting.any():
            j = self.findings.index(self.presenting)
            activation = 1.0 - self.tables.cause_inhibitor[:, :, j]  # (draws, causes)
            leak = self.tables.finding_leak[:, j][:, None]
            cause_columns = [self.queries.index(c) for c in self.causes]
            with np.errstate(divide="ignore", invalid="ignore"):
                denominator = np.where(evidence > 0, evidence, np.nan)[:, presenting]
                explains[:, presenting] = (
                    activation[:, None, :]
                    * unknown[:, presenting][..., cause_columns]
                    / denominator[..., None]
                )
                unexplained[:, presenting] = leak / (1 - leak) * negative[:, presenting, 0] / denominator
        return Explained(joint, posteriors, explains, unexplained, presenting)

    def _split_presenting(
        self, cases: EncodedCases, queries: Queries | None, precision: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return P(query, E with the presenting "yes" made unknown), P(query, E, no) and who said yes.

        For a case that does not answer the presenting finding "yes" the first array is simply
        P(query, E) and the second is zero.
        """
        n = len(cases)
        presenting = np.zeros(n, dtype=bool)
        if self.presenting is not None:
            presenting = cases.findings[:, self.findings.index(self.presenting)] == 1
        if not presenting.any():
            result = self._joint(cases, queries, precision)
            return result, np.zeros_like(result), presenting
        j = self.findings.index(self.presenting)
        unknown = cases.findings.copy()
        unknown[presenting, j] = -1
        negative = cases.findings[presenting].copy()
        negative[:, j] = 0
        # P(yes | rest) is at least the leak, so the difference of the two sums loses at most a
        # factor 2 / leak of their relative precision: ask that much more of each.
        tighter = (
            (PRECISION if precision is None else precision) * float(self.tables.finding_leak[:, j].min()) / 2
        )
        both = self._joint(
            EncodedCases(
                np.concatenate([cases.context, cases.context[presenting]]),
                np.concatenate([unknown, negative]),
            ),
            queries,
            tighter,
        )
        second = np.zeros_like(both[:, :n])
        second[:, presenting] = both[:, n:]
        return both[:, :n], second, presenting

    def _joint(
        self, cases: EncodedCases, queries: Queries | None = None, precision: float | None = None
    ) -> np.ndarray:
        """Return P(query event and evidence) for cases without a "yes" to the presenting finding.

        A case with few unknown-context configurations is expanded into one row per configuration,
        with every context known; one with many is summed over them by broadcasting. Rows are
        grouped by how many findings are positive and computed in chunks that keep the working
        arrays within `WORK_BUDGET`, then summed back per case. Cases whose Quickscore rounding bound
        fails are recomputed by enumerating the causes linked to their positive findings, or by
        elimination where those are many or the context is wide. The first query must be
        ``evidence`` (nothing clamped). ``precision`` (default `PRECISION`) is the rounding bound a
        posterior must meet; a Monte Carlo summary, precise to far less anyway, may relax it.
        """
        precision = PRECISION if precision is None else precision
        clamp = (queries or self.queries).clamp
        draws = self.tables.draws
        widths = np.where(cases.context >= 0, 1, self._sizes).prod(axis=1)
        positives = (cases.findings == 1).sum(axis=1)
        per_row = max(len(clamp), len(self.causes))
        largest = int(widths.max(initial=1)) * 2 ** int(positives.min(initial=0)) * per_row
        if draws > 1 and draws * largest > WORK_BUDGET:  # many draws of a case: a few draws at a time
            step = max(1, WORK_BUDGET // largest)
            parts = [
                self._draws(slice(d, d + step))._joint(cases, queries, precision)
                for d in range(0, draws, step)
            ]
            return np.concatenate(parts)
        result = np.zeros((draws, len(cases), len(clamp)))
        size = np.zeros_like(result)
        narrow = widths <= EXPAND_MAX_ROWS
        linked = ((cases.findings == 1).astype(float) @ self._links) > 0  # (cases, causes)
        limit = TIGHT_MAX_POSITIVES if precision < PRECISION else QUICKSCORE_MAX_POSITIVES
        direct = positives > limit  # inclusion-exclusion would surely cancel
        for m in np.unique(positives[narrow & ~direct]):
            members = np.flatnonzero(narrow & ~direct & (positives == m))
            budget = max(1, WORK_BUDGET // ((2**m) * per_row * draws))  # expanded rows per chunk
            for chunk, rows in self._chunks(members, widths[members], budget):
                context, counts = self._expand(cases.context[chunk], rows)
                owner = np.repeat(np.arange(len(chunk)), counts)
                joint, magnitude = self._quickscore(context, owner, cases.findings[chunk], clamp)
                starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
                result[:, chunk] += np.add.reduceat(joint, starts, axis=1)
                size[:, chunk] += np.add.reduceat(magnitude, starts, axis=1)
        wide: dict[tuple, list[int]] = defaultdict(list)
        for n in np.flatnonzero(~narrow & ~direct):
            wide[(tuple(cases.context[n] >= 0), int(positives[n]))].append(n)
        for (known, m), members in wide.items():
            known = np.array(known, dtype=bool)
            step = max(1, WORK_BUDGET // ((2**m) * max(self._width(known), per_row) * draws))
            for start in range(0, len(members), step):
                chunk = np.array(members[start : start + step])
                result[:, chunk], size[:, chunk] = self._quickscore_wide(
                    cases.context[chunk], cases.findings[chunk], known, clamp
                )
        evidence, evidence_size = result[..., :1], size[..., :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            subsets = (2.0**positives)[None, :, None]
            bound = subsets * EPSILON * (size + np.abs(result / evidence) * evidence_size) / np.abs(evidence)
        stable = np.all((bound <= precision) | (evidence_size == 0), axis=(0, 2))
        by_linked: dict[tuple, list[int]] = defaultdict(list)
        for n in np.flatnonzero(~stable | direct):
            by_linked[tuple(np.flatnonzero(linked[n]))].append(n)
        eliminate: dict[tuple, list[int]] = defaultdict(list)
        for linked, members in by_linked.items():
            members = np.array(members)
            affordable = widths[members] * 2 ** len(linked) <= ENUMERATE_MAX_TERMS
            if len(linked) <= ENUMERATE_MAX_CAUSES:
                budget = max(1, WORK_BUDGET // ((2 ** len(linked)) * per_row * draws))
                chosen = members[affordable]
                result[:, chosen] = 0.0  # a wide case comes in several row blocks, summed below
                for chunk, rows in self._chunks(chosen, widths[chosen], budget):
                    context, counts = self._expand(cases.context[chunk], rows)
                    owner = np.repeat(np.arange(len(chunk)), counts)
                    joint = self._enumerate(
                        context, owner, cases.findings[chunk], np.array(linked, dtype=int), clamp
                    )
                    result[:, chunk] += np.add.reduceat(
                        joint, np.concatenate([[0], np.cumsum(counts)[:-1]]), axis=1
                    )
                members = members[~affordable]
            for n in members:
                key = (tuple(cases.context[n] >= 0), tuple(np.flatnonzero(cases.findings[n] == 1)))
                eliminate[key].append(n)
        for (known, _), members in eliminate.items():
            known = np.array(known, dtype=bool)
            step = max(1, WORK_BUDGET // (self._width(known) * draws))
            for start in range(0, len(members), step):
                chunk = np.array(members[start : start + step])
                result[:, chunk] = self._eliminate(cases.context[chunk], cases.findings[chunk], known, clamp)
        return result

    def _chunks(self, members: np.ndarray, widths: np.ndarray, budget: int):
        """Yield (cases, row range) blocks of at most ``budget`` expanded rows; a wide case is split."""
        start = 0
        while start < len(members):
            if widths[start] >= budget:
                for first in range(0, int(widths[start]), budget):
                    yield members[start : start + 1], (first, min(first + budget, int(widths[start])))
                start += 1
                continue
            stop = start + max(1, int(np.searchsorted(np.cumsum(widths[start:]), budget, side="right")))
            yield members[start:stop], None
            start = stop

    def _expand(self, context: np.ndarray, rows: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
        """Expand cases into one row per configuration of their unknown context; ``rows`` slices one case.

        Returns the rows, case after case, and how many rows each case has.
        """
        unknown = context < 0
        codes = unknown @ (1 << np.arange(unknown.shape[1]))  # one integer per pattern of unknowns
        patterns, which = np.unique(codes, return_inverse=True)
        patterns = (patterns[:, None] >> np.arange(unknown.shape[1])) & 1
        blocks = [None] * len(context)
        counts = np.zeros(len(context), dtype=np.int64)
        for p, pattern in enumerate(patterns):
            free = np.flatnonzero(pattern)
            sizes = [len(self.context_states[self.context[i]]) for i in free]
            grid = (
                np.indices(sizes).reshape(len(free), -1).T if len(free) else np.zeros((1, 0), dtype=np.int64)
            )
            if rows is not None:
                grid = grid[rows[0] : rows[1]]
            members = np.flatnonzero(which == p)
            block = np.repeat(context[members], len(grid), axis=0)
            block[:, free] = np.tile(grid, (len(members), 1))
            for i, n in enumerate(members):
                blocks[n] = block[i * len(grid) : (i + 1) * len(grid)]
            counts[members] = len(grid)
        return np.concatenate(blocks), counts

    def _draws(self, draws: slice) -> QuickscoreEngine:
        """Return the engine restricted to some draws of its tables."""
        tables = self.tables
        sliced = NetworkTables(
            len(range(tables.draws)[draws]), tables.context_parent,
            {v: a[draws] for v, a in tables.context_cpd.items()}, tables.cause_parents,
            {c: a[draws] for c, a in tables.cause_present.items()}, tables.findings,
            tables.finding_leak[draws], tables.cause_inhibitor[draws],
            {v: a[draws] for v, a in tables.context_inhibitor.items()},
        )  # fmt: skip
        serious = [self.causes[i] for i in np.flatnonzero(self.queries.clamp[-1] == ABSENT)]
        return QuickscoreEngine(sliced, self.context_states, self.causes, serious, self.presenting)

    def posteriors(
        self, cases: EncodedCases, queries: Queries | None = None, precision: float | None = None
    ) -> np.ndarray:
        """Return P(query event | evidence), shape ``(draws, cases, queries)``; NaN where P(evidence) = 0."""
        joint = self.joint(cases, queries, precision)
        evidence = joint[..., :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(evidence > 0, joint / evidence, np.nan)

    # -- the two formulations -------------------------------------------------------------------

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
        for var, logs in self._log_context_q.items():
            at_state = logs[:, :, context[:, self.context.index(var)]].transpose(
                0, 2, 1
            )  # (draws, rows, findings)
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
        if other.any():  # several causes clamped: products of ratios, through their logs
            masks = [(clamp[other] == state).T.astype(float) for state in (PRESENT, ABSENT)]
            ratios = (present, absent)
            log_ratio = sum(safe_log(r) @ mask for r, mask in zip(ratios, masks, strict=True))
            zero = sum((r == 0) @ mask for r, mask in zip(ratios, masks, strict=True)) > 0
            terms[..., other] = np.where(zero, 0.0, weight[..., None] * np.exp(log_ratio))
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
            weight = weight * free[c]
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
            term = weight
            for c in clamped:
                target = present[c] if row[c] == PRESENT else absent[c]
                with np.errstate(divide="ignore", invalid="ignore"):
                    term = term * np.where(free[c] > 0, target / free[c], 0.0)
            terms[..., k] = term.sum(axis=axes)
        return np.einsum("s,dnsk->dnk", sign, terms), np.abs(terms).sum(axis=2)

    def _context_terms(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return P(context) and P(each cause present | context) for rows with every context known.

        For one draw (or a few) both are tabulated once over every context configuration, so a
        row costs one lookup; for many draws they are computed per row.
        """
        sizes = [len(self.context_states[v]) for v in self.context]
        if (
            self._tabulated is None
            and self.tables.draws * int(np.prod(sizes)) * len(self.causes) <= TABULATE_LIMIT
        ):
            grid = np.indices(sizes).reshape(len(sizes), -1).T
            self._tabulated = self._compute_context_terms(grid)
        if self._tabulated is not None:
            flat = np.ravel_multi_index(tuple(context.T), sizes)
            return self._tabulated[0][:, flat], self._tabulated[1][:, flat]
        return self._compute_context_terms(context)

    def _compute_context_terms(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prior = np.ones((self.tables.draws, len(context)))
        for var, parent in self.tables.context_parent.items():
            cpd = self.tables.context_cpd[var]
            column = context[:, self.context.index(parent)] if parent else 0
            prior = prior * cpd[:, context[:, self.context.index(var)], column]
        return prior, np.stack([self._at_context(c, context) for c in self.causes], axis=-1)

    def _at_context(self, cause: str, context: np.ndarray) -> np.ndarray:
        """Return P(cause present) at each row's context, shape (draws, rows)."""
        index = tuple(context[:, self.context.index(v)] for v in self._cause_vars[cause])
        table = self.tables.cause_present[cause]
        return table[(slice(None), *index)] if index else np.repeat(table[:, None], len(context), axis=1)

    def _enumerate(
        self,
        context: np.ndarray,
        owner: np.ndarray,
        findings: np.ndarray,
        linked: np.ndarray,
        clamp: np.ndarray,
    ) -> np.ndarray:
        """Sum over the states of the causes linked to the positive findings, for rows with known context.

        Every term is positive, so the result is exact to rounding whatever the number of positive
        findings; the cost is exponential in the number of linked causes instead. Row r belongs to
        case ``owner[r]``; the cases' positive findings must all link to exactly ``linked``.
        """
        configs = ((np.arange(2 ** len(linked))[:, None] >> np.arange(len(linked))) & 1).astype(float)
        negatives = (findings == 0).astype(float)
        log_t = np.einsum("nf,dcf->dnc", negatives, self._log_q)[:, owner]  # (draws, rows, causes)
        log_base = np.einsum("nf,df->dn", negatives, self._log_base)[:, owner]
        log_yes_base = np.broadcast_to(self._log_base[:, None, :], (*log_base.shape, len(self.findings)))
        for var, logs in self._log_context_q.items():
            at_state = logs[:, :, context[:, self.context.index(var)]].transpose(
                0, 2, 1
            )  # (draws, rows, findings)
            log_base = log_base + np.einsum("rf,drf->dr", negatives[owner], at_state)
            log_yes_base = log_yes_base + at_state
        prior, p = self._context_terms(context)
        t = np.exp(log_t)
        free = 1 - p + p * t
        others = np.ones(len(self.causes), dtype=bool)
        others[linked] = False
        weight = prior * np.exp(log_base) * free[..., others].prod(axis=-1)  # (draws, rows)
        on, off = p[..., linked] * t[..., linked], 1 - p[..., linked]
        log_on, log_off = safe_log(on), safe_log(off)
        log_config = np.einsum("ck,drk->drc", configs, log_on - log_off) + log_off.sum(axis=-1)[..., None]
        terms = weight[..., None] * np.exp(log_config)  # (draws, rows, configs)
        if (on == 0).any() or (off == 0).any():  # a cause of probability 0 (or 1): exact zeros
            impossible = np.einsum("ck,drk->drc", configs, (on == 0).astype(float)) + np.einsum(
                "ck,drk->drc", 1 - configs, (off == 0).astype(float)
            )
            terms = np.where(impossible > 0, 0.0, terms)
        positive_rows = findings[owner] == 1  # cases may differ in which positive findings they have
        for j in np.flatnonzero(positive_rows.any(axis=0)):
            inhibition = np.exp(configs @ self._log_q[:, linked, j].T).T  # (draws, configs)
            yes = 1 - np.exp(log_yes_base[:, :, j])[..., None] * inhibition[:, None, :]
            every = positive_rows[:, j].all()
            terms = terms * (yes if every else np.where(positive_rows[None, :, j, None], yes, 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            present = np.where(free > 0, p * t / free, 0.0)
            absent = np.where(free > 0, (1 - p) / free, 0.0)
        # Every query at once. Configuration i has linked cause b present iff bit b of i is set: a
        # query keeps the configurations that agree with its clamps, and scales by the other causes'.
        bits = 1 << np.arange(len(linked))
        wanted_on, wanted_off = (clamp[:, linked] == PRESENT) @ bits, (clamp[:, linked] == ABSENT) @ bits
        index = np.arange(len(configs))[:, None]
        consistent = ((index & wanted_on) == wanted_on) & ((index & wanted_off) == 0)  # (configs, queries)
        rest = clamp[:, others]  # (queries, other causes)
        factor = np.where(
            rest == PRESENT,
            present[..., None, others],
            np.where(rest == ABSENT, absent[..., None, others], 1.0),
        ).prod(axis=-1)  # (draws, rows, queries)
        # einsum, not @: BLAS threads on a matrix this size cost more than they save on a shared machine
        return np.einsum("drc,cq->drq", terms, consistent.astype(float)) * factor

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
            return place(*self._slice(table, variables, context, known, per_case, len(causes)), causes)

        def place(values: np.ndarray, kept: Sequence[str], causes: str = "") -> int:
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
            p, kept = self._slice(self.tables.cause_present[cause], self._cause_vars[cause], context, known)
            g = p * t[:, :, c].reshape(draws, cases, *(1,) * len(kept))
            h, zero = 1 - p, np.zeros_like(p)
            if c in cause_letter:
                choices = [np.stack(pair, axis=2) for pair in ((h, g), (zero, g), (h, zero))]
            else:
                choices = [h + g, g, h]
            indices = [place(x, kept, cause_letter.get(c, "")) for x in choices]
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
        key = (tuple(scopes), tuple(operand.shape for operand in merged))
        if key not in self._contractions:  # finding an order costs more than contracting along it
            if len(self._contractions) >= CONTRACTIONS_KEPT:
                self._contractions.clear()
            self._contractions[key] = Contraction(scopes, [m.shape for m in merged], "Z")
        contraction = self._contractions[key]
        # Queries that clamp one cause scale one factor: read them off the derivatives of P(evidence).
        evidence, gradients = contraction.evaluate(merged, derivatives=True)
        result = np.empty((draws * cases, len(clamp)))
        for k, row in enumerate(clamp):
            clamped, touched = list(merged), set()
            for c in np.flatnonzero(row):
                free, target = operands[position[c]], swaps[c][row[c]]
                scope = scopes.index(subscripts[position[c]])
                with np.errstate(divide="ignore", invalid="ignore"):
                    clamped[scope] = clamped[scope] * np.where(free > 0, target / free, 0.0)
                touched.add(scope)
            if not touched:
                result[:, k] = evidence
            elif len(touched) == 1:
                (scope,) = touched
                result[:, k] = (gradients[scope] * clamped[scope]).reshape(draws * cases, -1).sum(axis=1)
            else:
                result[:, k] = contraction.evaluate(clamped)[0]
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
