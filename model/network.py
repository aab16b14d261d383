"""Turn a `~model.knowledge.Knowledge` into the network's probability tables and a pgmpy network.

Three layers: context variables (roots, or children of one parent context variable), causes
(binary, logistic in the log odds ratios of their context risk factors, with an intercept solved so
that each published base rate is met on average over the context distribution), and findings
(binary noisy-OR over causes and context states, with a leak). The presenting finding, a child of
every cause, is built in pgmpy by parent divorcing: a link node per cause and a chain of OR nodes.

``priors/README.md`` states the semantics; `network_tables` is their only implementation. It
computes every table at once for any number of parameter draws (a leading axis), so the pgmpy
network (one draw) and the fast engine (`model.quickscore`, one draw or thousands) read the same
numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pgmpy takes seconds to import; only building the pgmpy network needs it
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

from model.checks import split_state, stratum_variable
from model.knowledge import Knowledge
from model.vocabulary import CAUSE_STATES, FINDING_STATES

NETWORK_NAME = "postcoital_bleeding"
INTERCEPT_BOUND = 60.0  # logit range searched for an intercept; far beyond any real base rate
INTERCEPT_TOLERANCE = 1e-15  # on the base rate itself; float64 cannot do much better
INTERCEPT_STEP = 1e-13  # a Newton step this small (relative, on the logit) means converged
AXES = "abcdefghijklmnopqrstuvwxyz"  # einsum letters, one per context variable

ParameterValues = Mapping[str, "np.ndarray | float"]


@dataclass(frozen=True)
class NetworkTables:
    """Every conditional probability of the network as arrays with a leading axis of parameter draws.

    Attributes
    ----------
    draws : int
        Size of the leading axis (1 for the knowledge base's own values).
    context_parent : Mapping[str, str | None]
        Each context variable (vocabulary order) and its parent context variable.
    context_cpd : Mapping[str, numpy.ndarray]
        P(variable | parent), shape ``(draws, states, parent states)``; a root has one parent state.
    cause_parents : Mapping[str, tuple[str, ...]]
        The context variables each cause depends on.
    cause_present : Mapping[str, numpy.ndarray]
        P(cause present | parents), shape ``(draws, *parent states)``.
    findings : tuple[str, ...]
        Finding ids, the order of the finding axis below.
    finding_leak : numpy.ndarray
        P(finding | no link active), shape ``(draws, findings)``.
    cause_inhibitor : numpy.ndarray
        (1 - link) / (1 - leak) for each cause and finding, 1 where there is no link; shape
        ``(draws, causes, findings)``. P(finding = no | causes, context) is (1 - leak) times the
        inhibitors of every active cause and context state.
    context_inhibitor : Mapping[str, numpy.ndarray]
        For each context variable that is a link source, the inhibitor of each of its states for
        each finding, shape ``(draws, findings, states)``.
    """

    draws: int
    context_parent: Mapping[str, str | None]
    context_cpd: Mapping[str, np.ndarray]
    cause_parents: Mapping[str, tuple[str, ...]]
    cause_present: Mapping[str, np.ndarray]
    findings: tuple[str, ...]
    finding_leak: np.ndarray
    cause_inhibitor: np.ndarray
    context_inhibitor: Mapping[str, np.ndarray]

    def context_joint(self, variables: Sequence[str]) -> np.ndarray:
        """Return the population joint distribution of some context variables, one axis each after draws."""
        return _context_joint(self.context_parent, self.context_cpd, variables)


def _context_joint(
    context_parent: Mapping[str, str | None], context_cpd: Mapping[str, np.ndarray], variables: Sequence[str]
) -> np.ndarray:  # fmt: skip
    letters = dict(zip(context_parent, AXES, strict=False))
    operands, subscripts = [], []
    for var, parent in context_parent.items():
        cpd = context_cpd[var]
        operands.append(cpd[:, :, 0] if parent is None else cpd)
        subscripts.append("Z" + letters[var] + (letters[parent] if parent else ""))
    output = "Z" + "".join(letters[v] for v in variables)
    return np.einsum(",".join(subscripts) + "->" + output, *operands, optimize="greedy")


def cause_parents(kb: Knowledge, cause: str) -> list[str]:
    """Return the context variables a cause depends on, in vocabulary order."""
    used = {p.key["variable"] for p in kb.table("risk_factors") if p.key["cause"] == cause}
    used |= set(kb.vocabulary.causes[cause].possible_only_when)
    stratum = stratum_variable(kb, cause)
    if stratum:
        used.add(stratum)
    return [v for v in kb.vocabulary.context if v in used]


def finding_parents(kb: Knowledge, finding: str) -> list[str]:
    """Return the nodes a finding depends on: context variables first, then causes, in vocabulary order."""
    sources = {p.key["link_source"] for p in kb.table("finding_links") if p.key["finding"] == finding}
    nodes = {s.partition("=")[0] for s in sources}
    return [v for v in (*kb.vocabulary.context, *kb.vocabulary.causes) if v in nodes]


def expit(x: np.ndarray) -> np.ndarray:
    """Return the logistic function 1 / (1 + exp(-x)), elementwise.

    The formula `scipy.special.expit` evaluates, without importing SciPy, which would more than
    double the command line's start-up; exp(-x) overflowing to infinity gives exactly 0.

    Examples
    --------
    >>> expit(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def solve_intercepts(weights: np.ndarray, log_odds: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Find, for each draw, the intercept a with sum(weights * expit(a + log_odds)) = rate.

    Newton iterations on the logit of the weighted mean (nearly linear in the intercept), kept
    inside a shrinking bracket, vectorised over draws. Where a draw's
    weights are all zero (a stratum nobody is in), the intercept is logit(rate).

    Parameters
    ----------
    weights : numpy.ndarray
        Shape ``(draws, configurations)``; each row sums to one (or is all zero).
    log_odds : numpy.ndarray
        Same shape: the summed log odds ratios of each configuration.
    rates : numpy.ndarray
        Shape ``(draws,)``: the base rate to meet, strictly between 0 and 1.

    Returns
    -------
    numpy.ndarray
        Shape ``(draws,)``.

    Examples
    --------
    >>> a = solve_intercepts(np.array([[0.5, 0.5]]), np.array([[0.0, np.log(3)]]), np.array([0.3]))
    >>> round(float(0.5 * expit(a[0]) + 0.5 * expit(a[0] + np.log(3))), 12)
    0.3
    """
    logit = np.log(rates) - np.log1p(-rates)
    empty = weights.sum(axis=1) <= 0
    low = np.full(rates.shape, -INTERCEPT_BOUND)
    high = np.full(rates.shape, INTERCEPT_BOUND)
    a = np.clip(logit - (weights * log_odds).sum(axis=1), low, high)
    for _ in range(200):
        s = expit(a[:, None] + log_odds)
        gap = (weights * s).sum(axis=1) - rates
        if np.all((np.abs(gap) <= INTERCEPT_TOLERANCE) | empty):
            break
        slope = (weights * s * (1 - s)).sum(axis=1)
        high = np.where(gap > 0, a, high)
        low = np.where(gap < 0, a, low)
        mean = gap + rates
        with np.errstate(divide="ignore", invalid="ignore"):
            # Newton on the logit of the mean, which is nearly linear in a: a few steps from anywhere.
            distance = np.log(mean) - np.log1p(-mean) - logit
            newton = a - distance * mean * (1 - mean) / slope
        inside = np.isfinite(newton) & (newton >= low) & (newton <= high)
        step = np.where(inside, newton, (low + high) / 2) - a
        a = a + step
        if np.all((np.abs(step) <= INTERCEPT_STEP * (1 + np.abs(a))) | empty):
            break  # at the float64 noise floor: further steps only wander within it
    return np.where(empty, logit, a)


def _broadcast_axis(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """Reshape (draws, n) so that n lies on ``axis`` of an array with ``ndim`` axes after draws."""
    return values.reshape([values.shape[0]] + [-1 if i == axis else 1 for i in range(ndim)])


def network_tables(kb: Knowledge, values: ParameterValues | None = None) -> NetworkTables:
    """Compute every table of the network, for the knowledge base's values or for parameter draws.

    Parameters
    ----------
    kb : Knowledge
        A validated knowledge base.
    values : Mapping[str, numpy.ndarray or float], optional
        Parameter id to values, one per draw (all of the same length); parameters left out keep
        their value in ``kb``. Without it there is one draw, the knowledge base itself.

    Returns
    -------
    NetworkTables

    Examples
    --------
    >>> from model import load_knowledge
    >>> kb = load_knowledge()
    >>> tables = network_tables(kb, {"finding_leaks:fever": np.array([0.01, 0.05])})
    >>> tables.draws, tables.finding_leak.shape == (2, len(kb.vocabulary.findings))
    (2, True)
    """
    values = values or {}
    draws = max((np.size(v) for v in values.values()), default=1)

    def value(pid: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(values.get(pid, kb.parameters[pid].value), dtype=float), (draws,))

    ctx = kb.vocabulary.context
    context_cpd = {}
    for var in ctx.values():
        parent_states = ctx[var.parent].states if var.parent else ("",)
        cpd = np.zeros((draws, len(var.states), len(parent_states)))
        for p in kb.table("context_prevalence"):
            if p.key["variable"] == var.id:
                cpd[:, var.states.index(p.key["state"]), parent_states.index(p.key["given_state"])] = value(
                    p.id
                )
        context_cpd[var.id] = cpd / cpd.sum(axis=1, keepdims=True)
    context_parent = {v.id: v.parent for v in ctx.values()}
    parents = {c: tuple(cause_parents(kb, c)) for c in kb.vocabulary.causes}
    present = {
        c: _cause_present(kb, c, parents[c], _context_joint(context_parent, context_cpd, parents[c]), value)
        for c in kb.vocabulary.causes
    }

    findings = tuple(kb.vocabulary.findings)
    leak = np.stack([value(f"finding_leaks:{f}") for f in findings], axis=1)
    causes = list(kb.vocabulary.causes)
    cause_inhibitor = np.ones((draws, len(causes), len(findings)))
    context_inhibitor: dict[str, np.ndarray] = {}
    for p in kb.table("finding_links"):
        j = findings.index(p.key["finding"])
        inhibitor = (1.0 - value(p.id)) / (1.0 - leak[:, j])
        pair = split_state(p.key["link_source"], kb)
        if pair is None:
            cause_inhibitor[:, causes.index(p.key["link_source"]), j] = inhibitor
        else:
            var, state = pair
            table = context_inhibitor.setdefault(var, np.ones((draws, len(findings), len(ctx[var].states))))
            table[:, j, ctx[var].states.index(state)] = inhibitor
    return NetworkTables(
        draws, context_parent, context_cpd, parents, present, findings, leak, cause_inhibitor,
        context_inhibitor,
    )  # fmt: skip


def _cause_present(
    kb: Knowledge, cause: str, parents: Sequence[str], joint: np.ndarray, value: Callable[[str], np.ndarray]
) -> np.ndarray:
    """Return P(cause present | parents) for every draw; ``joint`` is the parents' distribution."""
    ctx = kb.vocabulary.context
    shape = tuple(len(ctx[v].states) for v in parents)
    draws = joint.shape[0]
    log_odds = np.zeros((draws, *shape))
    for p in kb.table("risk_factors"):
        if p.key["cause"] == cause:
            var = p.key["variable"]
            one_hot = np.zeros((draws, len(ctx[var].states)))
            one_hot[:, ctx[var].states.index(p.key["state"])] = np.log(value(p.id))
            log_odds = log_odds + _broadcast_axis(one_hot, parents.index(var), len(shape))
    eligible = np.ones(shape, dtype=bool)
    for var, states in kb.vocabulary.causes[cause].possible_only_when.items():
        allowed = np.isin(np.array(ctx[var].states), states)
        eligible = eligible & _broadcast_axis(allowed[None], parents.index(var), len(shape))[0]
    stratum = stratum_variable(kb, cause)
    present = np.zeros((draws, *shape))
    for p in kb.table("cause_base_rates"):
        if p.key["cause"] != cause:
            continue
        in_stratum = eligible.copy()
        if stratum:
            mask = np.zeros(len(ctx[stratum].states), dtype=bool)
            mask[ctx[stratum].states.index(p.key["stratum"].partition("=")[2])] = True
            in_stratum &= _broadcast_axis(mask[None], parents.index(stratum), len(shape))[0]
        weights = np.where(in_stratum, joint, 0.0).reshape(draws, -1)
        total = weights.sum(axis=1, keepdims=True)
        weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        a = solve_intercepts(weights, log_odds.reshape(draws, -1), value(p.id))
        a = a.reshape([draws] + [1] * len(shape))
        present = np.where(in_stratum, expit(a + log_odds), present)
    return present


def noisy_or_table(leak: float, inhibitors: Sequence[np.ndarray]) -> np.ndarray:
    """Return P(finding = yes) for every parent configuration of a noisy-OR with leak.

    Parameters
    ----------
    leak : float
        P(finding | no link active).
    inhibitors : Sequence[numpy.ndarray]
        One vector per parent: for each of its states, (1 - link) / (1 - leak), or 1 for a state
        that is not a link source.

    Returns
    -------
    numpy.ndarray
        One axis per parent.

    Examples
    --------
    >>> t = noisy_or_table(0.1, [np.array([1.0, (1 - 0.55) / (1 - 0.1)])])
    >>> [round(float(x), 10) for x in t]
    [0.1, 0.55]
    """
    inhibition = np.array(1.0 - leak)
    for vector in inhibitors:
        inhibition = np.multiply.outer(inhibition, vector)
    return 1.0 - inhibition


def _states(kb: Knowledge, node: str) -> Sequence[str]:
    var = kb.vocabulary.context.get(node)
    return var.states if var else CAUSE_STATES


def link_node(finding: str, cause: str) -> str:
    """Return the pgmpy node that says whether ``cause``'s link to ``finding`` fired.

    Examples
    --------
    >>> link_node("postcoital_bleeding", "ectropion")
    'postcoital_bleeding__by__ectropion'
    """
    return f"{finding}__by__{cause}"


def chain_node(finding: str, k: int) -> str:
    """Return the k-th OR node of ``finding``'s chain: whether any of its first k + 1 links fired."""
    return f"{finding}__any__{k}"


def _binary(
    node: str, yes: np.ndarray, parents: Sequence[str], states: Mapping[str, Sequence[str]]
) -> TabularCPD:
    """Return a CPD with states no/yes from P(yes) over the parents' configurations."""
    from pgmpy.factors.discrete import TabularCPD

    yes = np.asarray(yes, dtype=float).reshape(1, -1)
    return TabularCPD(
        node, 2, np.vstack([1 - yes, yes]), list(parents) or None, [len(states[v]) for v in parents] or None,
        state_names={node: list(FINDING_STATES), **{v: list(states[v]) for v in parents}},
    )  # fmt: skip


def _presenting_cpds(
    finding: str, causes: Sequence[str], activation: np.ndarray, leak: float
) -> list[TabularCPD]:
    """Return the noisy-OR of the presenting finding over every cause, by parent divorcing.

    One table over 22 causes would have 2^22 columns. Instead each cause has a link node (present
    and its link fired: P = 1 - inhibitor), a chain of two-parent OR nodes collects the links, and
    the finding is yes when the chain is, or else with the leak's probability. The joint
    distribution over causes and finding is exactly the noisy-OR's, and the link nodes make "this
    cause produced the bleeding" a node any engine can query.
    """
    binary = {c: CAUSE_STATES for c in causes} | {
        n: FINDING_STATES for n in (link_node(finding, c) for c in causes)
    }
    links = [link_node(finding, c) for c in causes]
    cpds = [
        _binary(link, [0.0, a], [c], binary) for c, link, a in zip(causes, links, activation, strict=True)
    ]
    previous = links[0]
    for k, link in enumerate(links[1:], start=1):
        node = chain_node(finding, k)
        binary[node] = FINDING_STATES
        cpds.append(_binary(node, [0.0, 1.0, 1.0, 1.0], [previous, link], binary))
        previous = node
    cpds.append(_binary(finding, [leak, 1.0], [previous], binary))
    return cpds


def last_chain_node(finding: str, causes: Sequence[str]) -> str:
    """Return the node that is yes when any cause's link to the presenting ``finding`` fired."""
    return chain_node(finding, len(causes) - 1) if len(causes) > 1 else link_node(finding, causes[0])


def _cpds(kb: Knowledge, tables: NetworkTables) -> list[TabularCPD]:
    """Return the pgmpy CPDs of the first draw of ``tables``."""
    from pgmpy.factors.discrete import TabularCPD

    ctx = kb.vocabulary.context
    cpds = []
    for var in ctx.values():
        names = {var.id: list(var.states)}
        values = tables.context_cpd[var.id][0]
        if var.parent is None:
            cpds.append(TabularCPD(var.id, len(var.states), values, state_names=names))
        else:
            names[var.parent] = list(ctx[var.parent].states)
            cpds.append(TabularCPD(
                var.id, len(var.states), values, [var.parent], [values.shape[1]], state_names=names
            ))  # fmt: skip
    for cause, parents in tables.cause_parents.items():
        present = tables.cause_present[cause][0].reshape(1, -1)
        cpds.append(TabularCPD(
            cause, 2, np.vstack([1 - present, present]), list(parents) or None,
            [len(ctx[v].states) for v in parents] or None,
            state_names={cause: list(CAUSE_STATES), **{v: list(ctx[v].states) for v in parents}},
        ))  # fmt: skip
    causes = list(kb.vocabulary.causes)
    for j, finding in enumerate(tables.findings):
        if finding == kb.vocabulary.presenting:
            activation = 1.0 - tables.cause_inhibitor[0, :, j]
            cpds.extend(_presenting_cpds(finding, causes, activation, tables.finding_leak[0, j]))
            continue
        parents = finding_parents(kb, finding)
        inhibitors = [
            tables.context_inhibitor[v][0, j] if v in ctx
            else np.array([1.0, tables.cause_inhibitor[0, causes.index(v), j]])
            for v in parents
        ]  # fmt: skip
        yes = noisy_or_table(tables.finding_leak[0, j], inhibitors).reshape(1, -1)
        states = {v: list(_states(kb, v)) for v in parents}
        cpds.append(TabularCPD(
            finding, 2, np.vstack([1 - yes, yes]), parents, [len(states[v]) for v in parents],
            state_names={finding: list(FINDING_STATES), **states},
        ))  # fmt: skip
    return cpds


def build_network(kb: Knowledge, tables: NetworkTables | None = None) -> DiscreteBayesianNetwork:
    """Build the full pgmpy network (context, causes, findings) from a knowledge base.

    Parameters
    ----------
    kb : Knowledge
        A validated knowledge base, e.g. from `~model.knowledge.load_knowledge`.
    tables : NetworkTables, optional
        Its tables, if already computed; the first draw is used.

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
    from pgmpy.models import DiscreteBayesianNetwork

    cpds = _cpds(kb, tables if tables is not None else network_tables(kb))
    net = DiscreteBayesianNetwork()
    for cpd in cpds:
        net.add_node(cpd.variable)
        net.add_edges_from((parent, cpd.variable) for parent in cpd.get_evidence())
    net.add_cpds(*cpds)
    net.name = NETWORK_NAME
    net.check_model()
    return net
