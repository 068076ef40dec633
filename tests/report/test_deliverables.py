"""Client deliverables (issue #17): summary first, labels and money formats, deck, workbook.

Everything runs through the public API on the small synthetic survey of ``conftest.py``.
"""

from __future__ import annotations

import html as html_lib
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import driverkit as dk
from driverkit.display._format import Format, LabelWarning, make_format

XSS = "<script>alert(1)</script>"
NBSP = "\xa0"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim(model, survey):
    return dk.Simulator(model, survey, revenue_per_customer=250.0, customers=120_000)


@pytest.fixture(scope="module")
def analysis(sim, shapley, model, drivers):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prio = sim.priority(draws=80, seed=1)
        sens = sim.sensitivity(steps=[-1, 1], draws=80, seed=1)
        curves = {d: dk.saturating(max_lift=1.0, scale=400_000.0) for d in drivers}
        plan = dk.optimize_budget(sim, curves, 1_000_000.0, objective="profit")
        effect = sim.run(plan.scenario, draws=80, seed=1)
    return {"importance": shapley, "priority": prio, "sensitivity": sens, "plan": plan,
            "effect": effect, "model": model}


@pytest.fixture(scope="module")
def deliverables(analysis, tmp_path_factory):
    labels = {"staff": "Staff =cmd", "price": "Price $x$", "wait_time": "Waiting time"}
    out = tmp_path_factory.mktemp("deliver")
    a = analysis
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = dk.report(a["importance"], a["priority"], a["sensitivity"], a["plan"],
                          a["effect"], a["model"], path=out / "client.html", title="Client",
                          formats=("html", "xlsx", "pptx"), labels=labels, currency="SEK",
                          locale="sv_SE")
    return files, labels


def _visible_text(page: str) -> str:
    body = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', " ", body)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).replace(NBSP, " ")


# ---------------------------------------------------------------------------------------
# formatter
# ---------------------------------------------------------------------------------------
def test_money_and_numbers_through_babel():
    f = Format(currency="SEK", locale="sv_SE")
    assert f.money(1234567).replace(NBSP, " ") == "1 234 567 kr"
    assert Format(currency="EUR", locale="de_DE").money(-1234.5, 2).replace(NBSP, " ") \
        == "-1.234,50 €"
    # one column, one number of decimals; no scientific notation, however small or large
    assert Format().column([1379131.2, -1506.04], "delta_revenue") == ["1,379,131", "-1,506"]
    assert Format().column([0.0000042, 0.0000031], "spread") == ["0.00000420", "0.00000310"]
    assert Format().column([2.1e9], "x") == ["2,100,000,000"]
    assert Format().column([8.634, 10.1], "share") == ["8.6%", "10.1%"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"currency": "XYZ"}, "unknown currency"),
    ({"locale": "xx_YY"}, "unknown locale"),
    ({"currency": "SEK", "locale": "nonsense!"}, "unknown locale"),
])
def test_unknown_currency_or_locale_is_a_clear_error(kw, message, shapley, tmp_path):
    with pytest.raises(dk.DriverkitError, match=message):
        make_format(**kw)
    with pytest.raises(dk.DriverkitError, match=message):
        dk.report(shapley, path=tmp_path / "r.html", **kw)
    with pytest.raises(dk.DriverkitError, match=message):
        shapley.summary(**kw)
    with pytest.raises(dk.DriverkitError, match=message):
        shapley.plot(**kw)


def test_labels_naming_unknown_columns_warn(shapley, tmp_path):
    with pytest.warns(LabelWarning, match="stafff"):
        shapley.summary(labels={"stafff": "Staff"})
    with pytest.warns(LabelWarning, match="stafff"):
        dk.report(shapley, path=tmp_path / "r.html", excel=False, labels={"stafff": "Staff"})
    with pytest.raises(dk.DriverkitTypeError, match="mapping"):
        shapley.summary(labels=["staff"])


def test_summary_and_plot_take_labels_and_currency(analysis):
    prio = analysis["priority"]
    text = prio.summary(labels={"staff": "Friendly staff"}, currency="SEK",
                        locale="sv_SE").replace(NBSP, " ")
    assert "Friendly staff" in text and " kr" in text
    assert re.search(r"\de[+-]\d", text) is None
    # the data are untouched
    assert "staff" in prio.table.index
    ax = prio.plot(labels={"staff": "Friendly staff"}, currency="SEK", locale="sv_SE")
    ax.figure.canvas.draw()
    texts = [t.get_text() for t in ax.texts]
    assert "Friendly staff" in texts and "staff" not in texts
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any(t.endswith("kr") for t in ticks)
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert not any(re.search(r"\de[+-]?\d", t) for t in ticks)


def test_every_money_axis_is_plain_without_offset(analysis):
    for key in ("priority", "sensitivity", "plan", "effect"):
        ax = analysis[key].plot()
        ax.figure.canvas.draw()
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.get_offset_text().get_text() == "", key
            labels = [t.get_text() for t in axis.get_ticklabels()]
            assert not any(re.search(r"\d[eE][+-]?\d", t) for t in labels), (key, labels)
        assert not re.search(r"\d[eE][+-]\d", ax.get_title()), ax.get_title()


def test_mathtext_and_markup_in_labels_are_shown_literally(shapley):
    labels = {"staff": "Price $x$", "price": "=cmd"}
    ax = shapley.plot(labels=labels)
    ax.figure.canvas.draw()  # mathtext would raise or render "x" in italics
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert r"Price \$x\$" in shown and "=cmd" in shown and XSS in shown


def test_sensitivity_highlights_the_top_drivers_without_repeated_colours(analysis):
    ax = analysis["sensitivity"].plot()
    colours = [ln.get_color() for ln in ax.get_lines() if ln.get_linewidth() >= 2]
    assert len(colours) == len(set(colours)) >= 1
    assert ax.get_legend() is None  # names sit at the line ends
    names = {t.get_text() for t in ax.texts}
    assert {"staff", "price", "wait_time"} <= names


def test_priority_labels_do_not_overlap(analysis):
    ax = analysis["priority"].plot()
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts if t.get_text() in
             {"staff", "price", "wait_time", XSS}]
    assert len(boxes) == 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_frontier_curve_or_steps():
    from driverkit.display import budget_frontier

    f = pd.DataFrame({"budget": [0.0, 10.0, 20.0, 30.0], "value": [0.0, 25.0, 35.0, 40.0]})
    curve = budget_frontier(f, kind="continuous")
    assert len(curve.get_lines()[0].get_xdata()) == 200  # a smooth monotone curve
    steps = budget_frontier(f, kind="discrete")
    assert steps.get_lines()[0].get_drawstyle() == "steps-post"
    with pytest.raises(dk.DriverkitError, match="continuous"):
        budget_frontier(f, kind="smooth")


def test_ipma_chart_splits_at_the_means():
    from driverkit.display import ipma_chart

    t = pd.DataFrame({"performance": [60.0, 80.0, 70.0, 50.0],
                      "importance": [0.4, 0.3, 0.1, 0.05],
                      "importance_low": [0.3, 0.2, 0.0, 0.0],
                      "importance_high": [0.5, 0.4, 0.2, 0.1]}, index=["a", "b", "c", "d"])
    ax = ipma_chart(t)
    # importance across, performance up, both split at their means
    vline = next(ln for ln in ax.get_lines() if len(set(ln.get_xdata())) == 1)
    hline = next(ln for ln in ax.get_lines() if len(set(ln.get_ydata())) == 1)
    assert vline.get_xdata()[0] == pytest.approx(0.2125)
    assert hline.get_ydata()[0] == pytest.approx(65.0)
    assert "concentrate here" in {t.get_text() for t in ax.texts}
    # "a" (important, below-average performance) is coloured as the place to concentrate
    colours = ax.collections[-1].get_facecolors()
    assert matplotlib.colors.to_hex(colours[0]) == "#d55e00"


# ---------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------
def test_summary_comes_first_and_names_each_outcome(deliverables):
    files, _labels = deliverables
    page = files.html.read_text(encoding="utf-8")
    main = page[page.index("<main>"):]
    assert main.index('id="dk-summary"') < main.index('class="dk-section" id="dk-section-1"')
    summary = main[main.index('id="dk-summary"'):main.index("</section>")]
    text = _visible_text(summary)
    assert "What drives satisfaction" in text
    assert "through repurchase" in text  # money blocks name their outcome
    for key in ("importance", "improve", "cut", "plan"):
        assert f'data-key="{key}"' in summary
    assert "Caveats" in text
    # the plan's return comes with its interval
    plan_line = re.search(r"Spend .*? kr", text)
    assert plan_line and "[" in text[plan_line.start():plan_line.start() + 200]


def test_no_scientific_notation_and_labels_replace_names(deliverables):
    files, labels = deliverables
    page = files.html.read_text(encoding="utf-8")
    text = _visible_text(page)
    assert re.search(r"\d[eE][+-]\d", text) is None
    for _name, label in labels.items():
        assert label in text
    # the raw column names are gone from the tables' row labels
    heads = re.findall(r"<tbody>.*?</tbody>", page, flags=re.S)
    rows = " ".join(_visible_text(h) for h in heads)
    assert "wait_time" not in rows and "Waiting time" in rows
    assert "&lt;script&gt;" in page and XSS not in page  # escaped, never markup
    assert " kr" in text


def test_technical_detail_is_in_the_appendix_and_notes_are_not_warnings(deliverables):
    files, _ = deliverables
    page = files.html.read_text(encoding="utf-8")
    appendix = page[page.index('id="dk-appendix"'):]
    body = page[:page.index('id="dk-appendix"')]
    assert "pairwise differences" in appendix and "pairwise differences" not in body
    assert "solver" in appendix.lower()
    plan_section = body[body.index('data-kind="Allocation"'):]
    plan_section = plan_section[:plan_section.index("</section>")]
    assert "simulator_calls" not in plan_section and "SLSQP" not in plan_section
    # method statements are notes; only problems with these data carry a ⚠
    assert 'class="dk-notes"' in page and "⚠ Note" not in page
    assert "<li>⚠ Rate = " not in page


def test_stages_as_stage_to_drivers_keep_the_importance_chart(shapley, tmp_path):
    files = dk.report(shapley, path=tmp_path / "s.html", excel=False,
                      stages={"Store": ["staff", "wait_time"], "Checkout": ["price"]})
    page = files.html.read_text(encoding="utf-8")
    assert "by journey stage" in page and "Chart not drawn" not in page


def test_deck_has_the_expected_slides_and_no_placeholder_text(deliverables):
    from pptx import Presentation

    files, _labels = deliverables
    deck = Presentation(str(files.pptx))
    titles = []
    for slide in deck.slides:
        assert not list(slide.placeholders)
        for sh in slide.shapes:  # nothing hangs off the slide
            assert sh.left >= 0 and sh.top >= 0
            assert sh.left + sh.width <= deck.slide_width
            assert sh.top + sh.height <= deck.slide_height
        texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        titles.append(texts[0].splitlines()[0])
        for t in texts:
            assert "Click to" not in t and t.strip()
    assert titles[0] == "Client"
    assert titles[1] == "Executive summary"
    for want in ("What drives satisfaction", "Priority matrix", "Scenarios", "Budget plan",
                 "Caveats", "Method appendix"):
        assert any(t.startswith(want) for t in titles), (want, titles)
    pictures = [sh for s in deck.slides for sh in s.shapes if sh.shape_type == 13]
    assert len(pictures) >= 4
    tables = [sh.table for s in deck.slides for sh in s.shapes if sh.has_table]
    assert tables
    cells = [c.text for t in tables for r in t.rows for c in r.cells]
    assert "Waiting time" in cells and "wait_time" not in cells
    assert not any(re.search(r"\d[eE][+-]\d", c) for c in cells)


def test_workbook_numbers_percentages_and_charts(deliverables, analysis):
    import openpyxl

    files, labels = deliverables
    wb = openpyxl.load_workbook(files.excel)
    imp = analysis["importance"]
    ws = wb[files.sections[imp.title][0]]
    header = [c.value for c in ws[1]]
    assert all(header) and header[0] == "driver"
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    share = header.index("share")
    for driver, label in {**labels, XSS: XSS}.items():
        assert rows[label][share] == pytest.approx(imp.table.loc[driver, "share"] / 100,
                                                   rel=1e-14)
    assert ws.cell(row=2, column=share + 1).number_format == "0.0%"
    # labels that look like formulas are text cells
    staff = next(c for c in ws["A"] if c.value == "Staff =cmd")
    assert staff.data_type == "s"
    charted = [name for name in wb.sheetnames if wb[name]._charts]
    prio_sheet = files.sections[analysis["priority"].title][0]
    plan_sheet = files.sections[analysis["plan"].title][0]
    assert {ws.title, prio_sheet, plan_sheet} <= set(charted)
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert ws.tables


def test_formats_keyword_and_bad_format(shapley, tmp_path):
    files = dk.report(shapley, path=tmp_path / "f.html", formats=("html", "pptx"))
    assert files.excel is None and files.pptx.exists() and files.pptx in files.paths
    with pytest.raises(dk.DriverkitError, match="formats"):
        dk.report(shapley, path=tmp_path / "g.html", formats=("html", "pdf"))


def test_report_leaves_the_results_untouched(analysis, tmp_path):
    before = {k: v.table.copy() for k, v in analysis.items()}
    dk.report(*analysis.values(), path=tmp_path / "u.html", labels={"staff": "S"},
              currency="SEK", excel=False)
    for k, v in analysis.items():
        pd.testing.assert_frame_equal(v.table, before[k])
    assert np.isfinite(analysis["plan"].value)
