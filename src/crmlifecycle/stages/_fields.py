"""
Declared custom fields: :class:`CustomField`, their checks, their spec form and their guard view.

A lifecycle may declare the custom fields its records carry in their ``custom``
mapping (``Lifecycle(..., fields=[CustomField(name="tier", type="str")])``, or
the spec key ``fields:``). This module holds what every path does with that
declaration:

- :class:`CustomField`, the declaration (a type *name*, never code);
- :func:`check_value` and :func:`check_custom`, the checks of one value and of a
  record's whole ``custom`` mapping (type, choices, required, undeclared keys),
  run by :meth:`Lifecycle.check <crmlifecycle.stages.Lifecycle.check>`,
  :meth:`~crmlifecycle.stages.Lifecycle.fire`, :meth:`~crmlifecycle.stages.Lifecycle.edit`
  and :meth:`~crmlifecycle.stages.Lifecycle.replay`;
- :func:`split_changes`, which sorts an edit's keywords into record fields and
  custom fields (replay applies a ``FieldsChanged`` event the same way: a key
  that is not a record field goes into ``custom``);
- :func:`fields_from_spec` and :func:`fields_to_spec`, the spec form;
- :class:`CustomView`, the record as guards read it: its own fields plus the
  declared custom fields by name (an absent optional field reads as missing).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, final

import attrs

from crmlifecycle._validators import is_aware
from crmlifecycle.entities import Case, Customer, Lead, Opportunity
from crmlifecycle.errors import SpecError, ValidationError
from crmlifecycle.values import Money

__all__ = [
    "FIELD_TYPES",
    "CustomField",
    "CustomView",
    "check_custom",
    "check_fields",
    "check_value",
    "fields_from_spec",
    "fields_to_spec",
    "split_changes",
    "updated_custom",
]

#: The type names a custom field may declare, and what each accepts.
FIELD_TYPES: Final = {
    "str": "a string",
    "int": "an integer (not a bool)",
    "float": "a finite number (an int or a float, not a bool)",
    "decimal": "a Decimal or an integer (not a bool or a float)",
    "bool": "True or False",
    "date": "a date (not a datetime)",
    "datetime": "a timezone-aware datetime",
    "money": "a Money amount",
}
#: The types whose fields may list ``choices`` (values a spec can write plainly).
_CHOICE_TYPES: Final = ("str", "int", "float", "decimal")
#: Names a custom field may not take: the standard records' own fields, ``custom`` and ``version``.
RESERVED_NAMES: Final = frozenset(
    a.alias for cls in (Lead, Opportunity, Customer, Case) for a in attrs.fields(cls)
) | {"custom", "version"}
_SPEC_KEYS: Final = ("choices", "description", "name", "required", "type")


def _accepts(type_name: str, value: object) -> bool:  # noqa: PLR0911 - one answer per type
    """Whether ``value`` is a value of the declared type ``type_name``."""
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False  # a bool is not a number here
    if type_name == "int":
        return isinstance(value, int)
    if type_name == "float":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if type_name == "decimal":
        return isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
    if type_name == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if type_name == "datetime":
        return is_aware(value)
    return isinstance(value, Money)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(
            f"a custom field's name must be an identifier (got {name!r}). "
            "Hint: use names such as 'tier' or 'renewal_date'.",
            path="name",
        )
    if name in RESERVED_NAMES:
        raise SpecError(
            f"{name!r} is a field the records already have (or 'custom'/'version'). "
            f"Hint: pick another name, such as 'custom_{name}'.",
            path="name",
        )
    return name


def _to_choices(value: object) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(value)
    raise SpecError(
        f"choices must be a list of values (got {value!r}). Hint: choices: [gold, silver].",
        path="choices",
    )


@final
@attrs.frozen(kw_only=True)
class CustomField:
    """
    One declared custom field of a lifecycle's records: its name, type and allowed values.

    The record keeps the value in its ``custom`` mapping; the lifecycle checks it
    on every path (:meth:`~crmlifecycle.stages.Lifecycle.check`, ``fire``,
    ``edit``, ``replay``) and guards read it by name. The type is a name, never
    code: ``"str"``, ``"int"``, ``"float"`` (an int is accepted), ``"decimal"``
    (an int is accepted), ``"bool"`` (and a bool is no number), ``"date"``,
    ``"datetime"`` (timezone-aware) or ``"money"`` (a :class:`~crmlifecycle.Money`).

    Args:
        name: the field's name (an identifier that is not a field of the standard records, nor
            ``custom`` or ``version``).
        type: the type's name (one of the eight above).
        choices: the only values allowed (``None``: any value of the type); only for ``str``,
            ``int``, ``float`` and ``decimal`` fields.
        required: whether every record must carry the field (default ``False``).
        description: what the field means, for people.

    Raises:
        SpecError: a bad name, an unknown type, or a choice that is not of the type;
            ``path`` names the attribute.

    Examples:
        >>> tier = CustomField(name="tier", type="str", choices=["gold", "silver"])
        >>> tier.choices, tier.required
        (('gold', 'silver'), False)
        >>> CustomField(name="seats", type="integer")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: type: unknown custom field type 'integer'...

    .. versionadded:: 0.1
    """

    name: str = attrs.field(converter=_check_name)
    type: str
    choices: tuple[Any, ...] | None = attrs.field(default=None, converter=_to_choices)
    required: bool = False
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        type_name: object = self.type  # untrusted: from a spec
        if not isinstance(type_name, str) or type_name not in FIELD_TYPES:
            raise SpecError(
                f"unknown custom field type {self.type!r}. Hint: use one of {list(FIELD_TYPES)}.",
                path="type",
            )
        required: object = self.required
        if not isinstance(required, bool):
            raise SpecError(
                f"expected true or false (got {self.required!r}). Hint: required: true.",
                path="required",
            )
        if self.description is not None and not isinstance(self.description, str):
            raise SpecError(
                f"expected a string (got {self.description!r}). Hint: quote the text.",
                path="description",
            )
        if self.choices is not None:
            if self.type not in _CHOICE_TYPES:
                raise SpecError(
                    f"a {self.type} field cannot list choices. "
                    f"Hint: choices are for {', '.join(_CHOICE_TYPES)} fields.",
                    path="choices",
                )
            if not self.choices:
                raise SpecError("choices must not be empty. Hint: leave them out.", path="choices")
            for i, choice in enumerate(self.choices):
                if not _accepts(self.type, choice):
                    raise SpecError(
                        f"choice {choice!r} is not {FIELD_TYPES[self.type]}. "
                        f"Hint: list values of type {self.type}.",
                        path=f"choices[{i}]",
                    )

    @property
    def expected(self) -> str:
        """What a value must be, phrased to follow "must be" (for error messages)."""
        if self.choices is not None:
            return f"one of {list(self.choices)} (declared type {self.type!r})"
        return f"{FIELD_TYPES[self.type]} (declared type {self.type!r})"


def check_fields(fields: Sequence[CustomField]) -> tuple[CustomField, ...]:
    """Check a lifecycle's declaration (custom fields, unique names); return it as a tuple."""
    raw: object = fields
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SpecError(
            f"fields must be a list of CustomField (got {raw!r}). "
            "Hint: fields=[CustomField(name='tier', type='str')].",
            path="fields",
        )
    seen: set[str] = set()
    for i, field in enumerate(fields):
        if not isinstance(field, CustomField):
            raise SpecError(
                f"expected a CustomField (got {field!r}). "
                "Hint: CustomField(name='tier', type='str').",
                path=f"fields[{i}]",
            )
        if field.name in seen:
            raise SpecError(
                f"duplicate custom field {field.name!r}. Hint: declare each field once.",
                path=f"fields[{i}].name",
            )
        seen.add(field.name)
    return tuple(fields)


def check_value(field: CustomField, value: object, *, entity_id: object = None) -> None:
    """
    Refuse a value that does not fit its declared field (``None``, meaning absent, always fits).

    Args:
        field: the declared field.
        value: the value to check.
        entity_id: the record's id, named in the error.

    Raises:
        ValidationError: naming ``custom.<name>``, the value and what was expected.
    """
    if value is None:
        return
    typed = _accepts(field.type, value)
    if typed and (field.choices is None or value in field.choices):
        return
    who = f" of record {entity_id!r}" if entity_id is not None else ""
    raise ValidationError.for_field(
        f"custom.{field.name}",
        value,
        field.expected if typed else f"{field.expected}, not a {type(value).__name__}",
        hint=f"give the custom field {field.name!r}{who} a value the lifecycle's "
        "declaration accepts, or None to remove it.",
    )


def check_custom(fields: Sequence[CustomField], record: Any) -> None:
    """
    Check a record's ``custom`` mapping against a lifecycle's declared fields.

    Every key must be declared, every value of its declared type (and among the
    choices), and every required field present. Nothing is checked when
    ``fields`` is empty (a lifecycle that declares no fields leaves ``custom``
    free).

    Args:
        fields: the lifecycle's declared fields (:attr:`Lifecycle.fields
            <crmlifecycle.stages.Lifecycle.fields>`).
        record: the record (anything with ``id`` and ``custom``).

    Raises:
        ValidationError: naming ``custom.<name>``, the value and what was expected.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...             custom={"seats": True})
        >>> check_custom([CustomField(name="seats", type="int")], lead)
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'custom.seats' must be an integer (not a bool)...
    """
    if not fields:
        return
    entity_id = getattr(record, "id", None)
    custom: Mapping[str, Any] | None = getattr(record, "custom", None)
    if custom is None:
        raise ValidationError.for_field(
            "custom",
            type(record).__name__,
            "a record with a 'custom' mapping (the lifecycle declares custom fields)",
            hint="use a record class with a custom field (Lead, Opportunity, Customer, Case).",
        )
    by_name = {f.name: f for f in fields}
    own = _own_fields(type(record))
    for key, value in custom.items():
        field = by_name.get(key)
        if field is None:
            raise ValidationError.for_field(
                f"custom.{key}",
                value,
                f"a declared custom field (one of {sorted(by_name)})",
                hint=f"declare {key!r} in the lifecycle's fields, or remove it from record "
                f"{entity_id!r}.",
            )
        check_value(field, value, entity_id=entity_id)
    for field in fields:
        if field.name in own:
            raise ValidationError.for_field(
                f"custom.{field.name}",
                custom.get(field.name),
                f"a name that is not a field of {type(record).__name__}",
                hint="rename the declared custom field.",
            )
        if field.required and field.name not in custom:
            raise ValidationError.for_field(
                f"custom.{field.name}",
                None,
                f"set: the field is required ({field.expected})",
                hint=f"give record {entity_id!r} custom={{{field.name!r}: ...}}.",
            )


_OWN: dict[type, frozenset[str]] = {}


def _own_fields(cls: type) -> frozenset[str]:
    """The record class's own ``__init__`` field names (cached per class)."""
    names = _OWN.get(cls)
    if names is None:
        own = frozenset(a.alias for a in attrs.fields(cls) if a.init) if attrs.has(cls) else ()
        names = _OWN.setdefault(cls, frozenset(own))
    return names


def split_changes(
    fields: Sequence[CustomField], entity: Any, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """
    Sort an edit's keywords into the record's own fields and its declared custom fields.

    A keyword naming a record field stays a field update; one naming a declared
    custom field (and no record field) is checked against its declaration and
    becomes a custom change (``None`` removes the field). Any other keyword is
    left in the field updates, for the edit to refuse with the list of both.

    Returns:
        ``(field_updates, custom_changes)``.

    Raises:
        ValidationError: a custom value that does not fit its declaration, or ``custom=``
            passed beside declared fields named one by one.
    """
    if not fields:
        return dict(changes), {}
    own = _own_fields(type(entity))
    by_name = {f.name: f for f in fields}
    updates: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in changes.items():
        field = by_name.get(key)
        if field is None or key in own:
            updates[key] = value
        else:
            check_value(field, value, entity_id=getattr(entity, "id", None))
            custom[key] = value
    if custom and "custom" in updates:
        raise ValidationError.for_field(
            "custom",
            updates["custom"],
            f"left out when declared fields are edited by name ({', '.join(custom)})",
            hint="edit the declared fields by name only, or pass the whole custom= mapping.",
        )
    return updates, custom


def updated_custom(entity: Any, changes: Mapping[str, Any]) -> Any:
    """Return ``entity.custom`` with ``changes`` applied (``None``: removed)."""
    custom = getattr(entity, "custom", None)
    if custom is None:
        raise ValidationError.for_field(
            "custom",
            type(entity).__name__,
            "a record with a 'custom' mapping, to hold declared custom fields",
            hint="use a record class with a custom field (Lead, Opportunity, Customer, Case).",
        )
    return custom.updated(changes)


def fields_from_spec(raw: object) -> tuple[CustomField, ...]:
    """
    Read the spec key ``fields:`` (a list of mappings) into custom field declarations.

    Raises:
        SpecError: the path names the entry and key (``fields[2].type``).
    """
    from crmlifecycle._config import check_keys

    if not isinstance(raw, list):
        raise SpecError(
            f"fields must be a list (got {raw!r}). Hint: - {{name: tier, type: str}}",
            path="fields",
        )
    out = []
    for i, entry in enumerate(raw):
        path = f"fields[{i}]"
        data = check_keys(entry, required=("name", "type"), optional=_SPEC_KEYS, path=path)
        kwargs = dict(data)
        if kwargs.get("type") == "decimal" and isinstance(kwargs.get("choices"), list):
            kwargs["choices"] = [
                _decimal(c, f"{path}.choices[{j}]") for j, c in enumerate(kwargs["choices"])
            ]
        try:
            out.append(CustomField(**kwargs))
        except SpecError as err:
            raise SpecError(err.reason, path=f"{path}.{err.path}") from err
    try:
        return check_fields(out)
    except SpecError as err:
        raise SpecError(err.reason, path=err.path) from err


def _decimal(value: object, path: str) -> object:
    """A decimal choice as a spec writes it (text or a number) as a ``Decimal``."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(str(value))
    raise SpecError(f"expected a decimal number (got {value!r}). Hint: write '9.99'.", path=path)


def fields_to_spec(fields: Sequence[CustomField]) -> list[dict[str, Any]]:
    """Write custom field declarations as the spec's ``fields:`` list (JSON- and YAML-ready)."""
    out = []
    for field in fields:
        entry: dict[str, Any] = {"name": field.name, "type": field.type}
        if field.choices is not None:
            entry["choices"] = [str(c) if isinstance(c, Decimal) else c for c in field.choices]
        if field.required:
            entry["required"] = True
        if field.description is not None:
            entry["description"] = field.description
        out.append(entry)
    return out


@final
class CustomView(Mapping[str, object]):
    """
    A record as conditions read it: its own fields, plus declared custom fields by name.

    A declared custom field the record does not carry reads as ``None`` (missing,
    so a comparison on it is false); a name neither the record nor the
    declaration has is unknown (``KeyError``, which a condition reports with the
    names available).
    """

    __slots__ = ("_custom", "_obj", "_own")

    def __init__(self, obj: Any, custom: frozenset[str]) -> None:
        self._obj = obj
        self._own = _own_fields(type(obj))
        self._custom = custom - self._own

    def __getitem__(self, name: str) -> object:
        if name in self._own:
            return getattr(self._obj, name)
        if name in self._custom:
            return self._obj.custom.get(name)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._own or name in self._custom

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._own | self._custom))

    def __len__(self) -> int:
        return len(self._own | self._custom)
