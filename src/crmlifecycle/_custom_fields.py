"""
:class:`CustomFields`: a record's own fields beyond the library's, as an immutable mapping.

A host adds fields to a lead, deal, customer or case by putting them in the
record's ``custom`` mapping; a lifecycle may declare them (name, type, choices),
and then its edits, replays and the test strategies check and draw them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, final

from crmlifecycle._event_data import encode
from crmlifecycle._frozen import FrozenMapping
from crmlifecycle.errors import ValidationError

__all__ = ["CustomFields"]


@final
class CustomFields(FrozenMapping):
    """
    An immutable, hashable, picklable mapping of a record's custom fields.

    Keys are identifiers (``tier``, ``seats``); values are event-safe data
    (``None``, ``bool``, ``int``, finite ``float``, ``str``, ``Decimal``,
    ``datetime``, ``date``, ``timedelta``, ``Money``, registered enums, and lists
    or string-keyed dicts of these), so a record's custom fields go through its
    events and JSON unchanged. A field set to ``None`` is absent. Equal mappings
    compare and hash equal.

    Args:
        values: the fields by name (a mapping; default: none).

    Raises:
        ValidationError: a key that is not an identifier, or a value events cannot hold.

    Examples:
        >>> fields = CustomFields({"tier": "gold", "seats": 40})
        >>> fields["tier"], len(fields), fields == {"seats": 40, "tier": "gold"}
        ('gold', 2, True)
        >>> CustomFields({"2nd": 1})
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'custom' must be a mapping whose keys are ...

    .. versionadded:: 0.1
    """

    __slots__ = ("_hash",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ValidationError.for_field(
                "custom", values, "a mapping of custom field names to values"
            )
        data: dict[object, Any] = {k: v for k, v in values.items() if v is not None}
        for key in data:
            if not isinstance(key, str) or not key.isidentifier():
                raise ValidationError.for_field(
                    "custom",
                    key,
                    "a mapping whose keys are identifiers (letters, digits and '_', "
                    "not starting with a digit)",
                )
        encode(data, "custom")  # only event-safe data: it must go through events and JSON
        self._data = data  # type: ignore[assignment]  # keys checked above
        self._hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(json.dumps(encode(self._data, "custom"), sort_keys=True))
        return self._hash

    def updated(self, changes: Mapping[str, Any]) -> CustomFields:
        """
        Return a copy with ``changes`` applied (a ``None`` value removes the field).

        Args:
            changes: the new values by field name (``None``: remove the field).

        Examples:
            >>> CustomFields({"tier": "gold", "seats": 4}).updated({"seats": None, "nps": 9})
            CustomFields({'tier': 'gold', 'nps': 9})
        """
        data = dict(self._data)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return CustomFields(data)


def to_custom_fields(value: Mapping[str, Any] | None) -> CustomFields:
    """Convert a mapping (or ``None``) to :class:`CustomFields` (the entities' converter)."""
    if isinstance(value, CustomFields):
        return value
    return CustomFields(value)
