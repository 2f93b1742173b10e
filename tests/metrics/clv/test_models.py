from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special

from crmlifecycle.errors import DataError, FitError, ValidationError
from crmlifecycle.metrics.clv import (
    BGBBModel,
    BGNBDModel,
    GammaGammaModel,
    HoldoutColumns,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
    SummaryColumns,
    customer_lifetime_value,
    evaluate_holdout,
    simulate_bgbb,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_sbg,
)
from crmlifecycle.metrics.clv._bgbb import _log_likelihood as bgbb_log_likelihood
from crmlifecycle.metrics.clv._pareto import pareto_log_terms
from crmlifecycle.metrics.clv._transaction import RFMData

BGNBD = BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
PARETO = ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
BGBB = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


def summary(x: list[float], t_x: list[float], big_t: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t})


# -- hand-computed values ---------------------------------------------------------------


def test_bgnbd_likelihood_by_hand() -> None:
    # r = alpha = a = b = 1. x = 0, T = 2: L = (alpha / (alpha + T))^r = 1/3.
    # x = 1, t_x = 1, T = 2: L = B(1,2)/B(1,1) * 1/3^2 + B(2,1)/B(1,1) * 1/2^2
    #                          = 0.5/9 + 0.5/4 = 0.180556
    data = RFMData(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([2.0, 2.0]), np.ones(2))
    value, _ = BGNBDModel()._objective(data)(np.zeros(4))
    assert -2 * value == pytest.approx(math.log(1 / 3) + math.log(0.5 / 9 + 0.5 / 4))


def test_bgnbd_probability_alive_by_hand() -> None:
    model = BGNBDModel.from_params(r=1, alpha=1, a=1, b=1)
    # odds of having dropped out = a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) = 1 * (3/2)^2 = 2.25
    assert float(model.probability_alive(1, 1, 2)) == pytest.approx(1 / 3.25)
    assert float(model.probability_alive(0, 0, 5)) == 1.0


def test_pareto_likelihood_against_the_plain_formula() -> None:
    # Fader & Hardie's eq. 18-20 evaluated directly with scipy's hyp2f1, for both branches.
    x = np.array([0.0, 1.0, 4.0])
    t_x = np.array([0.0, 3.0, 9.0])
    big_t = np.array([10.0, 10.0, 12.0])
    for r, alpha, s, beta in [(0.5, 8.0, 0.7, 3.0), (0.5, 3.0, 0.7, 8.0)]:
        alive, dead = pareto_log_terms(r, alpha, s, beta, x, t_x, big_t)
        big, small = max(alpha, beta), min(alpha, beta)
        second = np.full(3, s + 1) if alpha >= beta else r + x
        order = r + s + x

        def f(u: np.ndarray) -> np.ndarray:
            z = (big - small) / (big + u)  # noqa: B023 - used inside the loop iteration
            return np.asarray(special.hyp2f1(order, second, order + 1, z) / (big + u) ** order)  # noqa: B023

        a0 = f(t_x) - f(big_t)
        expected = np.log(
            1 / ((alpha + big_t) ** (r + x) * (beta + big_t) ** s) + s / (r + s + x) * a0
        )
        np.testing.assert_allclose(np.logaddexp(alive, dead), expected, rtol=1e-10)


def test_pareto_is_stable_for_heavy_buyers() -> None:
    # Large x overflows the textbook form; ours stays finite and in [0, 1].
    alive = PARETO.probability_alive([400, 500, 500], [5, 1, 36], [6, 37, 37])
    assert np.all(np.isfinite(alive))
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[2] > alive[1]  # a recent purchase means more likely alive


def test_pareto_dert_against_numerical_integration() -> None:
    # DERT = P(alive) * E[lambda | alive] * integral_0^inf e^(-delta t) ((beta+T)/(beta+T+t))^s dt
    r, alpha, s, beta = 0.553, 10.578, 0.606, 11.669
    delta = math.log(1.0025)
    life = integrate.quad(
        lambda t: math.exp(-delta * t) * ((beta + 38.86) / (beta + 38.86 + t)) ** s, 0, math.inf
    )[0]
    expected = float(PARETO.probability_alive(2, 30.43, 38.86)) * (r + 2) / (alpha + 38.86) * life
    dert = PARETO.discounted_expected_transactions(2, 30.43, 38.86, discount_rate=0.0025)
    assert float(dert) == pytest.approx(expected, rel=1e-8)


def test_gamma_gamma_likelihood_by_hand() -> None:
    # p = 1, q = 2, gamma = 1, x = 1, m = 1:
    # f = Gamma(3)/(Gamma(1) Gamma(2)) * 1^2 * 1^0 * 1^1 / (1 + 1)^3 = 2/8
    objective = GammaGammaModel._objective(np.array([1.0]), np.array([1.0]), np.ones(1), 1.0)
    value, _ = objective(np.log([1.0, 2.0, 1.0]))
    assert -value == pytest.approx(math.log(0.25))


def test_gamma_gamma_conditional_spend_by_hand() -> None:
    model = GammaGammaModel.from_params(p=2.0, q=3.0, gamma=10.0)
    # p (gamma + x m) / (p x + q - 1) = 2 (10 + 3*20) / (6 + 2) = 17.5; population mean 2*10/2 = 10
    assert float(model.conditional_expected_spend(3, 20.0)) == pytest.approx(17.5)
    assert model.expected_spend() == pytest.approx(10.0)


def test_bgbb_likelihood_by_hand() -> None:
    # alpha = beta = gamma = delta = 1, no transaction in one opportunity:
    # dead before it (E[theta] = 1/2) or alive and no purchase (1/2 * 1/2) -> 0.75
    value = bgbb_log_likelihood(1, 1, 1, 1, np.array([0.0]), np.array([0.0]), np.array([1.0]))
    assert float(np.exp(value[0])) == pytest.approx(0.75)


def test_bgbb_dert_is_the_discounted_sum_of_increments() -> None:
    k = np.arange(1, 400)
    cumulative = BGBB.conditional_expected_purchases(k, 6, 6, 6)
    expected = float(np.diff(np.r_[0, cumulative]) @ 1.1**-k)
    dert = BGBB.discounted_expected_transactions(6, 6, 6, discount_rate=0.1)
    assert float(dert) == pytest.approx(expected, rel=1e-9)


def test_sbg_likelihood_and_derl_by_hand() -> None:
    # alpha = beta = 1: P(T=1) = 1/2, P(T=2) = 1/6, S(2) = 1/3.
    # cohort 10 -> 5 -> 3: LL = 5 ln(1/2) + 2 ln(1/6) + 3 ln(1/3)
    objective = ShiftedBetaGeometricModel._objective(
        np.array([5.0, 2.0]), np.array([0, 0, 3.0]), 10
    )
    value, _ = objective(np.zeros(2))
    assert -10 * value == pytest.approx(
        5 * math.log(0.5) + 2 * math.log(1 / 6) + 3 * math.log(1 / 3)
    )
    model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
    # DERL after 2 renewals: sum_k S(2+k)/S(2) / 1.1^(k-1), S(t) = 1/(t+1)
    k = np.arange(1, 3000)
    expected = float(np.sum(3 / (3 + k) / 1.1 ** (k - 1)))
    derl = model.discounted_expected_residual_lifetime(2, discount_rate=0.1)
    assert float(derl) == pytest.approx(expected, rel=1e-9)
    assert model.discounted_expected_lifetime(discount_rate=0.1) == pytest.approx(
        float(np.sum(1 / (np.arange(3000) + 1) / 1.1 ** np.arange(3000))), rel=1e-9
    )


def test_analytic_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(3)
    data = RFMData(
        rng.integers(0, 5, 50).astype(float), np.zeros(50), np.full(50, 30.0), np.ones(50)
    )
    data.t_x = np.where(data.x > 0, rng.uniform(1, 30, data.x.size), 0.0)
    objectives = [
        (BGNBDModel()._objective(data), np.log([0.4, 5.0, 0.8, 2.0])),
        (
            GammaGammaModel._objective(
                np.array([1.0, 2.0, 5.0]), np.array([10.0, 30.0, 20.0]), np.ones(3), 3.0
            ),
            np.log([3.0, 4.0, 12.0]),
        ),
        (
            ShiftedBetaGeometricModel._objective(
                np.array([30.0, 20, 10]), np.array([0, 0, 0, 40.0]), 100
            ),
            np.log([0.7, 1.5]),
        ),
    ]
    for objective, x0 in objectives:
        _, grad = objective(x0)
        numeric = [
            (objective(x0 + h)[0] - objective(x0 - h)[0]) / 2e-6 for h in np.eye(x0.size) * 1e-6
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


# -- properties ---------------------------------------------------------------------------

histories = st.tuples(
    st.integers(min_value=0, max_value=60),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.5, max_value=200.0),
)


@given(histories, st.floats(min_value=0.1, max_value=100.0))
def test_transaction_model_invariants(history: tuple[int, float, float], horizon: float) -> None:
    x, share, big_t = history
    t_x = share * big_t if x > 0 else 0.0
    for model in (BGNBD, PARETO):
        alive = float(model.probability_alive(x, t_x, big_t))
        assert 0.0 <= alive <= 1.0
        near = float(model.conditional_expected_purchases(horizon, x, t_x, big_t))
        far = float(model.conditional_expected_purchases(2 * horizon, x, t_x, big_t))
        assert 0.0 <= near <= far


@given(st.floats(min_value=0.5, max_value=80.0))
def test_purchase_distributions_sum_to_one_and_match_the_mean(t: float) -> None:
    counts = np.arange(400)
    for model in (BGNBD, PARETO):
        probabilities = model.purchase_probability(counts, t)
        assert float(probabilities.sum()) == pytest.approx(1.0, abs=1e-8)
        assert float(counts @ probabilities) == pytest.approx(
            float(model.expected_purchases(t)), rel=1e-7
        )


@given(st.integers(min_value=1, max_value=15))
def test_bgbb_distribution_sums_to_one(n: int) -> None:
    counts = np.arange(n + 1)
    probabilities = BGBB.purchase_probability(counts, n)
    assert float(probabilities.sum()) == pytest.approx(1.0)
    assert float(counts @ probabilities) == pytest.approx(float(BGBB.expected_purchases(n)))


# -- recovery from simulated data ------------------------------------------------------------


def _relative_error(model: object, truth: dict[str, float]) -> float:
    params = model.params_  # type: ignore[attr-defined]
    return max(abs(float(params[k]) / v - 1) for k, v in truth.items())


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.8, "alpha": 5.0, "a": 0.9, "b": 2.5}
    errors = []
    for n in (1_000, 30_000):
        data = simulate_bgnbd(n, **truth, T=np.linspace(20, 52, n), seed=7)
        errors.append(_relative_error(BGNBDModel().fit(data), truth))
    assert errors[1] < errors[0]
    assert errors[1] < 0.1


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.8, "alpha": 6.0, "s": 1.2, "beta": 15.0}
    errors = []
    for n in (1_000, 8_000):
        data = simulate_pareto_nbd(n, **truth, T=52.0, seed=11)
        errors.append(_relative_error(ParetoNBDModel().fit(data), truth))
    assert errors[1] < errors[0]
    assert errors[1] < 0.25


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    errors = []
    for n in (500, 30_000):
        x = np.random.default_rng(1).integers(1, 8, n)
        frame = pd.DataFrame(
            {"frequency": x, "monetary_value": simulate_gamma_gamma(x, **truth, seed=2)}
        )
        errors.append(_relative_error(GammaGammaModel().fit(frame), truth))
    assert errors[1] < errors[0]
    assert errors[1] < 0.1


def test_bgbb_recovers_simulated_parameters() -> None:
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    errors = []
    for n in (1_000, 50_000):
        data = simulate_bgbb(n, **truth, periods=8, seed=5)
        errors.append(_relative_error(BGBBModel().fit(data), truth))
    assert errors[1] < errors[0]
    assert errors[1] < 0.1


def test_sbg_recovers_simulated_parameters() -> None:
    truth = {"alpha": 0.7, "beta": 1.2}
    errors = []
    for n in (500, 200_000):
        survivors = simulate_sbg(n, **truth, periods=10, seed=3)
        model = ShiftedBetaGeometricModel().fit(survivors.tolist())
        errors.append(_relative_error(model, truth))
    assert errors[1] < errors[0]
    assert errors[1] < 0.05


# -- fitted-estimator shape, errors ----------------------------------------------------------


def test_summary_has_standard_errors_and_intervals() -> None:
    data = simulate_bgnbd(3_000, r=0.5, alpha=4.0, a=0.8, b=2.0, T=40.0, seed=1)
    model = BGNBDModel().fit(data)
    table = model.summary
    assert table.columns.tolist() == ["estimate", "se", "lower_95", "upper_95"]
    assert (table["se"] > 0).all()
    assert (table["lower_95"] < table["estimate"]).all()
    assert (table["estimate"] < table["upper_95"]).all()
    assert model.n_customers_ == 3_000
    assert model.n_rows_ <= 3_000


def test_weights_equal_repeated_rows() -> None:
    data = simulate_bgnbd(300, r=0.5, alpha=4.0, a=0.8, b=2.0, T=40.0, seed=4)
    repeated = pd.concat([data, data.iloc[:50]], ignore_index=True)
    weighted = data.assign(weight=np.r_[np.full(50, 2.0), np.ones(250)])
    a = BGNBDModel().fit(repeated)
    b = BGNBDModel().fit(weighted, weighted=True)
    assert a.params_ is not None
    assert b.params_ is not None
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-5)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_)


def test_unidentified_fit_raises_fit_error_with_diagnostics() -> None:
    # nobody ever bought again: the drop-out process of the BG/NBD is not identified
    with pytest.raises(FitError) as info:
        BGNBDModel().fit(summary([0, 0, 0], [0, 0, 0], [10, 20, 30]))
    assert info.value.diagnostics


def test_bad_inputs_raise_data_errors() -> None:
    with pytest.raises(DataError, match="recency is larger than T"):
        BGNBDModel().fit(summary([1], [50], [40]))
    with pytest.raises(DataError, match="frequency 0 but recency"):
        ParetoNBDModel().fit(summary([0], [3], [40]))
    with pytest.raises(DataError, match="whole numbers"):
        BGNBDModel().fit(summary([1.5], [3], [40]))
    with pytest.raises(DataError, match="no customer has a repeat"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [0], "monetary_value": [0.0]}))
    with pytest.raises(DataError, match="must not increase"):
        ShiftedBetaGeometricModel().fit([100, 80, 90])
    with pytest.raises(DataError, match="inconsistent"):
        BGBBModel().fit(summary([3], [2], [6]))
    with pytest.raises(ValidationError, match="discount_rate"):
        PARETO.discounted_expected_transactions(1, 1, 2, discount_rate=0.0)
    with pytest.raises(DataError, match="exactly the parameters"):
        BGNBDModel.from_params(r=1.0)
    with pytest.raises(FitError, match="not fitted"):
        BGNBDModel().expected_purchases(1.0)


# -- CLV and holdout -------------------------------------------------------------------------


def test_clv_with_constant_spend_and_discounting_by_hand() -> None:
    frame = summary([2], [30.43], [38.86])
    undiscounted = customer_lifetime_value(BGNBD, 10.0, frame, horizon=4, discount_rate=0.0)
    expected = 10 * float(BGNBD.conditional_expected_purchases(4, 2, 30.43, 38.86))
    assert float(undiscounted.iloc[0]) == pytest.approx(expected)
    discounted = customer_lifetime_value(
        BGNBD, 10.0, frame, horizon=4, discount_rate=0.01, step=2.0, margin=0.5
    )
    # two steps of 2 weeks: 0.5 * 10 * (E[Y(2)] / 1.01^2 + (E[Y(4)] - E[Y(2)]) / 1.01^4)
    y2, y4 = BGNBD.conditional_expected_purchases(np.array([2.0, 4.0]), 2, 30.43, 38.86)
    assert float(discounted.iloc[0]) == pytest.approx(5 * (y2 / 1.01**2 + (y4 - y2) / 1.01**4))
    with pytest.raises(ValidationError, match="horizon"):
        customer_lifetime_value(BGNBD, 10.0, frame, horizon=0, discount_rate=0.0)


def test_clv_with_gamma_gamma_and_bgbb() -> None:
    spend = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
    frame = summary([6, 0], [6, 0], [6, 6]).assign(monetary_value=[50.0, 0.0])
    clv = customer_lifetime_value(BGBB, spend, frame, horizon=5, discount_rate=0.0)
    expected = BGBB.conditional_expected_purchases(
        5, [6, 0], [6, 0], 6
    ) * spend.conditional_expected_spend([6, 0], [50.0, 0.0])
    np.testing.assert_allclose(clv.to_numpy(), expected)


def test_holdout_evaluation_metrics_by_hand() -> None:
    model = BGNBDModel.from_params(r=1, alpha=1, a=1, b=1)
    frame = summary([0, 1], [0, 1], [2, 2]).assign(frequency_holdout=[1, 0], duration_holdout=3.0)
    evaluation = evaluate_holdout(model, frame)
    predicted = model.conditional_expected_purchases(3.0, [0, 1], [0, 1], [2, 2])
    errors = predicted - np.array([1.0, 0.0])
    assert evaluation.metrics["mae"] == pytest.approx(float(np.mean(np.abs(errors))))
    assert evaluation.metrics["rmse"] == pytest.approx(float(np.sqrt(np.mean(errors**2))))
    assert evaluation.metrics["predicted_total"] == pytest.approx(float(predicted.sum()))
    assert evaluation.by_frequency["customers"].tolist() == [1, 1]


def test_bgnbd_predictions_are_continuous_through_a_equal_one() -> None:
    # eq. 9 and 10 divide by (a - 1); the value at a = 1 is the limit of its neighbours
    at_one = BGNBDModel.from_params(r=0.5, alpha=3.0, a=1.0, b=2.0)
    below = BGNBDModel.from_params(r=0.5, alpha=3.0, a=1.0 - 1e-4, b=2.0)
    above = BGNBDModel.from_params(r=0.5, alpha=3.0, a=1.0 + 1e-4, b=2.0)
    for t in (1.0, 10.0):
        middle = (below.expected_purchases(t) + above.expected_purchases(t)) / 2
        assert float(at_one.expected_purchases(t)) == pytest.approx(float(middle), rel=1e-6)


def test_bgnbd_conditional_expectation_stays_finite_for_huge_a_and_b() -> None:
    # A fit on a small world can end at a, b ~ 1e6 (dropout nearly the same for everyone).
    # Euler's transformed 2F1 overflows there; the untransformed series must take over, and
    # the answer must approach the limit smoothly as a and b grow with a/(a+b) fixed.
    x, t_x, big_t = np.array([4.0, 0.0]), np.array([50.0, 0.0]), np.array([72.857, 40.0])
    values = [
        BGNBDModel.from_params(
            r=1.18, alpha=6.08, a=8216.18 * scale, b=77314.7 * scale
        ).conditional_expected_purchases(5, x, t_x, big_t)
        for scale in (1, 10, 100, 1000)
    ]
    assert all(np.isfinite(v).all() for v in values)
    np.testing.assert_allclose(values[-1], values[0], rtol=1e-4)


def test_bgnbd_bracket_forms_agree_where_both_converge() -> None:
    from crmlifecycle.metrics.clv._bgnbd import _bracket

    r, alpha, a, b = 0.8, 4.0, 5.0, 40.0
    x = np.array([0.0, 2.0, 4.0, 10.0])
    u = np.array([30.0, 30.0, 35.0, 38.0])
    t = np.array([10.0, 20.0, 39.0, 52.0])
    z = t / (alpha + u + t)
    ratio = (alpha + u) / (alpha + u + t)
    direct = 1 - ratio ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    np.testing.assert_allclose(_bracket(r, alpha, a, b, x, u, t), direct, rtol=1e-10)


def test_clv_refuses_to_return_non_finite_values() -> None:
    from crmlifecycle.errors import FitError as _FitError
    from crmlifecycle.metrics.clv import GammaGammaModel, customer_lifetime_value

    class Broken:
        """A transaction model whose predictions overflow."""

        def conditional_expected_purchases(self, t: object, *_: object) -> np.ndarray:
            return np.full(np.broadcast(np.asarray(t), *map(np.asarray, _)).shape, np.inf)

    summary = pd.DataFrame(
        {
            "frequency": [1.0, 2.0],
            "recency": [5.0, 9.0],
            "T": [10.0, 10.0],
            "monetary_value": [20.0, 30.0],
        }
    )
    spend = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
    with pytest.raises(_FitError, match="not finite for 2 of 2"):
        customer_lifetime_value(Broken(), spend, summary, horizon=4, discount_rate=0.0)


def _reference_live_mean(
    r: float, alpha: float, a: float, b: float, x: float, u: float, t: float
) -> float:
    # Independent of the library: eq. 10's numerator from the untransformed 2F1, each term
    # from log-gamma functions and summed with log-sum-exp (400,000 terms are far past
    # convergence for these arguments).
    big_a, big_b, big_c = r + x, b + x, a + b + x - 1
    z = t / (alpha + u + t)
    k = np.arange(400_000, dtype="float64")
    logs = (
        special.gammaln(big_a + k)
        - special.gammaln(big_a)
        + special.gammaln(big_b + k)
        - special.gammaln(big_b)
        - special.gammaln(big_c + k)
        + special.gammaln(big_c)
        - special.gammaln(k + 1)
        + k * math.log(z)
    )
    log_s = (r + x) * math.log((alpha + u) / (alpha + u + t)) + float(special.logsumexp(logs))
    return (a + b + x - 1) / (a - 1) * -math.expm1(log_s)


@pytest.mark.parametrize(
    ("params", "x"),
    [
        # near-homogeneous dropout and a ten-year horizon: scipy's 2F1 gave NaN
        ((1.0, 0.5, 3.0, 1000.0), 0.0),
        ((1.0, 0.5, 3.0, 1000.0), 5.0),
        # a heavy buyer over a long horizon: scipy's 2F1 gave -inf
        ((1.0, 0.5, 3.0, 2.4), 100.0),
        ((1.0, 0.5, 3.0, 2.4), 30.0),
    ],
)
def test_bgnbd_live_mean_matches_an_independent_series_where_scipy_fails(
    params: tuple[float, float, float, float], x: float
) -> None:
    from crmlifecycle.metrics.clv._bgnbd import _live_mean

    r, alpha, a, b = params
    ours = _live_mean(r, alpha, a, b, np.array([x]), np.array([10.0]), np.array([520.0]))
    assert float(ours[0]) == pytest.approx(
        _reference_live_mean(r, alpha, a, b, x, 10.0, 520.0), rel=1e-9
    )
    model = BGNBDModel.from_params(r=r, alpha=alpha, a=a, b=b)
    expected = model.conditional_expected_purchases(520, [x], [9.0 if x else 0.0], [10.0])
    assert np.isfinite(expected).all()
    assert (expected >= 0).all()


def test_renamed_summary_columns_are_read_through_the_specs() -> None:
    data = simulate_bgnbd(300, r=0.5, alpha=4.0, a=0.8, b=2.0, T=40.0, seed=5)
    names = {"frequency": "x", "recency": "t_x", "T": "age", "monetary_value": "avg", "weight": "n"}
    cols = SummaryColumns(**names)
    data = data.assign(monetary_value=np.where(data["frequency"] > 0, 20.0, 0.0), weight=1.0)
    renamed = data.rename(columns=names)
    base, ours = BGNBDModel().fit(data), BGNBDModel().fit(renamed, summary_columns=cols)
    np.testing.assert_allclose(ours.summary["estimate"], base.summary["estimate"], rtol=1e-9)
    weighted = BGNBDModel().fit(renamed, summary_columns=cols, weighted=True)  # all weights 1
    np.testing.assert_allclose(weighted.summary["estimate"], base.summary["estimate"], rtol=1e-9)
    pd.testing.assert_frame_equal(
        ours.predict(renamed, horizon=10, summary_columns=cols), base.predict(data, horizon=10)
    )
    spend = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
    pd.testing.assert_series_equal(
        customer_lifetime_value(
            base, spend, renamed, horizon=10, discount_rate=0.01, summary_columns=cols
        ),
        customer_lifetime_value(base, spend, data, horizon=10, discount_rate=0.01),
    )
    with pytest.raises(DataError, match="frequency"):
        BGNBDModel().fit(renamed)
    holdout = data.assign(frequency_holdout=data["frequency"] % 3, duration_holdout=5.0)
    moved = holdout.rename(columns={"frequency_holdout": "actual", "duration_holdout": "weeks"})
    ours_eval = evaluate_holdout(
        base,
        moved,
        holdout_columns=HoldoutColumns(frequency_holdout="actual", duration_holdout="weeks"),
    )
    assert ours_eval.metrics == evaluate_holdout(base, holdout).metrics
