"""Compare the model's figures with published cohorts (``priors/calibration.yaml``), and fit to them.

This module owns the calibration targets. Each names a model quantity, the case that reproduces the
study's own selection (what it selected on, and its mix of the context it did not select on), the
published figure with its count, and where it comes from. A target is met when the model lies
inside the published 95% interval (Wilson, from the count), or, for an outcome under 5%, within a
factor of `SMALL_FACTOR`; never by an absolute tolerance, which would call 1 in 10,000 and 1 in 200
equal.

`fit_links` goes the other way: it moves chosen parameters (the links of the presenting finding,
the least measured numbers) to bring the model's figures closer to the targets marked ``fit``,
each parameter held within its 95% interval by a Gaussian prior on the log-odds scale. All
evaluations run on the fast engine, over many parameter sets at once (the draws axis).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from scipy.stats import norm

from model.case import Case, case_in_file
from model.errors import KnowledgeError
from model.inference import DiagnosticModel, build_model, fast_engine
from model.knowledge import DEFAULT_PRIORS, TABLES, Knowledge
from model.network import network_tables
from model.parameter import Parameter
from model.quickscore import ABSENT, Queries, QuickscoreEngine, standard_queries
from model.vocabulary import read_yaml

TARGETS_FILE = "calibration.yaml"  # within a priors folder
DEFAULT_TARGETS = DEFAULT_PRIORS / TARGETS_FILE
SMALL = 0.05  # an outcome rarer than this is judged on a relative scale
SMALL_FACTOR = 1.5  # ... and met within this factor of the published figure
INTERVAL_LEVEL = 0.95
Z = float(norm.ppf(0.5 + INTERVAL_LEVEL / 2))  # half-width of a 95% interval, in standard errors
LOGIT_LIMIT = 1e-9  # clip before taking log-odds: a count of zero still has a finite target
KINDS = ("cause", "explains", "unexplained", "any_of", "none_of", "finding", "context")


def wilson_interval(events: float, total: float, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(4, 635)]
    [0.0025, 0.0161]
    >>> wilson_interval(0, 142)[0]
    0.0
    """
    z = Z if level == INTERVAL_LEVEL else float(norm.ppf(0.5 + level / 2))
    p = events / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Target:
    """A published figure and how to compute the model's counterpart.

    Attributes
    ----------
    kind : str
        One of `KINDS`: ``cause`` (P(present)), ``explains`` (P(present and produced the bleeding)),
        ``unexplained``, ``any_of`` / ``none_of`` (presence of a set), ``finding`` (P(yes), the
        finding itself left out of the case) or ``context`` (P(state)).
    members : tuple of str
        The cause ids, or the finding id, or ``(variable, state)``.
    case : Case
        The cohort's selection.
    mix : tuple of (dict, float)
        The cohort's composition over context it did not select on: extra context and its weight.
    interval : tuple of float, or None
        The published 95% interval (Wilson from the count, or as published).
    """

    id: str
    label: str
    kind: str
    members: tuple[str, ...]
    case: Case
    mix: tuple[tuple[Mapping[str, str], float], ...]
    published: float
    interval: tuple[float, float] | None
    events: float | None
    total: float | None
    published_text: str
    source: str
    locator: str
    fit: bool
    unmet: str

    def within(self, value: float) -> bool:
        """Whether a model value meets this target: inside its interval, or within a factor if rare.

        Examples
        --------
        >>> t = Target("t", "", "cause", ("cin",), Case(), (({}, 1.0),), 0.01, (0.008, 0.012),
        ...            None, None, "", "", "", False, "")
        >>> t.within(0.0111), t.within(0.0149), t.within(0.016), t.within(0.006)
        (True, True, False, False)
        """
        if self.interval is not None and self.interval[0] <= value <= self.interval[1]:
            return True
        return (
            0 < self.published < SMALL
            and value > 0
            and 1 / SMALL_FACTOR <= value / self.published <= SMALL_FACTOR
        )

    @property
    def log_odds_error(self) -> float:
        """The standard error of the published figure on the log-odds scale, for weighting a fit."""
        if self.interval is not None and self.interval[0] > 0 and self.interval[1] < 1:
            return float((_log_odds(self.interval[1]) - _log_odds(self.interval[0])) / (2 * Z))
        if self.events is not None and self.total:
            p = min(max((self.events + 0.5) / (self.total + 1), LOGIT_LIMIT), 1 - LOGIT_LIMIT)
            return float(1 / math.sqrt(self.total * p * (1 - p)))
        return float(math.log(SMALL_FACTOR) / Z)


@dataclass(frozen=True)
class Check:
    """A target with the model's value."""

    target: Target
    model: float

    @property
    def ok(self) -> bool:
        """Whether the model meets the target."""
        return self.target.within(self.model)

    @property
    def ratio(self) -> float:
        """Model over published (infinite when the published figure is zero and the model's is not)."""
        if self.target.published > 0:
            return self.model / self.target.published
        return math.inf if self.model > 0 else 1.0


def _members(
    raw: Any, sets: Mapping[str, list], kb: Knowledge, display: str, where: str
) -> tuple[str, tuple]:
    vocab = kb.vocabulary
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in KINDS:
        raise KnowledgeError(display, where, "quantity", f"must be one of: {', '.join(KINDS)}")
    kind, value = next(iter(raw.items()))
    if kind == "unexplained":
        return kind, ()
    if kind == "finding":
        if value not in vocab.findings:
            raise KnowledgeError(display, where, "quantity", f"'{value}' is not a finding")
        return kind, (value,)
    if kind == "context":
        pairs = list(value.items()) if isinstance(value, dict) else []
        if (
            len(pairs) != 1
            or pairs[0][0] not in vocab.context
            or pairs[0][1] not in vocab.context[pairs[0][0]].states
        ):
            raise KnowledgeError(
                display, where, "quantity", "context must name one variable and one of its states"
            )
        return kind, (pairs[0][0], pairs[0][1])
    single = kind in ("cause", "explains")
    members = [value] if single else sets.get(value, value) if isinstance(value, str) else value
    if not isinstance(members, list) or not members or any(c not in vocab.causes for c in members):
        raise KnowledgeError(
            display, where, "quantity", "must name cause ids, or a set of cause ids from 'sets'"
        )
    return kind, tuple(members)


def _mix(raw: Any, kb: Knowledge, display: str, where: str) -> tuple[tuple[dict[str, str], float], ...]:
    if not raw:
        return (({}, 1.0),)
    if not isinstance(raw, dict):
        raise KnowledgeError(display, where, "mix", "must map context variables to state weights")
    axes = []
    for var, weights in raw.items():
        states = kb.vocabulary.context[var].states if var in kb.vocabulary.context else ()
        if not states or not isinstance(weights, dict) or any(s not in states for s in weights):
            raise KnowledgeError(
                display, where, f"mix.{var}", "must map states of a context variable to weights"
            )
        if any(not isinstance(w, int | float) or w < 0 for w in weights.values()):
            raise KnowledgeError(display, where, f"mix.{var}", "weights must be numbers of at least 0")
        if abs(sum(weights.values()) - 1) > 1e-3:
            raise KnowledgeError(display, where, f"mix.{var}", "weights must sum to 1")
        axes.append([(var, s, float(w)) for s, w in weights.items() if w > 0])
    return tuple(
        ({var: state for var, state, _ in combo}, math.prod(w for *_, w in combo)) for combo in product(*axes)
    )


def _published(
    entry: Mapping, display: str, where: str
) -> tuple[float, tuple | None, float | None, float | None]:
    events, total = entry.get("events"), entry.get("total")
    if events is None and total is not None and isinstance(entry.get("published"), int | float):
        events = entry["published"] * total  # a percentage of a known cohort: its implied count
    if events is not None or total is not None:
        if (
            not isinstance(events, int | float)
            or not isinstance(total, int | float)
            or not 0 <= events <= total > 0
        ):
            raise KnowledgeError(
                display, where, "events", "events and total must be counts with 0 <= events <= total"
            )
        return events / total, wilson_interval(events, total), float(events), float(total)
    published = entry.get("published")
    if not isinstance(published, int | float) or not 0 < published < 1:
        raise KnowledgeError(
            display, where, "published", "must be a probability between 0 and 1 (or give events/total)"
        )
    low, high = entry.get("ci_low"), entry.get("ci_high")
    if low is None and high is None:
        if published >= SMALL:  # only a rare outcome may be judged by a factor alone
            raise KnowledgeError(
                display,
                where,
                "ci_low",
                f"a figure of {SMALL:.0%} or more needs events/total or ci_low/ci_high",
            )
        return float(published), None, None, None
    if not all(isinstance(x, int | float) for x in (low, high)) or not 0 <= low <= published <= high <= 1:
        raise KnowledgeError(display, where, "ci_low", "ci_low <= published <= ci_high, all probabilities")
    return float(published), (float(low), float(high)), None, None


def load_targets(model: DiagnosticModel, path: str | Path | None = None) -> list[Target]:
    """Read and check the calibration targets.

    By default the targets of the model's own priors folder (``calibration.yaml``), so that
    ``--priors DIR`` applies to them as to every number.

    Raises
    ------
    KnowledgeError
        Naming the file, the target and the field of the first problem found.

    Examples
    --------
    >>> model = build_model()
    >>> len({t.source for t in load_targets(model)}) >= 8
    True
    """
    path = Path(path) if path is not None else model.knowledge.path / TARGETS_FILE
    display = f"{path.parent.name}/{path.name}"
    raw = read_yaml(path, display)
    if not isinstance(raw, dict) or not isinstance(raw.get("targets"), list):
        raise KnowledgeError(display, "", "targets", "must be a list of targets")
    sets, kb, targets, seen = raw.get("sets") or {}, model.knowledge, [], set()
    for number, entry in enumerate(raw["targets"], start=1):
        where = f"target {entry.get('id', number) if isinstance(entry, dict) else number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(display, where, "", "must be a mapping")
        if entry.get("id") in seen:
            raise KnowledgeError(display, where, "id", "is used by an earlier target")
        seen.add(entry.get("id"))
        kind, members = _members(entry.get("quantity"), sets, kb, display, where)
        case = case_in_file(entry.get("given") or {}, kb.vocabulary, display, where, prefix="given.")
        published, interval, events, total = _published(entry, display, where)
        if entry.get("source") not in kb.sources:
            raise KnowledgeError(display, where, "source", "must be a key of sources.yaml")
        targets.append(
            Target(str(entry.get("id")), str(entry.get("label", "")), kind, members, case,
                   _mix(entry.get("mix"), kb, display, where), published, interval, events, total,
                   str(entry.get("published_text", "")), entry["source"], str(entry.get("locator", "")),
                   bool(entry.get("fit", False)), str(entry.get("unmet") or ""))
        )  # fmt: skip
    return targets


class _Rows:
    """The engine rows every target needs, collected so that all targets are one engine call."""

    def __init__(self, engine: QuickscoreEngine, targets: Sequence[Target]) -> None:
        self.engine = engine
        sets = sorted({t.members for t in targets if t.kind in ("any_of", "none_of")})
        base = standard_queries(engine.causes, [])
        clamp = [base.clamp]
        for members in sets:
            row = np.zeros((1, len(engine.causes)), dtype=np.int8)
            row[0, [engine.causes.index(c) for c in members]] = ABSENT
            clamp.append(row)
        self.queries = Queries((*base.names, *(f"none:{','.join(m)}" for m in sets)), np.concatenate(clamp))
        self.contexts: list[dict] = []
        self.findings: list[dict] = []
        self.plan: list[list[tuple[float, int, int | None]]] = []  # per target: (weight, row, divisor row)
        for target in targets:
            steps = []
            for extra, weight in target.mix:
                context = {**target.case.context, **extra}
                findings = dict(target.case.findings)
                if target.kind == "finding":
                    findings.pop(target.members[0], None)
                    divisor = self._add(context, findings)
                    steps.append((weight, self._add(context, {**findings, target.members[0]: True}), divisor))
                elif target.kind == "context":
                    var, state = target.members
                    divisor = self._add({k: v for k, v in context.items() if k != var}, findings)
                    steps.append((weight, self._add({**context, var: state}, findings), divisor))
                else:
                    steps.append((weight, self._add(context, findings), None))
            self.plan.append(steps)

    def _add(self, context: Mapping[str, str], findings: Mapping[str, bool]) -> int:
        self.contexts.append(dict(context))
        self.findings.append(dict(findings))
        return len(self.contexts) - 1

    def values(self, targets: Sequence[Target]) -> np.ndarray:
        """Return each target's model value for every draw of the engine, shape ``(draws, targets)``."""
        engine = self.engine
        explained = engine.explained(engine.encode(self.contexts, self.findings), self.queries)
        evidence, posteriors = explained.joint[..., 0], explained.posteriors
        result = np.zeros((evidence.shape[0], len(targets)))
        for k, (target, steps) in enumerate(zip(targets, self.plan, strict=True)):
            for weight, row, divisor in steps:
                if divisor is not None:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        value = evidence[:, row] / evidence[:, divisor]
                elif target.kind == "cause":
                    value = posteriors[:, row, self.queries.index(target.members[0])]
                elif target.kind == "explains":
                    value = explained.explains[:, row, engine.causes.index(target.members[0])]
                elif target.kind == "unexplained":
                    value = explained.unexplained[:, row]
                else:
                    none = posteriors[:, row, self.queries.index(f"none:{','.join(target.members)}")]
                    value = none if target.kind == "none_of" else 1 - none
                result[:, k] += weight * value
        return result


def model_values(
    kb: Knowledge, targets: Sequence[Target], values: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """Return the model's value of every target, for the knowledge base or for parameter sets.

    Parameters
    ----------
    kb : Knowledge
    targets : sequence of Target
    values : Mapping[str, numpy.ndarray], optional
        Parameter id to values, one per parameter set (as `model.network.network_tables` takes).

    Returns
    -------
    numpy.ndarray
        Shape ``(parameter sets, targets)``.
    """
    engine = fast_engine(kb, network_tables(kb, values))
    return _Rows(engine, targets).values(targets)


def calibrate(model: DiagnosticModel, targets: Sequence[Target]) -> list[Check]:
    """Compute the model's value for every target.

    Examples
    --------
    >>> model = build_model()
    >>> checks = calibrate(model, load_targets(model))
    >>> all(0 <= c.model <= 1 for c in checks)
    True
    """
    found = model_values(model.knowledge, targets)[0]
    return [Check(t, float(v)) for t, v in zip(targets, found, strict=True)]


def _log_odds(p: float | np.ndarray) -> float | np.ndarray:
    return logit(np.clip(p, LOGIT_LIMIT, 1 - LOGIT_LIMIT))


def calibration_loss(checks: Sequence[Check]) -> float:
    """Return the sum of squared standardised differences in log-odds, model against published.

    Each difference is divided by the published figure's own standard error on that scale, so a
    count of 4 in 635 pulls as much as its precision warrants, and 1 in 5,000 against 1 in 2,500
    counts as much as 20% against 33%.

    Examples
    --------
    >>> model = build_model()
    >>> calibration_loss(calibrate(model, load_targets(model))) > 0
    True
    """
    return float(
        sum(
            ((_log_odds(c.model) - _log_odds(c.target.published)) / c.target.log_odds_error) ** 2
            for c in checks
        )
    )


@dataclass(frozen=True)
class Fit:
    """Fitted parameter values, with every target's check before and after the fit.

    Attributes
    ----------
    overrides : Mapping[str, float]
        Parameter id to fitted value, ready for ``build_model(overrides=...)``.
    before, after : list of Check
        The targets with the model's values before and after the fit.
    targets : tuple of str
        The ids of the targets fitted to.
    """

    overrides: Mapping[str, float]
    before: list[Check]
    after: list[Check]
    targets: tuple[str, ...]

    @property
    def loss_before(self) -> float:
        """`calibration_loss` of the unfitted model, over the fitted targets."""
        return calibration_loss([c for c in self.before if c.target.id in self.targets])

    @property
    def loss_after(self) -> float:
        """`calibration_loss` of the fitted model, over the fitted targets."""
        return calibration_loss([c for c in self.after if c.target.id in self.targets])


def parameters_to_fit(model: DiagnosticModel, path: str | Path | None = None) -> list[str]:
    """Return the parameters a fit moves: `presenting_links`, and the targets file's ``also_fit`` list.

    Raises
    ------
    KnowledgeError
        For an ``also_fit`` entry that is not a parameter id.

    Examples
    --------
    >>> model = build_model()
    >>> ids = parameters_to_fit(model)
    >>> "finding_leaks:postcoital_bleeding" in ids
    True
    """
    path = Path(path) if path is not None else model.knowledge.path / TARGETS_FILE
    display = f"{path.parent.name}/{path.name}"
    raw = read_yaml(path, display)
    extra = (raw.get("also_fit") if isinstance(raw, dict) else None) or []
    if not isinstance(extra, list):
        raise KnowledgeError(display, "also_fit", "", "must be a list of parameter ids")
    for pid in extra:
        model.knowledge.parameter(str(pid), f"{display}, also_fit")
    return [*presenting_links(model.knowledge), *(str(pid) for pid in extra)]


def presenting_links(kb: Knowledge) -> list[str]:
    """Return the ids of the presenting finding's links and leak: the numbers `fit_links` fits by default."""
    presenting = kb.vocabulary.presenting
    links = [p.id for p in kb.table("finding_links") if p.key["finding"] == presenting]
    return [*links, f"finding_leaks:{presenting}"]


def fit_links(
    model: DiagnosticModel,
    targets: Sequence[Target],
    parameters: Sequence[str] | None = None,
    max_iterations: int = 200,
) -> Fit:
    """Fit parameters so that the model's figures come closest to the published targets marked ``fit``.

    Maximises the posterior of the parameters on the log-odds scale: the targets' `calibration_loss`
    plus a Gaussian prior for each parameter whose 95% interval is the parameter's own (so a
    parameter moves only as far as the cohorts pull it), bounded to that interval. A link is never
    taken below its finding's leak, and a leak never above a link that is not being fitted.
    Gradients are finite differences, every perturbed parameter set evaluated at once on the fast
    engine's draws axis.

    Parameters
    ----------
    model : DiagnosticModel
        The starting point; it is not changed.
    targets : sequence of Target
        All targets; those with ``fit`` set are fitted, the others only reported.
    parameters : sequence of str, optional
        Parameter ids to fit; by default `presenting_links`.
    max_iterations : int, optional
        At most this many L-BFGS-B iterations.

    Returns
    -------
    Fit

    Raises
    ------
    KnowledgeError
        For an unknown parameter id, one without a 95% interval, or no target marked ``fit``.
    """
    kb = model.knowledge
    chosen = [kb.parameter(pid, "parameters to fit") for pid in (parameters or presenting_links(kb))]
    for p in chosen:
        if p.ci_low is None or p.ci_high is None:
            raise KnowledgeError("fit", p.id, "ci_low", "needs a 95% interval to bound the fit")
        if TABLES[p.table].kind != "probability":  # the prior and bounds are on the log-odds scale
            raise KnowledgeError("fit", p.id, "", "only probabilities are fitted, not odds ratios")
    fitted_targets = [t for t in targets if t.fit]
    if not fitted_targets:
        raise KnowledgeError("fit", "", "fit", "no target is marked fit: true")
    low = np.array([_log_odds(p.ci_low) for p in chosen])
    high = np.array([_log_odds(min(p.ci_high, _highest_leak(kb, p, chosen))) for p in chosen])
    centre, spread = (low + high) / 2, np.maximum((high - low) / (2 * Z), 1e-6)
    published = np.array([_log_odds(t.published) for t in fitted_targets])
    error = np.array([t.log_odds_error for t in fitted_targets])
    engine_rows = _Rows(fast_engine(kb, network_tables(kb)), fitted_targets)
    step = 1e-6

    def parameter_values(x: np.ndarray) -> dict[str, np.ndarray]:
        return _above_leaks(kb, {p.id: expit(x[:, i]) for i, p in enumerate(chosen)})

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        sets = np.vstack([x, x + step * np.eye(len(x))])
        engine_rows.engine = fast_engine(kb, network_tables(kb, parameter_values(sets)))
        found = _log_odds(engine_rows.values(fitted_targets))
        losses = (((found - published) / error) ** 2).sum(axis=1) + (((sets - centre) / spread) ** 2).sum(
            axis=1
        )
        return float(losses[0]), (losses[1:] - losses[0]) / step

    start = np.clip(np.array([_log_odds(p.value) for p in chosen]), low, high)
    found = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=list(zip(low, high, strict=True)),
        options={"maxiter": max_iterations},
    )  # fmt: skip
    final = parameter_values(found.x[None, :])
    fitted = {pid: float(v[0]) for pid, v in final.items()}
    after = build_model(kb, overrides=fitted)
    return Fit(
        fitted, calibrate(model, targets), calibrate(after, targets), tuple(t.id for t in fitted_targets)
    )


def _highest_leak(kb: Knowledge, p: Parameter, chosen: Sequence[Parameter]) -> float:
    """Return how high a leak may go: no higher than a link of its finding that is not being fitted."""
    if p.table != "finding_leaks":
        return 1.0
    moving = {q.id for q in chosen}
    fixed = [
        q.value
        for q in kb.table("finding_links")
        if q.key["finding"] == p.key["finding"] and q.id not in moving
    ]
    return min(fixed, default=1.0)


def _above_leaks(kb: Knowledge, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raise a fitted link that fell below its (fitted) leak: a noisy-OR link cannot lower a finding."""
    result = dict(values)
    for pid in values:
        p = kb.parameters[pid]
        if p.table != "finding_links":
            continue
        leak_id = f"finding_leaks:{p.key['finding']}"
        leak = result.get(leak_id, kb.parameters[leak_id].value)
        result[pid] = np.maximum(result[pid], leak)
    return result


CALIBRATED = re.compile(
    r"^Calibrated: .*? Literature value (?P<value>\S+) \((?P<evidence>\w+)\)\. (?P<rest>.*)$", re.S
)


def write_calibrated(kb: Knowledge, fit: Fit) -> Path:
    """Store fitted values in the rows of the folder ``kb`` was loaded from, marked ``calibrated``.

    Each fitted row keeps its source, population and 95% interval; its value becomes the fitted one,
    its evidence ``calibrated``, and its rationale starts by naming the targets it was fitted to and
    the literature value and evidence it had, so a later fit (or a reader) can still see them.
    Refitting a calibrated row keeps the literature value of the first fit.

    Returns
    -------
    Path
        The folder written to.
    """
    by_table: dict[str, dict[int, float]] = {}
    for pid, value in fit.overrides.items():
        p = kb.parameters[pid]
        by_table.setdefault(p.table, {})[p.row] = value
    note = ", ".join(fit.targets)
    for table, rows in by_table.items():
        path = kb.path / f"{table}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header, records = list(reader.fieldnames or []), list(reader)
        for number, record in enumerate(records, start=2):
            if number not in rows:
                continue
            earlier = CALIBRATED.match(record["rationale"])
            literature = (
                (earlier["value"], earlier["evidence"], earlier["rest"])
                if earlier
                else (record["value"], record["evidence"], record["rationale"])
            )
            record["value"] = f"{rows[number]:.4g}"
            record["evidence"] = "calibrated"
            record["rationale"] = (
                f"Calibrated: fitted within this row's 95% interval, with the other links of the presenting "
                f"finding, to the published PCB cohorts marked fit in calibration.yaml ({note}) by "
                f"`python -m model fit --write`. Literature value {literature[0]} ({literature[1]}). "
                f"{literature[2]}"
            )
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    return kb.path
