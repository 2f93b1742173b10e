"""
Vectorised arithmetic and whitelisted functions for the frame engine.

Each function mirrors the scalar definition in
:mod:`crmlifecycle.rules._functions` operation for operation (float64 arithmetic,
durations rounded to whole microseconds half to even, Python's own text methods
for case mapping and stripping), so that the two engines agree value for value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.rules._frame import Vec, floats
from crmlifecycle.rules._functions import DURATION_UNITS, FUNCTIONS
from crmlifecycle.rules._nodes import Arith, Call, Const, ValueType
from crmlifecycle.rules._runtime import MAX_DURATION_US, US_PER_DAY, US_PER_HOUR, micros

if TYPE_CHECKING:
    from crmlifecycle.rules._frame import FrameEvaluator

__all__ = ["call", "vector_arith"]

_NAT: Final = np.iinfo(np.int64).min


def _micros(vec: Vec) -> Any:
    """Whole microseconds (floored) of a duration, as float64 with NaN for missing."""
    if vec.scalar:
        return np.nan if vec.data is None else float(micros(vec.data))  # type: ignore[arg-type]
    series = vec.data
    assert isinstance(series, pd.Series)  # noqa: S101
    ns = series.to_numpy(dtype="timedelta64[ns]").view("int64")
    missing = ns == _NAT
    result = np.floor_divide(ns, 1000).astype("float64")
    result[missing] = np.nan
    return result


def _duration(ev: FrameEvaluator, count: Any, pos: int) -> Vec:
    """A duration Series from microsecond counts (rounded half to even), range-checked."""
    count = np.round(np.asarray(count, dtype="float64"))
    present = ~np.isnan(count)
    if bool((np.abs(count[present]) > MAX_DURATION_US).any()):
        raise DataError(
            f"a duration exceeds the limit of {MAX_DURATION_US // US_PER_DAY} days "
            f"(in {short_repr(ev.text)} at position {pos}). Hint: check the numbers passed "
            "to days()."
        )
    ns = np.where(present, count * 1000, 0).astype("int64")
    ns[~present] = _NAT
    return ev.series(np.broadcast_to(ns, (ev.n,)).view("timedelta64[ns]"), ValueType.DURATION)


def _timestamps(vec: Vec) -> object:
    """A datetime or duration operand as pandas understands it (scalars as pandas scalars)."""
    if not vec.scalar:
        return vec.data
    if vec.type is ValueType.DURATION:
        duration: object = pd.Timedelta(vec.data)  # type: ignore[arg-type]
        # a missing duration stays a duration: pandas reads a bare NaT as a datetime, and a
        # datetime column minus it would become a column of durations
        return np.timedelta64("NaT", "ns") if duration is pd.NaT else duration
    return pd.Timestamp(vec.data)  # type: ignore[arg-type]


def _number_arith(ev: FrameEvaluator, op: str, left: Vec, right: Vec) -> Vec:
    a, b = floats(left), floats(right)
    with np.errstate(all="ignore"):
        if op == "+":
            result = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        elif op == "**":
            result = np.where((a == 0) & (b < 0), np.nan, np.power(a, b))
        else:
            function = {"/": np.true_divide, "//": np.floor_divide, "%": np.remainder}[op]
            result = np.where(b == 0, np.nan, function(a, b))
    return ev.series(np.broadcast_to(result, (ev.n,)), ValueType.NUMBER)


def vector_arith(  # noqa: PLR0911 - one branch per type combination
    ev: FrameEvaluator, node: Arith, left: Vec, right: Vec, kind: ValueType
) -> Vec:
    """``left op right`` where at least one side is a column."""
    op = node.op
    if kind is ValueType.NUMBER and left.type is ValueType.NUMBER:
        return _number_arith(ev, op, left, right)
    if kind is ValueType.DATETIME:
        a, b = _timestamps(left), _timestamps(right)
        try:
            result = a + b if op == "+" else a - b  # type: ignore[operator]
        except (OverflowError, pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta):
            raise DataError(
                f"a computed datetime is outside the supported range in {short_repr(ev.text)} at "
                f"position {node.pos}. Hint: check the durations added to dates."
            ) from None
        return Vec(pd.Series(result, index=ev.index).astype("datetime64[ns, UTC]"), kind)
    if kind is ValueType.DURATION and left.type is ValueType.DATETIME:
        difference = _timestamps(left) - _timestamps(right)  # type: ignore[operator]
        return _duration(ev, _micros(Vec(pd.Series(difference, index=ev.index), kind)), node.pos)
    ma = _micros(left) if left.type is ValueType.DURATION else floats(left)
    mb = _micros(right) if right.type is ValueType.DURATION else floats(right)
    with np.errstate(all="ignore"):
        if kind is ValueType.NUMBER:  # duration / duration
            return ev.series(np.broadcast_to(np.where(mb == 0, np.nan, ma / mb), (ev.n,)), kind)
        if op == "+":
            return _duration(ev, ma + mb, node.pos)
        if op == "-":
            return _duration(ev, ma - mb, node.pos)
        if op == "*":
            return _duration(ev, ma * mb, node.pos)
        return _duration(ev, np.where(mb == 0, np.nan, ma / mb), node.pos)


def _text_method(vec: Vec, method: str) -> pd.Series:
    series = vec.data
    assert isinstance(series, pd.Series)  # noqa: S101
    as_python = series.astype(object)  # Python's own str methods, as in the record engine
    result: pd.Series = getattr(as_python.str, method)()
    return result.astype("str")


def _text_test(ev: FrameEvaluator, vec: Vec, name: str, literal: str) -> Vec:
    series = vec.data
    assert isinstance(series, pd.Series)  # noqa: S101
    if name == "contains":
        found = series.str.contains(literal, regex=False)
    else:
        found = getattr(series.str, name)(literal)
    hit = found.to_numpy(dtype=bool, na_value=False)
    missing = ev.missing(vec)
    return ev.kleene(hit & ~missing, ~hit & ~missing)


def _as_of(ev: FrameEvaluator) -> Vec:
    return Vec(ev.as_of, ValueType.DATETIME)


def _days(ev: FrameEvaluator, later: Vec, earlier: Vec, unit: int) -> Vec:
    difference = _timestamps(later) - _timestamps(earlier)  # type: ignore[operator]
    span = Vec(pd.Series(difference, index=ev.index), ValueType.DURATION)
    return ev.series(_micros(span) / unit, ValueType.NUMBER)


def _part(ev: FrameEvaluator, vec: Vec, name: str) -> Vec:
    series = vec.data
    assert isinstance(series, pd.Series)  # noqa: S101
    values = getattr(series.dt, name)
    return ev.series(values.to_numpy(dtype="float64", na_value=np.nan), ValueType.NUMBER)


def call(ev: FrameEvaluator, node: Call) -> Vec:  # noqa: C901, PLR0911, PLR0912
    """Evaluate a whitelisted function call over the frame."""
    func = FUNCTIONS[node.name]
    kind = ev.check(node)
    args = [ev.value(a) for a in node.args]
    as_of_scalar = not isinstance(ev.as_of, pd.Series)
    if all(a.scalar for a in args) and (as_of_scalar or not func.uses_time):
        values = [a.data for a in args]
        if not func.null_ok and any(v is None for v in values):
            return Vec(None, kind)
        return Vec(func.scalar(values, ev.as_of, ev.text, node.pos), kind)  # type: ignore[arg-type]
    name = node.name
    if name == "is_missing":
        return ev.series(ev.missing(args[0]), ValueType.BOOL)
    if name == "coalesce":
        return _coalesce(ev, args, kind)
    if not func.null_ok and any(a.scalar and a.data is None for a in args):
        return Vec(None, kind)
    if name in {"abs", "round", "floor", "ceil"}:
        functions: dict[str, Callable[[Any], Any]] = {
            "abs": np.abs,
            "round": np.round,
            "floor": np.floor,
            "ceil": np.ceil,
        }
        function = functions[name]
        return ev.series(function(floats(args[0])), ValueType.NUMBER)
    if name in {"min", "max"}:
        reduce = np.minimum if name == "min" else np.maximum
        result = floats(args[0])
        for arg in args[1:]:
            result = reduce(result, floats(arg))
        return ev.series(np.broadcast_to(result, (ev.n,)), ValueType.NUMBER)
    if name in {"lower", "upper", "strip"}:
        return Vec(_text_method(args[0], name), ValueType.STRING)
    if name == "length":
        series = args[0].data
        assert isinstance(series, pd.Series)  # noqa: S101
        lengths = series.str.len().to_numpy(dtype="float64", na_value=np.nan)
        return ev.series(lengths, ValueType.NUMBER)
    if name in {"startswith", "endswith", "contains"}:
        literal = node.args[1]
        assert isinstance(literal, Const) and isinstance(literal.value, str)  # noqa: PT018, S101
        return _text_test(ev, args[0], name, literal.value)
    if name == "now":
        return _as_of(ev)
    if name == "today":
        as_of = ev.as_of
        assert isinstance(as_of, pd.Series)  # noqa: S101
        return Vec(as_of.dt.floor("D"), ValueType.DATETIME)
    if name in {"days_since", "hours_since"}:
        unit = US_PER_DAY if name == "days_since" else US_PER_HOUR
        return _days(ev, _as_of(ev), args[0], unit)
    if name == "days_until":
        return _days(ev, args[0], _as_of(ev), US_PER_DAY)
    if name in DURATION_UNITS:
        return _duration(ev, floats(args[0]) * DURATION_UNITS[name], node.pos)
    return _part(ev, args[0], {"weekday": "day_of_week"}.get(name, name))


def _coalesce(ev: FrameEvaluator, args: list[Vec], kind: ValueType) -> Vec:
    current: Vec | None = None
    for arg in args:
        if arg.type is ValueType.NULL or (arg.scalar and arg.data is None):
            continue
        if current is None:
            current = arg
        else:  # current is a column (a scalar ends the loop below)
            series = current.data
            assert isinstance(series, pd.Series)  # noqa: S101
            other = arg.data
            if kind is ValueType.NUMBER:
                series = pd.Series(floats(current), index=ev.index)
                other = floats(arg)
            current = Vec(series.where(~ev.missing(current), other), kind)
        if current.scalar:
            break
    return current if current is not None else Vec(None, kind)
