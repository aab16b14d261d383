"""Compare the model's figures with published ones (``priors/calibration.yaml``).

This module owns the calibration targets: each names a model quantity, the case that reproduces
the study population, the published value and a tolerance. It computes the model's value for each
with the reference engine and says whether it is within tolerance. `fit_parameters` goes the other
way: it moves chosen parameters, each within its published 95% interval, to bring the model's figures
closer to a set of targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit

from model.case import Case, case_in_file
from model.errors import KnowledgeError
from model.explain import LOGIT_LIMIT
from model.inference import DiagnosticModel, build_model, probability_none_of
from model.knowledge import DEFAULT_PRIORS, TABLES
from model.vocabulary import read_yaml

DEFAULT_TARGETS = DEFAULT_PRIORS / "calibration.yaml"


@dataclass(frozen=True)
class Target:
    """A published figure and how to compute the model's counterpart."""

    id: str
    label: str
    kind: str  # "cause", "any_of" or "none_of"
    causes: tuple[str, ...]
    case: Case
    published: float
    published_text: str
    tolerance_kind: str  # "factor" or "absolute"
    tolerance: float
    source: str

    def within(self, value: float) -> bool:
        """Whether a model value meets this target's tolerance."""
        if self.tolerance_kind == "factor":
            return value > 0 and 1 / self.tolerance <= value / self.published <= self.tolerance
        return abs(value - self.published) <= self.tolerance


@dataclass(frozen=True)
class Check:
    """A target with the model's value."""

    target: Target
    model: float

    @property
    def ok(self) -> bool:
        """Whether the model meets the target."""
        return self.target.within(self.model)


def _quantity(raw: Any, sets: Mapping[str, list], causes: Any, display: str, where: str) -> tuple[str, tuple]:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("cause", "any_of", "none_of"):
        raise KnowledgeError(
            display, where, "quantity", "must be one of {cause: ...}, {any_of: ...}, {none_of: ...}"
        )
    kind, value = next(iter(raw.items()))
    members = [value] if kind == "cause" else sets.get(value, value) if isinstance(value, str) else value
    if not isinstance(members, list) or not members or any(c not in causes for c in members):
        raise KnowledgeError(
            display, where, "quantity", "must name cause ids, or a set of cause ids from 'sets'"
        )
    return kind, tuple(members)


def _tolerance(raw: Any, display: str, where: str) -> tuple[str, float]:
    if isinstance(raw, dict) and len(raw) == 1:
        kind, value = next(iter(raw.items()))
        if kind == "factor" and isinstance(value, int | float) and value > 1:
            return kind, float(value)
        if kind == "absolute" and isinstance(value, int | float) and 0 < value < 1:
            return kind, float(value)
    raise KnowledgeError(display, where, "tolerance", "must be {factor: > 1} or {absolute: between 0 and 1}")


def load_targets(model: DiagnosticModel, path: str | Path | None = None) -> list[Target]:
    """Read and check the calibration targets.

    Raises
    ------
    KnowledgeError
        Naming the file, the target and the field of the first problem found.
    """
    path = Path(path) if path is not None else DEFAULT_TARGETS
    display = f"{path.parent.name}/{path.name}"
    raw = read_yaml(path, display)
    if not isinstance(raw, dict) or not isinstance(raw.get("targets"), list):
        raise KnowledgeError(display, "", "targets", "must be a list of targets")
    sets, kb, targets = raw.get("sets") or {}, model.knowledge, []
    for number, entry in enumerate(raw["targets"], start=1):
        where = f"target {entry.get('id', number) if isinstance(entry, dict) else number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping")
        kind, causes = _quantity(entry.get("quantity"), sets, kb.vocabulary.causes, display, where)
        case = case_in_file(entry.get("given") or {}, kb.vocabulary, display, where, prefix="given.")
        published = entry.get("published")
        if not isinstance(published, int | float) or not 0 < published < 1:
            raise KnowledgeError(display, where, "published", "must be a probability between 0 and 1")
        if entry.get("source") not in kb.sources:
            raise KnowledgeError(display, where, "source", "must be a key of sources.yaml")
        tolerance_kind, tolerance = _tolerance(entry.get("tolerance"), display, where)
        targets.append(
            Target(str(entry.get("id")), str(entry.get("label", "")), kind, causes, case, float(published),
                   str(entry.get("published_text", "")), tolerance_kind, tolerance, entry["source"])
        )  # fmt: skip
    return targets


def calibrate(model: DiagnosticModel, targets: list[Target]) -> list[Check]:
    """Compute the model's value for every target."""
    checks = []
    for target in targets:
        none = probability_none_of(model, target.causes, target.case.evidence())
        value = none if target.kind == "none_of" else 1.0 - none
        checks.append(Check(target, value))
    return checks


@dataclass(frozen=True)
class Fit:
    """Fitted parameter values, with every target's check before and after the fit.

    Attributes
    ----------
    overrides : Mapping[str, float]
        Parameter id to fitted value, ready for ``build_model(overrides=...)``.
    before, after : list of Check
        The targets with the model's values before and after the fit.
    """

    overrides: Mapping[str, float]
    before: list[Check]
    after: list[Check]

    @property
    def loss_before(self) -> float:
        """`calibration_loss` of the unfitted model."""
        return calibration_loss(self.before)

    @property
    def loss_after(self) -> float:
        """`calibration_loss` of the fitted model."""
        return calibration_loss(self.after)


def _log_odds(p: float | np.ndarray) -> float | np.ndarray:
    return logit(np.clip(p, LOGIT_LIMIT, 1 - LOGIT_LIMIT))


def calibration_loss(checks: Sequence[Check]) -> float:
    """Return the sum of squared differences in log-odds between the model's and the published figures.

    On the log-odds scale, 1 in 5,000 against 1 in 2,500 counts as much as 20% against 33%.

    Examples
    --------
    >>> model = build_model()
    >>> calibration_loss(calibrate(model, load_targets(model))) > 0
    True
    """
    return float(sum((_log_odds(c.model) - _log_odds(c.target.published)) ** 2 for c in checks))


def fit_parameters(
    model: DiagnosticModel, targets: Sequence[Target], parameters: Sequence[str], max_evaluations: int = 200
) -> Fit:
    """Fit parameters so that the model's figures come closest to published targets.

    Minimises `calibration_loss` with bounded L-BFGS-B, on the log-odds scale for probabilities and
    the log scale for odds ratios, each parameter kept within its 95% interval in ``priors/``.

    Parameters
    ----------
    model : DiagnosticModel
        The starting point; it is not changed.
    targets : sequence of Target
        The published figures to fit, e.g. from `load_targets`.
    parameters : sequence of str
        Parameter ids to fit (as in ``python -m model parameters``); the others stay as they are.
    max_evaluations : int, optional
        At most this many models are built and checked.

    Returns
    -------
    Fit

    Raises
    ------
    KnowledgeError
        For an unknown parameter id, or one without a 95% interval to bound it.

    Examples
    --------
    >>> model = build_model()
    >>> targets = [t for t in load_targets(model) if t.id.startswith("godfrey")]
    >>> fit = fit_parameters(model, targets, ["cause_base_rates:ectropion"], max_evaluations=20)
    >>> fit.loss_after < fit.loss_before
    True
    """
    kb = model.knowledge
    chosen = [kb.parameter(pid, "parameters to fit") for pid in parameters]
    for p in chosen:
        if p.ci_low is None or p.ci_high is None:
            raise KnowledgeError("fit", p.id, "ci_low", "needs a 95% interval to bound the fit")
    odds = [TABLES[p.table].kind == "odds_ratio" for p in chosen]
    scale = [np.log if is_or else _log_odds for is_or in odds]

    def values(x: np.ndarray) -> dict[str, float]:
        return {
            p.id: float(np.exp(v) if is_or else expit(v)) for p, v, is_or in zip(chosen, x, odds, strict=True)
        }

    def loss(x: np.ndarray) -> float:
        return calibration_loss(calibrate(build_model(kb, overrides=values(x)), list(targets)))

    start = [float(f(p.value)) for p, f in zip(chosen, scale, strict=True)]
    bounds = [(float(f(p.ci_low)), float(f(p.ci_high))) for p, f in zip(chosen, scale, strict=True)]
    found = minimize(loss, start, method="L-BFGS-B", bounds=bounds, options={"maxfun": max_evaluations})
    fitted = values(found.x)
    return Fit(
        fitted, calibrate(model, list(targets)), calibrate(build_model(kb, overrides=fitted), list(targets))
    )
