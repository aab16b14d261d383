"""Explain a posterior: how much each answer moved a cause, and how the differential and triage evolved.

For a chosen cause, the answers are added one at a time in the order they were given; each answer's
contribution is the change in the cause's log-odds it caused. The contributions add up exactly to
the move from the context-only prior to the posterior, so a waterfall of them is the whole story.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.case import Case
from model.inference import DiagnosticModel, diagnose, posteriors_given
from model.triage import Triage

LOGIT_LIMIT = 1e-12  # keeps log-odds finite for causes that are impossible or certain


def _logit(p: float) -> float:
    p = min(max(p, LOGIT_LIMIT), 1 - LOGIT_LIMIT)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Contribution:
    """One answer's effect on a cause, in the order the answers were added.

    Attributes
    ----------
    finding : str
        The finding id.
    answer : bool
        The answer given.
    before, after : float
        P(cause) before and after this answer was added.
    log_odds : float
        ``logit(after) - logit(before)``; positive means the answer pointed towards the cause.
    """

    finding: str
    answer: bool
    before: float
    after: float
    log_odds: float

    @property
    def likelihood_ratio(self) -> float:
        """The factor by which the answer multiplied the odds of the cause."""
        return math.exp(self.log_odds)


def contributions(model: DiagnosticModel, case: Case, cause: str) -> list[Contribution]:
    """Return each answered finding's contribution to a cause, added in the order given.

    Parameters
    ----------
    model : DiagnosticModel
    case : Case
        The context and answers; the context is the starting point (the prior).
    cause : str
        A cause id.

    Returns
    -------
    list of Contribution
        Their ``log_odds`` sum to logit(posterior) - logit(prior).

    Examples
    --------
    >>> from model import build_model, parse_case
    >>> model = build_model()
    >>> case = model.parse({"context": {"age_band": "25_34"}, "findings": {"test_chlamydia": True}})
    >>> [(c.finding, round(c.likelihood_ratio) > 10) for c in contributions(model, case, "chlamydia")]
    [('postcoital_bleeding', False), ('test_chlamydia', True)]
    """
    column = model.fast.queries.index(cause)
    posteriors = _prefix_posteriors(model, case)[:, column]
    steps = []
    for i, (finding, answer) in enumerate(case.findings.items()):
        before, after = float(posteriors[i]), float(posteriors[i + 1])
        steps.append(Contribution(finding, answer, before, after, _logit(after) - _logit(before)))
    return steps


def _prefix_posteriors(model: DiagnosticModel, case: Case) -> np.ndarray:
    """Posteriors after the context alone, then after each answer in turn: one fast-engine batch."""
    evidence = [dict(case.context)]
    for finding, answer in case.findings.items():
        evidence.append({**evidence[-1], finding: "yes" if answer else "no"})
    return posteriors_given(model, evidence)


def trajectory(model: DiagnosticModel, case: Case, causes: Sequence[str]) -> list[dict[str, float]]:
    """Return the posterior of each cause after the context and after each answer in turn.

    Row 0 is the context alone; row k has the first k answers. For teaching: the differential as
    the evidence accumulates.
    """
    queries = model.fast.queries
    return [{c: float(row[queries.index(c)]) for c in causes} for row in _prefix_posteriors(model, case)]


def triage_after_each_answer(model: DiagnosticModel, case: Case) -> list[Triage]:
    """Return the triage after the context alone, then after each answer in turn.

    Row k has the first k answers, as in `trajectory`: for teaching, the answer that raised a red
    flag is the step where the level changes.

    Examples
    --------
    >>> from model import build_model
    >>> model = build_model()
    >>> case = model.parse({"findings": {"dryness": True, "heavy": True}})
    >>> [triage.level for triage in triage_after_each_answer(model, case)]
    ['routine', 'routine', 'routine', 'emergency']
    """
    answers = list(case.findings.items())
    return [diagnose(model, Case(case.context, dict(answers[:k]))).triage for k in range(len(answers) + 1)]
