"""
Acquisition KPIs: new customers and CAC (blended and paid).

Definitions (David Skok, "SaaS Metrics 2.0 - A Guide to Measuring and Improving
What Matters"): CAC is the sales and marketing spend of a period divided by the
new customers acquired in that period. *Blended* CAC uses all spend and all new
customers (organic ones included); *paid* CAC uses only the spend of paid
campaigns and only the customers attributed to a paid channel. The customers
frame is read through a :class:`~crmlifecycle.schema.CustomerColumns` record, the
spend frame through a :class:`~crmlifecycle.schema.SpendColumns` record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import overload

import numpy as np
import pandas as pd

from crmlifecycle._finite import finite_sum
from crmlifecycle._frames import check_numeric, require_columns, utc_window
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.metrics._common import (
    add_up_partials,
    check_by,
    check_unique,
    compare_periods,
    ordinals_to_periods,
    period_ordinals,
    safe_divide,
    segment_keys,
    segment_names,
    utc_values,
)
from crmlifecycle.metrics._spend import acquired_window, paid_channels_of, spend_period_bounds
from crmlifecycle.schema import CustomerColumns, SpendColumns

__all__ = [
    "cac",
    "combine_new_customers",
    "new_customers",
    "new_customers_partial",
]

_ORDINAL = "_ordinal"


def new_customers_partial(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = CustomerColumns(),
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame:
    """
    Count new customers per period and segment for some customers (the split step).

    Returns additive partial counts: a frame with the ``by`` columns, a
    ``_ordinal`` column (the period ordinal, only with ``freq``) and
    ``new_customers``. Feed the partials of any split of the customers into
    :func:`combine_new_customers`.

    Args:
        customers: all rows of some customers; not modified.
        customers_columns: the columns of ``customers`` (``customer_id`` and
            ``acquired_at`` are read).
        freq: count per calendar period of acquisition.
        by: count per segment (columns of ``customers``).
        start: count only customers acquired at or after this instant.
        end: count only customers acquired before this instant.

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b"],
        ...     "acquired_at": pd.to_datetime(["2026-01-05", "2026-02-01"], utc=True),
        ... })
        >>> new_customers_partial(customers, freq="M")["new_customers"].tolist()
        [1, 1]
    """
    utc_window(start, end)  # the one window check: start before end
    keys = segment_names(by)
    cols = customers_columns
    require_columns(customers, [cols.customer_id, cols.acquired_at, *keys], frame_name="customers")
    check_by(
        customers,
        keys,
        frame_name="customers",
        roles=(cols.customer_id, cols.acquired_at),
    )
    check_unique(customers, [cols.customer_id], frame_name="customers")
    acquired = utc_values(customers, cols.acquired_at)
    frame = customers.loc[acquired_window(acquired, start, end).to_numpy(), keys].copy()
    group = list(keys)
    if freq is not None:
        frame[_ORDINAL] = period_ordinals(acquired[frame.index], freq)
        group.append(_ORDINAL)
    if not group:
        return pd.DataFrame({"new_customers": [len(frame)]})
    counts = frame.groupby(group, sort=True, observed=True).size()
    return counts.rename("new_customers").reset_index()


def combine_new_customers(
    partials: Iterable[pd.DataFrame], *, freq: str | None = None
) -> pd.DataFrame:
    """
    Add up the partial counts of :func:`new_customers_partial` (the combine step).

    Returns a frame with the ``by`` columns, ``period`` (with ``freq``) and
    ``new_customers``.

    Args:
        partials: frames returned by :func:`new_customers_partial`, all computed with the same
            ``freq`` and ``by``.
        freq: the ``freq`` the partials were computed with; turns their ``_ordinal`` column
            into ``period`` (``None``: the partials have no periods).

    Raises:
        ValidationError: ``partials`` is not a non-empty list of frames (naming the item).
        DataError: a partial of another kind (lacking ``new_customers``, or ``_ordinal``
            with ``freq``: a :class:`MissingColumnError`), or counts that are not numbers.

    Examples:
        >>> import pandas as pd
        >>> one = pd.DataFrame({"channel": ["web"], "new_customers": [2]})
        >>> two = pd.DataFrame({"channel": ["web", "ads"], "new_customers": [1, 4]})
        >>> combine_new_customers([one, two])
          channel  new_customers
        0     ads              4
        1     web              3
    """
    frame = add_up_partials(partials, "new_customers", freq=freq, producer="new_customers_partial")
    return _ordinal_to_period(frame, freq)


def _ordinal_to_period(frame: pd.DataFrame, freq: str | None) -> pd.DataFrame:
    if freq is None or _ORDINAL not in frame.columns:
        return frame.reset_index(drop=True)
    periods = ordinals_to_periods(frame[_ORDINAL].to_numpy(), freq)
    frame = frame.drop(columns=[_ORDINAL])
    frame.insert(0, "period", periods)
    return frame.reset_index(drop=True)


@overload
def new_customers(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    freq: None = None,
    by: None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> int: ...
@overload
def new_customers(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    freq: str,
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame: ...
@overload
def new_customers(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    freq: str | None = None,
    by: str | Sequence[str],
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame: ...
def new_customers(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = CustomerColumns(),
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> int | pd.DataFrame:
    """
    Count customers acquired, in total or per period and segment.

    A customer is new in the period holding its ``acquired_at`` timestamp (UTC).
    Customer ids must be unique. This is the split-then-combine pair
    :func:`new_customers_partial` + :func:`combine_new_customers` run on the
    whole frame.

    Args:
        customers: one row per customer; not modified.
        customers_columns: the columns of ``customers`` (``customer_id`` and
            ``acquired_at`` are read).
        freq: count per calendar period (``"M"``, ``"Q"``, ...) of acquisition.
        by: count per segment (columns of ``customers``, e.g. ``"channel"``).
        start: count only customers acquired at or after this instant.
        end: count only customers acquired before this instant.

    Returns:
        An ``int`` without ``freq`` and ``by``; otherwise a frame with ``period``
        (a ``pandas.Period``, with ``freq``), the ``by`` columns and ``new_customers``.

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b", "c"],
        ...     "channel": ["ads", "web", "ads"],
        ...     "acquired_at": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-04-01"], utc=True),
        ... })
        >>> new_customers(customers)
        3
        >>> new_customers(customers, freq="Q", by="channel")
          period channel  new_customers
        0 2026Q1     ads              1
        1 2026Q1     web              1
        2 2026Q2     ads              1
    """
    segment_keys(by)  # refuses by=[] (a table with no segment)
    partial = new_customers_partial(
        customers,
        customers_columns=customers_columns,
        freq=freq,
        by=by,
        start=start,
        end=end,
    )
    result = combine_new_customers([partial], freq=freq)
    if freq is None and by is None:
        return int(result["new_customers"].iloc[0])
    if freq is not None:
        keys = segment_names(by)
        result = result[["period", *keys, "new_customers"]]
        result = result.sort_values(["period", *keys], ignore_index=True)
    return result


@overload
def cac(
    spend: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    spend_columns: SpendColumns = ...,
    customers_columns: CustomerColumns = ...,
    spend_freq: str = "M",
    paid_only: bool = False,
    paid_channels: Collection[str] | None = None,
    freq: None = None,
    by: None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> float: ...
@overload
def cac(
    spend: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    spend_columns: SpendColumns = ...,
    customers_columns: CustomerColumns = ...,
    spend_freq: str = "M",
    paid_only: bool = False,
    paid_channels: Collection[str] | None = None,
    freq: str,
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame: ...
@overload
def cac(
    spend: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    spend_columns: SpendColumns = ...,
    customers_columns: CustomerColumns = ...,
    spend_freq: str = "M",
    paid_only: bool = False,
    paid_channels: Collection[str] | None = None,
    freq: str | None = None,
    by: str | Sequence[str],
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame: ...
def cac(
    spend: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    spend_columns: SpendColumns = SpendColumns(),
    customers_columns: CustomerColumns = CustomerColumns(),
    spend_freq: str = "M",
    paid_only: bool = False,
    paid_channels: Collection[str] | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> float | pd.DataFrame:
    """
    Customer acquisition cost: spend in a period ÷ customers acquired in it.

    Definition (Skok, "SaaS Metrics 2.0"): CAC = sales and marketing spend
    of a period ÷ new customers acquired in the same period.

    Attribution rule: a spend row belongs to the period holding its
    ``period`` timestamp (each row covers one ``spend_freq`` period,
    monthly by default, so ``freq`` may be ``"M"``, ``"Q"`` or ``"Y"`` but not
    finer); a customer belongs to the period holding its ``acquired_at`` and to
    the channel recorded on the customer (the channel of the lead's campaign,
    i.e. the first touch). No lag between spend and acquisition is modelled.

    Window rule: ``start`` and ``end`` (the window ``[start, end)``) must each
    open a ``spend_freq`` period (e.g. the first of a month for monthly
    spend). A month's spend cannot be split, so a window cutting through a
    period would set part of its customers against all of its spend; such a
    window raises :class:`~crmlifecycle.errors.DataError`. Spend rows are then
    kept by their period, customers by ``acquired_at``, which select the same
    periods.

    - Blended CAC (``paid_only=False``): all spend ÷ all new customers
      (organic ones included).
    - Paid CAC (``paid_only=True``): spend rows with ``paid`` true ÷ customers
      whose channel is a paid channel. Paid channels are ``paid_channels`` if
      given, otherwise every channel with a paid spend row.

    With ``by`` (columns present in both frames, typically ``"channel"``) the
    spend and the customers of each segment are matched.

    Args:
        spend: one row per campaign (or channel) and ``spend_freq`` period; not modified.
        customers: one row per customer; not modified.
        spend_columns: the columns of ``spend`` (``period`` and ``spend``; with
            ``paid_only`` also ``channel`` and ``paid``).
        customers_columns: the columns of ``customers`` (``customer_id``,
            ``acquired_at``; with ``paid_only`` also ``channel``).
        spend_freq: the period each spend row covers (``"M"`` by default).
        paid_only: paid CAC instead of blended CAC.
        paid_channels: the paid channels (default: every channel with a paid spend row).
        freq: one row per calendar period, at least as coarse as ``spend_freq``.
        by: one row per segment (columns of both frames).
        start: the first instant of the window, on a ``spend_freq`` boundary.
        end: the end of the window (excluded), on a ``spend_freq`` boundary.

    Returns:
        A ``float`` without ``freq`` and ``by``; otherwise a frame with ``period``,
        the ``by`` columns, ``spend``, ``new_customers`` and ``cac``. CAC is
        NaN (undefined) where no customer was acquired; it is 0.0 where
        customers came at no spend (e.g. the organic channel).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        MissingColumnError: a column is missing.
        DataError: negative or missing spend, duplicate customer ids, naive
            timestamps with a time of day, ``freq`` finer than ``spend_freq``, or
            ``start``/``end`` inside a ``spend_freq`` period, or spend whose sum
            overflows a 64-bit float.

    Examples:
        >>> import pandas as pd
        >>> spend = pd.DataFrame({
        ...     "channel": ["ads", "ads", "social"],
        ...     "paid": [True, True, True],
        ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01"], utc=True),
        ...     "spend": [1000.0, 500.0, 300.0],
        ... })
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b", "c", "d"],
        ...     "channel": ["ads", "ads", "organic", "social"],
        ...     "acquired_at": pd.to_datetime(
        ...         ["2026-01-10", "2026-02-03", "2026-01-20", "2026-01-30"], utc=True),
        ... })
        >>> cac(spend, customers)  # (1000 + 500 + 300) / 4
        450.0
        >>> cac(spend, customers, paid_only=True)  # 1800 / 3 (organic excluded)
        600.0
        >>> cac(spend, customers, freq="M", by="channel")
            period channel   spend  new_customers    cac
        0  2026-01     ads  1000.0              1 1000.0
        1  2026-01 organic     0.0              1    0.0
        2  2026-01  social   300.0              1  300.0
        3  2026-02     ads   500.0              1  500.0
    """
    utc_window(start, end)  # the one window check: start before end
    check_arg("paid_only", paid_only, bool, "True or False")
    keys = segment_keys(by)
    spend_col, period_col = spend_columns.spend, spend_columns.period
    require_columns(spend, [spend_col, period_col, *keys], frame_name="spend")
    check_by(spend, keys, frame_name="spend", roles=(spend_col, period_col))
    if freq is not None:
        compare_periods(spend_freq, freq)
    amounts = check_numeric(spend[spend_col], spend_col, non_negative=True)
    finite_sum(amounts, name="the sum of the spend", inputs=[spend_col])
    first, stop = spend_period_bounds(start, end, spend_freq)
    spend_at = utc_values(spend, period_col)
    spend_ordinal = period_ordinals(spend_at, spend_freq)
    spend_mask = np.ones(len(spend), dtype=bool)
    if first is not None:
        spend_mask &= spend_ordinal >= first
    if stop is not None:
        spend_mask &= spend_ordinal < stop
    customer_frame = customers
    if paid_only:
        channels = paid_channels_of(spend, spend_columns, paid_channels)
        if paid_channels is None:
            spend_mask = spend_mask & spend[spend_columns.paid].to_numpy(dtype=bool)
        else:
            require_columns(spend, [spend_columns.channel], frame_name="spend")
            spend_mask = spend_mask & spend[spend_columns.channel].isin(channels).to_numpy()
        channel = customers_columns.channel
        require_columns(customers, [channel], frame_name="customers")
        customer_frame = customers.loc[customers[channel].isin(channels).to_numpy()]
    counts = new_customers_partial(
        customer_frame,
        customers_columns=customers_columns,
        freq=freq,
        by=keys,
        start=start,
        end=end,
    )
    spent = spend.loc[spend_mask, keys].copy()
    spent["spend"] = amounts[spend_mask].to_numpy()
    group = list(keys)
    if freq is not None:
        spent[_ORDINAL] = period_ordinals(spend_at[spend_mask], freq)
        group.append(_ORDINAL)
    if group:
        totals = spent.groupby(group, sort=True, observed=True, as_index=False)["spend"].sum()
        table = totals.merge(counts, on=group, how="outer")
    else:
        table = pd.DataFrame(
            {"spend": [float(spent["spend"].sum())], "new_customers": counts["new_customers"]}
        )
    table["spend"] = table["spend"].fillna(0.0).astype("float64")
    table["new_customers"] = table["new_customers"].fillna(0).astype("int64")
    table["cac"] = safe_divide(table["spend"], table["new_customers"])
    if not group:
        return float(table["cac"].iloc[0])
    table = table.sort_values(group[-1:] + group[:-1] if freq else group, ignore_index=True)
    return _ordinal_to_period(table, freq)
