import itertools
import math

import numpy as np
import pytest
from pgmpy.inference import VariableElimination

from model.network import build_network, cause_parents, chain_node, finding_parents, link_node, noisy_or_table


def test_tiny_network_has_every_node_and_edge(tiny_knowledge):
    net = build_network(tiny_knowledge)
    assert set(net.nodes) == {"age", "pill", "ectropion", "infection", "cancer"} | set(
        tiny_knowledge.vocabulary.findings
    )
    assert set(net.get_parents("contact_bleeding")) == {"ectropion", "infection", "cancer"}
    assert set(net.get_parents("discharge")) == {"pill", "infection"}
    assert net.get_parents("ectropion") == ["pill"]
    assert net.get_parents("cancer") == ["age"]
    assert cause_parents(tiny_knowledge, "cancer") == ["age"]
    assert finding_parents(tiny_knowledge, "discharge") == ["pill", "infection"]


def test_base_rate_is_met_on_average_over_the_context(tiny_knowledge):
    """Ectropion's base rate 0.3 is the population average; the OR of 2 for the pill splits it."""
    net = build_network(tiny_knowledge)
    cpd = net.get_cpds("ectropion")
    p_no, p_yes = cpd.values[1]
    p_pill = 0.6 * 0.5 + 0.4 * 0.1  # P(pill = yes) from the fixture's context rows
    assert (1 - p_pill) * p_no + p_pill * p_yes == pytest.approx(0.3, abs=1e-12)
    odds = (p_yes / (1 - p_yes)) / (p_no / (1 - p_no))
    assert odds == pytest.approx(2.0, rel=1e-9)


def test_cause_is_zero_where_impossible_and_its_rate_holds_where_possible(tiny_knowledge):
    cpd = build_network(tiny_knowledge).get_cpds("cancer")
    assert cpd.values[1].tolist() == pytest.approx([0.0, 0.05])


def test_noisy_or_combines_links_and_leak():
    """P(yes | a and b) = 1 - (1 - leak) * (1 - 0.5)/(1 - leak) * (1 - 0.3)/(1 - leak)."""
    table = noisy_or_table(0.1, [np.array([1, 0.5 / 0.9]), np.array([1, 0.7 / 0.9])])
    expected_both = 1 - 0.9 * (0.5 / 0.9) * (0.7 / 0.9)
    assert table.ravel().tolist() == pytest.approx([0.1, 0.3, 0.5, expected_both])


def test_context_state_can_be_a_noisy_or_source(tiny_knowledge):
    cpd = build_network(tiny_knowledge).get_cpds("discharge")
    reduced = cpd.reduce([("infection", "absent")], inplace=False)
    assert reduced.values[1].tolist() == pytest.approx([0.1, 0.2])


def test_cpd_columns_follow_pgmpy_parent_order(tiny_knowledge):
    """Each column's probability must match the noisy-OR formula for that parent configuration."""
    net = build_network(tiny_knowledge)
    cpd = net.get_cpds("contact_bleeding")
    links = {"ectropion": 0.5, "infection": 0.3, "cancer": 0.8}
    for states in itertools.product(["absent", "present"], repeat=3):
        config = dict(zip(cpd.variables[1:], states, strict=True))
        inhibit = 0.95 * math.prod((1 - links[c]) / 0.95 for c, s in config.items() if s == "present")
        assert cpd.get_value(contact_bleeding="yes", **config) == pytest.approx(1 - inhibit)


def test_shipped_network_has_every_vocabulary_id_and_valid_cpds(shipped_knowledge, shipped_model):
    vocab = shipped_knowledge.vocabulary
    net = shipped_model.network
    divorcing = {link_node(vocab.presenting, c) for c in vocab.causes}
    divorcing |= {chain_node(vocab.presenting, k) for k in range(1, len(vocab.causes))}
    assert set(net.nodes) == set(vocab.context) | set(vocab.causes) | set(vocab.findings) | divorcing
    assert net.check_model()
    for cpd in net.get_cpds():
        values = cpd.get_values()
        assert np.all(values >= 0) and np.allclose(values.sum(axis=0), 1)
    for cause in vocab.causes:
        assert net.get_cpds(cause).state_names[cause] == ["absent", "present"]
        assert not net.get_parents(cause) or set(net.get_parents(cause)) <= set(vocab.context)
    for finding in vocab.findings:
        assert net.get_cpds(finding).state_names[finding] == ["no", "yes"]


def test_shipped_base_rates_are_reproduced_by_the_network(shipped_knowledge, shipped_model):
    """Each cause's marginal within each stratum and eligible population equals its cited base rate."""
    engine = VariableElimination(shipped_model.network)
    for p in shipped_knowledge.table("cause_base_rates"):
        cause = p.key["cause"]
        only = shipped_knowledge.vocabulary.causes[cause].possible_only_when
        evidence_sets = [{}]
        for var, states in only.items():
            evidence_sets = [{**e, var: s} for e in evidence_sets for s in states]
        if p.key["stratum"]:
            var, _, state = p.key["stratum"].partition("=")
            evidence_sets = [{**e, var: state} for e in evidence_sets]
        weights, rates = [], []
        for evidence in evidence_sets:
            context_vars = [v for v in evidence]
            joint = engine.query(context_vars, show_progress=False) if context_vars else None
            weight = joint.get_value(**evidence) if joint is not None else 1.0
            rate = engine.query([cause], evidence=evidence, show_progress=False).get_value(
                **{cause: "present"}
            )
            weights.append(weight)
            rates.append(rate)
        if sum(weights) > 0:
            assert np.average(rates, weights=weights) == pytest.approx(p.value, rel=1e-6), p.id
