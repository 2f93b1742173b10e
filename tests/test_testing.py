"""The strategies of ``crmlifecycle.testing`` draw valid records and replayable walks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Opportunity
from crmlifecycle.errors import CrmError, ValidationError
from crmlifecycle.events import Created, Transitioned
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STANDARD_SPECS,
    Lifecycle,
)
from crmlifecycle.testing import cases, customers, event_sequences, leads, opportunities

Strategy = Callable[..., st.SearchStrategy[Any]]


def renamed(spec: dict[str, Any]) -> Lifecycle:
    """The same lifecycle with every state renamed (same kind, stage types and hooks)."""

    def name(state: str) -> str:
        return f"{state}_x"

    out = copy.deepcopy(spec)
    out["name"] = f"{spec['name']}_renamed"
    out["kind"] = spec["name"]
    out["initial"] = name(spec["initial"])
    for state in out["states"]:
        state["name"] = name(state["name"])
    for transition in out["transitions"]:
        source = transition["source"]
        transition["source"] = name(source) if isinstance(source, str) else list(map(name, source))
        if "dest" in transition:
            transition["dest"] = name(transition["dest"])
    return Lifecycle.from_dict(out)


STANDARD: dict[str, tuple[Lifecycle, Strategy]] = {
    "lead": (LEAD_STATUS, leads),
    "opportunity": (OPPORTUNITY_PIPELINE, opportunities),
    "customer": (CUSTOMER_LIFECYCLE, customers),
    "case": (CASE_STATUS, cases),
}
RENAMED: dict[str, Lifecycle] = {kind: renamed(STANDARD_SPECS[kind]) for kind in STANDARD}
KINDS = sorted(STANDARD)


def steps(events: list[Any]) -> list[Transitioned]:
    """The events as steps (a walk without its Created event holds nothing else)."""
    out = [e for e in events if isinstance(e, Transitioned)]
    assert len(out) == len(events)
    return out


def check_invariants(lifecycle: Lifecycle, entity: Any) -> None:
    """What the lifecycle's stage effects keep true of a record, written out by hand."""
    stage = lifecycle.stage(entity.state)
    assert entity.created_at <= entity.state_since
    if isinstance(entity, Opportunity):
        open_states = {s.name for s in lifecycle.stages if not s.closed}
        if stage.type == "won":
            assert entity.probability == 100
            assert not entity.probability_manual
            assert entity.closed_at is not None
        elif stage.type == "lost":
            assert entity.probability == 0
            assert not entity.probability_manual
            assert entity.lost_reason
            assert entity.last_open_stage in open_states
            assert entity.closed_at is not None
        else:
            assert entity.closed_at is None
            assert entity.lost_reason is None
            if not entity.probability_manual:
                assert entity.probability == stage.probability
    if isinstance(entity, Customer):
        mark = lifecycle.stage(entity.highest_state)
        assert mark.type != "lost"
        if stage.type != "lost":
            assert mark.order >= stage.order
    if isinstance(entity, Case):
        if entity.state == lifecycle.initial:
            assert entity.first_response_at is None
        else:
            assert entity.first_response_at is not None
            assert entity.created_at <= entity.first_response_at <= entity.state_since
        if stage.closed:
            assert entity.resolved_at is not None
            assert entity.resolved_at <= entity.state_since
        else:
            assert entity.resolved_at is None


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_default_records_are_valid_records_of_the_standard_lifecycle(
    kind: str, data: st.DataObject
) -> None:
    lifecycle, strategy = STANDARD[kind]
    entity = data.draw(strategy())
    assert entity.state in lifecycle.states
    check_invariants(lifecycle, entity)
    if isinstance(entity, Lead):
        assert (entity.opportunity_id is not None) == lifecycle.stage(entity.state).won


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_records_of_a_custom_lifecycle_are_valid(kind: str, data: st.DataObject) -> None:
    lifecycle = RENAMED[kind]
    entity = data.draw(STANDARD[kind][1](lifecycle=lifecycle))
    assert entity.state in lifecycle.states
    check_invariants(lifecycle, entity)


def in_state(state: str) -> Callable[[Any], bool]:
    def test(entity: Any) -> bool:
        return bool(entity.state == state)

    return test


#: ``find`` without its shrink phase and with a fixed seed: the first record found in the
#: state is enough, and the same one every run. With its defaults ``find`` shrank every
#: match to a minimal record (hundreds of draws each, 60-140 s a kind) and was seeded at
#: random; the strategies themselves draw a state directly (no filtering), so a few dozen
#: draws find each state.
FIND_FIRST = settings(phases=[Phase.generate], derandomize=True, database=None, max_examples=1000)


@pytest.mark.parametrize("kind", KINDS)
def test_every_state_of_the_lifecycle_is_drawn(kind: str) -> None:
    lifecycle, strategy = STANDARD[kind]
    for state in lifecycle.states:
        found = find(strategy(), in_state(state), settings=FIND_FIRST)
        check_invariants(lifecycle, found)


@given(opportunities())
def test_opportunities_no_longer_draw_other_lifecycles_states(deal: Opportunity) -> None:
    assert deal.state in OPPORTUNITY_PIPELINE.states  # was e.g. 'reach' or 'new'
    check_invariants(OPPORTUNITY_PIPELINE, deal)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_a_step_from_a_drawn_record_keeps_the_invariants(kind: str, data: st.DataObject) -> None:
    lifecycle, strategy = STANDARD[kind]
    entity = data.draw(strategy())
    triggers = lifecycle.triggers(entity)
    if not triggers:
        return
    trigger = data.draw(st.sampled_from(triggers))
    try:
        step = lifecycle.fire(entity, trigger, at=entity.state_since, lost_reason="price")
    except CrmError:
        return  # a refused step is fine; what is accepted must stay valid
    check_invariants(lifecycle, step.entity)


@pytest.mark.parametrize("custom", [False, True], ids=["standard", "renamed"])
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_replay_of_drawn_sequences_never_raises(
    kind: str, custom: bool, data: st.DataObject
) -> None:
    lifecycle = RENAMED[kind] if custom else STANDARD[kind][0]
    initial, drawn = data.draw(event_sequences(lifecycle))
    events = steps(drawn)
    assert initial.state == lifecycle.initial
    rebuilt = lifecycle.replay(initial, events)
    check_invariants(lifecycle, rebuilt)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.entity_id == initial.id and e.kind == lifecycle.kind for e in events)
    state = initial.state
    for event in events:
        assert event.source == state
        state = event.dest
    assert rebuilt.state == state


@given(data=st.data())
def test_no_steps_means_no_events(data: st.DataObject) -> None:
    _, events = data.draw(event_sequences(OPPORTUNITY_PIPELINE, max_steps=0))
    assert events == []


def test_sequences_reach_lost_and_reopen() -> None:
    walk = find(
        event_sequences(OPPORTUNITY_PIPELINE),
        lambda pair: [e.trigger for e in steps(pair[1])][-2:] == ["lose", "reopen"],
    )
    deal = OPPORTUNITY_PIPELINE.replay(*walk)
    lose = steps(walk[1])[-2]
    assert deal.state == lose.source  # back to the stage it left
    assert lose.context["lost_reason"]


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_sequences_with_their_created_event_replay_from_the_log_alone(
    kind: str, data: st.DataObject
) -> None:
    lifecycle = STANDARD[kind][0]
    initial, events = data.draw(event_sequences(lifecycle, created=True))
    assert isinstance(events[0], Created)
    assert events[0].entity_id == initial.id
    assert lifecycle.replay(type(initial), events) == lifecycle.replay(initial, events[1:])


def test_lead_sequences_convert_with_the_opportunity_they_link() -> None:
    lead, events = find(
        event_sequences(LEAD_STATUS),
        lambda pair: any(e.trigger == "convert" for e in steps(pair[1])),
    )
    converted = LEAD_STATUS.replay(lead, events)
    convert = next(e for e in steps(events) if e.trigger == "convert")
    assert converted.opportunity_id == convert.context["opportunity_id"]


def test_a_lifecycle_of_another_kind_needs_initial_records() -> None:
    doors = Lifecycle.from_dict(
        {
            "name": "door",
            "states": ["shut", "ajar"],
            "transitions": [{"trigger": "push", "source": "shut", "dest": "ajar"}],
        }
    )
    with pytest.raises(ValidationError, match=r"lifecycle\.kind.*'door'.*Hint: pass initial="):
        find(event_sequences(doors), lambda _: True)
    tickets = renamed(STANDARD_SPECS["case"])
    initial, events = find(
        event_sequences(tickets, initial=cases(lifecycle=tickets, states=st.just("new_x"))),
        lambda pair: len(pair[1]) >= 2,
    )
    assert tickets.replay(initial, events).state == steps(events)[-1].dest


def test_states_outside_the_lifecycle_are_refused() -> None:
    with pytest.raises(ValidationError, match="'reach'"):
        find(opportunities(states=st.just("reach")), lambda _: True)
