"""
The models reproduce the published results of the papers that introduced them.

Every expected number below is copied from the cited source, at its published precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlifecycle.datasets import (
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
    load_retention_cohorts,
)
from crmlifecycle.metrics.clv import (
    BGBBModel,
    BGNBDModel,
    GammaGammaModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
    calibration_holdout,
    evaluate_holdout,
    rfm_summary,
)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> BGNBDModel:
    return BGNBDModel().fit(cdnow)


@pytest.fixture(scope="module")
def pareto(cdnow: pd.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel().fit(cdnow)


@pytest.fixture(scope="module")
def gamma_gamma(cdnow: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def bgbb() -> BGBBModel:
    return BGBBModel().fit(load_donations(), weighted=True)


def test_rfm_summary_of_cdnow_log_matches_the_published_summary(cdnow: pd.DataFrame) -> None:
    # The CDNOW summary (2 decimals, weeks) is the daily-occasion summary of the
    # transaction log at 1997-09-30 (Fader, Hardie & Lee 2005, Marketing Science, Sec. 7).
    ours = rfm_summary(
        load_cdnow_transactions(),
        monetary_value=True,
        as_of="1997-09-30",
        time_unit="W",
    ).reindex(cdnow.index)
    assert (ours["frequency"] == cdnow["frequency"]).all()
    np.testing.assert_allclose(ours["recency"], cdnow["recency"], atol=0.005)
    np.testing.assert_allclose(ours["T"], cdnow["T"], atol=0.005)
    np.testing.assert_allclose(ours["monetary_value"], cdnow["monetary_value"], atol=0.005)


def test_bgnbd_parameters_and_log_likelihood(bgnbd: BGNBDModel) -> None:
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), Sec. 7:
    # r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    assert bgnbd.params_ is not None
    np.testing.assert_allclose(bgnbd.params_.to_numpy(), [0.243, 4.414, 0.793, 2.426], atol=0.0005)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_predictions_match_hardies_spreadsheet(bgnbd: BGNBDModel) -> None:
    # Fader & Hardie, "Implementing the BG/NBD Model for Customer Base Analysis in Excel"
    # (brucehardie.com, note 004): E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 and
    # E[X(t)] for t = 1/7, 1, 3, 31.8571, 32, 78 weeks.
    assert float(bgnbd.conditional_expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(
        1.226, abs=0.0005
    )
    times = [0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(bgnbd.expected_purchases(times), expected, atol=0.0005)


def test_pareto_nbd_parameters_and_log_likelihood(pareto: ParetoNBDModel) -> None:
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), Sec. 7:
    # r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
    # beta is weakly identified (its standard error is ~6): our optimum is 11.6679.
    assert pareto.params_ is not None
    np.testing.assert_allclose(pareto.params_.to_numpy()[:3], [0.553, 10.578, 0.606], atol=0.0005)
    assert float(pareto.params_["beta"]) == pytest.approx(11.669, abs=0.002)
    assert pareto.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_pareto_nbd_conditional_expectation_matches_btyd_walkthrough(
    pareto: ParetoNBDModel,
) -> None:
    # Dziurzynski, Wadsworth & McCarthy, BTYD (R package) walkthrough vignette:
    # (R package vignette): the CDNOW customer with 26 repeat purchases, the last at
    # week 30.86 of 31, is expected to buy 25.46 times in the next 52 weeks.
    value = float(pareto.conditional_expected_purchases(52, 26, 30.86, 31))
    assert value == pytest.approx(25.46, abs=0.005)


def test_gamma_gamma_parameters(gamma_gamma: GammaGammaModel) -> None:
    # Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note 025):
    # p = 6.25, q = 3.74, gamma = 15.44 on the 946 CDNOW repeat buyers. Our optimum has
    # gamma = 15.448 (standard error 4.2, a flat direction) and the population mean
    # p * gamma / (q - 1) = 35.17 that the note's spreadsheet shows for x = 0 customers.
    assert gamma_gamma.params_ is not None
    np.testing.assert_allclose(gamma_gamma.params_.to_numpy()[:2], [6.25, 3.74], atol=0.005)
    assert float(gamma_gamma.params_["gamma"]) == pytest.approx(15.44, abs=0.01)
    assert gamma_gamma.expected_spend() == pytest.approx(35.17, abs=0.005)
    assert gamma_gamma.n_customers_ == 946


def test_gamma_gamma_log_likelihood_conventions(gamma_gamma: GammaGammaModel) -> None:
    # Fader, Hardie & Lee (2005), JMR 42(4), Sec. 4: the 39-week optimum is LL = -4659,
    # which is the density of *total* spend; the note-025 spreadsheet uses average spend,
    # which differs by sum(log x) over the repeat buyers.
    assert round(gamma_gamma.log_likelihood_total_) == -4659
    cdnow = load_cdnow_summary()
    log_x = np.log(cdnow.loc[cdnow["frequency"] > 0, "frequency"]).sum()
    assert gamma_gamma.log_likelihood_ == pytest.approx(gamma_gamma.log_likelihood_total_ + log_x)


def test_gamma_gamma_expected_spend_matches_hardies_spreadsheet(
    gamma_gamma: GammaGammaModel, cdnow: pd.DataFrame
) -> None:
    # Note 025's spreadsheet: E(M | m_x, x) of the first ten CDNOW customers.
    head = cdnow.head(10)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    values = gamma_gamma.conditional_expected_spend(head["frequency"], head["monetary_value"])
    np.testing.assert_allclose(values, expected, atol=0.011)


def test_bgbb_parameters_and_published_predictions(bgbb: BGBBModel) -> None:
    # Fader, Hardie & Shang (2010), Marketing Science 29(6): alpha = 1.204, beta = 0.750,
    # gamma = 0.657, delta = 2.783, LL = -33,225.6; Table 6, P(alive in 2002): 0.11 for
    # (x=0, t_x=0), 0.59 for (x=2, t_x=4) and 0.93 for (x=6, t_x=6), n = 6.
    assert bgbb.params_ is not None
    np.testing.assert_allclose(bgbb.params_.to_numpy(), [1.204, 0.750, 0.657, 2.783], atol=0.0005)
    assert bgbb.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    alive = bgbb.probability_alive([0, 2, 6], [0, 4, 6], 6)
    np.testing.assert_allclose(alive, [0.11, 0.59, 0.93], atol=0.005)


def test_bgbb_matches_hardies_spreadsheet(bgbb: BGBBModel) -> None:
    # Fader & Hardie's BG/BB spreadsheet (brucehardie.com, note 010): expected number of
    # donors with 0 and with 6 donations in 1996-2001 (3454.9, 1253.1), and the expected
    # number of donations in 2002-2006 summed over all 11,104 donors (12884.2).
    donations = load_donations()
    counts = 11104 * bgbb.purchase_probability([0, 6], 6)
    np.testing.assert_allclose(counts, [3454.9, 1253.1], atol=0.05)
    expected = bgbb.conditional_expected_purchases(
        5, donations["frequency"], donations["recency"], donations["T"]
    )
    assert float(expected @ donations["weight"]) == pytest.approx(12884.2, abs=0.05)


@pytest.mark.parametrize(
    ("cohort", "alpha", "beta", "year12_error"),
    [("regular", 0.704, 1.182, 0.02), ("high_end", 0.668, 3.806, 0.04)],
)
def test_sbg_reproduces_how_to_project_customer_retention(
    cohort: str, alpha: float, beta: float, year12_error: float
) -> None:
    # Fader & Hardie (2007), J. Interactive Marketing 21(1): fitted on years 0-7, the sBG
    # gives alpha/beta as above and misses year-12 survival by only about 2% (regular)
    # and 4% (high end).
    survivors = load_retention_cohorts().loc[cohort]
    model = ShiftedBetaGeometricModel().fit(survivors.loc[0:7])
    assert model.params_ is not None
    np.testing.assert_allclose(model.params_.to_numpy(), [alpha, beta], atol=0.0005)
    actual = survivors.loc[12] / 1000
    error = abs(float(model.survival(12)[()]) - actual) / actual
    assert error == pytest.approx(year12_error, abs=0.005)


def test_sbg_high_end_log_likelihood_per_customer() -> None:
    # Fader & Hardie (2007), Appendix B: the maximised LL of the high-end spreadsheet,
    # which works with proportions of the cohort, is -1.611.
    model = ShiftedBetaGeometricModel().fit(load_retention_cohorts().loc["high_end", 0:7])
    assert model.log_likelihood_ / 1000 == pytest.approx(-1.611, abs=0.0005)


def test_cdnow_holdout_zero_class(bgnbd: BGNBDModel) -> None:
    # Fader, Hardie & Lee (2005), Marketing Science, Sec. 7: the 1,411 customers without a
    # repeat purchase in weeks 1-39 made 334 purchases in weeks 40-78 (0.24 each); the
    # BG/NBD predicts 0.23.
    frame = calibration_holdout(
        load_cdnow_transactions(),
        as_of="1997-09-30",
        end="1998-06-30",
        time_unit="W",
    )
    zero = frame[frame["frequency"] == 0]
    assert len(zero) == 1411
    assert int(zero["frequency_holdout"].sum()) == 334
    evaluation = evaluate_holdout(bgnbd, frame)
    assert evaluation.by_frequency.loc[0, "predicted"] == pytest.approx(0.23, abs=0.005)
