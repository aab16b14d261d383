"""Posterior cause probabilities: the fast exact engine, and pgmpy's variable elimination as reference.

This module owns `DiagnosticModel` (a knowledge base with its tables, pgmpy network and fast engine,
built once and never changed) and `Diagnosis` (the answer for one case). A diagnosis answers two
questions about each cause: is it *present* (P(present | evidence)), and did it *explain the
bleeding* (P(present and its link produced the presenting bleeding | evidence), the noisy-OR
responsibility), beside the probability that no modelled cause explains it. The differential is
ordered by the second when the case presents with bleeding after sex, and by presence otherwise.
`diagnose` uses the fast engine (`model.quickscore`) by default; ``engine="pgmpy"`` computes the
same answer with pgmpy, which the tests hold the fast engine to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.case import Case, check_case, contradictions, parse_case
from model.errors import CaseError
from model.knowledge import Knowledge, load_knowledge
from model.network import NetworkTables, build_network, last_chain_node, link_node, network_tables
from model.quickscore import EncodedCases, Queries, QuickscoreEngine
from model.triage import Triage, assess_triage, evidence_weighed

if TYPE_CHECKING:  # pgmpy takes seconds to import: it is loaded when the reference engine is first used
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

ENGINES = ("fast", "pgmpy")


@dataclass(frozen=True)
class DiagnosticModel:
    """A validated knowledge base and the network built from it.

    Build one with `build_model`. It is immutable and safe to share between threads and sessions.
    The pgmpy network and its variable elimination are built from the same tables on first use,
    so what needs only the fast engine (the command line, the app) never imports pgmpy.
    """

    knowledge: Knowledge
    tables: NetworkTables = field(repr=False)
    fast: QuickscoreEngine = field(repr=False)

    @cached_property
    def network(self) -> DiscreteBayesianNetwork:
        """The pgmpy network, built from `tables` on first use."""
        return build_network(self.knowledge, self.tables)

    @cached_property
    def engine(self) -> VariableElimination:
        """The reference engine: pgmpy's variable elimination over `network`."""
        from pgmpy.inference import VariableElimination

        return VariableElimination(self.network)

    def parse(self, data: Any) -> Case:
        """Check a `Case`, or raw case data (decoded JSON), against this model's vocabulary."""
        if isinstance(data, Case):
            return check_case(data, self.knowledge.vocabulary)
        return parse_case(data, self.knowledge.vocabulary)


@dataclass(frozen=True)
class Diagnosis:
    """The model's answer for one case.

    Attributes
    ----------
    case : Case
        The case as understood (unknown answers left out).
    posteriors : Mapping[str, float]
        P(cause present | context and findings), for every cause.
    priors : Mapping[str, float]
        P(cause present | context and the presenting answer alone), before any other answer.
    no_cause_found : float
        P(no modelled cause is present | context and findings).
    triage : Triage
        The safety layer's verdict: level, reasons and red flags (see `model.triage`).
    explains : Mapping[str, float] or None
        P(cause present and it produced the bleeding after sex | context and findings), for every
        cause; None when the case does not present with bleeding after sex.
    unexplained : float or None
        P(no modelled cause produced the bleeding | context and findings); None likewise.
    prior_explains : Mapping[str, float] or None
        ``explains`` given the context and the presenting answer alone.
    """

    case: Case
    posteriors: Mapping[str, float]
    priors: Mapping[str, float]
    no_cause_found: float
    triage: Triage
    explains: Mapping[str, float] | None = None
    unexplained: float | None = None
    prior_explains: Mapping[str, float] | None = None

    @property
    def ranked_by(self) -> str:
        """``"explains"`` when ordered by what explains the bleeding after sex, else ``"present"``."""
        return "present" if self.explains is None else "explains"

    @property
    def differential(self) -> Mapping[str, float]:
        """The probabilities the differential is ordered by: ``explains``, or ``posteriors`` without it."""
        return self.posteriors if self.explains is None else self.explains

    @property
    def differential_before(self) -> Mapping[str, float]:
        """`differential` given the context and the presenting answer alone."""
        return self.priors if self.prior_explains is None else self.prior_explains

    @property
    def ranking(self) -> list[str]:
        """Cause ids, most probable first by `differential` (ties keep vocabulary order)."""
        differential = self.differential
        return sorted(differential, key=lambda c: -differential[c])


def build_model(
    knowledge: Knowledge | None = None,
    overrides: Mapping[str, float] | None = None,
    priors_path: str | Path | None = None,
) -> DiagnosticModel:
    """Build the diagnostic model, optionally with some parameters overridden.

    Parameters
    ----------
    knowledge : Knowledge, optional
        A knowledge base; by default the shipped ``priors/`` (or ``priors_path``) is loaded.
    overrides : Mapping[str, float], optional
        Parameter id to value, e.g. ``{"finding_leaks:fever": 0.05}``: tune a number without
        editing files. Ids are listed by ``python -m model parameters``.
    priors_path : str or Path, optional
        A folder laid out like ``priors/`` to load instead of the shipped one.

    Returns
    -------
    DiagnosticModel

    Raises
    ------
    KnowledgeError
        For a bad file, an unknown override id or an invalid override value.

    Examples
    --------
    >>> model = build_model(overrides={"finding_leaks:fever": 0.05})
    >>> model.knowledge.parameters["finding_leaks:fever"].value
    0.05
    """
    kb = knowledge if knowledge is not None else load_knowledge(priors_path)
    if overrides:
        kb = kb.with_overrides(overrides)
    tables = network_tables(kb)
    return DiagnosticModel(kb, tables, fast_engine(kb, tables))


def fast_engine(kb: Knowledge, tables: NetworkTables) -> QuickscoreEngine:
    """Return the fast engine over some tables of this knowledge base (its own values, or draws)."""
    vocab = kb.vocabulary
    serious = [c for c, cause in vocab.causes.items() if cause.serious]
    states = {v: var.states for v, var in vocab.context.items()}
    return QuickscoreEngine(tables, states, list(vocab.causes), serious, vocab.presenting)


def split_evidence(
    model: DiagnosticModel, evidence: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, bool]]:
    """Split node-to-state evidence into context answers and finding answers (True for "yes")."""
    context = model.knowledge.vocabulary.context
    return (
        {k: v for k, v in evidence.items() if k in context},
        {k: v == "yes" for k, v in evidence.items() if k not in context},
    )


def encode_evidence(model: DiagnosticModel, evidences: Sequence[Mapping[str, str]]) -> EncodedCases:
    """Encode node-to-state evidence sets for the model's fast engine."""
    pairs = [split_evidence(model, e) for e in evidences]
    return model.fast.encode([c for c, _ in pairs], [f for _, f in pairs])


def posteriors_given(
    model: DiagnosticModel, evidences: Sequence[Mapping[str, str]], queries: Queries | None = None
) -> np.ndarray:
    """Return P(query | evidence) from the fast engine for several evidence sets at once.

    Parameters
    ----------
    model : DiagnosticModel
    evidences : Sequence[Mapping[str, str]]
        Each maps context ids to states and finding ids to "yes" or "no"; others are unknown.
    queries : Queries, optional
        By default ``model.fast.queries``: ``evidence``, each cause present, ``none``, ``none_serious``.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(evidences), queries)``; a row is NaN where its evidence is impossible.

    Examples
    --------
    >>> model = build_model()
    >>> rows = posteriors_given(model, [{}, {"test_chlamydia": "yes"}])
    >>> chlamydia = model.fast.queries.index("chlamydia")
    >>> bool(rows[1, chlamydia] > rows[0, chlamydia])
    True
    """
    return model.fast.posteriors(encode_evidence(model, evidences), queries)[0]


def _probability(engine: VariableElimination, node: str, state: str, evidence: Mapping[str, str]) -> float:
    factor = engine.query([node], evidence=dict(evidence), show_progress=False)
    return float(factor.values[factor.state_names[node].index(state)])


def posterior_of(model: DiagnosticModel, cause: str, evidence: Mapping[str, str]) -> float:
    """Return P(cause present | evidence) from the reference engine; evidence maps node ids to states.

    Examples
    --------
    >>> model = build_model()
    >>> round(posterior_of(model, "pregnancy_complication", {"pregnancy": "not_pregnant"}), 12)
    0.0
    """
    return _probability(model.engine, cause, "present", evidence)


def _reference_marginals(model: DiagnosticModel, evidence: Mapping[str, str]) -> dict[str, float]:
    return {c: posterior_of(model, c, evidence) for c in model.knowledge.vocabulary.causes}


def presents(model: DiagnosticModel, evidence: Mapping[str, str]) -> bool:
    """Whether the evidence answers the presenting finding (bleeding after sex) "yes"."""
    presenting = model.knowledge.vocabulary.presenting
    return presenting is not None and evidence.get(presenting) == "yes"


def reference_explains(
    model: DiagnosticModel, evidence: Mapping[str, str]
) -> tuple[dict[str, float] | None, float | None]:
    """Return what explains the presenting finding, and the unexplained share, from pgmpy.

    Read directly off the network's link nodes: P(link of cause c fired | evidence), which
    implies c present, and P(no link fired | evidence). None for evidence that does not present.

    Examples
    --------
    >>> model = build_model()
    >>> explains, unexplained = reference_explains(model, {"postcoital_bleeding": "yes"})
    >>> 0 < unexplained < 1 and explains["ectropion"] > explains["fibroid"]
    True
    """
    if not presents(model, evidence):
        return None, None
    presenting = model.knowledge.vocabulary.presenting
    causes = list(model.knowledge.vocabulary.causes)
    explains = {c: _probability(model.engine, link_node(presenting, c), "yes", evidence) for c in causes}
    unexplained = _probability(model.engine, last_chain_node(presenting, causes), "no", evidence)
    return explains, unexplained


def baseline_evidence(model: DiagnosticModel, case: Case) -> dict[str, str]:
    """Return the evidence before any answer but the presenting one: the context and that answer."""
    presenting = model.knowledge.vocabulary.presenting
    evidence = dict(case.context)
    if presenting in case.findings:
        evidence[presenting] = "yes" if case.findings[presenting] else "no"
    return evidence


def probability_none_of(model: DiagnosticModel, causes: Sequence[str], evidence: Mapping[str, str]) -> float:
    """Return P(every cause in ``causes`` is absent | evidence), by the chain rule, one cause at a time.

    Examples
    --------
    >>> model = build_model()
    >>> 0 < probability_none_of(model, ["ectropion", "cervical_polyp"], {"age_band": "25_34"}) < 1
    True
    """
    observed = dict(evidence)
    probability = 1.0
    for cause in causes:
        probability *= _probability(model.engine, cause, "absent", observed)
        if probability <= 0.0:
            return 0.0
        observed[cause] = "absent"
    return probability


def check_possible(model: DiagnosticModel, case: Case) -> None:
    """Reject a case whose answers have probability zero under the model, naming the answer.

    Both engines would otherwise normalise an impossible case silently (pgmpy drops factors that
    evidence makes constant); P(first k answers) for each k finds the first impossible answer.
    """
    items = list(case.evidence().items())
    prefixes = [dict(items[: k + 1]) for k in range(len(items))]
    joint = model.fast.joint(encode_evidence(model, prefixes))[0, :, 0]
    for (node, _), probability in zip(items, joint, strict=True):
        if probability <= 0.0:
            section = "context" if node in case.context else "findings"
            raise CaseError(
                f"{section}.{node}",
                "this answer cannot occur together with the answers before it under the model",
            )


class PosteriorCache:
    """The fast engine's answers for evidence sets, kept by evidence, so that many sets cost one call.

    A diagnosis needs the case's evidence, its baseline (`baseline_evidence`) and every evidence
    set the triage's probability rules weigh (`model.triage.evidence_weighed`): a dozen or so sets,
    each one small engine call if asked one at a time. `for_cases` gathers every set of many cases
    and answers them in one vectorised call; `diagnose` with ``cache=`` then only looks them up.
    Each answer is exactly what the engine gives for that set alone. Rebuilt per batch: it holds
    the cases' evidence, which is never kept beyond the call that needs it.

    Examples
    --------
    >>> model = build_model()
    >>> cases = [model.parse({"findings": {"test_chlamydia": answer}}) for answer in (True, False)]
    >>> cache = PosteriorCache.for_cases(model, cases)
    >>> [diagnose(model, case, cache=cache).ranking[0] for case in cases]
    ['chlamydia', 'ectropion']
    """

    def __init__(self, model: DiagnosticModel) -> None:
        self.model = model
        self._known: dict[tuple, tuple[np.ndarray, np.ndarray | None, float | None]] = {}

    @classmethod
    def for_cases(cls, model: DiagnosticModel, cases: Sequence[Case]) -> PosteriorCache:
        """Return a cache holding everything `diagnose` asks about these cases, from one engine call."""
        cache = cls(model)
        evidences = []
        for case in cases:
            evidences += [case.evidence(), baseline_evidence(model, case)]
            evidences += evidence_weighed(model.knowledge, case)
        cache.add(evidences)
        return cache

    @staticmethod
    def _key(evidence: Mapping[str, str]) -> tuple:
        return tuple(sorted(evidence.items()))

    def add(self, evidences: Sequence[Mapping[str, str]]) -> None:
        """Compute, in one engine call, the evidence sets not yet known."""
        missing = list({self._key(e): e for e in evidences if self._key(e) not in self._known}.values())
        if not missing:
            return
        found = self.model.fast.explained(encode_evidence(self.model, missing))
        for n, evidence in enumerate(missing):
            presenting = bool(found.presenting[n])
            self._known[self._key(evidence)] = (
                found.posteriors[0, n],
                found.explains[0, n] if presenting else None,
                float(found.unexplained[0, n]) if presenting else None,
            )

    def answer(self, evidence: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray | None, float | None]:
        """Return P(query | evidence) for the engine's queries, what explains the presentation, and the rest.

        The last two are None for evidence that does not present with bleeding after sex.
        """
        self.add([evidence])
        return self._known[self._key(evidence)]

    def posteriors_of(self, cause: str, evidences: Sequence[Mapping[str, str]]) -> list[float]:
        """P(cause present | evidence) for each evidence set: the callback the triage rules take."""
        self.add(evidences)
        column = self.model.fast.queries.index(cause)
        return [float(self._known[self._key(e)][0][column]) for e in evidences]


def diagnose(
    model: DiagnosticModel,
    case: Case | Mapping[str, Any],
    engine: str = "fast",
    cache: PosteriorCache | None = None,
) -> Diagnosis:
    """Return posterior cause probabilities for a case.

    Parameters
    ----------
    model : DiagnosticModel
        From `build_model`.
    case : Case or Mapping
        A parsed `Case`, or raw data ``{"context": {...}, "findings": {...}}``. Answers left out
        are unknown and summed out; they are never taken as "no".
    engine : {"fast", "pgmpy"}
        The fast exact engine, or pgmpy's variable elimination (the reference, about 100 times
        slower); they agree to 1e-9.
    cache : PosteriorCache, optional
        The fast engine's answers, computed in advance for many cases (`PosteriorCache.for_cases`);
        by default they are computed for this case alone.

    Returns
    -------
    Diagnosis

    Raises
    ------
    CaseError
        For invalid case data, or answers that cannot occur together under the model.

    Examples
    --------
    >>> model = build_model()
    >>> result = diagnose(model, {"findings": {"test_chlamydia": True}})
    >>> result.ranking[0]
    'chlamydia'
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    case = model.parse(case)
    evidence = case.evidence()
    kb = model.knowledge
    if engine == "pgmpy":
        check_possible(model, case)
        triage = assess_triage(kb, case, lambda cause, seen: [posterior_of(model, cause, e) for e in seen])
        no_cause = probability_none_of(model, list(kb.vocabulary.causes), evidence)
        baseline = baseline_evidence(model, case)
        explains, unexplained = reference_explains(model, evidence)
        return Diagnosis(
            case,
            _reference_marginals(model, evidence),
            _reference_marginals(model, baseline),
            no_cause,
            triage,
            explains,
            unexplained,
            reference_explains(model, baseline)[0],
        )
    if cache is None:  # every set the case and its triage ask for, in one engine call
        cache = PosteriorCache.for_cases(model, [case])
    after, explains, unexplained = cache.answer(evidence)
    if np.isnan(after[0]):
        check_possible(model, case)  # names the first answer that made the case impossible
    before, prior_explains, _ = cache.answer(baseline_evidence(model, case))
    triage = assess_triage(kb, case, cache.posteriors_of)
    queries = model.fast.queries
    causes = list(kb.vocabulary.causes)

    def by_cause(values: np.ndarray | None) -> dict[str, float] | None:
        return None if values is None else {c: float(v) for c, v in zip(causes, values, strict=True)}

    return Diagnosis(
        case,
        {c: float(after[queries.index(c)]) for c in causes},
        {c: float(before[queries.index(c)]) for c in causes},
        float(after[queries.index("none")]),
        triage,
        by_cause(explains),
        unexplained,
        by_cause(prior_explains),
    )


def diagnose_readings(model: DiagnosticModel, data: Case | Mapping[str, Any]) -> tuple[Diagnosis, list[str]]:
    """Diagnose a case whose answers may contradict each other, losing neither an answer nor urgency.

    A consistent case is simply diagnosed. For each contradiction (pregnant after the menopause, a
    positive pregnancy test with "not pregnant"...) every reading that sets aside one of the answers
    involved is diagnosed, and the reading with the most urgent triage is returned, so the
    contradiction can never lower the triage. The caller keeps the answers as entered and shows the
    messages, which name the answers and the one set aside for the figures.

    Returns
    -------
    tuple of (Diagnosis, list of str)
        The diagnosis of the most urgent reading, and one message per contradiction (empty when the
        answers agree).

    Examples
    --------
    >>> model = build_model()
    >>> contradictory = {"context": {"menopause": "post", "pregnancy": "first_trimester"}}
    >>> result, problems = diagnose_readings(model, contradictory)
    >>> result.triage.level, problems[0].startswith('"Pregnancy" and "Menopause" cannot both be right')
    ('urgent', True)
    """
    vocabulary = model.knowledge.vocabulary
    case = data if isinstance(data, Case) else parse_case(data, vocabulary, check_combinations=False)
    found = contradictions(case, vocabulary)
    if not found:
        return diagnose(model, case), []
    readings = [case]
    for combo in found:  # each contradiction doubles the readings: one answer or the other set aside
        readings = [_without(r, node) for r in readings for node in combo.when]
    results = [diagnose(model, r) for r in readings if not contradictions(r, vocabulary)]
    policy = model.knowledge.red_flags
    chosen = max(results, key=lambda r: policy.urgency(r.triage.level))  # the first of the most urgent
    kept = chosen.case.evidence()

    def label(node: str) -> str:
        item = vocabulary.context.get(node) or vocabulary.findings[node]
        return f'"{item.label}"'

    messages = []
    for combo in found:
        aside = ", ".join(label(n) for n in combo.when if n not in kept)
        messages.append(
            f"{' and '.join(label(n) for n in combo.when)} cannot both be right: {combo.message}. Every "
            f"answer is kept as entered; the figures and triage set aside {aside}, the reading that gives "
            "the more urgent advice. Please check these answers."
        )
    return chosen, messages


def diagnose_as_entered(model: DiagnosticModel, case: Case) -> tuple[Diagnosis, list[str]]:
    """`diagnose_readings`, setting aside (and naming) any answer the model gives no chance at all.

    A tuned priors folder can make an answer impossible (a finding whose links and leak are all
    zero); a link or a file can still carry it. Only that answer is set aside, the rest is kept.

    Returns
    -------
    tuple of (Diagnosis, list of str)
        The diagnosis, then one message per answer set aside and per contradiction.

    Examples
    --------
    >>> model = build_model(overrides={"finding_leaks:fever": 0.0})
    >>> links = [p for p in model.knowledge.parameters if p.endswith(":fever")]
    >>> model = build_model(model.knowledge, overrides=dict.fromkeys(links, 0.0))
    >>> result, problems = diagnose_as_entered(model, Case({"age_band": "25_34"}, {"fever": True}))
    >>> result.case.context, "fever" in result.case.findings, problems[0].split(" cannot")[0]
    ({'age_band': '25_34'}, False, '"Fever or feeling unwell"')
    """
    vocabulary, set_aside = model.knowledge.vocabulary, []
    while True:
        try:
            result, messages = diagnose_readings(model, case)
            return result, [*set_aside, *messages]
        except CaseError as exc:
            node = exc.field.partition(".")[2]
            if node not in case.evidence():
                raise
            item = vocabulary.context.get(node) or vocabulary.findings[node]
            set_aside.append(
                f'"{item.label}" cannot occur with the other answers under these numbers, so the figures '
                "and triage set it aside. Please check this answer."
            )
            case = _without(case, node)


def _without(case: Case, node: str) -> Case:
    """Return the case with one answer (context or finding) set aside."""
    context = {k: v for k, v in case.context.items() if k != node}
    return Case(context, {k: v for k, v in case.findings.items() if k != node})
