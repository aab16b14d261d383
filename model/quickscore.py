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
A case with more positive findings than inclusion-exclusion can afford goes there directly.

This module encodes cases, splits off the presenting complaint and sends each case down one path;
each path is a part with its own module and derivation: `model.context_sum` (known context
indexed, unknown context expanded or broadcast), `model.inclusion_exclusion` (Quickscore and its
rounding bound), `model.stable_sums` (enumeration and elimination, on `model.contraction`), with
the queries in `model.query`.

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

from model.context_sum import ContextSum
from model.contraction import Contraction
from model.inclusion_exclusion import InclusionExclusion, rounding_bound
from model.network import NetworkTables
from model.query import (
    ABSENT,
    EVIDENCE,
    FREE,
    LOG_OF_ZERO,
    NONE,
    NONE_SERIOUS,
    PRESENT,
    Queries,
    safe_log,
    standard_queries,
)
from model.stable_sums import StableSums

__all__ = [
    "ABSENT", "EVIDENCE", "FREE", "LOG_OF_ZERO", "NONE", "NONE_SERIOUS", "PRESENT", "EncodedCases",
    "Explained", "Queries", "QuickscoreEngine", "safe_log", "standard_queries",
]  # fmt: skip
PRECISION = 1e-10  # bound on a posterior's rounding error before a case is recomputed stably
QUICKSCORE_MAX_POSITIVES = 6  # beyond this, cancellation is near certain: eliminate directly
TIGHT_MAX_POSITIVES = 3  # the same below `PRECISION` (the presenting complaint's two sums ask 2 / leak more)
ENUMERATE_MAX_CAUSES = 12  # linked causes beyond this are left to elimination
# Context configurations times cause configurations, summed over the cases that share a pattern of
# positive findings and known context: beyond it, one compiled elimination for them all is cheaper
# (measured: a case with 5 positives and 72 context rows, 18,432 terms, enumerates in 1.7 ms against
# 3 ms; a next-question ranking with 3 positives and 720 rows, 414,720 terms, 200 ms against 43 ms).
ENUMERATE_MAX_TERMS = 2**16
EXPAND_MAX_ROWS = 64  # cases with more unknown-context configurations are summed by broadcasting
WORK_BUDGET = 4_000_000  # elements of the largest working array, which sets the chunk size


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


class QuickscoreEngine(ContextSum, InclusionExclusion, StableSums):
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
        # the same, end to end over every state of every such variable, to gather in one step
        self._log_context_stacked = np.concatenate(
            [np.zeros((tables.draws, len(self.findings), 1)), *self._log_context_q.values()], axis=2
        )
        self._context_columns = [self.context.index(v) for v in self._log_context_q]
        self._context_offsets = 1 + np.cumsum([0, *(a.shape[2] for a in self._log_context_q.values())])[:-1]
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
        elimination where those are many, the context is wide, or many cases share one pattern (the
        next-question ranking asks about every finding with the same positives). The first query must be
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
        bound = rounding_bound(result, size, positives)
        stable = np.all((bound <= precision) | (size[..., :1] == 0), axis=(0, 2))
        by_linked: dict[tuple, list[int]] = defaultdict(list)
        pattern = {}  # one compiled elimination serves every case of a pattern
        for n in np.flatnonzero(~stable | direct):
            by_linked[tuple(np.flatnonzero(linked[n]))].append(n)
            pattern[n] = (tuple(cases.context[n] >= 0), tuple(np.flatnonzero(cases.findings[n] == 1)))
        shared = defaultdict(int)  # enumeration terms of all the cases of a pattern
        for n, key in pattern.items():
            shared[key] += int(widths[n]) * 2 ** int(linked[n].sum())
        eliminate: dict[tuple, list[int]] = defaultdict(list)
        for linked, members in by_linked.items():
            members = np.array(members)
            affordable = np.array([shared[pattern[n]] <= ENUMERATE_MAX_TERMS for n in members], dtype=bool)
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
                eliminate[pattern[n]].append(n)
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
