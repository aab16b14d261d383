"""Value of information: which unanswered finding would most reduce the uncertainty about the causes.

For each unanswered finding the fast engine computes the probability of each answer and the
posteriors after it, all in one batch (the "yes" branch as the current joint probability minus
the "no" branch, so every row shares the case's positive findings; precise to about 1e-10 divided
by the chance of a yes, ample for ranking and display). Two measures of uncertainty, in bits:

- ``differential`` (the default): the sum over causes of the binary entropy of P(cause present).
  The causes are not mutually exclusive (a woman can have an ectropion and chlamydia), so the
  differential is a set of yes/no questions, not one distribution; this sums their uncertainty.
- ``serious``: the binary entropy of P(at least one serious cause is present).

A finding's value is the expected reduction: uncertainty now minus the uncertainty expected after
its answer, weighted by how likely each answer is. It is never negative. It ranks questions; it
does not replace the red flags, which are always asked about whatever their value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.case import Case, contradictions
from model.inference import DiagnosticModel, check_possible, encode_evidence
from model.quickscore import EVIDENCE, NONE_SERIOUS

TARGETS = ("differential", "serious")


@dataclass(frozen=True)
class QuestionValue:
    """One unanswered finding, what each answer would do, and its expected value.

    Attributes
    ----------
    finding : str
        The finding id.
    probability_yes : float
        P(answer is yes | what is known).
    expected_gain : float
        Expected reduction in uncertainty, in bits.
    if_yes, if_no : Mapping[str, float]
        Each cause's posterior after that answer.
    serious_if_yes, serious_if_no : float
        P(at least one serious cause) after that answer.
    """

    finding: str
    probability_yes: float
    expected_gain: float
    if_yes: Mapping[str, float]
    if_no: Mapping[str, float]
    serious_if_yes: float
    serious_if_no: float


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """Return the entropy in bits of a yes/no event of probability ``p``, elementwise.

    Examples
    --------
    >>> binary_entropy(np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


def _uncertainty(rows: np.ndarray, causes: list[int], serious: int, target: str) -> np.ndarray:
    if target == "serious":
        return binary_entropy(1 - rows[:, serious])
    return binary_entropy(rows[:, causes]).sum(axis=1)


def next_questions(
    model: DiagnosticModel, case: Case | Mapping[str, Any], target: str = "differential"
) -> list[QuestionValue]:
    """Rank every unanswered finding by its expected reduction in uncertainty, highest first.

    Parameters
    ----------
    model : DiagnosticModel
    case : Case or Mapping
        A parsed case or raw case data.
    target : {"differential", "serious"}
        What uncertainty to reduce (see the module docstring).

    Returns
    -------
    list of QuestionValue
        Findings that cannot change anything come last, with 0. A finding whose "yes" would be an
        impossible combination with the case (heavy periods after the menopause) is not ranked: its
        answer is already known.

    Examples
    --------
    >>> from model import build_model
    >>> ranked = next_questions(build_model(), {"context": {"age_band": "25_34"}})
    >>> ranked[0].expected_gain >= ranked[-1].expected_gain >= 0
    True
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    case = model.parse(case)
    evidence = case.evidence()
    vocabulary = model.knowledge.vocabulary
    already = len(contradictions(case, vocabulary))
    candidates = [
        f
        for f in vocabulary.findings
        if f not in case.findings
        and len(contradictions(Case(case.context, {**case.findings, f: True}), vocabulary)) == already
    ]
    # Only the "no" branches are computed: P(c, e, yes) = P(c, e) - P(c, e, no). Every row then has
    # the same positive findings as the case, so the whole ranking is one batch for the engine.
    queries = model.fast.queries
    now_and_no = model.fast.joint(
        encode_evidence(model, [evidence] + [{**evidence, f: "no"} for f in candidates])
    )[0]
    if not now_and_no[0, 0] > 0:
        check_possible(model, case)  # names the answer that made the case impossible
    no = now_and_no[1:]
    yes = np.maximum(now_and_no[:1] - no, 0.0)
    joint = np.stack([yes, no], axis=1).reshape(-1, no.shape[1])  # yes, no, yes, no, ...
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = np.concatenate([now_and_no[:1], joint]) / np.concatenate([now_and_no[:1, :1], joint[:, :1]])
        rows = np.clip(rows, 0.0, 1.0)
    names = list(model.knowledge.vocabulary.causes)
    causes = [queries.index(c) for c in names]
    serious = queries.index(NONE_SERIOUS)
    now = _uncertainty(rows[:1], causes, serious, target)[0]
    after = _uncertainty(np.nan_to_num(rows[1:]), causes, serious, target).reshape(-1, 2)
    answered = joint[:, queries.index(EVIDENCE)].reshape(-1, 2)
    total = answered.sum(axis=1, keepdims=True)
    weights = np.divide(answered, total, out=np.zeros_like(answered), where=total > 0)
    gains = np.maximum(now - (weights * after).sum(axis=1), 0.0)
    values = []
    for i, finding in enumerate(candidates):
        yes, no = np.nan_to_num(rows[1 + 2 * i]), np.nan_to_num(rows[2 + 2 * i])
        values.append(
            QuestionValue(
                finding, float(weights[i, 0]), float(gains[i]),
                {c: float(yes[k]) for c, k in zip(names, causes, strict=True)},
                {c: float(no[k]) for c, k in zip(names, causes, strict=True)},
                float(1 - yes[serious]), float(1 - no[serious]),
            )
        )  # fmt: skip
    return sorted(values, key=lambda v: -v.expected_gain)
