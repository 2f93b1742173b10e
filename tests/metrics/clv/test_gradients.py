"""
The Pareto/NBD and BG/BB fits use exact gradients.

Each gradient is checked against Richardson-extrapolated central differences of
the log-likelihood (error O(h^6)), against closed forms, and, for the Pareto/NBD,
against values computed independently at 40 digits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from crmlifecycle.datasets import load_cdnow_summary, load_donations
from crmlifecycle.errors import FitError
from crmlifecycle.metrics.clv import BGBBModel, ParetoNBDModel
from crmlifecycle.metrics.clv._bgbb import _log_likelihood, _log_likelihood_and_gradient
from crmlifecycle.metrics.clv._hypergeometric import MAX_TERMS, log_hyp2f1_unit
from crmlifecycle.metrics.clv._transaction import RFMData


def richardson(f: Callable[[float], float], x0: float, h: float) -> float:
    """Derivative of f at x0: central differences at h, h/2, h/4, extrapolated twice."""

    def central(step: float) -> float:
        return (f(x0 + step) - f(x0 - step)) / (2 * step)

    d1, d2, d3 = central(h), central(h / 2), central(h / 4)
    r1, r2 = (4 * d2 - d1) / 3, (4 * d3 - d2) / 3
    return (16 * r2 - r1) / 15


def numeric_gradient(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray
) -> np.ndarray:
    def along(j: int) -> Callable[[float], float]:
        return lambda v: objective(np.where(np.arange(x0.size) == j, v, x0))[0]

    return np.array([richardson(along(j), float(x0[j]), 1e-3) for j in range(x0.size)])


def small_rfm(seed: int, n: int = 40) -> RFMData:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 30, n).astype(float)
    big_t = rng.uniform(5.0, 60.0, n)
    t_x = np.where(x > 0, big_t * rng.uniform(0.05, 1.0, n), 0.0)
    t_x[0], x[0] = big_t[0], 3.0  # bought on the last day: A0 = 0
    return RFMData(x, t_x, big_t, rng.integers(1, 5, n).astype(float))


# -- 2F1(1, p; q; z) ---------------------------------------------------------------------


def test_hypergeometric_closed_forms() -> None:
    # 2F1(1, 1; 2; z) = -log(1-z)/z; at z = 1/2 that is 2 log 2 = 1.3862943611198906.
    # d/dz log of it = 1/((1-z)(-log(1-z))) - 1/z = 1/(0.5 * 0.6931471805599453) - 2
    #                = 2.8853900817779268 - 2 = 0.8853900817779268.
    value, _, _, d_z = log_hyp2f1_unit(np.array([1.0]), np.array([2.0]), np.array([0.5]), 0.5)
    assert float(np.exp(value[0])) == pytest.approx(1.3862943611198906, rel=1e-15)
    assert float(d_z[0]) == pytest.approx(0.8853900817779268, rel=1e-14)
    # z = 0: H = 1, d log H/dp = d log H/dq = 0 and d log H/dz = p/q.
    value, d_p, d_q, d_z = log_hyp2f1_unit(np.array([0.3]), np.array([1.5]), np.array([0.0]), 1.0)
    assert (float(value[0]), float(d_p[0]), float(d_q[0])) == (0.0, 0.0, 0.0)
    assert float(d_z[0]) == pytest.approx(0.2)
    # Two terms at z = 1e-3, p = 2, q = 5: t_1 = 2/5 z, t_2 = 2*3/(5*6) z^2 (t_3 ~ 1e-10 z^3).
    # d t_1/dp = t_1/2, d t_2/dp = t_2 (1/2 + 1/3); d/dq: -t_1/5, -t_2 (1/5 + 1/6).
    z = 1e-3
    t1, t2 = 0.4 * z, 0.2 * z**2
    t3 = 2 * 3 * 4 / (5 * 6 * 7) * z**3
    h = 1 + t1 + t2 + t3
    d_p_hand = (t1 / 2 + t2 * (1 / 2 + 1 / 3) + t3 * (1 / 2 + 1 / 3 + 1 / 4)) / h
    d_q_hand = -(t1 / 5 + t2 * (1 / 5 + 1 / 6) + t3 * (1 / 5 + 1 / 6 + 1 / 7)) / h
    value, d_p, d_q, _ = log_hyp2f1_unit(np.array([2.0]), np.array([5.0]), np.array([z]), 1 - z)
    assert float(value[0]) == pytest.approx(np.log(h), rel=1e-12)
    assert float(d_p[0]) == pytest.approx(d_p_hand, rel=1e-9)
    assert float(d_q[0]) == pytest.approx(d_q_hand, rel=1e-9)


def test_hypergeometric_matches_scipy_and_differences() -> None:
    rng = np.random.default_rng(11)
    p = np.exp(rng.uniform(-3, 5, 200))
    q = p + np.exp(rng.uniform(-3, 3, 200))
    z = rng.uniform(0, 0.98, 200)
    value, d_p, d_q, d_z = log_hyp2f1_unit(p, q, z, 1 - z)
    reference = special.hyp2f1(1.0, p, q, z)
    np.testing.assert_allclose(np.exp(value), reference, rtol=1e-12)
    # d/dz 2F1(1, p; q; z) = (p/q) 2F1(2, p+1; q+1; z)  (DLMF 15.5.1)
    np.testing.assert_allclose(
        d_z, p / q * special.hyp2f1(2.0, p + 1, q + 1, z) / reference, rtol=1e-12
    )
    for i in range(0, 200, 20):

        def in_p(v: float, i: int = i) -> float:
            return float(np.log(special.hyp2f1(1.0, v, q[i], z[i])))

        def in_q(v: float, i: int = i) -> float:
            return float(np.log(special.hyp2f1(1.0, p[i], v, z[i])))

        num_p = richardson(in_p, float(p[i]), 1e-3 * float(p[i]))
        num_q = richardson(in_q, float(q[i]), 1e-3 * float(q[i]))
        assert float(d_p[i]) == pytest.approx(num_p, rel=1e-6, abs=1e-12)
        assert float(d_q[i]) == pytest.approx(num_q, rel=1e-6, abs=1e-12)


def test_hypergeometric_near_one_converges_and_beyond_the_cap_raises() -> None:
    # z = 0.999: some 40k terms, summed in chunks; still agrees with scipy.
    value, _, _, _ = log_hyp2f1_unit(np.array([0.5]), np.array([1.8]), np.array([0.999]), 1e-3)
    assert float(np.exp(value[0])) == pytest.approx(
        float(special.hyp2f1(1.0, 0.5, 1.8, 0.999)), rel=1e-10
    )
    with pytest.raises(FitError, match=f"did not converge in {MAX_TERMS} terms") as caught:
        log_hyp2f1_unit(np.array([0.5]), np.array([0.6]), np.array([1 - 1e-9]), 1e-9)
    assert caught.value.diagnostics["p"] == 0.5


# -- Pareto/NBD -----------------------------------------------------------------------------

PARETO_POINTS = [
    [0.553, 10.578, 0.606, 11.669],  # the CDNOW optimum: alpha ~ beta
    [0.3, 20.0, 1.5, 2.0],  # alpha > beta
    [2.0, 1.0, 0.2, 30.0],  # alpha < beta
    [1.0, 5.0, 1.0, 5.0],  # alpha = beta, integer r and s (the starting point)
    [0.7, 300.0, 2.5, 0.9],  # z close to 1
]


@pytest.mark.parametrize("point", PARETO_POINTS)
def test_pareto_gradient_matches_richardson_differences(point: list[float]) -> None:
    objective = ParetoNBDModel()._objective(small_rfm(1))
    x0 = np.log(point)
    _, grad = objective(x0)
    np.testing.assert_allclose(grad, numeric_gradient(objective, x0), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        (
            [0.55, 10.5, 0.6, 11.7],
            [
                10.1186656930488,
                -0.7820799388631923,
                5.80638160930942,
                -0.23026753100242361,
                0.07233949090612099,
            ],
        ),
        (
            [0.7, 300.0, 2.5, 0.9],
            [
                47.5166155825017,
                -1.4334508403353026,
                13.250858765310198,
                3.3974098640107635,
                -1.1664698750165141,
            ],
        ),
        (
            [0.4, 0.5, 0.9, 80.0],
            [
                4.0063043448226825,
                0.3410623099653108,
                0.12844364076153097,
                -0.37714200659454433,
                0.32063285120328555,
            ],
        ),
    ],
)
def test_pareto_objective_matches_a_40_digit_reference(
    point: list[float], expected: list[float]
) -> None:
    # Reference computed independently with mpmath 1.4 at 40 digits: eq. 18 of Fader &
    # Hardie (2005) with the untransformed 2F1 of eq. 19/20 (mpmath.hyp2f1) and mpmath's
    # numerical derivative in the log-parameters (cross-checked against adaptive quadrature
    # of the dead term's integral): [negative mean log-likelihood, its gradient].
    data = RFMData(
        np.array([0.0, 4.0, 40.0]),
        np.array([0.0, 20.25, 12.5]),
        np.array([30.5, 38.0, 31.0]),
        np.array([3.0, 1.0, 2.0]),
    )
    value, grad = ParetoNBDModel()._objective(data)(np.log(point))
    assert value == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(grad, expected[1:], rtol=1e-10)


def test_pareto_gradient_on_cdnow() -> None:
    cdnow = load_cdnow_summary()
    x, t_x, big_t = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    data = RFMData(x, t_x, big_t, np.ones(len(cdnow)))
    objective = ParetoNBDModel()._objective(data)
    for point in ([0.4, 8.0, 0.9, 15.0], [0.8, 12.0, 0.4, 6.0]):
        x0 = np.log(point)
        _, grad = objective(x0)
        np.testing.assert_allclose(grad, numeric_gradient(objective, x0), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    st.floats(-2.5, 2.0),
    st.floats(-2.0, 4.0),
    st.floats(-2.5, 2.0),
    st.floats(-2.0, 4.0),
)
def test_pareto_gradient_property(
    log_r: float, log_alpha: float, log_s: float, log_beta: float
) -> None:
    # Over a box of parameters (alpha/beta between e^-6 and e^6), the exact gradient agrees
    # with extrapolated differences and the value with the scipy-based log-likelihood.
    data = small_rfm(2, n=12)
    objective = ParetoNBDModel()._objective(data)
    x0 = np.array([log_r, log_alpha, log_s, log_beta])
    value, grad = objective(x0)
    np.testing.assert_allclose(grad, numeric_gradient(objective, x0), rtol=1e-6, atol=1e-8)
    r, alpha, s, beta = np.exp(x0)
    model = ParetoNBDModel.from_params(r=r, alpha=alpha, s=s, beta=beta)
    alive = model.probability_alive(data.x, data.t_x, data.t)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.isfinite(value)


def test_pareto_fit_reports_an_analytic_gradient() -> None:
    model = ParetoNBDModel().fit(load_cdnow_summary())
    assert model.diagnostics_["gradient"] == "analytic"
    # at the optimum the gradient of the mean log-likelihood is ~0 in every direction
    assert model.diagnostics_["attempts"][-1]["max_abs_gradient"] < 1e-6


# -- BG/BB ----------------------------------------------------------------------------------


def donation_histories() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frame = load_donations()
    x, t_x, n, w = (frame[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "weight"))
    return x, t_x, n, w


def test_bgbb_log_likelihood_and_gradient_by_hand() -> None:
    # alpha = beta = gamma = delta = 1, history x = 1, t_x = 1, n = 2 (eq. 5):
    # alive: B(2, 2)/B(1, 1) * B(1, 3)/B(1, 1) = 1/6 * 1/3 = 1/18
    # dropped after opportunity 1: B(2, 1)/B(1, 1) * B(2, 2)/B(1, 1) = 1/2 * 1/6 = 1/12
    # L = 1/18 + 1/12 = 5/36.
    one = np.array([1.0])
    log_lik, gradient = _log_likelihood_and_gradient(1.0, 1.0, 1.0, 1.0, one, one, 2 * one)
    assert float(log_lik[0]) == pytest.approx(np.log(5 / 36), rel=1e-14)
    # d/dalpha (psi(k+1) - psi(k) = 1/k): alive psi(2) - psi(4) - psi(1) + psi(2)
    # = -(1/2 + 1/3) + 1 = 1/6; dropped psi(2) - psi(3) - psi(1) + psi(2) = -1/2 + 1 = 1/2;
    # shares 2/5 and 3/5: 2/5 * 1/6 + 3/5 * 1/2 = 1/15 + 3/10 = 11/30.
    assert float(gradient[0, 0]) == pytest.approx(11 / 30, rel=1e-13)
    # d/dgamma: alive psi(1) - psi(4) + [psi(2) - psi(1)] = -11/6 + 1 = -5/6,
    # dropped psi(2) - psi(4) + 1 = -(1/2 + 1/3) + 1 = 1/6: 2/5 * -5/6 + 3/5 * 1/6 = -7/30.
    assert float(gradient[2, 0]) == pytest.approx(-7 / 30, rel=1e-13)


@pytest.mark.parametrize(
    "point",
    [
        [1.204, 0.750, 0.657, 2.783],
        [0.3, 5.0, 2.0, 0.4],
        [10.0, 0.1, 0.05, 30.0],
        [1.0, 1.0, 1.0, 1.0],
    ],
)
def test_bgbb_gradient_matches_richardson_differences(point: list[float]) -> None:
    x, t_x, n, w = donation_histories()
    objective = BGBBModel._objective(x, t_x, n, w, float(w.sum()))
    x0 = np.log(point)
    value, grad = objective(x0)
    alpha, beta, gamma, delta = point
    expected = -float(w @ _log_likelihood(alpha, beta, gamma, delta, x, t_x, n)) / float(w.sum())
    assert value == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(grad, numeric_gradient(objective, x0), rtol=1e-6, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4), st.integers(2, 12))
def test_bgbb_gradient_property(log_params: list[float], opportunities: int) -> None:
    # every consistent history over a few opportunities, equal weights
    rows = [(0, 0)] + [(x, t) for t in range(1, opportunities + 1) for x in range(1, t + 1)]
    x = np.array([r[0] for r in rows], dtype=float)
    t_x = np.array([r[1] for r in rows], dtype=float)
    n = np.full(x.size, float(opportunities))
    w = np.ones(x.size)
    objective = BGBBModel._objective(x, t_x, n, w, float(w.sum()))
    x0 = np.array(log_params)
    _, grad = objective(x0)
    np.testing.assert_allclose(grad, numeric_gradient(objective, x0), rtol=1e-6, atol=1e-9)


def test_bgbb_fit_reports_an_analytic_gradient() -> None:
    model = BGBBModel().fit(load_donations(), weighted=True)
    assert model.diagnostics_["gradient"] == "analytic"


def test_a_series_that_does_not_converge_fails_only_that_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A FitError raised by the objective (a series past its cap at a trial point) ends that
    # attempt; the next starting point is tried and the fit still reaches the optimum.
    original = ParetoNBDModel._objective
    calls = {"n": 0}

    def failing_once(
        self: ParetoNBDModel, data: RFMData
    ) -> Callable[..., tuple[float, np.ndarray]]:
        objective = original(self, data)

        def wrapped(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            calls["n"] += 1
            if calls["n"] == 1:
                raise FitError("the hypergeometric series did not converge (test)")
            return objective(log_params)

        return wrapped

    monkeypatch.setattr(ParetoNBDModel, "_objective", failing_once)
    model = ParetoNBDModel().fit(load_cdnow_summary())
    first = model.diagnostics_["attempts"][0]
    assert "did not converge (test)" in first["message"]
    assert len(model.diagnostics_["attempts"]) == 2
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)  # FHL (2005), Sec. 7
