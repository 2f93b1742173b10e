"""The public :class:`Condition`: parse once, bind to a schema, evaluate on records or frames."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, final

import attrs
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import (
    DataError,
    RuleTypeError,
    UnknownFieldError,
    ValidationError,
    short_repr,
)
from crmlifecycle.rules._check import check_condition, lookup, schema_from
from crmlifecycle.rules._frame import FrameEvaluator, RowByRow, column_type
from crmlifecycle.rules._functions import FUNCTION_NAMES, FUNCTIONS
from crmlifecycle.rules._nodes import (
    And,
    Arith,
    Call,
    Compare,
    Field,
    InList,
    Neg,
    Node,
    Not,
    Or,
    ValueType,
)
from crmlifecycle.rules._record import BoolFn, EntityView, RecordCompiler, entity_fields
from crmlifecycle.rules._syntax import parse

__all__ = ["Condition", "evaluation_time"]


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, And | Or):
            stack.extend(current.children)
        elif isinstance(current, Not):
            stack.append(current.child)
        elif isinstance(current, Compare | Arith):
            stack.extend((current.left, current.right))
        elif isinstance(current, InList | Neg):
            stack.append(current.operand)
        elif isinstance(current, Call):
            stack.extend(current.args)


def evaluation_time(as_of: Instant | None, *, text: str = "") -> datetime:
    """
    Return ``as_of`` as an aware UTC datetime: the moment a condition looks from.

    A condition that reads the time (``now()``, ``today()``, ``days_since(...)``...)
    has no default moment: the library keeps no clock of its own.

    Args:
        as_of: an :data:`~crmlifecycle.typing.Instant` (a naive value is read as UTC
            only when it is a date or midnight).
        text: the condition's text, named in the error.

    Raises:
        ValidationError: ``as_of`` is missing, naive with a time of day, or not a time.

    Examples:
        >>> evaluation_time("2026-03-01")
        datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
        >>> evaluation_time(None, text="days_since(created_at) < 7")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'as_of' must be the moment to evaluate from, ...
    """
    if isinstance(as_of, datetime) and as_of.tzinfo is not None and as_of.utcoffset() is not None:
        return as_of.astimezone(UTC)
    expected = "the moment to evaluate from, a timezone-aware datetime or a date"
    if as_of is None:
        used = (
            f" {short_repr(text)} reads the time, so it"
            if text
            else " a condition that reads the time"
        )
        raise ValidationError.for_field(
            "as_of",
            None,
            expected,
            hint=f"{used.strip()} needs as_of=, e.g. "
            "as_of=datetime(2026, 3, 1, tzinfo=timezone.utc); the library never assumes now.",
        )
    try:
        stamp = utc_timestamp(as_of, name="as_of")
    except DataError:
        raise ValidationError.for_field(
            "as_of",
            as_of,
            expected,
            hint="pass e.g. as_of=datetime(2026, 3, 1, tzinfo=timezone.utc) or a date; naive "
            "values with a time of day are refused.",
        ) from None
    return stamp.to_pydatetime()


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> tuple[Node, BoolFn, frozenset[str], dict[str, int], bool]:
    tree = parse(text, set(FUNCTION_NAMES))
    check_condition(tree, lambda _field: ValueType.ANY, text)
    predicate = RecordCompiler(text).boolean(tree, want=True)
    fields = [n for n in _walk(tree) if isinstance(n, Field)]
    positions: dict[str, int] = {}
    for field in sorted(fields, key=lambda f: f.pos):
        positions.setdefault(field.path[0], field.pos)
    uses_time = any(isinstance(n, Call) and FUNCTIONS[n.name].uses_time for n in _walk(tree))
    return tree, predicate, frozenset(positions), positions, uses_time


@final
class Condition:
    """
    A condition in the rule language, parsed once and evaluated on records or frames.

    The language is a small, safe subset of Python's expression syntax (see
    ``docs/rules.md``): literals, field paths, comparisons (chained too),
    ``and``/``or``/``not``, ``in [...]``, arithmetic on numbers and dates, and a
    whitelist of functions. A missing value (``None``, NaN, NaT, ``pd.NA``) makes
    comparisons and arithmetic *missing*; ``and``/``or``/``not`` follow Kleene's
    three-valued logic; a condition whose value is missing counts as false. Both
    engines implement that rule identically.

    Args:
        text: the condition, e.g. ``"score >= 70 and source == 'webinar'"``; parsed and
            checked at once, as by :meth:`parse`.

    Examples:
        >>> from datetime import datetime, timezone
        >>> cond = Condition.parse("score >= 70 and source in ['webinar', 'referral']")
        >>> sorted(cond.fields)
        ['score', 'source']
        >>> cond.evaluate({"score": 82, "source": "webinar"})
        True
        >>> cond.evaluate({"score": None, "source": "webinar"})
        False
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"score": [82, 50, None], "source": ["webinar"] * 3})
        >>> cond.evaluate_frame(frame).tolist()
        [True, False, False]
        >>> Condition.parse("scroe > 1").bind({"score": float})
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.UnknownFieldError: unknown field 'scroe' (did you mean 'score'?) ...

    .. versionadded:: 0.1
    """

    __slots__ = ("_positions", "_predicate", "_schema", "_tree", "_uses_time", "fields", "text")

    def __init__(self, text: str, *, _schema: Mapping[str, Any] | None = None) -> None:
        raw: object = text  # untrusted at run time
        if not isinstance(raw, str):  # before the cache, which would need it hashable
            parse(text, set())  # raises the language's "a condition must be text" error
        tree, predicate, fields, positions, uses_time = _compiled(text)
        self.text = text
        self.fields = fields
        self._tree = tree
        self._predicate = predicate
        self._positions = positions
        self._uses_time = uses_time
        self._schema = _schema

    @classmethod
    def parse(cls, text: str) -> Condition:
        """
        Parse ``text`` once (checking its syntax, safety limits and literal types).

        Args:
            text: the condition in the rule language.

        Examples:
            >>> Condition.parse("amount.amount > 10000").fields
            frozenset({'amount'})
            >>> Condition.parse("__import__('os')")
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.UnsafeRule: '__import__': names starting with '_' ...

        Raises:
            RuleSyntaxError: the text is not valid in the language.
            UnsafeRule: it uses a forbidden construct or exceeds a limit.
            RuleTypeError: it combines literals of the wrong types (``'a' < 1``).
        """
        return cls(text)

    @property
    def uses_time(self) -> bool:
        """Whether the condition reads the time (``now()``, ``days_since``...): needs ``as_of``."""
        return self._uses_time

    @property
    def schema(self) -> Mapping[str, Any] | None:
        """The schema the condition was bound to (``None`` if unbound)."""
        return self._schema

    def bind(self, schema: object) -> Condition:
        """
        Check the condition against a schema and return it bound.

        ``schema`` is an attrs entity class (its fields and their annotated types;
        nested entities and ``Money`` give dotted paths such as ``budget.amount``),
        a mapping of field names to types (Python types, nested mappings, or the
        names ``"number"``, ``"string"``, ``"bool"``, ``"datetime"``, ``"duration"``,
        ``"any"``), or a DataFrame (its columns and dtypes).

        Args:
            schema: the entity class, mapping of field types, or DataFrame to check against.

        Examples:
            >>> from crmlifecycle import Lead
            >>> Condition.parse("budget.amount > 1000 and channel == 'webinar'").bind(Lead).text
            "budget.amount > 1000 and channel == 'webinar'"
            >>> Condition.parse("channel > 3").bind(Lead)
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.RuleTypeError: cannot compare string with number using >...

        Raises:
            UnknownFieldError: a field is not in the schema (with a did-you-mean hint).
            RuleTypeError: an operation does not fit the field types.
            SpecError: the schema itself is not usable.
            DataError: a DataFrame schema's columns are a MultiIndex or repeat a name.
        """
        if isinstance(schema, pd.DataFrame):
            require_columns(schema, [], frame_name="schema")
            evaluator = FrameEvaluator(schema, self.text, None)

            def frame_type(field: Field) -> ValueType:
                name = evaluator.column_of(field)
                return column_type(schema[name], name)

            check_condition(self._tree, frame_type, self.text)
            used = {n.name: frame_type(n) for n in _walk(self._tree) if isinstance(n, Field)}
            return Condition(self.text, _schema=used)
        resolved = schema_from(schema)
        check_condition(self._tree, lambda field: lookup(resolved, field, self.text), self.text)
        return Condition(self.text, _schema=resolved)

    def evaluate(self, record: object, *, as_of: Instant | None = None) -> bool:
        """
        Evaluate on one record: a mapping, or an attrs entity (its fields only).

        Args:
            record: the record.
            as_of: the moment the condition looks from (``now()``, ``days_since`` ...).
                Required when the condition reads the time (:attr:`uses_time`);
                there is no default moment.

        Examples:
            >>> from datetime import datetime, timezone
            >>> as_of = datetime(2026, 3, 31, tzinfo=timezone.utc)
            >>> cond = Condition.parse("days_since(created_at) <= 30")
            >>> cond.evaluate({"created_at": datetime(2026, 3, 10, tzinfo=timezone.utc)},
            ...               as_of=as_of)
            True
            >>> cond.evaluate({"created_at": datetime(2026, 3, 10, tzinfo=timezone.utc)})
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'as_of' must be the moment to evaluate from, ...

        Raises:
            UnknownFieldError: the record lacks a field the condition reads.
            RuleTypeError: a value has the wrong type for its operation.
            ValidationError: the condition reads the time and ``as_of`` is missing or
                not a moment.
        """
        try:
            if record.__class__ is dict and not self._uses_time:
                return self._predicate(record, None)  # type: ignore[arg-type]
            return self._evaluate(record, as_of)
        except UnknownFieldError:
            raise
        except KeyError as err:
            raise self._unknown(err, record) from None

    def _moment(self, as_of: Instant | None) -> datetime | None:
        """The evaluation time: checked when the condition reads it, else unused."""
        return evaluation_time(as_of, text=self.text) if self._uses_time else None

    def _evaluate(self, record: object, as_of: Instant | None) -> bool:
        when = self._moment(as_of)
        if not isinstance(record, Mapping):
            if not attrs.has(type(record)):
                raise RuleTypeError(
                    f"cannot evaluate a condition on a {type(record).__name__}. "
                    "Hint: pass a mapping or an attrs entity.",
                    text=self.text,
                )
            record = EntityView(record)
        return self._predicate(record, when)  # type: ignore[arg-type]

    def predicate(self, *, as_of: Instant | None = None) -> Callable[[Mapping[str, Any]], bool]:
        """
        Return a plain function ``record -> bool`` for hot loops over mappings.

        It skips the per-call checks of :meth:`evaluate` (record type, error
        translation); a missing key raises ``KeyError``. ``as_of`` is checked once,
        here (required when the condition reads the time).

        Args:
            as_of: the moment the condition looks from (``now()``, ``days_since`` ...);
                required when it reads the time (:attr:`uses_time`), unused otherwise.

        Examples:
            >>> is_hot = Condition.parse("score >= 70").predicate()
            >>> [is_hot(r) for r in ({"score": 90}, {"score": 10})]
            [True, False]

        Raises:
            ValidationError: the condition reads the time and ``as_of`` is missing.
        """
        when = self._moment(as_of)
        predicate = self._predicate
        return lambda record: predicate(record, when)  # type: ignore[arg-type]

    def evaluate_frame(
        self, frame: pd.DataFrame, *, as_of: Instant | pd.Series | None = None
    ) -> pd.Series:
        """
        Evaluate on every row of a DataFrame, vectorised.

        Field paths read columns: ``account.industry`` reads the column
        ``"account.industry"`` if present, else ``"account_industry"``; ``x.amount``
        also reads a numeric column ``x`` (a ``Money`` field stored as its amount).

        Args:
            frame: the rows; it is never modified.
            as_of: the moment the condition looks from, or a Series of aware
                timestamps aligned to the frame (one moment per row). Required when
                the condition reads the time, exactly as in :meth:`evaluate`.

        Returns:
            A ``bool`` Series aligned to ``frame.index``.

        Examples:
            >>> import pandas as pd
            >>> frame = pd.DataFrame({"industry": ["saas", None, "retail"]})
            >>> Condition.parse("industry != 'retail'").evaluate_frame(frame).tolist()
            [True, False, False]

        Raises:
            UnknownFieldError: a field has no column.
            RuleTypeError: a column's type does not fit its operation.
            DataError: a column holds malformed values (e.g. naive datetimes with a time).
            ValidationError: the condition reads the time and ``as_of`` is missing or
                not a moment.
        """
        require_columns(frame, [], frame_name="condition")
        when: object = None
        if self._uses_time:
            if isinstance(as_of, pd.Series):
                when = as_utc(as_of, "as_of").set_axis(frame.index)
            else:
                when = evaluation_time(as_of, text=self.text)
        evaluator = FrameEvaluator(frame, self.text, when)
        try:
            check_condition(self._tree, evaluator.field_type, self.text)
            mask = evaluator.boolean(self._tree, want=True)
        except RowByRow:
            return self._evaluate_rows(frame, when)
        return pd.Series(mask, index=frame.index, dtype=bool)

    def _evaluate_rows(self, frame: pd.DataFrame, when: object) -> pd.Series:
        """Evaluate each row with the record engine (a column the frame engine cannot hold)."""
        rows = frame.to_dict("records")
        if isinstance(when, pd.Series):
            moments = [stamp.to_pydatetime() for stamp in when]
            values = [self.evaluate(r, as_of=m) for r, m in zip(rows, moments, strict=True)]
        else:
            values = [self.evaluate(r, as_of=when) for r in rows]  # type: ignore[arg-type]
        return pd.Series(values, index=frame.index, dtype=bool)

    def _unknown(self, err: KeyError, record: object) -> UnknownFieldError:
        name = str(err.args[0]) if err.args else ""
        # evaluate() refuses any other record before reading a field
        if isinstance(record, Mapping):
            available = [str(k) for k in record]
        else:
            available = sorted(entity_fields(type(record)))
        return UnknownFieldError(
            name,
            available,
            text=self.text,
            position=self._positions.get(name),
        )

    def __repr__(self) -> str:
        bound = ", bound" if self._schema is not None else ""
        return f"Condition({self.text!r}{bound})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __reduce__(self) -> tuple[Any, tuple[str, Mapping[str, Any] | None]]:
        # The compiled predicate is a closure: rebuild it from the text (and the bound schema).
        return (_rebuild, (self.text, self._schema))


def _rebuild(text: str, schema: Mapping[str, Any] | None) -> Condition:
    """Unpickle a :class:`Condition`: compile its text again (the compile cache makes it cheap)."""
    return Condition(text, _schema=schema)
