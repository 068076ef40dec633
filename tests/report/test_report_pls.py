"""``dk.report`` with a PLS path model, its IPMA and its impacts (issue #15, item 3)."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest

import driverkit as dk

TARGET = "Loyalty"


@pytest.fixture(scope="module")
def pls_report(tmp_path_factory):
    df = dk.make_survey(400, items_per_construct=3, seed=3)
    truth = df.attrs["truth"]["pls"]
    # a small bootstrap: the IPMA chart and workbook chart then carry interval bars
    m = dk.pls(df, truth["constructs"], truth["paths"], scales=(1, 10), bootstrap=40, seed=5)
    ipma, impact = m.ipma(TARGET), m.impact(TARGET)
    files = dk.report(m, ipma, impact, path=tmp_path_factory.mktemp("pls") / "pls.html",
                      pptx=True)
    return files, m, ipma, impact


def _images(html: str) -> dict[str, str]:
    """``{alt text: data URI}`` of the embedded charts."""
    return {alt: src for src, alt in re.findall(
        r'<img class="dk-chart-img" src="([^"]+)" alt="([^"]*)"', html)}


def test_html_has_the_path_diagram_ipma_chart_and_tables(pls_report):
    files, m, ipma, impact = pls_report
    html = files.html.read_text(encoding="utf-8")
    imgs = _images(html)
    assert imgs[m.title].startswith("data:image/png;base64,")
    assert imgs[ipma.title].startswith("data:image/png;base64,")
    assert imgs[impact.title].startswith("data:image/png;base64,")
    # the model section shows its R², reliability and indices; the long tables sit in the
    # appendix
    body = html.split("<h2>Appendix: technical detail")[0]
    for caption in ("R² of the endogenous constructs", "reliability and convergent validity",
                    "mean indices (0–100)"):
        assert f"<h4>{caption}</h4>" in body
    appendix = html.split("<h2>Appendix: technical detail")[1]
    assert "<h4>outer weights and loadings</h4>" in appendix
    # every construct with its quadrant in the IPMA table; the summary names the latent target
    ipma_section = html.split('id="dk-section-2"')[1].split('id="dk-section-3"')[0]
    for name, row in ipma.table.iterrows():
        tr = re.search(rf"<th>{name}</th>(.*?)</tr>", ipma_section, re.S)
        assert tr is not None and f"<td>{row['quadrant']}</td>" in tr.group(1), name
    assert f"What drives {TARGET} (PLS path model)" in html
    top = impact.table["impact"].idxmax()
    assert f"{top}: +{impact.table.loc[top, 'impact']:.2f} index points of {TARGET}" in html
    concentrate = ipma.table.index[ipma.table["quadrant"] == "concentrate"]
    assert len(concentrate) and all(str(c) in html.split("Concentrate on")[1][:200]
                                    for c in concentrate)


def _expected(files, m, ipma, impact) -> dict[str, pd.DataFrame]:
    sheets = files.sections
    model_sheets = dict(zip(["paths", "r2", "reliability", "indices", "outer", "total",
                             "htmt"], sheets[m.title], strict=True))
    return {
        model_sheets["paths"]: m.paths,
        model_sheets["r2"]: pd.DataFrame({"r2": m.r2, "adj_r2": m.adj_r2}),
        model_sheets["reliability"]: m.reliability,
        model_sheets["indices"]: m.index_table,
        model_sheets["outer"]: m.outer,
        model_sheets["total"]: m.total_effects,
        sheets[ipma.title][0]: ipma.table,
        sheets[impact.title][0]: impact.table,
    }


def test_workbook_reads_back_the_same_numbers_as_excel_tables(pls_report):
    import openpyxl

    files, m, ipma, impact = pls_report
    wb = openpyxl.load_workbook(files.excel)
    for sheet, table in _expected(files, m, ipma, impact).items():
        ws = wb[sheet]
        assert len(ws.tables) == 1, sheet  # an Excel table with a header row
        levels = table.index.nlevels
        back = pd.read_excel(files.excel, sheet_name=sheet, index_col=list(range(levels)))
        assert [str(c) for c in back.columns] == [str(c) for c in table.columns], sheet
        assert [tuple(map(str, i)) if levels > 1 else str(i) for i in back.index] == \
            [tuple(map(str, i)) if levels > 1 else str(i) for i in table.index], sheet
        for col in table.columns:
            if pd.api.types.is_numeric_dtype(table[col]):
                np.testing.assert_allclose(back[col].to_numpy(float),
                                           table[col].to_numpy(float), rtol=1e-14, atol=0,
                                           err_msg=f"{sheet}.{col}")
            else:
                assert back[col].astype(str).tolist() == table[col].astype(str).tolist()


def test_workbook_ipma_sheet_has_a_native_scatter_chart(pls_report):
    import openpyxl

    files, ipma = pls_report[0], pls_report[2]
    ws = openpyxl.load_workbook(files.excel)[files.sections[ipma.title][0]]
    (chart,) = ws._charts
    assert type(chart).__name__ == "ScatterChart"
    # the axes cross at the mean importance and the mean performance (the quadrant split)
    # (in the file, an axis's crossesAt is its position on the other axis: the horizontal
    # axis sits at the mean performance, the vertical one at the mean importance)
    assert chart.x_axis.crossesAt == pytest.approx(ipma.meta["mean_performance"], rel=1e-12)
    assert chart.y_axis.crossesAt == pytest.approx(ipma.meta["mean_importance"], rel=1e-12)
    (series,) = chart.series
    assert series.xVal.numRef.f.endswith("$B$2:$B$6")  # importance, one row per construct
    assert series.yVal.numRef.f.endswith("$C$2:$C$6")  # performance
    # bootstrap intervals on both axes, read from the chart's XML (openpyxl keeps one)
    with zipfile.ZipFile(files.excel) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/"))
    assert re.findall(r"<c:errDir val=\"(\w)\"/>", xml) == ["x", "y"]


def test_deck_has_path_diagram_and_ipma_slides(pls_report):
    from pptx import Presentation

    files = pls_report[0]
    slides = {}
    for s in Presentation(str(files.pptx)).slides:
        title = next(sh.text_frame.text.split("\n")[0] for sh in s.shapes if sh.has_text_frame)
        slides[title] = {type(sh).__name__ for sh in s.shapes}
    assert "Picture" in slides["PLS path model"]
    assert {"Picture", "GraphicFrame"} <= slides["Importance–performance map"]


def test_summary_of_a_model_alone_names_its_last_endogenous_construct(pls_report, tmp_path):
    m = pls_report[1]
    files = dk.report(m, path=tmp_path / "model.html", excel=False)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", files.html.read_text(encoding="utf-8")))
    assert (f"{TARGET} is a latent construct of a PLS path model; its index stands at "
            f"{m.index[TARGET]:.1f} on a 0–100 scale; its predecessors explain "
            f"{100 * m.r2[TARGET]:.0f}% of its variation (R² = {m.r2[TARGET]:.2f})") in text
