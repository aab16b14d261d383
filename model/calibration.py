"""Compare the model's figures with published ones (``priors/calibration.yaml``).

This module owns the calibration targets: each names a model quantity, the case that reproduces
the study population, the published value and a tolerance. It computes the model's value for each
with the reference engine and says whether it is within tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.case import Case, case_in_file
from model.errors import KnowledgeError
from model.inference import DiagnosticModel, probability_none_of
from model.knowledge import DEFAULT_PRIORS
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
