"""
The hot path's constructors: a new entity and its event without re-running checks already made.

``fire`` has already checked everything it changes: the destination is a state of
the lifecycle, ``at`` is timezone-aware and not before ``state_since`` (so not
before ``created_at``), and the stage effects only write values of the fields'
types (a probability from 0 to 100, a non-empty lost reason, a state name, an
aware timestamp). Re-running every field's validator through :func:`attrs.evolve`
would only re-check the unchanged fields, so the new frozen entity is built
directly (as attrs' own ``__init__`` does, with ``object.__setattr__``) from the
old one's fields plus the changes. Updates returned by hooks are user values and
still go through :func:`attrs.evolve`. Entity classes this does not fit (not
attrs, fields excluded from ``__init__``, no ``state``/``state_since``) fall back
to :func:`attrs.evolve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, cast

import attrs

from crmlifecycle.events import Transitioned

__all__ = ["new_entity", "new_event"]

_SET: Final = object.__setattr__
_NEW: Final = object.__new__
_PLANS: dict[type, tuple[str, ...] | None] = {}
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_FREEZE: Final = cast(
    "Callable[[Mapping[str, Any]], Mapping[str, Any]]",
    attrs.fields(Transitioned).context.converter,
)
_EVENT_FIELDS: Final = ("kind", "entity_id", "trigger", "source", "dest", "at", "context")


def _plan(cls: type) -> tuple[str, ...] | None:
    plan = _PLANS.get(cls, ())
    if plan == ():
        names: tuple[str, ...] | None = None
        if attrs.has(cls):
            fields = attrs.fields(cls)
            ok = all(f.init for f in fields) and {"state", "state_since"} <= {
                f.name for f in fields
            }
            names = tuple(f.name for f in fields) if ok else None
        plan = _PLANS.setdefault(cls, names)
    return plan


def new_entity(entity: Any, updates: Mapping[str, Any]) -> Any:  # noqa: ANN401 - any entity
    """Return ``entity`` with ``updates`` (already-checked lifecycle changes) applied."""
    cls = type(entity)
    names = _plan(cls)
    if names is None or not updates.keys() <= set(names):
        return attrs.evolve(entity, **updates)
    new = _NEW(cls)
    get = entity.__getattribute__
    for name in names:
        _SET(new, name, updates[name] if name in updates else get(name))
    return new


def new_event(
    kind: str,
    *,
    entity_id: object,
    trigger: str,
    source: str,
    dest: str,
    at: datetime,
    context: Mapping[str, Any],
) -> Transitioned:
    """Build the step's event; the context is still validated as event-safe data."""
    if not isinstance(entity_id, str) or not entity_id.strip():
        return Transitioned(
            kind=kind,
            entity_id=entity_id,  # type: ignore[arg-type]  # raises the usual ValidationError
            trigger=trigger,
            source=source,
            dest=dest,
            at=at,
            context=context,
        )
    frozen = _FREEZE(context) if context else _EMPTY
    event: Transitioned = _NEW(Transitioned)
    for name, value in zip(
        _EVENT_FIELDS, (kind, entity_id, trigger, source, dest, at, frozen), strict=True
    ):
        _SET(event, name, value)
    return event
