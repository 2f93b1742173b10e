"""Replay checks the log before applying it, and trusts older lifecycle versions when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmlifecycle import Lead, Money, Opportunity
from crmlifecycle.errors import (
    DataError,
    EventLogError,
    LifecycleVersionError,
    ValidationError,
)
from crmlifecycle.events import (
    Created,
    Event,
    FieldsChanged,
    Transitioned,
    event_from_json,
    event_to_json,
)
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    events_from_frame,
    events_to_frame,
)
from crmlifecycle.testing import event_sequences, lifecycle_specs, lifecycles

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _lead_log() -> tuple[Lead, list[Event], Lead]:
    """A lead's log: created, contacted, edited, qualified (sequences 0 to 3)."""
    lead = Lead(id="L-1", created_at=T0)
    one = LEAD_STATUS.fire(lead, "contact", at=day(1))
    two = LEAD_STATUS.edit(one.entity, at=day(2), company="Acme")
    three = LEAD_STATUS.fire(two.entity, "qualify", at=day(3))
    return lead, [Created.of(lead), one.event, two.event, three.event], three.entity


def test_a_valid_log_replays_and_counts_its_events() -> None:
    lead, log, current = _lead_log()
    assert [e.sequence for e in log] == [0, 1, 2, 3]
    assert LEAD_STATUS.replay(Lead, log) == current
    assert LEAD_STATUS.replay(lead, log[1:]) == current
    assert current.version == 3


def _refusal(log: list[Event], start: Any = Lead) -> EventLogError:
    with pytest.raises(EventLogError) as info:
        LEAD_STATUS.replay(start, log)
    assert "Hint:" in str(info.value)
    assert info.value.entity_id == "L-1"
    return info.value


def test_an_event_of_another_entity_is_refused() -> None:
    _, log, _ = _lead_log()
    log[2] = attrs.evolve(log[2], entity_id="L-2")
    err = _refusal(log)
    assert (err.index, err.event_id) == (2, "lead/L-1/2")
    assert "'L-2'" in str(err)


def test_an_event_of_another_kind_is_refused() -> None:
    _, log, _ = _lead_log()
    log[1] = attrs.evolve(log[1], kind="opportunity")
    err = _refusal(log)
    assert err.index == 1
    assert "kind 'opportunity'" in str(err)


def test_an_event_of_another_lifecycle_is_refused_even_when_trusted() -> None:
    _, log, _ = _lead_log()
    log[3] = attrs.evolve(log[3], lifecycle="prospects")
    err = _refusal(log)
    assert (err.index, err.event_id) == (3, "lead/L-1/3")
    assert "'prospects'" in str(err)
    with pytest.raises(EventLogError, match="prospects"):
        LEAD_STATUS.replay(Lead, log, trust=True)


def test_a_repeated_event_id_is_refused() -> None:
    _, log, _ = _lead_log()
    log[3] = attrs.evolve(log[3], event_id="lead/L-1/1")
    err = _refusal(log)
    assert (err.index, err.event_id) == (3, "lead/L-1/1")
    assert "event 1" in str(err)


@pytest.mark.parametrize(("sequence", "word"), [(5, "skips"), (2, "repeats"), (1, "repeats")])
def test_a_sequence_gap_or_repeat_is_refused(sequence: int, word: int) -> None:
    _, log, _ = _lead_log()
    log[3] = attrs.evolve(log[3], sequence=sequence, event_id=None)
    err = _refusal(log)
    assert err.index == 3
    assert f"has sequence {sequence} where 3 comes next (it {word}" in str(err)


def test_the_first_sequence_follows_the_initial_record() -> None:
    lead, log, _ = _lead_log()
    err = _refusal(log[2:], start=lead)  # lead.version == 0: event 1 is missing
    assert (err.index, err.event_id) == (0, "lead/L-1/2")
    # from the record after event 1, the rest of the log replays
    after_one = LEAD_STATUS.replay(lead, log[1:2])
    assert after_one.version == 1
    assert LEAD_STATUS.replay(after_one, log[2:]) == LEAD_STATUS.replay(Lead, log)
    # a Created event must hold the initial record's version
    moved = attrs.evolve(after_one, state="open", state_since=T0)
    err = _refusal(log, start=moved)
    assert err.index == 0
    assert "initial record's version is 1" in str(err)


def test_time_going_backwards_is_refused() -> None:
    _, log, _ = _lead_log()
    log[2] = attrs.evolve(log[2], at=day(1) - timedelta(seconds=1))
    err = _refusal(log)
    assert (err.index, err.event_id) == (2, "lead/L-1/2")
    assert "before the event it follows" in str(err)


def test_a_second_created_event_is_refused() -> None:
    _, log, _ = _lead_log()
    err = _refusal([*log, attrs.evolve(log[0], sequence=None, event_id=None, at=day(4))])
    assert err.index == 4
    assert "second Created" in str(err)


def test_version_one_events_count_one_each() -> None:
    lead, log, current = _lead_log()
    old = [attrs.evolve(e, sequence=None, event_id=None, schema_version=1) for e in log[1:]]
    rebuilt = LEAD_STATUS.replay(lead, old)
    assert rebuilt == current
    assert rebuilt.version == 3


def test_nothing_is_half_applied() -> None:
    lead, log, _ = _lead_log()
    # the bad event is the last one: the error still comes instead of a partial record
    bad = [*log, attrs.evolve(log[3], sequence=4, event_id="lead/L-1/4", at=day(2))]
    _refusal(bad)
    assert lead == Lead(id="L-1", created_at=T0)


def test_a_step_that_lands_elsewhere_is_refused_without_trust() -> None:
    _, log, _ = _lead_log()
    step = log[1]
    assert isinstance(step, Transitioned)
    log[1] = attrs.evolve(step, dest="qualified")
    err = _refusal(log)
    assert err.index == 1
    assert "open->qualified" in str(err)
    assert isinstance(err.__cause__, ValidationError)


def test_a_step_from_another_state_is_refused() -> None:
    _, log, _ = _lead_log()
    step = log[3]
    assert isinstance(step, Transitioned)
    log[3] = attrs.evolve(step, source="open")
    err = _refusal(log)
    assert "'contacted'" in str(err)
    with pytest.raises(EventLogError, match="'contacted'"):
        LEAD_STATUS.replay(Lead, log, trust=True)


# -- FieldsChanged ---------------------------------------------------------------------------


def test_fields_changed_keys_that_are_not_fields_are_custom_fields() -> None:
    lead = Lead(id="L-1", created_at=T0, custom={"tier": "silver", "seats": 3})
    edit = FieldsChanged(
        kind="lead",
        entity_id="L-1",
        at=day(1),
        changes={"tier": ["silver", "gold"], "seats": [3, None], "company": [None, "Acme"]},
        sequence=1,
    )
    rebuilt = LEAD_STATUS.replay(lead, [edit])
    assert dict(rebuilt.custom) == {"tier": "gold"}
    assert (rebuilt.company, rebuilt.version) == ("Acme", 1)
    assert LEAD_STATUS.replay(lead, [event_from_json(event_to_json(edit))]) == rebuilt


@attrs.frozen(kw_only=True)
class Plain:
    """A record with no custom fields and no version."""

    id: str
    state: str = "open"
    state_since: datetime = T0
    company: str | None = None


def test_fields_changed_on_a_record_without_custom_fields_names_the_key() -> None:
    edit = FieldsChanged(kind="lead", entity_id="L-1", at=day(1), changes={"tier": [None, "x"]})
    with pytest.raises(EventLogError, match=r"changes\.tier") as info:
        LEAD_STATUS.replay(Plain(id="L-1"), [edit])
    assert info.value.index == 0
    fine = FieldsChanged(kind="lead", entity_id="L-1", at=day(1), changes={"company": [None, "A"]})
    assert LEAD_STATUS.replay(Plain(id="L-1"), [fine]) == Plain(id="L-1", company="A")


# -- trusting history recorded under another version ----------------------------------------


def _deals(sign: dict[str, Any] | None, *, drop_state: bool = False) -> Lifecycle:
    states: list[dict[str, Any]] = [
        {"name": "inbox", "type": "open", "probability": 5},
        {"name": "demo", "type": "ongoing", "probability": 40},
        {"name": "signed", "type": "won"},
        {"name": "dropped", "type": "lost"},
    ]
    transitions: list[dict[str, Any]] = [
        {"trigger": "book", "source": "inbox", "dest": "demo"},
        {"trigger": "drop", "source": ["inbox", "demo"], "dest": "dropped"},
    ]
    if sign is not None:
        transitions.append({"trigger": "sign", "source": "demo", "dest": "signed", **sign})
    if drop_state:
        states = [s for s in states if s["name"] != "signed"]
    return Lifecycle.from_dict(
        {"name": "deals", "kind": "opportunity", "states": states, "transitions": transitions}
    )


OLD = _deals({"when": "probability >= 30"})
TIGHTER = _deals({"when": "probability >= 50"})
WITHOUT_SIGN = _deals(None)
WITHOUT_SIGNED = _deals(None, drop_state=True)


def _signed_deal() -> tuple[Opportunity, list[Event], Opportunity]:
    deal = Opportunity(
        id="O-1", name="X", amount=Money(1, "EUR"), created_at=T0, state="inbox", probability=5
    )
    one = OLD.fire(deal, "book", at=day(1))
    two = OLD.fire(one.entity, "sign", at=day(2))
    return deal, [Created.of(deal), one.event, two.event], two.entity


def test_tightening_a_guard_breaks_old_logs_unless_trusted() -> None:
    _, log, signed = _signed_deal()
    assert (signed.probability, signed.closed_at) == (100, day(2))
    assert OLD.replay(Opportunity, log) == signed
    assert OLD.version != TIGHTER.version
    with pytest.raises(LifecycleVersionError, match="trust=True") as info:
        TIGHTER.replay(Opportunity, log)
    err = info.value
    assert (err.entity_id, err.index, err.event_id) == ("O-1", 1, "opportunity/O-1/1")
    assert (err.recorded, err.expected) == (OLD.version, TIGHTER.version)
    assert isinstance(err, EventLogError)
    assert isinstance(err, DataError)
    assert TIGHTER.replay(Opportunity, log, trust=True) == signed
    # the same log without the envelope's version (a version-1 store) runs the new guard
    bare = [attrs.evolve(e, lifecycle_version=None) for e in log]
    with pytest.raises(EventLogError, match="probability >= 50") as refused:
        TIGHTER.replay(Opportunity, bare)
    assert refused.value.index == 2
    assert "trust=True" in str(refused.value)
    assert TIGHTER.replay(Opportunity, bare, trust=True) == signed


def test_trust_moves_through_a_removed_transition_with_the_stage_effects() -> None:
    _, log, signed = _signed_deal()
    assert "sign" not in WITHOUT_SIGN.trigger_names
    with pytest.raises(LifecycleVersionError):
        WITHOUT_SIGN.replay(Opportunity, log)
    rebuilt = WITHOUT_SIGN.replay(Opportunity, log, trust=True)
    # state, state_since, version and the won stage's effects, as fire would set them
    assert rebuilt == signed
    assert (rebuilt.state, rebuilt.state_since, rebuilt.version) == ("signed", day(2), 2)
    assert (rebuilt.probability, rebuilt.closed_at) == (100, day(2))


def test_trust_still_needs_the_recorded_states() -> None:
    _, log, _ = _signed_deal()
    with pytest.raises(EventLogError, match="'signed'") as info:
        WITHOUT_SIGNED.replay(Opportunity, log, trust=True)
    assert info.value.index == 2


def test_trust_still_runs_hooks_and_stage_inputs() -> None:
    # a trusted lost step still needs its lost reason, as fire would
    deal = Opportunity(id="O-1", name="X", amount=Money(1, "EUR"), created_at=T0)
    bare = Transitioned(
        kind="opportunity",
        entity_id="O-1",
        trigger="lose",
        source="prospecting",
        dest="lost",
        at=day(1),
        sequence=1,
    )
    with pytest.raises(EventLogError, match="lost_reason"):
        OPPORTUNITY_PIPELINE.replay(deal, [bare], trust=True)


# -- state_at ---------------------------------------------------------------------------------


def test_state_at_checks_the_log() -> None:
    _, log, _ = _lead_log()
    assert LEAD_STATUS.state_at(log, as_of=day(2)) == "contacted"
    with pytest.raises(EventLogError, match="event_id"):
        LEAD_STATUS.state_at([*log, log[2]], as_of=day(9))
    with pytest.raises(EventLogError, match="'L-2'"):
        LEAD_STATUS.state_at([*log, attrs.evolve(log[3], entity_id="L-2")], as_of=day(9))
    backwards = [*log[:3], attrs.evolve(log[3], at=T0)]
    with pytest.raises(EventLogError, match="before the event it follows"):
        LEAD_STATUS.state_at(backwards, as_of=day(9))
    with pytest.raises(EventLogError, match="has sequence 3 where 2 comes next"):
        LEAD_STATUS.state_at([log[0], log[1], log[3]], as_of=day(9))
    # versions are not compared: only the recorded states are read
    other = [attrs.evolve(e, lifecycle_version="0" * 16) for e in log]
    assert LEAD_STATUS.state_at(other, as_of=day(9)) == "qualified"


# -- replay_frame ------------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    _, log, _ = _lead_log()
    other = Lead(id="L-2", created_at=T0)
    step = LEAD_STATUS.fire(other, "disqualify", at=day(1))
    return events_to_frame([*log, Created.of(other), step.event])


def test_replay_frame_reads_the_own_log_with_versions() -> None:
    frame = _frame()
    states = LEAD_STATUS.replay_frame(frame)
    assert states["state"].astype(str).to_dict() == {"L-1": "qualified", "L-2": "unqualified"}
    assert states["version"].tolist() == [3, 1]
    assert str(states["version"].dtype) == "Int64"
    # as of day 2 the edit (sequence 2) has happened, the qualification not
    snapshot = LEAD_STATUS.replay_frame(frame, as_of=day(2))
    assert snapshot.loc["L-1", "state"] == "contacted"
    assert snapshot.loc["L-1", "version"] == 2
    # rows are read in sequence order, whatever the frame's row order
    shuffled = frame.iloc[[5, 3, 0, 2, 4, 1]]
    pd.testing.assert_frame_equal(LEAD_STATUS.replay_frame(shuffled), states)
    # a plain transition log has no version column
    assert "version" not in LEAD_STATUS.replay_frame(frame.drop(columns=["sequence"])).columns


def _frame_refusal(frame: pd.DataFrame, **kwargs: Any) -> EventLogError:
    with pytest.raises(EventLogError) as info:
        LEAD_STATUS.replay_frame(frame, **kwargs)
    assert "Hint:" in str(info.value)
    return info.value


def test_replay_frame_refuses_repeated_event_ids() -> None:
    frame = _frame()
    doubled = pd.concat([frame, frame.iloc[[2]]], ignore_index=True)
    err = _frame_refusal(doubled)
    # six rows (four of L-1, two of L-2), then the copy of row 2 as row 6
    assert (err.entity_id, err.index, err.event_id) == ("L-1", 6, "lead/L-1/2")
    assert "row 2" in str(err)


def test_replay_frame_refuses_sequence_gaps_and_repeats() -> None:
    gap = _frame().drop(index=2)
    err = _frame_refusal(gap)
    assert (err.entity_id, err.index, err.event_id) == ("L-1", 3, "lead/L-1/3")
    assert "sequence 3 after 1" in str(err)
    repeat = _frame()
    repeat.loc[3, "sequence"] = 2
    repeat.loc[3, "event_id"] = None
    err = _frame_refusal(repeat)
    assert err.entity_id == "L-1"
    assert "sequence 2 after 2" in str(err)


def test_replay_frame_refuses_time_going_backwards() -> None:
    frame = _frame()
    frame.loc[3, "at"] = pd.Timestamp(day(1) - timedelta(hours=1))  # before row 2 (day 2)
    err = _frame_refusal(frame)
    assert (err.entity_id, err.index, err.event_id) == ("L-1", 3, "lead/L-1/3")


def test_replay_frame_refuses_other_lifecycles_and_versions_unless_trusted() -> None:
    frame = _frame()
    named = frame.assign(lifecycle=frame["lifecycle"].where(frame.index != 1, "prospects"))
    err = _frame_refusal(named)
    assert (err.index, err.event_id) == (1, "lead/L-1/1")
    _frame_refusal(named, trust=True)
    old = frame.assign(
        lifecycle_version=frame["lifecycle_version"].where(frame.index != 3, "0" * 16)
    )
    err = _frame_refusal(old)
    assert isinstance(err, LifecycleVersionError)
    assert (err.index, err.recorded, err.expected) == (3, "0" * 16, LEAD_STATUS.version)
    pd.testing.assert_frame_equal(
        LEAD_STATUS.replay_frame(old, trust=True), LEAD_STATUS.replay_frame(frame)
    )


def test_trusted_replay_frame_accepts_steps_a_newer_definition_removed() -> None:
    _, log, signed = _signed_deal()
    frame = events_to_frame(log)
    with pytest.raises(LifecycleVersionError):
        WITHOUT_SIGN.replay_frame(frame)
    states = WITHOUT_SIGN.replay_frame(frame, trust=True)
    assert (states.loc["O-1", "state"], states.loc["O-1", "version"]) == ("signed", 2)
    assert states.loc["O-1", "state_since"] == signed.state_since
    # without trust (and without the versions) the removed step is not defined
    with pytest.raises(DataError, match="does not define"):
        WITHOUT_SIGN.replay_frame(frame.drop(columns=["lifecycle_version"]))


def test_replay_frame_partly_sequenced_logs_keep_time_order() -> None:
    frame = _frame()
    frame.loc[[0, 1], "sequence"] = None  # some rows without a sequence: ordered by time
    assert LEAD_STATUS.replay_frame(frame).loc["L-1", "state"] == "qualified"
    frame.loc[3, "sequence"] = 1  # after 2 in time order
    err = _frame_refusal(frame)
    assert err.index == 3


# -- the laws -----------------------------------------------------------------------------------

STANDARD = [LEAD_STATUS, OPPORTUNITY_PIPELINE, CUSTOMER_LIFECYCLE, CASE_STATUS]


def _walks() -> st.SearchStrategy[tuple[Lifecycle, Any, list[Event]]]:
    """A lifecycle (standard or generated) and a walk of it that starts with its Created event."""
    any_lifecycle = st.one_of(st.sampled_from(STANDARD), lifecycles())
    return any_lifecycle.flatmap(
        lambda lc: event_sequences(lc, created=True).map(lambda walk: (lc, walk[0], walk[1]))
    )


def _records(lifecycle: Lifecycle, start: Any, events: list[Event]) -> list[Any]:
    """The record after each event (the first is the created record)."""
    out = [start]
    for event in events[1:]:
        out.append(lifecycle.replay(out[-1], [event]))
    return out


@given(_walks())
def test_replaying_from_the_first_event_rebuilds_the_record_every_way(
    walk: tuple[Lifecycle, Any, list[Event]],
) -> None:
    lifecycle, start, events = walk
    records = _records(lifecycle, start, events)
    current = records[-1]
    cls = type(start)
    assert lifecycle.replay(cls, events) == current
    assert lifecycle.replay(cls, events, trust=True) == current
    decoded = [event_from_json(event_to_json(e)) for e in events]
    assert decoded == events
    assert lifecycle.replay(cls, decoded) == current
    frame = events_to_frame(events)
    assert events_from_frame(frame) == events
    assert lifecycle.replay(cls, events_from_frame(frame)) == current
    states = lifecycle.replay_frame(frame)
    assert states.loc[current.id, "state"] == current.state
    assert states.loc[current.id, "state_since"] == current.state_since
    assert states.loc[current.id, "version"] == current.version == len(events) - 1
    # as of every event's time: the record after the last event at that time
    for event in events:
        after = [r for r, e in zip(records, events, strict=True) if e.at <= event.at][-1]
        assert lifecycle.state_at(events, as_of=event.at) == after.state
        snapshot = lifecycle.replay_frame(frame, as_of=event.at)
        assert snapshot.loc[current.id, "state"] == after.state
        assert snapshot.loc[current.id, "version"] == after.version


@given(_walks(), st.data())
def test_a_dropped_duplicated_or_swapped_event_is_refused_never_misread(
    walk: tuple[Lifecycle, Any, list[Event]], data: st.DataObject
) -> None:
    lifecycle, start, events = walk
    assume(len(events) >= 2)
    n = len(events)
    how = data.draw(st.sampled_from(["drop", "duplicate", "swap"]))
    i = data.draw(st.integers(0, n - 1))
    mutated = list(events)
    if how == "drop":
        del mutated[i]
    elif how == "duplicate":
        mutated.insert(data.draw(st.integers(0, n)), events[i])
    else:
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
        mutated[i], mutated[j] = mutated[j], mutated[i]
    if how == "drop" and i == n - 1:  # a shorter log: the record one event earlier
        assert lifecycle.replay(type(start), mutated) == _records(lifecycle, start, events)[-2]
        return
    with pytest.raises((EventLogError, ValidationError)) as info:
        lifecycle.replay(type(start), mutated)
    if not isinstance(info.value, EventLogError):  # only: the log no longer starts with Created
        assert not isinstance(mutated[0], Created)
    # a frame is read in sequence order (swapped rows are no mutation), and may start later
    # than the creation (a dropped Created row leaves a plain log of steps)
    if how == "duplicate" or (how == "drop" and i > 0):
        frame = events_to_frame(mutated)
        with pytest.raises(EventLogError):
            lifecycle.replay_frame(frame)


@given(lifecycle_specs(kind="lead"))
def test_generated_specs_are_valid_and_name_their_own_stages(spec: dict[str, Any]) -> None:
    lifecycle = Lifecycle.from_dict(spec)
    assert lifecycle.kind == "lead"
    assert lifecycle.stage(lifecycle.initial).type == "open"
    assert not set(lifecycle.states) & {s for lc in STANDARD for s in lc.states}


def test_lifecycle_specs_refuses_kinds_without_records() -> None:
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        data.draw(lifecycle_specs(kind="ticket"))

    with pytest.raises(ValidationError, match="kind"):
        draw()


# -- regressions found by the laws ------------------------------------------------------------

LOOPS = Lifecycle.from_dict(
    {
        "name": "loops",
        "kind": "opportunity",
        "states": [{"name": "inbox", "type": "open"}, {"name": "demo", "type": "ongoing"}],
        "transitions": [
            {"trigger": "touch", "source": "inbox", "internal": True, "when": "probability >= 50"},
            {"trigger": "touch", "source": "inbox", "dest": "inbox"},
            {"trigger": "note", "source": "inbox", "internal": True},
            {"trigger": "again", "source": "inbox", "dest": "inbox"},
        ],
    }
)


def _inbox_deal(probability: int) -> Opportunity:
    return Opportunity(
        id="O-1",
        name="X",
        amount=Money(1, "EUR"),
        created_at=T0,
        state="inbox",
        state_since=T0 + timedelta(hours=1),
        probability=probability,
        probability_manual=True,
    )


def test_replay_frame_takes_a_created_records_state_since() -> None:
    # the record entered its state an hour after it was created (an import, say)
    deal = _inbox_deal(10)
    states = LOOPS.replay_frame(events_to_frame([Created.of(deal)]))
    assert states.loc["O-1", "state_since"] == T0 + timedelta(hours=1)


def test_a_declared_self_transition_re_enters_its_state_in_every_replay() -> None:
    deal = _inbox_deal(10)  # the internal 'touch' is guarded out: the re-entering one runs
    touched = LOOPS.fire(deal, "touch", at=day(1))
    noted = LOOPS.fire(touched.entity, "note", at=day(2))
    assert (touched.entity.state_since, noted.entity.state_since) == (day(1), day(1))
    log: list[Event] = [Created.of(deal), touched.event, noted.event]
    assert LOOPS.replay(Opportunity, log) == noted.entity
    # trusted: of the two candidates landing in 'inbox', the one whose guards pass
    assert LOOPS.replay(Opportunity, log, trust=True) == noted.entity
    # a frame cannot run guards: for 'touch' it reads the first declared (internal) one,
    # while an unambiguous re-entering step moves state_since there too
    again = LOOPS.fire(deal, "again", at=day(1))
    noted = LOOPS.fire(again.entity, "note", at=day(2))
    states = LOOPS.replay_frame(events_to_frame([Created.of(deal), again.event, noted.event]))
    assert states.loc["O-1", "state_since"] == noted.entity.state_since == day(1)
    # with the guard passing, 'touch' is internal: state_since stays
    keen = _inbox_deal(60)
    internal = LOOPS.fire(keen, "touch", at=day(1))
    assert internal.entity.state_since == keen.state_since
    assert LOOPS.replay(Opportunity, [Created.of(keen), internal.event], trust=True) == (
        internal.entity
    )


def test_replay_frame_checks_the_rows_after_as_of_too() -> None:
    frame = _frame()
    frame.loc[3, "source"] = "open"  # L-1's last step: open -> qualified is no step
    with pytest.raises(DataError, match="does not define"):
        LEAD_STATUS.replay_frame(frame, as_of=day(1))
    assert LEAD_STATUS.replay_frame(frame, as_of=day(1), check=False).loc["L-1", "state"] == (
        "contacted"
    )


def test_a_created_event_must_agree_with_the_record_it_holds() -> None:
    _, log, _ = _lead_log()
    odd = attrs.evolve(log[0], sequence=5, event_id="lead/L-1/5")  # data says version 0
    with pytest.raises(EventLogError, match="has sequence 5") as info:
        LEAD_STATUS.replay(Lead, [odd, *log[1:]])
    assert (info.value.index, info.value.event_id) == (0, "lead/L-1/5")
