"""One contract for every result class in driverkit (like scikit-learn's estimator checks).

Every subclass of ``driverkit._results.Result`` found in the package must have a builder
below. For each: ``summary()`` and ``_repr_html_()`` render (title, every row label, notes
shown; HTML escaped), the table has its required columns, ``plot_data()`` is a DataFrame,
``plot()`` returns Axes (a new figure or the ``ax`` given), and ``dk.report`` accepts it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit._results import FrameResult, Result

TESTS = Path(__file__).resolve().parents[1]


def _all_result_classes() -> set[type]:
    for mod in pkgutil.walk_packages(dk.__path__, prefix="driverkit."):
        if ".cli" in mod.name:
            continue
        importlib.import_module(mod.name)
    seen: set[type] = set()
    todo = list(Result.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("driverkit."):
            seen.add(cls)
            todo += cls.__subclasses__()
    # private bases (e.g. cx._GroupedResult) and the DataFrame-compatible base are never
    # returned to users
    return {c for c in seen if not c.__name__.startswith("_") and c is not FrameResult}


def _fake_sim():
    spec = importlib.util.spec_from_file_location("optfakes", TESTS / "optimize" / "optfakes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.FakeSim({"staff": 40.0, "price": 25.0}, kind="saturating")


# builder: (fixtures) -> (result, required table columns)
def _model(ctx):
    return ctx["model"], ["estimate", "std_error", "ci_low", "ci_high", "p_value", "vif"]


def _importance(ctx):
    return ctx["shapley"], ["importance", "share", "rank", "std_error", "ci_low", "ci_high"]


def _importance_logit(ctx):
    s = ctx["survey"]
    return (dk.importance(s, "repurchase", ctx["drivers"], kind="logit", weights=s["staff"],
                          groups={"staff and price": ["staff", "price"]}),
            ["importance", "share", "rank"])


def _importance_ordinal(ctx):
    s = ctx["survey"].assign(sat3=lambda d: pd.cut(d["satisfaction"], 3, labels=False))
    return (dk.importance(s, "sat3", ctx["drivers"], kind="ordinal", bootstrap=10, seed=1,
                          progress=False),
            ["importance", "share", "rank", "std_error", "ci_low", "ci_high"])


def _model_ordinal(ctx):
    s = ctx["survey"].assign(sat3=lambda d: pd.cut(d["satisfaction"], 3, labels=False))
    return (dk.fit(s, "sat3", ctx["drivers"], kind="ordinal"),
            ["estimate", "std_error", "ci_low", "ci_high", "p_value", "vif"])


def _model_probit(ctx):
    return (dk.fit(ctx["survey"], "repurchase", ctx["drivers"], kind="probit"),
            ["estimate", "std_error", "ci_low", "ci_high", "p_value", "vif"])


def _frontier(ctx):
    return (dk.frontier(ctx["initiatives"], [-30, 0, 20, 40, 75]),
            ["budget", "chosen", "value", "net_cost", "roi", "feasible"])


def _delta_nps(ctx):
    cx = ctx["cx"]
    m = dk.nps_model(cx, "recommend", ctx["cx_drivers"], categories=3)
    scen = dk.Scenario("+1", {ctx["cx_drivers"][0]: dk.shift(1)})
    return (dk.delta_nps(m, cx, scen, draws=100, seed=1),
            ["baseline_nps", "scenario_nps", "delta_nps", "delta_nps_low", "delta_nps_high"])


def _chunked(ctx):
    scen = dk.Scenario("+1", {"staff": dk.shift(1)}, cost=1_000)
    return (dk.run_chunked(ctx["model"], ctx["survey"], scen, revenue_per_customer=250.0,
                           draws=50, seed=1, chunksize=150, progress=False),
            ["baseline_rate", "scenario_rate", "delta_rate", "delta_rate_low",
             "delta_rate_high", "delta_revenue", "roi"])


def _allocation(ctx):
    curves = {"staff": dk.saturating(1.0, 30.0), "price": dk.saturating(1.0, 30.0)}
    return (dk.optimize_budget(_fake_sim(), curves, 60.0, objective="revenue"),
            ["spend", "lift", "delta_value", "marginal_roi"])


def _portfolio(ctx):
    return ctx["portfolio"], ["cost", "value", "chosen"]


def _table(ctx):
    from driverkit.report import TableResult

    return TableResult(ctx["frontier_table"], title="Frontier"), ["budget", "value"]


# the same classes again for binary, probit and ordinal outcomes ("Class (variant)")
VARIANTS = {
    "ImportanceResult (logit, weights, groups)": _importance_logit,
    "ImportanceResult (ordinal, bootstrap)": _importance_ordinal,
    "DriverModel (ordinal)": _model_ordinal,
    "DriverModel (probit)": _model_probit,
}


@pytest.fixture(scope="module")
def sim(survey, model):
    return dk.Simulator(model, survey, revenue_per_customer=250.0, customers=10_000)


def _simulation(ctx):
    sc = dk.Scenario("staff +1, price -1", {"staff": dk.shift(1), "price": dk.shift(-1)},
                     cost=5_000)
    return (ctx["sim"].run(sc, draws=100, seed=1),
            ["baseline_rate", "scenario_rate", "delta_rate", "delta_customers",
             "delta_revenue", "delta_profit", "cost", "roi", "delta_rate_low",
             "delta_rate_high", "delta_revenue_low", "delta_revenue_high"])


def _sensitivity(ctx):
    return (ctx["sim"].sensitivity(["staff", "price"], steps=[-1, 1], draws=50, seed=1),
            ["driver", "step", "delta_rate", "delta_revenue"])


def _priority(ctx):
    return (ctx["sim"].priority(draws=50, seed=1),
            ["performance", "impact", "impact_low", "impact_high", "quadrant"])


def _nps(ctx):
    from driverkit.cx import nps

    return nps(ctx["cx"], "recommend", weights="weight"), ["share"]


def _penalty_reward(ctx):
    from driverkit.cx import penalty_reward

    df = ctx["cx"]
    return (penalty_reward(df, "satisfaction", ctx["cx_drivers"], weights="weight"),
            ["penalty", "reward", "kano_class", "p_value"])


def _chain(ctx):
    from driverkit.cx import chain

    df = ctx["cx"]
    return (chain(df, "repurchase", ctx["cx_drivers"], mediator="satisfaction", kind="logit"),
            ["direct", "indirect", "total"])


def _stages(ctx):
    from driverkit.cx._stages import stage_importance

    df = ctx["cx"]
    return (stage_importance(df, "satisfaction", df.attrs["truth"]["stages"], weights="weight"),
            ["stage", "stage_importance", "importance", "share"])


_COMPARE_COLUMNS = ["importance", "difference", "ci_low", "ci_high", "p_value", "q_value"]


def _segments(ctx):
    from driverkit.cx._segments import compare_segments

    df = ctx["cx"]
    return (compare_segments(df, "satisfaction", ctx["cx_drivers"], "segment", weights="weight",
                             bootstrap=50, seed=1), _COMPARE_COLUMNS)


def _waves(ctx):
    from driverkit.cx._waves import compare_waves

    df = ctx["cx"]
    return (compare_waves(df, "satisfaction", ctx["cx_drivers"], "wave", weights="weight",
                          bootstrap=50, seed=1), _COMPARE_COLUMNS)


def _stated(ctx):
    from driverkit.cx._stated import stated_vs_derived

    df = ctx["cx"]
    stated = {d: f"imp_{d}" for d in ctx["cx_drivers"]}
    return (stated_vs_derived(df, "satisfaction", ctx["cx_drivers"], stated, weights="weight"),
            ["stated", "derived", "stated_rank", "derived_rank", "gap"])


def _pls(ctx):
    df = dk.make_survey(400, items_per_construct=3, seed=3)
    t = df.attrs["truth"]["pls"]
    return dk.pls(df, t["constructs"], t["paths"], scales=(1, 10)), t


def _pls_model(ctx):
    m, _ = _pls(ctx)
    return m, []


def _impact(ctx):
    m, _ = _pls(ctx)
    return m.impact("Loyalty"), ["impact"]


def _ipma(ctx):
    m, _ = _pls(ctx)
    return m.ipma("Loyalty"), []


def _missing_report(ctx):
    from driverkit.data import missing_report

    df = ctx["cx"].copy()
    df.loc[df.index[:40], ctx["cx_drivers"][0]] = np.nan
    return missing_report(df, ctx["cx_drivers"]), []


BUILDERS = {
    "PLSModel": _pls_model,
    "ImpactResult": _impact,
    "IPMAResult": _ipma,
    "MissingReport": _missing_report,
    "FrontierResult": _frontier,
    "DeltaNPSResult": _delta_nps,
    "ChunkedSimulationResult": _chunked,
    "SegmentComparison": _segments,
    "WaveComparison": _waves,
    "StatedDerivedResult": _stated,
    "StageImportanceResult": _stages,
    "NPSResult": _nps,
    "PenaltyRewardResult": _penalty_reward,
    "ChainResult": _chain,
    "DriverModel": _model,
    "ImportanceResult": _importance,
    "Allocation": _allocation,
    "Portfolio": _portfolio,
    "TableResult": _table,
    "PriorityResult": _priority,
    "SensitivityResult": _sensitivity,
    "SimulationResult": _simulation,
}


@pytest.fixture(scope="module")
def ctx(model, shapley, portfolio, frontier_table, sim, survey, drivers, initiatives):
    cx = dk.make_survey(n=800, n_drivers=5, seed=11, stated=True)
    return {"model": model, "shapley": shapley, "portfolio": portfolio,
            "frontier_table": frontier_table, "cx": cx, "sim": sim, "survey": survey,
            "drivers": drivers, "initiatives": initiatives,
            "cx_drivers": list(cx.attrs["truth"]["drivers"])}


def test_every_result_class_has_a_contract_builder():
    names = {c.__name__ for c in _all_result_classes()}
    missing = sorted(names - set(BUILDERS))
    assert not missing, (f"Result classes without a contract builder in {Path(__file__).name}: "
                         f"{missing}. Add one to BUILDERS.")


# Known contract gaps, each owned by the area that added the class (strict: when fixed, the
# test reports XPASS and the entry must go).
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[n]))
    if n in KNOWN_GAPS else n for n in sorted(BUILDERS) + sorted(VARIANTS)])
def test_result_contract(name, ctx, tmp_path):
    result, required = {**BUILDERS, **VARIANTS}[name](ctx)
    assert isinstance(result, Result) and type(result).__name__ == name.split(" ")[0]
    table = result.table
    assert isinstance(table, pd.DataFrame) and not table.empty
    assert set(required) <= set(table.columns), set(required) - set(table.columns)
    # key facts are data: snake_case keys, whatever spelling the code that set them used
    from driverkit._results import snake_key

    for key in result.meta:
        assert isinstance(key, str) and snake_key(key) == key, key
    # text and HTML: title, every row label, every note; HTML is escaped and well formed
    text = result.summary()
    assert result.title in text and repr(result) == text
    html = result._repr_html_()
    # one table, or one per section for results made of sections (a PLS model)
    assert html.count("<table>") == html.count("</table>") >= 1
    import html as _html

    assert _html.escape(result.title) in html
    from driverkit.display._render import index_label

    for label in list(table.index)[:30]:
        assert index_label(label) in text
        assert _html.escape(index_label(label)) in html
    for note in result.notes:
        assert _html.escape(str(note)) in html
    assert "<script" not in html
    assert isinstance(result.to_latex(), str)
    # plotting
    data = result.plot_data()
    assert isinstance(data, pd.DataFrame) and not data.empty
    ax = result.plot()
    assert isinstance(ax, matplotlib.axes.Axes) and ax.has_data()
    _fig, given = plt.subplots()
    assert result.plot(ax=given) is given
    plt.close("all")
    # the display keywords of the contract work on summary, HTML and plot alike
    rows = [r for r in table.index if isinstance(r, str)]
    labels = {rows[0]: "Relabelled row"} if rows else None
    text = result.summary(labels=labels, currency="SEK", locale="sv_SE")
    html = result.to_html(labels=labels, currency="SEK", locale="sv_SE")
    if labels:
        assert "Relabelled row" in text and "Relabelled row" in html
    ax = result.plot(labels=labels, currency="SEK", locale="sv_SE")
    assert isinstance(ax, matplotlib.axes.Axes)
    plt.close("all")
    # the client report takes it
    files = dk.report(result, path=tmp_path / "r.html")
    assert "Chart not drawn" not in files.html.read_text(encoding="utf-8")
