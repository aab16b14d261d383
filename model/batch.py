"""Score a cohort: posterior cause probabilities for every row of a table, vectorised.

A cohort is a `pandas.DataFrame` with one row per woman and one column per context variable or
finding, named by their ids (``python -m model parameters`` and ``priors/vocabulary.yaml`` list
them). A context cell holds a state id; a finding cell holds yes or no (also true/false, 1/0);
an empty cell is unknown, never "no". The presenting complaint, ``postcoital_bleeding``, is "yes"
unless the row says no, as for a single case. Columns may be left out: they are unknown for everyone. The
row index is kept, so an identifier column can be set as the index.

`score` gives probabilities only. Red flags and triage belong to each woman's own assessment
(`model.diagnose`, or ``python -m model diagnose --batch`` on JSON lines), and a low probability
in a cohort table never rules a cause out.

Past one machine, `score_partitions` runs the same function on each partition of a Dask
DataFrame (``pip install -e ".[dask]"``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from model.errors import ArgumentError, CaseError
from model.inference import DiagnosticModel
from model.intake import fraction, shown, whole_number
from model.quickscore import NONE, NONE_SERIOUS, EncodedCases, safe_log

CHUNK_ROWS = 20_000  # rows per engine call: bounded memory, and a progress step
YES = frozenset({"yes", "true", "1", "y", "1.0"})
NO = frozenset({"no", "false", "0", "n", "0.0"})
NO_CAUSE, ANY_SERIOUS, PROBLEM = "no_cause_found", "any_serious_cause", "problem"
EXPLAINS, UNEXPLAINED = "explains_", "unexplained"


def output_columns(model: DiagnosticModel) -> list[str]:
    """Return the columns `score` produces: each cause present, what explains the bleeding, and summaries.

    Examples
    --------
    >>> from model import build_model
    >>> columns = output_columns(build_model())
    >>> columns[0], "explains_ectropion" in columns, columns[-4:]
    ('ectropion', True, ['unexplained', 'no_cause_found', 'any_serious_cause', 'problem'])
    """
    causes = list(model.knowledge.vocabulary.causes)
    return [*causes, *(EXPLAINS + c for c in causes), UNEXPLAINED, NO_CAUSE, ANY_SERIOUS, PROBLEM]


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip()
    return (values.isna() | (text == "")).to_numpy(dtype=bool)


def encode_frame(model: DiagnosticModel, frame: pd.DataFrame) -> EncodedCases:
    """Check a cohort table against the vocabulary and encode it for the fast engine.

    Raises
    ------
    ArgumentError
        If ``frame`` is not a DataFrame.
    CaseError
        Naming the column (and the first bad row) of an unknown, repeated or badly filled column.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError("frame", f"must be a pandas DataFrame, not {type(frame).__name__}")
    vocab = model.knowledge.vocabulary
    engine = model.fast
    known = set(vocab.context) | set(vocab.findings)
    twice = frame.columns[frame.columns.duplicated()].unique()
    if len(twice):
        raise CaseError(f"column {shown(str(twice[0]))}", "appears twice; give each column once")
    for column in frame.columns:
        if column not in known:
            close = difflib.get_close_matches(str(column), known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise CaseError(f"column {shown(str(column))}", f"not a context variable or finding id{hint}")
    context = np.full((len(frame), len(engine.context)), -1, dtype=np.int64)
    findings = np.full((len(frame), len(engine.findings)), -1, dtype=np.int8)
    for i, var in enumerate(engine.context):
        if var not in frame:
            continue
        blank = _blank(frame[var])
        states = list(engine.context_states[var])
        position = {state: i for i, state in enumerate(states)}
        codes = frame[var].astype("string").str.strip().map(position).fillna(-1).to_numpy(dtype=np.int64)
        bad = (codes < 0) & ~blank
        if bad.any():
            row = frame.index[np.argmax(bad)]
            raise CaseError(
                f"column {var}, {frame.index.name or 'row'} {row}",
                f"{frame[var].iloc[np.argmax(bad)]!r} is not one of: {', '.join(states)}",
            )
        context[:, i] = np.where(blank, -1, codes)
    for j, finding in enumerate(engine.findings):
        if finding not in frame:
            continue
        blank = _blank(frame[finding])
        text = frame[finding].astype("string").str.strip().str.lower()
        yes, no = text.isin(YES).to_numpy(dtype=bool), text.isin(NO).to_numpy(dtype=bool)
        bad = ~(yes | no | blank)
        if bad.any():
            row = frame.index[np.argmax(bad)]
            raise CaseError(
                f"column {finding}, {frame.index.name or 'row'} {row}",
                f"{frame[finding].iloc[np.argmax(bad)]!r} is not yes, no or empty",
            )
        findings[:, j] = np.where(yes, 1, np.where(no, 0, -1))
    if vocab.presenting is not None:  # bleeding after sex unless the row says otherwise
        column = findings[:, engine.findings.index(vocab.presenting)]
        column[column < 0] = 1
    return EncodedCases(context, findings)


def _rule_violations(model: DiagnosticModel, cases: EncodedCases) -> np.ndarray:
    """Return, per row, the message of the first impossible combination it matches, or ""."""
    engine = model.fast
    problems = np.full(len(cases), "", dtype=object)
    for rule in model.knowledge.vocabulary.impossible_combinations:
        match = np.ones(len(cases), dtype=bool)
        for node, states in rule.when.items():
            if node in engine.context_states:
                allowed = [engine.context_states[node].index(s) for s in states]
                match &= np.isin(cases.context[:, engine.context.index(node)], allowed)
            else:
                answers = [1 if s == "yes" else 0 for s in states]
                match &= np.isin(cases.findings[:, engine.findings.index(node)], answers)
        problems[match & (problems == "")] = rule.message
    return problems


def score(
    model: DiagnosticModel,
    frame: pd.DataFrame,
    progress: bool | Callable[[int, int], Any] = False,
) -> pd.DataFrame:
    """Return posterior cause probabilities for every row of a cohort table.

    Parameters
    ----------
    model : DiagnosticModel
    frame : pandas.DataFrame
        One row per case; columns named by context and finding ids (see the module docstring).
    progress : bool or callable, optional
        True shows a progress bar on standard error; a callable is called as ``progress(done, total)``
        after each chunk of `CHUNK_ROWS` rows.

    Returns
    -------
    pandas.DataFrame
        Same index; one column per cause (P(present)), one ``explains_`` column per cause
        (P(present and it produced the bleeding after sex)), ``unexplained`` (P(no modelled cause
        produced it); the ``explains_`` columns and this one are empty for a row answering
        ``postcoital_bleeding`` no), ``no_cause_found`` (P(no modelled cause present)),
        ``any_serious_cause`` (P(at least one serious cause)) and ``problem`` (empty, or why the
        row's answers cannot occur together; its probabilities are then NaN).

    Raises
    ------
    ArgumentError
        If ``frame`` is not a DataFrame.
    CaseError
        For an unknown or repeated column or a bad value, naming it and the row.

    Examples
    --------
    >>> from model import build_model
    >>> cohort = pd.DataFrame({"age_band": ["25_34", None], "test_chlamydia": ["yes", ""]})
    >>> scored = score(build_model(), cohort)
    >>> bool(scored.loc[0, "chlamydia"] > scored.loc[1, "chlamydia"])
    True
    """
    cases = encode_frame(model, frame)
    queries = model.fast.queries
    causes = list(model.knowledge.vocabulary.causes)
    columns = [queries.index(c) for c in causes] + [queries.index(NONE), queries.index(NONE_SERIOUS)]
    values = np.empty((len(frame), len(columns)))
    explained = np.empty((len(frame), len(causes) + 1))
    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=len(frame), unit="case", desc="scoring", leave=False)
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = slice(start, start + CHUNK_ROWS)
        found = model.fast.explained(EncodedCases(cases.context[chunk], cases.findings[chunk]))
        values[chunk] = found.posteriors[0][:, columns]
        explained[chunk] = np.concatenate([found.explains[0], found.unexplained[0][:, None]], axis=1)
        done = min(start + CHUNK_ROWS, len(frame))
        if bar is not None:
            bar.update(done - start)
        elif callable(progress):
            progress(done, len(frame))
    if bar is not None:
        bar.close()
    values[:, -1] = 1 - values[:, -1]
    result = pd.DataFrame(
        np.concatenate([values[:, : len(causes)], explained, values[:, len(causes) :]], axis=1),
        index=frame.index,
        columns=output_columns(model)[:-1],
    )
    problems = _rule_violations(model, cases)
    impossible = np.isnan(values[:, 0]) & (problems == "")  # a row presenting or not has P(present)
    problems[impossible] = "these answers cannot occur together under the model"
    result.loc[problems != "", result.columns] = np.nan
    result[PROBLEM] = problems
    return result


def score_partitions(model: DiagnosticModel, frame: Any) -> Any:
    """Score a Dask DataFrame partition by partition with `score`; returns a lazy Dask DataFrame.

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> scored = score_partitions(model, dd.read_parquet("cohort/")).compute()  # doctest: +SKIP
    """
    meta = pd.DataFrame({c: pd.Series(dtype=float) for c in output_columns(model)[:-1]})
    meta[PROBLEM] = pd.Series(dtype=object)
    return frame.map_partitions(lambda part: score(model, part), meta=meta)


def simulate_cohort(
    model: DiagnosticModel, size: int, seed: int = 0, context_known: float = 0.9, answered: float = 0.25
) -> pd.DataFrame:
    """Draw a synthetic cohort of women who present with bleeding after sex, from the network itself.

    Women are drawn from the network's tables (context, then causes, then findings) and those
    whose presenting complaint came out "yes" are kept, until there are ``size`` of them: the same
    selection Bayes' rule makes for a real case. Then each context variable is kept with
    probability ``context_known`` and each other finding with probability ``answered``, the rest
    left empty (unknown). For benchmarks and teaching: the cohort is as coherent as the model, no
    more.

    Raises
    ------
    ArgumentError
        For a negative size or seed, or a share outside 0 to 1.

    Examples
    --------
    >>> from model import build_model
    >>> cohort = simulate_cohort(build_model(), 5, seed=1)
    >>> cohort.shape[0], set(cohort["postcoital_bleeding"])
    (5, {'yes'})
    """
    size = whole_number(size, "size", 0)
    context_known, answered = fraction(context_known, "context_known"), fraction(answered, "answered")
    rng = np.random.default_rng(whole_number(seed, "seed", 0))
    engine = model.fast
    presenting = model.knowledge.vocabulary.presenting
    context, findings = _draw(model, rng, max(size, 1))
    if presenting is not None:
        j = engine.findings.index(presenting)
        kept_context, kept_findings, count = [], [], 0
        while count < size:
            keep = findings[:, j]
            kept_context.append(context[keep])
            kept_findings.append(findings[keep])
            count += int(keep.sum())
            context, findings = _draw(model, rng, max(4 * size, 1000))
        context = np.concatenate(kept_context)[:size]
        findings = np.concatenate(kept_findings)[:size]
    columns = {}
    for i, var in enumerate(engine.context):
        states = np.array(engine.context_states[var], dtype=object)[context[:, i]]
        columns[var] = np.where(rng.random(size) < context_known, states, None)
    for j, finding in enumerate(engine.findings):
        asked = rng.random(size) < answered if finding != presenting else np.ones(size, dtype=bool)
        columns[finding] = np.where(asked, np.where(findings[:size, j], "yes", "no"), "")
    # The network gives some answers that the vocabulary rules out together (bleeding near a period
    # after the menopause): a woman would not say so, so such an answer is left unasked.
    for rule in model.knowledge.vocabulary.impossible_combinations:
        match = np.ones(size, dtype=bool)
        for node, states in rule.when.items():
            match &= np.isin(columns[node].astype(object), list(states))
        for node in rule.when:
            if node in engine.findings and node != presenting:
                columns[node] = np.where(match, "", columns[node])
    return pd.DataFrame(columns)


def _draw(model: DiagnosticModel, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``size`` women from the network: context state indices and findings (True for yes)."""
    engine, tables = model.fast, model.tables
    context = np.zeros((size, len(engine.context)), dtype=np.int64)
    for i, (var, parent) in enumerate(tables.context_parent.items()):  # parents come first in the vocabulary
        column = context[:, engine.context.index(parent)] if parent else np.zeros(size, dtype=np.int64)
        cumulative = np.cumsum(tables.context_cpd[var][0][:, column].T, axis=1)
        context[:, i] = (rng.random((size, 1)) > cumulative).sum(axis=1).clip(max=cumulative.shape[1] - 1)
    present = np.stack([rng.random(size) < engine._at_context(c, context)[0] for c in engine.causes], axis=1)
    log_no = np.log1p(-tables.finding_leak[0]) + present @ safe_log(tables.cause_inhibitor[0])
    for var, inhibitor in tables.context_inhibitor.items():
        log_no = log_no + safe_log(inhibitor[0][:, context[:, engine.context.index(var)]].T)
    return context, rng.random(log_no.shape) >= np.exp(log_no)
