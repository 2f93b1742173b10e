"""
Checks and conversions shared by every function that reads a DataFrame.

The time rule (documented in ``docs/data-contracts.md``): timestamps are kept
in UTC inside computations. A timezone-aware column is converted to UTC. A
naive column is accepted only when every value is at midnight (a *date-only*
column, e.g. ``2026-03-01``), and is then read as that UTC calendar day; naive
timestamps with a time of day are ambiguous and raise :class:`DataError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle.errors import DataError, MissingColumnError

__all__ = [
    "PERIOD_ALIASES",
    "as_sequence",
    "as_utc",
    "check_numeric",
    "period_alias",
    "require_columns",
    "to_periods",
    "utc_nanoseconds",
    "utc_timestamp",
]

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
    """Raise :class:`MissingColumnError` if any of ``columns`` is absent from ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame{f' for {frame_name}' if frame_name else ''}, "
            f"got {type(frame).__name__}. Hint: build one with pandas.DataFrame(...) "
            "or read one with pandas.read_csv(...)."
        )
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise MissingColumnError(missing, frame.columns, frame=frame_name)


def _bad_rows(mask: pd.Series) -> list[object]:
    return list(mask.index[mask.to_numpy()][:20])


def as_utc(series: pd.Series, column: str, *, allow_missing: bool = False) -> pd.Series:
    """
    Return ``series`` as ``datetime64[ns, UTC]`` following the module's time rule.

    Raises:
        DataError: naive timestamps with a time of day, mixed naive/aware values,
            unparseable values, or missing values when ``allow_missing`` is false.
    """
    values = series
    if not isinstance(values.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError) as err:
            raise DataError.malformed(
                column,
                f"cannot be read as timestamps ({err})",
                hint="use ISO 8601 text or datetime values, all with a zone or all date-only.",
            ) from err
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
    values = values.astype("datetime64[ns, UTC]")
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


def utc_nanoseconds(utc: pd.Series) -> npt.NDArray[np.int64]:
    """
    Return a ``datetime64[ns, UTC]`` series (from :func:`as_utc`) as int64 nanoseconds since 1970.

    Missing values (``NaT``) become ``numpy.iinfo(numpy.int64).min``, as numpy stores them.
    """
    naive = utc.to_numpy(dtype="datetime64[ns]")  # UTC wall times, without copying the zone
    nanoseconds: npt.NDArray[np.int64] = naive.view(np.int64)
    return nanoseconds


def utc_timestamp(value: object, *, name: str) -> pd.Timestamp:
    """Convert a scalar date/datetime/string to a UTC ``Timestamp`` by the same rule."""
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as err:
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
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


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


def as_sequence(value: str | Sequence[str] | None) -> list[str]:
    """Turn a column name or a list of names (or ``None``) into a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
