"""
Replaying one record's event log: :meth:`Lifecycle.replay <crmlifecycle.stages.Lifecycle.replay>`.

:func:`replay_events` first checks the whole log (:func:`check_log`), then
applies it; nothing is applied before every check passed, and the result is a
new record (the initial one is not changed). The checks, each a
:class:`~crmlifecycle.errors.EventLogError` naming the entity, the event's
position and ``event_id``:

- every event is of the lifecycle's ``kind`` and the record's ``entity_id``,
  and names no other lifecycle (``event.lifecycle``);
- no ``event_id`` appears twice;
- ``sequence`` numbers count up by one: the first follows the initial record's
  ``version`` (a leading ``Created`` event's sequence must equal it);
  an event without a sequence (a schema-1 payload) counts one;
- ``at`` never goes backwards;
- a ``Created`` event of the record comes first, if at all;
- an event recorded under another ``lifecycle_version`` is a
  :class:`~crmlifecycle.errors.LifecycleVersionError`, unless the caller trusts
  the log (``trust=True``).

Applying: a ``Transitioned`` event is fired again (guards, hooks and stage
effects run) and must land where the log says; with ``trust`` it is applied
without guards (:func:`trusted_step`). A ``FieldsChanged`` event sets its new
values (a key that is not a field of the record goes into ``record.custom``).
:func:`check_state_log` is the part of the checks that
:meth:`~crmlifecycle.stages.Lifecycle.state_at` applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlifecycle.errors import (
    EventLogError,
    GuardRejected,
    InvalidTransition,
    LifecycleVersionError,
    ValidationError,
)
from crmlifecycle.events import Created, Event, FieldsChanged, Transitioned
from crmlifecycle.stages._definition import StepInfo
from crmlifecycle.stages._fields import CustomView, check_custom
from crmlifecycle.stages._step import (
    NOT_EDITED,
    Evolve,
    StageEffects,
    StepRequest,
    _check_not_merged,
    _check_time,
    _refuse_field_context,
    _stage_effects,
    bookkeeping,
    check_kind,
    fire_step,
    is_before,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import Candidate, CompiledLifecycle

__all__ = ["check_log", "check_state_log", "replay_events", "trusted_step"]


def _where(entity_id: object, index: int, event: Event) -> str:
    """``"event 3 (lead/L-1/3) of entity 'L-1'"``: how the messages name an event."""
    name = f" ({event.event_id})" if event.event_id else ""
    return f"event {index}{name} of entity {entity_id!r}"


def _error(entity_id: object, index: int, event: Event, problem: str, hint: str) -> EventLogError:
    return EventLogError(
        f"{_where(entity_id, index, event)} {problem}. Hint: {hint}",
        entity_id=entity_id,
        index=index,
        event_id=event.event_id,
    )


_OWN_EVENTS = "pass only this record's own events (filter the store by kind and entity_id)."
_MISSING = "the log is missing, repeating or reordering events; store every event, in order."


def check_log(
    compiled: CompiledLifecycle,
    entity_id: str,
    events: Sequence[Event],
    *,
    start: int | None,
    trust: bool,
) -> None:
    """
    Check a record's whole log before anything of it is applied (see the module docstring).

    ``start`` is the initial record's ``version`` (``None``: the record keeps no
    version, so the first sequence found starts the count).
    """
    seen: dict[str, int] = {}
    expected = start
    previous = None
    for i, event in enumerate(events):
        _check_identity(compiled, entity_id, i, event, trust=trust)
        if event.event_id is not None:
            if event.event_id in seen:
                raise _error(
                    entity_id,
                    i,
                    event,
                    f"repeats the event_id of event {seen[event.event_id]}",
                    "store each event once; a repeated event would be applied twice.",
                )
            seen[event.event_id] = i
        if isinstance(event, Created):
            if i:
                raise _error(
                    entity_id,
                    i,
                    event,
                    "is a second Created event (a record is created once, first)",
                    _MISSING,
                )
            if event.sequence is not None:
                if expected is not None and event.sequence != expected:
                    raise _error(
                        entity_id,
                        i,
                        event,
                        f"has sequence {event.sequence}, but the initial record's version "
                        f"is {expected}",
                        "replay from the record the Created event holds (pass the class).",
                    )
                expected = event.sequence
        else:
            expected = _next_sequence(entity_id, i, event, expected)
        if previous is not None and is_before(event.at, previous):
            raise _error(
                entity_id,
                i,
                event,
                f"happens at {event.at.isoformat()}, before the event it follows "
                f"({previous.isoformat()})",
                "events are stored in the order they happen; sort by sequence, or fix the clock.",
            )
        previous = event.at


def _check_identity(
    compiled: CompiledLifecycle, entity_id: str, i: int, event: Event, *, trust: bool
) -> None:
    """The event is the record's, of this lifecycle (and version, unless trusted)."""
    if event.kind != compiled.kind:
        raise _error(
            entity_id,
            i,
            event,
            f"is of kind {event.kind!r}, not {compiled.kind!r} (the {compiled.name!r} lifecycle's)",
            _OWN_EVENTS,
        )
    if event.entity_id != entity_id:
        raise _error(
            entity_id,
            i,
            event,
            f"is for entity_id {event.entity_id!r}, not {entity_id!r} (the record replayed)",
            _OWN_EVENTS,
        )
    if event.lifecycle is not None and event.lifecycle != compiled.name:
        raise _error(
            entity_id,
            i,
            event,
            f"was recorded by lifecycle {event.lifecycle!r}, not {compiled.name!r}",
            f"replay it with the {event.lifecycle!r} lifecycle.",
        )
    recorded = event.lifecycle_version
    if not trust and recorded is not None and recorded != compiled.version:
        raise LifecycleVersionError(
            f"{_where(entity_id, i, event)} was recorded under version {recorded!r} of the "
            f"{compiled.name!r} lifecycle, not {compiled.version!r} (this definition). "
            "Hint: pass trust=True to replay the history as it was recorded (steps land "
            "where the log says, guards are not run again), or replay it with the "
            "definition of that version.",
            entity_id=entity_id,
            index=i,
            event_id=event.event_id,
            recorded=recorded,
            expected=compiled.version,
        )


def _next_sequence(entity_id: str, i: int, event: Event, expected: int | None) -> int | None:
    """Check an event's sequence against the expected next one; return the new count."""
    if event.sequence is None:  # a schema-1 event counts one
        return None if expected is None else expected + 1
    if expected is not None and event.sequence != expected + 1:
        problem = "repeats" if event.sequence <= expected else "skips"
        raise _error(
            entity_id,
            i,
            event,
            f"has sequence {event.sequence} where {expected + 1} comes next (it {problem} "
            f"part of the log)",
            _MISSING,
        )
    return event.sequence


def event_list(events: object) -> list[Event]:
    """
    ``events`` as a list of events, or a ``ValidationError`` naming ``events`` (or the item).

    A log is an iterable of events (a list, a tuple, a generator); text, a mapping or
    a frame is not one.
    """
    if isinstance(events, str | bytes | Mapping | pd.DataFrame) or not isinstance(events, Iterable):
        raise ValidationError.for_field(
            "events",
            events,
            "a list of events (Transitioned, Created or FieldsChanged)",
            hint="pass the record's event log; read a frame with events_from_frame first.",
        )
    items = list(events)
    for i, item in enumerate(items):
        if not isinstance(item, Transitioned | Created | FieldsChanged):
            raise ValidationError.for_field(
                f"events[{i}]",
                type(item).__name__,
                "an event (Transitioned, Created or FieldsChanged)",
                hint="read stored events back with event_from_dict or event_from_json first.",
            )
    return items


def check_state_log(compiled: CompiledLifecycle, events: Sequence[Event]) -> list[Event]:
    """
    The checks :meth:`Lifecycle.state_at` makes; return the events that concern the record.

    ``Created`` events of another kind (the opportunity a lead's conversion
    creates) are left out; the rest must be one entity's (the first one's), of
    this lifecycle, with no repeated ``event_id``, counting ``sequence`` numbers
    up by one, and in time order. The lifecycle version is not checked (only
    recorded states are read).
    """
    own = [e for e in events if not (isinstance(e, Created) and e.kind != compiled.kind)]
    if own:
        first = own[0]
        start = None if first.sequence is None else first.sequence - 1
        if isinstance(first, Created):
            start = first.sequence
        check_log(compiled, first.entity_id, own, start=start, trust=True)
    return own


def replay_events(
    compiled: CompiledLifecycle, initial: Any, events: Sequence[Event], *, trust: bool
) -> Any:
    """Check, then apply, a record's log (see :meth:`Lifecycle.replay`); return the record."""
    items = list(events)
    for i, item in enumerate(items):
        if not isinstance(item, Transitioned | Created | FieldsChanged):
            raise ValidationError.for_field(
                f"events[{i}]",
                type(item).__name__,
                "an event (Transitioned, Created or FieldsChanged)",
                hint="read stored events back with event_from_dict or event_from_json first.",
            )
    entity = initial
    if isinstance(initial, type):
        entity = _created_record(compiled, initial, items)
    check_kind(compiled, entity, name="initial")
    # the record's version; a Created event's sequence must match it (from a class: its data)
    start = getattr(entity, "version", None)
    check_log(compiled, entity.id, items, start=start, trust=trust)
    fields = compiled.custom_fields
    if fields:
        check_custom(fields, entity)
    for i, event in enumerate(items):
        if isinstance(event, Created):
            continue
        try:
            if isinstance(event, FieldsChanged):
                entity = _apply_changes(entity, event)
                if fields:
                    check_custom(fields, entity)
            else:
                entity = _apply_step(compiled, entity, event, trust=trust)
        except (InvalidTransition, GuardRejected, ValidationError) as err:
            raise _refused(entity.id, i, event, err, trust=trust) from err
    return entity


def _refused(entity_id: str, i: int, event: Event, err: Exception, *, trust: bool) -> EventLogError:
    """The error for a logged event this lifecycle cannot apply, keeping the cause's hint."""
    reason, _, hint = str(err).partition(" Hint: ")
    hint = hint or "the log does not fit this record; is an event missing?"
    if not trust and (not isinstance(err, ValidationError) or err.field == "dest"):
        hint = (
            f"{hint.rstrip('.')}; if the log was written under another definition, pass trust=True."
        )
    return _error(entity_id, i, event, f"cannot be applied: {reason.rstrip('.')}", hint)


def _created_record(compiled: CompiledLifecycle, cls: type, events: Sequence[Event]) -> Any:
    """Build the record of the ``Created`` event that starts ``events``, as ``cls``."""
    first = events[0] if events else None
    if isinstance(first, Created) and first.kind != compiled.kind:
        raise _error(
            first.entity_id,
            0,
            first,
            f"is of kind {first.kind!r}, not {compiled.kind!r} (the {compiled.name!r} lifecycle's)",
            _OWN_EVENTS,
        )
    if not isinstance(first, Created) or not first.data:
        raise ValidationError.for_field(
            "events[0]",
            type(first).__name__ if first is not None else None,
            f"a Created event holding the {cls.__name__} record (its data)",
            hint="store Created.of(entity) first, or pass the initial record instead of its class.",
        )
    try:
        return cls(**first.data)
    except TypeError as err:  # fields the class does not have: the record of another class
        raise _error(
            first.entity_id,
            0,
            first,
            f"holds a record that is not of class {cls.__name__} ({err})",
            f"replay with the record class the log was written for ({first.kind!r} records).",
        ) from err


def _apply_step(
    compiled: CompiledLifecycle, entity: Any, event: Transitioned, *, trust: bool
) -> Any:
    """Apply one logged step: fired again (or trusted); it must land where the log says."""
    if event.source != entity.state:
        raise ValidationError.for_field(
            "source",
            event.source,
            f"the record's state {entity.state!r} (the step starts where the last one ended)",
            hint="the log is missing an event, or starts from another record.",
        )
    if trust:
        return trusted_step(compiled, entity, event)
    request = StepRequest(event.trigger, event.at, event.context, event.actor)
    step = fire_step(compiled, entity, request)
    if step.event.dest != event.dest:
        raise ValidationError.for_field(
            "dest",
            f"{event.source}->{event.dest}",
            f"what the lifecycle does ({step.event.source}->{step.event.dest})",
            hint="the log was written by another definition; replay it with that one, or "
            "pass trust=True.",
        )
    return step.entity


def trusted_step(compiled: CompiledLifecycle, entity: Any, event: Transitioned) -> Any:
    """
    Apply a logged step as recorded, without guards (``replay(..., trust=True)``).

    If a candidate transition of ``(source, trigger)`` lands in the recorded
    ``dest``, it is taken (hooks and stage effects run, guards do not decide;
    of several landing there, the first whose guards pass is taken, else the
    first);
    otherwise the record moves to ``dest`` with the stage effects of the two
    stages' current metadata, and no hook runs (a step whose ``dest`` is its
    ``source`` then only counts: state and ``state_since`` stay).
    """
    source: str = entity.state
    if event.dest not in compiled.by_name:
        raise ValidationError.for_field(
            "dest",
            event.dest,
            f"a state of the {compiled.name!r} lifecycle ({', '.join(compiled.by_name)})",
            hint="a trusted log still needs states this lifecycle has.",
        )
    if source not in compiled.by_name:
        raise ValidationError.for_field(
            "state", source, f"a state of the {compiled.name!r} lifecycle"
        )
    request = StepRequest(event.trigger, event.at, event.context, event.actor)
    _check_time(entity, request.at)
    _check_not_merged(entity)
    landing = [c for c in compiled.table.get((source, event.trigger), ()) if c.dest == event.dest]
    chosen = (
        _pick(compiled, entity, landing, request) if len(landing) > 1 else next(iter(landing), None)
    )
    if chosen is None:
        return _moved(compiled, entity, request, event.dest)
    return _taken(compiled, entity, chosen, request)


def _pick(
    compiled: CompiledLifecycle, entity: Any, landing: list[Candidate], request: StepRequest
) -> Candidate:
    """
    Of several candidates landing in the recorded dest, the one ``fire`` would have taken.

    The log does not say which it was (an internal step and a re-entering one both
    land in their source): the first whose guards pass now (read as ``fire`` reads
    them, declared custom fields by name), else the first.
    """
    view = CustomView(entity, compiled.custom_names) if compiled.custom_names else None
    for candidate in landing:
        info = StepInfo(
            trigger=request.trigger,
            source=entity.state,
            dest=candidate.dest,
            at=request.at,
            context=request.context,
        )
        if all(
            guard.check(view if view is not None and guard.condition is not None else entity, info)
            is target
            for guard, target in candidate.guards
        ):
            return candidate
    return landing[0]


def _taken(
    compiled: CompiledLifecycle, entity: Any, chosen: Candidate, request: StepRequest
) -> Any:
    """A candidate transition taken without its guards: hooks and stage effects as in fire."""
    cls = type(entity)
    effects = chosen.effects.get(cls) or _stage_effects(cls, chosen, compiled.by_name)
    evolve = effects.evolve
    if request.context and not evolve.refused_context.isdisjoint(request.context):
        _refuse_field_context(evolve, request)
    info = StepInfo(
        trigger=request.trigger,
        source=entity.state,
        dest=chosen.dest,
        at=request.at,
        context=request.context,
    )
    _, updates = bookkeeping(evolve, entity, request.at)
    for hook in chosen.before:
        updates.update(hook.func(entity, info) or {})
    if not chosen.internal:
        updates["state"] = chosen.dest
        updates["state_since"] = request.at
        if effects.any:
            updates.update(effects.updates(entity, request, compiled.by_name))
    new = evolve(entity, updates) if updates else entity
    for hook in chosen.after:
        more = hook.func(new, info)
        if more:
            new = evolve(new, more)
    return new


def _moved(compiled: CompiledLifecycle, entity: Any, request: StepRequest, dest: str) -> Any:
    """A step this definition no longer has: move to ``dest`` with the current stage effects."""
    evolve = Evolve.of(type(entity))
    if request.context and not evolve.refused_context.isdisjoint(request.context):
        _refuse_field_context(evolve, request)
    _, updates = bookkeeping(evolve, entity, request.at)
    if dest != entity.state:
        stages = compiled.by_name
        effects = StageEffects(evolve, stages[entity.state], stages[dest])
        updates["state"] = dest
        updates["state_since"] = request.at
        if effects.any:
            updates.update(effects.updates(entity, request, stages))
    return evolve(entity, updates) if updates else entity


def _apply_changes(entity: Any, event: FieldsChanged) -> Any:
    """Set a ``FieldsChanged`` event's new values (unknown keys: custom fields)."""
    evolve = Evolve.of(type(entity))
    _check_time(entity, event.at)  # as the live edit: never before the record's last change
    _check_not_merged(entity)
    updates: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, change in event.changes.items():
        if not isinstance(change, list | tuple) or len(change) != 2:  # noqa: PLR2004 - a pair
            raise ValidationError.for_field(
                f"changes.{key}", change, "an [old, new] pair", hint="write edits with edit()."
            )
        if key in NOT_EDITED:
            raise ValidationError.for_field(
                f"changes.{key}",
                change[1],
                "a field an edit may change (the lifecycle's steps set this one)",
                hint="a FieldsChanged event never moves a record between states; the log was "
                "not written by this library's producers.",
            )
        (updates if key in evolve.field_set else custom)[key] = change[1]
    if custom:
        if "custom" not in evolve.field_set:
            key = min(custom)
            raise ValidationError.for_field(
                f"changes.{key}",
                custom[key],
                f"a field of {evolve.cls.__name__} (it has no custom fields)",
                hint="replay with the record class the log was written for.",
            )
        base: Mapping[str, Any] = updates.get("custom", entity.custom)
        updates["custom"] = _custom_of(base).updated(custom)
    if "version" in evolve.field_set:
        updates["version"] = (
            event.sequence if event.sequence is not None else int(entity.version) + 1
        )
    if evolve.stamps:
        updates["updated_at"] = event.at
    return evolve(entity, updates) if updates else entity


def _custom_of(value: Mapping[str, Any]) -> Any:
    from crmlifecycle._custom_fields import to_custom_fields

    return to_custom_fields(value)
