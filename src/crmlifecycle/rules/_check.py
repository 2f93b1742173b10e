"""
Static checking: schemas (entity classes, mappings of field types) and type inference.

A condition is checked once when it is parsed (every field of type ``any``, which
still catches ``'a' < 1``) and again when it is bound to a schema, so unknown
fields and type mismatches are reported, with their position, before any record
or frame is evaluated.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final, TypeAlias

import attrs

from crmlifecycle.errors import RuleTypeError, SpecError, UnknownFieldError, short_repr
from crmlifecycle.rules._functions import FUNCTIONS
from crmlifecycle.rules._nodes import (
    And,
    Arith,
    Call,
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

__all__ = [
    "FieldType",
    "Schema",
    "arith_type",
    "check_condition",
    "infer",
    "lookup",
    "schema_from",
]

FieldType: TypeAlias = "ValueType | Mapping[str, FieldType]"
Schema: TypeAlias = Mapping[str, FieldType]
Lookup = Callable[[Field], ValueType]

_N, _S, _D, _U, _B = (
    ValueType.NUMBER,
    ValueType.STRING,
    ValueType.DATETIME,
    ValueType.DURATION,
    ValueType.BOOL,
)
_ARITH: Final[dict[tuple[str, ValueType, ValueType], ValueType]] = {
    **{(op, _N, _N): _N for op in ("+", "-", "*", "/", "//", "%", "**")},
    ("+", _D, _U): _D,
    ("+", _U, _D): _D,
    ("-", _D, _U): _D,
    ("-", _D, _D): _U,
    ("+", _U, _U): _U,
    ("-", _U, _U): _U,
    ("/", _U, _U): _N,
    ("*", _U, _N): _U,
    ("*", _N, _U): _U,
    ("/", _U, _N): _U,
}
_UNKNOWN: Final = frozenset({ValueType.ANY, ValueType.NULL})
_NAMES: Final[dict[str, ValueType]] = {
    "number": _N,
    "int": _N,
    "integer": _N,
    "float": _N,
    "decimal": _N,
    "string": _S,
    "str": _S,
    "text": _S,
    "bool": _B,
    "boolean": _B,
    "datetime": _D,
    "date": _D,
    "timestamp": _D,
    "duration": _U,
    "timedelta": _U,
    "any": ValueType.ANY,
}


def _from_type(tp: object, depth: int) -> FieldType:  # noqa: C901, PLR0911 - one branch per type family
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        found = [_from_type(a, depth) for a in typing.get_args(tp) if a is not type(None)]
        if len(found) == 1 or (
            found and all(isinstance(f, ValueType) and f is found[0] for f in found)
        ):
            return found[0]
        return ValueType.ANY
    if origin is typing.Literal:
        kinds = {_from_type(type(a), depth) for a in typing.get_args(tp)}
        return kinds.pop() if len(kinds) == 1 else ValueType.ANY
    if isinstance(tp, str):
        return _NAMES.get(tp.lower(), ValueType.ANY)
    if not isinstance(tp, type):
        return ValueType.ANY
    for cls, kind in ((bool, _B), (int, _N), (float, _N), (Decimal, _N), (str, _S)):
        if issubclass(tp, cls):
            return kind
    if issubclass(tp, datetime | date):
        return _D
    if issubclass(tp, timedelta):
        return _U
    if attrs.has(tp) and depth < 4:  # noqa: PLR2004 - nesting bound for recursive entity types
        return _attrs_schema(tp, depth + 1)
    return ValueType.ANY


def _attrs_schema(cls: type, depth: int) -> dict[str, FieldType]:
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints = {}
    return {
        a.name: _from_type(hints.get(a.name, a.type), depth)
        for a in attrs.fields(cls)
        if not a.name.startswith("_")
    }


def _mapping_schema(schema: Mapping[object, object], path: str, depth: int) -> dict[str, FieldType]:
    result: dict[str, FieldType] = {}
    for key, value in schema.items():
        where = f"{path}.{key}" if path else str(key)
        if not isinstance(key, str) or not key or key.startswith("_"):
            raise SpecError(
                "schema field names must be non-empty text not starting with '_' (got "
                f"{short_repr(key)}). "
                "Hint: rename the field.",
                path=where,
            )
        if isinstance(value, ValueType):
            result[key] = value
        elif isinstance(value, Mapping) and depth < 8:  # noqa: PLR2004 - nesting bound
            result[key] = _mapping_schema(value, where, depth + 1)
        elif isinstance(value, str) and value.lower() not in _NAMES:
            raise SpecError(
                f"unknown type name {short_repr(value)}. Hint: use one of {sorted(_NAMES)} "
                "or a Python type such as int, str, datetime.",
                path=where,
            )
        else:
            result[key] = _from_type(value, depth)
    return result


def schema_from(schema: object) -> dict[str, FieldType]:
    """
    Normalise an attrs entity class or a mapping of field types into a schema.

    Examples:
        >>> schema_from({"score": int, "source": "string"})
        {'score': <ValueType.NUMBER: 'number'>, 'source': <ValueType.STRING: 'string'>}

    Raises:
        SpecError: for a schema that is neither, or holds unknown type names.
    """
    if isinstance(schema, type) and attrs.has(schema):
        return _attrs_schema(schema, 0)
    if isinstance(schema, Mapping):
        return _mapping_schema(schema, "", 0)
    raise SpecError(
        f"cannot use a {type(schema).__name__} as a schema. Hint: pass an attrs entity class "
        "(e.g. Lead), a mapping of field names to types, or a DataFrame."
    )


def lookup(schema: Schema, field: Field, text: str) -> ValueType:
    """Return the type of a field path in ``schema``, or raise with a did-you-mean hint."""
    current: FieldType = schema
    path = field.path
    for index, part in enumerate(path):
        if isinstance(current, ValueType):
            if current in _UNKNOWN:
                return ValueType.ANY
            raise RuleTypeError(
                f"field {'.'.join(path[:index])!r} is {current}, which has no field {part!r}",
                text=text,
                position=field.pos,
            )
        if part in current:
            current = current[part]
            continue
        rest = path[index:]
        flat = next(
            (key for key in (".".join(rest), "_".join(rest)) if index == 0 and key in current),
            None,
        )
        if flat is not None:
            current = current[flat]
            break
        prefix = ".".join(path[:index]) + "." if index else ""
        raise UnknownFieldError(
            prefix + part,
            [prefix + key for key in current],
            text=text,
            position=field.pos,
        )
    if not isinstance(current, ValueType):
        example = next(iter(current), "field")
        raise RuleTypeError(
            f"field {field.name!r} is a record, not a value. "
            f"Hint: read one of its fields, e.g. {field.name}.{example}.",
            text=text,
            position=field.pos,
        )
    return current


def arith_type(op: str, left: ValueType, right: ValueType) -> ValueType | None:
    """The result type of ``left op right``; ``None`` when no combination is valid."""
    lefts = (_N, _S, _D, _U, _B) if left in _UNKNOWN else (left,)
    rights = (_N, _S, _D, _U, _B) if right in _UNKNOWN else (right,)
    found = {_ARITH[(op, a, b)] for a in lefts for b in rights if (op, a, b) in _ARITH}
    if not found:
        return None
    return found.pop() if len(found) == 1 else ValueType.ANY


def _err(message: str, node: Node, text: str) -> RuleTypeError:
    return RuleTypeError(message, text=text, position=node.pos)


def check_condition(node: Node, lookup_type: Lookup, text: str) -> None:
    """Check that ``node`` is a condition (true/false), raising :class:`RuleTypeError`."""
    kind = infer(node, lookup_type, text)
    if kind not in {_B, ValueType.ANY, ValueType.NULL}:
        what = f"{node.name!r} is" if isinstance(node, Field) else "this is"
        raise _err(
            f"{what} {kind}, not a condition. Hint: compare it, e.g. x > 0 or x == 'a'.",
            node,
            text,
        )


def _same(left: ValueType, right: ValueType) -> bool:
    return left in _UNKNOWN or right in _UNKNOWN or left is right


def infer(node: Node, lookup_type: Lookup, text: str) -> ValueType:  # noqa: C901, PLR0911, PLR0912
    """
    Infer the type of ``node``, raising :class:`RuleTypeError` on a mismatch.

    Examples:
        >>> from crmlifecycle.rules._syntax import parse
        >>> from crmlifecycle.rules._functions import FUNCTION_NAMES
        >>> infer(parse("1 + 2 > 2", set(FUNCTION_NAMES)), lambda f: ValueType.ANY, "")
        <ValueType.BOOL: 'bool'>
    """
    if isinstance(node, Const):
        return node.type
    if isinstance(node, Field):
        return lookup_type(node)
    if isinstance(node, And | Or):
        for child in node.children:
            check_condition(child, lookup_type, text)
        return _B
    if isinstance(node, Not):
        check_condition(node.child, lookup_type, text)
        return _B
    if isinstance(node, Compare):
        left = infer(node.left, lookup_type, text)
        right = infer(node.right, lookup_type, text)
        if not _same(left, right):
            hint = " (write dates as date('2026-03-01'))" if _D in {left, right} else ""
            raise _err(
                f"cannot compare {left} with {right} using {node.op}. "
                f"Hint: compare values of the same type{hint}.",
                node,
                text,
            )
        if _B in {left, right} and node.op not in {"==", "!="}:
            raise _err(
                f"true/false values cannot be ordered with {node.op}. Hint: use == or !=.",
                node,
                text,
            )
        return _B
    if isinstance(node, InList):
        operand = infer(node.operand, lookup_type, text)
        if node.elem_type is not ValueType.ANY and not _same(operand, node.elem_type):
            raise _err(
                f"cannot look for a {operand} value in a list of {node.elem_type} values. "
                "Hint: use a list of the field's type.",
                node,
                text,
            )
        return _B
    if isinstance(node, Arith):
        left = infer(node.left, lookup_type, text)
        right = infer(node.right, lookup_type, text)
        result = arith_type(node.op, left, right)
        if result is None:
            raise _err(
                f"cannot apply {node.op} to {left} and {right}. Hint: arithmetic works on "
                "numbers, and on dates with durations such as days(30); text cannot be "
                "added or repeated.",
                node,
                text,
            )
        return result
    if isinstance(node, Neg):
        operand = infer(node.operand, lookup_type, text)
        if operand not in {_N, _U, *_UNKNOWN}:
            raise _err(
                f"cannot negate a {operand} value. Hint: only numbers and durations can be "
                "negated.",
                node,
                text,
            )
        return operand
    return _infer_call(node, lookup_type, text)


def _infer_call(node: Call, lookup_type: Lookup, text: str) -> ValueType:
    func = FUNCTIONS[node.name]
    count = len(node.args)
    if func.variadic:
        if count < func.min_args:
            raise _err(
                f"{func.name}() takes at least {func.min_args} arguments, got {count}. "
                "Hint: see the function table in docs/rules.md.",
                node,
                text,
            )
    elif count != len(func.params):
        raise _err(
            f"{func.name}() takes {len(func.params)} argument(s), got {count}. "
            "Hint: see the function table in docs/rules.md.",
            node,
            text,
        )
    kinds = [infer(arg, lookup_type, text) for arg in node.args]
    for index, (arg, kind) in enumerate(zip(node.args, kinds, strict=True)):
        expected = func.params[0] if func.variadic else func.params[index]
        if expected is not ValueType.ANY and not _same(kind, expected):
            raise _err(
                f"{func.name}() expects {expected} for argument {index + 1}, got {kind}. "
                "Hint: see the function table in docs/rules.md.",
                arg,
                text,
            )
        if index in func.literal and not (isinstance(arg, Const) and arg.type is _S):
            raise _err(
                f"argument {index + 1} of {func.name}() must be a text literal. "
                f"Hint: write {func.name}(field, 'text').",
                arg,
                text,
            )
    if func.returns is ValueType.ANY:  # coalesce: all arguments share one type
        known = {k for k in kinds if k not in _UNKNOWN}
        if len(known) > 1:
            raise _err(
                f"{func.name}() arguments mix {' and '.join(sorted(k.value for k in known))}. "
                "Hint: give every argument one type.",
                node,
                text,
            )
        return known.pop() if known else ValueType.ANY
    return func.returns
