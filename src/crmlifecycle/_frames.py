"""
Checks and conversions shared by every function that reads a DataFrame.

The time rule (documented in ``docs/data-contracts.md``): timestamps are kept
in UTC inside computations. A timezone-aware column is converted to UTC, and so
is a column whose values all carry a UTC offset even when the offsets differ
(an export across a daylight-saving change: ``+01:00`` and ``+02:00``). A
naive column is accepted only when every value is at midnight (a *date-only*
column, e.g. ``2026-03-01``), and is then read as that UTC calendar day; naive
timestamps with a time of day are ambiguous and raise :class:`DataError`.

The frame rules: every reader calls :func:`require_columns`, which also refuses
MultiIndex columns and repeated column labels (:func:`check_labels`); a label
column is compared with :func:`equals` (a missing cell is never equal, whatever
the dtype: nullable, categorical, pyarrow) and a true/false column read with
:func:`check_flags`; every ``combine_*`` step checks its partials with
:func:`partial_frames`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle.errors import DataError, MissingColumnError, ValidationError

__all__ = [
    "PERIOD_ALIASES",
    "as_sequence",
    "as_utc",
    "check_flags",
    "check_labels",
    "check_numeric",
    "equals",
    "is_missing",
    "partial_frames",
    "period_alias",
    "require_columns",
    "to_periods",
    "utc_nanoseconds",
    "utc_timestamp",
    "utc_window",
]

#: The end of an ISO 8601 timestamp that carries a UTC offset (``Z``, ``+02:00``, ``-0500``).
_OFFSET: Final = re.compile(r"[T ][0-9:.,]+\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")

#: pandas frequency strings we accept, mapped to the Period alias used inside.
PERIOD_ALIASES: Final[dict[str, str]] = {
    "D": "D",
    "W": "W",
    "M": "M",
    "ME": "M",
    "MS": "M",
    "Q": "Q",
    "QE": "Q",
    "QS": "Q",
    "Y": "Y",
    "YE": "Y",
    "YS": "Y",
    "A": "Y",
}


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, frame_name: str = "") -> None:
    """
    Check that ``frame`` is a DataFrame with one level of unique column labels holding ``columns``.

    The one door of every reader of a frame: a frame whose columns are a
    :class:`pandas.MultiIndex` or repeat a label is refused (``df[name]`` would be a
    frame, not a column, and a result would depend on which copy pandas picks), as is
    a needed column's name that is not text.

    Raises:
        DataError: ``frame`` is not a DataFrame, its columns are a MultiIndex or
            repeat a label (naming it), or a needed column name is not text.
        MissingColumnError: a needed column is absent (its closest names suggested).

    Examples:
        >>> frame = pd.DataFrame([[1, 2]], columns=["id", "id"])
        >>> require_columns(frame, ["id"], frame_name="orders")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: column 'id' appears 2 times in the orders frame; ...
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame{f' for {frame_name}' if frame_name else ''}, "
            f"got {type(frame).__name__}. Hint: build one with pandas.DataFrame(...) "
            "or read one with pandas.read_csv(...)."
        )
    check_labels(frame, frame_name=frame_name)
    columns = list(columns)
    for name in columns:
        if not isinstance(name, str):
            raise DataError(
                f"a column name must be text, got {type(name).__name__} {name!r}"
                f"{f' for the {frame_name} frame' if frame_name else ''}. "
                "Hint: name columns with strings, e.g. in the frame's column record.",
                value=name,
            )
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise MissingColumnError(missing, frame.columns, frame=frame_name)


def check_labels(frame: pd.DataFrame, *, frame_name: str = "") -> None:
    """
    Refuse a frame whose columns are a :class:`pandas.MultiIndex` or repeat a label.

    Called by :func:`require_columns`; a reader that reads every column (not only
    named ones) may call it directly.

    Raises:
        DataError: naming the repeated label, or the first label of the MultiIndex.
    """
    where = f"the {frame_name} frame" if frame_name else "the frame"
    labels = frame.columns
    if isinstance(labels, pd.MultiIndex):
        first = labels[0] if len(labels) else ()
        raise DataError(
            f"{where} has MultiIndex columns ({labels.nlevels} levels, e.g. {first!r}); "
            "the library reads one level of named columns. Hint: flatten them first, e.g. "
            "df.columns = ['_'.join(map(str, c)) for c in df.columns].",
            column=str(first),
            value=first,
        )
    if not labels.is_unique:
        repeated = labels[labels.duplicated()][0]
        count = int((labels == repeated).sum())
        raise DataError(
            f"column {repeated!r} appears {count} times in {where}; each column must be "
            "named once. Hint: drop or rename the copies, e.g. "
            "df.loc[:, ~df.columns.duplicated()].",
            column=str(repeated),
            value=repeated,
        )


def _bad_rows(mask: pd.Series) -> list[object]:
    return list(mask.index[mask.to_numpy()][:20])


def as_utc(series: pd.Series, column: str, *, allow_missing: bool = False) -> pd.Series:
    """
    Return ``series`` as ``datetime64[ns, UTC]`` following the module's time rule.

    Raises:
        DataError: naive timestamps with a time of day, mixed naive/aware values,
            unparseable values, or missing values when ``allow_missing`` is false.
    """
    values = _from_arrow(series, column)
    if not isinstance(values.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        values = _parse_instants(values, column)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC")
    else:
        present = values.dropna()
        with_time = present != present.dt.normalize()
        if bool(with_time.any()):
            raise DataError.malformed(
                column,
                "holds timezone-naive timestamps with a time of day",
                rows=_bad_rows(with_time),
                value=present[with_time].iloc[0],
                hint=f"localize them first, e.g. df[{column!r}].dt.tz_localize('Europe/Berlin'); "
                "only date-only naive values are read as UTC days.",
            )
        values = values.dt.tz_localize("UTC")
    try:
        values = values.astype("datetime64[ns, UTC]")
    except (ValueError, OverflowError) as err:  # out of the nanosecond range (years 1677-2262)
        raise DataError.malformed(
            column,
            "holds timestamps outside the years 1677-2262",
            hint="drop or correct those rows; the analytics keep nanosecond timestamps.",
        ) from err
    if not allow_missing:
        missing = values.isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "has missing timestamps",
                rows=_bad_rows(missing),
                hint="drop or fill those rows before calling.",
            )
    result: pd.Series = values
    return result


def _from_arrow(series: pd.Series, column: str) -> pd.Series:
    """A pyarrow-backed timestamp or date column as pandas' own datetime dtype (same instants)."""
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return series
    arrow = dtype.pyarrow_dtype
    tz = getattr(arrow, "tz", None)
    unit = getattr(arrow, "unit", None)
    if unit not in {"s", "ms", "us", "ns", None} or not (
        str(arrow).startswith(("timestamp", "date"))
    ):
        return series  # text and other kinds are parsed as any other column
    try:
        target = pd.DatetimeTZDtype("ns", tz) if tz else np.dtype("datetime64[ns]")
        converted: pd.Series = series.astype(target)
    except (ValueError, TypeError, OverflowError) as err:
        raise DataError.malformed(
            column,
            f"cannot be read as timestamps ({str(err).splitlines()[0]})",
            hint="hold the column as datetimes in the years 1677-2262.",
        ) from err
    return converted


def _has_offset(value: object) -> bool | None:
    """Whether one cell carries a UTC offset (``None`` for a missing or unknown cell)."""
    if isinstance(value, str):
        return _OFFSET.search(value.strip()) is not None
    if isinstance(value, datetime):
        missing = value != value  # noqa: PLR0124 - pandas' NaT is a datetime unequal to itself
        return None if missing else value.tzinfo is not None
    return None


def _parse_instants(values: pd.Series, column: str) -> pd.Series:
    """
    Parse an object or text column of instants by the time rule.

    A column that pandas cannot read in one zone (offsets that differ, e.g. across a
    daylight-saving change) is read as UTC when every value carries an offset; a mix of
    values with and without an offset is refused, naming the rows without one.
    """
    hint = "use ISO 8601 text or datetime values, all with a zone or all date-only."
    kind = values.dtype
    numeric = pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind)
    if numeric and bool(values.notna().any()):  # an empty CSV column reads as all-NaN floats
        raise DataError.malformed(  # numbers are no instants (their unit would be a guess)
            column, f"holds numbers ({values.dtype}), not timestamps", hint=hint
        )
    try:
        parsed: pd.Series = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as err:
        first_error = err
    else:
        return parsed
    try:
        parsed = pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError):
        raise DataError.malformed(
            column,
            f"cannot be read as timestamps ({str(first_error).splitlines()[0]})",
            hint=hint,
        ) from first_error
    offsets = [_has_offset(v) for v in values.to_numpy(dtype=object)]
    naive = pd.Series([o is False for o in offsets], index=values.index) & parsed.notna()
    if bool(naive.any()):
        raise DataError.malformed(
            column,
            "mixes values with a UTC offset and values without one",
            rows=_bad_rows(naive),
            value=values[naive].iloc[0],
            hint="give every value an offset (e.g. '2026-03-01T09:00:00+01:00'), "
            "or localize the column first; an instant without a zone is ambiguous.",
        )
    return parsed


def utc_nanoseconds(utc: pd.Series) -> npt.NDArray[np.int64]:
    """
    Return a ``datetime64[ns, UTC]`` series (from :func:`as_utc`) as int64 nanoseconds since 1970.

    Missing values (``NaT``) become ``numpy.iinfo(numpy.int64).min``, as numpy stores them.
    """
    naive = utc.to_numpy(dtype="datetime64[ns]")  # UTC wall times, without copying the zone
    nanoseconds: npt.NDArray[np.int64] = naive.view(np.int64)
    return nanoseconds


def utc_timestamp(value: object, *, name: str) -> pd.Timestamp:
    """
    Convert a scalar date/datetime/string to a UTC ``Timestamp`` by the same rule.

    Numbers and booleans are refused (they are not instants, whatever pandas would make of
    them), as are missing values (``None``, ``NaT``, NaN).

    The instant must lie in the nanosecond range of pandas (the years 1677-2262), the range
    every timestamp column is read in, so an argument compares with the frames it looks at.

    Raises:
        DataError: a value that is not an instant, a missing one, or a naive one with a
            time of day.
        ValidationError: an instant outside the years 1677-2262 (``as_of="9999-01-01"``),
            naming the argument.
    """
    if isinstance(value, bool | int | float | Decimal | np.number) and not (
        isinstance(value, float | np.floating) and np.isnan(value)
    ):
        raise DataError(
            f"{name}={value!r} is not a date or timestamp (a number is not an instant). "
            "Hint: pass a timezone-aware datetime, a date or ISO 8601 text.",
            value=value,
        )
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except pd.errors.OutOfBoundsDatetime as err:
        raise _out_of_range(name, value) from err
    except (ValueError, TypeError, OverflowError) as err:
        raise DataError(
            f"{name}={value!r} is not a date or timestamp. Hint: pass a datetime or ISO text."
        ) from err
    if pd.isna(stamp):
        raise DataError(f"{name} must not be missing. Hint: pass a datetime or ISO text.")
    if stamp.tzinfo is None:
        if stamp != stamp.normalize():
            raise DataError(
                f"{name}={value!r} is a naive timestamp with a time of day. "
                "Hint: pass a timezone-aware datetime, or a date."
            )
        stamp = stamp.tz_localize("UTC")
    try:
        return stamp.tz_convert("UTC").as_unit("ns")
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as err:
        raise _out_of_range(name, value) from err


def _out_of_range(name: str, value: object) -> ValidationError:
    """The refusal of an instant argument outside the nanosecond range (years 1677-2262)."""
    return ValidationError.for_field(
        name,
        value,
        "an instant in the years 1677-2262 (1677-09-21 to 2262-04-11, the range of every "
        "timestamp column)",
        hint=f"pass {name}= as an instant inside that range.",
    )


def utc_window(
    start: object | None, end: object | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """
    Read a window ``[start, end)`` by the time rule; either side may be open (``None``).

    The one window check of the analytics: when both sides are given, ``start`` must be
    before ``end``.

    Raises:
        DataError: a side that is not an instant (see :func:`utc_timestamp`).
        ValidationError: ``start`` at or after ``end`` (an empty or reversed window), naming both.

    Examples:
        >>> utc_window("2026-01-01", None)
        (Timestamp('2026-01-01 00:00:00+0000', tz='UTC'), None)
        >>> utc_window("2026-02-01", "2026-01-01")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'end' must be after start='2026-02-01' ...
    """
    begin = None if start is None else utc_timestamp(start, name="start")
    finish = None if end is None else utc_timestamp(end, name="end")
    if begin is not None and finish is not None and finish <= begin:
        raise ValidationError.for_field(
            "end",
            end,
            f"after start={start!r} (the window [start, end) is empty or reversed)",
            hint="swap start= and end=, or widen the window.",
        )
    return begin, finish


def period_alias(freq: str) -> str:
    """
    Map a pandas frequency string (``"M"``, ``"ME"``, ``"Q"``...) to a Period alias.

    Raises:
        DataError: for a frequency the library does not support.
    """
    alias = PERIOD_ALIASES.get(str(freq).upper())
    if alias is None:
        raise DataError(
            f"unsupported period frequency {freq!r}. "
            f"Hint: use one of {sorted(set(PERIOD_ALIASES))}."
        )
    return alias


def to_periods(utc: pd.Series, freq: str) -> pd.Series:
    """Bucket UTC timestamps into calendar periods (``Period`` dtype), in UTC."""
    alias = period_alias(freq)
    periods: pd.Series = utc.dt.tz_localize(None).dt.to_period(alias)
    return periods


def check_numeric(
    series: pd.Series,
    column: str,
    *,
    allow_missing: bool = False,
    non_negative: bool = False,
) -> pd.Series:
    """Return ``series`` as float64, raising :class:`DataError` on text, NaN or negatives."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise DataError.malformed(
            column,
            f"must be numeric (dtype is {series.dtype})",
            hint=f"convert it, e.g. pandas.to_numeric(df[{column!r}]).",
        )
    values = series.astype("float64")
    array = values.to_numpy()
    if not allow_missing:
        missing = pd.Series(np.isnan(array), index=values.index)
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "has missing (NaN) values",
                rows=_bad_rows(missing),
                hint="drop or fill those rows; the library never guesses a number.",
            )
    infinite = pd.Series(np.isinf(array), index=values.index)
    if bool(infinite.any()):
        raise DataError.malformed(
            column, "has infinite values", rows=_bad_rows(infinite), hint="remove them."
        )
    if non_negative:
        negative = pd.Series(array < 0, index=values.index)
        if bool(negative.any()):
            raise DataError.malformed(
                column,
                "has negative values",
                rows=_bad_rows(negative),
                value=float(array[negative.to_numpy()][0]),
                hint="record refunds separately; this calculation needs amounts >= 0.",
            )
    return values


def check_flags(series: pd.Series, column: str) -> npt.NDArray[np.bool_]:
    """
    Return a true/false column as a numpy mask; text, numbers and missing values are refused.

    A nullable ``boolean`` (or pyarrow ``bool``) column is read like a NumPy ``bool`` one;
    a missing value (``pd.NA``) is refused, naming the rows, rather than guessed false.

    Raises:
        DataError: a column that is not boolean, or one with missing values.

    Examples:
        >>> check_flags(pd.Series([True, False], dtype="boolean"), "paid").tolist()
        [True, False]
        >>> check_flags(pd.Series([True, None], dtype="boolean"), "paid")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: column 'paid' has missing true/false values in rows [1]...
    """
    if not pd.api.types.is_bool_dtype(series.dtype):
        raise DataError.malformed(
            column,
            f"must be boolean (dtype is {series.dtype})",
            hint=f"convert it, e.g. df[{column!r}] = df[{column!r}] == 'yes'.",
        )
    missing = series.isna()
    if bool(missing.any()):
        raise DataError.malformed(
            column,
            "has missing true/false values",
            rows=_bad_rows(missing),
            hint=f"fill them, e.g. df[{column!r}].fillna(False).",
        )
    flags: npt.NDArray[np.bool_] = series.to_numpy(dtype=bool)
    return flags


def equals(series: pd.Series, value: str) -> npt.NDArray[np.bool_]:
    """
    Where a column's cells equal ``value``, as a numpy mask; a missing cell is not equal.

    The same answer for every dtype a column of labels comes in: ``object`` with
    ``None``/NaN, nullable ``string`` with ``pd.NA`` (where ``==`` gives ``<NA>``, which a
    mask cannot hold), categorical with or without ``value`` among its categories, pyarrow.

    Examples:
        >>> kinds = pd.Series(["lead", None, "case"], dtype="string")
        >>> equals(kinds, "lead").tolist(), (~equals(kinds, "lead")).tolist()
        ([True, False, False], [False, True, True])
        >>> equals(pd.Series(["a"], dtype="category"), "new").tolist()
        [False]
    """
    mask: npt.NDArray[np.bool_] = series.eq(value).to_numpy(dtype=bool, na_value=False)
    return mask


def _partial_list(partials: object, *, name: str, producer: str, hint: str) -> list[object]:
    """The items of a combine step's ``partials``: a non-empty iterable, not text or one frame."""
    if isinstance(partials, pd.DataFrame | pd.Series | Mapping):
        raise ValidationError(
            f"{name!r} must be a list of frames returned by {producer}() (got one "
            f"{type(partials).__name__}). Hint: wrap a single frame in a list: [frame].",
            field=name,
            value=partials,
        )
    if isinstance(partials, str | bytes) or not isinstance(partials, Iterable):
        raise ValidationError.for_field(
            name, partials, f"a list of frames returned by {producer}()", hint=hint
        )
    items = list(partials)
    if not items:
        raise ValidationError.for_field(
            name,
            partials,
            f"at least one frame returned by {producer}() (nothing to combine)",
            hint=hint,
        )
    return items


def partial_frames(
    partials: object,
    columns: Sequence[str],
    *,
    values: Sequence[str],
    producer: str,
    name: str = "partials",
) -> list[pd.DataFrame]:
    """
    Check the ``partials`` of a combine step and return them as a list of frames.

    The rule of every ``combine_*`` function: ``partials`` is a non-empty list (any
    iterable but text, a mapping or a single frame) of DataFrames, each holding
    ``columns`` and the same columns as the first (partials of one computation), with
    numbers in its ``values`` columns.

    Args:
        partials: the argument as given.
        columns: the columns each partial must hold.
        values: those of ``columns`` that hold counts or sums (checked numeric, finite,
            not missing).
        producer: the function whose results the partials are, for the messages.
        name: the argument's name, for the messages.

    Raises:
        ValidationError: ``partials`` is not a list of frames, or is empty, naming the
            argument (``partials``) or the item (``partials[1]``).
        MissingColumnError: a partial lacks a column (a partial of another kind).
        DataError: a partial's columns differ from the first one's, or a value column
            is not numeric, naming the partial and the column.

    Examples:
        >>> partial_frames([], ["n"], values=["n"], producer="count_partial")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'partials' must be at least one frame ...
    """
    hint = f"pass the list of frames that {producer}() returned, e.g. [{producer}(part), ...]."
    frames: list[pd.DataFrame] = []
    first: pd.Index | None = None
    for i, part in enumerate(_partial_list(partials, name=name, producer=producer, hint=hint)):
        item = f"{name}[{i}]"
        if not isinstance(part, pd.DataFrame):
            raise ValidationError.for_field(
                item, part, f"a DataFrame returned by {producer}()", hint=hint
            )
        try:
            require_columns(part, columns, frame_name=item)
        except MissingColumnError as err:
            raise MissingColumnError(
                err.missing,
                err.available,
                frame=item,
                hint=f"is it a partial of another kind? {hint}",
            ) from err
        if first is None:
            first = part.columns
        elif set(part.columns) != set(first):
            differ = sorted(str(c) for c in set(part.columns) ^ set(first))
            raise DataError(
                f"{item} has other columns than {name}[0] (differing: {differ}); partials "
                "of one computation have the same columns. Hint: compute every partial with "
                f"the same arguments of {producer}() (by=, freq=, monetary_value=...).",
                column=differ[0],
            )
        for column in values:
            try:
                check_numeric(part[column], column)
            except DataError as err:
                raise DataError(
                    f"{item}: {err}", column=column, rows=err.rows, value=err.value
                ) from err
        frames.append(part)
    return frames


def as_sequence(value: str | Sequence[str] | None) -> list[str]:
    """Turn a column name or a list of names (or ``None``) into a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def is_missing(value: object) -> bool:
    """
    Whether a cell is empty: ``None``, NaN, ``pd.NA`` or ``NaT`` (a list or mapping is a value).

    Examples:
        >>> [is_missing(v) for v in (None, float("nan"), pd.NA, pd.NaT, 0, "", [1])]
        [True, True, True, True, False, False, False]
    """
    try:
        return value is None or bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # an array-like cell: a value
        return False
