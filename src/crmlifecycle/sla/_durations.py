"""
The one reader of SLA durations (targets, business time to add): timedeltas and text.

Durations are written three ways, all read here without pandas' deprecated unit
spellings (pandas warns on ``"2d"``, ``"4H"``, ``"10S"``, ``"1w"`` and will refuse them):

- **units**: numbers with units, e.g. ``"4h"``, ``"90min"``, ``"1h30min"``, ``"2d"``,
  ``"1.5h"``, ``"2 days 3 hours"``. Units, in any letter case: ``w``/``week(s)``,
  ``d``/``day(s)``, ``h``/``hr``/``hour(s)``, ``m``/``min``/``minute(s)``,
  ``s``/``sec``/``second(s)``, ``ms``, ``us`` (``µs``), ``ns`` and their long names.
  ``"M"`` alone is refused: it reads as months, which are no fixed duration.
- **ISO 8601**: ``"PT4H"``, ``"P1DT2H"``, ``"P1W"``.
- **clock**: ``"04:00:00"``, ``"1 day 02:00:00"`` (hours, minutes and seconds).

A ``"d"`` is 24 hours of business time, not a working day.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError, ValidationError

__all__ = ["read_duration", "read_durations"]

_NS: Final = 1_000_000_000
_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 86_400 * _NS),
    **dict.fromkeys(("d", "day", "days"), 86_400 * _NS),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600 * _NS),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60 * _NS),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _NS),
    **dict.fromkeys(("ms", "milli", "millis", "millisecond", "milliseconds"), 1_000_000),
    **dict.fromkeys(("us", "µs", "micro", "micros", "microsecond", "microseconds"), 1_000),
    **dict.fromkeys(("ns", "nano", "nanos", "nanosecond", "nanoseconds"), 1),
}
_MAX_TEXT: Final = 200
_PART: Final = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]+)\s*,?", re.IGNORECASE)
_UNIT_TEXT: Final = re.compile(
    r"^\s*([+-]?)((?:\s*(?:\d+(?:\.\d*)?|\.\d+)\s*[a-zµ]+\s*,?)+)\s*$", re.IGNORECASE
)
_ISO: Final = re.compile(r"^\s*-?P(?=[\dT.])[\dWDTHMS.]*\s*$", re.IGNORECASE)
_CLOCK: Final = re.compile(
    r"^\s*-?(?:\d+\s*days?\s*,?\s*)?\d+:\d{2}:\d{2}(?:\.\d{1,9})?\s*$", re.IGNORECASE
)
_I64_MAX: Final = int(np.iinfo(np.int64).max)


class _UnreadableError(ValueError):
    """Text that is not a duration (turned into the caller's ValidationError)."""


def _units_ns(sign: str, body: str) -> int:
    total = Decimal(0)
    for number, unit in _PART.findall(body):
        if unit == "M":
            raise _UnreadableError("'M' (months) is no fixed duration")
        size = _UNITS.get(unit.lower())
        if size is None:
            raise _UnreadableError(f"unknown unit {unit!r}")
        total += Decimal(number) * size
    if total > _I64_MAX:
        raise _UnreadableError("too long")
    ns = int(total.to_integral_value(rounding=ROUND_HALF_EVEN))
    return -ns if sign == "-" else ns


def _text_ns(text: str) -> int:
    if len(text) > _MAX_TEXT:
        raise _UnreadableError("too long a text")
    units = _UNIT_TEXT.match(text)
    if units is not None:
        return _units_ns(units[1], units[2])
    if _ISO.match(text) or _CLOCK.match(text):  # forms pandas reads without deprecation
        delta = pd.Timedelta(text.strip())
        if pd.isna(delta):
            raise _UnreadableError("not a duration")
        return int(delta.value)
    raise _UnreadableError("not a duration")


def read_duration(value: object, name: str, *, expected: str, hint: str) -> pd.Timedelta:
    """
    Read one duration (a ``timedelta``, a pandas ``Timedelta`` or text), or refuse it.

    The sign is kept: the caller decides whether zero or negative durations are allowed.

    Args:
        value: the duration.
        name: the argument or field, for the message.
        expected: what the caller accepts, for the message.
        hint: how to write one, for the message.

    Raises:
        ValidationError: naming ``name``, for anything that is not a duration (``NaT``,
            numbers, unknown units, durations beyond about 292 years).

    Examples:
        >>> read_duration("2d", "resolution", expected="a duration", hint="")
        Timedelta('2 days 00:00:00')
        >>> read_duration("1h30min", "x", expected="a duration", hint="").seconds
        5400
        >>> read_duration("PT4H", "x", expected="a duration", hint="")
        Timedelta('0 days 04:00:00')
    """
    try:
        if isinstance(value, timedelta):  # pd.NaT is no timedelta
            ns = int(pd.Timedelta(value).as_unit("ns").value)
        elif isinstance(value, str):
            ns = _text_ns(value)
        else:
            raise _UnreadableError("not a duration")
    except (ValueError, OverflowError, InvalidOperation) as err:
        raise ValidationError.for_field(name, value, expected, hint=hint) from err
    return pd.Timedelta(ns, unit="ns")


def read_durations(values: pd.Series, name: str, *, expected: str, hint: str) -> pd.Series:
    """
    Read a Series of durations (``timedelta64``, or text and timedeltas) as ``timedelta64[ns]``.

    Missing values become ``NaT``; every other value goes through :func:`read_duration`.

    Raises:
        DataError: naming ``name``, the rows and the first value that is not a duration
            (numbers are refused: they have no unit).
    """
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.astype("timedelta64[ns]")
    missing = values.isna().to_numpy(dtype=bool)
    ns = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
    present = values.astype(object).to_numpy()
    seen: dict[tuple[type, object], int] = {}  # text repeats: read each value once
    for k in np.flatnonzero(~missing):
        value = present[k]
        key = (type(value), value) if isinstance(value, str | timedelta) else None
        if key is not None and key in seen:
            ns[k] = seen[key]
            continue
        try:
            ns[k] = read_duration(value, name, expected=expected, hint=hint).value
            if key is not None:
                seen[key] = int(ns[k])
        except ValidationError as err:
            raise DataError.malformed(
                name,
                f"must hold {expected}",
                rows=[values.index[int(k)]],
                value=value,
                hint=hint,
            ) from err
    return pd.Series(ns.view("timedelta64[ns]"), index=values.index, name=values.name)
