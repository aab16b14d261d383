"""The charts' specifications: order written into the spec, marks told apart by shape."""

from __future__ import annotations

from model import diagnose
from model.charts import differential_spec, explanation_spec, trajectory_spec
from model.explain import contributions
from model.page import differential_rows, explanation


def test_the_differential_spec_carries_its_order_and_distinct_marks(shipped_model):
    result = diagnose(
        shipped_model, {"context": {"age_band": "under_25"}, "findings": {"test_chlamydia": True}}
    )
    rows = differential_rows(result, shipped_model.knowledge, "explains")
    rows["low"], rows["high"] = rows["bar"] / 2, rows["bar"]
    spec = differential_spec(rows, "Chance it explains the bleeding", intervals=True)
    layers = spec["layer"]
    assert layers[0]["encoding"]["y"]["sort"]["field"] == "rank" and list(rows["rank"]) == list(
        range(len(rows))
    )
    other = differential_rows(diagnose(shipped_model, {}), shipped_model.knowledge, "explains")
    other["low"], other["high"] = other["bar"] / 2, other["bar"]
    assert differential_spec(other, "Chance it explains the bleeding", intervals=True) == spec  # data only
    marks = [layer["mark"]["type"] for layer in layers]
    assert marks == ["bar", "text", "point", "rule"]
    assert layers[2]["mark"]["shape"] == "diamond" and layers[2]["mark"]["filled"] is False
    assert layers[1]["encoding"]["text"]["field"] == "text"
    assert len(differential_spec(rows, "t")["layer"]) == 3


def test_the_explanation_spec_starts_bars_at_one_on_a_log_axis(shipped_model):
    case = shipped_model.parse(
        {"context": {"age_band": "under_25"}, "findings": {"test_chlamydia": True, "fever": False}}
    )
    moved = explanation(contributions(shipped_model, case, "chlamydia"), shipped_model.knowledge).moved
    spec = explanation_spec()
    encoding = spec["layer"][0]["encoding"]
    assert encoding["x2"] == {"datum": 1} and encoding["x"]["scale"]["type"] == "log"
    assert encoding["y"]["sort"]["field"] == "step" and list(moved["step"]) == list(range(len(moved)))
    ends = spec["layer"][-1]["encoding"]  # the axis spans the data's ends, whose ticks are labelled
    assert (ends["x"]["field"], ends["x2"]["field"]) == ("axis_low", "axis_high")
    low, high = moved["axis_low"].iloc[0], moved["axis_high"].iloc[0]
    assert low <= min(moved["likelihood_ratio"].min(), 1) and high >= max(moved["likelihood_ratio"].max(), 1)
    assert {low, 1, high} <= set(encoding["x"]["axis"]["values"])


def test_the_trajectory_spec_tells_causes_apart_without_colour():
    spec = trajectory_spec()
    assert spec["encoding"]["strokeDash"]["field"] == spec["encoding"]["color"]["field"] == "cause"
