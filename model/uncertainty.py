"""Parameter uncertainty: draw the knowledge base's numbers from their stated intervals, propagate them.

Each row of ``priors/`` has a value and, as a rule, a 95% interval. A probability is drawn from the Beta
distribution with that mean whose standard deviation is the interval's width / 3.92 (method of
moments; where the interval is wider than any Beta with that mean allows, the flattest Beta,
alpha + beta = 2, is used). An odds ratio is drawn from the log-normal with median the value and
log-scale standard deviation log(high / low) / 3.92. A row whose interval has zero width is fixed.
A row that gives only counts, with no interval, is held fixed. Context prevalences are drawn row by
row and each distribution is renormalised, and a finding's link is never drawn below its leak (a
cause cannot make a finding less likely than no cause).

Each draw is a whole network; the fast engine (`model.quickscore`) computes a case's posteriors
under all of them at once, and `posterior_intervals` reports their central credible interval.
Draws are seeded: the same seed gives the same intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from model.case import Case
from model.errors import ArgumentError
from model.inference import DiagnosticModel, check_possible, fast_engine, split_evidence
from model.intake import fraction, whole_number
from model.knowledge import TABLES, Knowledge
from model.network import network_tables

if TYPE_CHECKING:  # pandas is slow to import; the command line loads it only for --intervals
    import pandas as pd

DEFAULT_DRAWS = 2000
MAX_DRAWS = 20_000  # ten times the default: memory grows with the draws (about 1 GiB here)
DEFAULT_LEVEL = 0.9
Z_95 = 3.92  # width of a 95% normal interval in standard deviations
DRAW_PRECISION = 1e-6  # per-draw rounding bound: far below the Monte Carlo error of any interval


def parameter_draws(kb: Knowledge, draws: int = DEFAULT_DRAWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw every parameter from its stated uncertainty.

    Parameters
    ----------
    kb : Knowledge
    draws : int
        Number of draws.
    seed : int
        Seed of the random generator; the same seed gives the same draws.

    Returns
    -------
    dict[str, numpy.ndarray]
        Parameter id to ``draws`` values, ready for `model.network.network_tables`.

    Examples
    --------
    >>> from model import load_knowledge
    >>> values = parameter_draws(load_knowledge(), draws=500, seed=1)
    >>> leak = values["finding_leaks:fever"]
    >>> leak.shape, bool(0.0 < leak.min() and leak.max() < 1.0)
    ((500,), True)
    """
    rng = np.random.default_rng(seed)
    values = {}
    for p in kb.parameters.values():
        low, high = p.ci_low, p.ci_high
        if low is None or high is None or high <= low:
            values[p.id] = np.full(draws, p.value)
        elif TABLES[p.table].kind == "odds_ratio":
            values[p.id] = np.exp(rng.normal(np.log(p.value), np.log(high / low) / Z_95, draws))
        elif p.value <= 0.0 or p.value >= 1.0:
            values[p.id] = np.full(draws, p.value)
        else:
            mean, sd = p.value, (high - low) / Z_95
            concentration = max(mean * (1 - mean) / sd**2 - 1, 2.0)
            values[p.id] = rng.beta(mean * concentration, (1 - mean) * concentration, draws)
    for p in kb.table("finding_links"):
        values[p.id] = np.maximum(values[p.id], values[f"finding_leaks:{p.key['finding']}"])
    return values


def posterior_intervals(
    model: DiagnosticModel,
    case: Case | Mapping[str, Any],
    draws: int = DEFAULT_DRAWS,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> pd.DataFrame:
    """Return each cause's posterior with its credible interval over the parameters' uncertainty.

    Parameters
    ----------
    model : DiagnosticModel
    case : Case or Mapping
        A parsed case or raw case data.
    draws : int
        Number of parameter draws, 1 to `MAX_DRAWS`.
    level : float
        Probability mass of the central interval, e.g. 0.9 for the 5th to 95th percentile.
    seed : int
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        Indexed by cause id (first the most probable by the differential's ordering), with
        ``posterior`` (P(present) at the knowledge base's own values), ``low``, ``median`` and
        ``high``; for a case that presents with bleeding after sex also ``explains`` and its
        ``explains_low``, ``explains_median`` and ``explains_high``. ``attrs`` holds ``level``,
        ``draws`` and ``seed``.

    Raises
    ------
    ArgumentError
        For draws outside 1 to `MAX_DRAWS`, a level not strictly between 0 and 1, or a negative seed.
    CaseError
        For invalid case data.

    Examples
    --------
    >>> from model import build_model
    >>> table = posterior_intervals(build_model(), {"findings": {"test_chlamydia": True}}, draws=200)
    >>> row = table.loc["chlamydia"]
    >>> bool(row.low <= row.posterior <= row.high)
    True
    """
    import pandas as pd

    draws = whole_number(draws, "draws", 1, MAX_DRAWS)
    seed = whole_number(seed, "seed", 0)
    level = fraction(level, "level")
    if not 0.0 < level < 1.0:
        raise ArgumentError("level", f"{level!r} must be strictly between 0 and 1")
    case = model.parse(case)
    check_possible(model, case)
    kb = model.knowledge
    engine = fast_engine(kb, network_tables(kb, parameter_draws(kb, draws, seed)))
    context, findings = split_evidence(model, case.evidence())
    encoded = engine.encode([context], [findings])
    drawn = engine.explained(encoded, precision=DRAW_PRECISION)
    point = model.fast.explained(model.fast.encode([context], [findings]))
    causes = list(kb.vocabulary.causes)
    columns = [engine.queries.index(c) for c in causes]
    tail = (1 - level) / 2
    low, median, high = np.nanquantile(drawn.posteriors[:, 0, columns], [tail, 0.5, 1 - tail], axis=0)
    table = pd.DataFrame(
        {"posterior": point.posteriors[0, 0, columns], "low": low, "median": median, "high": high},
        index=pd.Index(causes, name="cause"),
    )
    order = "posterior"
    if point.presenting[0]:  # what explains the bleeding, under the same draws
        order = "explains"
        spread = np.nanquantile(drawn.explains[:, 0, :], [tail, 0.5, 1 - tail], axis=0)
        table["explains"] = point.explains[0, 0]
        table["explains_low"], table["explains_median"], table["explains_high"] = spread
    table = table.sort_values(order, ascending=False)
    table.attrs.update(level=level, draws=draws, seed=seed)
    return table


def context_configurations(model: DiagnosticModel, case: Case) -> int:
    """Return how many configurations of the unknown context a case's intervals must sum over.

    The cost of `posterior_intervals` grows with it: one configuration when the whole context is
    known, over ten thousand when none of it is.

    Examples
    --------
    >>> from model import build_model
    >>> model = build_model()
    >>> context_configurations(model, model.parse({"context": {"age_band": "25_34"}}))
    2160
    """
    context = model.knowledge.vocabulary.context
    return int(np.prod([len(var.states) for v, var in context.items() if v not in case.context]))
