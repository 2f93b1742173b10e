"""
Event-safe data: the values an event (or a record's custom fields) may hold, and their JSON form.

:func:`encode` turns a value into JSON-ready data with ``$``-tags for the types
JSON lacks; :func:`decode` turns it back. Decoding never imports anything: an
enum tag is looked up in the registry the host filled in code
(:func:`register_enum`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from crmlifecycle._config import MAX_NUMBER_DIGITS
from crmlifecycle.errors import ValidationError
from crmlifecycle.values import Money

__all__ = ["decode", "encode", "register_enum"]

_ENUMS: dict[str, type[Enum]] = {}
_MAX_DEPTH: Final = 32
#: Integers of event data lie strictly between -INT_BOUND and INT_BOUND (a JSON number's bound).
INT_BOUND: Final = 10**MAX_NUMBER_DIGITS


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
        return {"$decimal": str(value)}
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


def decode(value: object, depth: int = 0) -> Any:  # noqa: C901, PLR0911
    if depth > _MAX_DEPTH:
        raise ValidationError.for_field(
            "context", "...", f"nested at most {_MAX_DEPTH} levels deep"
        )
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 or (len(value) == 2 and "$enum" in value):  # noqa: PLR2004
        tag = next(iter(value))
        body = value[tag]
        if tag == "$decimal":
            return Decimal(body)
        if tag == "$money":
            return Money(body["amount"], body["currency"])
        if tag == "$datetime":
            return datetime.fromisoformat(body)
        if tag == "$date":
            return date.fromisoformat(body)
        if tag == "$timedelta":
            days, seconds, micros = body
            return timedelta(days=days, seconds=seconds, microseconds=micros)
        if tag == "$tuple":
            return tuple(decode(v, depth + 1) for v in body)
        if tag == "$enum":
            cls = _ENUMS.get(body)
            if cls is None:
                raise ValidationError.for_field(
                    "context", body, "a registered enum", hint="call register_enum(...) first."
                )
            return cls(decode(value["value"], depth + 1))
    return {k: decode(v, depth + 1) for k, v in value.items()}
