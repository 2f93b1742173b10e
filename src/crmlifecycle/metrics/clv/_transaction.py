"""Shared fitting and prediction front end of the continuous-time transaction models."""

from __future__ import annotations

import contextlib
import math
from typing import Final, Self

import numpy as np
import pandas as pd

from crmlifecycle._validators import check_real
from crmlifecycle.errors import DataError, FitError, ValidationError
from crmlifecycle.metrics.clv._base import HistoryModel, Objective, collapse, read_summary
from crmlifecycle.metrics.clv._columns import SummaryColumns

__all__ = ["RFMData", "TransactionModel"]

#: above this many distinct rows, a fit on a subsample of this size gives the starting point
_WARM_START_ROWS: Final = 20_000


class RFMData:
    """Collapsed (frequency, recency, T) rows with weights, plus per-unique-x lookups."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, t: np.ndarray, weights: np.ndarray) -> None:
        (self.x, self.t_x, self.t), self.w = collapse([x, t_x, t], weights)
        self.total = float(self.w.sum())
        self.xu, self.xi = np.unique(self.x, return_inverse=True)
        self.repeat = self.x > 0


class TransactionModel(HistoryModel):
    """Front end shared by BG/NBD and Pareto/NBD: fit on an RFM summary, predict per customer."""

    def _objective(self, data: RFMData) -> Objective:
        raise NotImplementedError

    def _starts(self, data: RFMData) -> list[list[float]]:
        raise NotImplementedError

    @staticmethod
    def _check_history(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> None:
        if bool(np.any(x != np.round(x))):
            raise DataError("frequency must hold whole numbers. Hint: use rfm_summary()'s column.")
        late = t_x > big_t * (1 + 1e-12) + 1e-12
        if bool(np.any(late)):
            raise DataError(
                f"recency is larger than T for {int(late.sum())} customer(s) "
                f"(e.g. recency={float(t_x[late].flat[0])}, T={float(big_t[late].flat[0])}). "
                "Hint: recency is the time of the last repeat purchase, T the time of the end of "
                "the observation period, both counted from the first purchase."
            )
        lone = (x == 0) & (t_x > 0)
        if bool(np.any(lone)):
            raise DataError(
                f"{int(lone.sum())} customer(s) have frequency 0 but recency > 0. "
                "Hint: recency is 0 for customers without a repeat purchase (see rfm_summary)."
            )

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        summary_columns: SummaryColumns = SummaryColumns(),
        weighted: bool = False,
    ) -> Self:
        """
        Fit by maximum likelihood on an RFM summary (see :func:`rfm_summary`).

        Identical (frequency, recency, T) rows are collapsed into one row with
        a weight before fitting; ``weighted=True`` reads explicit row weights
        (numbers of customers, as in a published summary table) from the
        ``weight`` column of ``summary_columns``. The columns ``frequency``,
        ``recency`` and ``T`` are read through ``summary_columns``.

        Args:
            summary: one row per customer (or per distinct history, with ``weighted``), e.g.
                from :func:`rfm_summary`; not modified.
            summary_columns: the columns of ``summary`` (``frequency``, ``recency``, ``T``,
                and ``weight`` with ``weighted``).
            weighted: read the ``weight`` column as the number of customers each row stands for
                (``False``: each row is one customer).

        Returns:
            ``self``, with ``params_``, ``summary``, ``log_likelihood_``,
            ``covariance_`` and ``diagnostics_`` set.

        Raises:
            DataError: missing or malformed columns, recency > T, a repeat-free
                customer with recency > 0.
            FitError: when the optimiser does not converge or a parameter runs
                off to 0 or infinity; ``diagnostics`` lists the attempts.
        """
        cols = summary_columns
        values, weights = read_summary(
            summary,
            {"x": cols.frequency, "t_x": cols.recency, "T": cols.T},
            weights_col=cols.weight if weighted else None,
        )
        self._check_history(values["x"], values["t_x"], values["T"])
        data = RFMData(values["x"], values["t_x"], values["T"], weights)
        if data.total <= 0:
            raise DataError("the weights add up to 0. Hint: give at least one customer weight.")
        starts = self._starts(data)
        scale = None
        if len(data.w) > _WARM_START_ROWS:
            # Start from the fit on a fixed subsample and precondition with its curvature
            # (Cholesky factor of the mean log-likelihood's Hessian in log-parameters): the
            # full data then need only a few iterations.
            pick = np.random.default_rng(0).choice(len(data.w), _WARM_START_ROWS, replace=False)
            sample = RFMData(data.x[pick], data.t_x[pick], data.t[pick], data.w[pick])
            warm = type(self)()
            with contextlib.suppress(FitError, np.linalg.LinAlgError):
                warm._maximise(warm._objective(sample), starts, sample.total)  # noqa: SLF001
                theta = warm._fitted().to_numpy()  # noqa: SLF001 - same class
                assert warm.covariance_ is not None  # noqa: S101 - set by _maximise
                log_cov = warm.covariance_.to_numpy() / np.outer(theta, theta) * sample.total
                scale = np.linalg.cholesky(log_cov)
                starts = [list(theta), *starts]
        self._maximise(
            self._objective(data),
            starts,
            data.total,
            precondition=scale,
        )
        self.n_customers_ = data.total
        self.n_rows_ = len(data.w)
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    def conditional_expected_purchases(
        self,
        t: object,
        frequency: object,
        recency: object,
        T: object,
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` time units given a customer's history."""
        raise NotImplementedError

    def probability_alive(self, frequency: object, recency: object, T: object) -> np.ndarray:
        """Probability that a customer with this history is still active at ``T``."""
        raise NotImplementedError

    def predict(
        self,
        summary: pd.DataFrame,
        *,
        horizon: float,
        summary_columns: SummaryColumns = SummaryColumns(),
    ) -> pd.DataFrame:
        """
        Predict each customer of an RFM summary: P(alive) and purchases in ``horizon``.

        The columns ``frequency``, ``recency`` and ``T`` are read through
        ``summary_columns``.

        Returns:
            A frame with the summary's index and the columns
            ``probability_alive`` and ``expected_purchases`` (in the next
            ``horizon`` time units of the summary).

        Raises:
            ValidationError: ``horizon`` is not a finite number > 0 (naming ``horizon``).
        """
        horizon = check_real("horizon", horizon, hint="the summary's time unit, e.g. horizon=52")
        if not (math.isfinite(horizon) and horizon > 0):
            raise ValidationError.for_field(
                "horizon", horizon, "a finite number > 0", hint="e.g. horizon=52 weeks."
            )
        cols = summary_columns
        values, _ = read_summary(
            summary, {"x": cols.frequency, "t_x": cols.recency, "T": cols.T}, weights_col=None
        )
        x, t_x, big_t = values["x"], values["t_x"], values["T"]
        return pd.DataFrame(
            {
                "probability_alive": self.probability_alive(x, t_x, big_t),
                "expected_purchases": self.conditional_expected_purchases(horizon, x, t_x, big_t),
            },
            index=summary.index,
        )
