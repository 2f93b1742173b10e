"""
Historic customer lifetime value: the subscription formula and the order-based formula.

Both are *historic* (averages of the past projected forward under a constant
rate); the predictive models (BG/NBD, Gamma-Gamma, sBG) live in
``crmlifecycle.metrics.clv``. Fader & Hardie (2007), "How to Project Customer
Retention", *Journal of Interactive Marketing* 21(1), show why a constant churn
rate understates the value of a cohort: aggregate retention rises over time as
the loyal customers remain. The orders frame is read through an
:class:`~crmlifecycle.schema.OrderColumns` record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import pandas as pd

from crmlifecycle._finite import NS_PER_DAY, elapsed, ensure_finite, finite_sum
from crmlifecycle._frames import check_numeric, require_columns, utc_timestamp, utc_window
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    check_by,
    check_fraction,
    check_non_negative,
    check_unique,
    ordinals_to_periods,
    period_ordinals,
    safe_divide,
    segment_keys,
    utc_values,
)
from crmlifecycle.schema import OrderColumns

__all__ = ["average_order_value", "historic_clv", "order_based_clv"]

_DAYS_PER_YEAR = 365.25


def historic_clv(arpu: float, *, gross_margin: float, churn_rate: float) -> float:
    """
    Historic CLV of the subscription form: ARPU × gross margin ÷ churn rate.

    Definition (the subscription form of historic CLV, discussed by Fader &
    Hardie 2007, "How to Project Customer Retention"): the margin a customer brings per
    period times the expected number of periods it stays (``1 / churn`` under a
    constant churn rate, a geometric lifetime). ``arpu`` and ``churn_rate``
    must use the *same* period (monthly ARPU with monthly churn). Assumptions:
    constant churn and constant ARPU, no discounting; Fader & Hardie (2007)
    warn that a constant rate understates long-run value. NaN when
    ``churn_rate`` is 0 (the formula is undefined: no churn observed).

    Args:
        arpu: the average revenue per customer per period (see :func:`~crmlifecycle.metrics.arpu`).
        gross_margin: the fraction of revenue kept as gross profit, in [0, 1].
        churn_rate: the fraction of customers lost per period (the period of ``arpu``),
            in [0, 1].

    Raises:
        ValidationError: negative ARPU, a margin or rate outside [0, 1], or a
            NaN input (an undefined ARPU or churn rate upstream, e.g. nobody
            paid or nobody was present at the start: decide what it should be).
        DataError: the result overflows a 64-bit float (a huge ARPU over a tiny churn rate).

    Examples:
        >>> historic_clv(100.0, gross_margin=0.8, churn_rate=0.02)  # 100 * 0.8 / 0.02
        4000.0
    """
    revenue = check_non_negative(arpu, "arpu")
    margin = check_fraction(gross_margin, "gross_margin")
    churn = check_fraction(churn_rate, "churn_rate")
    if churn == 0:
        return math.nan
    return ensure_finite(
        revenue * margin / churn, name="historic_clv", inputs=["arpu", "gross_margin", "churn_rate"]
    )


def _orders(orders: pd.DataFrame, cols: OrderColumns, by: list[str]) -> tuple[pd.Series, pd.Series]:
    order_col, customer_col, at_col, amount_col = (
        cols.order_id,
        cols.customer_id,
        cols.at,
        cols.amount,
    )
    require_columns(orders, [order_col, customer_col, at_col, amount_col, *by], frame_name="orders")
    # a customer id is a segment of orders (average order value per customer)
    check_by(orders, by, frame_name="orders", roles=(order_col, at_col, amount_col))
    check_unique(orders, [order_col], frame_name="orders")
    check_ids(orders, customer_col, frame_name="orders", what="customer ids")
    amounts = check_numeric(orders[amount_col], amount_col, non_negative=True)
    finite_sum(amounts, name="the sum of the order amounts", inputs=[amount_col])
    return amounts, utc_values(orders, at_col)


@overload
def average_order_value(
    orders: pd.DataFrame,
    *,
    orders_columns: OrderColumns = ...,
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def average_order_value(
    orders: pd.DataFrame,
    *,
    orders_columns: OrderColumns = ...,
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def average_order_value(
    orders: pd.DataFrame,
    *,
    orders_columns: OrderColumns = ...,
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def average_order_value(
    orders: pd.DataFrame,
    *,
    orders_columns: OrderColumns = OrderColumns(),
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Average order value: Σ order amounts ÷ number of orders.

    Order ids must be unique and amounts present and ≥ 0. With ``freq``/``by``
    the columns are ``period``, ``by``, ``revenue``, ``orders`` and
    ``average_order_value``. NaN when there is no order. The columns of
    ``orders`` are read through ``orders_columns`` (``order_id``,
    ``customer_id``, ``at``, ``amount``).

    Args:
        orders: one row per order; not modified.
        orders_columns: the columns of ``orders`` (``order_id``, ``customer_id``, ``at`` and
            ``amount`` are read).
        freq: one row per calendar period (``"M"``, ``"Q"``, ...) holding the order's ``at``.
        by: one row per segment (columns of ``orders``).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        DataError: the sum of the amounts overflows a 64-bit float (amounts near 1e308).

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"],
        ...     "at": pd.to_datetime(["2026-01-03", "2026-02-09", "2026-02-10"], utc=True),
        ...     "amount": [30.0, 50.0, 100.0],
        ... })
        >>> average_order_value(orders)  # 180 / 3
        60.0
        >>> average_order_value(orders, freq="M")
            period  revenue  orders  average_order_value
        0  2026-01     30.0       1                 30.0
        1  2026-02    150.0       2                 75.0
    """
    keys = segment_keys(by)
    amounts, at = _orders(orders, orders_columns, keys)
    if freq is None and by is None:
        return math.nan if len(amounts) == 0 else float(amounts.sum()) / len(amounts)
    frame = orders[keys].copy()
    frame["amount"] = amounts.to_numpy()
    group = list(keys)
    if freq is not None:
        frame["_ordinal"] = period_ordinals(at, freq)
        group = ["_ordinal", *keys]
    table = frame.groupby(group, sort=True, as_index=False, observed=True).agg(
        revenue=("amount", "sum"), orders=("amount", "size")
    )
    table["average_order_value"] = safe_divide(table["revenue"], table["orders"])
    if freq is not None:
        table.insert(0, "period", ordinals_to_periods(table["_ordinal"].to_numpy(), freq))
        table = table.drop(columns=["_ordinal"])
    return table


def order_based_clv(
    orders: pd.DataFrame,
    *,
    gross_margin: float,
    lifespan_years: float,
    orders_columns: OrderColumns = OrderColumns(),
    start: Instant | None = None,
    end: Instant | None = None,
) -> float:
    """
    Order-based historic CLV: AOV × purchase frequency × margin × expected lifespan.

    The classic retail formula of historic CLV: average order
    value (Σ amount ÷ orders) × purchase frequency (orders per customer per
    year of 365.25 days, over the window ``[start, end)``, by default from
    the first to the last order) × gross margin × expected lifespan in years. Assumptions: every
    customer who ordered in the window stays ``lifespan_years`` and keeps
    buying at the window's average rate and order value; no discounting.
    A window shorter than the typical gap between orders overstates the
    frequency, so prefer a window of at least a year.

    Args:
        orders: one row per order; not modified.
        gross_margin: the margin on revenue, a fraction in [0, 1].
        lifespan_years: the expected customer lifespan, in years.
        orders_columns: the columns of ``orders`` (``order_id``,
            ``customer_id``, ``at`` and ``amount`` are read).
        start: the start of the window (default: the first order).
        end: the end of the window, excluded (default: the last order).

    Raises:
        DataError: duplicate order ids, missing or negative amounts, no order in
            the window, a window of zero length, or amounts (or a result) that
            overflow a 64-bit float.
        ValidationError: a margin outside [0, 1] or a negative lifespan.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "order_id": ["o1", "o2", "o3", "o4"], "customer_id": ["a", "a", "a", "b"],
        ...     "at": pd.to_datetime(["2025-01-10", "2025-05-01", "2025-09-01", "2025-10-01"],
        ...                          utc=True),
        ...     "amount": [50.0, 50.0, 50.0, 50.0],
        ... })
        >>> # AOV 50 x (4 orders / 2 customers / (365 / 365.25) years) x 0.5 x 3 years
        >>> round(order_based_clv(orders, gross_margin=0.5, lifespan_years=3,
        ...                       start="2025-01-01", end="2026-01-01"), 2)
        150.1
    """
    utc_window(start, end)  # the one window check: start before end
    margin = check_fraction(gross_margin, "gross_margin")
    lifespan = check_non_negative(lifespan_years, "lifespan_years")
    amounts, at = _orders(orders, orders_columns, [])
    mask = pd.Series(data=True, index=at.index)
    if start is not None:
        mask &= at >= utc_timestamp(start, name="start")
    if end is not None:
        mask &= at < utc_timestamp(end, name="end")
    if not bool(mask.any()):
        raise DataError("order_based_clv: no order in the window. Hint: widen start=/end=.")
    begin = utc_timestamp(start, name="start") if start is not None else at[mask].min()
    finish = utc_timestamp(end, name="end") if end is not None else at[mask].max()
    years = float(elapsed(finish, begin, unit_ns=NS_PER_DAY)[0]) / _DAYS_PER_YEAR
    if years <= 0:
        raise DataError(
            "order_based_clv: the window has zero length (all orders at one instant). "
            "Hint: pass start= and end= to say which period the orders cover."
        )
    window = amounts[mask]
    n_orders = len(window)
    customers = int(orders.loc[mask.to_numpy(), orders_columns.customer_id].nunique())
    aov = float(window.sum()) / n_orders
    frequency = n_orders / customers / years
    return ensure_finite(
        aov * frequency * margin * lifespan,
        name="order_based_clv",
        inputs=[orders_columns.amount, "gross_margin", "lifespan_years"],
    )
