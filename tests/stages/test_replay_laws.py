"""Replay is exact: conversions, creations and random step sequences rebuild their records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle.errors import DataError, EventLogError, ValidationError
from crmlifecycle.events import (
    Created,
    Event,
    FieldsChanged,
    Transitioned,
    event_from_json,
    event_to_json,
)
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    StepFrameColumns,
    convert_lead,
    events_from_frame,
    events_to_frame,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _qualified() -> tuple[Lead, list[Transitioned], Lead]:
    lead = Lead(id="L-1", created_at=T0, company="Acme", budget=Money("5000.50", "EUR"))
    one = LEAD_STATUS.fire(lead, "contact", at=T0 + timedelta(days=1))
    two = LEAD_STATUS.fire(one.entity, "qualify", at=T0 + timedelta(days=2))
    return lead, [one.event, two.event], two.entity


def test_a_converted_lead_replays_with_its_opportunity() -> None:
    lead, events, qualified = _qualified()
    result = convert_lead(qualified, at=T0 + timedelta(days=3), new_opportunity_id="O-1")
    lead_events = [*events, result.events[0]]
    assert result.lead.opportunity_id == "O-1"
    rebuilt = LEAD_STATUS.replay(lead, lead_events)
    assert rebuilt == result.lead
    assert rebuilt.opportunity_id == "O-1"
    decoded = [event_from_json(event_to_json(e)) for e in lead_events]
    assert LEAD_STATUS.replay(lead, decoded) == result.lead
    # the context of the convert event says which opportunity and how
    assert dict(result.events[0].context) == {"opportunity_id": "O-1", "mode": "created"}


def test_the_new_opportunity_replays_from_its_created_event() -> None:
    _, _, qualified = _qualified()
    at = T0 + timedelta(days=3)
    result = convert_lead(qualified, at=at, new_opportunity_id="O-1", owner="ana")
    created = result.events[1]
    assert isinstance(created, Created)
    assert created.context["from_lead"] == "L-1"
    deal = result.opportunity
    assert deal is not None
    assert OPPORTUNITY_PIPELINE.replay(Opportunity, [created]) == deal
    decoded = event_from_json(event_to_json(created))
    assert decoded == created
    assert decoded.data["amount"] == Money(Decimal("5000.50"), "EUR")
    assert OPPORTUNITY_PIPELINE.replay(Opportunity, [decoded]) == deal
    # and the deal goes on from there
    step = OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=at + timedelta(days=1))
    assert OPPORTUNITY_PIPELINE.replay(Opportunity, [created, step.event]) == step.entity


def test_joining_an_existing_opportunity_replays_too() -> None:
    lead, events, qualified = _qualified()
    result = convert_lead(qualified, at=T0 + timedelta(days=3), existing_opportunity_id="O-7")
    assert result.opportunity is None
    assert LEAD_STATUS.replay(lead, [*events, *result.events]) == result.lead
    assert result.lead.opportunity_id == "O-7"


def test_convert_without_an_opportunity_is_refused() -> None:
    _, _, qualified = _qualified()
    with pytest.raises(ValidationError, match="convert_lead") as info:
        LEAD_STATUS.fire(qualified, "convert", at=T0 + timedelta(days=3))
    assert info.value.field == "opportunity_id"
    with pytest.raises(ValidationError, match="opportunity_id"):
        LEAD_STATUS.fire(qualified, "convert", at=T0 + timedelta(days=3), opportunity_id=" ")
    assert not LEAD_STATUS.can_fire(qualified, "convert")
    assert LEAD_STATUS.can_fire(qualified, "convert", opportunity_id="O-2")
    step = LEAD_STATUS.fire(qualified, "convert", at=T0 + timedelta(days=3), opportunity_id="O-2")
    assert (step.entity.state, step.entity.opportunity_id) == ("converted", "O-2")


def test_a_replayed_convert_event_without_an_opportunity_is_refused() -> None:
    lead, events, _ = _qualified()
    bare = Transitioned(
        kind="lead",
        entity_id="L-1",
        trigger="convert",
        source="qualified",
        dest="converted",
        at=T0 + timedelta(days=3),
    )
    with pytest.raises(EventLogError, match="opportunity_id") as info:
        LEAD_STATUS.replay(lead, [*events, bare])
    assert isinstance(info.value.__cause__, ValidationError)


def test_state_at_reads_the_events_convert_lead_returns() -> None:
    _, _, qualified = _qualified()
    at = T0 + timedelta(days=3)
    result = convert_lead(qualified, at=at, new_opportunity_id="O-1")
    assert LEAD_STATUS.state_at(result.events, as_of=at) == "converted"
    assert LEAD_STATUS.state_at(result.events, as_of=at - timedelta(hours=1)) is None
    assert OPPORTUNITY_PIPELINE.state_at(result.events[1:], as_of=at) == "prospecting"
    assert OPPORTUNITY_PIPELINE.state_at(result.events[1:], as_of=at - timedelta(hours=1)) is None


def test_replay_from_a_class_needs_a_created_event_with_the_record() -> None:
    lead, events, _ = _qualified()
    with pytest.raises(ValidationError, match="Created") as info:
        LEAD_STATUS.replay(Lead, events)
    assert info.value.field == "events[0]"
    with pytest.raises(ValidationError, match="Created"):
        LEAD_STATUS.replay(Lead, [Created(kind="lead", entity_id="L-1", at=T0), *events])
    with pytest.raises(ValidationError, match="Created"):
        LEAD_STATUS.replay(Lead, [])
    assert LEAD_STATUS.replay(Lead, [Created.of(lead), *events]) == LEAD_STATUS.replay(lead, events)


def test_created_data_holds_every_field_and_refuses_what_events_cannot_store() -> None:
    lead = Lead(id="L-1", created_at=T0, score=12.5, company_size=40)
    event = Created.of(lead, source="import")
    assert set(event.data) == {"id", "created_at", "state", "state_since", *_lead_fields()}
    assert event.data["score"] == 12.5
    assert event.context["source"] == "import"
    with pytest.raises(ValidationError, match="data") as info:
        Created(kind="lead", entity_id="L-1", at=T0, data={"x": object()})
    assert info.value.field == "data.x"


def _lead_fields() -> set[str]:
    import attrs

    return {f.name for f in attrs.fields(Lead)} - {"id", "created_at", "state", "state_since"}


def test_fire_frame_links_converted_leads_like_fire() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L-1", "L-2", "L-3"],
            "state": ["qualified", "qualified", "open"],
            "opportunity_id": ["O-1", None, None],
        }
    )
    step = LEAD_STATUS.fire_frame(leads, "convert", at="2026-03-01")
    # the opportunity is not step context: no row can convert
    assert step.accepted.tolist() == [False, False, False]
    assert step.reason.tolist()[:2] == ["entering a won stage needs an opportunity_id"] * 2
    step = LEAD_STATUS.fire_frame(
        leads,
        "convert",
        at="2026-03-01",
        entities_columns=StepFrameColumns(context="opportunity_id"),
    )
    assert step.accepted.tolist() == [True, False, False]
    assert step.reason.tolist()[1] == "entering a won stage needs an opportunity_id"
    # the link is the frame's own column, named as step context: it stays as it was
    pd.testing.assert_series_equal(step.frame["opportunity_id"], leads["opportunity_id"])
    assert step.events["context"].tolist() == [{"opportunity_id": "O-1"}]
    # the bulk step's event replays to the same lead as a single step
    row = step.events.iloc[0]
    event = Transitioned(
        kind=row["kind"],
        entity_id=row["entity_id"],
        trigger=row["trigger"],
        source=row["source"],
        dest=row["dest"],
        at=row["at"].to_pydatetime(),
        context=row["context"],
    )
    lead = Lead(id="L-1", created_at=T0, state="qualified")
    assert LEAD_STATUS.replay(lead, [event]).opportunity_id == "O-1"


# -- the law: replaying from the first event rebuilds the record ---------------------------------

_CONTEXT: dict[str, Any] = {"lost_reason": "price"}


_EDITS: dict[type, tuple[str, list[Any]]] = {
    Lead: ("score", [None, 0.5, 77.25, -3.0]),
    Opportunity: ("probability", [0, 35, 90]),
    Customer: ("name", ["Ada", "Grace", None]),
    Case: ("priority", ["low", "normal", "high", "urgent"]),
}


def _edit(lifecycle: Lifecycle, entity: Any, choice: int, at: datetime) -> Any:
    """A manual edit the entity accepts (None: none possible here)."""
    field, values = _EDITS[type(entity)]
    if field == "probability" and lifecycle.stage(entity.state).closed:
        return None
    return lifecycle.edit(entity, at=at, **{field: values[choice % len(values)]})


def _walk(
    lifecycle: Lifecycle, entity: Any, choices: list[int], gaps: list[int]
) -> tuple[Any, list[Event]]:
    """Fire the allowed triggers (or edit) as ``choices`` say; return the record and its events."""
    events: list[Event] = [Created.of(entity)]
    at = entity.state_since
    for n, (choice, gap) in enumerate(zip(choices, gaps, strict=False)):
        at = at + timedelta(minutes=gap)
        if choice % 4 == 0:  # a manual edit
            edit = _edit(lifecycle, entity, choice // 4, at)
            if edit is not None:
                entity = edit.entity
                events.append(edit.event)
                continue
        allowed = [
            t
            for t in lifecycle.triggers(entity)
            if lifecycle.can_fire(entity, t, at=at, opportunity_id=f"O-{n}", **_CONTEXT)
        ]
        if not allowed:
            break
        trigger = allowed[choice % len(allowed)]
        if lifecycle is LEAD_STATUS and trigger == "convert":
            result = convert_lead(entity, at=at, new_opportunity_id=f"O-{n}")
            entity = result.lead
            events.append(result.events[0])
            continue
        step = lifecycle.fire(entity, trigger, at=at, opportunity_id=f"O-{n}", **_CONTEXT)
        entity = step.entity
        events.append(step.event)
    return entity, events


#: Custom specs with their own stage names: the laws hold for them too.
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
            {"trigger": "sign", "source": "demo", "dest": "signed", "when": "probability >= 5"},
            {"trigger": "drop", "source": ["inbox", "demo"], "dest": "dropped"},
            {"trigger": "revive", "source": "dropped", "to_last_open": True},
        ],
    }
)
PROSPECTS = Lifecycle.from_dict(
    {
        "name": "prospects",
        "kind": "lead",
        "states": [
            {"name": "fresh", "type": "open"},
            {"name": "working", "type": "ongoing"},
            {"name": "became_deal", "type": "won"},
            {"name": "parked", "type": "on_hold"},
        ],
        "transitions": [
            {"trigger": "work", "source": "fresh", "dest": "working"},
            {"trigger": "park", "source": "working", "dest": "parked"},
            {"trigger": "unpark", "source": "parked", "dest": "working"},
            {"trigger": "promote", "source": "working", "dest": "became_deal"},
        ],
    }
)

STARTS: list[tuple[Lifecycle, Any]] = [
    (
        DEALS,
        Opportunity(
            id="O-5", name="X", amount=Money(1, "EUR"), created_at=T0, state="inbox", probability=5
        ),
    ),
    (PROSPECTS, Lead(id="L-5", created_at=T0, state="fresh")),
    (LEAD_STATUS, Lead(id="L-1", created_at=T0, budget=Money("12.30", "USD"), score=0.1)),
    (
        OPPORTUNITY_PIPELINE,
        Opportunity(id="O-1", name="Acme", amount=Money("9000.01", "EUR"), created_at=T0),
    ),
    (CUSTOMER_LIFECYCLE, Customer(id="K-1", created_at=T0)),
    (CASE_STATUS, Case(id="S-1", customer_id="K-1", subject="x", created_at=T0, priority="low")),
]


def test_custom_specs_link_their_won_stage_like_the_standard_one() -> None:
    lead = Lead(id="L-5", created_at=T0, state="working")
    with pytest.raises(ValidationError, match="opportunity_id"):
        PROSPECTS.fire(lead, "promote", at=T0)
    step = PROSPECTS.fire(lead, "promote", at=T0, opportunity_id="O-5")
    assert (step.entity.state, step.entity.opportunity_id) == ("became_deal", "O-5")
    assert PROSPECTS.replay(lead, [step.event]) == step.entity


@given(
    st.sampled_from(range(len(STARTS))),
    st.lists(st.integers(0, 20), max_size=25),
    st.lists(st.integers(0, 60 * 24 * 30), min_size=25, max_size=25),
)
def test_replaying_from_the_first_event_rebuilds_the_record(
    index: int, choices: list[int], gaps: list[int]
) -> None:
    lifecycle, start = STARTS[index]
    current, events = _walk(lifecycle, start, choices, gaps)
    cls = type(start)
    assert lifecycle.replay(cls, events) == current
    decoded = [event_from_json(event_to_json(e)) for e in events]
    assert decoded == events
    assert lifecycle.replay(cls, decoded) == current
    assert lifecycle.state_at(events, as_of=current.state_since) == current.state
    # through the event-log frame, and its snapshot
    frame = events_to_frame(events)
    assert events_from_frame(frame) == events
    assert lifecycle.replay(cls, events_from_frame(frame)) == current
    states = lifecycle.replay_frame(frame)
    assert states.loc[current.id, "state"] == current.state
    assert states.loc[current.id, "state_since"] == current.state_since
    # the as-of snapshots agree with state_at at every moment the log names
    for moment in sorted({e.at for e in events}):
        snapshot = lifecycle.replay_frame(frame, as_of=moment)
        assert snapshot.loc[current.id, "state"] == lifecycle.state_at(events, as_of=moment)


# -- the event-log frame -------------------------------------------------------------------------


def _mixed_log() -> list[Event]:
    lead, events, qualified = _qualified()
    edit = FieldsChanged(
        kind="lead",
        entity_id="L-1",
        at=T0 + timedelta(days=2, hours=1),
        changes={"score": [None, 42.5], "budget": [None, Money("7.10", "EUR")]},
    )
    result = convert_lead(qualified, at=T0 + timedelta(days=3), new_opportunity_id="O-1")
    return [Created.of(lead), *events, edit, result.events[0]]


def test_events_to_frame_and_back_is_lossless() -> None:
    events = _mixed_log()
    frame = events_to_frame(events)
    assert list(frame.columns) == [
        "event",
        "kind",
        "entity_id",
        "trigger",
        "source",
        "dest",
        "at",
        "context",
        "data",
        "changes",
        "event_id",
        "sequence",
        "actor",
        "lifecycle",
        "lifecycle_version",
        "schema_version",
    ]
    assert frame["event"].tolist() == [
        "created",
        "transitioned",
        "transitioned",
        "fields_changed",
        "transitioned",
    ]
    assert str(frame["at"].dtype) == "datetime64[ns, UTC]"
    assert events_from_frame(frame) == events
    # the mappings may also be stored as their JSON text (as a CSV or Parquet file would)
    as_text = frame.copy()
    for name in ("context", "data", "changes"):
        as_text[name] = [
            None if v is None else json.dumps(_encoded(name, e))
            for v, e in zip(frame[name], events, strict=True)
        ]
    assert events_from_frame(as_text) == events


def _encoded(name: str, event: Event) -> Any:
    return event.to_dict()[name]


def test_events_to_frame_renames_and_reads_plain_transition_logs() -> None:
    events = _mixed_log()
    cols = EventLogColumns(entity_id="lead_id", at="changed_at")
    frame = events_to_frame(events, events_columns=cols)
    assert {"lead_id", "changed_at"} <= set(frame.columns)
    assert events_from_frame(frame, events_columns=cols) == events
    plain = frame[frame["event"] == "transitioned"].drop(columns=["event", "data", "changes"])
    assert events_from_frame(plain, events_columns=cols) == [
        e for e in events if isinstance(e, Transitioned)
    ]
    assert events_to_frame([]).empty


def test_events_from_frame_names_the_bad_row() -> None:
    frame = events_to_frame(_mixed_log())
    frame.loc[2, "event"] = "renamed"
    with pytest.raises(DataError, match="row 2"):
        events_from_frame(frame)
    frame = events_to_frame(_mixed_log())
    frame.loc[1, "context"] = "{not json"
    with pytest.raises(DataError, match="'context' of row 1"):
        events_from_frame(frame)


def test_replay_frame_reads_the_librarys_own_event_log() -> None:
    events = _mixed_log()
    frame = events_to_frame(events)
    # was: "column 'dest' holds values that are not states ... nan" on the FieldsChanged row
    states = LEAD_STATUS.replay_frame(frame)
    assert states["state"].tolist() == ["converted"]
    assert states.loc["L-1", "state_since"] == T0 + timedelta(days=3)
    assert states.loc["L-1", "events"] == 4  # the creation and three steps, not the edit
    snapshot = LEAD_STATUS.replay_frame(frame, as_of=T0 + timedelta(days=2, hours=12))
    assert snapshot["state"].tolist() == ["qualified"]
    born = LEAD_STATUS.replay_frame(frame, as_of=T0)
    assert born["state"].tolist() == ["open"]
    assert born.loc["L-1", "state_since"] == T0


def test_replay_frame_keeps_state_since_across_internal_steps() -> None:
    case = Case(id="S-1", customer_id="K-1", subject="x", created_at=T0, priority="low")
    start = CASE_STATUS.fire(case, "start", at=T0 + timedelta(hours=1))
    up = CASE_STATUS.fire(start.entity, "escalate", at=T0 + timedelta(hours=5))
    frame = events_to_frame([Created.of(case), start.event, up.event])
    states = CASE_STATUS.replay_frame(frame)
    assert states.loc["S-1", "state"] == "in_progress"
    assert states.loc["S-1", "state_since"] == up.entity.state_since == T0 + timedelta(hours=1)


# -- manual edits --------------------------------------------------------------------------------


def _deal(**fields: Any) -> Opportunity:
    return Opportunity(id="O-1", name="Acme", amount=Money(9000, "EUR"), created_at=T0, **fields)


def test_an_edit_returns_the_validated_entity_and_its_event() -> None:
    deal = _deal()
    at = T0 + timedelta(hours=1)
    edit = OPPORTUNITY_PIPELINE.edit(deal, at=at, amount=Money(12, "EUR"), account_id="A-1")
    assert (edit.entity.amount, edit.entity.account_id) == (Money(12, "EUR"), "A-1")
    assert deal.amount == Money(9000, "EUR")  # the old record is unchanged
    assert edit.event == FieldsChanged(
        kind="opportunity",
        entity_id="O-1",
        at=at,
        changes={"amount": [Money(9000, "EUR"), Money(12, "EUR")], "account_id": [None, "A-1"]},
        event_id="opportunity/O-1/1",
        sequence=1,
        lifecycle=OPPORTUNITY_PIPELINE.name,
        lifecycle_version=OPPORTUNITY_PIPELINE.version,
    )
    assert edit.entity.version == 1
    assert OPPORTUNITY_PIPELINE.replay(deal, [edit.event]) == edit.entity
    assert OPPORTUNITY_PIPELINE.replay(deal, [event_from_json(event_to_json(edit.event))]) == (
        edit.entity
    )
    # an unchanged value is left out of the event
    same = OPPORTUNITY_PIPELINE.edit(deal, at=at, name="Acme", account_id="A-2")
    assert dict(same.event.changes) == {"account_id": [None, "A-2"]}


def test_an_edited_probability_is_a_manual_override_that_steps_keep() -> None:
    deal = _deal()
    edit = OPPORTUNITY_PIPELINE.edit(deal, at=T0, probability=35)
    assert dict(edit.event.changes) == {
        "probability": [10, 35],
        "probability_manual": [False, True],
    }
    qualified = OPPORTUNITY_PIPELINE.fire(edit.entity, "qualify", at=T0 + timedelta(days=1))
    assert qualified.entity.probability == 35  # not the stage's 20
    won = OPPORTUNITY_PIPELINE.fire(qualified.entity, "win", at=T0 + timedelta(days=2)).entity
    assert (won.probability, won.probability_manual) == (100, False)
    with pytest.raises(ValidationError, match="closed") as info:
        OPPORTUNITY_PIPELINE.edit(won, at=T0 + timedelta(days=3), probability=50)
    assert info.value.field == "probability"
    log: list[Event] = [Created.of(deal), edit.event, qualified.event]
    assert OPPORTUNITY_PIPELINE.replay(Opportunity, log) == qualified.entity


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"state": "won"}, "state"),
        ({"state_since": T0}, "state_since"),
        ({"id": "O-2"}, "id"),
        ({"lost_reason": "price"}, "lost_reason"),
        ({"closed_at": T0}, "closed_at"),
        ({"probability_manual": True}, "probability_manual"),
        ({"highest_state": "won"}, "highest_state"),
    ],
)
def test_an_edit_refuses_unknown_and_lifecycle_owned_fields(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        OPPORTUNITY_PIPELINE.edit(_deal(), at=T0, **changes)
    assert info.value.field == field
    assert "Hint:" in str(info.value)


def test_an_edit_is_validated_like_construction_and_in_time_order() -> None:
    deal = _deal(state="proposal", state_since=T0 + timedelta(days=5), probability=50)
    with pytest.raises(ValidationError):
        OPPORTUNITY_PIPELINE.edit(deal, at=T0 + timedelta(days=6), probability=101)
    with pytest.raises(ValidationError, match="state_since") as info:
        OPPORTUNITY_PIPELINE.edit(deal, at=T0, owner="ana")
    assert info.value.field == "at"
    with pytest.raises(ValidationError, match="timezone-aware"):
        OPPORTUNITY_PIPELINE.edit(deal, at=datetime(2026, 2, 1), owner="ana")
    with pytest.raises(ValidationError, match="lifecycle's steps"):
        LEAD_STATUS.edit(Lead(id="L-1", created_at=T0), at=T0, opportunity_id="O-1")


def test_step_context_does_not_set_lifecycle_owned_fields() -> None:
    deal = _deal()
    with pytest.raises(ValidationError, match="edit") as info:
        OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=T0, probability=90)
    assert info.value.field == "probability"
    with pytest.raises(ValidationError) as info:
        OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=T0, state="won")
    assert info.value.field == "state"
    # the documented way: edit, then step; the edit is its own event
    edit = OPPORTUNITY_PIPELINE.edit(deal, at=T0, probability=90)
    assert OPPORTUNITY_PIPELINE.fire(edit.entity, "qualify", at=T0).entity.probability == 90
    # context that names no lifecycle-owned field stays context
    step = LEAD_STATUS.fire(Lead(id="L-1", created_at=T0), "contact", at=T0, channel="phone")
    assert step.event.context == {"channel": "phone"}
