"""dk.report: the HTML file (content, escaping, self-containment) and the Excel round trip."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.report import ReportFiles, TableResult
from driverkit.report._report import _sheet_name

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def written(tmp_path_factory, model, shapley, dominance, frontier_table, portfolio):
    out = tmp_path_factory.mktemp("rep") / "client.html"
    files = dk.report(model, shapley, dominance, ("Budget frontier", frontier_table), portfolio,
                      path=out, title=f"Client {XSS}", subtitle="Wave 3 & <b>bold</b>")
    return files, (model, shapley, dominance, frontier_table, portfolio)


def test_report_writes_html_and_excel(written):
    files, _ = written
    assert isinstance(files, ReportFiles)
    assert files.html.name == "client.html" and files.html.stat().st_size > 10_000
    assert files.excel == files.html.with_suffix(".xlsx") and files.excel.exists()
    assert files.paths == [files.html, files.excel]


def test_report_html_is_self_contained_and_escaped(written):
    files, results = written
    text = files.html.read_text(encoding="utf-8")
    # No script of any kind and no external resource: everything is inline.
    assert "<script" not in text.lower()
    assert not re.search(r'(src|href)="(?!data:|#)', text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text and "Wave 3 &amp;" in text
    # one embedded chart per section, plus the conditional-dominance lines
    charts = re.findall(r'<img class="dk-chart-img" src="data:image/png;base64,', text)
    assert len(charts) == len(results) + 1
    assert text.count('<table class="dk-table"') == len(files.sheets)
    for heading in ("Method notes", "Assumptions and caveats", "Shapley / LMG",
                    "Dominance analysis", "Budget optimisation", "observational survey"):
        assert heading in text
    assert "Chart not drawn" not in text


def test_report_tables_show_formatted_numbers(written):
    files, (_model, shapley, *_rest) = written
    text = files.html.read_text(encoding="utf-8")
    share = shapley.table.loc["staff", "share"]
    assert f"{share:.1f}%" in text
    lo, hi = shapley.table.loc["staff", ["ci_low", "ci_high"]]
    assert f"[{lo:.4f}, {hi:.4f}]" in text


def test_report_excel_round_trips_with_the_same_numbers(written):
    files, (model, shapley, dominance, frontier_table, portfolio) = written
    sheet = {title: names[0] for title, names in files.sections.items() if names}
    expected = {
        sheet["Driver model"]: model.table,
        sheet[shapley.title]: shapley.table,
        sheet["Budget frontier"]: frontier_table,
        sheet["Initiative portfolio"]: portfolio.table,
    }
    book = pd.read_excel(files.excel, sheet_name=None, index_col=0, engine="openpyxl")
    plain = pd.read_excel(files.excel, sheet_name=None, engine="openpyxl")
    assert next(iter(book)) == "About"
    assert list(book)[1:] == files.sheets
    for sheet, table in expected.items():
        # a table without row labels (a RangeIndex) is written without an index column
        unlabelled = isinstance(table.index, pd.RangeIndex) and table.index.name is None
        got = plain[sheet] if unlabelled else book[sheet]
        assert [str(c) for c in got.columns] == [str(c) for c in table.columns], sheet
        assert [str(i) for i in got.index] == [str(i) for i in table.index], sheet
        for col in table.columns:
            want = table[col]
            if pd.api.types.is_bool_dtype(want):
                assert got[col].astype(bool).tolist() == want.tolist()
            elif pd.api.types.is_numeric_dtype(want):
                # percentages (``share``, 0–100 in .table) are stored as real fractions
                scale = 100.0 if str(col).startswith("share") else 1.0
                np.testing.assert_allclose(got[col].to_numpy(dtype=float) * scale,
                                           want.to_numpy(dtype=float), rtol=1e-14, atol=0,
                                           equal_nan=True, err_msg=f"{sheet}.{col}")
            else:
                shown = [", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in want]
                assert [("" if pd.isna(v) else str(v)) for v in got[col]] == shown
    # the extra dominance tables get their own sheets
    assert any("conditional" in s for s in files.sheets)
    cond = next(book[s] for s in files.sheets if "conditional" in s)
    np.testing.assert_allclose(cond.to_numpy(dtype=float), dominance.conditional.to_numpy(),
                               rtol=1e-14)


def test_report_excel_formats_and_frozen_header(written):
    import openpyxl

    files, (_m, shapley, *_r) = written
    wb = openpyxl.load_workbook(files.excel)
    ws = wb[files.sections[shapley.title][0]]
    assert ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    share_cell = ws.cell(row=2, column=header.index("share") + 1)
    assert share_cell.number_format == "0.0%"
    assert share_cell.value == pytest.approx(shapley.table["share"].iloc[0] / 100, rel=1e-14)
    # every table is an Excel table with named headers and a filter; the importance sheet
    # carries a native chart
    assert ws.tables and all(c.value for c in ws[1])
    assert len(ws._charts) == 1
    p_ws = wb["Driver model"]
    header = [c.value for c in p_ws[1]]
    assert p_ws.cell(row=2, column=header.index("p_value") + 1).number_format == "0.0000"
    # a string that looks like a formula stays a string
    assert ws.cell(row=1, column=1).data_type == "s"


def test_report_strings_are_never_formulas(tmp_path):
    t = pd.DataFrame({"note": ["=1+1", "@SUM(A1)"], "x": [1.5, 2.5]}, index=["=cmd", "b"])
    files = dk.report(("Tricky", t), path=tmp_path / "t.html")
    import openpyxl

    ws = openpyxl.load_workbook(files.excel)["Tricky"]
    assert ws["A2"].value == "=cmd" and ws["A2"].data_type == "s"
    assert ws["B2"].value == "=1+1" and ws["B2"].data_type == "s"


def test_report_into_directory_svg_and_no_excel(tmp_path, model):
    files = dk.report(model, path=tmp_path / "outdir", excel=False, image_format="svg")
    assert files.html == tmp_path / "outdir" / "report.html" and files.excel is None
    assert "data:image/svg+xml;base64," in files.html.read_text(encoding="utf-8")


def test_report_accepts_dicts_figures_and_names_sections_uniquely(tmp_path, model):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    files = dk.report({"A": model, "B": model}, model, model, ("Own chart", fig),
                      path=tmp_path / "r.html")
    plt.close(fig)
    text = files.html.read_text(encoding="utf-8")
    assert "Driver model (2)" in text and "Own chart" in text
    assert files.sheets == ["A", "B", "Driver model", "Driver model (2)"]


def test_report_bad_input(tmp_path):
    with pytest.raises(TypeError, match="at least one result"):
        dk.report(path=tmp_path / "x.html")
    with pytest.raises(TypeError, match="object of type int"):
        dk.report(3, path=tmp_path / "x.html")
    with pytest.raises(ValueError, match="'image_format' parameter of report"):
        dk.report(pd.DataFrame({"x": [1]}), path=tmp_path / "x.html", image_format="gif")


def test_report_chart_failure_is_reported_not_raised(tmp_path):
    class Broken(TableResult):
        def _plot(self, ax, **kwargs):
            raise RuntimeError("no data to draw")

    files = dk.report(Broken(pd.DataFrame({"x": [1.0]}), title="Broken"), path=tmp_path / "b.html")
    assert "Chart not drawn: Broken: RuntimeError: no data to draw" in files.html.read_text(
        encoding="utf-8")


def test_sheet_names_are_valid_and_unique():
    used: set[str] = {"about"}
    names = [_sheet_name(t, used) for t in
             ["a/b:c", "x" * 40, "x" * 40, "About", "'quoted'", "[]"]]
    assert names[0] == "a_b_c"
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[3] == "About (2)"


def test_report_colours_importance_by_journey_stage(tmp_path, shapley):
    stages = {"staff": "Store", "price": "Checkout", "wait_time": "Checkout"}
    files = dk.report(shapley, path=tmp_path / "s.html", stages=stages)
    text = files.html.read_text(encoding="utf-8")
    assert "by journey stage" in text and "Chart not drawn" not in text


def test_report_multiindex_tables_round_trip(tmp_path):
    idx = pd.MultiIndex.from_product([["staff", "price"], ["A", "B"]], names=["driver", "segment"])
    t = pd.DataFrame({"importance": [0.1, 0.2, 0.3, 0.4], "q_value": [0.5, 0.01, 0.2, 0.03]},
                     index=idx)
    files = dk.report(("By segment", t), path=tmp_path / "m.html")
    back = pd.read_excel(files.excel, sheet_name="By segment", index_col=[0, 1])
    pd.testing.assert_frame_equal(back, t, check_exact=True)
    text = files.html.read_text(encoding="utf-8")
    assert "<th>driver / segment</th>" in text and "<th>staff / A</th>" in text
