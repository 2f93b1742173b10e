"""
Retention KPIs: customer churn and retention rates, rate conversion, cohort retention.

Definitions (REFERENCES.md, "KPI definitions"): the churn rate of a period is
the customers lost during the period ÷ the customers at its start; customers
acquired during the period are excluded from numerator and denominator.
Rates convert between period lengths by compounding,
``annual = 1 - (1 - monthly) ** 12``. The cohort retention matrix has one row
per cohort (the period of a customer's first activity) and cell ``(c, k)`` =
customers of cohort ``c`` active in period ``c + k`` ÷ cohort size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import as_sequence, period_alias, require_columns, utc_timestamp
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics._common import (
    IntArray,
    check_by,
    check_fraction,
    check_unique,
    ordinals_to_periods,
    period_ordinals,
    ratio,
    safe_divide,
    timestamp_ordinal,
    utc_values,
)

__all__ = [
    "churn_rate",
    "churn_rate_partial",
    "cohort_retention",
    "cohort_retention_partial",
    "combine_churn_rate",
    "combine_cohort_retention",
    "convert_churn_rate",
    "retention_rate",
]

_ORDINAL = "_ordinal"
_COHORT = "_cohort"
_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_NONE = np.iinfo(np.int64).min
_INT32_MAX = np.iinfo(np.int32).max


def _spells(
    customers: pd.DataFrame, customer_col: str, acquired_col: str, churned_col: str, by: list[str]
) -> tuple[pd.Series, pd.Series]:
    require_columns(
        customers, [customer_col, acquired_col, churned_col, *by], frame_name="customers"
    )
    check_by(customers, by, frame_name="customers")
    check_unique(customers, [customer_col], frame_name="customers")
    acquired = utc_values(customers, acquired_col)
    churned = utc_values(customers, churned_col, allow_missing=True)
    backwards = churned < acquired
    if bool(backwards.any()):
        raise DataError.malformed(
            churned_col,
            f"holds a churn before the customer's {acquired_col}",
            rows=list(customers.index[backwards.to_numpy()][:20]),
            hint="fix the dates; a customer cannot churn before it was acquired.",
        )
    return acquired, churned


def churn_rate_partial(
    customers: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    churned_col: str = "churned_at",
    freq: str = "M",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Count acquisitions and churns per period for some customers (the split step).

    Returns additive event counts per ``by`` segment and period ordinal
    (``_ordinal``): ``acquired``, ``churned_all`` (every churn) and
    ``churned`` (churns of customers acquired in an earlier period, the
    numerator of the churn rate). :func:`combine_churn_rate` turns the sum of
    any split's partials into rates.

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
    keys = as_sequence(by)
    acquired, churned = _spells(customers, customer_col, acquired_col, churned_col, keys)
    acquired_ord = period_ordinals(acquired, freq)
    has_churn = churned.notna().to_numpy()
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
    start: object | None = None,
    end: object | None = None,
) -> pd.DataFrame:
    """
    Turn summed :func:`churn_rate_partial` counts into churn rates per period.

    Customers at the start of period ``i`` = acquisitions before ``i`` − churns
    before ``i``. Periods run from the first event to the last (or are cut to
    ``[start, end)``). ``churn_rate`` is NaN (undefined) where no customer was
    present at the start.

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
    keys = as_sequence(by)
    events = pd.concat(list(partials), ignore_index=True)
    columns = ["acquired", "churned_all", "churned"]
    events = events.groupby([*keys, _ORDINAL], sort=True, as_index=False, observed=True)[
        columns
    ].sum()
    last_wanted = None if end is None else timestamp_ordinal(utc_timestamp(end, name="end"), freq)
    if events.empty:
        grid = events.reindex(columns=[*keys, _ORDINAL])
    else:
        low, high = int(events[_ORDINAL].min()), int(events[_ORDINAL].max())
        if last_wanted is not None:
            high = max(high, last_wanted - 1)
        ordinals = pd.DataFrame({_ORDINAL: np.arange(low, high + 1, dtype=np.int64)})
        segments = events[keys].drop_duplicates() if keys else pd.DataFrame(index=[0])
        grid = segments.merge(ordinals, how="cross")
    table = grid.merge(events, on=[*keys, _ORDINAL], how="left")
    table[columns] = table[columns].fillna(0).astype("int64")
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


def churn_rate(
    customers: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    churned_col: str = "churned_at",
    start: object | None = None,
    end: object | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Customer churn rate: customers lost in a period ÷ customers at its start.

    Definition (REFERENCES.md, "Customer churn rate"): customers acquired
    during the period are excluded from numerator and denominator. The
    ``customers`` frame holds one row per customer with ``acquired_at`` and
    ``churned_at`` (NaT while the customer is active); a customer is present
    at an instant ``t`` when ``acquired_at < t`` and it has not churned before ``t``.

    - Without ``freq``: one rate for the window ``[start, end)`` (both required).
    - With ``freq``: one row per calendar period (and ``by`` segment), see
      :func:`combine_churn_rate` for the columns; ``start``/``end`` then cut
      the reported periods.

    The rate is NaN (undefined) when no customer was present at the start.
    To compare rates of different period lengths use
    :func:`convert_churn_rate` (compounding, not multiplication).

    Raises:
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
    keys = as_sequence(by)
    if freq is not None:
        partial = churn_rate_partial(
            customers,
            customer_col=customer_col,
            acquired_col=acquired_col,
            churned_col=churned_col,
            freq=freq,
            by=keys,
        )
        return combine_churn_rate([partial], freq=freq, by=keys, start=start, end=end)
    if start is None or end is None:
        raise DataError(
            "churn_rate without freq needs a window: start= and end=. "
            "Hint: pass e.g. start='2026-01-01', end='2026-02-01', or freq='M' for every month."
        )
    acquired, churned = _spells(customers, customer_col, acquired_col, churned_col, keys)
    begin, finish = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    if finish <= begin:
        raise DataError(f"end={end!r} must be after start={start!r}. Hint: swap them.")
    present = (acquired < begin) & (churned.isna() | (churned >= begin))
    lost = present & (churned < finish)
    if not keys:
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


def retention_rate(
    customers: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    churned_col: str = "churned_at",
    start: object | None = None,
    end: object | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Customer retention rate: 1 − churn rate (customers kept ÷ customers at the start).

    Same definition, arguments and NaN rule as :func:`churn_rate`; customers
    acquired during the period are excluded (REFERENCES.md).

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
    result = churn_rate(
        customers,
        customer_col=customer_col,
        acquired_col=acquired_col,
        churned_col=churned_col,
        start=start,
        end=end,
        freq=freq,
        by=by,
    )
    if isinstance(result, pd.DataFrame):
        return result
    return 1.0 - result


def convert_churn_rate(
    rate: float,
    *,
    periods: float | None = None,
    from_freq: str | None = None,
    to_freq: str | None = None,
) -> float:
    """
    Convert a churn rate to another period length by compounding.

    ``1 - (1 - rate) ** periods`` (REFERENCES.md): a 2% monthly churn is
    ``1 - 0.98 ** 12 = 21.5%`` a year, not 24%. Give either ``periods`` (how
    many source periods make one target period; may be fractional, e.g.
    ``1/12`` from annual to monthly) or ``from_freq``/``to_freq`` among
    ``"M"``, ``"Q"`` and ``"Y"`` (days and weeks do not divide calendar
    months evenly, so pass ``periods`` for them). The same formula converts
    retention as ``retention ** periods``. This assumes a constant churn rate.

    Raises:
        ValidationError: a rate outside [0, 1], or a bad period specification.

    Examples:
        >>> round(convert_churn_rate(0.02, from_freq="M", to_freq="Y"), 4)
        0.2153
        >>> round(convert_churn_rate(0.2153, periods=1 / 12), 4)
        0.02
    """
    value = check_fraction(rate, "rate")
    if periods is None:
        if from_freq is None or to_freq is None:
            raise ValidationError.for_field(
                "periods", periods, "a number, or from_freq= and to_freq= together"
            )
        source, target = _MONTHS.get(period_alias(from_freq)), _MONTHS.get(period_alias(to_freq))
        if source is None or target is None:
            raise ValidationError.for_field(
                "from_freq/to_freq",
                (from_freq, to_freq),
                "'M', 'Q' or 'Y'",
                hint="for days or weeks pass periods= explicitly (e.g. 52 weeks a year).",
            )
        periods = target / source
    if isinstance(periods, bool) or not math.isfinite(periods) or periods <= 0:
        raise ValidationError.for_field("periods", periods, "a positive finite number")
    return float(1.0 - (1.0 - value) ** periods)


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
