"""The safety layer: which red flags a case raises and how urgently it should be seen.

Rules come from ``priors/red_flags.yaml`` (see `model.redflags`); this module only evaluates them.
A rule on answers fires whatever the probabilities say. A probability rule fires when the model's
probability of a cause reaches its threshold, judged on the context and the answers that point
*towards* a cause (each on its own, and all together): a "no" answer never lowers it, so a
reassuring test can never silence a red flag that the rest of the case raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from model.case import Case
from model.redflags import RedFlagPolicy, Rule
from model.vocabulary import Source

PosteriorOf = Callable[[str, Mapping[str, str]], float]
"""P(cause present | evidence), the engine's answer for one cause."""


@dataclass(frozen=True)
class RedFlag:
    """A rule that fired: what it means for the person, how urgent, and the guidance behind it."""

    id: str
    level: str
    message: str
    source: tuple[str, ...]
    locator: str


@dataclass(frozen=True)
class Triage:
    """How urgently to seek care, and why.

    Attributes
    ----------
    level : str
        One of ``emergency``, ``urgent``, ``soon``, ``routine``, ``self_care``.
    label, action : str
        The level in words, and what to do.
    reasons : tuple[RedFlag, ...]
        Every rule that fired (red flags and routine reasons), most urgent first; or the baseline
        or reassurance reason when none did.
    red_flags : tuple[RedFlag, ...]
        The fired rules more urgent than routine.
    advice : tuple[str, ...]
        Advice a patient can read, for the self-care and routine levels.
    """

    level: str
    label: str
    action: str
    reasons: tuple[RedFlag, ...]
    red_flags: tuple[RedFlag, ...]
    advice: tuple[str, ...]


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


def probability_signal(cause: str, case: Case, posterior_of: PosteriorOf) -> float:
    """Return the probability a threshold rule is judged on.

    The largest of: P(cause | context), P(cause | context and one "yes" answer) for each, and
    P(cause | context and every "yes" answer). Answers of "no" are left out, so adding an answer
    can never lower it through a reassuring result.
    """
    context = dict(case.context)
    positive = {f: "yes" for f, answer in case.findings.items() if answer}
    candidates = [context] + [{**context, f: "yes"} for f in positive]
    if len(positive) > 1:
        candidates.append({**context, **positive})
    return max(posterior_of(cause, evidence) for evidence in candidates)


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


def _fired(rule: Rule, case: Case, posterior_of: PosteriorOf) -> bool:
    if rule.cause is not None:
        return probability_signal(rule.cause, case, posterior_of) >= rule.at_least
    return condition_holds(rule.when, case.evidence())


def _flag(rule: Rule, sources: Mapping[str, Source]) -> RedFlag:
    citations = tuple(sources[key].citation() for key in rule.source)
    return RedFlag(rule.id, rule.level, rule.message, citations, rule.locator)


def assess_triage(
    policy: RedFlagPolicy, sources: Mapping[str, Source], case: Case, posterior_of: PosteriorOf
) -> Triage:
    """Evaluate every rule for a case and return its triage.

    Parameters
    ----------
    policy : RedFlagPolicy
        The rules, from ``Knowledge.red_flags``.
    sources : Mapping[str, Source]
        The bibliography, to cite each rule's guidance.
    case : Case
        Context and answered findings.
    posterior_of : callable
        ``posterior_of(cause, evidence)`` returns P(cause present | evidence).

    Returns
    -------
    Triage
        The most urgent level of all fired rules; with none, the reassurance level if one holds,
        else the baseline.
    """
    fired = [rule for rule in policy.rules if _fired(rule, case, posterior_of)]
    fired.sort(key=lambda rule: -policy.urgency(rule.level))
    if fired:
        level, reasons = fired[0].level, tuple(_flag(rule, sources) for rule in fired)
    else:
        reassured = [r for r in policy.reassurance if reassures(r, case)]
        if reassured:
            level, reasons = reassured[0].level, (_flag(reassured[0], sources),)
        else:
            baseline = Rule(
                "baseline", policy.baseline, policy.baseline_reason, policy.baseline_source, "", {}
            )
            level, reasons = policy.baseline, (_flag(baseline, sources),)
    red_flags = tuple(r for r in reasons if policy.urgency(r.level) > policy.urgency("routine"))
    chosen = policy.levels[level]
    return Triage(level, chosen.label, chosen.action, reasons, red_flags, policy.advice.get(level, ()))
