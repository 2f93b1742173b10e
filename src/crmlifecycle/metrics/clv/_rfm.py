"""
RFM summaries (frequency, recency, T, monetary value) of an order log.

The summary follows the "split by customer, then combine" shape of every
per-customer KPI: :func:`rfm_partial` turns a frame holding *all* orders of
*some* customers into their summary rows, :func:`rfm_combine` concatenates such
partial results. :func:`rfm_summary` runs both on the whole frame, and
:func:`calibration_holdout` adds what the same customers did after the cut-off.
The order log is read through an :class:`~crmlifecycle.schema.OrderColumns`
record; the cut-off is ``as_of``, the moment the summary looks from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import (
    as_utc,
    check_numeric,
    partial_frames,
    period_alias,
    require_columns,
    utc_nanoseconds,
    utc_timestamp,
)
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics._compact import id_codes
from crmlifecycle.schema import OrderColumns

__all__ = ["calibration_holdout", "rfm_combine", "rfm_partial", "rfm_summary", "unit_positions"]

_NS_PER_DAY: Final = 86_400_000_000_000
_RFM: Final = ("frequency", "recency", "T")
_UNITS: Final = ("D", "W", "M", "Q", "Y")
_BLOCK_ROWS: Final = 1 << 18  # rows per block of the row-sized work: its temporaries stay small
_UINT32_KEYS: Final = int(np.iinfo(np.uint32).max)  # the keys fit in uint32 up to this


def _unit(value: str, name: str) -> str:
    """Read a time unit or occasion: one of ``_UNITS`` (or a pandas spelling of one)."""
    expected = f"one of {list(_UNITS)} (day, week, month, quarter, year)"
    try:
        alias = period_alias(value)
    except DataError as err:
        raise ValidationError.for_field(name, value, expected, hint=f"pass {name}='W'.") from err
    if alias not in _UNITS:
        raise ValidationError.for_field(name, value, expected, hint=f"pass {name}='W'.")
    return alias


def _days(utc: pd.Series) -> np.ndarray:
    """UTC calendar day numbers (days since 1970-01-01) of a UTC datetime series."""
    return np.asarray(np.floor_divide(utc_nanoseconds(utc), _NS_PER_DAY))


def _occasion_start(days: np.ndarray, occasion: str) -> np.ndarray:
    """The first day of the calendar period (day, ISO week, month...) holding each day."""
    if occasion == "D":
        return days
    if occasion == "W":  # 1970-01-01 was a Thursday; weeks start on Monday
        return np.asarray(days - (days + 3) % 7)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    if occasion == "Q":
        months = months - months % 3
    elif occasion == "Y":
        months = months - months % 12
    return months.astype("datetime64[M]").astype("datetime64[D]").astype("int64")


def unit_positions(days: np.ndarray, time_unit: str) -> np.ndarray:
    """
    Return the position of UTC day numbers on the time axis of ``time_unit``.

    ``"D"`` counts days, ``"W"`` days / 7. ``"M"`` counts calendar months: each
    month is exactly one unit long and a day inside it is a fraction
    ``1 / days_in_that_month`` of it, so 1 January to 1 February is 1.0 and
    1 February to 1 March is 1.0 too. ``"Q"`` and ``"Y"`` are months / 3 and
    months / 12. Differences of positions are durations, and they add up.

    Args:
        days: UTC day numbers (days since 1970-01-01), integers.
        time_unit: the unit of the axis: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

    Examples:
        >>> import numpy as np
        >>> days = np.array([0, 31, 59, 45])  # 1970-01-01, 02-01, 03-01, 02-15
        >>> unit_positions(days, "M").tolist()
        [0.0, 1.0, 2.0, 1.5]
        >>> unit_positions(np.array([0, 7]), "W").tolist()
        [0.0, 1.0]
    """
    unit = _unit(time_unit, "time_unit")
    values = np.asarray(days, dtype="int64")
    if unit == "D":
        return values.astype("float64")
    if unit == "W":
        return values / 7.0
    month = values.astype("datetime64[D]").astype("datetime64[M]")
    start = month.astype("datetime64[D]").astype("int64")
    length = (month + 1).astype("datetime64[D]").astype("int64") - start
    months = month.astype("int64") + (values - start) / length
    if unit == "Q":
        return np.asarray(months / 3.0)
    if unit == "Y":
        return np.asarray(months / 12.0)
    return np.asarray(months)


def _prepare(
    orders: pd.DataFrame, cols: OrderColumns, *, monetary_value: bool
) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray | None]:
    """The customer codes (int32 where they fit), sorted ids, UTC nanoseconds and amounts."""
    customer_col, at_col = cols.customer_id, cols.at
    amount_col = cols.amount if monetary_value else None
    columns = [customer_col, at_col] + ([amount_col] if amount_col else [])
    require_columns(orders, columns, frame_name="orders")
    check_ids(orders, customer_col, frame_name="orders", what="customer ids")
    codes, uniques = id_codes(orders[customer_col], sort=True)
    nanoseconds = utc_nanoseconds(as_utc(orders[at_col], at_col))
    amounts = None
    if amount_col:
        amounts = check_numeric(orders[amount_col], amount_col, non_negative=True).to_numpy()
    return codes, uniques.rename(customer_col), nanoseconds, amounts


def _occasion_keys(
    codes: np.ndarray,
    nanoseconds: np.ndarray,
    occasion: str,
    *,
    last_day: int,
    after_start: int | None = None,
    amounts: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int, np.ndarray | None]:
    """
    One key ``customer * span + (occasion start - low)`` per order kept, and ``span``, ``low``.

    An order is kept when its UTC day is at most ``last_day`` and (with ``after_start``) its
    occasion starts after that day. The keys are built a block of rows at a time into the
    narrowest unsigned type holding them, so no int64 array per order is made.
    """
    n_customers = int(codes.max()) + 1 if codes.size else 0
    if nanoseconds.size == 0:
        return np.empty(0, dtype=np.uint32), 1, 0, (np.empty(0) if amounts is not None else None)
    low_day = int(nanoseconds.min()) // _NS_PER_DAY
    high_day = int(nanoseconds.max()) // _NS_PER_DAY
    low, high = (int(d) for d in _occasion_start(np.array([low_day, high_day]), occasion))
    span = high - low + 1
    key_type = np.uint32 if n_customers * span <= _UINT32_KEYS else np.int64
    keys = np.empty(len(codes), dtype=key_type)
    kept = np.empty(len(codes)) if amounts is not None else None
    size = 0
    for start in range(0, len(codes), _BLOCK_ROWS):
        days = nanoseconds[start : start + _BLOCK_ROWS] // _NS_PER_DAY
        starts = _occasion_start(days, occasion)
        keep = days <= last_day
        if after_start is not None:
            keep &= starts > after_start
        block: Any = codes[start : start + _BLOCK_ROWS][keep].astype(key_type)
        block *= key_type(span)
        block += (starts[keep] - low).astype(key_type)
        keys[size : size + len(block)] = block
        if kept is not None and amounts is not None:
            kept[size : size + len(block)] = amounts[start : start + _BLOCK_ROWS][keep]
        size += len(block)
    return keys[:size], span, low, (kept[:size] if kept is not None else None)


def _occasions(
    keys: np.ndarray, span: int, amounts: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """
    Distinct (customer, occasion) pairs sorted by customer then time, with their totals.

    ``keys`` come from :func:`_occasion_keys` and are sorted in place; the occasion starts are
    returned as offsets from that function's ``low``.
    """
    if keys.size == 0:
        empty = np.empty(0, dtype="int64")
        return empty, empty, (np.empty(0) if amounts is not None else None)
    # sort-based grouping (numpy's hash-based unique is several times slower here)
    order = None
    if amounts is None:
        keys.sort()
        ordered = keys
    else:
        order = np.argsort(keys)
        ordered = keys[order]
    distinct = np.empty(len(ordered), dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    totals = None
    if amounts is not None and order is not None:
        first = np.flatnonzero(distinct)
        totals = np.add.reduceat(amounts[order], first)
        del order, first
    unique = ordered[distinct]
    del ordered, distinct
    customer = unique // unique.dtype.type(span)
    unique -= customer * unique.dtype.type(span)  # now the occasion start's offset
    return customer, unique, totals


def rfm_partial(
    orders: pd.DataFrame,
    *,
    as_of: Instant,
    orders_columns: OrderColumns = OrderColumns(),
    monetary_value: bool = False,
    time_unit: str = "D",
    occasion: str = "D",
) -> pd.DataFrame:
    """
    Summarise the orders of some customers (the "split" step of :func:`rfm_summary`).

    ``orders`` must hold *all* orders of the customers it contains; the result
    holds one row per customer and depends on no other customer, so frames
    split by customer can be summarised in parallel (Dask
    ``map_partitions``, Spark ``applyInPandas``) and joined with
    :func:`rfm_combine`.

    Args:
        orders: all orders of some customers; not modified.
        as_of: the moment the summary looks from (the end of the observation).
        orders_columns: the columns of ``orders`` (as in :func:`rfm_summary`).
        monetary_value: also summarise the order amounts.
        time_unit: unit of ``recency`` and ``T``.
        occasion: calendar period that merges orders into one purchase.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({"customer_id": ["a", "a"], "at": ["2026-01-01", "2026-01-08"]})
        >>> rfm_partial(orders, as_of="2026-01-15", time_unit="W")
                     frequency  recency    T
        customer_id
        a                    1      1.0  2.0
    """
    unit = _unit(time_unit, "time_unit")
    occ = _unit(occasion, "occasion")
    end_day = int(_days(pd.Series([utc_timestamp(as_of, name="as_of")]))[0])
    codes, uniques, nanoseconds, amounts = _prepare(
        orders, orders_columns, monetary_value=monetary_value
    )
    keys, span, low, amounts = _occasion_keys(
        codes, nanoseconds, occ, last_day=end_day, amounts=amounts
    )
    del codes, nanoseconds
    customer, start, totals = _occasions(keys, span, amounts)
    del keys
    first_rows = (
        np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]]) if customer.size else customer
    )
    counts = np.diff(np.r_[first_rows, customer.size])
    last_rows = first_rows + counts - 1
    end_position = unit_positions(_occasion_start(np.array([end_day]), occ), unit)[0]
    first_position = unit_positions(start[first_rows].astype("int64") + low, unit)
    last_position = unit_positions(start[last_rows].astype("int64") + low, unit)
    del start
    result = pd.DataFrame(
        {
            "frequency": (counts - 1).astype("int64"),
            "recency": last_position - first_position,
            "T": end_position - first_position,
        },
        index=uniques[customer[first_rows]],
    )
    if totals is not None:
        repeat_total = (
            np.add.reduceat(totals, first_rows) - totals[first_rows] if counts.size else totals
        )
        repeats = counts - 1
        result["monetary_value"] = np.divide(
            repeat_total, repeats, out=np.zeros(repeats.size), where=repeats > 0
        )
    result.attrs = {"time_unit": unit, "occasion": occ}
    return result


def rfm_combine(partials: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """
    Join partial summaries from :func:`rfm_partial` into one, sorted by customer.

    Args:
        partials: at least one summary from :func:`rfm_partial`, each over a disjoint set of
            customers (indexed by customer id); the first one's ``attrs`` are kept.

    Raises:
        ValidationError: ``partials`` is not a non-empty list of frames (naming the item).
        MissingColumnError: a partial lacks ``frequency``, ``recency`` or ``T``.
        DataError: when a customer appears in two partial results (its orders
            were split across partitions), or partials have different columns.

    Examples:
        >>> import pandas as pd
        >>> a = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [3.0]}, index=["b"])
        >>> b = pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}, index=["a"])
        >>> rfm_combine([a, b]).index.tolist()
        ['a', 'b']
    """
    parts = partial_frames(partials, _RFM, values=_RFM, producer="rfm_partial")
    combined = pd.concat(parts) if len(parts) > 1 else parts[0].copy()
    duplicated = combined.index.duplicated()
    if bool(duplicated.any()):
        raise DataError(
            f"customer {combined.index[duplicated][0]!r} appears in more than one partial summary. "
            "Hint: partition the orders by customer so each customer's orders stay together.",
            value=combined.index[duplicated][0],
        )
    combined = combined.sort_index()
    combined.attrs = dict(parts[0].attrs)
    return combined


def rfm_summary(
    orders: pd.DataFrame,
    *,
    as_of: Instant,
    orders_columns: OrderColumns = OrderColumns(),
    monetary_value: bool = False,
    time_unit: str = "D",
    occasion: str = "D",
) -> pd.DataFrame:
    """
    Summarise an order log into the RFM statistics of the buy-till-you-die models.

    Orders are first merged into purchase *occasions*: all orders of a customer
    in the same UTC calendar ``occasion`` period (``"D"`` day by default;
    ``"W"`` ISO week, ``"M"``, ``"Q"``, ``"Y"``) count as one purchase, with
    their amounts added up. Orders after ``as_of`` (the end of the observation,
    read as a UTC day; orders on that day count) are ignored. Per customer, with times measured in
    ``time_unit`` from the start of the customer's first occasion
    (see :func:`unit_positions` for how months are counted):

    - ``frequency``: number of *repeat* occasions (occasions minus one);
    - ``recency``: time of the last occasion (0 when ``frequency`` is 0);
    - ``T``: time of the end of the observation period (the start of its
      occasion period);
    - ``monetary_value`` (only with ``monetary_value=True``): mean total of the repeat
      occasions, the first excluded; 0 when ``frequency`` is 0.

    This is the customer-by-sufficient-statistic summary of Schmittlein,
    Morrison & Colombo (1987) and Fader, Hardie & Lee (2005), the input of
    :class:`BGNBDModel`, :class:`ParetoNBDModel`, :class:`GammaGammaModel` and
    (with yearly occasions and units) :class:`BGBBModel`.

    Args:
        orders: one row per order; not modified.
        as_of: the moment the summary looks from: the end of the observation
            (calibration) period.
        orders_columns: the columns of ``orders``: ``customer_id``, ``at``
            (aware timestamps, or naive date-only ones read as UTC days) and,
            with ``monetary_value``, ``amount`` (>= 0).
        monetary_value: also summarise the order amounts (``monetary_value``).
        time_unit: unit of ``recency`` and ``T``: ``"D"``, ``"W"``, ``"M"``,
            ``"Q"`` or ``"Y"``.
        occasion: calendar period that merges orders into one purchase.

    Returns:
        One row per customer with a first order on or before ``as_of``,
        indexed by customer id (sorted); ``attrs`` records the time unit.

    Raises:
        DataError: missing columns, unreadable or naive timestamps with a time
            of day, missing ids, negative or missing amounts, an unknown unit.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame(
        ...     {
        ...         "customer_id": ["a", "a", "a", "b"],
        ...         "at": ["2026-01-05", "2026-01-05", "2026-03-05", "2026-02-05"],
        ...         "amount": [10.0, 5.0, 30.0, 20.0],
        ...     }
        ... )
        >>> rfm_summary(orders, as_of="2026-04-05", monetary_value=True, time_unit="M")
                     frequency  recency    T  monetary_value
        customer_id
        a                    1      2.0  3.0            30.0
        b                    0      0.0  2.0             0.0
    """
    partial = rfm_partial(
        orders,
        as_of=as_of,
        orders_columns=orders_columns,
        monetary_value=monetary_value,
        time_unit=time_unit,
        occasion=occasion,
    )
    return rfm_combine([partial])


def calibration_holdout(
    orders: pd.DataFrame,
    *,
    as_of: Instant,
    end: Instant,
    orders_columns: OrderColumns = OrderColumns(),
    monetary_value: bool = False,
    time_unit: str = "D",
    occasion: str = "D",
) -> pd.DataFrame:
    """
    Split an order log into a calibration summary and the holdout outcome.

    The calibration columns are :func:`rfm_summary` as of ``as_of`` (the
    cut-off a model is fitted at). For the same customers, the holdout columns
    count what happened after it, up to ``end``, merged into occasions the
    same way: ``frequency_holdout`` (occasions in the holdout),
    ``duration_holdout`` (its length in ``time_unit``) and, with
    ``monetary_value``, ``monetary_value_holdout`` (mean occasion total in the
    holdout, 0 if none). Customers whose first order falls in the holdout are
    not included.

    Args:
        orders: one row per order; not modified.
        as_of: the calibration cut-off: the moment the calibration summary looks from.
        end: the end of the holdout period (a UTC day; orders on that day count).
        orders_columns: the columns of ``orders`` (as in :func:`rfm_summary`).
        monetary_value: also summarise the order amounts.
        time_unit: unit of ``recency``, ``T`` and ``duration_holdout``.
        occasion: calendar period that merges orders into one purchase.

    Raises:
        DataError: as :func:`rfm_summary`, or when ``end`` is not after ``as_of``.

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame(
        ...     {"customer_id": ["a", "a", "a", "b"],
        ...      "at": ["2026-01-01", "2026-01-02", "2026-01-09", "2026-01-10"]}
        ... )
        >>> calibration_holdout(orders, as_of="2026-01-05", end="2026-01-12")
                     frequency  recency    T  frequency_holdout  duration_holdout
        customer_id
        a                    1      1.0  4.0                  1               7.0
    """
    cal = utc_timestamp(as_of, name="as_of")
    stop = utc_timestamp(end, name="end")
    if stop.normalize() <= cal.normalize():
        raise DataError(
            f"end ({stop.date()}) must be after as_of ({cal.date()}). "
            "Hint: the holdout period runs from as_of (the calibration cut-off) to end."
        )
    calibration = rfm_summary(
        orders,
        as_of=cal,
        orders_columns=orders_columns,
        monetary_value=monetary_value,
        time_unit=time_unit,
        occasion=occasion,
    )
    unit = calibration.attrs["time_unit"]
    occ = calibration.attrs["occasion"]
    codes, uniques, nanoseconds, amounts = _prepare(
        orders, orders_columns, monetary_value=monetary_value
    )
    cal_day, end_day = (int(d) for d in _days(pd.Series([cal, stop])))
    cal_start = int(_occasion_start(np.array([cal_day]), occ)[0])
    keys, span, _, amounts = _occasion_keys(
        codes, nanoseconds, occ, last_day=end_day, after_start=cal_start, amounts=amounts
    )
    del codes, nanoseconds
    customer, _, totals = _occasions(keys, span, amounts)
    count = np.bincount(customer, minlength=len(uniques))
    counts = pd.Series(count, index=uniques).reindex(calibration.index)
    result = calibration.copy()
    result["frequency_holdout"] = counts.to_numpy().astype("int64")
    bounds = _occasion_start(np.array([cal_day, end_day]), occ)
    positions = unit_positions(bounds, unit)
    result["duration_holdout"] = float(positions[1] - positions[0])
    if totals is not None:
        spent = np.bincount(customer, weights=totals, minlength=len(uniques))
        spend = pd.Series(spent, index=uniques).reindex(calibration.index).to_numpy()
        n = result["frequency_holdout"].to_numpy()
        result["monetary_value_holdout"] = np.divide(spend, n, out=np.zeros(n.size), where=n > 0)
    result.attrs = dict(calibration.attrs)
    return result
