"""
Differential and property tests: ``fire`` against a plain ``transitions.Machine``.

For random sequences of triggers, a ``transitions.Machine`` on a mutable model,
built from the same definition, must accept, refuse (conditions) and reject
(``MachineError``) exactly the steps ``fire`` accepts, refuses (``GuardRejected``)
and rejects (``InvalidTransition``), landing in the same state with the same hook
updates. Replaying the produced events (also after a JSON round trip) rebuilds
the same final entity.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
from hypothesis import given
from hypothesis import strategies as st
from transitions import Machine, MachineError

from crmlifecycle import Case, Customer, Lead
from crmlifecycle.errors import GuardRejected, InvalidTransition
from crmlifecycle.events import event_from_json, event_to_json
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    Guard,
    Hook,
    Lifecycle,
    TransitionDef,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class Ticket:
    kind: ClassVar[str] = "ticket"
    id: str
    created_at: datetime
    state: str = "todo"
    state_since: datetime = T0
    points: int = 0
    blocked: bool = False


@attrs.define(kw_only=True, slots=False)
class MutableTicket:
    id: str
    created_at: datetime
    state: str = "todo"
    state_since: datetime = T0
    points: int = 0
    blocked: bool = False


def _bump(e: Any, _info: Any) -> dict[str, Any]:
    return {"points": e.points + 2}


def _toggle(e: Any, _info: Any) -> dict[str, Any]:
    return {"blocked": not e.blocked}


TICKET = Lifecycle(
    "ticket",
    ["todo", "doing", "review", "done", "dropped"],
    [
        TransitionDef(trigger="start", source="todo", dest="doing"),
        TransitionDef(
            trigger="submit", source="doing", dest="review", conditions=(Guard.when("points >= 3"),)
        ),
        TransitionDef(
            trigger="submit", source="doing", dest="done", unless=(Guard.when("blocked"),)
        ),
        TransitionDef(
            trigger="approve",
            source="review",
            dest="done",
            unless=(Guard.of(lambda e, _i: e.blocked, name="blocked"),),
        ),
        TransitionDef(
            trigger="reject", source="review", dest="doing", before=(Hook.of(_bump, name="bump"),)
        ),
        TransitionDef(
            trigger="drop",
            source=("todo", "doing", "review"),
            dest="dropped",
            conditions=(Guard.of(lambda e, _i: e.points < 8, name="small"),),
        ),
        TransitionDef(
            trigger="bump", source=("todo", "doing"), internal=True, after=(Hook.of(_bump),)
        ),
        TransitionDef(
            trigger="toggle",
            source=("todo", "doing", "review"),
            internal=True,
            after=(Hook.of(_toggle),),
        ),
        TransitionDef(trigger="revive", source="dropped", dest="todo"),
    ],
)


def reference_machine(lifecycle: Lifecycle, model: object, initial: str) -> Machine:
    """A plain transitions.Machine on a mutable model, from the lifecycle's definition."""
    specs = [
        {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": list(t.conditions),
            "unless": list(t.unless),
            "before": list(t.before),
            "after": list(t.after),
        }
        for t in lifecycle.transitions
    ]
    return Machine(
        model=model,
        states=list(lifecycle.states),
        initial=initial,
        transitions=specs,
        auto_transitions=False,
        send_event=True,
    )


TRIGGERS = st.lists(st.sampled_from([*TICKET.trigger_names, "nonsense"]), min_size=1, max_size=25)


def _outcome_ours(
    lc: Lifecycle, entity: Any, trigger: str, at: datetime, **context: Any
) -> tuple[str, Any]:
    try:
        step = lc.fire(entity, trigger, at=at, **context)
    except InvalidTransition:
        return "invalid", entity
    except GuardRejected:
        return "refused", entity
    return "ok", step


def _outcome_ref(model: Any, trigger: str, at: datetime) -> str:
    try:
        ok = model.trigger(trigger, at=at)
    except (MachineError, AttributeError):
        return "invalid"
    return "ok" if ok else "refused"


@given(TRIGGERS, st.integers(0, 6), st.booleans())
def test_fire_agrees_with_transitions_step_by_step(
    triggers: list[str], points: int, blocked: bool
) -> None:
    entity = Ticket(id="T-1", created_at=T0, points=points, blocked=blocked)
    model = MutableTicket(id="T-1", created_at=T0, points=points, blocked=blocked)
    reference_machine(TICKET, model, "todo")
    start = entity
    events = []
    for i, trigger in enumerate(triggers):
        at = T0 + timedelta(hours=i)
        ours, result = _outcome_ours(TICKET, entity, trigger, at)
        assert ours == _outcome_ref(model, trigger, at), (trigger, entity)
        if ours == "ok":
            entity = result.entity
            events.append(result.event)
        assert (entity.state, entity.points, entity.blocked) == (
            model.state,
            model.points,
            model.blocked,
        )
    assert TICKET.replay(start, events) == entity
    round_tripped = [event_from_json(event_to_json(e)) for e in events]
    assert TICKET.replay(start, round_tripped) == entity


STANDARD: list[tuple[Lifecycle, Any]] = [
    (LEAD_STATUS, Lead(id="L-1", created_at=T0)),
    (CUSTOMER_LIFECYCLE, Customer(id="K-1", created_at=T0)),
    (CASE_STATUS, Case(id="S-1", customer_id="K-1", subject="x", created_at=T0, priority="low")),
]


@given(st.sampled_from(range(len(STANDARD))), st.data())
def test_standard_lifecycles_agree_with_transitions(index: int, data: st.DataObject) -> None:
    lifecycle, entity = STANDARD[index]
    triggers = data.draw(
        st.lists(st.sampled_from(lifecycle.trigger_names), min_size=1, max_size=30)
    )
    mutable_cls: Any = attrs.make_class(
        "Mutable",
        {f.name: attrs.field(default=None) for f in attrs.fields(type(entity))},
        kw_only=True,
    )
    model = mutable_cls(**attrs.asdict(entity, recurse=False))
    reference_machine(lifecycle, model, entity.state)
    start, events = entity, []
    for i, trigger in enumerate(triggers):
        at = T0 + timedelta(days=i)
        # a conversion names its opportunity (the won-stage effect of leads needs it)
        ours, result = _outcome_ours(lifecycle, entity, trigger, at, opportunity_id="O-1")
        assert ours == _outcome_ref(model, trigger, at)
        if ours == "ok":
            entity = result.entity
            events.append(result.event)
        assert entity.state == model.state
        if isinstance(entity, Case):
            assert entity.priority == model.priority
            assert entity.resolved_at == model.resolved_at
    assert lifecycle.replay(start, events) == entity
    decoded = [event_from_json(event_to_json(e)) for e in events]
    assert lifecycle.replay(start, decoded) == entity
    # every event's `at` is at or after the previous one: state_since never goes back
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
