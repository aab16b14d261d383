"""One number of the knowledge base: a row of a CSV file in ``priors/``, with its provenance.

This module owns the `Parameter` value only, so that the loader (`model.knowledge`) and the rules
between rows (`model.checks`) can both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One number of the knowledge base (one CSV row) with its provenance."""

    id: str
    table: str
    key: Mapping[str, str]
    value: float
    ci_low: float | None
    ci_high: float | None
    events: float | None
    total: float | None
    population: str
    source: tuple[str, ...]
    locator: str
    evidence: str
    rationale: str
    row: int
    assumptions: str = ""

    @property
    def is_expert_estimate(self) -> bool:
        """Whether no study gives this number."""
        return self.evidence == "expert_estimate"

    @property
    def has_assumptions(self) -> bool:
        """Whether a derived number rests on an assumed factor (listed in ``assumptions``)."""
        return bool(self.assumptions)
