"""
Engine 2: evaluate a condition over a whole DataFrame with vectorised operations.

Columns are read once, typed from their dtypes (``object`` columns by inspecting
their values) and normalised: numbers stay numpy ``int64``/``float64`` (other
numeric dtypes become ``float64`` with NaN), text becomes pandas' ``str`` dtype,
datetimes become ``datetime64[ns, UTC]`` by the library's time rule, durations
``timedelta64[ns]``, booleans nullable ``boolean``. A column without a present value
(all missing, or no rows) has no type: its cells compare as missing values do in the
record engine. An ``object`` column of datetimes outside the years 1677-2262 cannot be
vectorised, nor can durations beyond about 292 years: :class:`RowByRow` hands the frame to
the record engine. Conditions use the same two
modes as the record engine (true-mask / false-mask) so that each node is
computed once and missing values count as false; values of conditions used as
values are pandas ``boolean`` arrays, whose ``&``, ``|`` and ``~`` are Kleene's.
Whenever every operand is a scalar (literals, the evaluation time), the scalar
rules of :mod:`crmlifecycle.rules._runtime` are applied, so both engines share them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Final, final

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc
from crmlifecycle.errors import DataError, RuleTypeError, UnknownFieldError
from crmlifecycle.rules._check import arith_type, infer
from crmlifecycle.rules._nodes import (
    And,
    Arith,
    Compare,
    Const,
    Field,
    InList,
    Neg,
    Node,
    Not,
    Or,
    ValueType,
)
from crmlifecycle.rules._record import NEGATED
from crmlifecycle.rules._runtime import COMPARE, arith, compare

__all__ = ["FrameEvaluator", "RowByRow", "Vec", "column_type", "floats"]

_OBJECT_KINDS: Final = {
    "string": ValueType.STRING,
    "empty": ValueType.NULL,
    "boolean": ValueType.BOOL,
    "integer": ValueType.NUMBER,
    "floating": ValueType.NUMBER,
    "mixed-integer-float": ValueType.NUMBER,
    "mixed-integer": ValueType.NUMBER,  # checked value by value when the column is read
    "decimal": ValueType.NUMBER,
    "datetime": ValueType.DATETIME,
    "datetime64": ValueType.DATETIME,
    "date": ValueType.DATETIME,
    "timedelta": ValueType.DURATION,
    "timedelta64": ValueType.DURATION,
}


def column_type(series: pd.Series, name: str) -> ValueType:  # noqa: PLR0911 - one branch per dtype
    """
    The rule-language type of a column, from its dtype (or its values if ``object``).

    Raises:
        RuleTypeError: for a column whose values the language cannot read.
    """
    dtype = series.dtype
    if not bool(series.notna().any()):
        # no present value, no type evidence (an empty CSV column reads as all-NaN float):
        # every cell is missing, and compares as a missing value does in the record engine
        return ValueType.NULL
    if isinstance(dtype, pd.CategoricalDtype):
        return (
            column_type(pd.Series(dtype.categories), name)
            if len(dtype.categories)
            else ValueType.NULL
        )
    if pd.api.types.is_bool_dtype(dtype):
        return ValueType.BOOL
    if pd.api.types.is_numeric_dtype(dtype):
        return ValueType.NUMBER
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return ValueType.DATETIME
    if pd.api.types.is_timedelta64_dtype(dtype):
        return ValueType.DURATION
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return ValueType.STRING
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    kind = _OBJECT_KINDS.get(inferred)
    if kind is None:
        raise RuleTypeError(
            f"column {name!r} holds values the rule language cannot read "
            f"(pandas infers {inferred!r}). Hint: give the column one type: numbers, "
            "text, true/false, datetimes or durations."
        )
    return kind


def _normalise(series: pd.Series, kind: ValueType, name: str) -> pd.Series:  # noqa: PLR0911 - by type
    dtype = series.dtype
    if kind is ValueType.NUMBER:
        if isinstance(dtype, np.dtype) and dtype.kind in "if":
            return series if dtype in (np.int64, np.float64) else series.astype("float64")
        if pd.api.types.is_object_dtype(dtype):
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            bad = numbers.isna() & series.notna()
            if bool(bad.any()):
                raise RuleTypeError(
                    f"column {name!r} mixes numbers with other values "
                    f"(e.g. {series[bad].iloc[0]!r}). Hint: give the column one type."
                )
            return numbers
        return pd.Series(
            series.to_numpy(dtype="float64", na_value=np.nan), index=series.index, name=name
        )
    if kind is ValueType.STRING:
        return series if dtype == "str" else series.astype("str")
    if kind is ValueType.DATETIME:
        return _instants(series, name)
    if kind is ValueType.DURATION:
        try:
            return pd.to_timedelta(series).astype("timedelta64[ns]")
        except (OverflowError, ValueError):  # beyond about 292 years: the record engine reads it
            raise RowByRow(name) from None
    # ValueType.BOOL: column_type gives no other kind; ValueType.NULL columns are never normalised
    if isinstance(dtype, np.dtype) and dtype == np.bool_:
        return series
    return series.astype("boolean")


#: The instants a ``datetime64[ns]`` column holds (pandas' ``Timestamp.min`` and ``.max``).
_NS_FIRST: Final = datetime(1677, 9, 21, 0, 12, 44, tzinfo=UTC)
_NS_LAST: Final = datetime(2262, 4, 11, 23, 47, 16, tzinfo=UTC)


class RowByRow(Exception):  # noqa: N818 - a signal, not an error a user sees
    """
    A column cannot be vectorised, so the condition is evaluated record by record.

    Raised for a column of datetimes outside the years a nanosecond timestamp holds
    (e.g. ``datetime(1, 1, 1)`` in an ``object`` or ``datetime64[us]`` column), or of
    durations beyond about 292 years: the record engine reads them, so the frame engine
    hands such a frame to it and gives the same answer.
    """

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


def _beyond_nanoseconds(series: pd.Series) -> bool:
    """Whether a column holds a date or datetime that a nanosecond timestamp cannot hold."""
    for value in series.dropna().to_numpy(dtype=object):
        if not isinstance(value, date):
            continue
        moment = value if isinstance(value, datetime) else datetime.combine(value, time())
        try:  # a naive value is read as UTC (a date-only value; others are refused later)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except OverflowError:  # the offset moves it past year 1 or 9999
            return True
        if not _NS_FIRST <= moment <= _NS_LAST:
            return True
    return False


def _instants(series: pd.Series, name: str) -> pd.Series:
    """A datetime column in UTC by the time rule; :class:`RowByRow` beyond nanoseconds."""
    try:
        return as_utc(series, name, allow_missing=True)
    except DataError:
        if _beyond_nanoseconds(series):
            raise RowByRow(name) from None
        raise


@final
class Vec:
    """A typed value: a pandas Series aligned to the frame, or one canonical scalar."""

    __slots__ = ("data", "type")

    def __init__(self, values: object, kind: ValueType) -> None:
        self.data = values
        self.type = kind

    @property
    def scalar(self) -> bool:
        return not isinstance(self.data, pd.Series)


def _array(values: object) -> object:
    """The fastest comparable form of a value: numpy for numpy dtypes, else the array."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
            return values.to_numpy()
        return values.array
    return values


def _bools(result: object) -> np.ndarray:
    """A numpy bool array from a comparison result; missing (NA) becomes False."""
    if isinstance(result, np.ndarray) and result.dtype == np.bool_:
        return result
    array: Any = pd.array(result)  # type: ignore[call-overload]
    mask: np.ndarray = array.to_numpy(dtype=bool, na_value=False)
    return mask


def floats(vec: Vec) -> Any:
    if vec.scalar:
        return np.nan if vec.data is None else float(vec.data)  # type: ignore[arg-type]
    series = vec.data
    assert isinstance(series, pd.Series)  # noqa: S101
    return series.to_numpy(dtype="float64", na_value=np.nan)


@final
class FrameEvaluator:
    """Evaluate nodes over one frame (columns are read and normalised once, on demand)."""

    def __init__(self, frame: pd.DataFrame, text: str, as_of: object) -> None:
        self.frame = frame
        self.text = text
        self.n = len(frame)
        self.index = frame.index
        # the moment looked from: an aware datetime, a datetime64[ns, UTC] Series aligned
        # to the frame, or None when the condition does not read the time
        self.as_of = as_of
        self._columns: dict[str, tuple[ValueType, pd.Series | None]] = {}

    # -- columns ----------------------------------------------------------------------
    def column_of(self, node: Field) -> str:
        """
        Resolve a field path to a column: ``a.b``, then ``a_b``, then Money-like ``a``.

        Raises:
            UnknownFieldError: no column fits the path.
            RuleTypeError: the path reads a field of a column of plain values (as the
                record engine does for a field of a plain value).
        """
        columns = self.frame.columns
        dotted = node.name
        for name in (dotted, "_".join(node.path)):
            if name in columns:
                return name
        head = node.path[0]
        if len(node.path) > 1 and head in columns:
            kind = column_type(self.frame[head], head)
            if kind is ValueType.NULL or (
                kind is ValueType.NUMBER and node.path[1:] == ("amount",)
            ):
                # all missing: every field of it is missing, as in the record engine;
                # a number: a Money field stored as a numeric column of its amount
                return head
            raise RuleTypeError(
                f"column {head!r} is {kind}, which has no field {node.path[1]!r} "
                f"(in {dotted!r}). Hint: name a column {dotted!r} or "
                f"{'_'.join(node.path)!r} for a nested field.",
                text=self.text,
                position=node.pos,
            )
        raise UnknownFieldError(
            dotted, [str(c) for c in columns], text=self.text, position=node.pos
        )

    def column(self, node: Field) -> tuple[ValueType, pd.Series | None]:
        name = self.column_of(node)
        found = self._columns.get(name)
        if found is None:
            series = self.frame[name]
            kind = column_type(series, name)
            found = (kind, None if kind is ValueType.NULL else _normalise(series, kind, name))
            self._columns[name] = found
        return found

    def field_type(self, node: Field) -> ValueType:
        return self.column(node)[0]

    def check(self, node: Node) -> ValueType:
        """Type-check ``node`` against the frame's columns (no evaluation)."""
        return infer(node, self.field_type, self.text)

    # -- helpers ----------------------------------------------------------------------
    def missing(self, vec: Vec) -> np.ndarray:
        if vec.scalar:
            return np.full(self.n, vec.data is None)
        series = vec.data
        assert isinstance(series, pd.Series)  # noqa: S101
        return series.isna().to_numpy()

    def series(self, values: object, kind: ValueType) -> Vec:
        return Vec(pd.Series(values, index=self.index), kind)

    def kleene(self, true: np.ndarray, false: np.ndarray) -> Vec:
        data = pd.array(true, dtype="boolean")
        data[~true & ~false] = pd.NA
        return Vec(pd.Series(data, index=self.index), ValueType.BOOL)

    def null(self, kind: ValueType) -> Vec:
        return Vec(None, kind)

    # -- values -----------------------------------------------------------------------
    def value(self, node: Node) -> Vec:
        if isinstance(node, Const):
            return Vec(node.value, node.type)
        if isinstance(node, Field):
            kind, series = self.column(node)
            return Vec(series, kind) if series is not None else Vec(None, ValueType.NULL)
        if isinstance(node, Compare | InList | And | Or | Not):
            return self.condition_value(node)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Neg):
            return self.neg(node)
        from crmlifecycle.rules._frame_functions import call

        return call(self, node)

    def condition_value(self, node: Compare | InList | And | Or | Not) -> Vec:  # noqa: PLR0911
        if isinstance(node, Not):
            inner = self.truth(node.child)
            if inner.scalar:
                return Vec(None if inner.data is None else not inner.data, ValueType.BOOL)
            return Vec(~inner.data, ValueType.BOOL)  # type: ignore[operator]
        if isinstance(node, And | Or):
            values = [self.truth(c) for c in node.children]
            if all(v.scalar for v in values):
                return Vec(_kleene_scalar(node, [v.data for v in values]), ValueType.BOOL)
            result = self._as_boolean(values[0])
            for v in values[1:]:
                other = self._as_boolean(v)
                result = result & other if isinstance(node, And) else result | other
            return Vec(result, ValueType.BOOL)
        if isinstance(node, InList):
            operand = self.value(node.operand)
            if operand.scalar:
                return Vec(
                    None
                    if operand.data is None
                    else (operand.data in set(node.values)) != node.negate,
                    ValueType.BOOL,
                )
            return self.kleene(
                self.in_list(node, want=True, operand=operand),
                self.in_list(node, want=False, operand=operand),
            )
        left, right = self.value(node.left), self.value(node.right)
        if left.scalar and right.scalar:
            if left.data is None or right.data is None:
                return Vec(None, ValueType.BOOL)
            return Vec(compare(node.op, left.data, right.data, self.text, node.pos), ValueType.BOOL)
        return self.kleene(
            self.compare_vecs(node.op, left, right),
            self.compare_vecs(NEGATED[node.op], left, right),
        )

    def _as_boolean(self, vec: Vec) -> pd.Series:
        if vec.scalar:
            value = pd.NA if vec.data is None else bool(vec.data)
            return pd.Series(value, index=self.index, dtype="boolean")
        series = vec.data
        assert isinstance(series, pd.Series)  # noqa: S101
        return series.astype("boolean")

    def truth(self, node: Node) -> Vec:
        """The value of ``node`` used as a condition: a BOOL vec (or NULL)."""
        vec = self.value(node)
        if vec.type in {ValueType.NULL, ValueType.ANY}:  # ANY: coalesce() of all-missing columns
            return Vec(None, ValueType.BOOL)
        assert vec.type is ValueType.BOOL  # noqa: S101 - the tree was type-checked against the columns
        return vec

    def arith(self, node: Arith) -> Vec:
        left, right = self.value(node.left), self.value(node.right)
        kind = arith_type(node.op, left.type, right.type)
        assert kind is not None  # noqa: S101 - the tree was type-checked against the columns
        if kind is ValueType.ANY:  # both operands are all-missing columns
            kind = ValueType.NULL
        if ValueType.NULL in {left.type, right.type} or kind is ValueType.NULL:
            return self.null(kind)
        if left.scalar and right.scalar:
            if left.data is None or right.data is None:
                return self.null(kind)
            return Vec(arith(node.op, left.data, right.data, self.text, node.pos), kind)
        from crmlifecycle.rules._frame_functions import vector_arith

        return vector_arith(self, node, left, right, kind)

    def neg(self, node: Neg) -> Vec:
        operand = self.value(node.operand)
        if operand.type is ValueType.NULL:
            return operand
        if operand.scalar:
            if operand.data is None:
                return operand
            return Vec(-operand.data, operand.type)  # type: ignore[operator]
        if operand.type is ValueType.NUMBER:
            return self.series(-floats(operand), ValueType.NUMBER)
        series = operand.data
        assert isinstance(series, pd.Series)  # noqa: S101
        return Vec(-series, ValueType.DURATION)

    # -- conditions -------------------------------------------------------------------
    def boolean(self, node: Node, *, want: bool) -> np.ndarray:  # noqa: PLR0911 - per node type
        """A numpy mask true exactly where the node's Kleene value is ``want``."""
        if isinstance(node, And | Or):
            all_of = isinstance(node, And) == want
            masks = [self.boolean(c, want=want) for c in node.children]
            result = masks[0].copy()
            for mask in masks[1:]:
                if all_of:
                    result &= mask
                else:
                    result |= mask
            return result
        if isinstance(node, Not):
            return self.boolean(node.child, want=not want)
        if isinstance(node, Compare):
            left, right = self.value(node.left), self.value(node.right)
            if left.scalar and right.scalar:
                return self._scalar_truth(self.condition_value(node), want)
            return self.compare_vecs(node.op if want else NEGATED[node.op], left, right)
        if isinstance(node, InList):
            operand = self.value(node.operand)
            if operand.scalar:
                return self._scalar_truth(self.condition_value(node), want)
            return self.in_list(node, want=want, operand=operand)
        vec = self.truth(node)
        if vec.scalar:
            return self._scalar_truth(vec, want)
        series = vec.data
        assert isinstance(series, pd.Series)  # noqa: S101
        target = series if want else ~series
        return _bools(_array(target))

    def _scalar_truth(self, vec: Vec, want: bool) -> np.ndarray:
        return np.full(self.n, vec.data is want)

    def compare_vecs(self, op: str, left: Vec, right: Vec) -> np.ndarray:
        """Mask where ``left op right`` holds with both operands present."""
        if ValueType.NULL in {left.type, right.type} or left.data is None or right.data is None:
            return np.zeros(self.n, dtype=bool)
        # the tree was type-checked against the columns: the types match here
        result = _bools(COMPARE[op](_array(left.data), _array(right.data)))
        if op == "!=":  # the only operator that is true for a missing operand
            result = result & ~self.missing(left) & ~self.missing(right)
        return result

    def in_list(self, node: InList, *, want: bool, operand: Vec) -> np.ndarray:
        # a column operand: scalars (all-missing columns too) are decided by condition_value
        series = operand.data
        assert isinstance(series, pd.Series)  # noqa: S101
        values = list(node.values)
        if operand.type is ValueType.DATETIME:
            values = [pd.Timestamp(v) for v in values]  # type: ignore[arg-type]
        member: np.ndarray = series.isin(values).to_numpy()
        if want != node.negate:
            return member
        result: np.ndarray = ~member & ~self.missing(operand)
        return result


def _kleene_scalar(node: And | Or, values: list[object]) -> object:
    decisive = not isinstance(node, And)
    if any(v is decisive for v in values):
        return decisive
    return None if any(v is None for v in values) else not decisive
