"""The Gamma-Gamma model of spend per transaction."""

from __future__ import annotations

from typing import Self, final

import numpy as np
import pandas as pd
from scipy import special

from crmlifecycle.errors import DataError
from crmlifecycle.metrics.clv._base import (
    FittedModel,
    Objective,
    as_float_arrays,
    collapse,
    read_summary,
)
from crmlifecycle.metrics.clv._columns import SummaryColumns

__all__ = ["GammaGammaModel"]


@final
class GammaGammaModel(FittedModel):
    """
    The Gamma-Gamma model of the value of a customer's transactions.

    Each transaction of a customer is gamma(``p``, ``nu``) distributed; ``nu``
    is gamma(``q``, ``gamma``) across customers, independent of the purchase
    process. Fitted on the customers with at least one repeat purchase, from
    their number of repeat purchases ``x`` and mean repeat-purchase value
    ``m_x`` (``frequency`` and ``monetary_value`` of :func:`rfm_summary`).

    Sources: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
    for Customer Base Analysis", *Journal of Marketing Research* 42(4);
    Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
    (brucehardie.com, note 025), eq. 1 (likelihood) and eq. 5 (conditional
    expectation).

    Log-likelihood convention: ``log_likelihood_`` is the sum of the log
    density of the customers' *average* spend ``m_x`` (note 025, eq. 1). The
    density of their *total* spend ``x * m_x`` differs by ``-sum(log x)``
    (``log_likelihood_total_``). The gradient is analytic.

    Examples:
        >>> from crmlifecycle.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> model = GammaGammaModel().fit(summary)
        >>> model.params_.round(2).to_dict()
        {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
        >>> model.conditional_expected_spend([2, 0], [22.35, 0.0]).round(1).tolist()
        [24.7, 35.2]
    """

    _param_names = ("p", "q", "gamma")
    _identification_hint = (
        "the Gamma-Gamma model needs many repeat buyers whose mean spends differ; fit on more"
        " customers, or use a constant spend per purchase in customer_lifetime_value"
    )

    def __init__(self) -> None:
        super().__init__()
        self.log_likelihood_total_: float = float("nan")

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        summary_columns: SummaryColumns = SummaryColumns(),
        weighted: bool = False,
    ) -> Self:
        """
        Fit by maximum likelihood on the customers with ``frequency > 0``.

        The columns ``frequency`` and ``monetary_value`` are read through
        ``summary_columns``; ``weighted=True`` also reads its ``weight`` column.

        Args:
            summary: one row per customer (or per distinct history, with ``weighted``), e.g.
                from :func:`rfm_summary`; rows with ``frequency`` 0 are ignored; not modified.
            summary_columns: the columns of ``summary`` (``frequency``, ``monetary_value``,
                and ``weight`` with ``weighted``).
            weighted: read the ``weight`` column as the number of customers each row stands for
                (``False``: each row is one customer).

        Raises:
            DataError: missing or malformed columns; a repeat buyer whose
                monetary value is not > 0; no repeat buyers at all.
            FitError: when the optimiser does not converge.
        """
        cols = summary_columns
        values, weights = read_summary(
            summary,
            {"x": cols.frequency, "m": cols.monetary_value},
            weights_col=cols.weight if weighted else None,
        )
        repeat = values["x"] > 0
        if not bool(repeat.any()):
            raise DataError(
                "no customer has a repeat purchase, so there is no spend to model. "
                "Hint: the Gamma-Gamma model needs customers with frequency > 0."
            )
        bad = repeat & (values["m"] <= 0)
        if bool(bad.any()):
            raise DataError.malformed(
                cols.monetary_value,
                "must be > 0 for customers with repeat purchases",
                rows=list(summary.index[bad][:20]),
                hint="drop zero-value repeat purchases or those customers first.",
            )
        (x, m), w = collapse([values["x"][repeat], values["m"][repeat]], weights[repeat])
        total = float(w.sum())
        mean_m = float(np.average(m, weights=w))
        self._maximise(
            self._objective(x, m, w, total),
            [[1.0, 2.0, mean_m], [5.0, 3.0, mean_m * 2], [1.0, 1.0, 1.0]],
            total,
        )
        self.log_likelihood_total_ = self.log_likelihood_ - float(w @ np.log(x))
        self.n_customers_ = total
        self.n_rows_ = len(w)
        return self

    @staticmethod
    def _objective(x: np.ndarray, m: np.ndarray, w: np.ndarray, total: float) -> Objective:
        log_m = np.log(m)
        log_x = np.log(x)

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, g = np.exp(log_params)
            px = p * x
            log_gxm = np.log(g + x * m)
            ll = (
                special.gammaln(px + q)
                - special.gammaln(px)
                - special.gammaln(q)
                + q * np.log(g)
                + (px - 1) * log_m
                + px * log_x
                - (px + q) * log_gxm
            )
            psi_pq = special.digamma(px + q)
            g_p = x * (psi_pq - special.digamma(px) + log_m + log_x - log_gxm)
            g_q = psi_pq - special.digamma(q) + np.log(g) - log_gxm
            g_g = q / g - (px + q) / (g + x * m)
            grad = np.array([w @ g_p, w @ g_q, w @ g_g]) * np.array([p, q, g])
            return -float(w @ ll) / total, -grad / total

        return objective

    def expected_spend(self) -> float:
        """
        Mean spend per transaction across customers, ``p gamma / (q - 1)`` (infinite if q <= 1).

        Examples:
            >>> round(GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44).expected_spend(), 2)
            35.22
        """
        p = self._fitted()
        q = float(p["q"])
        return float(p["p"] * p["gamma"] / (q - 1)) if q > 1 else float("inf")

    def conditional_expected_spend(self, frequency: object, monetary_value: object) -> np.ndarray:
        """
        Expected spend per transaction of a customer with ``x`` repeat purchases of mean ``m_x``.

        ``p (gamma + x m_x) / (p x + q - 1)`` (note 025, eq. 5): a weighted
        average of the population mean and the customer's own mean. Customers
        with ``x = 0`` get the population mean.

        Args:
            frequency: the number of repeat purchases, ``x`` (a number or an array).
            monetary_value: the mean spend of those repeat purchases, ``m_x``, in currency
                units (ignored where ``x = 0``).

        Raises:
            DataError: when ``q <= 1`` (the population mean does not exist).

        Examples:
            >>> model = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
            >>> model.conditional_expected_spend([0, 1, 6], [0.0, 11.77, 68.33]).round(2).tolist()
            [35.22, 18.92, 66.08]
        """
        params = self._fitted()
        p, q, g = float(params["p"]), float(params["q"]), float(params["gamma"])
        if q <= 1:
            raise DataError(
                f"the fitted q = {q:.4g} <= 1, so the expected spend is infinite. "
                "Hint: the spend distribution is too heavy-tailed for this model; "
                "remove outliers or model spend another way."
            )
        x, m = as_float_arrays(frequency=frequency, monetary_value=monetary_value)
        result: np.ndarray = p * (g + x * m) / (p * x + q - 1)
        return result
