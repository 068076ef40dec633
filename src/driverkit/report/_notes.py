"""Short method notes and standard caveats for the client report (plain text, no markup).

The full method notes with formulas live in the documentation (``docs/methods/``); these
are the paragraphs a client report carries next to the numbers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CAUSAL_CAVEAT", "GENERAL_ASSUMPTIONS", "METHOD_NOTES", "method_topics"]

CAUSAL_CAVEAT = (
    "These results come from an observational survey. Importance and simulated effects describe "
    "how outcomes differ between customers who rate a driver differently, holding the other "
    "drivers fixed (ceteris paribus); they are not proof that changing the driver will cause the "
    "change. Validate a planned change with a pilot or an experiment before committing budget."
)

GENERAL_ASSUMPTIONS = [
    "Each respondent is one customer; survey weights (when given) make the sample represent the "
    "customer base.",
    "Ratings are treated as interval scales within their declared bounds; simulated ratings are "
    "clipped to those bounds, so a driver already at the top of its scale cannot improve further.",
    "Simulated effects average respondent-level predictions, never the prediction at the average "
    "respondent.",
    "Money figures scale the simulated change in the outcome by the stated number of customers, "
    "revenue per customer and margin; they inherit every assumption of those business inputs.",
]

METHOD_NOTES: dict[str, tuple[str, str]] = {
    "model": (
        "Driver model",
        "The outcome is regressed on the driver ratings: ordinary least squares for a numeric "
        "outcome, a logit or probit for a yes/no outcome (e.g. repurchase), an ordered logit for "
        "an ordered outcome (e.g. likelihood to recommend). Coefficients are changes on the "
        "model's scale per rating point, with Wald intervals. Variance inflation factors (VIF) "
        "flag drivers that move together; above about 10 individual coefficients are unstable.",
    ),
    "shapley": (
        "Relative importance (Shapley / LMG)",
        "Each driver's importance is its average contribution to the model fit (R², or a "
        "pseudo-R² for yes/no and ordered outcomes) over all orders in which drivers can enter "
        "the model (Lindeman, Merenda & Gold 1980; Grömping 2006). The importances add up to the "
        "fit of the full model, so shares are comparable across drivers even when ratings are "
        "correlated. Bootstrap intervals resample respondents.",
    ),
    "dominance": (
        "Dominance analysis",
        "Conditional dominance compares drivers' average fit increase within models of the same "
        "size; general dominance (the average over sizes) equals the Shapley value; complete "
        "dominance holds when one driver adds more than another in every subset model "
        "(Budescu 1993; Azen & Budescu 2003).",
    ),
    "relative_weights": (
        "Relative weights",
        "Johnson's relative weights (Johnson 2000) project the drivers onto their closest "
        "uncorrelated counterparts and apportion R² through them. They approximate Shapley "
        "values and also sum to R² (Tonidandel & LeBreton 2010 for logistic models).",
    ),
    "importance_other": (
        "Other importance metrics",
        "first = squared correlation with the outcome; last = R² lost when the driver is dropped; "
        "betasq = squared standardised coefficient; pratt = standardised coefficient × "
        "correlation; car = squared correlation-adjusted correlation (Zuber & Strimmer 2011).",
    ),
    "simulation": (
        "What-if simulation",
        "A scenario changes each respondent's rating of the chosen drivers (shift, close part of "
        "the gap to the top of the scale, set a floor, …), clips it to the rating scale and "
        "predicts each respondent again. The effect is the weighted average change of the "
        "respondent predictions; customers, revenue and profit scale that change by the customer "
        "base and the money inputs. Intervals come from draws of the model coefficients "
        "(Krinsky & Robb 1986; King, Tomz & Wittenberg 2000).",
    ),
    "priority": (
        "Priority matrix",
        "Current performance (mean rating) against the simulated impact of a one-step "
        "improvement of each driver. Drivers with high impact and low performance are the first "
        "to fix; high performance with low impact may be over-served.",
    ),
    "optimisation": (
        "Budget optimisation",
        "Cost curves translate spend into achievable rating lift per driver. The plan maximises "
        "the simulated objective of the joint scenario under the budget (SLSQP for continuous "
        "spend, mixed-integer programming for discrete initiatives). Its value is re-scored by the "
        "same simulator, so the report's numbers agree with a direct simulation of the plan. At "
        "an interior optimum each funded driver earns the same marginal return.",
    ),
    "penalty_reward": (
        "Penalty and reward (Kano classes)",
        "Low and high rating bands enter the model as separate indicators: the penalty is the "
        "effect of a low rating against the middle band, the reward that of a high rating "
        "(Brandt 1987; Mittal, Ross & Baldasare 1998). Basic factors hurt more when poor than they "
        "help when excellent; excitement factors the reverse; performance factors are symmetric.",
    ),
    "nps": (
        "Net Promoter Score",
        "NPS = share of promoters (9–10) minus share of detractors (0–6) on the 0–10 "
        "likelihood-to-recommend question, in points from −100 to 100; with weights, the "
        "interval uses Kish's effective sample size.",
    ),
    "segments": (
        "Segment and wave comparisons",
        "Importance is computed per segment (or survey wave); differences come with bootstrap "
        "intervals and p-values adjusted for multiple comparisons (Benjamini–Hochberg q-values).",
    ),
    "stages": (
        "Journey stages",
        "Each journey stage is one player: its importance is the Shapley value of the group of "
        "its attributes (Grömping 2006). Within a stage, attributes share the stage's value by "
        "Owen values (Owen 1977), so attributes add up to their stage and stages to the model "
        "fit.",
    ),
    "stated": (
        "Stated versus derived importance",
        "Stated importance is what customers say matters (the mean, or top-box share, of an "
        "importance question); derived importance is the Shapley share from the driver model. "
        "A positive gap (stated rank minus derived rank) marks a driver that matters more than "
        "customers say.",
    ),
    "chain": (
        "Satisfaction–loyalty chain",
        "Attributes affect loyalty directly and through overall satisfaction; the indirect effect "
        "is the product of the two paths and the total effect their sum.",
    ),
}

_CLASS_TOPICS = {
    "DriverModel": ["model"],
    "SimulationResult": ["simulation"],
    "SensitivityResult": ["simulation"],
    "PriorityResult": ["priority", "simulation"],
    "Allocation": ["optimisation"],
    "Portfolio": ["optimisation"],
    "Frontier": ["optimisation"],
    "PenaltyRewardResult": ["penalty_reward"],
    "NPSResult": ["nps"],
    "SegmentComparison": ["segments"],
    "WaveComparison": ["segments"],
    "ChainResult": ["chain"],
    "StageImportanceResult": ["shapley", "stages"],
    "StatedDerivedResult": ["stated", "shapley"],
}


def method_topics(obj: Any) -> list[str]:
    """The method-note topics that explain ``obj`` (by class name and, for importance, method)."""
    name = type(obj).__name__
    if name == "ImportanceResult":
        method = str(getattr(obj, "method", "shapley"))
        if method == "dominance":
            return ["shapley", "dominance"]
        if method == "relative_weights":
            return ["relative_weights"]
        if method == "all":
            return ["shapley", "relative_weights", "importance_other"]
        if method in ("shapley", "lmg"):
            return ["shapley"]
        return ["importance_other"]
    if "Segment" in name or "Wave" in name:
        return ["segments"]
    return list(_CLASS_TOPICS.get(name, []))
