"""The context part of the fast engine: tables indexed at the known context, the unknown summed over.

Each context variable is known for a case or summed over. Two ways serve the engine
(`model.quickscore`): a case with few unknown configurations is *expanded* into one row per
configuration, with every context variable known, and its rows' results summed back (exact: the
rows partition the unknown context, and P(E) is the sum over configurations x of P(x, E)); a case
with many is summed *by broadcasting*, each table laid out over the unknown variables it depends on
(`_place`), so a cause's factor is computed once over its own parents. P(context) and P(cause |
context) are tabulated once over every configuration when that is small enough, so a known row
costs one lookup.

`ContextSum` is a part of `QuickscoreEngine`: it reads the engine's ``tables``, ``context``,
``context_states``, ``causes``, ``_cause_vars`` and the stacked log inhibitors of the context, and
fills ``_tabulated`` on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.network import NetworkTables

TABULATE_LIMIT = 10_000_000  # elements of the per-context tables of P(context) and P(cause | context)


class ContextSum:
    """Index the network's tables at each case's known context; expand or lay out the unknown."""

    tables: NetworkTables
    context: tuple[str, ...]
    context_states: dict[str, tuple[str, ...]]
    causes: tuple[str, ...]
    _cause_vars: dict[str, tuple[str, ...]]
    _tabulated: tuple[np.ndarray, np.ndarray] | None
    _log_context_stacked: np.ndarray
    _context_columns: list[int]
    _context_offsets: np.ndarray

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

    def _context_log_inhibitors(self, context: np.ndarray) -> np.ndarray:
        """Return sum over context variables of log(inhibitor of each finding at the row's state).

        For rows with every context known; shape ``(draws, rows, findings)``. A context state that
        is a noisy-OR parent of a finding (a pregnancy state of a pregnancy test) multiplies
        P(finding = no) by its inhibitor, so the logs add. One gather serves every variable:
        `_log_context_stacked` holds their tables end to end, after a column of zeros.
        """
        index = context[:, self._context_columns] + self._context_offsets  # (rows, variables)
        return self._log_context_stacked[:, :, index].sum(axis=-1).transpose(0, 2, 1)

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
