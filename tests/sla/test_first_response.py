"""
Cases record their first response, and both SLA engines read it.

Starting work on a new case (``start``) is its first response: the step stamps
``first_response_at`` once, on every path (``fire``, ``fire_frame``, ``replay``),
and the first-response clock of :func:`case_sla` and :func:`sla_status` stops there.
The expected numbers are worked out by hand on a Monday-to-Friday 09:00-17:00 UTC
calendar with a 4-hour first-response target (priority ``normal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle import Case
from crmlifecycle.events import Transitioned
from crmlifecycle.sla import BusinessCalendar, CaseSla, SlaPolicy, case_sla, sla_status
from crmlifecycle.stages import CASE_STATUS, Hook, Lifecycle

OFFICE = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
POLICY = SlaPolicy(
    targets={"normal": {"first_response": "4h", "resolution": "16h"}}, calendar=OFFICE
)
H = pd.Timedelta(hours=1)


def ts(text: str) -> datetime:
    stamp: datetime = pd.Timestamp(text).to_pydatetime()
    return stamp


def opened_case(at: str) -> Case:
    return Case(id="S-1", customer_id="K-1", subject="Cannot log in", created_at=ts(at))


def walk(case: Case, steps: Sequence[tuple[str, str]]) -> tuple[Case, list[Transitioned]]:
    events = []
    for trigger, at in steps:
        step = CASE_STATUS.fire(case, trigger, at=ts(at))
        case = step.entity
        events.append(step.event)
    return case, events


def single(case: Case, events: Sequence[Transitioned], as_of: str) -> CaseSla:
    """The SLA of a Case entity, its fields read as they are."""
    return case_sla(
        POLICY,
        opened_at=case.created_at,
        priority=case.priority,
        as_of=as_of,
        history=events,
        first_response_at=case.first_response_at,
    )


def framed(case: Case, events: Sequence[Transitioned], as_of: str) -> pd.Series:
    """The same case as the frame engine reads it (a cases row and its event-log rows)."""
    cases = pd.DataFrame(
        {
            "case_id": [case.id],
            "opened_at": pd.Series([case.created_at], dtype="datetime64[ns, UTC]"),
            "priority": [case.priority],
            "first_response_at": pd.Series([case.first_response_at], dtype="datetime64[ns, UTC]"),
        }
    )
    log = pd.DataFrame(
        {
            "kind": [e.kind for e in events],
            "entity_id": [e.entity_id for e in events],
            "trigger": [e.trigger for e in events],
            "source": [e.source for e in events],
            "dest": [e.dest for e in events],
            "at": pd.to_datetime([e.at for e in events], utc=True),
        }
    )
    row: pd.Series = sla_status(cases, POLICY, as_of=as_of, events=log).iloc[0]
    return row


class TestTheStartStepIsTheFirstResponse:
    def test_start_stamps_first_response_at(self) -> None:
        case, _ = walk(opened_case("2026-11-23T09:00Z"), [("start", "2026-11-23T10:00Z")])
        assert case.first_response_at == ts("2026-11-23T10:00Z")

    def test_later_steps_never_move_it(self) -> None:
        case, _ = walk(
            opened_case("2026-11-23T09:00Z"),
            [
                ("start", "2026-11-23T10:00Z"),
                ("wait", "2026-11-23T11:00Z"),
                ("resume", "2026-11-23T12:00Z"),
                ("escalate", "2026-11-23T12:30Z"),
                ("resolve", "2026-11-23T13:00Z"),
                ("reopen", "2026-11-24T09:00Z"),
                ("resolve", "2026-11-24T10:00Z"),
            ],
        )
        assert case.first_response_at == ts("2026-11-23T10:00Z")
        assert case.resolved_at == ts("2026-11-24T10:00Z")

    def test_a_response_recorded_before_is_kept(self) -> None:
        answered = opened_case("2026-11-23T09:00Z")
        answered = Case(
            id=answered.id,
            customer_id=answered.customer_id,
            subject=answered.subject,
            created_at=answered.created_at,
            first_response_at=ts("2026-11-23T09:10Z"),
        )
        case, _ = walk(answered, [("start", "2026-11-23T10:00Z")])
        assert case.first_response_at == ts("2026-11-23T09:10Z")

    def test_escalating_a_new_case_is_no_response(self) -> None:
        case, _ = walk(opened_case("2026-11-23T09:00Z"), [("escalate", "2026-11-23T09:30Z")])
        assert case.state == "new"
        assert case.first_response_at is None

    def test_replay_rebuilds_the_stamp(self) -> None:
        initial = opened_case("2026-11-23T09:00Z")
        case, events = walk(
            initial, [("start", "2026-11-23T10:00Z"), ("wait", "2026-11-23T11:00Z")]
        )
        assert CASE_STATUS.replay(initial, events) == case

    def test_bulk_step_stamps_only_the_unanswered(self) -> None:
        frame = pd.DataFrame(
            {
                "case_id": ["S-1", "S-2"],
                "state": ["new", "new"],
                "first_response_at": pd.Series(
                    [pd.NaT, pd.Timestamp("2026-11-23T09:10Z")], dtype="datetime64[ns, UTC]"
                ),
            }
        )
        out = CASE_STATUS.fire_frame(frame, "start", at="2026-11-23T10:00Z").frame
        assert out["state"].tolist() == ["in_progress", "in_progress"]
        assert out["first_response_at"].tolist() == [
            pd.Timestamp("2026-11-23T10:00Z"),
            pd.Timestamp("2026-11-23T09:10Z"),
        ]
        assert frame["first_response_at"].isna().tolist() == [True, False]  # input untouched

    def test_the_hook_is_in_the_spec(self) -> None:
        start = next(t for t in CASE_STATUS.transitions if t.trigger == "start")
        assert [hook.name for hook in start.after] == ["stamp_first_response"]
        again = Lifecycle.from_dict(CASE_STATUS.to_dict())
        assert again == CASE_STATUS

    def test_a_custom_pipeline_names_the_hook(self) -> None:
        desk = Lifecycle.from_dict(
            {
                "name": "desk",
                "kind": "case",
                "states": [{"name": "inbox"}, {"name": "answered"}, {"name": "done"}],
                "transitions": [
                    {
                        "trigger": "reply",
                        "source": ["inbox", "answered"],
                        "dest": "answered",
                        "after": "stamp_first_response",
                    },
                    {"trigger": "finish", "source": "answered", "dest": "done"},
                ],
            }
        )
        case = opened_case("2026-11-23T09:00Z")
        case = Case(
            id=case.id,
            customer_id=case.customer_id,
            subject=case.subject,
            created_at=case.created_at,
            state="inbox",
        )
        once = desk.fire(case, "reply", at=ts("2026-11-23T09:30Z")).entity
        twice = desk.fire(once, "reply", at=ts("2026-11-23T11:00Z")).entity
        assert twice.first_response_at == ts("2026-11-23T09:30Z")
        assert isinstance(desk.transitions[0].after[0], Hook)


class TestTheSlaReadsTheFirstResponse:
    """Hand-computed: 4 business hours, Monday to Friday 09:00-17:00 UTC."""

    @pytest.mark.parametrize("engine", ["single", "frame"])
    def test_started_two_hours_after_opening_is_met(self, engine: str) -> None:
        # Monday 09:00 opened, 11:00 started: 2 business hours, within 4
        case, events = walk(opened_case("2026-11-23T09:00Z"), [("start", "2026-11-23T11:00Z")])
        as_of = "2026-11-23T16:00Z"  # 7 business hours after opening: would breach if unanswered
        if engine == "single":
            clock = single(case, events, as_of).first_response
            assert (clock.status, clock.breached, clock.elapsed) == ("met", False, 2 * H)
        else:
            row = framed(case, events, as_of)
            assert row["first_response_status"] == "met"
            assert not row["first_response_breached"]
            assert row["first_response_elapsed"] == 2 * H

    @pytest.mark.parametrize("engine", ["single", "frame"])
    def test_started_one_hour_after_opening_is_met(self, engine: str) -> None:
        case, events = walk(opened_case("2026-11-23T09:00Z"), [("start", "2026-11-23T10:00Z")])
        as_of = "2026-11-24T12:00Z"
        if engine == "single":
            clock = single(case, events, as_of).first_response
            assert (clock.status, clock.elapsed, clock.left) == ("met", 1 * H, 3 * H)
        else:
            row = framed(case, events, as_of)
            assert row["first_response_status"] == "met"
            assert (row["first_response_elapsed"], row["first_response_left"]) == (1 * H, 3 * H)

    @pytest.mark.parametrize("engine", ["single", "frame"])
    def test_started_five_hours_after_opening_is_breached(self, engine: str) -> None:
        # Monday 09:00 opened, due 13:00, started 14:00: 5 business hours, 1 over
        case, events = walk(opened_case("2026-11-23T09:00Z"), [("start", "2026-11-23T14:00Z")])
        as_of = "2026-11-24T12:00Z"
        due = pd.Timestamp("2026-11-23T13:00Z")
        if engine == "single":
            clock = single(case, events, as_of).first_response
            assert (clock.status, clock.breached, clock.due) == ("breached", True, due)
            assert (clock.elapsed, clock.left) == (5 * H, -1 * H)
        else:
            row = framed(case, events, as_of)
            assert row["first_response_status"] == "breached"
            assert row["first_response_due"] == due
            assert (row["first_response_elapsed"], row["first_response_left"]) == (5 * H, -1 * H)

    @pytest.mark.parametrize("engine", ["single", "frame"])
    def test_business_hours_decide_over_a_weekend(self, engine: str) -> None:
        # Friday 15:00 opened, Monday 10:00 started: 67 hours of clock time, but
        # 3 business hours (Friday 15-17, Monday 09-10): met, due Monday 11:00
        met_case, met_events = walk(
            opened_case("2026-11-20T15:00Z"), [("start", "2026-11-23T10:00Z")]
        )
        # Friday 15:00 opened, Monday 12:00 started: 2 + 3 = 5 business hours: breached
        late_case, late_events = walk(
            opened_case("2026-11-20T15:00Z"), [("start", "2026-11-23T12:00Z")]
        )
        as_of = "2026-11-23T16:00Z"
        if engine == "single":
            met = single(met_case, met_events, as_of).first_response
            late = single(late_case, late_events, as_of).first_response
            assert (met.status, met.elapsed) == ("met", 3 * H)
            assert (late.status, late.elapsed, late.due) == (
                "breached",
                5 * H,
                pd.Timestamp("2026-11-23T11:00Z"),
            )
        else:
            met_row = framed(met_case, met_events, as_of)
            late_row = framed(late_case, late_events, as_of)
            assert (met_row["first_response_status"], met_row["first_response_elapsed"]) == (
                "met",
                3 * H,
            )
            assert late_row["first_response_status"] == "breached"
            assert late_row["first_response_due"] == pd.Timestamp("2026-11-23T11:00Z")

    def test_the_response_stays_met_while_the_case_waits_and_resumes(self) -> None:
        case, events = walk(
            opened_case("2026-11-23T09:00Z"),
            [
                ("start", "2026-11-23T10:00Z"),
                ("wait", "2026-11-23T10:30Z"),
                ("resume", "2026-11-24T09:00Z"),
            ],
        )
        answer = single(case, events, "2026-11-25T09:00Z")
        assert answer.first_response.status == "met"
        # resolution: 09:00-10:30 Monday, then Tuesday 09:00 to Wednesday 09:00 (8h): 9.5h
        assert answer.resolution.elapsed == pd.Timedelta(hours=9.5)
        assert framed(case, events, "2026-11-25T09:00Z")["first_response_status"] == "met"


@settings(max_examples=60, deadline=None)
@given(
    response_minutes=st.integers(min_value=0, max_value=3 * 24 * 60),
    look_minutes=st.integers(min_value=0, max_value=5 * 24 * 60),
)
def test_both_engines_agree_on_a_started_case(response_minutes: int, look_minutes: int) -> None:
    opened = "2026-11-20T15:00Z"
    start = pd.Timestamp(opened) + pd.Timedelta(minutes=response_minutes)
    case, events = walk(opened_case(opened), [("start", start.isoformat())])
    as_of = (start + pd.Timedelta(minutes=look_minutes)).isoformat()
    clock = single(case, events, as_of).first_response
    row = framed(case, events, as_of)
    assert clock.status == row["first_response_status"]
    assert clock.elapsed == row["first_response_elapsed"]
    assert clock.status in ("met", "breached")  # the response ends the clock
    assert (clock.status == "met") == (
        OFFICE.business_time_between(opened, start) <= pd.Timedelta(hours=4)
    )


def test_the_bulk_step_feeds_the_frame_engine() -> None:
    # two cases opened Monday 09:00; one batch of starts at 10:00 (met), one at 14:00 (breached)
    cases = pd.DataFrame(
        {
            "case_id": ["S-1", "S-2"],
            "state": ["new", "new"],
            "opened_at": pd.Series([pd.Timestamp("2026-11-23T09:00Z")] * 2),
            "priority": ["normal", "normal"],
            "first_response_at": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"),
        }
    )
    early = CASE_STATUS.fire_frame(cases.iloc[:1], "start", at="2026-11-23T10:00Z")
    late = CASE_STATUS.fire_frame(cases.iloc[1:], "start", at="2026-11-23T14:00Z")
    after = pd.concat([early.frame, late.frame])
    events = pd.concat([early.events, late.events], ignore_index=True)
    assert after["first_response_at"].tolist() == [
        pd.Timestamp("2026-11-23T10:00Z"),
        pd.Timestamp("2026-11-23T14:00Z"),
    ]
    out = sla_status(after, POLICY, as_of="2026-11-24T12:00Z", events=events)
    assert out["first_response_status"].tolist() == ["met", "breached"]
    assert out["first_response_elapsed"].tolist() == [1 * H, 5 * H]
