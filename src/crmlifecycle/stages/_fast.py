"""
The hot path's constructors: a new entity, its event and the step, without re-running checks.

``fire`` has already checked everything it changes: the destination is a state of
the lifecycle, ``at`` is timezone-aware and not before ``state_since`` (so not
before ``created_at``), and the stage effects only write values of the fields'
types (a probability from 0 to 100, a non-empty lost reason, a state name, an
aware timestamp). Re-running every field's validator through :func:`attrs.evolve`
would only re-check the unchanged fields, so the new frozen entity is built
directly (as attrs' own ``__init__`` does, with ``object.__setattr__``) from the
old one's fields plus the changes.

Per entity class an :class:`EntityPlan` is computed once: the field names, one
``operator.attrgetter`` reading them all in a single C call, the positions of
``state`` and ``state_since``, and the stage-effect fields the class carries.
Building the copy is then one ``attrgetter`` call, the changed positions, and
one ``map`` of ``object.__setattr__`` drained in C. Updates returned by hooks are
user values and still go through :func:`attrs.evolve`. Entity classes this does
not fit (not attrs, not slotted, fields excluded from ``__init__``, a cached
hash, no ``state``/``state_since``, or an ``__attrs_pre_init__`` /
``__attrs_post_init__``) fall back to :func:`attrs.evolve`. The one exception
to the last rule is the library's own stateful entities (``Lead``,
``Opportunity``, ``Customer``, ``Case``): their post-init only checks that
timestamps are not before ``created_at``, which the step guarantees
(``state_since`` and ``closed_at`` become ``at``, which is not before the old
``state_since``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, cast, final

import attrs

from crmlifecycle.entities import Case, Customer, Lead, Opportunity
from crmlifecycle.events import Transitioned
from crmlifecycle.stages._effects import EFFECT_FIELDS
from crmlifecycle.stages._model import Step

__all__ = ["EntityPlan", "make_event", "make_step", "plan_for", "replace"]

_BIND: Final = object.__setattr__.__get__
_NEW: Final = object.__new__
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_FREEZE: Final = cast(
    "Callable[[Mapping[str, Any]], Mapping[str, Any]]",
    attrs.fields(Transitioned).context.converter,
)
_EVENT_FIELDS: Final = ("kind", "entity_id", "trigger", "source", "dest", "at", "context")
_HOOK_METHODS: Final = ("__attrs_pre_init__", "__attrs_post_init__")
_CACHED_HASH: Final = "_attrs_cached_hash"  # attrs' slot for cache_hash=True
#: Classes whose post-init only checks timestamps against ``created_at`` (see above).
_TIME_CHECKED: Final[frozenset[type]] = frozenset({Case, Customer, Lead, Opportunity})


@final
class EntityPlan:
    """How to copy one attrs entity class with some fields changed (computed once per class)."""

    __slots__ = ("cls", "effects", "getter", "index", "names", "others", "others_getter")

    def __init__(self, cls: type, names: tuple[str, ...]) -> None:
        self.cls = cls
        self.names = names
        self.getter = operator.attrgetter(*names)
        self.index = {name: i for i, name in enumerate(names)}
        self.effects = frozenset(names) & EFFECT_FIELDS
        others = tuple(n for n in names if n not in {"state", "state_since"})
        self.others = others
        self.others_getter: Callable[[Any], tuple[Any, ...]] = (
            operator.attrgetter(*others) if len(others) > 1 else _tuple_getter(others)
        )

    def moved(self, entity: Any, state: str, at: datetime) -> Any:  # noqa: ANN401 - any entity
        """Return a copy of ``entity`` with only ``state`` and ``state_since`` changed."""
        new: Any = _NEW(self.cls)
        set_field = _BIND(new)
        any(map(set_field, self.others, self.others_getter(entity)))  # setattr returns None
        set_field("state", state)
        set_field("state_since", at)
        return new

    def replaced(self, entity: Any, updates: Mapping[str, Any]) -> Any:  # noqa: ANN401
        """Return a copy of ``entity`` with ``updates`` (names of its fields) applied."""
        values = list(self.getter(entity))
        index = self.index
        for name, value in updates.items():
            values[index[name]] = value
        new: Any = _NEW(self.cls)
        any(map(_BIND(new), self.names, values))  # sets every field (setattr returns None)
        return new


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of zero or one field that still returns a tuple (attrgetter would not)."""

    def get(entity: Any) -> tuple[Any, ...]:  # noqa: ANN401 - any entity
        return tuple(getattr(entity, name) for name in names)

    return get


_PLANS: dict[type, EntityPlan | None] = {}


def _make_plan(cls: type) -> EntityPlan | None:
    if not attrs.has(cls) or cls.__dictoffset__ != 0:
        return None  # not attrs, or instances with a __dict__ (where a cached hash would hide)
    if cls not in _TIME_CHECKED and any(hasattr(cls, name) for name in _HOOK_METHODS):
        return None
    fields = attrs.fields(cls)
    names = tuple(f.name for f in fields)
    if len(names) < 2 or not all(f.init for f in fields):  # noqa: PLR2004 - state + state_since
        return None
    if not {"state", "state_since"} <= set(names) or _CACHED_HASH in getattr(cls, "__slots__", ()):
        return None
    return EntityPlan(cls, names)


def plan_for(cls: type) -> EntityPlan | None:
    """Return the class's copy plan, or ``None`` when it must go through :func:`attrs.evolve`."""
    try:
        return _PLANS[cls]
    except KeyError:
        return _PLANS.setdefault(cls, _make_plan(cls))


def replace(entity: Any, updates: Mapping[str, Any]) -> Any:  # noqa: ANN401 - any entity
    """Return ``entity`` with ``updates`` (already-checked lifecycle changes) applied."""
    plan = plan_for(type(entity))
    if plan is None or not updates.keys() <= plan.index.keys():
        return attrs.evolve(entity, **updates)
    return plan.replaced(entity, updates)


def make_event(  # noqa: PLR0917 - the hot path passes positions, not keywords
    kind: str,
    entity_id: object,
    trigger: str,
    source: str,
    dest: str,
    at: datetime,
    context: Mapping[str, Any],
) -> Transitioned:
    """Build the step's event; the id and the context are still validated."""
    if type(entity_id) is not str or not entity_id.strip():
        return Transitioned(
            kind=kind,
            entity_id=entity_id,  # type: ignore[arg-type]  # the usual ValidationError, or a str subclass
            trigger=trigger,
            source=source,
            dest=dest,
            at=at,
            context=context,
        )
    event: Transitioned = _NEW(Transitioned)
    values = (kind, entity_id, trigger, source, dest, at, _FREEZE(context) if context else _EMPTY)
    any(map(_BIND(event), _EVENT_FIELDS, values))  # sets every field (setattr returns None)
    return event


def make_step(entity: Any, event: Transitioned) -> Step[Any]:  # noqa: ANN401 - any entity
    """Build the :class:`Step` (it has no validators to run)."""
    step: Step[Any] = _NEW(Step)
    set_field = _BIND(step)
    set_field("entity", entity)
    set_field("event", event)
    return step
