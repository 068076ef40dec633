"""The ``driverkit`` command line: ``driverkit demo`` and ``driverkit analyze DATA ...``.

Exit codes: 0 success; 2 bad input (a one-line message on stderr, no traceback); 1 an
unexpected failure.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from .._validation import suggest
from .._version import __version__
from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = ["cli", "main"]

_CONFIG_KEYS = ("outcome", "drivers", "weights", "revenue", "revenue_per_customer", "customers",
                "margin", "budget", "kind", "scales", "groups", "stages", "cost_curves",
                "bootstrap", "draws", "seed", "positive", "better", "title", "sheet",
                "importance_outcome", "labels", "currency", "locale", "pptx")


_CONFIG_TYPES: dict[str, Any] = {"revenue_per_customer": float, "customers": float,
                                  "margin": float, "budget": float, "bootstrap": int,
                                  "draws": int, "seed": int}


class InputError(DriverkitError):
    """Bad command-line input (exit code 2)."""


def _check_out_dir(out_dir: str | Path) -> None:
    """Bad output paths are input errors (exit 2), not tracebacks at the end of the run."""
    p = Path(out_dir)
    for parent in [p, *p.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"Cannot write into '{p}': '{parent}' is a file, not a folder. "
                                 "Choose another --output directory.")
            break


def _check_numbers(opts: Mapping[str, Any]) -> None:
    import math

    for key in ("budget", "revenue_per_customer", "customers", "margin"):
        v = opts.get(key)
        if v is not None and not math.isfinite(float(v)):
            raise InputError(f"--{key.replace('_', '-')} must be a finite number; got {v}.")


def _split_drivers(values: Sequence[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out += [s.strip() for s in str(v).split(",") if s.strip()]
    return out


def _read_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("--config needs PyYAML: pip install 'driverkit[report]'") from exc
    p = Path(path)
    if not p.exists():
        raise InputError(f"The config file '{p}' does not exist.")
    try:
        cfg = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"The config file '{p}' is not valid YAML: {first}") from exc
    if not isinstance(cfg, Mapping):
        raise InputError(f"The config file '{p}' must hold a mapping of options.")
    for key in cfg:
        if key not in _CONFIG_KEYS:
            raise InputError(f"Unknown option '{key}' in {p.name}.{suggest(str(key), _CONFIG_KEYS)}"
                             f" Known options: {', '.join(_CONFIG_KEYS)}.")
    out = dict(cfg)
    for key, kind in _CONFIG_TYPES.items():
        if out.get(key) is not None:
            try:
                value = kind(out[key])
            except (TypeError, ValueError):
                raise InputError(f"'{key}' in {p.name} must be a number; got {out[key]!r}."
                                 ) from None
            if kind is int and value != out[key]:
                raise InputError(f"'{key}' in {p.name} must be a whole number; got {out[key]!r}.")
            out[key] = value
    for key in ("scales", "groups", "stages", "cost_curves", "labels"):
        if out.get(key) is not None and not isinstance(out[key], Mapping):
            raise InputError(f"'{key}' in {p.name} must be a mapping (name: value); "
                             f"got {out[key]!r}.")
    return out


def _print_table(out: Any, files: Any, seconds: float) -> None:
    from ..display._format import current

    fmt = current()
    t = out.driver_table()
    click.echo("")
    click.echo(f"Key drivers of {out.importance_outcome} "
               f"({out.importance.method}, n = {out.importance.meta.get('n', out.model.n)})")
    impact_col = str(out.priority.meta.get("impact", "impact")) if out.priority else ""
    money = impact_col in ("delta_revenue", "delta_profit")
    has_impact = "impact" in t.columns
    has_ci = {"impact_low", "impact_high"} <= set(t.columns)
    head = f"{'rank':>4}  {'driver':<26}{'share':>7}  {'interval':<14}"
    if has_impact:
        what = {"delta_revenue": "Δrevenue", "delta_profit": "Δprofit"}.get(impact_col,
                                                                            impact_col)
        head += f"{'+1 point: ' + what:>22}" + (f"  {'95% interval':<27}" if has_ci else "")
    click.echo(head.rstrip())
    flagged = False
    for name, row in t.iterrows():
        ci = ""
        if "share_low" in t.columns:
            ci = f"[{row['share_low']:.1f}, {row['share_high']:.1f}]"
        line = f"{int(row['rank']):>4}  {str(name)[:25]:<26}{row['share']:>6.1f}%  {ci:<14}"
        if has_impact:
            if not np.isfinite(row["impact"]):
                # a categorical driver has no "+1 point"
                line += f"{'n/a (categorical)':>22}"
            else:
                def show(v: float) -> str:
                    text = fmt.column([v], "delta_revenue" if money else impact_col)[0]
                    return text if text.startswith("-") else "+" + text
                line += f"{show(float(row['impact'])):>22}"
                if has_ci and np.isfinite(row["impact_low"]):
                    lo, hi = float(row["impact_low"]), float(row["impact_high"])
                    line += f"  [{show(lo)}, {show(hi)}]".ljust(29)
                    if lo <= 0 <= hi:
                        line += " ~0"
                        flagged = True
        click.echo(line.rstrip())
    if flagged:
        click.echo("  ~0: the interval includes zero; the effect is not distinguishable from "
                   "no effect.")
    if out.plan is not None:
        plan = out.plan
        if plan.objective == "mean":  # a score: scale points, never a rate
            click.echo(f"\nBudget plan: {fmt.money(plan.total_spend)} spent, mean "
                       f"{out.model.outcome.split('~')[0].strip()} {plan.value:+.4f} points")
        else:
            effect = ""
            pe = getattr(out, "plan_effect", None)
            col = {"profit": "delta_profit", "revenue": "delta_revenue"}.get(plan.objective, "")
            if pe is not None and f"{col}_low" in pe.table.columns:
                r = pe.table.iloc[0]
                effect = (f" [{fmt.column([float(r[f'{col}_low'])], col)[0]}, "
                          f"{fmt.column([float(r[f'{col}_high'])], col)[0]}]")
            click.echo(f"\nBudget plan: {fmt.money(plan.total_spend)} spent, {plan.objective} "
                       f"{fmt.column([float(plan.value)], col or 'value')[0]}{effect}")
        funded = plan.table[plan.table["spend"] > 0].sort_values("spend", ascending=False)
        for d, r in funded.iterrows():
            click.echo(f"      {str(d)[:25]:<26}{fmt.money(float(r['spend'])):>12}   "
                       f"+{r['lift']:.2f} points")
    click.echo(f"\nWrote ({seconds:.1f} s):")
    for p in files.paths:
        click.echo(f"  {p}")


def _report_warnings(msgs: Sequence[str]) -> None:
    """One line per warning class (the first message), with how many similar ones followed."""
    firsts: dict[str, tuple[str, int]] = {}
    for m in msgs:
        cls = m.split(":", 1)[0]
        text, k = firsts.get(cls, (m, 0))
        firsts[cls] = (text, k + 1)
    for text, k in firsts.values():
        more = f" (and {k - 1} similar)" if k > 1 else ""
        click.echo(f"warning: {text}{more}", err=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _run(group: click.Group, args: Sequence[str] | None, prog_name: str | None,
         **extra: Any) -> int:
    """Run the group; turn bad input into a one-line message and exit code 2."""
    try:
        rv = click.Group.main(group, args=list(args) if args is not None else None,
                              prog_name=prog_name or "driverkit", standalone_mode=False,
                              **extra)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:  # usage errors: one line, exit 2
        click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
        return 2
    except (DriverkitError, DriverkitTypeError) as exc:
        click.echo(f"Error: {_one_line(exc)}", err=True)
        return 2
    return int(rv) if isinstance(rv, int) else 0


class _Group(click.Group):
    """A click group whose bad-input errors are one line on stderr with exit code 2."""

    def main(self, args: Sequence[str] | None = None,
             prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        code = _run(self, args, prog_name, **extra)
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driverkit")
def cli() -> None:
    """driverkit: key-driver analysis of customer-experience surveys.

    \b
    driverkit demo                      the whole pipeline on the embedded demo survey
    driverkit analyze DATA --outcome Y --drivers a,b,c -o out/
    """


DEMO_CUSTOMERS = 180_000  # the customer base the demo survey stands for
DEMO_MARGIN = 0.35        # contribution margin on revenue

_progress_option = click.option(
    "--progress/--no-progress", default=None,
    help="Progress bars on long steps (default: when writing to a terminal).")


@cli.command()
@click.option("-o", "--output", "out_dir", default="driverkit-demo", show_default=True,
              type=click.Path(file_okay=False), help="Directory for report.html/report.xlsx.")
@click.option("--bootstrap", default=200, show_default=True, type=click.IntRange(0),
              help="Bootstrap replicates for the importance intervals.")
@click.option("--draws", default=300, show_default=True, type=click.IntRange(0),
              help="Parameter draws per simulated scenario.")
@click.option("--budget", default=500_000.0, show_default=True, type=float,
              help="Budget of the illustrative plan.")
@click.option("--seed", default=0, show_default=True, type=int)
@_progress_option
def demo(out_dir: str, bootstrap: int, draws: int, budget: float, seed: int,
         progress: bool | None) -> None:
    """Run the whole pipeline on the embedded demo survey and write the report.

    Shapley importance of the 12 attributes for overall satisfaction (with a bootstrap), a
    logit model of repurchase, each attribute −1 and +1 simulated in customers and revenue,
    the priority matrix, an illustrative budget plan; writes report.html, report.xlsx and
    report.pptx into the output directory.
    """
    from ..data import load_demo
    from ._pipeline import run_analysis

    start = time.perf_counter()
    _check_out_dir(out_dir)
    _check_numbers({"budget": budget})
    show = sys.stderr.isatty() if progress is None else progress
    df = load_demo()
    truth = df.attrs.get("truth", {}) or {}
    drivers = [str(d) for d in truth.get("drivers", [])] or _demo_drivers(df)
    stages = truth.get("stages") if isinstance(truth.get("stages"), Mapping) else None
    # the generator's truth is read above; pandas deep-copies attrs on every derived frame,
    # which is ~10 % of the demo's time, so the frame handed on carries none
    df.attrs = {}
    opts: dict[str, Any] = {}
    if "revenue" in df.columns:
        opts["revenue"] = "revenue"
    if "weight" in df.columns:
        opts["weights"] = "weight"
    out = run_analysis(df, "repurchase", drivers, kind="logit", budget=budget,
                       customers=DEMO_CUSTOMERS, margin=DEMO_MARGIN,
                       importance_outcome="satisfaction" if "satisfaction" in df else None,
                       scales=dict.fromkeys(drivers, (1, 10)), bootstrap=bootstrap,
                       draws=draws, seed=seed, out_dir=out_dir, progress=show,
                       title="driverkit demo: what drives satisfaction and repurchase?",
                       stages=stages, formats=("html", "xlsx", "pptx"), **opts)
    _report_warnings(out.warnings)
    _print_table(out, out.files, time.perf_counter() - start)


def _demo_drivers(df: Any) -> list[str]:
    skip = {"repurchase", "satisfaction", "overall_satisfaction", "recommend", "revenue",
            "weight", "segment", "wave", "respondent_id", "id"}
    return [str(c) for c in df.columns if str(c) not in skip
            and str(df[c].dtype).startswith(("int", "float"))
            and df[c].min() >= 1 and df[c].max() <= 10]


@cli.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--outcome", "-y", help="Outcome column (e.g. repurchase).")
@click.option("--drivers", "-d", multiple=True,
              help="Driver columns, comma-separated (the flag may also be repeated).")
@click.option("--weights", "-w", help="Survey-weight column.")
@click.option("--revenue", help="Column of revenue per respondent (money columns).")
@click.option("--revenue-per-customer", type=float, help="One revenue figure per customer.")
@click.option("--customers", type=float, help="Customer base (default: weighted respondents).")
@click.option("--margin", type=float, help="Profit margin on revenue (default 1).")
@click.option("--budget", type=float, help="Optimise a plan for this budget.")
@click.option("--kind", type=click.Choice(["linear", "logit", "probit", "ordinal"]),
              help="Model kind (default: inferred from the outcome).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="YAML file with any of these options plus scales, groups, stages, cost_curves.")
@click.option("--importance-outcome",
              help="Decompose this outcome's fit instead (e.g. satisfaction), while the "
                   "simulation and budget use --outcome.")
@click.option("--bootstrap", type=click.IntRange(0),
              help="Bootstrap replicates of the importance (default 200 for a numeric "
                   "outcome, 0 for yes/no and ordinal ones, which refit 2^p models each).")
@click.option("--draws", type=click.IntRange(0), help="Draws per scenario (default 500).")
@click.option("--seed", type=int, help="Random seed (default 0).")
@click.option("--sheet", help="Excel sheet to read (default: the first).")
@click.option("--positive", help="The event value of a yes/no outcome given as text "
                                 "(e.g. --positive Yes).")
@click.option("--better", type=click.Choice(["higher", "lower"]),
              help="Which direction of the outcome is good (lower for churn or complaints: "
                   "fewer events count as a gain).")
@click.option("--title", help="Report title.")
@click.option("--sep", help="Column separator of a text file (default: detected; e.g. ';').")
@click.option("--decimal", help="Decimal mark of a text file (default: detected; ',' or '.').")
@click.option("--encoding", help="Text encoding (default: detected UTF-8 / Windows-1252).")
@click.option("--na-values", "na_values",
              help="Codes meaning 'no answer', comma-separated (e.g. --na-values '99,Vet ej').")
@click.option("--missing", type=click.Choice(["listwise", "pairwise", "mean", "dummy",
                                              "impute", "raise"]),
              help="Skipped answers: listwise (default), impute (multiple imputation), ...")
@click.option("--imputations", type=click.IntRange(1),
              help="Imputed data sets for --missing impute (default 20).")
@click.option("--pptx", "pptx", is_flag=True, default=None,
              help="Also write a PowerPoint deck (report.pptx).")
@click.option("--currency", help="Currency of the money figures (ISO code, e.g. SEK).")
@click.option("--locale", "locale_", help="Number format locale (e.g. sv_SE).")
@click.option("-o", "--output", "out_dir", default="driverkit_output", show_default=True,
              type=click.Path(file_okay=False), help="Directory for report.html/report.xlsx.")
@_progress_option
def analyze(data: str, outcome: str | None, drivers: tuple[str, ...], weights: str | None,
            revenue: str | None, revenue_per_customer: float | None, customers: float | None,
            margin: float | None, budget: float | None, kind: str | None,
            config_path: str | None, importance_outcome: str | None,
            bootstrap: int | None, draws: int | None,
            seed: int | None, sheet: str | None, positive: str | None, better: str | None,
            title: str | None,
            sep: str | None, decimal: str | None, encoding: str | None,
            na_values: str | None, missing: str | None, imputations: int | None,
            pptx: bool | None, currency: str | None, locale_: str | None,
            out_dir: str, progress: bool | None) -> None:
    """Key-driver analysis of DATA (CSV, Excel or Parquet; one row per respondent).

    \b
    Example:
      driverkit analyze survey.csv --outcome repurchase \\
          --drivers staff,price,wait_time --weights w --revenue spend --budget 50000 -o out/
    """
    from ._pipeline import run_analysis

    start = time.perf_counter()
    cfg = _read_config(config_path)
    flags = {"outcome": outcome, "weights": weights, "revenue": revenue,
             "revenue_per_customer": revenue_per_customer, "customers": customers,
             "margin": margin, "budget": budget, "kind": kind, "bootstrap": bootstrap,
             "importance_outcome": importance_outcome,
             "draws": draws, "seed": seed, "sheet": sheet, "positive": positive, "better": better,
             "title": title, "sep": sep, "decimal": decimal, "encoding": encoding,
             "na_values": na_values, "missing": missing, "imputations": imputations,
             "pptx": pptx, "currency": currency, "locale": locale_}
    opts = {**cfg, **{k: v for k, v in flags.items() if v is not None}}
    driver_list = _split_drivers(drivers) or _split_drivers(cfg.get("drivers"))
    if not opts.get("outcome"):
        raise InputError("Missing --outcome (the column to explain, e.g. --outcome repurchase).")
    if not driver_list:
        raise InputError("Missing --drivers (comma-separated columns, e.g. --drivers a,b,c).")
    _check_numbers(opts)
    _check_out_dir(out_dir)
    from ..data._read import read_survey_file

    frame, miss_kw = read_survey_file(data, opts, [opts["outcome"], *driver_list], click.echo)
    show = sys.stderr.isatty() if progress is None else progress
    out = run_analysis(
        frame, str(opts.pop("outcome")), driver_list, kind=opts.get("kind"),
        weights=opts.get("weights"), revenue=opts.get("revenue"),
        revenue_per_customer=opts.get("revenue_per_customer"),
        customers=opts.get("customers"), margin=float(opts.get("margin", 1.0)),
        budget=opts.get("budget"), scales=opts.get("scales"), groups=opts.get("groups"),
        cost_curves=opts.get("cost_curves"), stages=opts.get("stages"),
        bootstrap=opts.get("bootstrap"), importance_outcome=opts.get("importance_outcome"),
        draws=int(opts.get("draws", 500)), seed=int(opts.get("seed", 0)),
        positive=opts.get("positive"), better=opts.get("better"), out_dir=out_dir,
        title=opts.get("title"),
        progress=show, formats=("html", "xlsx", "pptx") if opts.get("pptx") else ("html", "xlsx"),
        labels=opts.get("labels"), currency=opts.get("currency"), locale=opts.get("locale"),
        **miss_kw)
    _report_warnings(out.warnings)
    from ..display._format import format_options, make_format

    with format_options(make_format(opts.get("labels"), opts.get("currency"),
                                    opts.get("locale"), func="analyze")):
        _print_table(out, out.files, time.perf_counter() - start)


# ``driverkit pls``: latent-construct (PLS path) models, in their own module
from ._cli_pls import pls_command  # noqa: E402

cli.add_command(pls_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``driverkit`` console script; returns the exit code."""
    return int(cli.main(args=argv, standalone_mode=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
