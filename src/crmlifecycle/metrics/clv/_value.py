"""
Customer lifetime value from fitted models, and holdout evaluation.

Both read an RFM summary (or a calibration/holdout frame) through a column-spec
record: :class:`~crmlifecycle.metrics.clv.SummaryColumns`,
:class:`~crmlifecycle.metrics.clv.HoldoutColumns`.
"""

from __future__ import annotations

from typing import Any, Final, Protocol, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._frames import require_columns
from crmlifecycle.errors import FitError
from crmlifecycle.metrics.clv._base import (
    check_horizon,
    check_margin,
    check_rate,
    check_spend,
    numeric_columns,
)
from crmlifecycle.metrics.clv._columns import HoldoutColumns, SummaryColumns
from crmlifecycle.metrics.clv._gammagamma import GammaGammaModel

__all__ = [
    "HoldoutEvaluation",
    "TransactionForecaster",
    "customer_lifetime_value",
    "evaluate_holdout",
]


class TransactionForecaster(Protocol):
    """Anything with the conditional expectation of BG/NBD, Pareto/NBD and BG/BB."""

    def conditional_expected_purchases(
        self,
        t: Any,
        frequency: Any,
        recency: Any,
        T: Any,
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` time units given a history."""


#: customers x steps evaluated at once (bounds the memory whatever the horizon)
_CELLS: Final = 1 << 18
#: most steps per block (the sum can stop after any block)
_BLOCK_STEPS: Final = 512
#: the discounted sum stops once what is left is below this share of it (a rigorous bound)
_TAIL: Final = 1e-15


def _discounted_purchases(
    transactions: TransactionForecaster,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    *,
    horizon: float,
    step: float,
    steps: int,
    rate: float,
) -> np.ndarray:
    """
    ``sum_k (E[Y(t_k)] - E[Y(t_(k-1))]) / (1+rate)^t_k`` per customer, in linear cost.

    Without discounting the sum telescopes to ``E[Y(horizon)]``: one evaluation.
    With it, the steps are taken in blocks of bounded size; since the increments
    are >= 0 and the discount factors fall, what is left after step ``K`` is at
    most ``(E[Y(horizon)] - E[Y(t_K)]) / (1+rate)^t_K``, and the sum stops once
    that is below ``1e-15`` of it for every customer.
    """

    def cumulative(ends: np.ndarray) -> np.ndarray:
        return np.asarray(
            transactions.conditional_expected_purchases(
                ends[None, :], x[:, None], t_x[:, None], big_t[:, None]
            ),
            dtype="float64",
        )

    at_horizon = cumulative(np.array([float(horizon)]))[:, 0]
    if rate == 0 or x.size == 0:
        return at_horizon
    block = max(1, min(_BLOCK_STEPS, _CELLS // x.size))
    total = np.zeros(x.size)
    previous = np.zeros(x.size)
    for first in range(0, steps, block):
        ends = np.minimum(np.arange(first + 1, min(first + block, steps) + 1) * step, horizon)
        values = cumulative(ends)
        increments = np.diff(values, axis=1, prepend=previous[:, None])
        total += increments @ (1 + rate) ** -ends
        previous = values[:, -1]
        left = (at_horizon - previous) * (1 + rate) ** -ends[-1]
        if bool(np.all(left <= _TAIL * np.abs(total))):
            break
    return total


def customer_lifetime_value(
    transactions: TransactionForecaster,
    spend: GammaGammaModel | float,
    summary: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    step: float = 1.0,
    margin: float = 1.0,
    summary_columns: SummaryColumns = SummaryColumns(),
) -> pd.Series:
    """
    Expected discounted value of each customer's purchases over an explicit horizon.

    ``CLV = margin * E[spend per purchase] * sum_k (E[Y(t_k)] - E[Y(t_(k-1))]) / (1+d)^(t_k)``
    with ``t_k = min(k * step, horizon)``: the expected purchases of each step
    (from the transaction model's conditional expectation) are valued at the
    expected spend per purchase (Gamma-Gamma conditional expectation, or a
    constant) and discounted from the end of their step. Everything is in the
    *summary's time unit*: ``horizon`` and ``step`` are counted in it and
    ``discount_rate`` is the rate per one unit (0.1 a year is
    ``1.1 ** (1 / 52) - 1`` a week). Nothing is rescaled behind your back.
    This is the discounted-expected-transactions construction of Fader, Hardie
    & Lee (2005), "RFM and CLV", *Journal of Marketing Research* 42(4),
    truncated at ``horizon``.

    Args:
        transactions: a fitted transaction model (BG/NBD, Pareto/NBD, BG/BB).
        spend: a fitted Gamma-Gamma model, or a constant value per purchase.
        summary: one row per customer (see :func:`rfm_summary`); not modified.
        horizon: how far ahead to value purchases, in the summary's time unit (> 0).
        discount_rate: the discount rate per time unit, from 0 (none) to 1 (100 %).
        step: the length of the discounting steps, in the summary's time unit (> 0); at most
            ``MAX_STEPS`` = 10,000 steps (``ceil(horizon / step)``).
        margin: the share of the spend that is value (e.g. a gross margin of 0.3), 0 to 1.
        summary_columns: the columns of ``summary`` (``frequency``,
            ``recency``, ``T``; ``monetary_value`` with a Gamma-Gamma ``spend``).

    The cost is linear in the number of steps and bounded in memory: without
    discounting the sum telescopes to ``E[Y(horizon)]`` (one evaluation); with
    it, the steps are evaluated in blocks and the sum stops once what the
    remaining steps could add, at most ``(E[Y(horizon)] - E[Y(t_K)]) /
    (1+d)^(t_K)``, is below 1e-15 of it. Customers with the same history
    ``(frequency, recency, T)`` are computed once.

    Raises:
        ValidationError: naming ``horizon``, ``step``, ``discount_rate``, ``margin``
            or ``spend``: not a number, NaN or infinite, out of its range (horizon and
            step > 0, discount rate 0 to 1, margin 0 to 1, a constant spend >= 0), or
            more than 10,000 steps.
        DataError: missing or malformed columns.
        FitError: the models give a non-finite value for some customer (never a silent NaN).

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.metrics.clv import BGNBDModel, GammaGammaModel
        >>> bgnbd = BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> gg = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
        >>> summary = pd.DataFrame(
        ...     {"frequency": [2], "recency": [30.43], "T": [38.86], "monetary_value": [22.35]}
        ... )
        >>> clv = customer_lifetime_value(bgnbd, gg, summary, horizon=52, discount_rate=0.0)
        >>> round(float(clv.iloc[0]), 2) == round(
        ...     float(bgnbd.conditional_expected_purchases(52, 2, 30.43, 38.86)[()])
        ...     * float(gg.conditional_expected_spend(2, 22.35)[()]), 2)
        True
    """
    steps = check_horizon(horizon, step)
    rate = check_rate(discount_rate, allow_zero=True)
    share = check_margin(margin)
    cols = summary_columns
    columns = [cols.frequency, cols.recency, cols.T]
    if isinstance(spend, GammaGammaModel):
        columns.append(cols.monetary_value)
    require_columns(summary, columns, frame_name="summary")
    x, t_x, big_t = numeric_columns(summary, cols.frequency, cols.recency, cols.T)
    if isinstance(spend, GammaGammaModel):
        (m,) = numeric_columns(summary, cols.monetary_value)
        value = spend.conditional_expected_spend(x, m)
    else:
        value = np.full(len(summary), check_spend(spend))
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite values are caught below
        # customers with the same history have the same expectation: compute each history once
        histories, row = np.unique(np.column_stack([x, t_x, big_t]), axis=0, return_inverse=True)
        discounted = _discounted_purchases(
            transactions, *histories.T, horizon=horizon, step=step, steps=steps, rate=rate
        )[row.ravel()]
        result = share * value * discounted
    bad = ~np.isfinite(result)
    if bad.any():
        raise FitError(
            f"CLV is not finite for {int(bad.sum())} of {len(result)} customers "
            f"(e.g. row {summary.index[bad][0]!r}). Hint: the fitted parameters are at an "
            "extreme; check the models' diagnostics_ and refit on more data.",
            diagnostics={"rows": list(summary.index[bad][:20])},
        )
    return pd.Series(result, index=summary.index, name="clv")


@final
@attrs.frozen
class HoldoutEvaluation:
    """
    Predicted vs actual purchases in a holdout period.

    Attributes:
        customers: per customer ``frequency`` (calibration), ``actual`` and
            ``predicted`` holdout purchases.
        by_frequency: per calibration frequency (the last row groups
            ``max_frequency`` and more): customers, mean actual, mean predicted.
        metrics: ``customers``, ``actual_total``, ``predicted_total``,
            ``total_error_pct`` (predicted vs actual total, in %), ``mae``,
            ``rmse`` and ``correlation`` of the per-customer numbers.
    """

    customers: pd.DataFrame
    by_frequency: pd.DataFrame
    metrics: dict[str, float]


def evaluate_holdout(
    model: TransactionForecaster,
    holdout: pd.DataFrame,
    *,
    holdout_columns: HoldoutColumns = HoldoutColumns(),
    max_frequency: int = 7,
) -> HoldoutEvaluation:
    """
    Compare a model's conditional expectations with the purchases made in the holdout.

    ``holdout`` is the output of :func:`calibration_holdout` (or any frame
    with the same columns, named through ``holdout_columns``). This is the
    validation of Fader, Hardie & Lee (2005), *Marketing Science* 24(2),
    Figure 4: mean holdout purchases by calibration frequency, predicted vs
    actual.

    Args:
        model: a fitted model with ``conditional_expected_purchases(t, frequency, recency, T)``
            (BG/NBD, Pareto/NBD...).
        holdout: one row per customer: the calibration history and the holdout purchases
            and duration; not modified.
        holdout_columns: the columns of ``holdout`` (``frequency``, ``recency``, ``T``,
            ``frequency_holdout`` and ``duration_holdout``).
        max_frequency: calibration frequencies from this one up are pooled into one group
            of the by-frequency table (Figure 4 pools 7 and more).

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.metrics.clv import BGNBDModel
        >>> model = BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> frame = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86] * 2,
        ...                       "frequency_holdout": [0, 1], "duration_holdout": [39.0] * 2})
        >>> evaluation = evaluate_holdout(model, frame)
        >>> evaluation.metrics["actual_total"]
        1.0
    """
    cols = holdout_columns
    names = [cols.frequency, cols.recency, cols.T, cols.frequency_holdout, cols.duration_holdout]
    require_columns(holdout, names, frame_name="holdout")
    x, t_x, big_t, actual, duration = numeric_columns(holdout, *names)
    predicted = np.asarray(model.conditional_expected_purchases(duration, x, t_x, big_t))
    customers = pd.DataFrame(
        {"frequency": x.astype("int64"), "actual": actual, "predicted": predicted},
        index=holdout.index,
    )
    bucket = customers["frequency"].clip(upper=max_frequency)
    by_frequency = customers.groupby(bucket).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    error = predicted - actual
    total_actual = float(actual.sum())
    correlation = (
        float(np.corrcoef(actual, predicted)[0, 1])
        if len(actual) > 1 and actual.std() > 0 and predicted.std() > 0
        else float("nan")
    )
    metrics = {
        "customers": float(len(actual)),
        "actual_total": total_actual,
        "predicted_total": float(predicted.sum()),
        "total_error_pct": (
            100 * (float(predicted.sum()) - total_actual) / total_actual
            if total_actual
            else float("nan")
        ),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "correlation": correlation,
    }
    return HoldoutEvaluation(customers=customers, by_frequency=by_frequency, metrics=metrics)
