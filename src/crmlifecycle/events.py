"""
Domain events: what happened to an entity, as data the host can store.

Every change the library makes returns an event beside the new entity. Events are
frozen ``attrs`` classes that round-trip losslessly through a plain ``dict``
(:meth:`~Transitioned.to_dict` / :func:`event_from_dict`) and JSON
(:func:`event_to_json` / :func:`event_from_json`): datetimes keep their instant and
UTC offset (a ``zoneinfo`` zone name becomes the fixed offset it had),
``Decimal`` and :class:`~crmlifecycle.values.Money` keep every digit, and enum
members come back as the same member.

Context values may be ``None``, ``bool``, ``int``, finite ``float``, ``str``,
``Decimal``, ``datetime``, ``date``, ``timedelta``, ``Money``, a registered
``Enum`` member (:func:`register_enum`), and lists/tuples or string-keyed dicts
of these. Decoding never imports anything: an enum tag is looked up in the
registry the host filled in code, so an event document cannot make the
library load a class.

Examples:
    >>> from datetime import datetime, timezone
    >>> from decimal import Decimal
    >>> event = Transitioned(kind="opportunity", entity_id="O-1", trigger="lose",
    ...                      source="proposal", dest="lost",
    ...                      at=datetime(2026, 3, 1, 12, tzinfo=timezone.utc),
    ...                      context={"lost_reason": "price", "discount": Decimal("0.15")})
    >>> event_from_json(event_to_json(event)) == event
    True
    >>> event.to_dict()["context"]["discount"]
    {'$decimal': '0.15'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Final, final

import attrs

from crmlifecycle._config import load_json
from crmlifecycle._event_data import INT_BOUND, decode, encode, plain_number, register_enum
from crmlifecycle._frozen import FrozenMapping
from crmlifecycle._validators import (
    aware_datetime,
    event_instant,
    in_range,
    non_empty_str,
    optional,
)
from crmlifecycle.errors import SpecError, ValidationError

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "Created",
    "Event",
    "FieldsChanged",
    "Transitioned",
    "event_from_dict",
    "event_from_json",
    "event_id_of",
    "event_to_json",
    "register_enum",
]

#: The version of the event payload this library writes. Version 1 payloads (no
#: envelope: no ``event_id``, ``sequence``, ``actor``, ``lifecycle``,
#: ``lifecycle_version`` or ``schema_version``) still read, as version 1.
EVENT_SCHEMA_VERSION: Final = 2
_NO_CONTEXT: Final[Mapping[str, Any]] = FrozenMapping()
#: Values that encode as themselves at any depth (exact types: subclasses take the full check).
_PLAIN: Final = frozenset({str, int, bool, type(None)})


def _freeze_context(value: Mapping[str, Any] | None, name: str = "context") -> Mapping[str, Any]:
    if value is None:
        return _NO_CONTEXT
    if not isinstance(value, Mapping):
        raise ValidationError.for_field(name, value, "a mapping of names to values (or None)")
    if not value:  # nothing to copy or check: one shared read-only empty mapping
        return _NO_CONTEXT
    data = dict(value)
    for key, item in data.items():
        if (
            type(key) is not str
            or key.startswith("$")
            or type(item) not in _PLAIN
            or (type(item) is int and not -INT_BOUND < item < INT_BOUND)
        ):
            # validates (only data that round-trips is accepted) and keeps what the JSON
            # reads back: a zoneinfo datetime its fixed offset, a Timestamp microseconds
            data = decode(encode(data, name), name)
            break
    if name == "changes":
        _check_pairs(data)
    return FrozenMapping.adopt(data)


def _check_pairs(changes: Mapping[str, Any]) -> None:
    for field, pair in changes.items():
        if not (isinstance(pair, list | tuple) and len(pair) == 2):  # noqa: PLR2004
            raise ValidationError.for_field(
                f"changes.{field}",
                pair,
                "an [old, new] pair",
                hint="a FieldsChanged event maps each field to [old value, new value].",
            )


def _optional_text() -> Any:
    return attrs.field(default=None, validator=optional(non_empty_str()))


@attrs.frozen(kw_only=True)
class _EventBase:
    """
    The envelope every event carries, and the serialisation the event classes share.

    All envelope fields are optional so that payloads written before the envelope
    existed (schema version 1) still read; the lifecycle's producers fill them in.

    Attributes:
        event_id: the event's id, unique in a log (the producers write
            ``"<kind>/<entity_id>/<sequence>"``).
        sequence: the event's position in its entity's log: 0 for the ``Created``
            event, then 1, 2, ... (the record's ``version`` after the event).
        actor: who or what made the change (a user id, ``"rule:<name>"``, ...).
        lifecycle: the name of the lifecycle that produced the event.
        lifecycle_version: the version (a hash of the spec) of that lifecycle.
        schema_version: the payload's schema version (:data:`EVENT_SCHEMA_VERSION`
            for new events, 1 for payloads without an envelope).
    """

    event_type: ClassVar[str]

    event_id: str | None = _optional_text()
    sequence: int | None = attrs.field(
        default=None,
        converter=plain_number,  # a NumPy integer (a frame cell) is stored as the int it holds
        validator=optional(in_range(0, 2**62, integral=True)),
    )
    actor: str | None = _optional_text()
    lifecycle: str | None = _optional_text()
    lifecycle_version: str | None = _optional_text()
    schema_version: int = attrs.field(
        default=EVENT_SCHEMA_VERSION,
        converter=plain_number,
        validator=in_range(1, EVENT_SCHEMA_VERSION, integral=True),
    )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready ``dict`` holding the event (tagged by ``"event"``)."""
        out: dict[str, Any] = {"event": self.event_type}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, datetime):  # top-level timestamps are plain ISO 8601 text
                out[field.name] = value.isoformat()
            elif isinstance(value, Mapping):
                out[field.name] = encode(value, field.name)
            else:
                out[field.name] = value
        return out


def event_id_of(kind: str, entity_id: str, sequence: int) -> str:
    """
    Return the id the producers give the event at ``sequence`` of an entity's log.

    Examples:
        >>> event_id_of("lead", "L-1", 3)
        'lead/L-1/3'
    """
    return f"{kind}/{entity_id}/{sequence}"


def _context_field(name: str = "context") -> Any:
    def freeze(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
        return _freeze_context(value, name)

    return attrs.field(factory=dict, converter=freeze, eq=True, hash=False)


@final
@attrs.frozen(kw_only=True)
class Transitioned(_EventBase):
    """
    An entity moved from one lifecycle state to another (or fired an internal trigger).

    Attributes:
        kind: the lifecycle's entity kind (``"lead"``, ``"opportunity"``, ...).
        entity_id: the host's id of the entity.
        trigger: the trigger that fired.
        source: the state before.
        dest: the state after (equal to ``source`` for an internal trigger).
        at: when it happened (timezone-aware).
        context: what the caller passed with the step (a read-only mapping).

    Examples:
        >>> from datetime import datetime, timezone
        >>> Transitioned(kind="lead", entity_id="L-1", trigger="contact", source="open",
        ...              dest="contacted", at=datetime(2026, 1, 2, tzinfo=timezone.utc)).dest
        'contacted'

    .. versionadded:: 0.1
    """

    event_type: ClassVar[str] = "transitioned"

    kind: str = attrs.field(validator=non_empty_str())
    entity_id: str = attrs.field(validator=non_empty_str())
    trigger: str = attrs.field(validator=non_empty_str())
    source: str = attrs.field(validator=non_empty_str())
    dest: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(converter=event_instant, validator=aware_datetime())
    context: Mapping[str, Any] = _context_field()


@final
@attrs.frozen(kw_only=True)
class Created(_EventBase):
    """
    An entity was created (for example an opportunity created by converting a lead).

    ``data`` holds the new entity's fields (its ``__init__`` arguments) as
    event-safe values, so the event alone rebuilds the record
    (:meth:`~crmlifecycle.stages.Lifecycle.replay` with the entity class as the
    initial record); :meth:`of` builds one from an entity. ``data`` is empty in
    events that only announce a creation. ``context`` is what the producer adds
    (``{"from_lead": "L-1"}`` for a converted lead's opportunity).

    Attributes:
        kind: the entity kind (``"lead"``, ``"opportunity"``, ...).
        entity_id: the host's id of the entity.
        at: when it was created (timezone-aware).
        context: what the producer passed along (a read-only mapping).
        data: the new entity's fields by name (a read-only mapping; may be empty).

    Examples:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 1, 2, tzinfo=timezone.utc)
        >>> Created(kind="opportunity", entity_id="O-9", at=at,
        ...         context={"from_lead": "L-1"}).context["from_lead"]
        'L-1'
        >>> from crmlifecycle import Lead
        >>> event = Created.of(Lead(id="L-1", created_at=at, company="Acme"))
        >>> event.kind, event.at == at, event.data["company"], event.data["state"]
        ('lead', True, 'Acme', 'open')
        >>> event_from_json(event_to_json(event)) == event
        True

    .. versionadded:: 0.1
    """

    event_type: ClassVar[str] = "created"

    kind: str = attrs.field(validator=non_empty_str())
    entity_id: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(converter=event_instant, validator=aware_datetime())
    context: Mapping[str, Any] = _context_field()
    data: Mapping[str, Any] = _context_field("data")

    @classmethod
    def of(cls, entity: Any, **context: Any) -> Created:
        """
        Return the ``Created`` event of an ``attrs`` entity, its fields in ``data``.

        The event happens at the entity's ``created_at``; the keyword arguments
        become the event's ``context`` (event-safe data stored beside the record).

        Raises:
            ValidationError: ``entity`` is not an entity record, a field holds a value
                events cannot store, or the entity has no timezone-aware ``created_at``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Money, Opportunity
            >>> deal = Opportunity(id="O-1", name="Acme", amount=Money(10, "EUR"),
            ...                    created_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
            >>> Created.of(deal, from_lead="L-1").data["amount"]
            Money(amount=Decimal('10'), currency='EUR')
        """
        if not (
            attrs.has(type(entity))
            and isinstance(getattr(entity, "kind", None), str)
            and isinstance(getattr(entity, "id", None), str)
        ):
            raise ValidationError.for_field(
                "entity",
                entity,
                "an entity record (an attrs class with a kind and an id, such as Lead)",
            )
        data = {f.alias: getattr(entity, f.name) for f in attrs.fields(type(entity)) if f.init}
        for name, value in data.items():
            if isinstance(value, Mapping):  # custom fields: stored (and read back) as a plain dict
                data[name] = dict(value)
        when: Any = getattr(entity, "created_at", None)
        sequence = data.get("version", 0)
        return cls(
            kind=entity.kind,
            entity_id=entity.id,
            at=when,
            context=context,
            data=data,
            event_id=event_id_of(entity.kind, entity.id, sequence),
            sequence=sequence,
        )


@final
@attrs.frozen(kw_only=True)
class FieldsChanged(_EventBase):
    """
    Fields of an entity were changed outside a lifecycle step (e.g. a probability set by hand).

    ``changes`` maps each field to ``[old, new]``. ``context`` says why, when a
    producer other than a plain edit made it: ``{"reason": "assign"}`` for an
    assignment, ``{"reason": "merge", ...}`` for a merge, ``{"reason": "rule",
    "rule": name}`` for a rule's ``set`` action.

    Examples:
        >>> from datetime import datetime, timezone
        >>> FieldsChanged(kind="opportunity", entity_id="O-1",
        ...               at=datetime(2026, 1, 2, tzinfo=timezone.utc),
        ...               changes={"probability": [20, 35]}).changes["probability"]
        [20, 35]

    .. versionadded:: 0.1
    """

    event_type: ClassVar[str] = "fields_changed"

    kind: str = attrs.field(validator=non_empty_str())
    entity_id: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(converter=event_instant, validator=aware_datetime())
    changes: Mapping[str, Any] = _context_field("changes")
    context: Mapping[str, Any] = _context_field()


Event = Transitioned | Created | FieldsChanged
_EVENT_TYPES: Final[dict[str, type[Transitioned | Created | FieldsChanged]]] = {
    "transitioned": Transitioned,
    "created": Created,
    "fields_changed": FieldsChanged,
}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """
    Rebuild an event from the ``dict`` made by ``to_dict()``.

    Raises:
        ValidationError: an unknown ``"event"`` tag, missing or extra fields, or bad values.

    Examples:
        >>> from datetime import datetime, timezone
        >>> e = Created(kind="lead", entity_id="L-1", at=datetime(2026, 1, 2, tzinfo=timezone.utc))
        >>> event_from_dict(e.to_dict()) == e
        True
    """
    if not isinstance(data, Mapping):
        raise ValidationError.for_field(
            "event", data, "a mapping made by an event's to_dict()", hint="pass event.to_dict()."
        )
    tag = data.get("event")
    cls = _EVENT_TYPES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise ValidationError.for_field("event", tag, f"one of {sorted(_EVENT_TYPES)}")
    names = {f.name for f in attrs.fields(cls)}
    extra = set(data) - names - {"event"}
    if extra:
        first = min(extra, key=str)
        raise ValidationError.for_field(first, data[first], f"a field of {cls.__name__}")
    missing = {f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING} - set(data)
    if missing:
        raise ValidationError.for_field(min(missing), None, "present")
    kwargs: dict[str, Any] = {"schema_version": 1}  # a payload without one predates the envelope
    for field in attrs.fields(cls):
        if field.name not in data:
            continue
        value = data[field.name]
        if field.name == "at":
            value = _read_at(value)
        elif isinstance(value, dict):
            value = decode(value, field.name)
        kwargs[field.name] = value
    return cls(**kwargs)


def _read_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValidationError.for_field("at", value, "an ISO 8601 timestamp with offset")
    try:
        return datetime.fromisoformat(value)
    except ValueError as err:
        raise ValidationError.for_field("at", value, "an ISO 8601 timestamp with offset") from err


def event_to_json(event: Event) -> str:
    """Serialise an event to a JSON string (lossless; see the module docs)."""
    if not isinstance(event, _EventBase):
        raise ValidationError.for_field(
            "event", event, "an event (Transitioned, Created or FieldsChanged)"
        )
    return json.dumps(event.to_dict(), allow_nan=False, sort_keys=True)


def event_from_json(text: str) -> Event:
    """Parse an event from :func:`event_to_json` output."""
    if not isinstance(text, str):
        raise ValidationError.for_field("text", text, "JSON text (a str)")
    try:
        data = load_json(text, what="an event")
    except SpecError as err:
        given: object = text  # untrusted: maybe not text at all
        shown = given[:80] if isinstance(given, str) else given
        reason, _, hint = str(err).partition(" Hint: ")  # one sentence, one hint
        raise ValidationError.for_field(
            "json", shown, f"valid JSON ({reason.rstrip('.')})", hint=hint or None
        ) from err
    if not isinstance(data, dict):
        raise ValidationError.for_field("json", data, "a JSON object")
    return event_from_dict(data)
