from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from crmlifecycle.errors import FitError
from crmlifecycle.metrics.clv._positive_series import log_hyp2f1_positive


def test_closed_forms() -> None:
    z = np.array([0.0, 0.3, 0.9, 0.9999])
    # 2F1(1, 1; 2; z) = -log(1 - z) / z (1 at z = 0); 2F1(a, b; b; z) = (1 - z) ** -a
    expected = np.where(z > 0, -np.log1p(-z) / np.where(z > 0, z, 1), 1.0)
    ours = np.exp(log_hyp2f1_positive(np.ones(4), np.ones(4), 2 * np.ones(4), z))
    # z = 0.9999 takes ~350,000 terms: rounding adds up to a few parts in 1e13
    np.testing.assert_allclose(ours, expected, rtol=1e-11)
    log_power = log_hyp2f1_positive(np.full(4, 2.5), np.full(4, 7.0), np.full(4, 7.0), z)
    np.testing.assert_allclose(log_power, -2.5 * np.log1p(-z), rtol=1e-12, atol=1e-15)


@given(
    a=st.floats(0.1, 50),
    b=st.floats(0.1, 50),
    c=st.floats(0.1, 60),
    z=st.floats(0.0, 0.95),
)
def test_agrees_with_a_log_gamma_sum(a: float, b: float, c: float, z: float) -> None:
    # An independent route: each term from log-gamma functions (no running product),
    # 20,000 terms summed by log-sum-exp (for z <= 0.95 the tail past them is < 1e-400).
    # scipy's hyp2f1 is not used as the oracle: it is off by up to ~1e-6 in this range.
    ours = log_hyp2f1_positive(np.array([a]), np.array([b]), np.array([c]), np.array([z]))
    if z == 0:
        assert float(ours[0]) == 0.0  # the series is its first term, 1
        return
    k = np.arange(20_000, dtype="float64")
    logs = (
        special.gammaln(a + k)
        - special.gammaln(a)
        + special.gammaln(b + k)
        - special.gammaln(b)
        - special.gammaln(c + k)
        + special.gammaln(c)
        - special.gammaln(k + 1)
        + k * np.log(z)
    )
    reference = float(special.logsumexp(logs))
    assert float(ours[0]) == pytest.approx(reference, rel=1e-9, abs=1e-12)


def test_exact_rational_sum() -> None:
    # 2F1(1, 29; 14; 3/4) summed exactly in rational arithmetic (400 terms: the next term is
    # below 1e-40 of the sum), against which scipy's hyp2f1 is off by 9e-9 in the logarithm
    term = total = Fraction(1)
    for k in range(400):
        term = term * (1 + k) * (29 + k) / ((14 + k) * (k + 1)) * Fraction(3, 4)
        total += term
    exact = math.log(total.numerator) - math.log(total.denominator)
    ours = log_hyp2f1_positive(
        np.array([1.0]), np.array([29.0]), np.array([14.0]), np.array([0.75])
    )
    assert float(ours[0]) == pytest.approx(exact, rel=1e-14)


def test_a_series_too_close_to_one_is_a_fit_error() -> None:
    with pytest.raises(FitError, match="did not converge"):
        log_hyp2f1_positive(np.ones(1), np.ones(1), 2 * np.ones(1), np.array([1 - 1e-9]))
