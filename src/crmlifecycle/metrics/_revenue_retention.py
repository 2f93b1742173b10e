"""
Gross and net revenue retention (GRR, NRR) of the customers present at a start period.

Definitions (the common SaaS convention, as in Skok, "SaaS Metrics 2.0 - A Guide
to Measuring and Improving What Matters"): gross revenue retention is
Σ min(revenue now, revenue at start) ÷ Σ revenue at start over the customers
present at the start (so GRR ≤ 100%); net revenue retention is Σ revenue now
÷ Σ revenue at start over the same customers (new customers excluded; may
exceed 100%). Period by period (``freq=``) both are read from the MRR
movements of ``_revenue.py``. The revenue frame is read through a
:class:`~crmlifecycle.schema.RevenueColumns` record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import pandas as pd

from crmlifecycle._frames import utc_timestamp, utc_window
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.metrics._common import ratio, safe_divide, segment_keys, timestamp_ordinal
from crmlifecycle.metrics._revenue import mrr_movements, revenue_rows
from crmlifecycle.schema import RevenueColumns

__all__ = ["gross_revenue_retention", "net_revenue_retention"]

_ORDINAL = "_ordinal"


def _start_end_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns,
    data_freq: str,
    start: Instant,
    end: Instant,
    by: list[str],
) -> pd.DataFrame:
    customer_col = revenue_columns.customer_id
    rows = revenue_rows(revenue, revenue_columns=revenue_columns, data_freq=data_freq, by=by)
    first = timestamp_ordinal(utc_timestamp(start, name="start"), data_freq)
    last = timestamp_ordinal(utc_timestamp(end, name="end"), data_freq)
    if last <= first:
        raise DataError(
            f"end={short_repr(end)} must fall in a later period than start={short_repr(start)}."
        )
    base = rows.loc[rows[_ORDINAL] == first, [customer_col, *by, "v"]]
    now = rows.loc[rows[_ORDINAL] == last, [customer_col, "v"]]
    table = base.merge(now, on=customer_col, how="left", suffixes=("_start", "_end"))
    table["v_end"] = table["v_end"].fillna(0.0)
    table["retained_mrr"] = np.minimum(table["v_start"], table["v_end"])
    return table.rename(columns={"v_start": "starting_mrr", "v_end": "ending_mrr"})


def _retention(
    revenue: pd.DataFrame,
    column: str,
    numerator: str,
    *,
    revenue_columns: RevenueColumns,
    data_freq: str,
    start: Instant | None,
    end: Instant | None,
    freq: str | None,
    by: str | Sequence[str] | None,
) -> float | pd.DataFrame:
    keys = segment_keys(by)
    if freq is not None:
        table = mrr_movements(
            revenue,
            revenue_columns=revenue_columns,
            data_freq=data_freq,
            freq=freq,
            by=keys,
            end=end,
        )
        if numerator == "ending_mrr":
            table["ending_mrr"] = table["nrr"] * table["starting_mrr"]
        table = table[["period", *keys, "starting_mrr", numerator, column]]
        return table.rename(columns={"ending_mrr": "cohort_mrr"})
    utc_window(start, end)  # the one window check: start before end
    if start is None or end is None:
        raise DataError(
            f"{column} without freq compares two periods: pass start= and end=. "
            "Hint: e.g. start='2025-01-01', end='2026-01-01' for a year, or freq='M'."
        )
    table = _start_end_retention(
        revenue,
        revenue_columns=revenue_columns,
        data_freq=data_freq,
        start=start,
        end=end,
        by=keys,
    )
    if by is None:
        totals = float(table[numerator].sum()), float(table["starting_mrr"].sum())
        return ratio(*totals, name=column, inputs=[numerator, "starting_mrr"])
    sums = table.groupby(keys, sort=True, as_index=False, observed=True)[
        ["starting_mrr", numerator]
    ].sum()
    sums[column] = safe_divide(sums[numerator], sums["starting_mrr"])
    return sums.rename(columns={"ending_mrr": "cohort_mrr"})


@overload
def gross_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def gross_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def gross_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def gross_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = RevenueColumns(),
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Gross revenue retention (GRR), always ≤ 100%.

    Definition (the common SaaS convention): Σ min(revenue at end, revenue at start) ÷
    Σ revenue at start over the customers with revenue in the start period;
    each customer is capped at its starting revenue, so expansion never
    offsets churn. Without ``freq`` it compares the data period holding
    ``start`` with the one holding ``end`` (e.g. a year apart); with ``freq``
    it compares every period with the previous one (columns ``period``,
    ``by``, ``starting_mrr``, ``retained_mrr``, ``grr``); with only ``by``
    one row per segment. NaN when there was no revenue at the start.

    Args:
        revenue: one row per customer and data period; not modified.
        revenue_columns: the columns of ``revenue`` (``customer_id``,
            ``period`` and ``mrr`` are read).
        data_freq: the period each row of ``revenue`` covers.
        start: an instant in the start period (without ``freq``).
        end: an instant in the end period (without ``freq``); with ``freq``,
            report the periods before it.
        freq: compare every period of this length with the previous one.
        by: one result per segment (columns constant per customer).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        DataError: revenue whose sum, or whose ratio to a tiny starting MRR, overflows a
            64-bit float.

    Examples:
        >>> import pandas as pd
        >>> subs = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "c"],
        ...     "period": pd.to_datetime(
        ...         ["2025-01-01", "2026-01-01", "2025-01-01", "2026-01-01"], utc=True),
        ...     "mrr": [100.0, 300.0, 100.0, 50.0],
        ... })
        >>> # start cohort {a, b}: min(300, 100) + min(0, 100) = 100 of 200 (c is new)
        >>> gross_revenue_retention(subs, start="2025-01-01", end="2026-01-01")
        0.5
    """
    return _retention(
        revenue,
        "grr",
        "retained_mrr",
        revenue_columns=revenue_columns,
        data_freq=data_freq,
        start=start,
        end=end,
        freq=freq,
        by=by,
    )


@overload
def net_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def net_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def net_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def net_revenue_retention(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = RevenueColumns(),
    data_freq: str = "M",
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Net revenue retention (NRR), may exceed 100%.

    Definition (the common SaaS convention): Σ revenue at end ÷ Σ revenue at start over the
    customers with revenue in the start period (new customers excluded, so
    only expansion can lift it above 100%). Same periods, ``by`` and NaN rule
    as :func:`gross_revenue_retention`; with ``freq`` the columns are
    ``period``, ``by``, ``starting_mrr``, ``cohort_mrr`` and ``nrr``.

    Args:
        revenue: one row per customer and data period; not modified.
        revenue_columns: the columns of ``revenue`` (``customer_id``,
            ``period`` and ``mrr`` are read).
        data_freq: the period each row of ``revenue`` covers.
        start: an instant in the start period (without ``freq``).
        end: an instant in the end period (without ``freq``); with ``freq``,
            report the periods before it.
        freq: compare every period of this length with the previous one.
        by: one result per segment (columns constant per customer).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        DataError: revenue whose sum, or whose ratio to a tiny starting MRR, overflows a
            64-bit float.

    Examples:
        >>> import pandas as pd
        >>> subs = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "c"],
        ...     "period": pd.to_datetime(
        ...         ["2025-01-01", "2026-01-01", "2025-01-01", "2026-01-01"], utc=True),
        ...     "mrr": [100.0, 300.0, 100.0, 50.0],
        ... })
        >>> net_revenue_retention(subs, start="2025-01-01", end="2026-01-01")  # 300 / 200
        1.5
    """
    return _retention(
        revenue,
        "nrr",
        "ending_mrr",
        revenue_columns=revenue_columns,
        data_freq=data_freq,
        start=start,
        end=end,
        freq=freq,
        by=by,
    )
