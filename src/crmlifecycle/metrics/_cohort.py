"""
The cohort retention matrix, split by customer and combined.

Definition (the classic cohort table of customer analytics): cohort = the
period of a customer's first activity; cell ``(c, k)`` = customers of cohort
``c`` active in period ``c + k`` ÷ cohort size. With ``by=`` the customers are
first split into segments (columns constant per customer, e.g. the acquisition
channel) and each segment gets its own cohorts. The activity frame (orders,
logins...) is read through an :class:`~crmlifecycle.schema.OrderColumns` record:
only its ``customer_id`` and ``at`` columns are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import (
    partial_frames,
    period_alias,
    require_columns,
    utc_timestamp,
)
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.metrics._common import (
    IntArray,
    check_by,
    ordinals_to_periods,
    segment_names,
    timestamp_ordinal,
    utc_values,
)
from crmlifecycle.metrics._compact import id_codes, period_offsets
from crmlifecycle.metrics._segments import check_constant, segment_codes
from crmlifecycle.schema import OrderColumns

__all__ = ["cohort_retention", "cohort_retention_partial", "combine_cohort_retention"]

_COHORT = "_cohort"
_INT32_MAX = np.iinfo(np.int32).max
_MAX_DENSE_CELLS = 1 << 24
_BLOCK_ROWS = 1 << 18  # rows per block of the row-sized work: its temporaries stay this small


def cohort_retention_partial(
    activity: pd.DataFrame,
    *,
    activity_columns: OrderColumns = OrderColumns(),
    freq: str = "M",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Count active customers per cohort and period number for some customers (split step).

    Every row of ``activity`` (an order, a login...) marks its customer active
    in the period holding ``at``. Arguments as in :func:`cohort_retention`.
    A customer's cohort is its first active
    period. Returns additive counts: the ``by`` columns (segments, which must
    be constant per customer, e.g. the acquisition channel), ``_cohort``
    (period ordinal), ``period_number`` (``k`` = periods since the cohort) and
    ``customers``.

    Args:
        activity: one row per activity (an order, a login...) of some customers, all rows of
            each; not modified.
        activity_columns: the columns of ``activity``; only ``customer_id`` and ``at`` are read.
        freq: the cohort and activity period (``"M"``, ``"Q"``, ...).
        by: count per segment (columns of ``activity`` constant per customer).

    Raises:
        DataError: missing columns, ids or segment values; a segment that
            changes between the rows of one customer; timestamps breaking the
            time rule.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b"],
        ...     "channel": ["ads", "ads", "social"],
        ...     "at": pd.to_datetime(["2026-01-05", "2026-03-01", "2026-01-09"], utc=True),
        ... })
        >>> cohort_retention_partial(orders)[["period_number", "customers"]].to_numpy().tolist()
        [[0, 2], [2, 1]]
        >>> cohort_retention_partial(orders, by="channel")
          channel  _cohort  period_number  customers
        0     ads      672              0          1
        1     ads      672              2          1
        2  social      672              0          1
    """
    keys = segment_names(by)
    customer_col, at_col = activity_columns.customer_id, activity_columns.at
    require_columns(activity, [customer_col, at_col, *keys], frame_name="activity")
    check_ids(activity, customer_col, frame_name="activity", what="customer ids")
    ids = activity[customer_col]
    check_by(activity, keys, frame_name="activity", roles=(customer_col, at_col))
    offsets, low = period_offsets(utc_values(activity, at_col), freq)
    codes, uniques = id_codes(ids)
    n_customers = len(uniques)
    del uniques  # only their number is needed
    if not keys:
        return _cohort_counts(codes, n_customers, offsets, low)
    row_segments, segments = segment_codes(activity, keys)
    segment_of = np.zeros(n_customers, dtype=np.int64)
    segment_of[codes] = row_segments
    if bool((segment_of[codes] != row_segments).any()):
        check_constant(activity, customer_col, keys, frame_name="activity", entity="customer")
    counts = _cohort_counts(codes, n_customers, offsets, low, segment_of)
    labels = segments.iloc[counts.pop("_segment").to_numpy()].reset_index(drop=True)
    return pd.concat([labels, counts], axis=1)


def _cohort_counts(
    codes: npt.NDArray[np.signedinteger[Any]],
    n_customers: int,
    offsets: npt.NDArray[np.signedinteger[Any]],
    low: int,
    segment_of: IntArray | None = None,
) -> pd.DataFrame:
    """
    Count the customers of each (segment, cohort, period number) cell.

    ``codes`` number the customers ``0..n_customers-1``, ``offsets`` are the period
    ordinals of the rows minus ``low``. Row-sized work runs in blocks of rows, and the
    distinct (customer, period number) pairs are a boolean customer × period matrix
    when it is small (at most 8 bytes a row), so no int64 array per row or per pair
    is made; a larger one (daily periods over years) falls back to sorting the pairs.
    """
    columns = [_COHORT, "period_number", "customers"]
    if segment_of is not None:
        columns.insert(0, "_segment")
    if n_customers == 0:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in columns})
    first: npt.NDArray[Any] = np.full(n_customers, np.iinfo(offsets.dtype).max, offsets.dtype)
    np.minimum.at(first, codes, offsets)
    width = int(offsets.max()) + 1  # period numbers run below the number of periods
    group = first.astype(np.int64)  # a customer's row of the matrix: segment then cohort
    n_cohorts = int(group.max()) + 1
    if segment_of is not None:
        group += segment_of * n_cohorts
    n_cells = (int(group.max()) + 1) * width  # (segment, cohort, period number) cells
    if n_customers * width <= max(8 * len(codes), _MAX_DENSE_CELLS) and n_cells <= _BLOCK_ROWS:
        rows, k, counts = _dense_cells(codes, offsets, first, group, n_customers, width)
    else:
        rows, k, counts = _sparse_cells(codes, offsets, first, group, width)
    del first, group
    segment_idx, cohort_idx = np.divmod(rows, n_cohorts)
    result = {
        "_segment": segment_idx.astype(np.int64),
        _COHORT: cohort_idx.astype(np.int64) + low,
        "period_number": k.astype(np.int64),
        "customers": counts.astype(np.int64),
    }
    return pd.DataFrame({c: result[c] for c in columns})


def _ages(
    codes: npt.NDArray[Any], offsets: npt.NDArray[Any], first: npt.NDArray[Any], start: int
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The customers of one block of rows and their period numbers (periods since the cohort)."""
    block = codes[start : start + _BLOCK_ROWS]
    return block, offsets[start : start + _BLOCK_ROWS] - first[block]


def _dense_cells(
    codes: npt.NDArray[Any],
    offsets: npt.NDArray[Any],
    first: npt.NDArray[Any],
    group: IntArray,
    n_customers: int,
    width: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Mark each customer's active period numbers in a matrix, then add its rows up per group."""
    seen = np.zeros((n_customers, width), dtype=bool)
    flat = seen.reshape(-1)
    for start in range(0, len(codes), _BLOCK_ROWS):
        block, age = _ages(codes, offsets, first, start)
        flat[block.astype(np.intp) * width + age] = True
    totals = np.zeros((int(group.max()) + 1) * width, dtype=np.int64)
    step = max(_BLOCK_ROWS // width, 1)
    for low in range(0, n_customers, step):  # the marked cells of a block of customers at a time
        pairs = np.flatnonzero(seen[low : low + step])
        customer, k = np.divmod(pairs, width)
        totals += np.bincount(group[customer + low] * width + k, minlength=len(totals))
    del seen
    cells = np.flatnonzero(totals)
    rows, k = np.divmod(cells, width)
    return rows, k, totals[cells]


def _sparse_cells(
    codes: npt.NDArray[Any],
    offsets: npt.NDArray[Any],
    first: npt.NDArray[Any],
    group: IntArray,
    width: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """The distinct (customer, period number) pairs by sorting, counted per (group, k) cell."""
    key_type = np.int64 if len(first) * width >= _INT32_MAX else np.int32
    keys = np.empty(len(codes), dtype=key_type)
    for start in range(0, len(codes), _BLOCK_ROWS):
        block, age = _ages(codes, offsets, first, start)
        keys[start : start + _BLOCK_ROWS] = block.astype(key_type) * width + age
    unique_keys = np.unique(keys)
    del keys
    customer, period_number = np.divmod(unique_keys, width)
    del unique_keys
    cell = group[customer] * width + period_number
    del customer, period_number
    cell_ids, counts = np.unique(cell, return_counts=True)
    rows, k = np.divmod(cell_ids, width)
    return rows, k, counts


def _empty_matrix(keys: list[str], frame: pd.DataFrame, freq: str, *, rates: bool) -> pd.DataFrame:
    periods = pd.PeriodIndex([], freq=period_alias(freq), name="cohort")
    index: pd.Index = periods
    if keys:
        index = pd.MultiIndex.from_arrays(
            [*(frame[k].iloc[:0] for k in keys), periods], names=[*keys, "cohort"]
        )
    no_columns = pd.Index([], dtype="int64", name="period_number")
    return pd.DataFrame(index=index, columns=no_columns, dtype="float64" if rates else "Int64")


def combine_cohort_retention(
    partials: Iterable[pd.DataFrame],
    *,
    freq: str = "M",
    rates: bool = True,
    end: Instant | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Add up :func:`cohort_retention_partial` counts and lay them out as a matrix.

    The matrix has one row per cohort (index ``cohort``, a ``pandas.Period``;
    with ``by``, a ``MultiIndex`` of the segment columns then ``cohort``) and
    one column per period number ``0, 1, ...``. Cells after the last
    observed period (the latest active period in the data, for every segment
    alike, or the period before ``end``) cannot be known and are missing
    (``<NA>`` in counts, NaN in rates); observed periods without activity are
    0. With ``rates`` each row is divided by its cohort size (column 0), so
    column 0 is 1.0. Partials computed with ``by`` may be combined without it:
    the segments are then added up into the overall matrix.

    Args:
        partials: frames returned by :func:`cohort_retention_partial`.
        freq: the ``freq`` the partials were computed with (``"M"``, ``"Q"``, ...).
        rates: divide each row by its cohort size (else counts).
        end: the end of the observation: periods from the one holding ``end`` on are
            unknown (``None``: the last period with activity is the last observed).
        by: the segment columns to keep (a subset of those the partials were computed with,
            or ``None`` to add the segments up).

    Raises:
        ValidationError: ``partials`` is not a non-empty list of frames (naming the item).
        MissingColumnError: a partial lacks a column of :func:`cohort_retention_partial`'s result (a
            partial of another kind).
        DataError: partials with different columns, or counts that are not numbers.

    Examples:
        >>> import pandas as pd
        >>> part = pd.DataFrame({"_cohort": [672, 672, 673], "period_number": [0, 1, 0],
        ...                      "customers": [4, 2, 5]})
        >>> combine_cohort_retention([part], rates=False)
        period_number  0     1
        cohort
        2026-01        4     2
        2026-02        5  <NA>
        >>> part.insert(0, "channel", ["ads", "ads", "social"])
        >>> combine_cohort_retention([part], by="channel")
        period_number      0    1
        channel cohort
        ads     2026-01  1.0  0.5
        social  2026-02  1.0  NaN
    """
    check_arg("rates", rates, bool, "True or False")
    keys = segment_names(by)
    frames = partial_frames(
        partials,
        [*keys, _COHORT, "period_number", "customers"],
        values=[_COHORT, "period_number", "customers"],
        producer="cohort_retention_partial",
    )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.groupby([*keys, _COHORT, "period_number"], sort=True, as_index=False)[
        ["customers"]
    ].sum()
    if frame.empty:
        return _empty_matrix(keys, frame, freq, rates=rates)
    last = int((frame[_COHORT] + frame["period_number"]).max())
    if end is not None:
        last = timestamp_ordinal(utc_timestamp(end, name="end"), freq) - 1
        frame = frame.loc[frame[_COHORT] + frame["period_number"] <= last]
        if frame.empty:
            return _empty_matrix(keys, frame, freq, rates=rates)
    rows = frame.groupby([*keys, _COHORT], sort=True).ngroup().to_numpy()
    row_table = frame.drop_duplicates([*keys, _COHORT])
    cohorts = row_table[_COHORT].to_numpy()
    width = max(int(last - cohorts.min()) + 1, 1)
    matrix = np.zeros((len(row_table), width), dtype=np.int64)
    matrix[rows, frame["period_number"].to_numpy()] = frame["customers"].to_numpy()
    unobserved = (cohorts[:, None] + np.arange(width)[None, :]) > last
    index: pd.Index = ordinals_to_periods(cohorts, freq).rename("cohort")
    if keys:
        index = pd.MultiIndex.from_arrays(
            [*(row_table[k] for k in keys), index], names=[*keys, "cohort"]
        )
    columns = pd.RangeIndex(width, name="period_number")
    if rates:
        sizes = matrix[:, :1].astype("float64")
        values = np.where(unobserved, np.nan, matrix / np.where(sizes == 0, np.nan, sizes))
        return pd.DataFrame(values, index=index, columns=columns)
    counts = pd.DataFrame(matrix, index=index, columns=columns).astype("Int64")
    return counts.mask(unobserved)


def cohort_retention(
    activity: pd.DataFrame,
    *,
    activity_columns: OrderColumns = OrderColumns(),
    freq: str = "M",
    rates: bool = True,
    end: Instant | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Cohort retention matrix, as rates (default) or counts, overall or per segment.

    Definition (the classic cohort table): cohort = the period
    of a customer's first activity (row of ``activity``, e.g. an order); cell
    ``(c, k)`` = customers of cohort ``c`` active in period ``c + k`` ÷ cohort
    size. Runs :func:`cohort_retention_partial` and
    :func:`combine_cohort_retention` on the whole frame; see the latter for the
    layout and for why unobservable cells are missing rather than 0.

    With ``by`` (columns of ``activity`` constant per customer, such as the
    acquisition channel) every segment has its own cohorts: the matrix index
    becomes the segment columns then ``cohort``, and the counts of a cohort
    add up over the segments to the unsegmented counts.

    Args:
        activity: one row per activity (an order, a login...); not modified.
        activity_columns: the columns of ``activity``; only ``customer_id``
            and ``at`` are read, so any frame with those two columns works
            (rename them with e.g. ``OrderColumns(at="logged_in_at")``).
        freq: the cohort and activity period (``"M"``, ``"Q"``, ...).
        rates: divide each row by its cohort size (else counts).
        end: the end of the observation (periods from it on are unknown).
        by: one block of cohorts per segment (columns constant per customer).

    Raises:
        DataError: missing columns, ids or segment values, a segment that
            changes between the rows of one customer, or timestamps breaking
            the time rule.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "b", "c", "d"],
        ...     "channel": ["ads", "ads", "social", "social", "ads", "social"],
        ...     "at": pd.to_datetime(["2026-01-05", "2026-02-07", "2026-01-20",
        ...                           "2026-03-02", "2026-02-11", "2026-02-12"], utc=True),
        ... })
        >>> # January cohort {a, b}: Feb a (1/2), Mar b (1/2); February cohort {c, d}: Mar none
        >>> cohort_retention(orders)
        period_number    0    1    2
        cohort
        2026-01        1.0  0.5  0.5
        2026-02        1.0  0.0  NaN
        >>> # ads: January {a} back in Feb; social: January {b} back in Mar
        >>> cohort_retention(orders, by="channel", rates=False)
        period_number    0     1     2
        channel cohort
        ads     2026-01  1     1     0
                2026-02  1     0  <NA>
        social  2026-01  1     0     1
                2026-02  1     0  <NA>
    """
    partial = cohort_retention_partial(
        activity, activity_columns=activity_columns, freq=freq, by=by
    )
    return combine_cohort_retention([partial], freq=freq, rates=rates, end=end, by=by)
