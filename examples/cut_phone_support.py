"""Should we cut phone support? A what-if analysis on the demo survey.

Finance proposes shorter phone-support hours, saving 400,000 a year. Customer service
expects the phone-support rating to drop by 1 to 2 points. What happens to repurchase and
revenue — overall and among Business customers, who use the phone most — and does the
saving cover the margin at risk? Is phone support a "basic" attribute whose failures hurt
more than its excellence helps?

Run::

    python examples/cut_phone_support.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import driverkit as dk
from driverkit.report import ReportFiles

SAVING = 400_000.0        # yearly saving of the cut
CUSTOMERS = 180_000       # customers the survey represents
MARGIN = 0.35             # contribution margin on revenue


def main(out_dir: str | Path | None = None) -> ReportFiles:
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="driverkit-example-"))
    df = dk.load_demo()
    drivers = df.attrs["truth"]["drivers"]
    scales = dict.fromkeys(drivers, (1, 10))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        model = dk.fit(df, "repurchase", drivers, kind="logit", weights="weight",
                       scales=scales)
        sim = dk.Simulator(model, df, revenue="revenue", weights="weight", margin=MARGIN,
                           customers=CUSTOMERS, missing="drop")
        cuts = [dk.Scenario(f"phone support {d:+g}", {"phone_support": dk.shift(d)},
                            cost=-SAVING) for d in (-1.0, -1.5, -2.0)]
        business = dk.Scenario("Business customers −2", {"phone_support": dk.shift(-2.0)},
                               cost=-SAVING, segment={"segment": "Business"})
        result = sim.run([*cuts, business], draws=1000, seed=7)
        curve = sim.sensitivity(["phone_support"], steps=np.linspace(-2, 0, 9), draws=300,
                                seed=7)
        kano = dk.penalty_reward(df, "repurchase", drivers, kind="logit", weights="weight")

    cols = ["delta_rate", "delta_revenue", "revenue_at_risk", "saving", "delta_profit",
            "delta_profit_low", "delta_profit_high", "prob_profit_positive"]
    print(result.table[cols].round(3).to_string())

    # Break-even: the rating drop at which the margin lost equals the saving.
    t = curve.table.sort_values("step", ascending=False)  # 0, -0.25, ..., -2
    drop = -t["step"].to_numpy()
    lost = -MARGIN * t["delta_revenue"].to_numpy()
    if lost.max() > SAVING:
        breakeven = float(np.interp(SAVING, lost, drop))
        print(f"\nThe cut pays only if the rating falls by less than about {breakeven:.2f} "
              "points (beyond that the margin lost exceeds the saving).")
    else:
        print("\nEven a 2-point drop costs less margin than the cut saves.")
    pr = kano.table.loc["phone_support"]
    print(f"Phone support: penalty {pr['penalty']:+.3f}, reward {pr['reward']:+.3f} "
          f"(log-odds vs the middle band), Kano class '{pr['kano_class']}', "
          f"asymmetry p = {pr['p_value']:.3f}.")

    files = dk.report(("Cutting phone support", result),
                      ("Revenue at risk by size of the rating drop", curve),
                      ("Penalty and reward of each attribute", kano), model,
                      path=out / "cut_phone_support.html",
                      title="Should we cut phone support?",
                      subtitle=f"{CUSTOMERS:,} customers, margin {MARGIN:.0%}, saving "
                               f"{SAVING:,.0f} a year",
                      assumptions=[f"The cut saves {SAVING:,.0f} a year and lowers the phone "
                                   "support rating of every customer by the stated points."])
    print(f"\nReport: {files.html}\nWorkbook: {files.excel}")
    return files


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
