"""The shared renderer: number formats, interval columns, escaping, long tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driverkit._results import Result
from driverkit.display._render import (
    display_table,
    format_table,
    format_value,
    render_html,
    render_latex,
    render_text,
)


def _result(table, **kw):
    return Result(table, **kw)


def test_format_value_by_column_meaning():
    assert format_value(0.0004, "p_value") == "<0.001"
    assert format_value(0.0312, "p_value") == "0.031"
    assert format_value(23.456, "share") == "23.5%"
    assert format_value(3.0, "rank") == "3"
    assert format_value(1234567.8, "delta_revenue") == "1,234,568"
    assert format_value(float("nan"), "x") == "–"
    assert format_value(0.95, "ci") == "95%"
    assert format_value(True) == "yes"
    assert format_value(["a", "b"]) == "a, b"


def test_display_table_merges_interval_pairs():
    t = pd.DataFrame({"estimate": [0.5], "ci_low": [0.25], "ci_high": [0.75],
                      "delta_revenue": [1500.0], "delta_revenue_low": [1000.0],
                      "delta_revenue_high": [2000.0], "share": [40.0], "share_low": [30.0],
                      "share_high": [50.0]}, index=["staff"])
    d = display_table(t, ci=0.9)
    assert list(d.columns) == ["estimate", "90% CI", "delta_revenue", "delta_revenue 90% CI",
                               "share", "share 90% CI"]
    assert d.loc["staff", "90% CI"] == "[0.2500, 0.7500]"
    # money: whole units, the same decimals for the estimate and its interval
    assert d.loc["staff", "delta_revenue 90% CI"] == "[1,000, 2,000]"
    assert d.loc["staff", "delta_revenue"] == "1,500"
    assert d.loc["staff", "share 90% CI"] == "[30.0%, 50.0%]"
    # an unpaired _low column stays as it is; a missing interval shows blank
    t2 = pd.DataFrame({"x_low": [1.0], "ci_low": [np.nan], "ci_high": [np.nan]})
    d2 = display_table(t2)
    assert list(d2.columns) == ["x_low", "CI"] and d2.iloc[0, 1] == ""
    # the raw table is untouched
    assert list(t.columns)[:3] == ["estimate", "ci_low", "ci_high"]


def test_render_text_and_html_show_meta_intervals_and_notes():
    t = pd.DataFrame({"importance": [0.3], "ci_low": [0.2], "ci_high": [0.4]},
                     index=pd.Index(["<b>staff</b>"], name="driver"))
    r = _result(t, meta={"n": 400, "ci": 0.95}, notes=["Low n & <care>"], title="T <x>")
    text = render_text(r)
    assert "95% CI" in text and "[0.2000, 0.4000]" in text and "Note: Low n & <care>" in text
    html = render_html(r)
    assert "&lt;b&gt;staff&lt;/b&gt;" in html and "<b>staff" not in html
    assert "T &lt;x&gt;" in html and "Low n &amp; &lt;care&gt;" in html
    assert '<ul class="dk-notes">' in html and "<table>" in html
    assert "95% CI" in html


def test_long_tables_are_shortened_for_display():
    t = pd.DataFrame({"x": np.arange(200, dtype=float)})
    text = render_text(_result(t))
    assert "(140 more rows)" in text and "199" in text and " 100 " not in text
    html = render_html(_result(t))
    assert "140 more rows" in html and html.count("<tr>") == 62  # header + 60 rows + the gap


def test_latex_escapes_and_keeps_format_table_working():
    t = pd.DataFrame({"share_%": [12.5], "p_value": [0.2]}, index=["a_b & c"])
    tex = render_latex(_result(t))
    assert r"a\_b \& c" in tex and r"share\_\%" in tex and r"\toprule" in tex
    assert format_table(t).loc["a_b & c", "p_value"] == "0.200"
