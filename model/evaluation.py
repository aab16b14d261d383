"""Validate the model against published clinical vignettes: accuracy of the differential and of triage.

This module owns the case library format (``priors/cases/vignettes.yaml``: each case transcribed
from a cited publication, with its final diagnosis, acceptable co-diagnoses and the triage level a
guideline-following clinician would assign) and the measures: top-1 and top-3 accuracy, under- and
over-triage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.case import Case, case_in_file
from model.errors import KnowledgeError
from model.inference import DiagnosticModel, diagnose
from model.knowledge import DEFAULT_PRIORS
from model.redflags import LEVELS, RedFlagPolicy
from model.vocabulary import read_yaml, required_text

VIGNETTES = Path("cases") / "vignettes.yaml"  # within a priors folder
DEFAULT_VIGNETTES = DEFAULT_PRIORS / VIGNETTES
NOT_PCB_TAG = "[not PCB]"
TARGETS = {"top1": 0.80, "top3": 0.95, "under_triage": 0.0, "over_triage": 0.25}
"""The project's acceptance targets for the case library (not clinical numbers)."""


@dataclass(frozen=True)
class Vignette:
    """A published case in the model's vocabulary, with its reference answers."""

    id: str
    title: str
    source: str
    case: Case
    diagnosis: str
    acceptable: tuple[str, ...]
    triage: str

    @property
    def presented_with_pcb(self) -> bool:
        """Whether the case presented with bleeding after sex (false for cases tagged ``[not PCB]``).

        Those cases answer bleeding after sex "no" and are kept to exercise causes with no published
        PCB case; the model ranks their causes by presence.
        """
        return not self.title.startswith(NOT_PCB_TAG)


@dataclass(frozen=True)
class Outcome:
    """How the model answered one vignette.

    ``rank`` (1 = first), ``probability`` and ``prior`` (context only) are those of the reference
    diagnosis, so a miss still shows how far the evidence moved it.
    """

    vignette: Vignette
    top3: tuple[str, ...]
    triage: str
    rank: int
    probability: float
    prior: float

    @property
    def top1_hit(self) -> bool:
        """Whether the most probable cause is the diagnosis or an acceptable one."""
        return self.top3[0] in self._accepted

    @property
    def top3_hit(self) -> bool:
        """Whether the diagnosis or an acceptable one is among the three most probable causes."""
        return bool(self._accepted & set(self.top3))

    @property
    def triage_error(self) -> int:
        """Model urgency minus reference urgency: negative is under-triage, positive over-triage."""
        return RedFlagPolicy.urgency(self.triage) - RedFlagPolicy.urgency(self.vignette.triage)

    @property
    def _accepted(self) -> set[str]:
        return {self.vignette.diagnosis, *self.vignette.acceptable}


def load_vignettes(model: DiagnosticModel, path: str | Path | None = None) -> list[Vignette]:
    """Read and check a case library against the model's vocabulary and sources.

    By default the library of the model's own priors folder (``cases/vignettes.yaml``), so that
    ``--priors DIR`` applies to it as to every number.

    Raises
    ------
    KnowledgeError
        Naming the file, the case and the field of the first problem found.
    """
    path = Path(path) if path is not None else model.knowledge.path / VIGNETTES
    display = str(path)
    raw = read_yaml(path, display)
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(display, "", "", "must be a non-empty list of cases")
    vocabulary, seen, vignettes = model.knowledge.vocabulary, set(), []
    for number, entry in enumerate(raw, start=1):
        where = f"case {number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping")
        vid = required_text(entry, "id", display, where)
        where = f"case '{vid}'"
        if vid in seen:
            raise KnowledgeError(display, where, "id", "is used twice")
        seen.add(vid)
        source = required_text(entry, "source", display, where)
        if source not in model.knowledge.sources:
            raise KnowledgeError(display, where, "source", f"'{source}' is not a key of sources.yaml")
        case = case_in_file(entry, vocabulary, display, where)
        tagged = str(entry.get("title", "")).startswith(NOT_PCB_TAG)
        if vocabulary.presenting and tagged != (case.findings.get(vocabulary.presenting) is False):
            raise KnowledgeError(
                display, where, f"findings.{vocabulary.presenting}",
                f"a case titled {NOT_PCB_TAG} answers it false, and only such a case does",
            )  # fmt: skip
        acceptable = entry.get("acceptable") or []
        for cause in [entry.get("diagnosis"), *acceptable]:
            if cause not in vocabulary.causes:
                raise KnowledgeError(display, where, "diagnosis", f"'{cause}' is not a cause id")
        if entry.get("triage") not in LEVELS:
            raise KnowledgeError(display, where, "triage", f"must be one of: {', '.join(LEVELS)}")
        vignettes.append(
            Vignette(vid, required_text(entry, "title", display, where), source, case,
                     entry["diagnosis"], tuple(acceptable), entry["triage"])
        )  # fmt: skip
    return vignettes


def evaluate(model: DiagnosticModel, vignettes: Sequence[Vignette]) -> list[Outcome]:
    """Run every vignette through the model (the differential and triage).

    A case is ranked as the app ranks it: by what explains the bleeding after sex when it presents
    with it, by presence otherwise (``[not PCB]`` cases).
    """
    outcomes = []
    for vignette in vignettes:
        result = diagnose(model, vignette.case)
        dx = vignette.diagnosis
        outcomes.append(
            Outcome(vignette, tuple(result.ranking[:3]), result.triage.level,
                    result.ranking.index(dx) + 1, result.differential[dx], result.differential_before[dx])
        )  # fmt: skip
    return outcomes


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Return the accuracy and triage measures of a set of outcomes, with the project's targets.

    Examples
    --------
    >>> summarise([])["cases"]
    0
    """
    n = len(outcomes)

    def share(flags: Sequence[bool]) -> float:
        return sum(flags) / n if n else float("nan")

    measures = {
        "top1": share([o.top1_hit for o in outcomes]),
        "top3": share([o.top3_hit for o in outcomes]),
        "under_triage": share([o.triage_error < 0 for o in outcomes]),
        "over_triage": share([o.triage_error > 0 for o in outcomes]),
    }
    met = {
        name: value <= TARGETS[name] if name.endswith("triage") else value >= TARGETS[name]
        for name, value in measures.items()
    }
    return {"cases": n, **measures, "targets": dict(TARGETS), "met": met}
