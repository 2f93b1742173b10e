"""
Scalar semantics shared by both engines: canonical values, types, comparisons, arithmetic.

The record engine uses these functions on every value; the frame engine uses them
whenever both operands are scalars (constants, the evaluation time), so the
scalar rules are written once.

Canonical values: ``None`` is *missing* (``None``, NaN, NaT and ``pd.NA`` all become
``None``); numbers are ``int`` or ``float`` (``Decimal`` and numpy numbers are
converted to ``float``/``int``); text is ``str``; booleans are ``bool``; datetimes
are timezone-aware (a naive value at midnight is read as that UTC day, a naive
value with a time of day is an error); durations are ``timedelta``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError, RuleTypeError, short_repr
from crmlifecycle.rules._nodes import ValueType

__all__ = [
    "COMPARE",
    "MAX_DURATION_US",
    "US_PER_DAY",
    "US_PER_HOUR",
    "arith",
    "compare",
    "duration_from_micros",
    "kind_of",
    "micros",
    "norm",
    "type_error",
]

US_PER_DAY: Final = 86_400_000_000
US_PER_HOUR: Final = 3_600_000_000
#: Durations are limited to +-100,000 days (about 273 years), inside pandas' range.
MAX_DURATION_US: Final = 100_000 * US_PER_DAY
_ONE_US: Final = timedelta(microseconds=1)
_NAT_TYPE: Final = type(pd.NaT)
_NA_TYPE: Final = type(pd.NA)
_MIN_TIME: Final = pd.Timestamp.min.tz_localize(UTC)
_MAX_TIME: Final = pd.Timestamp.max.tz_localize(UTC)

COMPARE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_KINDS: Final[dict[type, ValueType]] = {
    str: ValueType.STRING,
    int: ValueType.NUMBER,
    float: ValueType.NUMBER,
    bool: ValueType.BOOL,
    datetime: ValueType.DATETIME,
    pd.Timestamp: ValueType.DATETIME,
    timedelta: ValueType.DURATION,
    pd.Timedelta: ValueType.DURATION,
}


def type_error(message: str, text: str, pos: int) -> RuleTypeError:
    """Build a :class:`RuleTypeError` at ``pos`` in ``text``."""
    return RuleTypeError(message, text=text, position=pos)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    if value != value.replace(hour=0, minute=0, second=0, microsecond=0) or (
        isinstance(value, pd.Timestamp) and value.nanosecond
    ):
        raise DataError(
            f"the value {short_repr(value)} is a naive datetime with a time of day. "
            "Hint: store timezone-aware datetimes; naive values at midnight are read "
            "as UTC days."
        )
    return value.replace(tzinfo=UTC)


def norm(value: object) -> object:  # noqa: C901, PLR0911 - one branch per value family
    """
    Return the canonical form of a value read from a record (``None`` when missing).

    Examples:
        >>> norm(float("nan")) is None, norm(3), norm(True)
        (True, 3, True)
    """
    cls = value.__class__
    if cls is str or cls is int or cls is bool:
        return value
    if cls is float:
        return value if value == value else None  # noqa: PLR0124 - NaN test
    if value is None or cls is _NAT_TYPE or cls is _NA_TYPE:
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, Decimal):
        return None if value.is_nan() else float(value)
    if isinstance(value, np.generic):
        # pandas scalars, not .item(): a nanosecond timedelta64's item() is a plain int
        if isinstance(value, np.datetime64):
            return norm(pd.Timestamp(value))
        if isinstance(value, np.timedelta64):
            return norm(pd.Timedelta(value))
        return norm(value.item())
    if isinstance(value, float):
        return norm(float(value))
    if isinstance(value, int):
        return int(value)
    return value


def kind_of(value: object) -> ValueType | None:
    """Return the language type of a canonical, non-missing value (``None`` if foreign)."""
    kind = _KINDS.get(value.__class__)
    if kind is not None:
        return kind
    for cls, found in _KINDS.items():
        if isinstance(value, cls):
            return found
    return None


def describe(value: object) -> str:
    """Name a value's type for messages."""
    kind = kind_of(value)
    return str(kind) if kind is not None else type(value).__name__


def compare(op: str, a: object, b: object, text: str, pos: int) -> bool:
    """Compare two canonical, non-missing values, checking their types."""
    ka = kind_of(a)
    kb = kind_of(b)
    if ka is None or ka is not kb:
        raise type_error(
            f"cannot compare {describe(a)} with {describe(b)} using {op}. "
            "Hint: compare values of the same type (use date('...') for dates).",
            text,
            pos,
        )
    if ka is ValueType.BOOL and op not in {"==", "!="}:
        raise type_error(
            f"true/false values cannot be ordered with {op}. Hint: use == or !=.", text, pos
        )
    return COMPARE[op](a, b)


def micros(value: timedelta) -> int:
    """Whole microseconds in a duration (floored, so nanoseconds never round up)."""
    return value // _ONE_US


def duration_from_micros(count: float, text: str, pos: int) -> timedelta | None:
    """
    Build a duration of ``count`` microseconds, rounded half to even, range-checked.

    A count that is not a number (``days(0) * x`` with an infinite ``x``) is missing,
    as in the frame engine.
    """
    if count != count:  # noqa: PLR0124 - NaN test
        return None
    if abs(count) > MAX_DURATION_US:
        raise DataError(
            f"a duration of {count / US_PER_DAY:.6g} days exceeds the limit of "
            f"{MAX_DURATION_US // US_PER_DAY} days (in {short_repr(text)} at position {pos}). "
            "Hint: check the numbers passed to days()/hours()."
        )
    return timedelta(microseconds=round(count))


def _number_arith(op: str, a: float, b: float) -> float | None:
    if op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif op == "**":
        return _power(a, b)
    elif b == 0:
        return None  # division by zero is missing
    elif op == "/":
        result = a / b
    elif op == "//":
        result = a // b  # float floor division gives inf or NaN, it never raises
    else:
        result = a % b
    return None if result != result else result  # noqa: PLR0124 - NaN test


def _power(a: float, b: float) -> float | None:
    if a == 0 and b < 0:
        return None
    try:
        result = math.pow(a, b)
    except OverflowError:
        negative = a < 0 and b.is_integer() and int(b) % 2 == 1
        return -math.inf if negative else math.inf
    except ValueError:
        return None  # e.g. a negative base with a fractional exponent
    return None if result != result else result  # noqa: PLR0124 - NaN test


def check_datetime(value: datetime, text: str, pos: int) -> datetime:
    """Keep datetimes inside pandas' nanosecond range so both engines agree."""
    if not (_MIN_TIME <= value <= _MAX_TIME):
        raise DataError(
            f"a computed datetime {short_repr(value)} is outside the supported range "
            f"(1677-09-22 to 2262-04-11) in {short_repr(text)} at position {pos}. "
            "Hint: check the durations added to dates."
        )
    return value


def arith(op: str, a: object, b: object, text: str, pos: int) -> object:  # noqa: C901, PLR0911
    """Apply an arithmetic operator to two canonical, non-missing values."""
    ka = kind_of(a)
    kb = kind_of(b)
    if ka is ValueType.NUMBER and kb is ValueType.NUMBER:
        return _number_arith(op, float(a), float(b))  # type: ignore[arg-type]
    try:
        if ka is ValueType.DATETIME and kb is ValueType.DURATION and op in {"+", "-"}:
            result = a + b if op == "+" else a - b  # type: ignore[operator]
            return check_datetime(result, text, pos)
        if ka is ValueType.DURATION and kb is ValueType.DATETIME and op == "+":
            return check_datetime(b + a, text, pos)  # type: ignore[operator]
    except OverflowError:
        raise DataError(
            f"a computed datetime is outside the supported range in {short_repr(text)} at position "
            f"{pos}. Hint: check the durations added to dates."
        ) from None
    if ka is ValueType.DATETIME and kb is ValueType.DATETIME and op == "-":
        return timedelta(microseconds=micros(a - b))  # type: ignore[operator]
    if ka is ValueType.DURATION and kb is ValueType.DURATION:
        ma, mb = micros(a), micros(b)  # type: ignore[arg-type]
        if op in {"+", "-"}:
            return duration_from_micros(ma + mb if op == "+" else ma - mb, text, pos)
        if op == "/":
            return None if mb == 0 else ma / mb
    if ka is ValueType.DURATION and kb is ValueType.NUMBER and op in {"*", "/"}:
        factor = float(b)  # type: ignore[arg-type]
        if op == "/":
            if factor == 0:
                return None
            return duration_from_micros(micros(a) / factor, text, pos)  # type: ignore[arg-type]
        return duration_from_micros(micros(a) * factor, text, pos)  # type: ignore[arg-type]
    if ka is ValueType.NUMBER and kb is ValueType.DURATION and op == "*":
        return duration_from_micros(micros(b) * float(a), text, pos)  # type: ignore[arg-type]
    raise type_error(
        f"cannot apply {op} to {describe(a)} and {describe(b)}. "
        "Hint: arithmetic works on numbers, and on dates with durations (days(n)).",
        text,
        pos,
    )
