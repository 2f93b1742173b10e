"""
Event-safe data: the values an event (or a record's custom fields) may hold, and their JSON form.

:func:`encode` turns a value into JSON-ready data with ``$``-tags for the types
JSON lacks; :func:`decode` turns it back. Decoding never imports anything: an
enum tag is looked up in the registry the host filled in code
(:func:`register_enum`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from crmlifecycle._config import MAX_NUMBER_DIGITS
from crmlifecycle.errors import ValidationError
from crmlifecycle.values import Money
from crmlifecycle.values import _parse_decimal_text as parse_decimal_text

__all__ = ["decode", "encode", "plain_number", "register_enum"]

_ENUMS: dict[str, type[Enum]] = {}
_MAX_DEPTH: Final = 32
#: Integers of event data lie strictly between -INT_BOUND and INT_BOUND (a JSON number's bound).
INT_BOUND: Final = 10**MAX_NUMBER_DIGITS


def plain_number(value: object) -> object:
    """
    A number field's value as the Python number it holds: ``np.int64(3)`` -> ``3``.

    A NumPy scalar (a frame cell) would be stored as given, and then no event could hold
    the record (events keep JSON-like data) and an ``np.int8`` would wrap on arithmetic.
    """
    if value is None or isinstance(value, bool):
        return value
    kind: type = type(value)
    if isinstance(value, numbers.Integral) and kind is not int:
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Rational):
        return value if kind is float else float(value)
    return value


def register_enum(cls: type[Enum]) -> type[Enum]:
    """
    Allow members of ``cls`` in event contexts (usable as a class decorator).

    The enum is recorded under its qualified name; decoding looks it up here and
    nowhere else.

    Examples:
        >>> from enum import Enum
        >>> @register_enum
        ... class Tier(Enum):
        ...     GOLD = "gold"
        >>> decode(encode(Tier.GOLD, "context")) is Tier.GOLD
        True
    """
    candidate: object = cls  # untrusted at run time
    if not (isinstance(candidate, type) and issubclass(candidate, Enum)):
        raise ValidationError.for_field("cls", cls, "an Enum class")
    _ENUMS[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def encode(value: object, path: str, depth: int = 0) -> Any:  # noqa: C901, PLR0911, PLR0912
    if depth > _MAX_DEPTH:
        raise ValidationError.for_field(path, "...", f"nested at most {_MAX_DEPTH} levels deep")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_BOUND:
        raise ValidationError.for_field(
            path,
            value,
            f"an integer of at most {MAX_NUMBER_DIGITS} digits",
            hint="store a larger number as a Decimal or as text.",
        )
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError.for_field(path, value, "a finite number")
        return value
    if isinstance(value, Enum):
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if _ENUMS.get(name) is not type(value):
            raise ValidationError.for_field(
                path, value, "a registered enum member", hint="call register_enum(YourEnum) first."
            )
        return {"$enum": name, "value": encode(value.value, path, depth + 1)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError.for_field(path, value, "a finite number")
        text = str(value)
        parse_decimal_text(text, path)  # the bounds decode applies: what is written reads back
        return {"$decimal": text}
    if isinstance(value, Money):
        return {"$money": {"amount": str(value.amount), "currency": value.currency}}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, list | tuple):
        tag = "$tuple" if isinstance(value, tuple) else None
        items = [encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return {tag: items} if tag else items
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$"):
                raise ValidationError.for_field(
                    path, key, "a mapping with string keys not starting with '$'"
                )
            out[key] = encode(item, f"{path}.{key}", depth + 1)
        return out
    raise ValidationError.for_field(
        path,
        value,
        "JSON-like data (str, numbers, Decimal, datetime, date, timedelta, Money, "
        "registered enums, lists, dicts)",
    )


_TAG_SHAPES: Final = {
    "$decimal": "a finite decimal number as text, e.g. {'$decimal': '12.50'}",
    "$money": "{'$money': {'amount': '<decimal text>', 'currency': '<ISO 4217 code>'}}",
    "$datetime": "ISO 8601 date-time text, e.g. {'$datetime': '2026-01-02T00:00:00+00:00'}",
    "$date": "ISO 8601 date text, e.g. {'$date': '2026-01-02'}",
    "$timedelta": "a list [days, seconds, microseconds] of integers",
    "$tuple": "a list of values",
    "$enum": "{'$enum': '<registered enum name>', 'value': <member value>}",
}


def _bad_tag(path: str, tag: str, body: object) -> ValidationError:
    return ValidationError.for_field(
        path,
        body,
        f"a well-formed {tag} value: {_TAG_SHAPES[tag]}",
        hint=f"write {path} as event.to_dict() does, or fix the {tag} value.",
    )


def _decode_tagged(tag: str, body: object, value: dict[Any, Any], path: str, depth: int) -> Any:  # noqa: C901, PLR0912
    if tag == "$decimal":
        if not isinstance(body, str):
            raise _bad_tag(path, tag, body)
        try:
            return parse_decimal_text(body, path)
        except ValidationError as err:
            raise _bad_tag(path, tag, body) from err
    if tag == "$money":
        if (
            not isinstance(body, dict)
            or set(body) != {"amount", "currency"}
            or not isinstance(body["amount"], str)
            or not isinstance(body["currency"], str)
        ):
            raise _bad_tag(path, tag, body)
        try:
            return Money(parse_decimal_text(body["amount"], path), body["currency"])
        except (ArithmeticError, TypeError, ValueError) as err:
            raise _bad_tag(path, tag, body) from err
    if tag in ("$datetime", "$date"):
        if not isinstance(body, str):
            raise _bad_tag(path, tag, body)
        try:
            return datetime.fromisoformat(body) if tag == "$datetime" else date.fromisoformat(body)
        except ValueError as err:
            raise _bad_tag(path, tag, body) from err
    if tag == "$timedelta":
        if (
            not isinstance(body, list)
            or len(body) != 3  # noqa: PLR2004
            or any(type(part) is not int for part in body)
        ):
            raise _bad_tag(path, tag, body)
        try:
            return timedelta(days=body[0], seconds=body[1], microseconds=body[2])
        except OverflowError as err:
            raise _bad_tag(path, tag, body) from err
    if tag == "$tuple":
        if not isinstance(body, list):
            raise _bad_tag(path, tag, body)
        return tuple(decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(body))
    # "$enum"
    if not isinstance(body, str) or "value" not in value:
        raise _bad_tag(path, tag, body)
    cls = _ENUMS.get(body)
    if cls is None:
        raise ValidationError.for_field(
            path, body, "a registered enum", hint="call register_enum(...) first."
        )
    member = decode(value["value"], f"{path}.value", depth + 1)
    try:
        return cls(member)
    except (TypeError, ValueError) as err:
        raise ValidationError.for_field(
            f"{path}.value", member, f"a value of {cls.__name__}"
        ) from err


def decode(value: object, path: str = "context", depth: int = 0) -> Any:
    """
    Turn data made by :func:`encode` back into values.

    Args:
        value: JSON-like data (as :func:`json.loads` returns it).
        path: where ``value`` sits, named in errors (``"context"``, ``"changes.amount"``).
        depth: the nesting depth of ``value`` (callers leave it at 0).

    Raises:
        ValidationError: a malformed ``$``-tagged value, an unknown ``$``-tag, a
            mapping key that is not a string, or data nested too deep, naming the path.

    Examples:
        >>> decode({"$decimal": "1.5"})
        Decimal('1.5')
        >>> decode({"$date": 20260102}, "context.due")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'context.due' must be a well-formed $date value: ...
    """
    if depth > _MAX_DEPTH:
        raise ValidationError.for_field(path, "...", f"nested at most {_MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    tags = [k for k in value if isinstance(k, str) and k.startswith("$")]
    if tags:
        tag = tags[0]
        expected_keys = {"$enum", "value"} if tag == "$enum" else {tag}
        if tag not in _TAG_SHAPES or set(value) != expected_keys:
            raise ValidationError.for_field(
                path,
                sorted(map(str, value)),
                f"a tagged value with one of the tags {sorted(_TAG_SHAPES)} and no other keys",
                hint="keys starting with '$' are reserved for tagged values.",
            )
        return _decode_tagged(tag, value[tag], value, path, depth)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValidationError.for_field(path, key, "a mapping with string keys")
        out[key] = decode(item, f"{path}.{key}", depth + 1)
    return out
