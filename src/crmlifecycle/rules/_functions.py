"""
The whitelist of functions the rule language can call: signatures and scalar meaning.

Each function declares the types it takes and returns, whether it reads the
evaluation time ``as_of``, and whether it accepts missing arguments (only
``is_missing`` and ``coalesce`` do; every other function returns *missing* when
an argument is missing). The frame engine implements the same functions over
columns in :mod:`crmlifecycle.rules._frame`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final, final

import attrs

from crmlifecycle.rules._nodes import ValueType
from crmlifecycle.rules._runtime import US_PER_DAY, US_PER_HOUR, duration_from_micros, micros

__all__ = ["DURATION_UNITS", "FUNCTIONS", "FUNCTION_NAMES", "Function"]

#: Microseconds per unit of the duration constructors.
DURATION_UNITS: Final = {
    "days": US_PER_DAY,
    "weeks": 7 * US_PER_DAY,
    "hours": US_PER_HOUR,
    "minutes": US_PER_HOUR // 60,
}

Scalar = Callable[[Sequence[object], datetime, str, int], object]


@final
@attrs.frozen
class Function:
    """
    One whitelisted function.

    Attributes:
        name: its name in the language.
        params: the parameter types (for variadic functions: the type of every argument).
        returns: the result type (``ValueType.ANY``: the type of the arguments, for ``coalesce``).
        scalar: the implementation on canonical values.
        doc: one line for the language reference.
        min_args: the fewest arguments (variadic functions only).
        variadic: whether it takes any number (>= ``min_args``) of arguments.
        uses_time: whether it reads the evaluation time ``as_of``.
        null_ok: whether it receives missing arguments itself.
        literal: indices of arguments that must be text literals.
    """

    name: str
    params: tuple[ValueType, ...]
    returns: ValueType
    scalar: Scalar
    doc: str
    min_args: int = 0
    variadic: bool = False
    uses_time: bool = False
    null_ok: bool = False
    literal: tuple[int, ...] = ()


def _finite_or(x: float, func: Callable[[float], float]) -> float:
    return float(func(x)) if math.isfinite(x) else x


def _number(value: object) -> float:
    assert isinstance(value, int | float)  # noqa: S101 - the engine checked the type
    return float(value)


def _text(value: object) -> str:
    assert isinstance(value, str)  # noqa: S101 - the engine checked the type
    return value


def _moment(value: object) -> datetime:
    assert isinstance(value, datetime)  # noqa: S101 - the engine checked the type
    return value.astimezone(UTC)


def _days_between(later: datetime, earlier: datetime) -> float:
    return micros(later - earlier) / US_PER_DAY


def _duration(unit: int) -> Scalar:
    def build(args: Sequence[object], _as_of: datetime, text: str, pos: int) -> object:
        return duration_from_micros(_number(args[0]) * unit, text, pos)

    return build


def _today(as_of: datetime) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


def _coalesce(args: Sequence[object], *_: object) -> object:
    return next((a for a in args if a is not None), None)


def _round(x: float) -> float:
    return float(round(x))


_N, _S, _D, _B, _A = (
    ValueType.NUMBER,
    ValueType.STRING,
    ValueType.DATETIME,
    ValueType.BOOL,
    ValueType.ANY,
)

_TABLE: Final[tuple[Function, ...]] = (
    Function(
        "is_missing", (_A,), _B, lambda a, *_: a[0] is None, "true when x is missing", null_ok=True
    ),
    Function(
        "coalesce",
        (_A,),
        _A,
        _coalesce,
        "the first argument that is not missing",
        min_args=2,
        variadic=True,
        null_ok=True,
    ),
    Function("abs", (_N,), _N, lambda a, *_: abs(_number(a[0])), "absolute value"),
    Function(
        "round",
        (_N,),
        _N,
        lambda a, *_: _finite_or(_number(a[0]), _round),
        "round to a whole number, halves to even",
    ),
    Function(
        "floor",
        (_N,),
        _N,
        lambda a, *_: _finite_or(_number(a[0]), math.floor),
        "largest whole number <= x",
    ),
    Function(
        "ceil",
        (_N,),
        _N,
        lambda a, *_: _finite_or(_number(a[0]), math.ceil),
        "smallest whole number >= x",
    ),
    Function(
        "min",
        (_N,),
        _N,
        lambda a, *_: min(_number(x) for x in a),
        "the smallest number",
        min_args=2,
        variadic=True,
    ),
    Function(
        "max",
        (_N,),
        _N,
        lambda a, *_: max(_number(x) for x in a),
        "the largest number",
        min_args=2,
        variadic=True,
    ),
    Function("lower", (_S,), _S, lambda a, *_: _text(a[0]).lower(), "text in lower case"),
    Function("upper", (_S,), _S, lambda a, *_: _text(a[0]).upper(), "text in upper case"),
    Function(
        "strip",
        (_S,),
        _S,
        lambda a, *_: _text(a[0]).strip(),
        "text without leading/trailing blanks",
    ),
    Function("length", (_S,), _N, lambda a, *_: len(_text(a[0])), "number of characters"),
    Function(
        "startswith",
        (_S, _S),
        _B,
        lambda a, *_: _text(a[0]).startswith(_text(a[1])),
        "text starts with a literal prefix",
        literal=(1,),
    ),
    Function(
        "endswith",
        (_S, _S),
        _B,
        lambda a, *_: _text(a[0]).endswith(_text(a[1])),
        "text ends with a literal suffix",
        literal=(1,),
    ),
    Function(
        "contains",
        (_S, _S),
        _B,
        lambda a, *_: _text(a[1]) in _text(a[0]),
        "text contains a literal part",
        literal=(1,),
    ),
    Function(
        "now", (), _D, lambda _a, as_of, *_: as_of, "the evaluation time as_of", uses_time=True
    ),
    Function(
        "today",
        (),
        _D,
        lambda _a, as_of, *_: _today(as_of),
        "midnight (UTC) of the evaluation day",
        uses_time=True,
    ),
    Function(
        "days_since",
        (_D,),
        _N,
        lambda a, as_of, *_: _days_between(as_of, _moment(a[0])),
        "days from t to as_of (fractional)",
        uses_time=True,
    ),
    Function(
        "days_until",
        (_D,),
        _N,
        lambda a, as_of, *_: _days_between(_moment(a[0]), as_of),
        "days from as_of to t (fractional)",
        uses_time=True,
    ),
    Function(
        "hours_since",
        (_D,),
        _N,
        lambda a, as_of, *_: micros(as_of - _moment(a[0])) / US_PER_HOUR,
        "hours from t to as_of (fractional)",
        uses_time=True,
    ),
    Function("days", (_N,), ValueType.DURATION, _duration(US_PER_DAY), "a duration of n days"),
    Function("weeks", (_N,), ValueType.DURATION, _duration(7 * US_PER_DAY), "n weeks"),
    Function("hours", (_N,), ValueType.DURATION, _duration(US_PER_HOUR), "n hours"),
    Function("minutes", (_N,), ValueType.DURATION, _duration(US_PER_HOUR // 60), "n minutes"),
    Function("year", (_D,), _N, lambda a, *_: _moment(a[0]).year, "calendar year (UTC)"),
    Function("month", (_D,), _N, lambda a, *_: _moment(a[0]).month, "month 1-12 (UTC)"),
    Function("day", (_D,), _N, lambda a, *_: _moment(a[0]).day, "day of the month (UTC)"),
    Function(
        "weekday",
        (_D,),
        _N,
        lambda a, *_: _moment(a[0]).weekday(),
        "day of the week, Monday = 0 (UTC)",
    ),
    Function("hour", (_D,), _N, lambda a, *_: _moment(a[0]).hour, "hour 0-23 (UTC)"),
)

#: The functions by name.
FUNCTIONS: Final[dict[str, Function]] = {f.name: f for f in _TABLE}
#: Every callable name, including the literal-only ``date`` and ``datetime``.
FUNCTION_NAMES: Final[frozenset[str]] = frozenset({*FUNCTIONS, "date", "datetime"})
