"""
Retention KPIs: customer churn and retention rates, rate conversion, cohort retention.

Definitions (the common SaaS convention, e.g. Skok, "SaaS Metrics 2.0 - A Guide
to Measuring and Improving What Matters"): the churn rate of a period is the
customers lost during the period ÷ the customers at its start; customers
acquired during the period are excluded from numerator and denominator.
Rates convert between period lengths by compounding (``_rate_conversion.py``).
The customers frame is read through a
:class:`~crmlifecycle.schema.CustomerColumns` record (``customer_id``,
``acquired_at``, ``churned_at``). The cohort retention matrix is in
``_cohort.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import (
    partial_frames,
    require_columns,
    utc_timestamp,
    utc_window,
)
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    IntArray,
    check_by,
    check_unique,
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
from crmlifecycle.schema import CustomerColumns

__all__ = [
    "churn_rate",
    "churn_rate_partial",
    "combine_churn_rate",
    "retention_rate",
]

_ORDINAL = "_ordinal"
_NONE = np.iinfo(np.int64).min
BoolArray = npt.NDArray[np.bool_]


def _spells(
    customers: pd.DataFrame, cols: CustomerColumns, by: list[str]
) -> tuple[pd.Series, pd.Series]:
    customer_col, acquired_at_col, churned_at_col = (
        cols.customer_id,
        cols.acquired_at,
        cols.churned_at,
    )
    require_columns(
        customers, [customer_col, acquired_at_col, churned_at_col, *by], frame_name="customers"
    )
    check_by(
        customers,
        by,
        frame_name="customers",
        roles=(customer_col, acquired_at_col, churned_at_col),
    )
    check_unique(customers, [customer_col], frame_name="customers")
    acquired = utc_values(customers, acquired_at_col)
    churned = utc_values(customers, churned_at_col, allow_missing=True)
    backwards = churned < acquired
    if bool(backwards.any()):
        raise DataError.malformed(
            churned_at_col,
            f"holds a churn before the customer's {acquired_at_col}",
            rows=list(customers.index[backwards.to_numpy()][:20]),
            hint="fix the dates; a customer cannot churn before it was acquired.",
        )
    return acquired, churned


def _counts(acquired: IntArray, churned: IntArray, has_churn: BoolArray) -> pd.DataFrame:
    """The partial of :func:`churn_rate_partial` without segments, by counting ordinals."""
    columns = ["acquired", "churned_all", "churned"]
    if len(acquired) == 0:
        return pd.DataFrame({_ORDINAL: [], **{c: [] for c in columns}}, dtype="int64")
    low = int(min(acquired.min(), churned.min(initial=acquired.min())))
    high = int(max(acquired.max(), churned.max(initial=acquired.max())))
    size = high - low + 1
    lost_old = churned[churned > acquired[has_churn]]
    counts = {
        name: np.bincount(v - low, minlength=size)
        for name, v in zip(columns, (acquired, churned, lost_old), strict=True)
    }
    present = np.flatnonzero(counts["acquired"] + counts["churned_all"])
    table = {_ORDINAL: present + low, **{c: counts[c][present] for c in columns}}
    return pd.DataFrame({name: np.asarray(v, dtype=np.int64) for name, v in table.items()})


def churn_rate_partial(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = CustomerColumns(),
    freq: str = "M",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Count acquisitions and churns per period for some customers (the split step).

    Returns additive event counts per ``by`` segment and period ordinal
    (``_ordinal``): ``acquired``, ``churned_all`` (every churn) and
    ``churned`` (churns of customers acquired in an earlier period, the
    numerator of the churn rate). :func:`combine_churn_rate` turns the sum of
    any split's partials into rates. Arguments as in :func:`churn_rate`.

    Args:
        customers: one row per customer (some of the customers); not modified.
        customers_columns: the columns of ``customers`` (``customer_id``,
            ``acquired_at`` and ``churned_at`` are read).
        freq: the calendar period (``"M"``, ``"Q"``, ...) the events are counted in.
        by: count per segment (columns of ``customers``).

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b"],
        ...     "acquired_at": pd.to_datetime(["2026-01-05", "2026-01-20"], utc=True),
        ...     "churned_at": pd.to_datetime([None, "2026-02-10"], utc=True),
        ... })
        >>> churn_rate_partial(customers)[["acquired", "churned"]].to_numpy().tolist()
        [[2, 0], [0, 1]]
    """
    keys = segment_names(by)
    acquired, churned = _spells(customers, customers_columns, keys)
    acquired_ord = period_ordinals(acquired, freq)
    has_churn = churned.notna().to_numpy()
    if not keys:
        return _counts(acquired_ord, period_ordinals(churned[has_churn], freq), has_churn)
    churned_ord = np.where(has_churn, period_ordinals(churned.fillna(acquired), freq), _NONE)
    acq = customers[keys].copy()
    acq[_ORDINAL] = acquired_ord
    acq["acquired"] = 1
    lost = customers.loc[has_churn, keys].copy()
    lost[_ORDINAL] = churned_ord[has_churn]
    lost["churned_all"] = 1
    lost["churned"] = (churned_ord[has_churn] > acquired_ord[has_churn]).astype("int64")
    events = pd.concat([acq, lost], ignore_index=True)
    columns = ["acquired", "churned_all", "churned"]
    events[columns] = events[columns].fillna(0).astype("int64")
    return events.groupby([*keys, _ORDINAL], sort=True, as_index=False, observed=True)[
        columns
    ].sum()


def combine_churn_rate(
    partials: Iterable[pd.DataFrame],
    *,
    freq: str = "M",
    by: str | Sequence[str] | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pd.DataFrame:
    """
    Turn summed :func:`churn_rate_partial` counts into churn rates per period.

    Customers at the start of period ``i`` = acquisitions before ``i`` − churns
    before ``i``. Periods run from the first event to the last (or are cut to
    ``[start, end)``). ``churn_rate`` is NaN (undefined) where no customer was
    present at the start.

    Args:
        partials: frames returned by :func:`churn_rate_partial`.
        freq: the ``freq`` the partials were computed with.
        by: the ``by`` the partials were computed with.
        start: report only the periods from the one holding ``start`` on (``None``: from the
            first event's period).
        end: report only the periods before the one holding ``end``, adding empty periods up to
            it (``None``: up to the last event's period).

    Raises:
        ValidationError: ``partials`` is not a non-empty list of frames (naming the item).
        MissingColumnError: a partial lacks a column of :func:`churn_rate_partial`'s result (a
            partial of another kind).
        DataError: partials with different columns, or counts that are not numbers.

    Returns:
        A frame with ``period``, the ``by`` columns, ``customers_start``,
        ``new_customers``, ``churned``, ``churned_new`` (customers acquired
        and lost within the period, excluded from the rate),
        ``customers_end``, ``churn_rate`` and ``retention_rate``.

    Examples:
        >>> import pandas as pd
        >>> part = pd.DataFrame({"_ordinal": [672, 673], "acquired": [2, 0],
        ...                      "churned_all": [0, 1], "churned": [0, 1]})
        >>> combine_churn_rate([part])[["period", "customers_start", "churn_rate"]]
            period  customers_start  churn_rate
        0  2026-01                0         NaN
        1  2026-02                2         0.5
    """
    utc_window(start, end)  # the one window check: start before end
    keys = segment_names(by)
    columns = ["acquired", "churned_all", "churned"]
    frames = partial_frames(
        partials, [*keys, _ORDINAL, *columns], values=columns, producer="churn_rate_partial"
    )
    events = pd.concat(frames, ignore_index=True)
    events = events.groupby([*keys, _ORDINAL], sort=True, as_index=False, observed=True)[
        columns
    ].sum()
    last_wanted = None if end is None else timestamp_ordinal(utc_timestamp(end, name="end"), freq)
    if events.empty:
        table = events
    else:
        low, high = int(events[_ORDINAL].min()), int(events[_ORDINAL].max())
        if last_wanted is not None:
            high = max(high, last_wanted - 1)
        table = period_grid(events, keys, low, high, values=columns)
    table[columns] = table[columns].astype("int64")
    net = table["acquired"] - table["churned_all"]
    if keys:
        before = net.groupby([table[k] for k in keys], observed=True).cumsum() - net
    else:
        before = net.cumsum() - net
    table["customers_start"] = before.astype("int64")
    table["new_customers"] = table["acquired"]
    table["churned_new"] = table["churned_all"] - table["churned"]
    table["customers_end"] = table["customers_start"] + net
    table["churn_rate"] = safe_divide(table["churned"], table["customers_start"])
    table["retention_rate"] = 1.0 - table["churn_rate"]
    if start is not None:
        first = timestamp_ordinal(utc_timestamp(start, name="start"), freq)
        table = table.loc[table[_ORDINAL] >= first]
    if last_wanted is not None:
        table = table.loc[table[_ORDINAL] < last_wanted]
    table = table.sort_values([_ORDINAL, *keys], ignore_index=True)
    table.insert(0, "period", ordinals_to_periods(table[_ORDINAL].to_numpy(), freq))
    out = [
        "period",
        *keys,
        "customers_start",
        "new_customers",
        "churned",
        "churned_new",
        "customers_end",
        "churn_rate",
        "retention_rate",
    ]
    return table[out]


@overload
def churn_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def churn_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def churn_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def churn_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = CustomerColumns(),
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Customer churn rate: customers lost in a period ÷ customers at its start.

    Definition (the common SaaS convention, e.g. Skok, "SaaS Metrics 2.0"):
    customers acquired during the period are excluded from numerator and
    denominator. The
    ``customers`` frame holds one row per customer with ``acquired_at`` and
    ``churned_at`` (NaT while the customer is active); a customer is present
    at an instant ``t`` when ``acquired_at < t`` and it has not churned before ``t``.

    - Without ``freq``: one rate for the window ``[start, end)`` (both
      required); with ``by`` one row per segment (``customers_start``,
      ``churned``, ``churn_rate``, ``retention_rate``).
    - With ``freq``: one row per calendar period (and ``by`` segment), see
      :func:`combine_churn_rate` for the columns; ``start``/``end`` then cut
      the reported periods.

    The rate is NaN (undefined) when no customer was present at the start.
    To compare rates of different period lengths use
    :func:`convert_churn_rate` (compounding, not multiplication).

    Args:
        customers: one row per customer; not modified.
        customers_columns: the columns of ``customers`` (``customer_id``,
            ``acquired_at`` and ``churned_at`` are read).
        start: the start of the window (or of the first reported period).
        end: the end of the window, excluded (or of the last reported period).
        freq: one row per calendar period (``"M"``, ``"Q"``, ...).
        by: one row per segment (columns of ``customers``).

    Returns:
        A ``float`` without ``freq`` and ``by``; otherwise a frame.

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        DataError: duplicate customer ids, a churn before acquisition, naive
            timestamps with a time of day, or a window without ``start``/``end``.

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b", "c", "d", "e"],
        ...     "acquired_at": pd.to_datetime(
        ...         ["2025-11-03", "2025-12-01", "2025-12-15", "2026-01-10", "2026-01-12"],
        ...         utc=True),
        ...     "churned_at": pd.to_datetime(
        ...         [None, "2026-01-20", None, "2026-01-25", None], utc=True),
        ... })
        >>> # January: a, b, c present at the start; b lost; d and e (new in January) excluded
        >>> round(churn_rate(customers, start="2026-01-01", end="2026-02-01"), 4)
        0.3333
        >>> churn_rate(customers, freq="M")[["period", "customers_start", "churned", "churn_rate"]]
            period  customers_start  churned  churn_rate
        0  2025-11                0        0         NaN
        1  2025-12                1        0    0.000000
        2  2026-01                3        1    0.333333
    """
    utc_window(start, end)  # the one window check: start before end
    keys = segment_keys(by)
    if freq is not None:
        partial = churn_rate_partial(
            customers,
            customers_columns=customers_columns,
            freq=freq,
            by=keys,
        )
        return combine_churn_rate([partial], freq=freq, by=keys, start=start, end=end)
    if start is None or end is None:
        raise DataError(
            "a churn or retention rate without freq= needs a window: start= and end=. "
            "Hint: pass e.g. start='2026-01-01', end='2026-02-01', or freq='M' for every month."
        )
    acquired, churned = _spells(customers, customers_columns, keys)
    begin, finish = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    present = (acquired < begin) & (churned.isna() | (churned >= begin))
    lost = present & (churned < finish)
    if by is None:
        return ratio(int(lost.sum()), int(present.sum()))
    table = customers[keys].copy()
    table["customers_start"] = present.astype("int64").to_numpy()
    table["churned"] = lost.astype("int64").to_numpy()
    table = table.groupby(keys, sort=True, as_index=False, observed=True)[
        ["customers_start", "churned"]
    ].sum()
    table["churn_rate"] = safe_divide(table["churned"], table["customers_start"])
    table["retention_rate"] = 1.0 - table["churn_rate"]
    return table


@overload
def retention_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def retention_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def retention_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = ...,
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def retention_rate(
    customers: pd.DataFrame,
    *,
    customers_columns: CustomerColumns = CustomerColumns(),
    start: Instant | None = None,
    end: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Customer retention rate: 1 − churn rate (customers kept ÷ customers at the start).

    Same definition, arguments, return shapes and NaN rule as
    :func:`churn_rate`; customers acquired during the period are excluded.

    Args:
        customers: one row per customer; not modified.
        customers_columns: the columns of ``customers`` (``customer_id``,
            ``acquired_at`` and ``churned_at`` are read).
        start: the start of the window (or of the first reported period).
        end: the end of the window, excluded (or of the last reported period).
        freq: one row per calendar period (``"M"``, ``"Q"``, ...).
        by: one row per segment (columns of ``customers``).

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b"],
        ...     "acquired_at": pd.to_datetime(["2025-12-01", "2025-12-02"], utc=True),
        ...     "churned_at": pd.to_datetime([None, "2026-01-20"], utc=True),
        ... })
        >>> retention_rate(customers, start="2026-01-01", end="2026-02-01")
        0.5
    """
    cols = customers_columns
    if by is not None:
        return churn_rate(customers, customers_columns=cols, start=start, end=end, freq=freq, by=by)
    if freq is not None:
        return churn_rate(customers, customers_columns=cols, start=start, end=end, freq=freq)
    return 1.0 - churn_rate(customers, customers_columns=cols, start=start, end=end)
