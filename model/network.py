"""Turn a `~model.knowledge.Knowledge` into a pgmpy `DiscreteBayesianNetwork`.

Three layers: context variables (roots, or children of one parent context variable), causes
(binary, logistic in the log odds ratios of their context risk factors, with an intercept solved so
that each published base rate is met on average over the context distribution), and findings
(binary noisy-OR over causes and context states, with a leak). ``priors/README.md`` states the
semantics; this module is its only implementation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pgmpy.factors.discrete import TabularCPD
from pgmpy.inference import VariableElimination
from pgmpy.models import DiscreteBayesianNetwork
from scipy.optimize import brentq
from scipy.special import expit

from model.checks import split_state, stratum_variable
from model.knowledge import Knowledge
from model.vocabulary import CAUSE_STATES, FINDING_STATES

NETWORK_NAME = "postcoital_bleeding"
INTERCEPT_BOUND = 60.0  # logit range searched for an intercept; far beyond any real base rate


def _context_cpd(kb: Knowledge, var_id: str) -> TabularCPD:
    var = kb.vocabulary.context[var_id]
    rows = {(p.key["given_state"], p.key["state"]): p.value for p in kb.table("context_prevalence")
            if p.key["variable"] == var_id}  # fmt: skip
    parent_states = kb.vocabulary.context[var.parent].states if var.parent else ("",)
    values = np.array([[rows[(g, s)] for g in parent_states] for s in var.states])
    values = values / values.sum(axis=0, keepdims=True)
    names = {var_id: list(var.states)}
    if var.parent is None:
        return TabularCPD(var_id, len(var.states), values, state_names=names)
    names[var.parent] = list(parent_states)
    return TabularCPD(var_id, len(var.states), values, [var.parent], [len(parent_states)], state_names=names)


def context_network(kb: Knowledge) -> DiscreteBayesianNetwork:
    """Return the context layer alone: the population distribution of the context variables."""
    ctx = kb.vocabulary.context
    net = DiscreteBayesianNetwork()
    net.add_nodes_from(ctx)
    net.add_edges_from((v.parent, v.id) for v in ctx.values() if v.parent)
    net.add_cpds(*(_context_cpd(kb, v) for v in ctx))
    return net


def cause_parents(kb: Knowledge, cause: str) -> list[str]:
    """Return the context variables a cause depends on, in vocabulary order."""
    used = {p.key["variable"] for p in kb.table("risk_factors") if p.key["cause"] == cause}
    used |= set(kb.vocabulary.causes[cause].possible_only_when)
    stratum = stratum_variable(kb, cause)
    if stratum:
        used.add(stratum)
    return [v for v in kb.vocabulary.context if v in used]


def _solve_intercept(weights: np.ndarray, log_odds: np.ndarray, rate: float) -> float:
    """Find a such that the weighted mean of expit(a + log_odds) equals rate."""
    if weights.sum() <= 0:
        return math.log(rate / (1 - rate))

    def gap(a: float) -> float:
        return float(weights @ expit(a + log_odds)) - rate

    return brentq(gap, -INTERCEPT_BOUND, INTERCEPT_BOUND, xtol=1e-14)


def cause_probabilities(kb: Knowledge, cause: str, context_joint: np.ndarray) -> np.ndarray:
    """Return P(cause present | each configuration of its parents), parents in `cause_parents` order.

    Parameters
    ----------
    kb : Knowledge
    cause : str
    context_joint : numpy.ndarray
        The population joint distribution of the cause's parents, one axis per parent.

    Returns
    -------
    numpy.ndarray
        Same shape as ``context_joint``.
    """
    parents = cause_parents(kb, cause)
    ctx = kb.vocabulary.context
    shape = tuple(len(ctx[v].states) for v in parents)
    log_odds = np.zeros(shape)
    for p in kb.table("risk_factors"):
        if p.key["cause"] == cause:
            axis = parents.index(p.key["variable"])
            index = [slice(None)] * len(shape)
            index[axis] = ctx[p.key["variable"]].states.index(p.key["state"])
            log_odds[tuple(index)] += math.log(p.value)
    eligible = np.ones(shape, dtype=bool)
    for var, states in kb.vocabulary.causes[cause].possible_only_when.items():
        axis = parents.index(var)
        allowed = np.isin(np.array(ctx[var].states), states)
        eligible &= allowed.reshape([-1 if i == axis else 1 for i in range(len(shape))])
    stratum = stratum_variable(kb, cause)
    probs = np.zeros(shape)
    for p in kb.table("cause_base_rates"):
        if p.key["cause"] != cause:
            continue
        in_stratum = eligible.copy()
        if stratum:
            axis = parents.index(stratum)
            mask = np.zeros(len(ctx[stratum].states), dtype=bool)
            mask[ctx[stratum].states.index(p.key["stratum"].partition("=")[2])] = True
            in_stratum &= mask.reshape([-1 if i == axis else 1 for i in range(len(shape))])
        weights = np.where(in_stratum, context_joint, 0.0)
        total = weights.sum()
        a = _solve_intercept((weights / total if total > 0 else weights).ravel(), log_odds.ravel(), p.value)
        probs = np.where(in_stratum, expit(a + log_odds), probs)
    return probs


def _cause_cpd(kb: Knowledge, cause: str, context: VariableElimination) -> TabularCPD:
    parents = cause_parents(kb, cause)
    ctx = kb.vocabulary.context
    if parents:
        joint = context.query(parents, joint=True, show_progress=False)
        joint = joint.values.transpose([joint.variables.index(v) for v in parents])
    else:
        joint = np.array(1.0)
    present = cause_probabilities(kb, cause, joint).reshape(1, -1)
    names = {cause: list(CAUSE_STATES), **{v: list(ctx[v].states) for v in parents}}
    return TabularCPD(
        cause, 2, np.vstack([1 - present, present]), parents or None,
        [len(ctx[v].states) for v in parents] or None, state_names=names,
    )  # fmt: skip


def finding_parents(kb: Knowledge, finding: str) -> list[str]:
    """Return the nodes a finding depends on: context variables first, then causes, in vocabulary order."""
    sources = {p.key["link_source"] for p in kb.table("finding_links") if p.key["finding"] == finding}
    nodes = {s.partition("=")[0] for s in sources}
    return [v for v in (*kb.vocabulary.context, *kb.vocabulary.causes) if v in nodes]


def _states(kb: Knowledge, node: str) -> Sequence[str]:
    var = kb.vocabulary.context.get(node)
    return var.states if var else CAUSE_STATES


def noisy_or_table(
    leak: float, links: Mapping[tuple[str, str], float], parents: Sequence[str],
    parent_states: Mapping[str, Sequence[str]],
) -> np.ndarray:  # fmt: skip
    """Return P(finding = yes) for every parent configuration of a noisy-OR with leak.

    Parameters
    ----------
    leak : float
        P(finding | no link active).
    links : Mapping[tuple[str, str], float]
        (parent, state) to P(finding | only that parent in that state is active).
    parents : Sequence[str]
        Parent order of the returned axes.
    parent_states : Mapping[str, Sequence[str]]
        The ordered states of each parent.

    Returns
    -------
    numpy.ndarray
        One axis per parent.

    Examples
    --------
    >>> t = noisy_or_table(0.1, {("a", "present"): 0.55}, ["a"], {"a": ["absent", "present"]})
    >>> [round(float(x), 10) for x in t]
    [0.1, 0.55]
    """
    inhibition = np.full([len(parent_states[p]) for p in parents], 1.0 - leak)
    for (parent, state), value in links.items():
        axis = parents.index(parent)
        factor = np.ones(len(parent_states[parent]))
        factor[list(parent_states[parent]).index(state)] = (1.0 - value) / (1.0 - leak)
        inhibition = inhibition * factor.reshape([-1 if i == axis else 1 for i in range(len(parents))])
    return 1.0 - inhibition


def _finding_cpd(kb: Knowledge, finding: str) -> TabularCPD:
    parents = finding_parents(kb, finding)
    links = {}
    for p in kb.table("finding_links"):
        if p.key["finding"] == finding:
            pair = split_state(p.key["link_source"], kb) or (p.key["link_source"], "present")
            links[pair] = p.value
    leak = kb.parameters[f"finding_leaks:{finding}"].value
    states = {v: list(_states(kb, v)) for v in parents}
    yes = noisy_or_table(leak, links, parents, states).reshape(1, -1)
    return TabularCPD(
        finding, 2, np.vstack([1 - yes, yes]), parents, [len(states[v]) for v in parents],
        state_names={finding: list(FINDING_STATES), **states},
    )  # fmt: skip


def build_network(kb: Knowledge) -> DiscreteBayesianNetwork:
    """Build the full network (context, causes, findings) from a knowledge base.

    Parameters
    ----------
    kb : Knowledge
        A validated knowledge base, e.g. from `~model.knowledge.load_knowledge`.

    Returns
    -------
    pgmpy.models.DiscreteBayesianNetwork
        With a CPD on every node, checked by pgmpy.

    Examples
    --------
    >>> from model import load_knowledge
    >>> net = build_network(load_knowledge())
    >>> net.get_cpds("chlamydia").state_names["chlamydia"]
    ['absent', 'present']
    """
    net = context_network(kb)
    context = VariableElimination(net)
    cpds = [_cause_cpd(kb, c, context) for c in kb.vocabulary.causes]
    for cpd in cpds:
        net.add_node(cpd.variable)
        net.add_edges_from((parent, cpd.variable) for parent in cpd.get_evidence())
    for finding in kb.vocabulary.findings:
        cpd = _finding_cpd(kb, finding)
        net.add_node(finding)
        net.add_edges_from((parent, finding) for parent in cpd.get_evidence())
        cpds.append(cpd)
    net.add_cpds(*cpds)
    net.name = NETWORK_NAME
    net.check_model()
    return net
