"""Assignment and merges are steps with events: validated, refused with typed errors, replayed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import Created, Event, FieldsChanged, event_from_json, event_to_json
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    Merge,
    TransitionDef,
    events_from_frame,
    events_to_frame,
)
from crmlifecycle.testing import cases, customers, event_sequences, ids, leads, opportunities

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def _deal(**fields: Any) -> Opportunity:
    values: dict[str, Any] = {"id": "O-1", "name": "Acme", "amount": Money(9000, "EUR")}
    return Opportunity(**{**values, "created_at": T0, **fields})


def _rebuilds(lifecycle: Lifecycle, start: Any, events: list[Event], expected: Any) -> None:
    """Replaying ``start``'s Created event and ``events`` gives ``expected``: directly, via JSON
    and via the event-log frame."""
    log: list[Event] = [Created.of(start), *events]
    cls = type(start)
    assert lifecycle.replay(cls, log) == expected
    decoded = [event_from_json(event_to_json(event)) for event in log]
    assert lifecycle.replay(cls, decoded) == expected
    assert lifecycle.replay(cls, events_from_frame(events_to_frame(log))) == expected


# -- assignment ----------------------------------------------------------------------------------


def test_assign_sets_the_owner_and_returns_its_event() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = LEAD_STATUS.assign(lead, "ana", at=T1, actor="boss")
    assert step.entity == attrs.evolve(lead, owner="ana", version=1, updated_at=T1)
    assert lead.owner is None  # the old record is unchanged
    assert step.event == FieldsChanged(
        kind="lead",
        entity_id="L-1",
        at=T1,
        changes={"owner": [None, "ana"]},
        context={"reason": "assign"},
        event_id="lead/L-1/1",
        sequence=1,
        actor="boss",
        lifecycle="lead",
        lifecycle_version=LEAD_STATUS.version,
    )
    again = LEAD_STATUS.assign(step.entity, "bo", at=T1)
    gone = LEAD_STATUS.assign(again.entity, None, at=T1)
    assert dict(again.event.changes) == {"owner": ["ana", "bo"]}
    assert dict(gone.event.changes) == {"owner": ["bo", None]}
    assert (gone.entity.owner, gone.entity.version, gone.event.sequence) == (None, 3, 3)
    _rebuilds(LEAD_STATUS, lead, [step.event, again.event, gone.event], gone.entity)


@pytest.mark.parametrize(
    ("lifecycle", "record"),
    [
        (OPPORTUNITY_PIPELINE, _deal()),
        (CUSTOMER_LIFECYCLE, Customer(id="K-1", created_at=T0)),
        (CASE_STATUS, Case(id="S-1", customer_id="K-1", subject="x", created_at=T0)),
    ],
)
def test_every_standard_record_is_assigned_the_same_way(lifecycle: Lifecycle, record: Any) -> None:
    step = lifecycle.assign(record, "ana", at=T1)
    assert step.entity.owner == "ana"
    assert dict(step.event.changes) == {"owner": [None, "ana"]}
    assert step.event.kind == lifecycle.kind
    _rebuilds(lifecycle, record, [step.event], step.entity)


def test_assigning_the_current_owner_is_refused_as_no_change() -> None:
    lead = Lead(id="L-1", created_at=T0, owner="ana")
    with pytest.raises(ValidationError, match="already assigned to 'ana'") as info:
        LEAD_STATUS.assign(lead, "ana", at=T1)
    assert info.value.field == "owner"
    assert "'L-1'" in str(info.value)
    assert "Hint:" in str(info.value)
    with pytest.raises(ValidationError, match="already unassigned") as info:
        LEAD_STATUS.assign(Lead(id="L-2", created_at=T0), None, at=T1)
    assert info.value.field == "owner"


@pytest.mark.parametrize("owner", ["", "   ", 7, ["ana"]])
def test_an_owner_is_a_non_empty_id(owner: Any) -> None:
    with pytest.raises(ValidationError) as info:
        LEAD_STATUS.assign(Lead(id="L-1", created_at=T0), owner, at=T1)
    assert info.value.field == "owner"
    assert info.value.value == owner


def test_edit_refuses_the_owner_and_points_to_assign() -> None:
    with pytest.raises(ValidationError, match=r"assign\(") as info:
        OPPORTUNITY_PIPELINE.edit(_deal(), at=T1, owner="ana")
    assert info.value.field == "owner"
    assert "Hint:" in str(info.value)


def test_assign_checks_time_and_state_like_every_step() -> None:
    deal = _deal(state="proposal", state_since=T0 + timedelta(days=5), probability=50)
    with pytest.raises(ValidationError) as info:
        OPPORTUNITY_PIPELINE.assign(deal, "ana", at=T0 + timedelta(days=1))
    assert info.value.field == "at"
    with pytest.raises(ValidationError, match="timezone-aware") as info:
        OPPORTUNITY_PIPELINE.assign(deal, "ana", at=datetime(2026, 2, 1))
    with pytest.raises(ValidationError) as info:
        LEAD_STATUS.assign(deal, "ana", at=T0 + timedelta(days=6))  # a deal, not a lead
    assert (info.value.field, info.value.value) == ("entity.kind", "opportunity")


def test_a_record_without_an_owner_field_cannot_be_assigned() -> None:
    @attrs.frozen(kw_only=True)
    class Door:
        id: str
        state: str = "closed"
        state_since: datetime = T0

    doors = Lifecycle(
        "door", ["closed", "open"], [TransitionDef(trigger="open", source="closed", dest="open")]
    )
    with pytest.raises(ValidationError, match="Door") as info:
        doors.assign(Door(id="D-1"), "ana", at=T1)
    assert info.value.field == "owner"


# -- merges: hand-worked -------------------------------------------------------------------------


def test_a_merge_fills_the_survivors_gaps_and_links_the_duplicate() -> None:
    survivor = _deal(
        state="proposal",
        probability=50,
        contact_id="C-1",
        custom={"tier": "gold"},
        version=4,
    )
    duplicate = _deal(
        id="O-2",
        name="ACME Ltd",
        amount=Money(100, "EUR"),
        contact_id="C-2",
        account_id="A-2",
        owner="bo",
        custom={"tier": "silver", "seats": 3},
    )
    merge = OPPORTUNITY_PIPELINE.merge(survivor, duplicate, at=T1, actor="admin")
    assert isinstance(merge, Merge)
    kept = merge.survivor.entity
    # its own values stay (name, amount, contact, stage, probability); gaps are filled
    assert kept == attrs.evolve(
        survivor,
        account_id="A-2",
        owner="bo",
        custom={"tier": "gold", "seats": 3},
        version=5,
        updated_at=T1,
    )
    assert merge.survivor.event == FieldsChanged(
        kind="opportunity",
        entity_id="O-1",
        at=T1,
        changes={
            "account_id": [None, "A-2"],
            "owner": [None, "bo"],
            "custom": [{"tier": "gold"}, {"tier": "gold", "seats": 3}],
        },
        context={"reason": "merge", "merged_from": "O-2"},
        event_id="opportunity/O-1/5",
        sequence=5,
        actor="admin",
        lifecycle="opportunity",
        lifecycle_version=OPPORTUNITY_PIPELINE.version,
    )
    assert merge.duplicate.entity == attrs.evolve(
        duplicate, merged_into="O-1", version=1, updated_at=T1
    )
    assert merge.duplicate.event == FieldsChanged(
        kind="opportunity",
        entity_id="O-2",
        at=T1,
        changes={"merged_into": [None, "O-1"]},
        context={"reason": "merge", "merged_into": "O-1"},
        event_id="opportunity/O-2/1",
        sequence=1,
        actor="admin",
        lifecycle="opportunity",
        lifecycle_version=OPPORTUNITY_PIPELINE.version,
    )
    assert merge.events == (merge.survivor.event, merge.duplicate.event)
    _rebuilds(OPPORTUNITY_PIPELINE, survivor, [merge.events[0]], kept)
    _rebuilds(OPPORTUNITY_PIPELINE, duplicate, [merge.events[1]], merge.duplicate.entity)


def test_a_merge_takes_nothing_the_lifecycles_steps_wrote() -> None:
    lost = OPPORTUNITY_PIPELINE.fire(_deal(id="O-2"), "lose", at=T1, lost_reason="price").entity
    assert (lost.lost_reason, lost.last_open_stage, lost.closed_at) == ("price", "prospecting", T1)
    merge = OPPORTUNITY_PIPELINE.merge(_deal(), lost, at=T1)
    kept = merge.survivor.entity
    assert (kept.lost_reason, kept.last_open_stage, kept.closed_at) == (None, None, None)
    assert (kept.state, kept.probability) == ("prospecting", 10)
    assert dict(merge.survivor.event.changes) == {}  # nothing to take: still recorded
    assert merge.survivor.event.context["merged_from"] == "O-2"
    # a case's SLA stamps are its own history too
    answered = Case(
        id="S-2",
        customer_id="K-1",
        subject="x",
        created_at=T0,
        state="in_progress",
        first_response_at=T1,
        state_since=T1,
    )
    fresh = Case(id="S-1", customer_id="K-1", subject="y", created_at=T0)
    case = CASE_STATUS.merge(fresh, answered, at=T1).survivor.entity
    assert (case.first_response_at, case.resolved_at, case.state) == (None, None, "new")
    # a converted lead's opportunity link is not copied either
    converted = Lead(id="L-2", created_at=T0, state="converted", opportunity_id="O-9")
    lead = LEAD_STATUS.merge(Lead(id="L-1", created_at=T0), converted, at=T1).survivor.entity
    assert (lead.state, lead.opportunity_id) == ("open", None)


def test_the_merged_duplicate_refuses_every_change() -> None:
    merge = LEAD_STATUS.merge(Lead(id="L-1", created_at=T0), Lead(id="L-2", created_at=T0), at=T1)
    dup = merge.duplicate.entity
    other = Lead(id="L-3", created_at=T0)
    attempts: list[Callable[[], object]] = [
        lambda: LEAD_STATUS.fire(dup, "contact", at=T1),
        lambda: LEAD_STATUS.edit(dup, at=T1, company="Acme"),
        lambda: LEAD_STATUS.assign(dup, "ana", at=T1),
        lambda: LEAD_STATUS.merge(dup, other, at=T1),
        lambda: LEAD_STATUS.merge(other, dup, at=T1),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="'L-1'") as info:
            attempt()
        assert (info.value.field, info.value.value) == ("merged_into", "L-1")
        assert "Hint:" in str(info.value)


def test_a_merge_refuses_one_record_and_records_of_another_kind() -> None:
    lead = Lead(id="L-1", created_at=T0)
    with pytest.raises(ValidationError, match="itself") as info:
        LEAD_STATUS.merge(lead, attrs.evolve(lead, company="Acme"), at=T1)
    assert (info.value.field, info.value.value) == ("duplicate", "L-1")
    with pytest.raises(ValidationError, match="Opportunity") as info:
        LEAD_STATUS.merge(lead, _deal(), at=T1)
    assert (info.value.field, info.value.value) == ("duplicate", "O-1")
    with pytest.raises(ValidationError) as info:  # deals are not of the lead lifecycle
        LEAD_STATUS.merge(_deal(), _deal(id="O-2"), at=T1)
    assert (info.value.field, info.value.value) == ("survivor.kind", "opportunity")


def test_a_merge_checks_time_against_both_records_and_returns_nothing_on_refusal() -> None:
    late = Lead(id="L-2", created_at=T0, state="contacted", state_since=T0 + timedelta(days=3))
    with pytest.raises(ValidationError, match=r"duplicate 'L-2'.s last change") as info:
        LEAD_STATUS.merge(Lead(id="L-1", created_at=T0), late, at=T1)  # too early for L-2
    assert (info.value.field, info.value.value) == ("at", T1)
    with pytest.raises(ValidationError, match=r"survivor 'L-2'.s last change") as info:
        LEAD_STATUS.merge(late, Lead(id="L-1", created_at=T0), at=T1)  # too early for L-2
    assert (info.value.field, info.value.value) == ("at", T1)
    with pytest.raises(ValidationError, match="timezone-aware") as info:
        LEAD_STATUS.merge(late, Lead(id="L-1", created_at=T0), at=datetime(2026, 5, 1))
    assert info.value.field == "at"


def test_merging_into_a_record_that_was_merged_points_to_its_survivor() -> None:
    gone = Lead(id="L-2", created_at=T0, merged_into="L-1")
    with pytest.raises(ValidationError, match="merge into 'L-1'") as info:
        LEAD_STATUS.merge(gone, Lead(id="L-3", created_at=T0), at=T1)
    assert info.value.field == "merged_into"


# -- merges: laws over random records ------------------------------------------------------------

#: A pipeline with its own stage names, for records of the opportunity class.
DEALS = Lifecycle.from_dict(
    {
        "name": "deals",
        "kind": "opportunity",
        "states": [
            {"name": "inbox", "type": "open", "probability": 5},
            {"name": "demo", "type": "ongoing", "probability": 40},
            {"name": "signed", "type": "won", "probability": 100},
            {"name": "dropped", "type": "lost", "probability": 0},
        ],
        "transitions": [
            {"trigger": "book", "source": "inbox", "dest": "demo"},
            {"trigger": "sign", "source": "demo", "dest": "signed"},
            {"trigger": "drop", "source": ["inbox", "demo"], "dest": "dropped"},
        ],
    }
)

KINDS: list[tuple[Lifecycle, st.SearchStrategy[Any]]] = [
    (LEAD_STATUS, leads()),
    (OPPORTUNITY_PIPELINE, opportunities()),
    (CUSTOMER_LIFECYCLE, customers()),
    (CASE_STATUS, cases()),
    (DEALS, opportunities(lifecycle=DEALS)),
]

_custom = st.dictionaries(
    st.sampled_from(["tier", "seats", "region"]),
    st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b"])),
    max_size=3,
)


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[Lifecycle, Any, Any]:
    """A lifecycle and two records of it with distinct ids, owners and custom fields drawn."""
    lifecycle, records = draw(st.sampled_from(KINDS))
    survivor = draw(records)
    duplicate = draw(records)
    assume(survivor.id != duplicate.id)
    survivor = attrs.evolve(survivor, owner=draw(st.none() | ids()), custom=draw(_custom))
    duplicate = attrs.evolve(duplicate, owner=draw(st.none() | ids()), custom=draw(_custom))
    return lifecycle, survivor, duplicate


#: What a merge never takes: identity and bookkeeping, and what the steps write.
_KEEPS = {"id", "created_at", "state", "state_since", "version", "merged_into", "custom"}
_STEPS_WRITE = {"probability", "probability_manual", "lost_reason", "last_open_stage"} | {
    "closed_at",
    "highest_state",
    "opportunity_id",
    "first_response_at",
    "resolved_at",
}


@given(_pairs(), st.integers(0, 10_000))
def test_a_merge_never_loses_a_survivors_value_and_replays(
    pair: tuple[Lifecycle, Any, Any], minutes: int
) -> None:
    lifecycle, survivor, duplicate = pair
    at = max(survivor.state_since, duplicate.state_since) + timedelta(minutes=minutes)
    merge = lifecycle.merge(survivor, duplicate, at=at)
    kept, folded = merge.survivor.entity, merge.duplicate.entity
    for field in attrs.fields(type(survivor)):
        before, after, theirs = (getattr(r, field.name) for r in (survivor, kept, duplicate))
        if field.name == "version":
            assert after == before + 1
        elif field.name == "updated_at":
            assert after == at  # the merge is the survivor's last change
        elif field.name == "custom":
            assert dict(after) == {**duplicate.custom, **survivor.custom}  # the survivor wins
        elif before is not None or field.name in _KEEPS | _STEPS_WRITE:
            assert after == before, field.name  # never lost, never overwritten
        else:
            assert after == theirs, field.name  # a gap takes the duplicate's value
    # nothing but gaps changed, and the event says exactly what changed
    changed = {
        f.name
        for f in attrs.fields(type(survivor))
        if getattr(survivor, f.name) != getattr(kept, f.name)
        and f.name not in {"version", "updated_at"}
    }
    assert set(merge.survivor.event.changes) == changed
    assert folded == attrs.evolve(
        duplicate, merged_into=survivor.id, version=duplicate.version + 1, updated_at=at
    )
    assert [e.sequence for e in merge.events] == [kept.version, folded.version]
    # both replay from their own records, through JSON and the frame
    for before, edit in ((survivor, merge.survivor), (duplicate, merge.duplicate)):
        assert lifecycle.replay(before, [edit.event]) == edit.entity
        decoded = event_from_json(event_to_json(edit.event))
        assert lifecycle.replay(before, [decoded]) == edit.entity
        frame = events_to_frame([edit.event])
        assert lifecycle.replay(before, events_from_frame(frame)) == edit.entity


@given(_pairs())
def test_the_merged_duplicate_refuses_every_step(pair: tuple[Lifecycle, Any, Any]) -> None:
    lifecycle, survivor, duplicate = pair
    at = max(survivor.state_since, duplicate.state_since)
    folded = lifecycle.merge(survivor, duplicate, at=at).duplicate.entity
    context = {"lost_reason": "price", "opportunity_id": "O-9"}
    for trigger in lifecycle.triggers(folded):
        with pytest.raises(ValidationError) as info:
            lifecycle.fire(folded, trigger, at=at, **context)
        assert info.value.field == "merged_into"
    with pytest.raises(ValidationError) as info:
        lifecycle.assign(folded, "someone-new", at=at)
    assert info.value.field == "merged_into"


_CONTEXT = {"lost_reason": "price", "opportunity_id": "O-99"}


def _go_on(lifecycle: Lifecycle, record: Any, at: datetime, log: list[Event]) -> Any:
    """Fire the first trigger the record can take at ``at`` (if any); log its event."""
    for trigger in lifecycle.triggers(record):
        if lifecycle.can_fire(record, trigger, at=at, **_CONTEXT):
            step = lifecycle.fire(record, trigger, at=at, **_CONTEXT)
            log.append(step.event)
            return step.entity
    return record


@given(st.sampled_from([lifecycle for lifecycle, _ in KINDS]), st.data())
def test_a_history_with_assignments_and_a_merge_replays_from_its_first_event(
    lifecycle: Lifecycle, data: st.DataObject
) -> None:
    first, log = data.draw(event_sequences(lifecycle, created=True, max_steps=4))
    other_first, other_log = data.draw(event_sequences(lifecycle, created=True, max_steps=3))
    assume(first.id != other_first.id)
    cls = type(first)
    current, other = lifecycle.replay(cls, log), lifecycle.replay(cls, other_log)
    # not before either record's last event (an internal step such as a case's escalation
    # leaves state_since where it was, and a log never goes back in time)
    at = max(current.state_since, other.state_since, *(event.at for event in (*log, *other_log)))
    for owner in data.draw(st.lists(st.sampled_from(["ana", "bo", None]), max_size=4)):
        if owner != current.owner:
            assigned = lifecycle.assign(current, owner, at=at)
            current = assigned.entity
            log.append(assigned.event)
        current = _go_on(lifecycle, current, at, log) if data.draw(st.booleans()) else current
    merge = lifecycle.merge(current, other, at=at)
    log.append(merge.events[0])
    other_log.append(merge.events[1])
    current = _go_on(lifecycle, merge.survivor.entity, at, log)  # the survivor goes on
    for events, record in ((log, current), (other_log, merge.duplicate.entity)):
        assert lifecycle.replay(cls, events) == record
        decoded = [event_from_json(event_to_json(event)) for event in events]
        assert lifecycle.replay(cls, decoded) == record
        assert lifecycle.replay(cls, events_from_frame(events_to_frame(events))) == record
        assert [event.sequence for event in events] == list(range(record.version + 1))
