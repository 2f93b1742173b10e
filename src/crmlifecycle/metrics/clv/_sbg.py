"""The shifted-beta-geometric model of contractual retention (Fader & Hardie 2007)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self, final

import numpy as np
import pandas as pd
from scipy import special

from crmlifecycle.errors import DataError
from crmlifecycle.metrics.clv._base import FittedModel, Objective, as_float_array, check_rate

__all__ = ["ShiftedBetaGeometricModel"]


def _cohort_matrix(
    survivors: pd.DataFrame | pd.Series | Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Rows = cohorts, columns = periods 0..K (NaN after a cohort's last observed period)."""
    if isinstance(survivors, str | bytes | Mapping) or not isinstance(
        survivors, pd.DataFrame | pd.Series | Sequence | np.ndarray
    ):
        raise DataError(
            f"survivors must be a sequence of counts or a frame (got {type(survivors).__name__}). "
            "Hint: pass e.g. [1000, 631, 468, ...]."
        )
    try:
        if isinstance(survivors, pd.DataFrame):
            matrix = survivors.to_numpy(dtype="float64")
        else:
            matrix = np.asarray(survivors, dtype="float64")[None, :]
    except (TypeError, ValueError) as err:
        raise DataError(
            "survivors must hold numbers only. Hint: pass e.g. [1000, 631, 468, ...]."
        ) from err
    if matrix.ndim != 2 or matrix.shape[1] < 2:  # noqa: PLR2004
        raise DataError(
            "survivors must hold at least two periods (the cohort size, then survivors). "
            "Hint: pass e.g. [1000, 631, 468, ...]."
        )
    observed = ~np.isnan(matrix)
    if not bool(observed[:, 0].all()):
        raise DataError("every cohort needs its size in period 0. Hint: fill column 0.")
    gaps = observed[:, 1:] & ~observed[:, :-1]
    if bool(gaps.any()):
        raise DataError("survivor counts must not have gaps; NaN may only trail a cohort's row.")
    values = np.where(observed, matrix, 0.0)
    if bool((values < 0).any()) or bool((values[:, 0] <= 0).any()):
        raise DataError("survivor counts must be >= 0 and cohort sizes > 0.")
    drops = np.where(observed[:, 1:], values[:, :-1] - values[:, 1:], 0.0)
    if bool((drops < 0).any()):
        raise DataError(
            "survivor counts must not increase from one period to the next. "
            "Hint: survivors are the customers of the original cohort still active."
        )
    return np.where(observed, matrix, np.nan)


@final
class ShiftedBetaGeometricModel(FittedModel):
    """
    The shifted-beta-geometric (sBG) model of contract renewals.

    At the end of each period an active customer cancels with probability
    ``theta``, constant over time for that customer and beta(``alpha``,
    ``beta``) across customers. Aggregate retention rises over time because the
    customers prone to cancel leave first, the reason a constant-churn CLV
    formula undervalues a cohort.

    Sources: Fader & Hardie (2007), "How to Project Customer Retention",
    *Journal of Interactive Marketing* 21(1): P(T = t), S(t) and r(t)
    (eq. 5–8) and the log-likelihood of Appendix B; Fader & Hardie (2010),
    "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
    Heterogeneity", *Marketing Science* 29(1) (DEL and DERL).
    ``log_likelihood_`` counts customers (the paper's spreadsheet divides it by
    the cohort size). The gradient is analytic.

    Examples:
        >>> from crmlifecycle.datasets import load_retention_cohorts
        >>> high_end = load_retention_cohorts().loc["high_end", 0:7]
        >>> model = ShiftedBetaGeometricModel().fit(high_end)
        >>> model.params_.round(3).to_dict()
        {'alpha': 0.668, 'beta': 3.806}
        >>> (1000 * model.survival([8, 12])).round(0).tolist()
        [460.0, 378.0]
    """

    _param_names = ("alpha", "beta")
    _identification_hint = (
        "the sBG model needs enough periods for the retention rate to change visibly, and "
        "enough customers; with a retention that stays constant use a single churn rate "
        "instead, or build the model from parameters you know with from_params(...)"
    )

    def fit(self, survivors: pd.DataFrame | pd.Series | Sequence[float] | np.ndarray) -> Self:
        """
        Fit on survivor counts of one cohort (a sequence) or several (a frame).

        ``survivors[0]`` is the cohort size and ``survivors[t]`` the number
        still active at the end of period ``t``; with a frame, one row per
        cohort and NaN after a younger cohort's last observed period.

        Args:
            survivors: the survivor counts: a sequence or Series for one cohort, or a frame
                with one row per cohort and one column per period (``0`` = acquisition).

        Raises:
            DataError: fewer than two periods, negative or increasing counts, gaps.
            FitError: when the optimiser does not converge.
        """
        matrix = _cohort_matrix(survivors)
        lost = np.nan_to_num(matrix[:, :-1] - matrix[:, 1:])
        last = np.sum(~np.isnan(matrix), axis=1) - 1
        remaining = matrix[np.arange(matrix.shape[0]), last]
        churn = lost.sum(axis=0)  # customers lost in period t = 1..K, over cohorts
        censored = np.bincount(last, weights=remaining, minlength=matrix.shape[1])
        total = float(np.nansum(matrix[:, 0]))
        if float(churn.sum()) <= 0:
            raise DataError(
                "no customer ever cancelled, so churn cannot be estimated. "
                "Hint: the sBG model needs at least one lost customer."
            )
        self._maximise(self._objective(churn, censored, total), [[1.0, 1.0], [0.5, 3.0]], total)
        self.n_customers_ = total
        self.n_rows_ = matrix.shape[0]
        return self

    @staticmethod
    def _objective(churn: np.ndarray, censored: np.ndarray, total: float) -> Objective:
        t = np.arange(1, churn.size + 1, dtype="float64")
        k = np.arange(censored.size, dtype="float64")

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            a, b = np.exp(log_params)
            base = special.betaln(a, b)
            log_p = special.betaln(a + 1, b + t - 1) - base  # P(T = t)
            log_s = special.betaln(a, b + k) - base  # S(k)
            ll = churn @ log_p + censored @ log_s
            d_ab = special.digamma(a + b)
            d_a0, d_b0 = special.digamma(a) - d_ab, special.digamma(b) - d_ab
            g_a = churn @ (special.digamma(a + 1) - special.digamma(a + b + t) - d_a0)
            g_a += censored @ (special.digamma(a) - special.digamma(a + b + k) - d_a0)
            g_b = churn @ (special.digamma(b + t - 1) - special.digamma(a + b + t) - d_b0)
            g_b += censored @ (special.digamma(b + k) - special.digamma(a + b + k) - d_b0)
            return -float(ll) / total, -np.array([g_a * a, g_b * b]) / total

        return objective

    def survival(self, t: object) -> np.ndarray:
        """
        Share of a new cohort still active after ``t`` periods, ``B(alpha, beta+t)/B(alpha, beta)``.

        Args:
            t: the number of periods since acquisition, >= 0 (a number or an array).

        Examples:
            >>> model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
            >>> model.survival([0, 1, 3]).tolist()
            [1.0, 0.5, 0.25]
        """
        a, b = self._values()
        times = as_float_array(t, "t")
        result: np.ndarray = np.exp(special.betaln(a, b + times) - special.betaln(a, b))
        return result

    def churn_probability(self, t: object) -> np.ndarray:
        """
        Probability that a new customer cancels at the end of period ``t`` (t >= 1).

        Args:
            t: the period, counted from 1 (a number or an array).

        Examples:
            >>> model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
            >>> model.churn_probability([1, 2]).round(6).tolist()
            [0.5, 0.166667]
        """
        a, b = self._values()
        times = as_float_array(t, "t")
        if bool(np.any(times < 1)):
            raise DataError("periods start at 1. Hint: churn_probability(t) needs t >= 1.")
        result: np.ndarray = np.exp(special.betaln(a + 1, b + times - 1) - special.betaln(a, b))
        return result

    def retention_rate(self, t: object) -> np.ndarray:
        """
        Share of the customers active after ``t - 1`` periods who renew in period ``t``.

        ``(beta + t - 1) / (alpha + beta + t - 1)``: it rises with ``t``.

        Args:
            t: the period, counted from 1 (a number or an array).

        Examples:
            >>> model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
            >>> model.retention_rate([1, 2]).tolist()
            [0.5, 0.6666666666666666]
        """
        a, b = self._values()
        times = as_float_array(t, "t")
        if bool(np.any(times < 1)):
            raise DataError("periods start at 1. Hint: retention_rate(t) needs t >= 1.")
        result: np.ndarray = (b + times - 1) / (a + b + times - 1)
        return result

    def discounted_expected_lifetime(self, *, discount_rate: float) -> float:
        """
        Discounted expected lifetime of a new customer, in payments (DEL).

        ``sum_{t>=0} S(t) / (1+d)^t = 2F1(1, beta; alpha+beta; 1/(1+d))``: the
        first payment is made at acquisition (undiscounted), the next one at
        each renewal. Multiply by the payment per period for the expected CLV.

        Args:
            discount_rate: the discount rate per period, ``d`` > 0 (``0.1`` = 10 %).

        Examples:
            >>> model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
            >>> round(model.discounted_expected_lifetime(discount_rate=0.1), 6)
            2.637685
        """
        a, b = self._values()
        rate = check_rate(discount_rate)
        return float(special.hyp2f1(1.0, b, a + b, 1 / (1 + rate)))

    def discounted_expected_residual_lifetime(
        self, renewals: object, *, discount_rate: float
    ) -> np.ndarray:
        """
        DERL of an active customer who has renewed ``renewals`` times (Fader & Hardie 2010).

        The customer is at the end of period ``n = renewals + 1``, just before
        deciding whether to renew; payments are made at each future renewal,
        the first undiscounted:
        ``(beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d))``.

        Args:
            renewals: how many times the customer has renewed, >= 0 (a number or an array).
            discount_rate: the discount rate per period, ``d`` > 0 (``0.1`` = 10 %).

        Examples:
            >>> model = ShiftedBetaGeometricModel.from_params(alpha=1.0, beta=1.0)
            >>> derl = model.discounted_expected_residual_lifetime([0, 5], discount_rate=0.1)
            >>> derl.round(4).tolist()
            [1.8015, 5.0993]
        """
        a, b = self._values()
        n = as_float_array(renewals, "renewals") + 1
        rate = check_rate(discount_rate)
        result: np.ndarray = (
            (b + n - 1) / (a + b + n - 1) * special.hyp2f1(1.0, b + n, a + b + n, 1 / (1 + rate))
        )
        return result
