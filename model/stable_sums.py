"""The fast engine's stable sums: every term positive, so exact to rounding at any number of positives.

Where inclusion-exclusion would cancel (`model.inclusion_exclusion`), P(query, E) is summed
directly over the states of the causes linked to the positive findings; the other causes, which no
positive finding couples, keep their closed form 1 - p_c + p_c t_c.

- *Enumeration* (`_enumerate`, up to a dozen linked causes, known context per row): each of the
  2^L configurations x of the linked causes has probability prod_c p_c^x_c (1 - p_c)^(1 - x_c)
  (with negatives absorbed), and each positive finding contributes 1 - b_f prod_c q_cf^x_c. A query
  keeps the configurations that agree with its clamps; every query is one product with a 0/1 matrix.
- *Elimination* (`_eliminate`, more linked causes or wide unknown context): the same sum as an
  einsum over factors (context tables, each cause's two states, each positive finding over its
  linked causes and context parents), contracted in a compiled order (`model.contraction`). A query
  that clamps one cause scales that cause's factor, so it is read off the derivative of the one
  contraction; only the queries clamping several causes are contracted again.

`StableSums` is a part of `QuickscoreEngine`, reading its tables and the context part.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.contraction import Contraction
from model.network import AXES
from model.query import ABSENT, FREE, PRESENT, clamped_product, safe_log

CONTRACTIONS_KEPT = 4096  # compiled sums kept, one per pattern of positive findings and known context


class StableSums:
    """Sums of positive terms over the causes linked to the positive findings."""

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
        at_state = self._context_log_inhibitors(context)  # (draws, rows, findings)
        log_base = log_base + np.einsum("rf,drf->dr", negatives[owner], at_state)
        log_yes_base = self._log_base[:, None, :] + at_state
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
        factor = clamped_product(
            present[..., others], absent[..., others], clamp[:, others]
        )  # (draws, rows, queries)
        # A query that clamps no linked cause keeps every configuration. einsum, not @: BLAS threads
        # on a matrix this size cost more than they save on a shared machine.
        touches = (clamp[:, linked] != FREE).any(axis=1)
        sums = np.repeat(terms.sum(axis=-1, keepdims=True), len(clamp), axis=-1)
        sums[..., touches] = np.einsum("drc,cq->drq", terms, consistent[:, touches].astype(float))
        return sums * factor

    def _eliminate(
        self, context: np.ndarray, findings: np.ndarray, known: np.ndarray, clamp: np.ndarray
    ) -> np.ndarray:
        """Sum out the causes linked to the positive findings, and the unknown context, by elimination.

        Every term is positive, so the result is exact to rounding whatever the number of positive
        findings. The cases must share their positive findings and which context is known; the sum
        is a `model.contraction.Contraction` compiled once per pattern, and the one-cause queries
        are read off its derivatives.
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
        contraction = self._contractions.get(key)
        if contraction is None:  # finding an order costs more than contracting along it
            if len(self._contractions) >= CONTRACTIONS_KEPT:
                self._contractions.clear()
            contraction = self._contractions[key] = Contraction(scopes, [m.shape for m in merged], "Z")
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
