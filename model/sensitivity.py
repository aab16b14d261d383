"""One-at-a-time sensitivity: which numbers in ``priors/`` move a case's posterior most (a tornado table).

Each parameter in turn is set to the low and then the high end of its 95% interval, all others
keeping their values; a context prevalence moved this way rescales its sibling states, exactly as
an override does, and an end the knowledge base would refuse (a link below its finding's leak) is
narrowed to the nearest value it accepts. All these variants are columns of one set of network
tables (the draws axis), so the fast engine answers them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.case import Case
from model.inference import DiagnosticModel, check_possible, fast_engine, split_evidence
from model.knowledge import Knowledge, Parameter
from model.network import network_tables


def _allowed_ends(kb: Knowledge, p: Parameter) -> tuple[float, float]:
    """Return the ends of a parameter's interval, narrowed to what the knowledge base accepts.

    A finding's link may not fall below its leak (a cause cannot make a finding less likely than
    no cause), so a link's low end stops at the leak and a leak's high end at its lowest link.
    """
    low, high = p.ci_low, p.ci_high
    if p.table == "finding_links":
        low = max(low, kb.parameters[f"finding_leaks:{p.key['finding']}"].value)
    elif p.table == "finding_leaks":
        links = [q.value for q in kb.table("finding_links") if q.key["finding"] == p.key["finding"]]
        high = min([high, *links])
    return low, high


def tornado(
    model: DiagnosticModel,
    case: Case | Mapping[str, Any],
    cause: str,
    parameters: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return how far each parameter's 95% interval moves one cause's posterior, widest swing first.

    Parameters
    ----------
    model : DiagnosticModel
    case : Case or Mapping
        A parsed case or raw case data.
    cause : str
        The cause whose posterior is studied.
    parameters : Sequence[str], optional
        Parameter ids to vary; by default every parameter with an interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter id, with ``value``, ``ci_low``, ``ci_high``, ``low`` and ``high`` (the
        ends used), ``at_low`` and ``at_high`` (the posterior with the parameter at each end),
        ``swing`` (their absolute difference) and ``impossible`` (an end makes the case's answers
        impossible; its posterior is NaN). Those rows come first, then the widest swings.
        ``attrs["posterior"]`` holds the posterior at the knowledge base's values.

    Examples
    --------
    >>> from model import build_model
    >>> table = tornado(build_model(), {"findings": {"test_chlamydia": True}}, "chlamydia")
    >>> table.index[0]
    'finding_leaks:test_chlamydia'
    """
    kb = model.knowledge
    if cause not in kb.vocabulary.causes:
        raise ValueError(f"unknown cause {cause!r}")
    case = model.parse(case)
    check_possible(model, case)
    ids = [
        pid for pid in (parameters if parameters is not None else kb.parameters)
        if kb.parameter(pid, "sensitivity").ci_low is not None
        and kb.parameters[pid].ci_low < kb.parameters[pid].ci_high
    ]  # fmt: skip
    if not ids:
        raise ValueError("no parameter with a 95% interval to vary among those given")
    ends = {pid: _allowed_ends(kb, kb.parameters[pid]) for pid in ids}
    values = {pid: np.full(2 * len(ids), p.value) for pid, p in kb.parameters.items()}
    for i, pid in enumerate(ids):
        p = kb.parameters[pid]
        for column, end in zip((2 * i, 2 * i + 1), ends[pid], strict=True):
            changed = {pid: end}
            if p.table == "context_prevalence":  # the siblings rescale, as with an override
                tuned = kb.with_overrides({pid: end}).parameters
                changed = {q: tuned[q].value for q in tuned if tuned[q].value != kb.parameters[q].value}
            for q, value in changed.items():
                values[q][column] = value
    engine = fast_engine(kb, network_tables(kb, values))
    context, findings = split_evidence(model, case.evidence())
    column = engine.queries.index(cause)
    moved = engine.posteriors(engine.encode([context], [findings]))[:, 0, column].reshape(-1, 2)
    frame = pd.DataFrame(
        {
            "value": [kb.parameters[pid].value for pid in ids],
            "ci_low": [kb.parameters[pid].ci_low for pid in ids],
            "ci_high": [kb.parameters[pid].ci_high for pid in ids],
            "low": [ends[pid][0] for pid in ids],
            "high": [ends[pid][1] for pid in ids],
            "at_low": moved[:, 0],
            "at_high": moved[:, 1],
        },
        index=pd.Index(ids, name="parameter"),
    )
    frame["swing"] = (frame.at_high - frame.at_low).abs()
    frame["impossible"] = np.isnan(moved).any(axis=1)
    frame = frame.sort_values(["impossible", "swing"], ascending=[False, False])
    point = model.fast.posteriors(model.fast.encode([context], [findings]))[0, 0, column]
    frame.attrs["posterior"] = float(point)
    return frame
