"""
One step of one record: :meth:`Lifecycle.fire <crmlifecycle.stages.Lifecycle.fire>`.

:func:`fire_step` is the whole path, in the order it runs:

1. look up the candidate transitions of ``(entity.state, trigger)`` in the
   compiled table (none: :class:`~crmlifecycle.errors.InvalidTransition`);
2. check ``at``: timezone-aware and not before ``entity.state_since``;
3. choose the first candidate whose guards pass (``transitions`` semantics:
   declaration order, ``conditions`` must pass and ``unless`` guards must fail);
4. collect the field updates: ``before`` hooks, the new ``state`` and
   ``state_since``, and the stage effects below;
5. build the new entity with one ``evolve`` holding every update: what
   :func:`attrs.evolve` does (every ``__init__`` field passed to the class again,
   so every validator and post-init check runs), with the class's field list read
   once per class instead of once per call (:class:`Evolve`);
6. run the ``after`` hooks on the new entity (their updates: another ``evolve``);
7. build the :class:`~crmlifecycle.events.Transitioned` event with its constructor.

The stage effects keep the invariants every lifecycle keeps, driven by stage
metadata, on whatever entity carries the matching fields (so a custom pipeline
with other stage names gets them too):

- ``probability`` (with ``probability_manual``): entering a stage sets its default
  probability unless the probability was set by hand; entering a won stage sets
  100 and a lost stage 0 (and clears the manual flag, since a closed deal's
  probability is not an opinion).
- ``lost_reason``: entering a lost stage needs ``lost_reason=`` in the step's
  context; leaving it clears the reason.
- ``last_open_stage``: entering a lost stage remembers the stage it left.
- ``closed_at``: entering a won or lost stage stamps it; reopening clears it.
- ``highest_state``: the furthest non-lost stage ever reached (a high-water mark).
- ``opportunity_id``: entering a won stage needs ``opportunity_id=`` in the step's
  context (the opportunity a converted lead became or joined) and stores it, so
  a converted lead is never linked to nothing and replaying its events links it
  again; :func:`~crmlifecycle.stages.convert_lead` passes it.

Step context (the keyword arguments of ``fire``) is for guards, hooks and the
event; it never sets a field. A key naming a field the steps own (``state``,
``state_since``, ``probability``, ``probability_manual``, ``last_open_stage``,
``closed_at``, ``highest_state``) is refused, so ``fire(deal, "qualify",
probability=90)`` is an error pointing to
:meth:`Lifecycle.edit <crmlifecycle.stages.Lifecycle.edit>` (which records a
``FieldsChanged`` event); ``lost_reason`` and ``opportunity_id`` are the inputs
of their stage effects.

What depends only on the two stages and the entity's class is worked out once
(:class:`StageEffects`, cached on the candidate per class); a step then only adds
what depends on the entity or the request. With these per-class caches a
validated step costs about what ``attrs.evolve`` plus the event's constructor
cost (see the performance page).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar, final

import attrs

from crmlifecycle._validators import event_instant, is_aware
from crmlifecycle.errors import GuardRejected, InvalidTransition, ValidationError
from crmlifecycle.events import FieldsChanged, Transitioned, event_id_of
from crmlifecycle.stages._compile import Candidate
from crmlifecycle.stages._definition import Stage, StepInfo
from crmlifecycle.stages._fields import CustomView, check_custom, split_changes, updated_custom

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import CompiledLifecycle

__all__ = [
    "EFFECT_FIELDS",
    "NOT_EDITED",
    "Edit",
    "Evolve",
    "StageEffects",
    "Step",
    "StepRequest",
    "bookkeeping",
    "check_kind",
    "check_record",
    "edit_step",
    "fire_step",
    "is_before",
    "last_change",
    "state_of",
]

_WON: Final = 100
#: The entity fields the stage effects write.
EFFECT_FIELDS: Final = frozenset(
    {"probability", "probability_manual", "lost_reason", "last_open_stage", "closed_at"}
    | {"highest_state", "opportunity_id"}
)


class Stateful(Protocol):
    """What a lifecycle needs of an entity: an id, its state and since when (read-only)."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def state_since(self) -> datetime: ...


#: The entity type a step is fired on and returns (``fire(lead, ...).entity`` is a ``Lead``).
EntityT = TypeVar("EntityT", bound=Stateful)


@final
@attrs.frozen(kw_only=True)
class Step(Generic[EntityT]):
    """
    The result of :meth:`~crmlifecycle.stages.Lifecycle.fire`: the new entity and its event.

    Attributes:
        entity: the new entity (the old one is unchanged).
        event: the :class:`~crmlifecycle.events.Transitioned` event to store.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> step = LEAD_STATUS.fire(lead, "contact", at=datetime(2026, 1, 2, tzinfo=timezone.utc))
        >>> step.entity.state, step.event.source, step.event.dest
        ('contacted', 'open', 'contacted')

    .. versionadded:: 0.1
    """

    entity: EntityT
    event: Transitioned


@final
@attrs.frozen(kw_only=True)
class Edit(Generic[EntityT]):
    """
    The result of :meth:`~crmlifecycle.stages.Lifecycle.edit`: the edited entity and its event.

    Attributes:
        entity: the new entity (the old one is unchanged).
        event: the :class:`~crmlifecycle.events.FieldsChanged` event to store
            (``changes`` maps each changed field to ``[old, new]``).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> edit = LEAD_STATUS.edit(Lead(id="L-1", created_at=t0), at=t0, company="Acme")
        >>> edit.entity.company, dict(edit.event.changes)
        ('Acme', {'company': [None, 'Acme']})

    .. versionadded:: 0.1
    """

    entity: EntityT
    event: FieldsChanged


@final
@attrs.frozen
class StepRequest:
    """
    What a caller asks of one step: fire ``trigger`` at ``at`` with ``context``.

    ``context`` is what the caller passed as keyword arguments to ``fire``; guards
    and hooks read it, and the event stores it.
    """

    trigger: str
    at: datetime
    context: Mapping[str, Any]
    actor: str | None = None


def fire_step(compiled: CompiledLifecycle, entity: EntityT, request: StepRequest) -> Step[EntityT]:
    """Take one step (see the module docstring for the path); return the entity and event."""
    check_kind(compiled, entity)
    source: str = entity.state
    candidates = compiled.table.get((source, request.trigger))
    if candidates is None:
        raise _invalid(compiled, entity, request.trigger)
    at = _check_time(entity, request.at)
    if at is not request.at:
        request = attrs.evolve(request, at=at)
    _check_not_merged(entity)
    chosen, info = _choose(entity, candidates, request, compiled)
    cls = type(entity)
    effects = chosen.effects.get(cls) or _stage_effects(cls, chosen, compiled.by_name)
    evolve = effects.evolve
    if request.context and not evolve.refused_context.isdisjoint(request.context):
        _refuse_field_context(evolve, request)
    sequence, updates = bookkeeping(evolve, entity, request.at)
    for hook in chosen.before:
        updates.update(hook.func(entity, info) or {})  # type: ignore[arg-type]  # info is built
    if not chosen.internal:
        updates["state"] = chosen.dest
        updates["state_since"] = request.at
        if effects.any:
            updates.update(effects.updates(entity, request, compiled.by_name))
    new = evolve(entity, updates) if updates else entity
    for hook in chosen.after:
        more = hook.func(new, info)  # type: ignore[arg-type]  # info is built for hooked steps
        if more:
            new = evolve(new, more)
    event = Transitioned(
        kind=compiled.kind,
        entity_id=entity.id,
        trigger=request.trigger,
        source=source,
        dest=chosen.dest,
        at=request.at,
        context=request.context,
        event_id=None if sequence is None else event_id_of(compiled.kind, entity.id, sequence),
        sequence=sequence,
        actor=request.actor,
        lifecycle=compiled.name,
        lifecycle_version=compiled.version,
    )
    return Step(entity=new, event=event)


def bookkeeping(evolve: Evolve, entity: Any, at: datetime) -> tuple[int | None, dict[str, Any]]:
    """
    The next event's sequence and the record updates every event makes: ``version``, ``updated_at``.

    The sequence is ``None`` (and ``version`` untouched) for a class that keeps no version;
    ``updated_at`` is stamped only on classes that have it.
    """
    updates: dict[str, Any] = {"updated_at": at} if evolve.stamps else {}
    if "version" not in evolve.field_set:
        return None, updates
    sequence = int(entity.version) + 1
    updates["version"] = sequence
    return sequence, updates


def _check_not_merged(entity: Any) -> None:
    """Refuse to change a record that was merged into another."""
    into = getattr(entity, "merged_into", None)
    if into is not None:
        raise ValidationError.for_field(
            "merged_into",
            into,
            f"None: record {entity.id!r} was merged into {into!r} and takes no more changes",
            hint=f"change {into!r}, the record it was merged into.",
        )


#: Fields a step's context may not name: what steps write, except the effects' inputs.
_OWNED_NOT_INPUT: Final = frozenset(
    {"state", "state_since", "version", "merged_into", "updated_at"}
) | (EFFECT_FIELDS - {"lost_reason", "opportunity_id"})
#: Fields the envelope and the record's bookkeeping own: no step context or edit names them.
_BOOKKEEPING: Final = frozenset({"version", "merged_into", "updated_at"})
#: Fields no edit may change: the record's identity and what only steps write.
_STEP_OWNED: Final = (
    frozenset({"id", "state", "state_since"}) | (EFFECT_FIELDS - {"probability"}) | _BOOKKEEPING
)
#: Fields no FieldsChanged event sets: what an edit refuses, but for what its producers
#: set beside the edited fields (an edit of the probability sets ``probability_manual``,
#: a merge ``merged_into``; an assignment's ``owner`` is not step-owned).
NOT_EDITED: Final = _STEP_OWNED - {"probability_manual", "merged_into"}

#: Fields an edit refuses because a producer of their own sets them, and that producer.
_PRODUCED: Final = {"owner": "an assignment"}
_PRODUCED_HINT: Final = {
    "owner": "assign an owner with lifecycle.assign(entity, 'ana', at=...), which records a "
    "FieldsChanged event with the reason 'assign'."
}


def _split_produced(
    changes: Mapping[str, Any], allow: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an edit's changes into the plain ones and those a producer of their own sets."""
    rest: dict[str, Any] = {}
    produced: dict[str, Any] = {}
    for key, value in changes.items():
        (produced if key in allow or key in _PRODUCED else rest)[key] = value
    return rest, produced


def _produced_updates(produced: Mapping[str, Any], allow: frozenset[str]) -> dict[str, Any]:
    """Return the producer's own fields, refusing those the calling producer does not set."""
    for key, value in produced.items():
        if key not in allow:
            raise ValidationError.for_field(
                key, value, f"set by {_PRODUCED[key]}, not by an edit", hint=_PRODUCED_HINT[key]
            )
    return dict(produced)


def edit_step(
    compiled: CompiledLifecycle,
    entity: EntityT,
    at: datetime,
    changes: Mapping[str, Any],
    *,
    actor: str | None = None,
    context: Mapping[str, Any] | None = None,
    allow: frozenset[str] = frozenset(),
) -> Edit[EntityT]:
    """
    Change fields of an entity by hand (see :meth:`Lifecycle.edit`); return it and its event.

    Setting ``probability`` marks it manual (``probability_manual=True``), the
    documented override stage changes keep; a closed stage's probability cannot be
    edited. ``allow`` names fields that an edit refuses but the calling producer
    sets (``owner`` for an assignment, ``merged_into`` for a merge).
    """
    check_kind(compiled, entity)  # a record at all, of this kind, before its class is read
    evolve = Evolve.of(type(entity))
    changes, produced = _split_produced(changes, allow)
    state_of(compiled, entity)
    at = _check_time(entity, at)
    _check_not_merged(entity)
    updates, custom = split_changes(compiled.custom_fields, entity, changes)
    for key, value in updates.items():
        if key not in evolve.field_set:
            raise _unknown_edit_field(compiled, evolve, key, value)
        if key in _STEP_OWNED:
            raise ValidationError.for_field(
                key,
                value,
                f"changed by the {compiled.name!r} lifecycle's steps, not by an edit",
                hint="fire a trigger (fire(entity, trigger, at=...)) to change the state and "
                "what goes with it.",
            )
    if "probability" in updates and "probability_manual" in evolve.field_set:
        stage = compiled.by_name[entity.state]
        if stage.closed:
            raise ValidationError.for_field(
                "probability",
                updates["probability"],
                f"left as it is: stage {stage.name!r} is closed ({stage.type})",
                hint="reopen the deal first; a closed deal's probability is not an opinion.",
            )
        updates["probability_manual"] = True
    updates.update(_produced_updates(produced, allow))
    keys = list(updates)
    if custom:
        updates["custom"] = updated_custom(entity, custom)
    sequence, counted = bookkeeping(evolve, entity, at)
    updates.update(counted)
    new = evolve(entity, updates)
    if compiled.custom_fields:
        check_custom(compiled.custom_fields, new)
    diff = _edit_diff(entity, new, keys, custom)
    event = FieldsChanged(
        kind=compiled.kind,
        entity_id=entity.id,
        at=at,
        changes=diff,
        context=context or {},
        event_id=None if sequence is None else event_id_of(compiled.kind, entity.id, sequence),
        sequence=sequence,
        actor=actor,
        lifecycle=compiled.name,
        lifecycle_version=compiled.version,
    )
    return Edit(entity=new, event=event)


def _edit_diff(
    entity: Any, new: Any, keys: list[str], custom: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """What an edit changed: ``[old, new]`` by field (a custom field under its own name)."""
    diff = {
        key: [getattr(entity, key), getattr(new, key)]
        for key in keys
        if getattr(entity, key) != getattr(new, key)
    }
    for key in custom:
        if entity.custom.get(key) != new.custom.get(key):
            diff[key] = [entity.custom.get(key), new.custom.get(key)]
    return diff


def _unknown_edit_field(
    compiled: CompiledLifecycle, evolve: Evolve, key: str, value: object
) -> ValidationError:
    """Build the error for an edit naming neither a field of the record nor a declared field."""
    expected = f"a field of {evolve.cls.__name__} ({', '.join(sorted(evolve.field_set))})"
    if compiled.custom_names:
        expected += f" or a declared custom field ({', '.join(sorted(compiled.custom_names))})"
    return ValidationError.for_field(
        key,
        value,
        expected,
        hint="check the spelling; declare a custom field in the lifecycle "
        "(Lifecycle(..., fields=[CustomField(name=..., type=...)])) to edit it by name.",
    )


def _refuse_field_context(evolve: Evolve, request: StepRequest) -> None:
    """Refuse step context named like a field the lifecycle's steps own."""
    for key, value in request.context.items():
        if key in evolve.refused_context:
            raise ValidationError.for_field(
                key,
                value,
                f"left out of the step context: {key!r} is a field of the "
                f"{evolve.cls.__name__} that the lifecycle sets, and a step's context "
                "does not set fields",
                hint=f"set it by hand with lifecycle.edit(entity, at=..., {key}=...), which "
                "records a FieldsChanged event, then fire the step.",
            )


def check_record(entity: object, *, name: str = "entity") -> None:
    """Refuse anything but a record (an attrs instance with ``id``, ``state``, ``state_since``)."""
    if not attrs.has(type(entity)) or not all(
        hasattr(entity, field) for field in ("id", "state", "state_since")
    ):
        raise ValidationError.for_field(
            name,
            entity,
            "a record: an attrs instance with id, state and state_since (a Lead, a Customer...)",
            hint=f"pass the record itself as {name}=.",
        )


def check_kind(compiled: CompiledLifecycle, entity: object, *, name: str = "entity") -> None:
    """
    Refuse a record of another kind than the lifecycle's (a ``Customer`` through ``LEAD_STATUS``).

    A record names its kind in a ``kind`` text attribute (``Lead.kind == "lead"``); a
    host's record class without one is not checked. ``name`` is the argument in the
    message (``entity``, ``survivor``, ``initial``).
    """
    check_record(entity, name=name)
    kind = getattr(entity, "kind", None)
    if isinstance(kind, str) and kind != compiled.kind:
        raise ValidationError.for_field(
            f"{name}.kind",
            kind,
            f"{compiled.kind!r}, the kind of the {compiled.name!r} lifecycle, "
            f"for record {getattr(entity, 'id', None)!r}",
            hint="step each record with the lifecycle of its kind "
            "(CUSTOMER_LIFECYCLE for a Customer, LEAD_STATUS for a Lead...).",
        )


def state_of(compiled: CompiledLifecycle, entity: Stateful, *, name: str = "entity") -> str:
    """Return the entity's state, or raise :class:`ValidationError` if the lifecycle lacks it."""
    check_kind(compiled, entity, name=name)
    state = entity.state
    if state not in compiled.by_name:
        raise ValidationError.for_field(
            "state",
            state,
            f"a state of the {compiled.name!r} lifecycle ({', '.join(compiled.by_name)})",
        )
    return str(state)


def _invalid(compiled: CompiledLifecycle, entity: Stateful, trigger: str) -> InvalidTransition:
    state = state_of(compiled, entity)
    return InvalidTransition(
        trigger=trigger, state=state, allowed=compiled.allowed[state], kind=compiled.name
    )


def is_before(first: datetime, second: datetime) -> bool:
    """
    Whether ``first`` is before ``second`` as instants (both timezone-aware).

    Python compares two datetimes of one zone by their wall clocks, ignoring ``fold``:
    in Europe/Berlin's autumn fold, 02:30 (``fold=0``, UTC+2) is an hour before 02:30
    (``fold=1``, UTC+1), yet ``<`` says neither is before the other. Every "not before"
    check of a step compares UTC instants through this function.

    Examples:
        >>> from zoneinfo import ZoneInfo
        >>> first = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))
        >>> second = first.replace(fold=1)
        >>> first < second, is_before(first, second), is_before(second, first)
        (False, True, False)
    """
    return first.astimezone(UTC) < second.astimezone(UTC)


def last_change(entity: Stateful) -> datetime:
    """When the record last changed: the later of ``state_since`` and ``updated_at`` (if any)."""
    since: datetime = entity.state_since
    updated: datetime | None = getattr(entity, "updated_at", None)
    return since if updated is None or is_before(updated, since) else updated


def _check_time(entity: Stateful, at: object) -> datetime:
    """
    Refuse an ``at`` that is naive (or not a datetime) or before the record's last change.

    Returns ``at`` as the event will hold it (a fixed UTC offset: ``event_instant``), so
    that the record and its event store the same value and a replay rebuilds the record.
    """
    if not is_aware(at):
        raise ValidationError.for_field(
            "at", at, "a timezone-aware datetime", hint="pass at=datetime(..., tzinfo=UTC)."
        )
    since = last_change(entity)
    if is_before(at, since):
        raise ValidationError.for_field(
            "at",
            at,
            f"at or after the record's last change ({since.isoformat()}: the later of its "
            "state_since and updated_at)",
            hint="a record's events come in time order; fire steps and edits in time order.",
        )
    instant: datetime = event_instant(at)  # type: ignore[assignment]  # aware: a datetime
    return instant


def _choose(
    entity: Stateful,
    candidates: tuple[Candidate, ...],
    request: StepRequest,
    compiled: CompiledLifecycle,
) -> tuple[Candidate, StepInfo | None]:
    """Return the first candidate whose guards pass, and what its guards and hooks see."""
    first = candidates[0]
    if first.plain and len(candidates) == 1:  # most steps: nothing to evaluate
        return first, None
    # conditions read declared custom fields by name; Python guards get the record itself
    view = CustomView(entity, compiled.custom_names) if compiled.custom_names else None
    failures: list[str] = []
    for candidate in candidates:
        info = StepInfo(
            trigger=request.trigger,
            source=entity.state,
            dest=candidate.dest,
            at=request.at,
            context=request.context,
        )
        for guard, target in candidate.guards:
            record = view if view is not None and guard.condition is not None else entity
            if guard.check(record, info) is not target:
                failures.append(guard.name if target else f"unless {guard.name}")
                break
        else:
            return candidate, info
    shown = "; ".join(dict.fromkeys(failures))
    raise GuardRejected(
        trigger=request.trigger, state=entity.state, guard=shown, kind=compiled.name
    )


@final
class Evolve:
    """
    :func:`attrs.evolve` for one entity class, with the class's fields read once.

    Calling it does what ``attrs.evolve(entity, **updates)`` does: read every
    field that ``__init__`` takes, apply the updates, and call the class, so every
    validator and the post-init checks run on the new entity. Only the field
    list (and one ``operator.attrgetter`` over it) is computed once per class.
    """

    __slots__ = (
        "cls",
        "effect_fields",
        "field_set",
        "names",
        "read",
        "refused_context",
        "stamps",
    )

    _by_class: dict[type, Evolve] = {}  # noqa: RUF012 - one cache for the process, per class

    def __init__(self, cls: type) -> None:
        fields = [f for f in attrs.fields(cls) if f.init]
        self.cls = cls
        self.names = tuple(f.alias for f in fields)
        self.field_set = frozenset(self.names)
        getter = operator.attrgetter(*(f.name for f in fields))
        self.read: Callable[[object], tuple[Any, ...]] = (
            getter if len(fields) > 1 else lambda entity: (getter(entity),)
        )
        self.effect_fields = frozenset(f.name for f in fields) & EFFECT_FIELDS
        self.refused_context = self.field_set & _OWNED_NOT_INPUT
        self.stamps = "updated_at" in self.field_set  # every change stamps the record

    @classmethod
    def of(cls, entity_class: type) -> Evolve:
        """Return the evolver of ``entity_class`` (built on first use)."""
        evolve = cls._by_class.get(entity_class)
        if evolve is None:
            evolve = cls._by_class.setdefault(entity_class, cls(entity_class))
        return evolve

    def __call__(self, entity: EntityT, updates: Mapping[str, Any]) -> EntityT:
        """Return a new entity: ``entity``'s fields with ``updates`` applied, fully validated."""
        values = dict(zip(self.names, self.read(entity)))  # noqa: B905 - equal by construction
        values.update(updates)
        new: EntityT = self.cls(**values)
        return new


def _stage_effects(cls: type, chosen: Candidate, stages: Mapping[str, Stage]) -> StageEffects:
    """Work out the stage effects of ``chosen`` on entities of class ``cls``, and cache them."""
    effects = StageEffects(Evolve.of(cls), stages[chosen.source], stages[chosen.dest])
    return chosen.effects.setdefault(cls, effects)


def _missing_link(trigger: str, dest: str, context: Mapping[str, Any]) -> ValidationError:
    """Build the error for a conversion step without the opportunity it becomes."""
    return ValidationError.for_field(
        "opportunity_id",
        context.get("opportunity_id"),
        f"the id of the opportunity the record becomes when entering won stage {dest!r}",
        hint=f"convert with convert_lead(lead, at=..., new_opportunity_id='O-9'), or "
        f"fire(entity, {trigger!r}, at=..., opportunity_id='O-9').",
    )


def _missing_lost_reason(trigger: str, dest: str, context: Mapping[str, Any]) -> ValidationError:
    """Build the error for a lost step without a reason."""
    return ValidationError.for_field(
        "lost_reason",
        context.get("lost_reason"),
        f"a non-empty reason when entering lost stage {dest!r}",
        hint=f"fire(entity, {trigger!r}, at=..., lost_reason='price').",
    )


@final
class StageEffects:
    """
    The stage effects of a move from ``source`` to ``dest`` on one entity class.

    ``evolve`` is the class's :class:`Evolve`, which also knows the effect fields
    the class carries. What depends only on the two stages is decided when this is
    built; :meth:`updates` adds what depends on the entity or the request: a
    stage's default probability (unless set by hand), the lost reason and the
    converted record's ``opportunity_id`` from the context, the close time, and
    the ``highest_state`` high-water mark.
    """

    __slots__ = (
        "any",
        "default",
        "dest",
        "evolve",
        "fixed",
        "highest",
        "needs_link",
        "needs_reason",
        "stamp_closed",
    )

    def __init__(self, evolve: Evolve, source: Stage, dest: Stage) -> None:
        fields = evolve.effect_fields
        fixed: dict[str, Any] = {}
        self.default: int | None = None
        if "probability" in fields:
            if dest.type == "won":
                fixed["probability"] = _WON
            elif dest.type == "lost":
                fixed["probability"] = 0
            else:
                self.default = dest.probability
        if dest.closed and "probability_manual" in fields:
            fixed["probability_manual"] = False
        entering_lost = dest.type == "lost" and source.type != "lost"
        self.needs_reason = "lost_reason" in fields and entering_lost
        if "lost_reason" in fields and dest.type != "lost":
            fixed["lost_reason"] = None
        if "last_open_stage" in fields and entering_lost and not source.closed:
            fixed["last_open_stage"] = source.name
        self.stamp_closed = "closed_at" in fields and dest.closed and not source.closed
        if "closed_at" in fields and not dest.closed:
            fixed["closed_at"] = None
        self.highest = "highest_state" in fields and dest.type != "lost"
        self.needs_link = "opportunity_id" in fields and dest.won and not source.won
        self.fixed = fixed
        self.dest = dest
        self.any = bool(fields)  # whether the class carries any field the effects write
        self.evolve = evolve

    def updates(
        self, entity: object, request: StepRequest, stages: Mapping[str, Stage]
    ) -> dict[str, Any]:
        """Return the field updates of one step."""
        out = dict(self.fixed)
        if self.default is not None and not getattr(entity, "probability_manual", False):
            out["probability"] = self.default
        if self.needs_reason:
            reason = request.context.get("lost_reason")
            if not isinstance(reason, str) or not reason.strip():
                raise _missing_lost_reason(request.trigger, self.dest.name, request.context)
            out["lost_reason"] = reason
        if self.needs_link:
            link = request.context.get("opportunity_id")
            if not isinstance(link, str) or not link.strip():
                raise _missing_link(request.trigger, self.dest.name, request.context)
            out["opportunity_id"] = link
        if self.stamp_closed:
            out["closed_at"] = request.at
        if self.highest:
            current = stages.get(getattr(entity, "highest_state", None))  # type: ignore[arg-type]
            if current is None or self.dest.order > current.order:
                out["highest_state"] = self.dest.name
        return out
