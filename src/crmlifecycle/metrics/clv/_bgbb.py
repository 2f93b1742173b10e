"""The BG/BB model of Fader, Hardie & Shang (2010)."""

from __future__ import annotations

from typing import Final, Self, final

import numpy as np
import pandas as pd
from scipy import special

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics.clv._base import (
    MAX_OPPORTUNITIES,
    HistoryModel,
    Objective,
    as_float_array,
    as_float_arrays,
    check_rate,
    collapse,
    read_summary,
)
from crmlifecycle.metrics.clv._columns import SummaryColumns

__all__ = ["BGBBModel"]

#: histories x opportunities held in memory at once by the likelihood
_CELLS: Final = 1 << 20


def _check_histories(x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> None:
    whole = (x == np.round(x)) & (t_x == np.round(t_x)) & (n == np.round(n))
    if not bool(np.all(whole)):
        raise DataError(
            "BG/BB histories must be whole numbers of opportunities. "
            "Hint: summarise with rfm_summary(..., occasion='Y', time_unit='Y') or similar."
        )
    if n.size and float(np.max(n)) > MAX_OPPORTUNITIES:
        raise ValidationError(
            f"T holds {float(np.max(n)):.6g} opportunities, more than {MAX_OPPORTUNITIES:,}. "
            "Hint: BG/BB histories count discrete opportunities (years, drives, seasons); "
            "use a coarser occasion, or a continuous-time model (BG/NBD) for fine time.",
            field="T",
            value=float(np.max(n)),
        )
    bad = (x > t_x) | (t_x > n) | ((x == 0) & (t_x > 0)) | ((x > 0) & (t_x == 0))
    if bool(np.any(bad)):
        raise DataError(
            f"{int(bad.sum())} BG/BB histories are inconsistent: need 0 < frequency <= recency "
            "<= T, or frequency = recency = 0. Hint: recency is the opportunity (1..T) of "
            "the last transaction."
        )


def _by_rows(width: int, size: int) -> list[slice]:
    """Slices of ``size`` rows that keep ``rows x width`` cells below ``_CELLS`` each."""
    rows = max(1, _CELLS // max(width, 1))
    return [slice(start, start + rows) for start in range(0, max(size, 1), rows)]


def _log_likelihood(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
) -> np.ndarray:
    """Log of FHS (2010) eq. 5 for each history, in blocks of rows (memory linear in T)."""
    x, t_x, n = np.broadcast_arrays(x, t_x, n)
    shape = x.shape
    flat = [np.ravel(v) for v in (x, t_x, n)]
    width = int(np.max(flat[2] - flat[1])) if flat[2].size else 0
    parts = [
        _log_likelihood_block(alpha, beta, gamma, delta, *(v[rows] for v in flat))
        for rows in _by_rows(width, flat[0].size)
    ]
    result: np.ndarray = np.concatenate(parts).reshape(shape)
    return result


def _log_likelihood_block(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
) -> np.ndarray:
    """Log of FHS (2010) eq. 5 for each history, the sum over drop-out times in log space."""
    base_ab = special.betaln(alpha, beta)
    base_gd = special.betaln(gamma, delta)
    alive = (
        special.betaln(alpha + x, beta + n - x)
        - base_ab
        + special.betaln(gamma, delta + n)
        - base_gd
    )
    width = int(np.max(n - t_x)) if n.size else 0
    i = np.arange(width)
    tx2, x2 = t_x[..., None], x[..., None]
    with np.errstate(invalid="ignore"):
        terms = (
            special.betaln(alpha + x2, beta + tx2 - x2 + i)
            - base_ab
            + special.betaln(gamma + 1, delta + tx2 + i)
            - base_gd
        )
    terms = np.where(i < (n - t_x)[..., None], terms, -np.inf)
    result: np.ndarray = np.logaddexp(alive, special.logsumexp(terms, axis=-1)) if width else alive
    return result


def _log_likelihood_and_gradient(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_log_likelihood_and_gradient_block` in blocks of rows (memory linear in T)."""
    width = int(np.max(n - t_x)) + 1 if n.size else 1
    parts = [
        _log_likelihood_and_gradient_block(alpha, beta, gamma, delta, x[rows], t_x[rows], n[rows])
        for rows in _by_rows(width, x.size)
    ]
    return (
        np.concatenate([value for value, _ in parts]),
        np.concatenate([gradient for _, gradient in parts], axis=1),
    )


def _log_likelihood_and_gradient_block(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """
    :func:`_log_likelihood` and its exact gradient in ``(alpha, beta, gamma, delta)``.

    Each history's likelihood is a sum of terms ``B(a', b')/B(alpha, beta) *
    B(g', d')/B(gamma, delta)`` (eq. 5: "alive at n" and "dropped out after
    opportunity t_x + i"). ``d log B(a, b)/da = psi(a) - psi(a+b)``, so the
    gradient of the log of the sum is the average of the terms' digamma
    differences, weighted by each term's share of the sum (a softmax of the
    log-terms). Returns the log-likelihoods ``(n_rows,)`` and the gradient
    ``(4, n_rows)``.
    """
    psi = special.digamma
    width = int(np.max(n - t_x)) if n.size else 0
    # column 0: alive at n; column 1 + i: dropped out after opportunity t_x + i
    col = np.concatenate([[0.0], np.arange(width, dtype="float64")])  # 0, then i
    alive_col = np.arange(width + 1) == 0
    a_x = alpha + x[:, None]  # first argument of the first beta function, all columns
    b_arg = np.where(alive_col, beta + (n - x)[:, None], beta + (t_x - x)[:, None] + col)
    g_arg = np.where(alive_col, gamma, gamma + 1)
    d_arg = np.where(alive_col, delta + n[:, None], delta + t_x[:, None] + col)
    valid = alive_col | (col < (n - t_x)[:, None])
    with np.errstate(invalid="ignore"):
        log_terms = special.betaln(a_x, b_arg) + special.betaln(g_arg, d_arg)
    log_terms = np.where(valid, log_terms, -np.inf)
    top = special.logsumexp(log_terms, axis=1)
    share = np.exp(log_terms - top[:, None])  # 0 in the invalid cells
    base = special.betaln(alpha, beta) + special.betaln(gamma, delta)
    safe_b, safe_d = np.where(valid, b_arg, 1.0), np.where(valid, d_arg, 1.0)
    ab, gd = a_x + safe_b, g_arg + safe_d
    gradient = np.array(
        [
            np.sum(share * (psi(a_x) - psi(ab)), axis=1) - psi(alpha) + psi(alpha + beta),
            np.sum(share * (psi(safe_b) - psi(ab)), axis=1) - psi(beta) + psi(alpha + beta),
            np.sum(share * (psi(g_arg) - psi(gd)), axis=1) - psi(gamma) + psi(gamma + delta),
            np.sum(share * (psi(safe_d) - psi(gd)), axis=1) - psi(delta) + psi(gamma + delta),
        ]
    )
    return top - base, gradient


def _purchase_probability_block(
    a: float, b: float, g: float, d: float, count: np.ndarray, periods: np.ndarray
) -> np.ndarray:
    """Eq. 8 of FHS (2010) for flat arrays of counts and opportunities."""
    base = special.betaln(a, b) + special.betaln(g, d)

    def log_choose(top: np.ndarray, k: np.ndarray) -> np.ndarray:
        result: np.ndarray = (
            special.gammaln(top + 1) - special.gammaln(k + 1) - special.gammaln(top - k + 1)
        )
        return result

    first = np.exp(
        log_choose(periods, count)
        + special.betaln(a + count, b + periods - count)
        + special.betaln(g, d + periods)
        - base
    )
    width = int(np.max(periods)) if periods.size else 0
    i = np.arange(width)
    c2, n2 = count[..., None], periods[..., None]
    with np.errstate(invalid="ignore"):
        terms = np.exp(
            log_choose(np.maximum(i, c2), c2)
            + special.betaln(a + c2, b + np.maximum(i - c2, 0))
            + special.betaln(g + 1, d + i)
            - base
        )
    terms = np.where((i >= c2) & (i < n2), terms, 0.0)
    result: np.ndarray = np.where(count <= periods, first + terms.sum(axis=-1), 0.0)
    return result


@final
class BGBBModel(HistoryModel):
    """
    The beta-geometric/beta-Bernoulli model for discrete transaction opportunities.

    Each period (a yearly fund drive, an event, a season) is one opportunity to
    transact. While alive, a customer transacts at each opportunity with
    probability ``p`` (beta(``alpha``, ``beta``) across customers); before each
    opportunity an alive customer drops out with probability ``theta``
    (beta(``gamma``, ``delta``)). Histories are (``frequency`` = opportunities
    with a transaction, ``recency`` = the last such opportunity, ``T`` =
    opportunities observed), e.g. from ``rfm_summary(..., occasion="Y",
    time_unit="Y")``.

    Source: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a
    Discrete-Time Noncontractual Setting", *Marketing Science* 29(6): eq. 5
    (likelihood), 7 (E[X(n)]), 8 (P(X(n)=x)), 11 (P(alive)), 13 (conditional
    expectation), 14 (DERT). ``log_likelihood_`` is the sum of the log of eq. 5
    (the paper's convention, without the normalising constant discussed by
    later notes). The gradient is analytic: eq. 5 is a sum of ratios of beta
    functions, so the gradient of its log is the share-weighted average of the
    terms' digamma differences (``d log B(a, b)/da = psi(a) - psi(a + b)``).

    Examples:
        >>> from crmlifecycle.datasets import load_donations
        >>> model = BGBBModel().fit(load_donations(), weighted=True)
        >>> model.params_.round(3).to_dict()
        {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _identification_hint = (
        "the BG/BB model needs customers who differ: some who transact at many opportunities,"
        " some at few, some who stopped; fit on more customers, or build the model from "
        "parameters you know with from_params(...)"
    )
    _loglik_convention = "sum of log eq. 5 of Fader, Hardie & Shang (2010)"
    _check_history = staticmethod(_check_histories)

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        summary_columns: SummaryColumns = SummaryColumns(),
        weighted: bool = False,
    ) -> Self:
        """
        Fit by maximum likelihood; identical histories are collapsed with weights.

        The columns ``frequency``, ``recency`` and ``T`` are read through
        ``summary_columns``; ``weighted=True`` also reads its ``weight``
        column (how many customers each row stands for).

        Args:
            summary: one row per customer (or per distinct history, with ``weighted``);
                not modified.
            summary_columns: the columns of ``summary`` (``frequency``, ``recency``, ``T``,
                and ``weight`` with ``weighted``).
            weighted: read the ``weight`` column as the number of customers each row stands for
                (``False``: each row is one customer).

        Raises:
            DataError: missing, fractional or inconsistent histories.
            ValidationError: naming ``T`` when a history spans more than 10,000 opportunities.
            FitError: when the optimiser does not converge.
        """
        cols = summary_columns
        values, weights = read_summary(
            summary,
            {"x": cols.frequency, "t_x": cols.recency, "n": cols.T},
            weights_col=cols.weight if weighted else None,
            integer=("x", "t_x", "n"),
        )
        x, t_x, n = self._history(values["x"], values["t_x"], values["n"])
        (x, t_x, n), w = collapse([x, t_x, n], weights)
        total = float(w.sum())
        self._maximise(
            self._objective(x, t_x, n, w, total),
            [[1.0, 1.0, 1.0, 1.0], [0.5, 0.5, 0.5, 2.0], [2.0, 1.0, 1.0, 5.0]],
            total,
        )
        self.n_customers_ = total
        self.n_rows_ = len(w)
        return self

    @staticmethod
    def _objective(
        x: np.ndarray, t_x: np.ndarray, n: np.ndarray, w: np.ndarray, total: float
    ) -> Objective:
        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(log_params)
            a, b, g, d = (float(v) for v in theta)
            log_lik, gradient = _log_likelihood_and_gradient(a, b, g, d, x, t_x, n)
            # chain rule to the log-parameters: d/d log(theta) = theta d/d theta
            return -float(w @ log_lik) / total, -(gradient @ w) * theta / total

        return objective

    def probability_alive(self, frequency: object, recency: object, T: object) -> np.ndarray:
        """
        Probability that a customer with this history is alive at opportunity ``T + 1`` (eq. 11).

        Args:
            frequency: the number of opportunities with a transaction, ``x`` (an integer or array).
            recency: the opportunity of the last transaction, ``t_x`` (0 without any).
            T: the number of opportunities observed, ``n``.

        Examples:
            >>> model = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
            >>> model.probability_alive([0, 2, 6], [0, 4, 6], 6).round(2).tolist()
            [0.11, 0.59, 0.93]
        """
        a, b, g, d = self._values()
        x, t_x, n = self._history(frequency, recency, T)
        log_alive = (
            special.betaln(a + x, b + n - x)
            - special.betaln(a, b)
            + special.betaln(g, d + n + 1)
            - special.betaln(g, d)
        )
        result: np.ndarray = np.exp(log_alive - _log_likelihood(a, b, g, d, x, t_x, n))
        return result

    def expected_purchases(self, n: object) -> np.ndarray:
        """
        Expected transactions of a new customer in the first ``n`` opportunities (eq. 7).

        For ``n = 1`` this is ``E[p] E[1 - theta] = alpha/(alpha+beta) * delta/(gamma+delta)``.

        Args:
            n: the number of opportunities (a non-negative integer, or an array of them).

        Examples:
            >>> model = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
            >>> model.expected_purchases([0, 1]).round(4).tolist()
            [0.0, 0.4985]
        """
        a, b, g, d = self._values()
        periods = as_float_array(n, "n")
        ratio = np.exp(
            special.gammaln(g + d)
            + special.gammaln(1 + d + periods)
            - special.gammaln(g + d + periods)
            - special.gammaln(1 + d)
        )
        result: np.ndarray = a / (a + b) * d / (g - 1) * (1 - ratio) + 0.0
        return result

    def purchase_probability(self, x: object, n: object) -> np.ndarray:
        """
        Probability that a new customer transacts ``x`` times in ``n`` opportunities (eq. 8).

        Args:
            x: the number of transactions (0 for ``x > n``); broadcast against ``n``.
            n: the number of opportunities (at most ``MAX_OPPORTUNITIES``, 10,000).

        Raises:
            ValidationError: naming ``n`` when it exceeds 10,000 opportunities.

        Examples:
            >>> model = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
            >>> round(float(model.purchase_probability(list(range(7)), 6).sum()), 12)
            1.0
        """
        a, b, g, d = self._values()
        count, periods = as_float_arrays(x=x, n=n)
        if periods.size and float(np.max(periods)) > MAX_OPPORTUNITIES:
            raise ValidationError(
                f"n holds {float(np.max(periods)):.6g} opportunities, more than "
                f"{MAX_OPPORTUNITIES:,}. Hint: BG/BB counts discrete opportunities; use a "
                "coarser occasion.",
                field="n",
                value=float(np.max(periods)),
            )
        count, periods = np.broadcast_arrays(count, periods)
        flat_count, flat_periods = count.ravel(), periods.ravel()
        width = int(np.max(flat_periods)) if flat_periods.size else 0
        parts = [
            _purchase_probability_block(a, b, g, d, flat_count[rows], flat_periods[rows])
            for rows in _by_rows(width, flat_count.size)
        ]
        result: np.ndarray = np.concatenate(parts).reshape(count.shape)
        return result

    def conditional_expected_purchases(
        self,
        n_star: object,
        frequency: object,
        recency: object,
        T: object,
    ) -> np.ndarray:
        """
        Expected transactions in the next ``n_star`` opportunities given a history (eq. 13).

        Args:
            n_star: the number of future opportunities, ``n + 1`` to ``n + n_star``.
            frequency: the number of opportunities with a transaction, ``x`` (an integer or array).
            recency: the opportunity of the last transaction, ``t_x`` (0 without any).
            T: the number of opportunities observed, ``n``.

        Examples:
            >>> model = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
            >>> bool(model.conditional_expected_purchases(5, 6, 6, 6) > 3)
            True
        """
        a, b, g, d = self._values()
        x, t_x, n, future = self._history_and(n_star, "n_star", frequency, recency, T)
        log_front = (
            special.betaln(a + x + 1, b + n - x)
            - special.betaln(a, b)
            + special.gammaln(g + d)
            - special.gammaln(1 + d)
            - _log_likelihood(a, b, g, d, x, t_x, n)
        )
        now = special.gammaln(1 + d + n) - special.gammaln(g + d + n)
        later = special.gammaln(1 + d + n + future) - special.gammaln(g + d + n + future)
        result: np.ndarray = np.exp(log_front) * d / (g - 1) * (np.exp(now) - np.exp(later)) + 0.0
        return result

    def discounted_expected_transactions(
        self,
        frequency: object,
        recency: object,
        T: object,
        *,
        discount_rate: float,
    ) -> np.ndarray:
        """
        Discounted expected residual transactions (DERT) from opportunity ``T + 1`` on (eq. 14).

        ``discount_rate`` is the rate per opportunity; the transaction at
        opportunity ``T + k`` is discounted by ``(1 + discount_rate)^-k``.

        Args:
            frequency: the number of opportunities with a transaction, ``x`` (an integer or array).
            recency: the opportunity of the last transaction, ``t_x`` (0 without any).
            T: the number of opportunities observed, ``n``.
            discount_rate: the discount rate per opportunity, > 0 (``0.1`` = 10 %).

        Examples:
            >>> model = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
            >>> dert = model.discounted_expected_transactions(6, 6, 6, discount_rate=0.1)
            >>> bool(dert > model.conditional_expected_purchases(5, 6, 6, 6) * 0.6)
            True
        """
        a, b, g, d = self._values()
        x, t_x, n = self._history(frequency, recency, T)
        rate = check_rate(discount_rate)
        log_front = (
            special.betaln(a + x + 1, b + n - x)
            - special.betaln(a, b)
            + special.betaln(g, d + n + 1)
            - special.betaln(g, d)
            - np.log1p(rate)
            - _log_likelihood(a, b, g, d, x, t_x, n)
        )
        hyp = special.hyp2f1(1.0, d + n + 1, g + d + n + 1, 1 / (1 + rate))
        result: np.ndarray = np.exp(log_front) * hyp
        return result
