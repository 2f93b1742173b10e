"""
The cohort retention matrix, split by customer and combined.

Definition (REFERENCES.md, "Cohort retention matrix"): cohort = the period of a
customer's first activity; cell ``(c, k)`` = customers of cohort ``c`` active in
period ``c + k`` ÷ cohort size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import period_alias, require_columns, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    IntArray,
    ordinals_to_periods,
    period_ordinals,
    timestamp_ordinal,
    utc_values,
)

__all__ = ["cohort_retention", "cohort_retention_partial", "combine_cohort_retention"]

_COHORT = "_cohort"
_INT32_MAX = np.iinfo(np.int32).max


def cohort_retention_partial(
    activity: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    at_col: str = "at",
    freq: str = "M",
) -> pd.DataFrame:
    """
    Count active customers per cohort and period number for some customers (split step).

    Every row of ``activity`` (an order, a login...) marks its customer active
    in the period holding ``at``. A customer's cohort is its first active
    period. Returns additive counts: ``_cohort`` (period ordinal),
    ``period_number`` (``k`` = periods since the cohort) and ``customers``.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b"],
        ...     "at": pd.to_datetime(["2026-01-05", "2026-03-01", "2026-01-09"], utc=True),
        ... })
        >>> cohort_retention_partial(orders)[["period_number", "customers"]].to_numpy().tolist()
        [[0, 2], [2, 1]]
    """
    require_columns(activity, [customer_col, at_col], frame_name="activity")
    ids = activity[customer_col]
    missing = ids.isna()
    if bool(missing.any()):
        raise DataError.malformed(
            customer_col,
            "has missing customer ids",
            rows=list(activity.index[missing.to_numpy()][:20]),
            hint="drop the rows without a customer before calling.",
        )
    ordinals = period_ordinals(utc_values(activity, at_col), freq)
    codes, uniques = pd.factorize(ids, sort=False)
    return _cohort_counts(np.asarray(codes, dtype=np.int64), len(uniques), ordinals)


def _cohort_counts(codes: IntArray, n_customers: int, ordinals: IntArray) -> pd.DataFrame:
    empty = pd.DataFrame(
        {
            _COHORT: np.array([], dtype=np.int64),
            "period_number": np.array([], dtype=np.int64),
            "customers": np.array([], dtype=np.int64),
        }
    )
    if n_customers == 0:
        return empty
    low = int(ordinals.min())
    small: type[np.signedinteger[Any]] = (
        np.int32 if int(ordinals.max()) - low < _INT32_MAX else np.int64
    )
    shifted: npt.NDArray[Any] = (ordinals - low).astype(small)
    first: npt.NDArray[Any] = np.full(n_customers, np.iinfo(small).max, dtype=small)
    index: npt.NDArray[Any] = codes.astype(np.int32) if n_customers < _INT32_MAX else codes
    np.minimum.at(first, index, shifted)
    age = shifted - first[index]
    width = int(age.max()) + 1
    key_type: type[np.signedinteger[Any]] = (
        np.int32 if n_customers * width < _INT32_MAX else np.int64
    )
    keys: npt.NDArray[Any] = index.astype(key_type) * width + age.astype(key_type)
    if n_customers * width <= max(8 * len(keys), 1 << 24):
        seen = np.zeros(n_customers * width, dtype=bool)
        seen[keys] = True
        unique_keys = np.flatnonzero(seen)
    else:
        unique_keys = np.unique(keys).astype(np.int64)
    customer, period_number = np.divmod(unique_keys, width)
    cohort = first[customer].astype(np.int64)
    n_cohorts = int(cohort.max()) + 1
    counts = np.bincount(cohort * width + period_number, minlength=n_cohorts * width)
    cells = np.flatnonzero(counts)
    cohort_idx, k = np.divmod(cells, width)
    return pd.DataFrame(
        {
            _COHORT: cohort_idx.astype(np.int64) + low,
            "period_number": k.astype(np.int64),
            "customers": counts[cells].astype(np.int64),
        }
    )


def combine_cohort_retention(
    partials: Iterable[pd.DataFrame],
    *,
    freq: str = "M",
    rates: bool = True,
    end: object | None = None,
) -> pd.DataFrame:
    """
    Add up :func:`cohort_retention_partial` counts and lay them out as a matrix.

    The matrix has one row per cohort (index ``cohort``, a ``pandas.Period``)
    and one column per period number ``0, 1, ...``. Cells after the last
    observed period (the latest active period in the data, or the period
    before ``end``) cannot be known and are missing (``<NA>`` in counts, NaN in
    rates); observed periods without activity are 0. With ``rates`` each row
    is divided by its cohort size (column 0), so column 0 is 1.0.

    Examples:
        >>> import pandas as pd
        >>> part = pd.DataFrame({"_cohort": [672, 672, 673], "period_number": [0, 1, 0],
        ...                      "customers": [4, 2, 5]})
        >>> combine_cohort_retention([part], rates=False)
        period_number  0     1
        cohort
        2026-01        4     2
        2026-02        5  <NA>
    """
    frame = pd.concat(list(partials), ignore_index=True)
    frame = frame.groupby([_COHORT, "period_number"], sort=True, as_index=False)[
        ["customers"]
    ].sum()
    if frame.empty:
        empty_index = pd.PeriodIndex([], freq=period_alias(freq), name="cohort")
        no_columns = pd.Index([], dtype="int64", name="period_number")
        return pd.DataFrame(
            index=empty_index, columns=no_columns, dtype="float64" if rates else "Int64"
        )
    last = int((frame[_COHORT] + frame["period_number"]).max())
    if end is not None:
        last = timestamp_ordinal(utc_timestamp(end, name="end"), freq) - 1
        frame = frame.loc[frame[_COHORT] + frame["period_number"] <= last]
    cohorts = np.sort(frame[_COHORT].unique())
    width = max(int(last - cohorts.min()) + 1, 1)
    matrix = np.zeros((len(cohorts), width), dtype=np.int64)
    rows = np.searchsorted(cohorts, frame[_COHORT].to_numpy())
    matrix[rows, frame["period_number"].to_numpy()] = frame["customers"].to_numpy()
    unobserved = (cohorts[:, None] + np.arange(width)[None, :]) > last
    index = ordinals_to_periods(cohorts, freq).rename("cohort")
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
    customer_col: str = "customer_id",
    at_col: str = "at",
    freq: str = "M",
    rates: bool = True,
    end: object | None = None,
) -> pd.DataFrame:
    """
    Cohort retention matrix, as rates (default) or counts.

    Definition (REFERENCES.md, "Cohort retention matrix"): cohort = the period
    of a customer's first activity (row of ``activity``, e.g. an order); cell
    ``(c, k)`` = customers of cohort ``c`` active in period ``c + k`` ÷ cohort
    size. Runs :func:`cohort_retention_partial` and
    :func:`combine_cohort_retention` on the whole frame; see the latter for the
    layout and for why unobservable cells are missing rather than 0.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "b", "c", "d"],
        ...     "at": pd.to_datetime(["2026-01-05", "2026-02-07", "2026-01-20",
        ...                           "2026-03-02", "2026-02-11", "2026-02-12"], utc=True),
        ... })
        >>> # January cohort {a, b}: Feb a (1/2), Mar b (1/2); February cohort {c, d}: Mar none
        >>> cohort_retention(orders)
        period_number    0    1    2
        cohort
        2026-01        1.0  0.5  0.5
        2026-02        1.0  0.0  NaN
    """
    partial = cohort_retention_partial(
        activity, customer_col=customer_col, at_col=at_col, freq=freq
    )
    return combine_cohort_retention([partial], freq=freq, rates=rates, end=end)
