"""
Helpers shared by the KPI calculators: column checks, segments, period ordinals, result frames.

Every calculator converts timestamps with the shared time rule
(:func:`crmlifecycle._frames.as_utc`) and buckets them into calendar periods as
integer *ordinals* (months since 1970-01 for ``"M"``, quarters since 1970Q1
for ``"Q"``...), exactly the ordinals of :class:`pandas.Period`, so that
arithmetic such as "the next period" is an integer ``+ 1`` and the result can
be turned back into ``Period`` values at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._finite import ensure_finite, finite_float
from crmlifecycle._frames import (
    as_utc,
    partial_frames,
    period_alias,
    require_columns,
    to_periods,
    utc_nanoseconds,
)
from crmlifecycle._ids import check_ids, ids_unique
from crmlifecycle._validators import check_names
from crmlifecycle.errors import DataError, ValidationError

__all__ = [
    "FloatArray",
    "IntArray",
    "add_up_partials",
    "check_by",
    "check_fraction",
    "check_non_negative",
    "check_unique",
    "compare_periods",
    "is_nan",
    "ordinals_to_periods",
    "period_grid",
    "period_ordinals",
    "ratio",
    "safe_divide",
    "segment_keys",
    "timestamp_ordinal",
    "utc_values",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_NS_PER_DAY = 86_400 * 10**9
_MAX_LOOKUP_DAYS = 400_000  # about 1,100 years of days
_PERIOD_LENGTH_IN_MONTHS = {"M": 1, "Q": 3, "Y": 12}


def utc_values(frame: pd.DataFrame, column: str, *, allow_missing: bool = False) -> pd.Series:
    """Return ``frame[column]`` as UTC timestamps (the shared time rule)."""
    return as_utc(frame[column], column, allow_missing=allow_missing)


def period_ordinals(utc: pd.Series, freq: str) -> IntArray:
    """
    Return the ``pandas.Period`` ordinal of each UTC timestamp for ``freq``.

    The timestamps are first cut to UTC days; the days are then mapped to
    periods through a lookup table built for the (small) range of days
    present, which is much faster than calendar arithmetic per row. Missing
    timestamps must be masked by the caller first.
    """
    alias = period_alias(freq)
    days = utc_nanoseconds(utc) // _NS_PER_DAY
    if alias == "D" or len(days) == 0:
        return days
    low, high = int(days.min()), int(days.max())
    if high - low > _MAX_LOOKUP_DAYS:
        stamps = pd.Series(days.astype("datetime64[D]")).dt.tz_localize("UTC")
        return np.asarray(pd.PeriodIndex(to_periods(stamps, alias)).asi8, dtype=np.int64)
    span = pd.Series(np.arange(low, high + 1, dtype=np.int64).astype("datetime64[D]"))
    lookup = np.asarray(pd.PeriodIndex(span.dt.to_period(alias)).asi8, dtype=np.int64)
    result: IntArray = lookup[days - low]
    return result


def timestamp_ordinal(stamp: pd.Timestamp, freq: str) -> int:
    """Return the period ordinal of one UTC timestamp."""
    return int(period_ordinals(pd.Series([stamp], dtype="datetime64[ns, UTC]"), freq)[0])


def ordinals_to_periods(ordinals: Sequence[int] | IntArray, freq: str) -> pd.PeriodIndex:
    """Turn period ordinals back into a :class:`pandas.PeriodIndex`."""
    alias = period_alias(freq)
    values = np.asarray(ordinals, dtype=np.int64)
    index: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        values, freq=alias
    )
    return index


def period_grid(
    partial: pd.DataFrame, keys: Sequence[str], low: int, high: int, *, values: Sequence[str]
) -> pd.DataFrame:
    """
    Spread summed partials over every (segment, period) pair from ``low`` to ``high``.

    The combine steps report every period of the range for every segment seen
    in ``partial`` (a frame of the ``keys`` columns, ``_ordinal`` and the
    additive ``values``), so a quiet period shows as zeros instead of a
    missing row. Rows of ``partial`` outside the range are dropped.
    """
    ordinals = pd.DataFrame({"_ordinal": np.arange(low, high + 1, dtype=np.int64)})
    segments = partial[list(keys)].drop_duplicates() if keys else pd.DataFrame(index=[0])
    grid = segments.merge(ordinals, how="cross")
    table = grid.merge(partial, on=[*keys, "_ordinal"], how="left")
    table[list(values)] = table[list(values)].fillna(0)
    return table


def add_up_partials(
    partials: object, value: str, *, freq: str | None, producer: str
) -> pd.DataFrame:
    """
    Sum the ``value`` counts of ``producer``'s partials over their other columns.

    Every other column (segments, and ``_ordinal`` with ``freq``) is a key; without keys
    the result is one row holding the total. The partials are checked first
    (:func:`crmlifecycle._frames.partial_frames`).
    """
    needed = [value, *(["_ordinal"] if freq is not None else [])]
    parts = partial_frames(partials, needed, values=needed, producer=producer)
    frame = pd.concat(parts, ignore_index=True)
    keys = [c for c in frame.columns if c != value]
    if keys:
        frame = frame.groupby(keys, sort=True, observed=True, as_index=False)[[value]].sum()
    else:
        frame = pd.DataFrame({value: [int(frame[value].sum())]})
    frame[value] = frame[value].astype("int64")
    return frame


def compare_periods(fine: str, coarse: str) -> None:
    """
    Require that periods of ``coarse`` are unions of periods of ``fine``.

    Raises:
        DataError: when ``coarse`` is finer than ``fine`` (e.g. monthly data asked per week).
    """
    fine_alias, coarse_alias = period_alias(fine), period_alias(coarse)
    if fine_alias == coarse_alias:
        return
    fine_len = _PERIOD_LENGTH_IN_MONTHS.get(fine_alias)
    coarse_len = _PERIOD_LENGTH_IN_MONTHS.get(coarse_alias)
    if fine_len is None or coarse_len is None or coarse_len < fine_len:
        raise DataError(
            f"cannot report data recorded per {fine!r} period by freq={coarse!r}: a {coarse!r} "
            f"period does not contain whole {fine!r} periods. "
            f"Hint: use a freq at least as coarse as the data, e.g. 'M', 'Q' or 'Y'."
        )


def check_unique(frame: pd.DataFrame, columns: Sequence[str], *, frame_name: str) -> None:
    """
    Raise :class:`DataError` if the ``columns`` key is duplicated in ``frame``.

    A single id column is first checked by the one id rule (``check_ids``): a missing or
    empty id is refused, never counted as a record of its own.
    """
    if len(columns) == 1:
        check_ids(frame, columns[0], frame_name=frame_name)
        if ids_unique(frame[columns[0]]):  # one pass; the rows are looked for only if not
            return
    duplicated = frame.duplicated(subset=list(columns), keep=False)
    if bool(duplicated.any()):
        rows = list(frame.index[duplicated.to_numpy()][:20])
        first = frame.loc[duplicated, list(columns)].iloc[0].tolist()
        key = first[0] if len(first) == 1 else tuple(first)
        raise DataError.malformed(
            columns[0] if len(columns) == 1 else str(list(columns)),
            f"must be unique in the {frame_name} frame but repeats",
            rows=rows,
            value=key,
            hint="drop the duplicated rows or aggregate them before calling.",
        )


def segment_keys(by: str | Sequence[str] | None) -> list[str]:
    """
    Return the segment columns of ``by=`` as a list (``None`` gives no segment).

    A KPI returns a number without ``by`` and a table with it, and its overloads tell a
    type checker so; an empty list would name no segment yet ask for a table, so it is
    refused rather than answered with a number the types do not announce.

    Raises:
        ValidationError: ``by`` is an empty sequence.

    Examples:
        >>> segment_keys("owner"), segment_keys(["owner", "region"]), segment_keys(None)
        (['owner'], ['owner', 'region'], [])
    """
    keys = segment_names(by)
    if by is not None and not keys:
        raise ValidationError.for_field(
            "by",
            by,
            "a column name or a non-empty list of column names",
            hint="pass by=None for the whole data as one number, or name at least one column.",
        )
    return keys


def segment_names(by: str | Sequence[str] | None) -> list[str]:
    """
    Return the segment columns of ``by=`` as a list, each checked as a name (text).

    The one door check of a ``by=`` argument: a frame, a number or a mapping given there is
    a :class:`ValidationError` naming ``by`` (never pandas' "unhashable" error). ``None``
    gives no segment.

    Raises:
        ValidationError: ``by`` is neither a name nor a list of names.

    Examples:
        >>> segment_names("owner"), segment_names(None)
        (['owner'], [])
    """
    if by is None:
        return []
    return list(
        check_names("by", by, hint="name the segment column(s), e.g. by='channel' or by=None.")
    )


def check_by(
    frame: pd.DataFrame, by: Sequence[str], *, frame_name: str, roles: Sequence[str] = ()
) -> None:
    """
    Check that the segment columns exist and hold no missing values.

    ``roles`` are the columns the KPI reads as something else (the id, a time, an amount):
    a segment naming one of them is refused, as it would be read twice.

    Raises:
        ValidationError: a segment names a column of ``roles`` (``by='customer_id'``).
        MissingColumnError, DataError: a segment column is absent or has missing values.
    """
    for column in by:
        if column in roles:
            raise ValidationError.for_field(
                "by",
                column,
                f"a segment column, not one the KPI reads as data ({', '.join(roles)}) "
                f"in the {frame_name} frame",
                hint="segment by another column (e.g. a channel or a plan), or pass by=None.",
            )
    require_columns(frame, by, frame_name=frame_name)
    for column in by:
        missing = frame[column].isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "is a segment (by=) column with missing values",
                rows=list(frame.index[missing.to_numpy()][:20]),
                hint=f"fill them, e.g. df[{column!r}].fillna('unknown').",
            )


def safe_divide(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """
    Divide element-wise; a zero denominator gives NaN (the KPI is undefined there).

    A quotient that overflows (an amount over a tiny one) raises :class:`DataError`.
    """
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    with np.errstate(over="ignore"):
        result: pd.Series = num.where(den != 0).div(den.where(den != 0))
    inputs = [str(numerator.name), str(denominator.name)]
    return ensure_finite(result, name=f"{inputs[0]} / {inputs[1]}", inputs=inputs)


def ratio(
    numerator: float, denominator: float, *, name: str = "a ratio", inputs: Sequence[str] = ()
) -> float:
    """
    Return ``numerator / denominator``, NaN when the denominator is zero, never infinite.

    A quotient that overflows raises :class:`DataError` naming ``name`` and ``inputs``.
    """
    if denominator == 0:
        return math.nan
    return ensure_finite(float(numerator) / float(denominator), name=name, inputs=inputs)


def is_nan(value: object) -> bool:
    """Return whether ``value`` is a float NaN (an undefined KPI passed on)."""
    return isinstance(value, float) and math.isnan(value)


def _undefined_hint(name: str) -> str:
    return (
        f"{name} is NaN, an undefined KPI (e.g. a CAC with nobody acquired, a churn rate "
        "with nobody at the start): decide what it should be before passing it on."
    )


def check_fraction(value: object, name: str, *, allow_zero: bool = True) -> float:
    """Validate a rate or margin in [0, 1] (or (0, 1] without ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError.for_field(name, value, "a number between 0 and 1")
    if isinstance(value, float) and math.isnan(value):
        raise ValidationError.for_field(
            name, value, "a number between 0 and 1", hint=_undefined_hint(name)
        )
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        expected = "a number between 0 and 1" if allow_zero else "a number in (0, 1]"
        raise ValidationError.for_field(
            name, value, expected, hint=f"pass {name} as a fraction, e.g. 0.8 for 80%."
        )
    return float(value)


def check_non_negative(value: object, name: str) -> float:
    """Validate a finite number >= 0 (a NaN, an undefined KPI, is refused with its own hint)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError.for_field(name, value, "a finite number >= 0")
    if isinstance(value, float) and math.isnan(value):
        raise ValidationError.for_field(
            name, value, "a finite number >= 0", hint=_undefined_hint(name)
        )
    number = finite_float(value)  # an int too large for a float is refused, not an OverflowError
    if number is None or number < 0:
        raise ValidationError.for_field(name, value, "a finite number >= 0 (at most about 1.8e308)")
    return number
