"""Driver analysis of the demo survey: what drives overall satisfaction?

Fits the driver model, computes Shapley importance with bootstrap intervals, checks whether
the top driver is really ahead of the runner-up, rolls the drivers up into journey stages
and writes a client report (HTML + Excel).

Run::

    python examples/driver_analysis.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import driverkit as dk
from driverkit.report import ReportFiles, stage_map


def main(out_dir: str | Path | None = None) -> ReportFiles:
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="driverkit-example-"))
    df = dk.load_demo()
    truth = df.attrs["truth"]
    drivers = truth["drivers"]
    scales = dict.fromkeys(drivers, (1, 10))

    with warnings.catch_warnings():
        # About 9% of respondents skipped an item (phone support, returns, app, packaging);
        # the results say how many rows listwise deletion dropped.
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        model = dk.fit(df, "satisfaction", drivers, weights="weight", scales=scales)
        imp = dk.importance(df, "satisfaction", drivers, weights="weight", bootstrap=300,
                            seed=1)
        stages = dk.importance(df, "satisfaction", drivers, weights="weight",
                               groups=truth["stages"])
        top6 = list(imp.table.sort_values("rank").index[:6])
        dom = dk.importance(df, "satisfaction", top6, weights="weight", method="dominance")

    print(imp.summary())
    ranked = imp.table.sort_values("rank")
    first, second = ranked.index[:2]
    pair = imp.pairwise
    row = pair[((pair["driver"] == first) & (pair["other"] == second))
               | ((pair["driver"] == second) & (pair["other"] == first))].iloc[0]
    print(f"\nIs {first} really ahead of {second}? Difference {row['difference']:+.4f} R², "
          f"95% CI [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]: "
          + ("yes." if row["ci_low"] > 0 or row["ci_high"] < 0 else
             "not clearly — treat them as joint leaders."))
    print("\nImportance by journey stage (each stage as one player):")
    print(stages.table[["importance", "share"]].round(3).to_string())

    files = dk.report(("What drives satisfaction", imp), ("Journey stages", stages),
                      ("Dominance among the top six", dom), model,
                      path=out / "driver_analysis.html",
                      title="Key drivers of customer satisfaction",
                      subtitle=f"Demo survey: {len(df):,} customers, {len(drivers)} attributes",
                      stages=stage_map(truth["stages"]))
    print(f"\nReport: {files.html}\nWorkbook: {files.excel}")
    return files


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
