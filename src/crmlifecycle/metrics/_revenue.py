"""
Revenue KPIs: ARPU, MRR movements, gross and net revenue churn per period.

MRR movements follow the usual SaaS split (Skok, "SaaS Metrics 2.0 - A Guide to
Measuring and Improving What Matters"): new, expansion, contraction, churned and
reactivated MRR; each period's gross and net revenue churn and retention come
with them. The revenue frame is read through a
:class:`~crmlifecycle.schema.RevenueColumns` record (``customer_id``,
``period``, ``mrr``). GRR and NRR between two chosen periods are in
``_revenue_retention.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._finite import finite_sum
from crmlifecycle._frames import (
    check_numeric,
    partial_frames,
    require_columns,
    utc_timestamp,
)
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.metrics._common import (
    check_by,
    check_unique,
    compare_periods,
    ordinals_to_periods,
    period_grid,
    period_ordinals,
    ratio,
    safe_divide,
    segment_keys,
    segment_names,
    timestamp_ordinal,
    utc_values,
)
from crmlifecycle.schema import RevenueColumns

__all__ = [
    "arpu",
    "combine_mrr_movements",
    "mrr_movements",
    "mrr_movements_partial",
]

_ORDINAL = "_ordinal"
_CUSTOMER = "_customer"
_FLOWS = ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivated"]
_SUMS = [*_FLOWS, "ending_mrr", "retained_mrr", "customers_start", "customers_end"]


def revenue_rows(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns,
    data_freq: str,
    by: list[str],
    freq: str | None = None,
    how: str = "last",
) -> pd.DataFrame:
    """
    Check ``revenue``; return a row per (customer, ``freq`` period) with revenue > 0.

    The rows carry the customer's code (``_customer``, by first appearance) beside its id.
    """
    freq = data_freq if freq is None else freq
    customer_col, period_col = revenue_columns.customer_id, revenue_columns.period
    mrr_col = revenue_columns.mrr
    require_columns(revenue, [customer_col, period_col, mrr_col, *by], frame_name="revenue")
    check_by(revenue, by, frame_name="revenue", roles=(customer_col, period_col, mrr_col))
    check_ids(revenue, customer_col, frame_name="revenue", what="customer ids")
    compare_periods(data_freq, freq)
    check_name("how", how, hint="use how='last' (a stock such as MRR) or how='sum'.")
    if how not in {"last", "sum"}:
        raise DataError(
            f"how={short_repr(how)} is not supported. Hint: use how='last' for a stock such as MRR "
            "(the value in the last data period of each period) or how='sum' for a flow."
        )
    values = check_numeric(revenue[mrr_col], mrr_col, non_negative=True)
    finite_sum(values, name="the sum of the revenue", inputs=[mrr_col])
    stamps = utc_values(revenue, period_col)
    data_ordinals = period_ordinals(stamps, data_freq)
    frame = revenue[[customer_col, *by]].copy()
    frame["_data"] = data_ordinals
    customer = np.asarray(pd.factorize(frame[customer_col])[0], dtype=np.int64)
    span = int(data_ordinals.max() - data_ordinals.min()) + 1 if len(frame) else 1
    pair = customer * span + (data_ordinals - (data_ordinals.min() if len(frame) else 0))
    if not pd.Index(pair).is_unique:  # one int64 hash pass; the rows are found only then
        check_unique(frame, [customer_col, "_data"], frame_name="revenue (customer, period)")
    frame[_CUSTOMER] = customer
    frame[_ORDINAL] = period_ordinals(stamps, freq) if freq != data_freq else data_ordinals
    frame["v"] = values.to_numpy()
    if by:
        varying = frame.groupby(customer_col, observed=True)[by].nunique(dropna=False).gt(1)
        if bool(varying.to_numpy().any()):
            raise DataError.malformed(
                by[0],
                "changes within a customer; a segment (by=) must be constant per customer",
                value=varying.index[varying.any(axis=1).to_numpy()][0],
                hint="use the customer's segment at acquisition, e.g. merge it from customers.",
            )
    if freq != data_freq:
        if how == "last":
            ends = ordinals_to_periods(frame[_ORDINAL].to_numpy(), freq).asfreq(data_freq, "E")
            frame = frame.loc[frame["_data"].to_numpy() == ends.asi8]
        else:
            group = [customer_col, _CUSTOMER, *by, _ORDINAL]
            frame = frame.groupby(group, as_index=False, observed=True)[["v"]].sum()
    return frame.loc[frame["v"].to_numpy() > 0, [customer_col, _CUSTOMER, *by, _ORDINAL, "v"]]


def _movement_sums(
    ordinal: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    previous: npt.NDArray[np.float64],
    stays: npt.NDArray[np.bool_],
    same_before: npt.NDArray[np.bool_],
    continues: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    """The partial of :func:`mrr_movements_partial` without segments, summed by bincount."""
    if len(ordinal) == 0:
        return pd.DataFrame({_ORDINAL: np.zeros(0, dtype=np.int64), **{c: [] for c in _SUMS}})
    low = int(ordinal.min())
    size = int(ordinal.max()) - low + 2  # churns land one period after the last revenue
    here, after = ordinal - low, ordinal[~continues] - low + 1
    gone = value[~continues]
    flows = {
        "starting_mrr": (here, previous, after, gone),
        "new": (here, np.where(~stays & ~same_before, value, 0.0), None, None),
        "expansion": (here, np.where(stays, np.maximum(value - previous, 0.0), 0.0), None, None),
        "contraction": (here, np.where(stays, np.maximum(previous - value, 0.0), 0.0), None, None),
        "churned": (None, None, after, gone),
        "reactivated": (here, np.where(~stays & same_before, value, 0.0), None, None),
        "ending_mrr": (here, value, None, None),
        "retained_mrr": (here, np.minimum(value, previous), None, None),
        "customers_start": (here, stays.astype(np.float64), after, np.ones(len(after))),
        "customers_end": (here, np.ones(len(here)), None, None),
    }
    sums = {}
    for name, (at, weight, later, later_weight) in flows.items():
        total = np.zeros(size)
        if at is not None:
            total += np.bincount(at, weights=weight, minlength=size)
        if later is not None:
            total += np.bincount(later, weights=later_weight, minlength=size)
        sums[name] = total
    rows = np.zeros(size, dtype=bool)
    rows[here] = True
    rows[after] = True
    table = pd.DataFrame({_ORDINAL: np.flatnonzero(rows) + low})
    for name in _SUMS:
        column = sums[name][rows]
        table[name] = column.astype(np.int64) if name.startswith("customers") else column
    return table


def mrr_movements_partial(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = RevenueColumns(),
    data_freq: str = "M",
    freq: str = "M",
    how: str = "last",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Split each customer's revenue changes into MRR movements (the split step).

    For some customers' rows (all rows of each), compares each customer's
    revenue in every period with the previous period and returns additive
    sums per ``by`` segment and period ordinal (``_ordinal``): the columns of
    :func:`combine_mrr_movements` before the ratios. A churn is reported in
    the period after a customer's last revenue.

    Args:
        revenue: all rows of some customers; not modified.
        revenue_columns: the columns of ``revenue`` (``customer_id``,
            ``period`` and ``mrr`` are read).
        data_freq: the period each row of ``revenue`` covers.
        freq: the reported period, at least as coarse as ``data_freq``.
        how: ``"last"`` (a stock such as MRR) or ``"sum"`` (a flow).
        by: sums per segment (columns constant per customer).

    Examples:
        >>> import pandas as pd
        >>> subs = pd.DataFrame({
        ...     "customer_id": ["a", "a"],
        ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True),
        ...     "mrr": [100.0, 120.0],
        ... })
        >>> mrr_movements_partial(subs)[["new", "expansion", "churned"]].to_numpy().tolist()
        [[100.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 120.0]]
    """
    keys = segment_names(by)
    rows = revenue_rows(
        revenue,
        revenue_columns=revenue_columns,
        data_freq=data_freq,
        freq=freq,
        how=how,
        by=keys,
    )
    codes = rows[_CUSTOMER].to_numpy(dtype=np.int64)
    ordinal = rows[_ORDINAL].to_numpy(dtype=np.int64)
    order = np.lexsort((ordinal, codes))
    codes, ordinal = codes[order], ordinal[order]
    value = rows["v"].to_numpy(dtype=np.float64)[order]
    segments = rows[keys].iloc[order].reset_index(drop=True)
    same_before = np.zeros(len(codes), dtype=bool)
    same_before[1:] = codes[1:] == codes[:-1]
    consecutive = np.zeros(len(codes), dtype=bool)
    consecutive[1:] = same_before[1:] & (ordinal[1:] == ordinal[:-1] + 1)
    previous = np.where(consecutive, np.roll(value, 1), 0.0)
    continues = np.zeros(len(codes), dtype=bool)
    continues[:-1] = consecutive[1:]
    stays = previous > 0
    if not keys:
        return _movement_sums(ordinal, value, previous, stays, same_before, continues)
    current = segments.copy()
    current[_ORDINAL] = ordinal
    current["starting_mrr"] = previous
    current["new"] = np.where(~stays & ~same_before, value, 0.0)
    current["reactivated"] = np.where(~stays & same_before, value, 0.0)
    current["expansion"] = np.where(stays, np.maximum(value - previous, 0.0), 0.0)
    current["contraction"] = np.where(stays, np.maximum(previous - value, 0.0), 0.0)
    current["churned"] = 0.0
    current["ending_mrr"] = value
    current["retained_mrr"] = np.minimum(value, previous)
    current["customers_start"] = stays.astype(np.int64)
    current["customers_end"] = 1
    lost = segments.loc[~continues].copy()
    lost[_ORDINAL] = ordinal[~continues] + 1
    lost["starting_mrr"] = value[~continues]
    lost["churned"] = value[~continues]
    lost["customers_start"] = 1
    events = pd.concat([current, lost], ignore_index=True)
    events[_SUMS] = events[_SUMS].fillna(0)
    events[["customers_start", "customers_end"]] = events[
        ["customers_start", "customers_end"]
    ].astype("int64")
    return events.groupby([*keys, _ORDINAL], sort=True, as_index=False, observed=True)[_SUMS].sum()


def combine_mrr_movements(
    partials: Iterable[pd.DataFrame],
    *,
    freq: str = "M",
    by: str | Sequence[str] | None = None,
    end: Instant | None = None,
) -> pd.DataFrame:
    """
    Add up :func:`mrr_movements_partial` sums and finish the ratios.

    Periods run from the first period with revenue to the last one (churns
    reported after the last observed period are not yet known and are
    dropped), or up to the period before ``end``.

    Args:
        partials: frames returned by :func:`mrr_movements_partial`.
        freq: the ``freq`` the partials were computed with.
        by: the ``by`` the partials were computed with.
        end: the end of the observation: periods run up to the one before the period holding
            ``end`` (``None``: up to the last period with revenue).

    Raises:
        ValidationError: ``partials`` is not a non-empty list of frames (naming the item).
        MissingColumnError: a partial lacks a column of :func:`mrr_movements_partial`'s result (a
            partial of another kind).
        DataError: partials with different columns, or counts that are not numbers.

    Returns:
        A frame with ``period``, the ``by`` columns, ``starting_mrr``, ``new``,
        ``expansion``, ``contraction`` (positive), ``churned`` (positive),
        ``reactivated``, ``ending_mrr`` (= starting + new + reactivated +
        expansion − contraction − churned), ``retained_mrr`` (Σ min(now,
        start) over the customers present at the start), ``customers_start``,
        ``customers_end``, ``gross_revenue_churn`` ((contraction + churned) ÷
        starting), ``net_revenue_churn`` ((contraction + churned − expansion) ÷
        starting, negative when expansion wins), ``grr`` (retained ÷
        starting, ≤ 1) and ``nrr`` ((starting + expansion − contraction −
        churned) ÷ starting). Ratios are NaN where ``starting_mrr`` is 0.

    Examples:
        >>> import pandas as pd
        >>> part = pd.DataFrame({"_ordinal": [672, 673], "starting_mrr": [0.0, 100.0],
        ...     "new": [100.0, 0.0], "expansion": [0.0, 20.0], "contraction": [0.0, 0.0],
        ...     "churned": [0.0, 0.0], "reactivated": [0.0, 0.0], "ending_mrr": [100.0, 120.0],
        ...     "retained_mrr": [0.0, 100.0], "customers_start": [0, 1], "customers_end": [1, 1]})
        >>> combine_mrr_movements([part])[["period", "grr", "nrr", "net_revenue_churn"]]
            period  grr  nrr  net_revenue_churn
        0  2026-01  NaN  NaN                NaN
        1  2026-02  1.0  1.2               -0.2
    """
    keys = segment_names(by)
    frames = partial_frames(
        partials, [*keys, _ORDINAL, *_SUMS], values=_SUMS, producer="mrr_movements_partial"
    )
    events = pd.concat(frames, ignore_index=True)
    events = events.groupby([*keys, _ORDINAL], sort=True, as_index=False, observed=True)[
        _SUMS
    ].sum()
    observed = events.loc[events["customers_end"] > 0, _ORDINAL]
    if observed.empty:
        table = events.iloc[:0]
    else:
        low, high = int(observed.min()), int(observed.max())
        if end is not None:
            high = timestamp_ordinal(utc_timestamp(end, name="end"), freq) - 1
        table = period_grid(events, keys, low, high, values=_SUMS)
    table = table.astype({"customers_start": "int64", "customers_end": "int64"})
    lost = table["contraction"] + table["churned"]
    table["gross_revenue_churn"] = safe_divide(lost, table["starting_mrr"])
    table["net_revenue_churn"] = safe_divide(lost - table["expansion"], table["starting_mrr"])
    table["grr"] = safe_divide(table["retained_mrr"], table["starting_mrr"])
    table["nrr"] = 1.0 - table["net_revenue_churn"]
    table = table.sort_values([_ORDINAL, *keys], ignore_index=True)
    table.insert(0, "period", ordinals_to_periods(table[_ORDINAL].to_numpy(), freq))
    return table.drop(columns=[_ORDINAL])


def mrr_movements(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = RevenueColumns(),
    data_freq: str = "M",
    freq: str = "M",
    how: str = "last",
    by: str | Sequence[str] | None = None,
    end: Instant | None = None,
) -> pd.DataFrame:
    """
    MRR movements per period: new, expansion, contraction, churned, reactivated.

    ``revenue`` holds one row per customer and data period (``data_freq``,
    monthly by default) with its recurring revenue (``mrr`` ≥ 0; a missing row
    or 0 means no revenue). Each customer's revenue in a period is compared
    with the previous period: from 0 to > 0 is *new* (first revenue ever) or
    *reactivated* (had revenue before); up is *expansion*, down but > 0 is
    *contraction*, down to 0 is *churned*. With a coarser ``freq``
    (``"Q"``, ``"Y"``) MRR, a stock, is read at the last data period of each
    period (``how="last"``); pass ``how="sum"`` for flows such as revenue.
    GRR and NRR compare each period with the previous one over the
    customers present at its start; see :func:`combine_mrr_movements` for
    the columns. The first period of the data has no previous period, so all
    its revenue is reported as new.

    Args:
        revenue: one row per customer and data period; not modified.
        revenue_columns: the columns of ``revenue`` (``customer_id``,
            ``period`` and ``mrr`` are read).
        data_freq: the period each row of ``revenue`` covers.
        freq: the reported period, at least as coarse as ``data_freq``.
        how: ``"last"`` (a stock such as MRR) or ``"sum"`` (a flow) to read
            a coarser period.
        by: one row per segment and period (columns constant per customer).
        end: report the periods before this instant (default: up to the
            last period with revenue).

    Examples:
        >>> import pandas as pd
        >>> subs = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "b", "c"],
        ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01",
        ...                               "2026-02-01", "2026-01-01"], utc=True),
        ...     "mrr": [100.0, 150.0, 200.0, 50.0, 80.0],
        ... })
        >>> # February: start 380; a +50 expansion, b -150 contraction, c 80 churned
        >>> feb = mrr_movements(subs, end="2026-03-01").iloc[1]
        >>> cols = ["starting_mrr", "expansion", "contraction", "churned", "ending_mrr"]
        >>> feb[cols].astype(float).tolist()
        [380.0, 50.0, 150.0, 80.0, 200.0]
        >>> round(float(feb["grr"]), 4), round(float(feb["nrr"]), 4)  # (100+50)/380, 200/380
        (0.3947, 0.5263)
    """
    partial = mrr_movements_partial(
        revenue,
        revenue_columns=revenue_columns,
        data_freq=data_freq,
        freq=freq,
        how=how,
        by=by,
    )
    return combine_mrr_movements([partial], freq=freq, by=by, end=end)


@overload
def arpu(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def arpu(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def arpu(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = ...,
    data_freq: str = "M",
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def arpu(
    revenue: pd.DataFrame,
    *,
    revenue_columns: RevenueColumns = RevenueColumns(),
    data_freq: str = "M",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Average revenue per paying customer per data period (monthly ARPU by default).

    ARPU = Σ revenue ÷ number of (customer, data period) pairs with revenue
    > 0. It is always *per data period* (per month for monthly data): with
    ``freq="Q"`` it is the average monthly ARPU within each quarter, which is
    what :func:`~crmlifecycle.metrics.cac_payback_months` and
    :func:`~crmlifecycle.metrics.historic_clv` expect. With ``freq``/``by``
    the columns are ``period``, ``by``, ``revenue``, ``customer_periods`` and
    ``arpu``. NaN when nobody paid. The columns of ``revenue`` are read
    through ``revenue_columns`` (``customer_id``, ``period``, ``mrr``).

    Args:
        revenue: one row per customer and data period, with its revenue (≥ 0); not modified.
        revenue_columns: the columns of ``revenue`` (``customer_id``, ``period`` and ``mrr``
            are read).
        data_freq: the period each row of ``revenue`` covers (``"M"``: monthly rows), which is
            also the period ARPU is per.
        freq: one row per calendar period, at least as coarse as ``data_freq``.
        by: one row per segment (columns of ``revenue``, constant per customer).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        DataError: revenue whose sum overflows a 64-bit float (amounts near 1e308).

    Examples:
        >>> import pandas as pd
        >>> subs = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b"],
        ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-01"], utc=True),
        ...     "mrr": [100.0, 100.0, 40.0],
        ... })
        >>> arpu(subs)  # 240 / 3 customer-months
        80.0
        >>> arpu(subs, freq="M")
            period  revenue  customer_periods  arpu
        0  2026-01    100.0                 1 100.0
        1  2026-02    140.0                 2  70.0
    """
    keys = segment_keys(by)
    rows = revenue_rows(revenue, revenue_columns=revenue_columns, data_freq=data_freq, by=keys)
    if freq is None and by is None:
        return ratio(float(rows["v"].sum()), len(rows))
    group = list(keys)
    if freq is not None:
        compare_periods(data_freq, freq)
        stamps = ordinals_to_periods(rows[_ORDINAL].to_numpy(), data_freq).to_timestamp()
        rows = rows.assign(
            **{_ORDINAL: period_ordinals(pd.Series(stamps).dt.tz_localize("UTC"), freq)}
        )
        group.append(_ORDINAL)
    table = rows.groupby(group, sort=True, as_index=False, observed=True).agg(
        revenue=("v", "sum"), customer_periods=("v", "size")
    )
    table["arpu"] = safe_divide(table["revenue"], table["customer_periods"])
    if freq is None:
        return table
    table = table.sort_values([_ORDINAL, *keys], ignore_index=True)
    table.insert(0, "period", ordinals_to_periods(table[_ORDINAL].to_numpy(), freq))
    return table.drop(columns=[_ORDINAL])
