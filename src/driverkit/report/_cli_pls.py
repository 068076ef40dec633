"""``driverkit pls DATA --model model.yaml``: a PLS path model from the command line.

The model file (YAML or JSON) holds ``constructs`` and ``paths`` and optionally ``modes``,
``scheme``, ``scales``, ``weights``, ``target``, ``bootstrap``, ``seed``, ``missing`` and
``na_values``. The command prints paths, R², reliability, indices and the impacts on the
target, and writes them as CSV files (plus the path diagram and IPMA chart as PNG when
matplotlib is installed) to the output directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from .._validation import suggest
from ..exceptions import DriverkitError

__all__ = ["pls_command"]

MODEL_KEYS = ("constructs", "paths", "modes", "scheme", "scales", "weights", "target",
              "bootstrap", "seed", "missing", "na_values", "ci_method")


def read_model(path: str) -> dict[str, Any]:
    """Read and check a PLS model file (YAML or JSON)."""
    p = Path(path)
    if not p.exists():
        raise DriverkitError(f"The model file '{p}' does not exist.")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DriverkitError(f"The model file '{p}' is not valid JSON: {exc}") from None
    else:
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise DriverkitError("A YAML model file needs PyYAML: pip install "
                                 "'driverkit[report]' (or give a .json file).") from exc
        try:
            cfg = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DriverkitError(f"The model file '{p}' is not valid YAML: "
                                 f"{str(exc).splitlines()[0]}") from None
    if not isinstance(cfg, Mapping):
        raise DriverkitError(f"The model file '{p}' must hold a mapping with 'constructs' and "
                             "'paths'.")
    for key in cfg:
        if key not in MODEL_KEYS:
            raise DriverkitError(f"Unknown key '{key}' in {p.name}.{suggest(str(key), MODEL_KEYS)}"
                                 f" Known keys: {', '.join(MODEL_KEYS)}.")
    for key in ("constructs", "paths"):
        if key not in cfg:
            raise DriverkitError(f"The model file '{p}' has no '{key}'.")
    out = dict(cfg)
    if isinstance(out.get("scales"), list):
        out["scales"] = tuple(out["scales"])
    if isinstance(out.get("scales"), Mapping):
        out["scales"] = {k: tuple(v) for k, v in out["scales"].items()}
    return out


@click.command("pls")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="YAML/JSON file with constructs, paths (and modes, scales, target, ...).")
@click.option("--target", help="Construct for impacts and IPMA (default: the final construct).")
@click.option("--bootstrap", type=click.IntRange(0), help="Bootstrap resamples (default 0).")
@click.option("--seed", type=int, help="Random seed (default 0).")
@click.option("--weights", "-w", help="Survey-weight column.")
@click.option("-o", "--output", "out_dir", default="driverkit_pls", show_default=True,
              type=click.Path(file_okay=False), help="Directory for the CSV files and charts.")
def pls_command(data: str, model_path: str, target: str | None, bootstrap: int | None,
                seed: int | None, weights: str | None, out_dir: str) -> None:
    """PLS path model of DATA (CSV, Excel or Parquet) as declared in a model file.

    \b
    Example model.yaml:
      constructs: {Quality: [q1, q2, q3], Satisfaction: [s1, s2], Loyalty: [l1, l2]}
      paths: {Satisfaction: [Quality], Loyalty: [Quality, Satisfaction]}
      scales: [1, 10]
    Then: driverkit pls survey.csv --model model.yaml --bootstrap 5000 -o out/
    """
    import warnings

    from ..data._read import read_survey_file
    from ..display._render import render_text
    from ..models import pls

    start = time.perf_counter()
    cfg = read_model(model_path)
    items = [it for v in dict(cfg["constructs"]).values()
             for it in ([v] if isinstance(v, str) else list(v))]
    opts: dict[str, Any] = {"missing": cfg.get("missing"), "na_values": cfg.get("na_values")}
    frame, miss = read_survey_file(data, opts, items, click.echo)
    if isinstance(cfg.get("na_values"), list | dict):
        miss["na_values"] = cfg["na_values"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = pls(frame, cfg["constructs"], cfg["paths"], modes=cfg.get("modes"),
                scheme=cfg.get("scheme", "path"), scales=cfg.get("scales"),
                weights=weights or cfg.get("weights"),
                bootstrap=int(bootstrap if bootstrap is not None else cfg.get("bootstrap", 0)),
                seed=int(seed if seed is not None else cfg.get("seed", 0)),
                ci_method=cfg.get("ci_method", "percentile"), **miss)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    tgt = target or cfg.get("target")
    if tgt is None:
        sinks = [n for j, n in enumerate(m.spec.constructs)
                 if m.spec.adjacency[:, j].any() and not m.spec.adjacency[j].any()]
        tgt = sinks[-1]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    impact = m.impact(tgt)
    ipma = m.ipma(tgt)
    tables = {"paths": m.paths, "total_effects": m.total_effects, "outer": m.outer,
              "reliability": m.reliability, "htmt": m.htmt, "indices": m.index_table,
              "impact": impact.table, "ipma": ipma.table,
              "ipma_items": m.ipma(tgt, level="item").table}
    for name, t in tables.items():
        t.to_csv(out / f"{name}.csv")
    try:
        import matplotlib

        matplotlib.use("Agg")
        ax = m.plot()
        ax.figure.savefig(out / "path_diagram.png", dpi=150, bbox_inches="tight")
        ax = ipma.plot()
        ax.figure.savefig(out / "ipma.png", dpi=150, bbox_inches="tight")
    except ImportError:  # pragma: no cover - charts are optional
        pass
    click.echo(m.summary())
    click.echo("")
    click.echo(render_text(impact))
    click.echo(f"\nWrote {len(tables)} CSV files and charts to {out}/ in "
               f"{time.perf_counter() - start:.1f} s.")
