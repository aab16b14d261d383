"""The safety layer: which red flags a case raises and how urgently it should be seen.

Rules come from ``priors/red_flags.yaml`` (see `model.redflags`); this module only evaluates them.
A rule on answers fires whatever the probabilities say. A probability rule fires when the model's
probability of a cause, given the context and ANY combination of up to ``combine_at_most`` of the
"yes" answers the cause can produce, reaches its threshold. Adding a "yes" only adds combinations,
and a "no" is never used, so no answer can lower the signal: a benign finding that explains the
bleeding, or a reassuring test, can never silence a red flag that the rest of the case raised.
A rule on answers stops firing only through its ``unless``, a completed work-up stated by its
guideline, made of "no" answers alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from model.case import Case
from model.knowledge import Knowledge
from model.redflags import Rule
from model.vocabulary import Source

PosteriorsOf = Callable[[str, Sequence[Mapping[str, str]]], Sequence[float]]
"""P(cause present | evidence) for each of several evidence sets, the engine's answer for one cause."""


@dataclass(frozen=True)
class RedFlag:
    """A rule that fired: what it means, for the person and for the clinician, and the guidance behind it."""

    id: str
    level: str
    message: str
    source: tuple[str, ...]
    locator: str
    clinician: str


@dataclass(frozen=True)
class Triage:
    """How urgently to seek care, and why.

    Attributes
    ----------
    level : str
        One of ``emergency``, ``urgent``, ``suspected_cancer``, ``soon``, ``routine``, ``self_care``.
    label, action : str
        The level in words, and what to do, addressed to the person with the bleeding.
    clinician_action : str
        What to do, addressed to the clinician.
    reasons : tuple[RedFlag, ...]
        Every rule that fired (red flags and routine reasons), most urgent first; or the baseline
        or reassurance reason when none did.
    red_flags : tuple[RedFlag, ...]
        The fired rules more urgent than routine.
    advice : tuple[str, ...]
        Advice a patient can read, for the baseline and reassurance levels (when no rule fired).
    covered : tuple[str, ...]
        Ids of reasons that another fired rule, at least as urgent, includes (its ``covered_by``):
        they count for the level but are not written out again (`shown_reasons`).
    """

    level: str
    label: str
    action: str
    clinician_action: str
    reasons: tuple[RedFlag, ...]
    red_flags: tuple[RedFlag, ...]
    advice: tuple[str, ...]
    covered: tuple[str, ...] = ()

    @property
    def shown_reasons(self) -> tuple[RedFlag, ...]:
        """The reasons to write out: every one but those another fired rule covers."""
        return tuple(reason for reason in self.reasons if reason.id not in self.covered)


def condition_holds(when: Mapping[str, tuple[str, ...]], evidence: Mapping[str, str]) -> bool:
    """Return True when every entry holds; an unanswered id never satisfies an entry.

    Examples
    --------
    >>> condition_holds({"heavy": ("yes",)}, {"heavy": "yes"})
    True
    >>> condition_holds({"heavy": ("yes",)}, {})
    False
    """
    return all(evidence.get(node) in states for node, states in when.items())


@dataclass(frozen=True)
class Signal:
    """What a probability rule is judged on: the highest probability, and the answers that reached it."""

    value: float
    answers: tuple[str, ...]


def probability_signal(
    cause: str,
    case: Case,
    posteriors_of: PosteriorsOf,
    pointing: Collection[str],
    at_most: int,
    always: str | None = None,
) -> Signal:
    """Return the highest P(cause | context and a combination of "yes" answers), and that combination.

    The combinations are every set of up to ``at_most`` of the case's "yes" answers among
    ``pointing`` (the findings the cause can produce), including none, each with ``always`` (the
    presenting complaint) when it is answered "yes". Adding a "yes" only adds combinations and
    answers of "no" are never used, so the signal never falls as answers are added.

    Examples
    --------
    >>> def posteriors_of(cause, evidences):  # a stand-in: each answer adds 0.1
    ...     return [0.01 + 0.1 * sum(v == "yes" for v in e.values()) for e in evidences]
    >>> case = Case({"age_band": "45_54"}, {"a": True, "b": True, "c": False, "d": True})
    >>> probability_signal("x", case, posteriors_of, pointing={"a", "b", "c"}, at_most=3)
    Signal(value=0.21000000000000002, answers=('a', 'b'))
    >>> probability_signal("x", case, posteriors_of, pointing={"a", "b", "c"}, at_most=1, always="d")
    Signal(value=0.21000000000000002, answers=('d', 'a'))
    """
    context = dict(case.context)
    base = (always,) if always is not None and case.findings.get(always) else ()
    positive = [f for f, answer in case.findings.items() if answer and f in pointing and f not in base]
    chosen = [
        (*base, *combo)
        for size in range(min(at_most, len(positive)) + 1)
        for combo in combinations(positive, size)
    ]
    values = posteriors_of(cause, [{**context, **dict.fromkeys(combo, "yes")} for combo in chosen])
    best = max(range(len(chosen)), key=lambda i: values[i])  # the first of the highest
    return Signal(float(values[best]), chosen[best])


def reassures(rule: Rule, case: Case) -> bool:
    """Whether a reassurance entry holds: every reassuring answer given, and no "yes" that points anywhere.

    Examples
    --------
    >>> rule = Rule("r", "self_care", "", (), "", {"recurrent": ("no",)}, benign_yes=("postcoital_bleeding",))
    >>> reassures(rule, Case({}, {"postcoital_bleeding": True, "recurrent": False}))
    True
    >>> reassures(rule, Case({}, {"postcoital_bleeding": True, "recurrent": False, "test_chlamydia": True}))
    False
    """
    pointing = [f for f, answer in case.findings.items() if answer and f not in rule.benign_yes]
    return condition_holds(rule.when, case.evidence()) and not pointing


def fires(rule: Rule, evidence: Mapping[str, str]) -> bool:
    """Whether a rule on answers fires: its condition holds and its ``unless`` work-up is not complete.

    Examples
    --------
    >>> rule = Rule("r", "soon", "", (), "", {"recurrent": ("yes",)}, unless={"test_hpv": ("no",)})
    >>> fires(rule, {"recurrent": "yes"}), fires(rule, {"recurrent": "yes", "test_hpv": "no"})
    (True, False)
    """
    completed = bool(rule.unless) and condition_holds(rule.unless, evidence)
    return condition_holds(rule.when, evidence) and not completed


def _flag(rule: Rule, sources: Mapping[str, Source], detail: str = "") -> RedFlag:
    citations = tuple(sources[key].citation() for key in rule.source)
    message, clinician = (f"{text} {detail}".strip() for text in (rule.message, rule.clinician))
    return RedFlag(rule.id, rule.level, message, citations, rule.locator, clinician)


def pointing_findings(knowledge: Knowledge, cause: str) -> frozenset[str]:
    """Return the findings a cause can produce (those it has a link to): its answers can point to it.

    Examples
    --------
    >>> from model import load_knowledge
    >>> "exam_cervical_lesion" in pointing_findings(load_knowledge(), "cervical_cancer")
    True
    """
    return frozenset(
        p.key["finding"] for p in knowledge.table("finding_links") if p.key["link_source"] == cause
    )


def assess_triage(knowledge: Knowledge, case: Case, posteriors_of: PosteriorsOf) -> Triage:
    """Evaluate every rule for a case and return its triage.

    Parameters
    ----------
    knowledge : Knowledge
        Its ``red_flags`` are the rules, its sources cite each rule's guidance, its vocabulary names
        the answers in a probability rule's message, and its links say which answers can point to a
        cause.
    case : Case
        Context and answered findings.
    posteriors_of : callable
        ``posteriors_of(cause, evidences)`` returns P(cause present | evidence) for each evidence set.

    Returns
    -------
    Triage
        The most urgent level of all fired rules; with none, the reassurance level if one holds,
        else the baseline.
    """
    policy, sources, vocabulary = knowledge.red_flags, knowledge.sources, knowledge.vocabulary
    fired: list[tuple[Rule, str]] = []
    for rule in policy.rules:
        if rule.cause is None:
            if fires(rule, case.evidence()):
                fired.append((rule, ""))
            continue
        pointing = pointing_findings(knowledge, rule.cause)
        signal = probability_signal(
            rule.cause, case, posteriors_of, pointing, rule.combine_at_most, vocabulary.presenting
        )
        if signal.value >= rule.at_least:
            given = ", ".join(f'"{vocabulary.findings[f].label}"' for f in signal.answers) or "no answer"
            detail = (  # the chart's figure differs (every answer, and "explains" by default): say so
                f"Here the chance that it is present reaches {signal.value:.1%} given the context and"
                f" {given} (answered yes). The chart weighs every answer, so its figure can be lower;"
                " this step stands whatever it shows."
            )
            fired.append((rule, detail))
    fired.sort(key=lambda pair: -policy.urgency(pair[0].level))
    if fired:
        level, reasons = fired[0][0].level, tuple(_flag(rule, sources, detail) for rule, detail in fired)
    else:
        reassured = [r for r in policy.reassurance if reassures(r, case)]
        if reassured:
            level, reasons = reassured[0].level, (_flag(reassured[0], sources),)
        else:
            citations = tuple(sources[key].citation() for key in policy.baseline_source)
            baseline = RedFlag(
                "baseline", policy.baseline, policy.baseline_reason, citations, "", policy.baseline_clinician
            )
            level, reasons = policy.baseline, (baseline,)
    red_flags = tuple(r for r in reasons if policy.urgency(r.level) > policy.urgency("routine"))
    chosen = policy.levels[level]
    # The advice is written for a woman not yet examined; a fired rule brings its own next step.
    advice = () if fired else policy.advice.get(level, ())
    ids = {rule.id for rule, _ in fired}
    covered = tuple(rule.id for rule, _ in fired if ids.intersection(rule.covered_by))
    return Triage(level, chosen.label, chosen.action, chosen.clinician, reasons, red_flags, advice, covered)


def evidence_weighed(knowledge: Knowledge, case: Case) -> list[Mapping[str, str]]:
    """Return every evidence set whose posteriors `assess_triage` asks for, to answer them in advance.

    Found by running the rules with a stand-in engine that records what it is asked, so it follows
    the rules whatever they become. Batch diagnosis (`model.inference.PosteriorCache`) gathers
    these sets for many cases and answers them all in one engine call; the triage itself is then
    assessed as usual, and a set the rules ask for that is not among these is simply computed then.

    Examples
    --------
    >>> from model import load_knowledge
    >>> knowledge = load_knowledge()
    >>> case = Case({"age_band": "45_54"}, {"postcoital_bleeding": True, "exam_cervical_lesion": True})
    >>> {"age_band": "45_54", "postcoital_bleeding": "yes", "exam_cervical_lesion": "yes"} in (
    ...     evidence_weighed(knowledge, case)
    ... )
    True
    """
    asked: list[Mapping[str, str]] = []

    def record(cause: str, evidences: Sequence[Mapping[str, str]]) -> list[float]:
        asked.extend(evidences)
        # The rules ask for the same sets whatever the answers, so any stand-in value will do.
        return [0.0] * len(evidences)  # pragma: no mutate

    assess_triage(knowledge, case, record)
    return asked
