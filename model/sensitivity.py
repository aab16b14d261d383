"""One-at-a-time sensitivity: which numbers in ``priors/`` move a case's posterior most (a tornado table).

Each parameter in turn is set to the low and then the high end of its 95% interval, all others
keeping their values; a context prevalence moved this way rescales its sibling states, exactly as
an override does. All these variants are columns of one set of network tables (the draws axis),
so the fast engine answers them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.case import Case
from model.inference import DiagnosticModel, check_possible, fast_engine, split_evidence
from model.network import network_tables


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
        Indexed by parameter id, with ``value``, ``ci_low``, ``ci_high``, ``at_low`` and
        ``at_high`` (the posterior with the parameter at each end) and ``swing`` (their absolute
        difference). ``attrs["posterior"]`` holds the posterior at the knowledge base's values.

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
    if not isinstance(case, Case):
        case = model.parse(case)
    check_possible(model, case)
    ids = [
        pid for pid in (parameters if parameters is not None else kb.parameters)
        if kb.parameter(pid, "sensitivity").ci_low is not None
        and kb.parameters[pid].ci_low < kb.parameters[pid].ci_high
    ]  # fmt: skip
    values = {pid: np.full(2 * len(ids), p.value) for pid, p in kb.parameters.items()}
    for i, pid in enumerate(ids):
        p = kb.parameters[pid]
        for column, end in ((2 * i, p.ci_low), (2 * i + 1, p.ci_high)):
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
            "at_low": moved[:, 0],
            "at_high": moved[:, 1],
        },
        index=pd.Index(ids, name="parameter"),
    )
    frame["swing"] = (frame.at_high - frame.at_low).abs()
    frame = frame.sort_values("swing", ascending=False)
    point = model.fast.posteriors(model.fast.encode([context], [findings]))[0, 0, column]
    frame.attrs["posterior"] = float(point)
    return frame
