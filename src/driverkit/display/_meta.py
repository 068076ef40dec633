"""Display labels of ``.meta`` keys: results store snake_case data, renderers show labels.

A result's ``.meta`` is data (``{"n": 500, "r2": 0.41, "condition_number": 7.2}``) that code
can read by stable names; the text, HTML, LaTeX and report renderers show each key through
:func:`meta_label` ("R²", "condition number"). Keys without an entry here are shown with
underscores as spaces.

Examples
--------
>>> from driverkit.display._meta import meta_label
>>> meta_label("r2"), meta_label("condition_number"), meta_label("respondents")
('R²', 'condition number', 'respondents')
"""

from __future__ import annotations

__all__ = ["META_LABELS", "meta_label"]

#: Labels that are not just the key with spaces.
META_LABELS = {
    "r2": "R²",
    "r2_always": "R² of always-in covariates",
    "pseudo_r2": "pseudo-R²",
    "pseudo_r2_always": "pseudo-R² of always-in covariates",
    "mcfadden_r2": "McFadden R²",
    "mcfadden_r2_always": "McFadden R² of always-in covariates",
    "r2_mediator": "R² of the mediator",
    "r2_outcome": "R² of the outcome",
    "mcfadden_r2_outcome": "McFadden R² of the outcome",
    "path_b": "path b (mediator → outcome)",
    "loglike": "log-likelihood",
    "max_vif": "max VIF",
    "ci": "CI level",
    "ci_method": "CI method",
    "fit_index": "fit index",
    "smallest_pairwise_n": "smallest pairwise n",
}


def meta_label(key: object) -> str:
    """The label shown for a ``.meta`` key."""
    k = str(key)
    return META_LABELS.get(k, k.replace("_", " "))
