"""
One rule for probabilities and one guard against results that overflow.

Probabilities: a probability is a finite number in its documented scale, either
a *percent* from 0 to 100 (a stage's default win probability, an opportunity's
``probability``) or a *fraction* from 0 to 1 (a scorer's predicted
probability, the probabilities given to the evaluation measures). NaN,
infinities and numbers outside the scale are refused with a typed error naming
the stage, argument or column (and the rows).

Overflow: no KPI, score or model output is silently infinite. A 64-bit float
holds at most about ``1.8e308``; a sum of many huge amounts, or a ratio with a
tiny denominator, can pass it and become ``inf`` (and then ``nan`` when two
infinities meet). :func:`ensure_finite` checks a result (a number, a Series or
the numeric columns of a DataFrame) and raises :class:`~crmlifecycle.errors.DataError`
naming the result and the inputs it was computed from. NaN passes it: a KPI is
NaN where its definition is undefined (a zero denominator), which each KPI
documents; a NaN produced by overflow is caught by guarding the sums the result
is built from (:func:`finite_sum`). :func:`finite_float` reads a number without
Python's ``OverflowError`` for integers beyond a float.

Time spans: :func:`elapsed` subtracts 64-bit nanosecond timestamps in whole units
and remainders, so a span from 1678 to 2261 is right instead of wrapping.

Records: the attrs validators :func:`finite` and :func:`optional_probability` put
the same rules on the fields of result records (a score card's total and probability).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._validators import is_finite_number
from crmlifecycle.errors import DataError, ValidationError

__all__ = [
    "FLOAT_MAX",
    "NS_PER_DAY",
    "NS_PER_HOUR",
    "Scale",
    "check_probabilities",
    "check_probability",
    "elapsed",
    "ensure_finite",
    "finite",
    "finite_float",
    "finite_sum",
    "optional_probability",
]

#: The largest finite 64-bit float (about 1.8e308).
FLOAT_MAX: Final = float(np.finfo(np.float64).max)

Scale = Literal["percent", "fraction"]

_HIGH: Final[dict[str, float]] = {"percent": 100.0, "fraction": 1.0}
_WORDS: Final[dict[str, str]] = {
    "percent": "in [0, 100] (a percent)",
    "fraction": "in [0, 1] (a fraction)",
}
_EXAMPLE: Final[dict[str, str]] = {"percent": "50 for 50%", "fraction": "0.5 for 50%"}

_T = TypeVar("_T")


def _expected(scale: Scale) -> str:
    return f"a probability {_WORDS[scale]}"


def check_probability(value: object, name: str, *, scale: Scale) -> float:
    """
    Return one probability as a float, or refuse it (NaN, infinite, outside its scale, a bool).

    Args:
        value: the probability.
        name: what it is, for the message (``"states[2].probability"``, ``"probability"``).
        scale: ``"percent"`` (0 to 100) or ``"fraction"`` (0 to 1).

    Raises:
        ValidationError: naming ``name``.

    Examples:
        >>> check_probability(50, "proposal", scale="percent")
        50.0
        >>> check_probability(float("nan"), "p", scale="fraction")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'p' must be a probability in [0, 1] (a fraction) ...
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real | Decimal)
    number = finite_float(value) if ok else None
    if number is None or not 0.0 <= number <= _HIGH[scale]:
        raise ValidationError.for_field(
            name, value, _expected(scale), hint=f"write {_EXAMPLE[scale]}."
        )
    return number


def check_probabilities(series: pd.Series, column: str, *, scale: Scale) -> pd.Series:
    """
    Return a column of probabilities as float64, or refuse it naming the column and rows.

    Missing values, NaN, infinities and numbers outside the scale are refused.

    Args:
        series: the column.
        column: its name, for the message.
        scale: ``"percent"`` (0 to 100) or ``"fraction"`` (0 to 1).

    Raises:
        DataError: naming ``column``, the first offending rows and an example value.

    Examples:
        >>> check_probabilities(pd.Series([0.2, 1.5]), "probability", scale="fraction")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: column 'probability' must hold ... in rows [1], e.g. 1.5. ...
    """
    dtype = series.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise DataError.malformed(
            column,
            f"must be numeric probabilities (dtype is {dtype})",
            hint=f"convert it, e.g. pandas.to_numeric(df[{column!r}]); write {_EXAMPLE[scale]}.",
        )
    values = series.astype("float64")
    array = values.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = ~((array >= 0.0) & (array <= _HIGH[scale]))  # NaN compares False: bad
    if bool(bad.any()):
        rows = list(values.index[bad][:20])
        raise DataError.malformed(
            column,
            f"must hold probabilities {_WORDS[scale]}, no NaN or infinity",
            rows=rows,
            value=float(array[bad][0]),
            hint=f"write {_EXAMPLE[scale]}; fill or drop the rows without one.",
        )
    return values


def finite_float(value: object) -> float | None:
    """
    Return a real number as a finite float, or ``None`` when it is NaN or too large for a float.

    Integers of any length and ``Decimal`` values are compared before conversion, so
    ``10**400`` gives ``None`` instead of Python's ``OverflowError``.

    Examples:
        >>> finite_float(3), finite_float(10**400), finite_float(float("inf"))
        (3.0, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    if isinstance(value, numbers.Integral | Decimal):
        try:
            if isinstance(value, Decimal) and not value.is_finite():
                return None
            if abs(value) > FLOAT_MAX:  # type: ignore[operator]
                return None
        except (TypeError, ValueError, ArithmeticError):  # a foreign Real: fall through
            pass
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return number if math.isfinite(number) else None


def _inputs_text(inputs: Sequence[str]) -> str:
    return ", ".join(repr(i) for i in inputs) if inputs else "its inputs"


def _overflow(
    name: str, inputs: Sequence[str], *, rows: Sequence[object] = (), nan: bool = False
) -> DataError:
    shown = list(rows[:5])
    where = f" in rows {shown}" if shown else ""
    what = (
        "is NaN (an infinity met another: the inputs overflow a 64-bit float)"
        if nan
        else "overflows: the result is larger than a 64-bit float holds (about 1.8e308)"
    )
    return DataError(
        f"{name} {what}{where}, computed from {_inputs_text(inputs)}. Hint: check those inputs "
        "for a unit "
        "or data error (amounts near 1e308, a denominator near 0); rescale them (thousands "
        "instead of units) if they are right.",
        column=inputs[0] if len(inputs) == 1 else None,
        rows=rows,
    )


def _check_table(table: pd.DataFrame, *, name: str, inputs: Sequence[str], allow_nan: bool) -> None:
    """:func:`ensure_finite` for the numeric columns of a table, naming the column and rows."""
    numeric = table.select_dtypes(include=["number"])
    if not numeric.shape[1]:
        return
    array = numeric.to_numpy(dtype="float64", na_value=np.nan)
    cells = ~np.isfinite(array) if not allow_nan else np.isinf(array)
    if bool(cells.any()):
        column = str(numeric.columns[cells.any(axis=0)][0])
        rows = list(table.index[cells.any(axis=1)])
        nan = not bool(np.isinf(array).any())
        raise _overflow(f"{name} (column {column!r})", inputs, rows=rows, nan=nan)


def ensure_finite(result: _T, *, name: str, inputs: Sequence[str], allow_nan: bool = True) -> _T:
    """
    Return ``result`` unchanged, or raise :class:`DataError` if it holds an infinity.

    ``result`` is a number, a float array, a Series, or a DataFrame (its numeric columns
    are checked).
    NaN passes unless ``allow_nan`` is false: it is the documented value of an undefined
    KPI; a score is never NaN.

    Args:
        result: the computed value.
        name: what was computed (``"ltv_to_cac"``, ``"average_order_value"``).
        inputs: the names of the arguments or columns it was computed from.
        allow_nan: whether NaN (an undefined value) passes.

    Raises:
        DataError: naming ``name``, ``inputs`` and, for a table, the rows.

    Examples:
        >>> ensure_finite(2.5, name="ratio", inputs=["a", "b"])
        2.5
        >>> ensure_finite(float("inf"), name="ratio", inputs=["a", "b"])
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: ratio overflows: the result is larger than ...
    """
    if isinstance(result, pd.DataFrame):
        _check_table(result, name=name, inputs=inputs, allow_nan=allow_nan)
        return result
    if isinstance(result, pd.Series):
        if pd.api.types.is_numeric_dtype(result.dtype) and not pd.api.types.is_bool_dtype(
            result.dtype
        ):
            values = result.to_numpy(dtype="float64", na_value=np.nan)
            bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
            if bool(bad.any()):
                nan = not bool(np.isinf(values).any())
                raise _overflow(name, inputs, rows=list(result.index[bad]), nan=nan)
        return result
    if isinstance(result, np.ndarray) and result.dtype.kind == "f":
        ensure_finite(pd.Series(result.ravel()), name=name, inputs=inputs, allow_nan=allow_nan)
        return result
    if isinstance(result, numbers.Integral):  # an int is never infinite, however long
        return result
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        number = float(result)
        if math.isinf(number) or (not allow_nan and math.isnan(number)):
            raise _overflow(name, inputs, nan=math.isnan(number))
    return result


def finite_sum(values: pd.Series, *, name: str, inputs: Sequence[str]) -> float:
    """
    Return the sum of a numeric column, or raise :class:`DataError` if it overflows.

    The KPIs built on a column's sums (totals per period or segment, ratios of them to
    counts) stay finite when the whole column's sum does, so one check up front guards them.

    Examples:
        >>> finite_sum(pd.Series([1.0, 2.0]), name="the sum", inputs=["amount"])
        3.0
        >>> finite_sum(pd.Series([1e308, 1e308]), name="the sum", inputs=["amount"])
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: the sum overflows: ...
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(values.sum())
    return ensure_finite(total, name=name, inputs=inputs)


#: Nanoseconds in a day and in an hour, the usual units of :func:`elapsed`.
NS_PER_DAY: Final = 86_400 * 10**9
NS_PER_HOUR: Final = 3_600 * 10**9

_NAT: Final = np.iinfo(np.int64).min


def _nanoseconds(value: object) -> np.ndarray[Any, np.dtype[np.int64]]:
    """UTC nanoseconds since the epoch of a Series, Timestamp, datetime64 array or int64 array."""
    if value is pd.NaT:
        return np.array([_NAT], dtype=np.int64)
    if isinstance(value, pd.Timestamp):
        return np.array([value.as_unit("ns").value], dtype=np.int64)
    array = np.asarray(value.to_numpy() if isinstance(value, pd.Series | pd.Index) else value)
    if array.dtype.kind in "MO" or isinstance(getattr(value, "dtype", None), pd.DatetimeTZDtype):
        stamps: npt.NDArray[np.int64] = pd.DatetimeIndex(np.ravel(array)).as_unit("ns").asi8
        return stamps
    return array.astype(np.int64, copy=False)


def elapsed(
    later: object, earlier: object, *, unit_ns: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """
    Return ``later - earlier`` in units of ``unit_ns`` nanoseconds, as float64, never wrapping.

    Timestamps are 64-bit nanoseconds; the span between 1678 and 2261 (both representable)
    is more nanoseconds than a 64-bit integer holds, so a plain subtraction either raises
    Python's ``OverflowError`` (pandas) or silently wraps to a negative number (NumPy).
    Whole units and the remainders are subtracted apart instead. ``NaT`` gives NaN.

    Args:
        later: the later instants (a Series, Timestamp, datetime64 or int64-nanosecond array).
        earlier: the earlier instants, broadcast against ``later``.
        unit_ns: the unit, in nanoseconds (:data:`NS_PER_DAY`, :data:`NS_PER_HOUR`).

    Examples:
        >>> start, end = pd.Timestamp("1678-01-01", tz="UTC"), pd.Timestamp("2261-12-01", tz="UTC")
        >>> float(elapsed(end, start, unit_ns=NS_PER_DAY)[0])
        213270.0
    """
    a, b = _nanoseconds(later), _nanoseconds(earlier)
    missing = (a == _NAT) | (b == _NAT)
    whole = (a // unit_ns - b // unit_ns).astype("float64")
    part = (a % unit_ns - b % unit_ns).astype("float64") / unit_ns
    result: np.ndarray[Any, np.dtype[np.float64]] = np.where(missing, np.nan, whole + part)
    return result


@attrs.frozen(repr=False)
class _Finite:
    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not is_finite_number(value):
            raise ValidationError.for_field(attr.name, value, "a finite number")

    def __repr__(self) -> str:
        return "<finite validator>"


def finite() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: a finite number of any kind (never NaN, an infinity or a bool)."""
    return _Finite()


@attrs.frozen(repr=False)
class _Probability:
    scale: Scale

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check_probability(value, attr.name, scale=self.scale)

    def __repr__(self) -> str:
        return f"<probability validator ({self.scale})>"


def optional_probability(scale: Scale) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: ``None`` or a probability on ``scale`` (:func:`check_probability`)."""
    return _Probability(scale)
