"""Vega-Lite specifications of the app's charts, as plain dictionaries.

Written as data rather than through Altair, whose schema validation cost a fifth of a second on
every rerun; any Vega-Lite renderer (Streamlit, Altair's ``alt.Chart.from_dict``, a notebook) draws
them. A specification depends on what is shown, never on the case: the order of the bars comes
from a ``rank`` column of the data, so the browser keeps its chart and swaps in the new rows on
each answer (quick), and still redraws the bars in the new order. Every mark differs from the others
in shape, not only in colour: a filled bar (now), a hollow diamond (before other answers), a thin
line (credible interval).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from model.page import ratio_ticks

SERIOUS, OTHER = "#b03a2e", "#3d6aa8"  # red and blue, each with a contrast above 4.5:1 on white
# "Why" shows direction, not seriousness: colours of its own (purple up, teal down), neither red nor blue.
MORE_LIKELY, LESS_LIKELY = "#6a3d9a", "#00766c"  # contrast above 4.5:1 on white
# The teaching chart tells causes apart, not their seriousness: no red, each above 4.5:1 on white.
CAUSE_COLOURS = ["#3d6aa8", "#6a3d9a", "#00766c", "#8a5a00", "#555555"]
ROW = 22  # pixels per cause: every label shown, none overlapping
RATIO_TICKS = ratio_ticks(1e-6, 1e6)  # 1e-6, 3e-6, ... 0.3, 1, 3, ... 1e6: the axis shows those in range


def _rows_axis(field: str, order: str, label_limit: int) -> dict[str, Any]:
    """Return an axis with one row per value of ``field``, ordered by the data's ``order`` column.

    The spec stays the same when only the order changes, so the browser swaps in the rows without
    rebuilding the chart.
    """
    return {
        "field": field,
        "type": "nominal",
        "sort": {"field": order, "op": "min", "order": "ascending"},
        "title": None,
        "axis": {"labelLimit": label_limit},
    }


def differential_spec(rows: pd.DataFrame, title: str, intervals: bool = False) -> dict[str, Any]:
    """Return the differential chart for `model.page.differential_rows`.

    With ``intervals`` the rows also need ``low`` and ``high``, drawn as a thin line.

    Examples
    --------
    >>> from model import build_model, diagnose
    >>> from model.page import differential_rows
    >>> model = build_model()
    >>> result = diagnose(model, {"findings": {"test_chlamydia": True}})
    >>> rows = differential_rows(result, model.knowledge, "explains")
    >>> spec = differential_spec(rows, "Chance it explains the bleeding")
    >>> spec["layer"][0]["encoding"]["y"]["sort"]
    {'field': 'rank', 'op': 'min', 'order': 'ascending'}
    >>> spec == differential_spec(rows.iloc[::-1], "Chance it explains the bleeding")
    True
    """
    y = _rows_axis("name", "rank", 230)
    x = {
        "field": "bar",
        "type": "quantitative",
        "title": title,
        "scale": {"domain": [0, 1.35]},
        "axis": {"values": [0, 0.25, 0.5, 0.75, 1], "format": "%"},
    }
    color = {
        "field": "kind",
        "type": "nominal",
        "title": None,
        "legend": {"orient": "top"},
        "scale": {"domain": ["serious cause", "other cause"], "range": [SERIOUS, OTHER]},
    }
    tooltip = [
        {"field": "label", "title": "cause"},
        {"field": "value", "type": "quantitative", "title": "explains the bleeding", "format": ".2%"},
        {"field": "posterior", "type": "quantitative", "title": "present", "format": ".2%"},
        {"field": "before", "type": "quantitative", "title": "before other answers", "format": ".2%"},
    ]
    layers = [
        {
            "mark": {"type": "bar", "height": 14, "strokeWidth": 1.5},
            "encoding": {
                "x": x,
                "y": y,
                "color": color,
                "stroke": {"condition": {"test": "datum.leading", "value": "black"}, "value": None},
                "tooltip": tooltip,
            },
        },
        {
            "transform": [
                {
                    "calculate": f"max(datum.bar, datum.before{', datum.high' if intervals else ''})",
                    "as": "end",
                }
            ],
            "mark": {"type": "text", "align": "left", "dx": 8, "fontSize": 11},
            "encoding": {"x": {"field": "end", "type": "quantitative"}, "y": y, "text": {"field": "text"}},
        },
        {
            "mark": {
                "type": "point",
                "shape": "diamond",
                "filled": False,
                "color": "black",
                "size": 60,
                "strokeWidth": 1.5,
            },
            "encoding": {"x": {"field": "before", "type": "quantitative"}, "y": y, "tooltip": tooltip},
        },
    ]
    if intervals:
        layers.append(
            {
                "mark": {"type": "rule", "color": "black", "strokeWidth": 1},
                "encoding": {
                    "x": {"field": "low", "type": "quantitative"},
                    "x2": {"field": "high"},
                    "y": y,
                    "tooltip": [{"field": "low", "format": ".1%"}, {"field": "high", "format": ".1%"}],
                },
            }
        )
    return {"height": {"step": ROW}, "layer": layers}


def explanation_spec() -> dict[str, Any]:
    """Return the "Why" chart for `model.page.Explanation.moved`: a bar per answer on a likelihood-ratio axis.

    Bars start at 1 (no change), so an answer's bar points right when it made the cause more likely
    and left when it made it less likely, and its length on the log axis is its change in log-odds.
    The axis runs between the data's ``axis_low`` and ``axis_high`` (an invisible rule spans them)
    and labels the `RATIO_TICKS` within them, so the spec is the same for every case.

    Examples
    --------
    >>> spec = explanation_spec()
    >>> spec["layer"][0]["encoding"]["x"]["scale"]
    {'type': 'log', 'nice': False}
    >>> [0.3, 1, 3] == [tick for tick in RATIO_TICKS if 0.3 <= tick <= 3]
    True
    """
    y = _rows_axis("answer", "step", 320)
    x = {
        "field": "likelihood_ratio",
        "type": "quantitative",
        "title": "Odds multiplied by (log scale)",
        "scale": {"type": "log", "nice": False},
        "axis": {"values": RATIO_TICKS, "format": "~g"},  # Vega draws only those within the domain
    }
    color = {"condition": {"test": "datum.log_odds > 0", "value": MORE_LIKELY}, "value": LESS_LIKELY}
    tooltip = [
        {"field": "answer"},
        {"field": "log_odds", "type": "quantitative", "title": "change in log-odds", "format": ".2f"},
        {"field": "after", "type": "quantitative", "title": "present after this answer", "format": ".2%"},
    ]
    return {
        "height": {"step": 30},
        "layer": [
            {
                "mark": {"type": "bar", "height": 14},
                "encoding": {"x": x, "x2": {"datum": 1}, "y": y, "color": color, "tooltip": tooltip},
            },
            {
                "mark": {"type": "text", "dy": -12, "fontSize": 11},
                "encoding": {
                    "x": {"field": "likelihood_ratio", "type": "quantitative"},
                    "y": y,
                    "text": {"field": "text"},
                },
            },
            {  # the axis's ends, from the data: ticks at both ends, whatever the ratios
                "mark": {"type": "rule", "opacity": 0},
                "encoding": {
                    "x": {"field": "axis_low", "type": "quantitative"},
                    "x2": {"field": "axis_high"},
                },
            },
        ],
    }


def trajectory_spec() -> dict[str, Any]:
    """Return the teaching chart: each cause's chance of being present as the answers are added.

    The data is `model.page.trajectory_rows`: ``step``, ``answer``, ``cause``, ``probability`` and
    ``shown``, a row per step and cause. Causes differ by dash as well as colour, and no colour is
    red: on this page red means a serious cause, which is not what a line's colour says here.

    Examples
    --------
    >>> trajectory_spec()["mark"]
    {'type': 'line', 'point': True}
    """
    cause = {"field": "cause", "type": "nominal", "title": None}
    return {
        # The legend sits below: fitting only the width keeps 260 px for the lines themselves.
        "height": 260,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "step", "type": "ordinal", "title": "Answers added (the steps in the table below)",
                  "axis": {"labelAngle": 0}},
            "y": {"field": "probability", "type": "quantitative", "title": "Chance it is present",
                  "scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
            "color": {**cause, "scale": {"range": CAUSE_COLOURS},
                      "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 400,
                                 "symbolType": "stroke", "symbolStrokeWidth": 2}},
            "strokeDash": cause,
            "tooltip": [{"field": "answer"}, {"field": "cause"}, {"field": "shown", "title": "present"}],
        },
    }  # fmt: skip
