"""A sum of products of tables (an einsum), compiled once per pattern and evaluated many times.

The fast engine's stable path (`model.quickscore`) sums the network's factors over the causes linked
to the positive findings and the unknown context. For one pattern of positive findings and known
context the factors' scopes are always the same, so everything but the numbers is worked out once
here: the order of the pairwise contractions (numpy's greedy search, the costliest part), the einsum
expression of each step, and the steps of the reverse pass that gives the derivative of the sum
with respect to every factor. Evaluating is then one small `numpy.einsum` per step, with no string
work, which matters: at this network's size the arithmetic of a step takes microseconds.

Derivatives. The sum S = sum over every index of prod_i F_i is linear in each factor F_i, which
appears once, so dS/dF_i is the same sum with F_i left out and its indices kept. Going back along
the steps: if a step made C from inputs A and B, then dS/dA = sum over the indices not in A of
dS/dC times B, and an index that only A had (summed away in this step) gets a constant derivative
along it. Scaling F_i elementwise by r then changes S to sum(dS/dF_i * F_i * r) without summing
again: how the engine reads every one-cause query off a single contraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Step:
    """One einsum: the ids of its inputs, its expression, the id it makes and its subscript."""

    taken: tuple[int, ...]
    expression: str
    made: int
    subscript: str
    # for the reverse pass, per input: its expression, the other inputs, and where its axes come from
    back: tuple[tuple[str, tuple[int, ...], tuple[int | None, ...]], ...]


class Contraction:
    """Sum out every index but ``output`` from a product of factors with fixed scopes.

    Parameters
    ----------
    subscripts : Sequence[str]
        One einsum subscript per factor, one letter per axis.
    shapes : Sequence[tuple[int, ...]]
        The factors' shapes, for the search of a good order.
    output : str
        The letters kept, e.g. the batch axis.

    Examples
    --------
    >>> a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> sum_ab = Contraction(["Zi", "Zi"], [a.shape, b.shape], "Z")
    >>> total, derivatives = sum_ab.evaluate([a, b], derivatives=True)
    >>> total.tolist(), derivatives[1].tolist()  # a*b summed over i; its derivative in b is a
    ([1.0, 7.0], [[1.0, 2.0], [3.0, 4.0]])
    """

    def __init__(self, subscripts: Sequence[str], shapes: Sequence[tuple[int, ...]], output: str) -> None:
        dummies = [np.empty(shape) for shape in shapes]  # einsum_path reads only the shapes
        path = np.einsum_path(",".join(subscripts) + "->" + output, *dummies, optimize="greedy")[0][1:]
        self.count = len(subscripts)
        ids, subs = list(range(self.count)), list(subscripts)
        steps: list[tuple[tuple[int, ...], tuple[str, ...], str, int]] = []
        for position in path:
            taken = [(ids.pop(i), subs.pop(i)) for i in sorted(position, reverse=True)]
            rest = "".join(subs) + output
            letters = "".join(dict.fromkeys("".join(sub for _, sub in taken)))
            keep = "".join(letter for letter in letters if letter in rest)
            made = self.count + len(steps)
            steps.append((tuple(i for i, _ in taken), tuple(sub for _, sub in taken), keep, made))
            ids.append(made)
            subs.append(keep)
        steps.append((tuple(ids), tuple(subs), output, -1))  # the last einsum gives the output
        self._steps = [self._compile(*step) for step in steps]

    @staticmethod
    def _compile(taken: tuple[int, ...], subs: tuple[str, ...], made_sub: str, made: int) -> _Step:
        back = []
        for n, sub in enumerate(subs):
            others = [k for k in range(len(subs)) if k != n]
            seen = set(made_sub).union(*(subs[k] for k in others))
            wanted = "".join(letter for letter in sub if letter in seen)
            expression = ",".join([made_sub, *(subs[k] for k in others)]) + "->" + wanted
            axes = tuple(wanted.index(letter) if letter in seen else None for letter in sub)
            back.append((expression, tuple(taken[k] for k in others), axes))
        return _Step(taken, ",".join(subs) + "->" + made_sub, made, made_sub, tuple(back))

    def evaluate(
        self, factors: Sequence[np.ndarray], derivatives: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Return the sum and, with ``derivatives``, its derivative by each factor (shaped like it).

        The derivative is of each output element by the factor's entries: for an output over a
        batch axis present in every factor, each batch element's own.
        """
        values = dict(enumerate(factors))
        for step in self._steps[:-1]:
            values[step.made] = np.einsum(step.expression, *(values[i] for i in step.taken))
        last = self._steps[-1]
        total = np.einsum(last.expression, *(values[i] for i in last.taken))
        if not derivatives:
            return total, None
        found = {-1: np.ones_like(total)}  # every factor and intermediate is used exactly once
        for step in reversed(self._steps):
            outer = found.pop(step.made)
            for i, (expression, others, axes) in zip(step.taken, step.back, strict=True):
                part = np.einsum(expression, outer, *(values[o] for o in others))
                shape = [1 if axis is None else part.shape[axis] for axis in axes]
                found[i] = np.broadcast_to(part.reshape(shape), values[i].shape)
        return total, [found[i] for i in range(self.count)]
