from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import sla as package
from crmlifecycle.errors import DataError, MissingColumnError, SpecError, ValidationError
from crmlifecycle.events import Transitioned
from crmlifecycle.schema import CaseColumns, EventLogColumns
from crmlifecycle.sla import (
    SLA_COLUMNS,
    BusinessCalendar,
    CaseSla,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    case_sla,
    pause_states_of,
    sla_status,
    stop_states_of,
)
from crmlifecycle.stages import CASE_STATUS, Lifecycle

OFFICE = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
POLICY = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "4h"},
        "high": {"first_response": "2h", "resolution": "8h"},
        "normal": {"first_response": "4h", "resolution": "16h"},
        "low": {},
    },
    calendar=OFFICE,
)
H = pd.Timedelta(hours=1)

#: A custom case pipeline with its own state names (and the standard stage types).
TICKETS = Lifecycle.from_dict(
    {
        "name": "ticket",
        "initial": "open",
        "states": [
            {"name": "open", "type": "open"},
            {"name": "working", "type": "ongoing"},
            {"name": "parked", "type": "on_hold"},
            {"name": "done", "type": "won"},
            {"name": "dropped", "type": "lost"},
        ],
        "transitions": [
            {"trigger": "work", "source": ["open", "parked"], "dest": "working"},
            {"trigger": "park", "source": "working", "dest": "parked"},
            {"trigger": "finish", "source": "working", "dest": "done"},
            {"trigger": "drop", "source": ["open", "working"], "dest": "dropped"},
        ],
    }
)
NO_END = Lifecycle.from_dict(
    {
        "name": "endless",
        "states": [{"name": "a", "type": "open"}, {"name": "b", "type": "ongoing"}],
        "transitions": [{"trigger": "go", "source": "a", "dest": "b"}],
    }
)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def history(*rows: tuple[str, str]) -> list[dict[str, str]]:
    return [{"at": at, "dest": dest} for at, dest in rows]


# 2026-11-20 is a Friday, 2026-11-23 a Monday.
PAUSED = history(
    ("2026-11-23T09:30Z", "in_progress"),
    ("2026-11-23T10:00Z", "waiting_on_customer"),
    ("2026-11-23T14:00Z", "in_progress"),
    ("2026-11-23T16:00Z", "resolved"),
)
REOPENED = history(
    ("2026-11-23T09:10Z", "in_progress"),
    ("2026-11-23T12:00Z", "resolved"),
    ("2026-11-24T09:00Z", "in_progress"),
    ("2026-11-24T15:00Z", "resolved"),
)


class TestSingleCase:
    def test_friday_case_is_due_monday_noon(self) -> None:
        # normal: 4 business hours to respond. Fri 16-17 = 1h, Mon 09-10 = 1h -> 2h elapsed,
        # 2h left, due Mon 12:00.
        result = case_sla(
            POLICY, opened_at="2026-11-20T16:00Z", priority="normal", as_of="2026-11-23T10:00Z"
        )
        clock = result.first_response
        assert (clock.elapsed, clock.left, clock.due) == (2 * H, 2 * H, ts("2026-11-23T12:00Z"))
        assert (clock.status, clock.breached) == ("running", False)
        assert result.state == "new"

    def test_breach_starts_after_the_due_instant(self) -> None:
        on_time = case_sla(
            POLICY, opened_at="2026-11-20T16:00Z", priority="normal", as_of="2026-11-23T12:00Z"
        )
        assert on_time.first_response.status == "running"
        assert on_time.first_response.left == pd.Timedelta(0)
        late = case_sla(
            POLICY, opened_at="2026-11-20T16:00Z", priority="normal", as_of="2026-11-23T12:01Z"
        )
        assert late.first_response.breached
        assert late.first_response.left == -pd.Timedelta(minutes=1)
        assert late.first_response.due == ts("2026-11-23T12:00Z")

    def test_due_friday_evening_is_breached_over_the_weekend(self) -> None:
        # opened Fri 13:00, 4h -> due Fri 17:00; on Saturday no business time has passed since,
        # so elapsed equals the target, but the due instant is behind us: breached.
        result = case_sla(
            POLICY, opened_at="2026-11-20T13:00Z", priority="normal", as_of="2026-11-21T10:00Z"
        )
        clock = result.first_response
        assert (clock.elapsed, clock.due, clock.breached) == (4 * H, ts("2026-11-20T17:00Z"), True)

    def test_clock_pauses_while_waiting_on_the_customer(self) -> None:
        # urgent: resolution 4h. Mon 09:00-10:00 counts (new, in_progress) = 1h;
        # 10:00-14:00 waiting: paused; 14:00-16:00 in_progress = 2h; resolved at 16:00.
        # 1 + 2 = 3h <= 4h: met. (Without the pause it would be 7h: breached.)
        done = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="urgent",
            as_of="2026-11-24T12:00Z",
            history=PAUSED,
        )
        assert done.state == "resolved"
        assert (done.resolution.elapsed, done.resolution.status) == (3 * H, "met")
        assert done.resolution.due is None
        waiting = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="urgent",
            as_of="2026-11-23T12:00Z",
            history=PAUSED,
        )
        assert (waiting.state, waiting.resolution.status) == ("waiting_on_customer", "paused")
        assert (waiting.resolution.elapsed, waiting.resolution.left) == (1 * H, 3 * H)
        assert waiting.resolution.due is None
        resumed = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="urgent",
            as_of="2026-11-23T15:00Z",
            history=PAUSED,
        )
        # 1h + 14:00-15:00 = 2h elapsed, 2h left from 15:00 -> due 17:00
        assert resumed.resolution.due == ts("2026-11-23T17:00Z")
        no_log = case_sla(
            POLICY, opened_at="2026-11-23T09:00Z", priority="urgent", as_of="2026-11-23T16:00Z"
        )
        assert no_log.resolution.breached  # 7h without the log's pause

    def test_reopened_case_resumes_its_clock(self) -> None:
        # high: resolution 8h. Mon 09:00-12:00 = 3h, resolved (stopped) until Tue 09:00,
        # Tue 09:00-15:00 = 6h -> 9h > 8h. The 8th hour ends 5h into Tuesday: due Tue 14:00.
        result = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="high",
            as_of="2026-11-25T09:00Z",
            history=REOPENED,
        )
        clock = result.resolution
        assert (clock.elapsed, clock.due, clock.status) == (
            9 * H,
            ts("2026-11-24T14:00Z"),
            "breached",
        )
        between = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="high",
            as_of="2026-11-23T15:00Z",
            history=REOPENED,
        )
        assert (between.resolution.elapsed, between.resolution.status) == (3 * H, "met")

    def test_first_response_stops_the_first_clock(self) -> None:
        # urgent, 1h to respond; response at 09:45 -> met, 45 min elapsed
        result = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="urgent",
            as_of="2026-11-23T16:00Z",
            first_response_at="2026-11-23T09:45Z",
        )
        assert result.first_response.status == "met"
        assert result.first_response.elapsed == pd.Timedelta(minutes=45)
        # a response that has not happened yet at `at` does not stop the clock
        early = case_sla(
            POLICY,
            opened_at="2026-11-23T09:00Z",
            priority="urgent",
            as_of="2026-11-23T09:30Z",
            first_response_at="2026-11-23T09:45Z",
        )
        assert early.first_response.status == "running"
        assert early.first_response.due == ts("2026-11-23T10:00Z")

    def test_resolution_without_log_uses_resolved_at(self) -> None:
        # normal: Fri 16:00 -> Mon 15:00 = 1h + 6h = 7h <= 16h
        result = case_sla(
            POLICY,
            opened_at="2026-11-20T16:00Z",
            priority="normal",
            as_of="2026-11-30T00:00Z",
            resolved_at="2026-11-23T15:00Z",
        )
        assert (result.resolution.elapsed, result.resolution.status) == (7 * H, "met")
        assert result.state == "resolved"

    def test_no_target_and_not_yet_opened(self) -> None:
        low = case_sla(
            POLICY, opened_at="2026-11-23T09:00Z", priority="low", as_of="2026-12-23T09:00Z"
        )
        assert low.first_response == SlaClock(
            target=None, elapsed=pd.Timedelta(0), left=None, due=None, breached=False, status="none"
        )
        future = case_sla(
            POLICY, opened_at="2026-11-23T09:00Z", priority="urgent", as_of="2026-11-22T09:00Z"
        )
        assert (future.state, future.resolution.status, future.resolution.left) == (
            "",
            "not_opened",
            4 * H,
        )

    def test_history_forms(self) -> None:
        events = [
            Transitioned(
                kind="case",
                entity_id="C",
                trigger=row["dest"],
                source="x",
                dest=row["dest"],
                at=ts(row["at"]).to_pydatetime(),
            )
            for row in PAUSED
        ]
        frame = pd.DataFrame(PAUSED)
        answers = {
            repr(
                case_sla(
                    POLICY,
                    opened_at="2026-11-23T09:00Z",
                    priority="urgent",
                    as_of="2026-11-23T15:00Z",
                    history=h,
                )
            )
            for h in (events, frame, PAUSED)
        }
        assert len(answers) == 1

    def test_errors(self) -> None:
        with pytest.raises(ValidationError, match="did you mean 'urgent'"):
            case_sla(POLICY, opened_at="2026-11-23T09:00Z", priority="urgnt", as_of="2026-11-23")
        with pytest.raises(DataError, match="precedes the case's opening"):
            case_sla(
                POLICY,
                opened_at="2026-11-23T09:00Z",
                priority="urgent",
                as_of="2026-11-24",
                history=history(("2026-11-23T08:00Z", "in_progress")),
            )
        with pytest.raises(DataError, match="before opened_at"):
            case_sla(
                POLICY,
                opened_at="2026-11-23T09:00Z",
                priority="urgent",
                as_of="2026-11-24",
                first_response_at="2026-11-23T08:00Z",
            )
        with pytest.raises(DataError, match="'at' and 'dest'"):
            case_sla(
                POLICY, opened_at="2026-11-23", priority="urgent", as_of="2026-11-24", history=[{}]
            )
        with pytest.raises(DataError, match="iterable"):
            case_sla(
                POLICY, opened_at="2026-11-23", priority="urgent", as_of="2026-11-24", history=3
            )


class TestPolicy:
    def test_round_trip(self) -> None:
        again = SlaPolicy.from_dict(POLICY.to_dict())
        assert again.to_dict() == POLICY.to_dict()
        assert again.target("normal") == SlaTarget(first_response="4h", resolution="16h")

    @pytest.mark.parametrize(
        ("spec", "path"),
        [
            ({"targets": {"high": {"resolution": "0h"}}}, "targets.high.resolution"),
            ({"targets": {"high": {"resolution": 60}}}, "targets.high.resolution"),
            ({"targets": {"high": {"resolutoin": "1h"}}}, "targets.high.resolutoin"),
            ({"targets": {}}, "targets"),
            ({"targets": {"high": {}}, "calendar": {"tz": "Mars/Base"}}, "calendar.tz"),
            ({"targets": {"high": {}}, "pause_states": "waiting"}, "pause_states"),
            ({"target": {}}, "target"),
        ],
    )
    def test_spec_errors_name_the_path(self, spec: dict[str, Any], path: str) -> None:
        with pytest.raises(SpecError) as info:
            SlaPolicy.from_dict(spec)
        assert info.value.path == path

    def test_bad_constructor_arguments(self) -> None:
        with pytest.raises(ValidationError, match="calendar"):
            SlaPolicy(targets={"high": {}}, calendar="office")
        with pytest.raises(ValidationError, match="priority names"):
            SlaPolicy(targets={1: {}})
        with pytest.raises(ValidationError, match="stop_states"):
            SlaPolicy(targets={"high": {}}, stop_states=[])

    def test_states_come_from_the_case_lifecycle(self) -> None:
        # CASE_STATUS: waiting_on_customer is on_hold; resolved and closed are won (closed)
        assert (POLICY.pause_states, POLICY.stop_states) == (
            ("waiting_on_customer",),
            ("resolved", "closed"),
        )
        assert POLICY.initial_state == "new"
        assert POLICY.lifecycle is CASE_STATUS
        assert (pause_states_of(TICKETS), stop_states_of(TICKETS)) == (
            ("parked",),
            ("done", "dropped"),
        )
        custom = SlaPolicy(targets={"high": {}}, lifecycle=TICKETS)
        assert (custom.pause_states, custom.stop_states, custom.initial_state) == (
            ("parked",),
            ("done", "dropped"),
            "open",
        )
        # an explicit list of the lifecycle's states still wins over its stage types
        explicit = SlaPolicy(targets={"high": {}}, pause_states=["new", "waiting_on_customer"])
        assert explicit.pause_states == ("new", "waiting_on_customer")
        with pytest.raises(ValidationError, match="'pause_states' must be a state of the 'case'"):
            SlaPolicy(targets={"high": {}}, pause_states=["wating_on_customer"])
        with pytest.raises(
            ValidationError, match="'initial_state' must be a state of the 'ticket'"
        ):
            SlaPolicy(targets={"high": {}}, lifecycle=TICKETS, initial_state="new")
        with pytest.raises(ValidationError, match="lifecycle"):
            SlaPolicy(targets={"high": {}}, lifecycle="tickets")
        with pytest.raises(ValidationError, match="stop_states"):
            SlaPolicy(targets={"high": {}}, lifecycle=NO_END)  # nothing would stop the clock

    def test_not_a_mapping(self) -> None:
        with pytest.raises(SpecError, match="expected a mapping"):
            SlaPolicy.from_dict(["targets"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the frame engine


def cases_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    cases = pd.DataFrame(
        {
            "case_id": ["P", "R", "F", "L", "Z"],
            "opened_at": pd.to_datetime(
                [
                    "2026-11-23T09:00Z",
                    "2026-11-23T09:00Z",
                    "2026-11-20T16:00Z",
                    "2026-11-23T09:00Z",
                    "2026-12-01T09:00Z",
                ]
            ),
            "priority": ["urgent", "high", "normal", "low", "urgent"],
            "first_response_at": pd.Series(
                [ts("2026-11-23T09:45Z"), pd.NaT, pd.NaT, pd.NaT, pd.NaT],
                index=[10, 11, 12, 13, 14],
            ),
        },
        index=[10, 11, 12, 13, 14],
    )
    rows = [("P", *r.values()) for r in PAUSED] + [("R", *r.values()) for r in REOPENED]
    events = pd.DataFrame(rows, columns=["entity_id", "at", "dest"])
    events["kind"] = "case"
    events["at"] = pd.to_datetime(events["at"])
    noise = pd.DataFrame(
        {
            "entity_id": ["P", "nobody"],
            "at": pd.to_datetime(["2026-11-23T09:05Z", "2026-11-23T09:05Z"]),
            "dest": ["closed", "closed"],
            "kind": ["lead", "case"],
        }
    )
    return cases, pd.concat([events, noise], ignore_index=True)


def row_of(result: CaseSla) -> dict[str, Any]:
    row: dict[str, Any] = {"state": result.state}
    for name in ("first_response", "resolution"):
        clock: SlaClock = getattr(result, name)
        row[f"{name}_due"] = pd.NaT if clock.due is None else clock.due
        row[f"{name}_elapsed"] = clock.elapsed
        row[f"{name}_left"] = pd.NaT if clock.left is None else clock.left
        row[f"{name}_breached"] = clock.breached
        row[f"{name}_status"] = clock.status
    return row


def single_answers(
    cases: pd.DataFrame, events: pd.DataFrame | None, at: pd.Timestamp
) -> pd.DataFrame:
    rows = []
    for _, case in cases.iterrows():
        mine = None
        if events is not None:
            mine = events[(events["entity_id"] == case["case_id"]) & (events["kind"] == "case")]
        result = case_sla(
            POLICY,
            opened_at=case["opened_at"],
            priority=case["priority"],
            as_of=at,
            history=mine,
            first_response_at=case["first_response_at"],
            resolved_at=case.get("resolved_at"),
        )
        rows.append(row_of(result))
    dtypes: dict[str, Any] = {
        "due": "datetime64[ns, UTC]",
        "elapsed": "timedelta64[ns]",
        "left": "timedelta64[ns]",
    }
    columns: dict[str, pd.Series] = {}
    for column in SLA_COLUMNS:
        values = [row[column] for row in rows]
        kind = column.rsplit("_", 1)[-1]
        if kind in dtypes:
            columns[column] = pd.Series(values, index=cases.index, dtype=object).astype(
                dtypes[kind]
            )
        elif kind == "breached":
            columns[column] = pd.Series(values, index=cases.index, dtype=bool)
        else:
            columns[column] = pd.Series(values, index=cases.index, dtype=object).astype(str)
    return pd.DataFrame(columns, index=cases.index)


class TestFrame:
    def test_hand_computed_rows(self) -> None:
        cases, events = cases_frame()
        at = ts("2026-11-25T09:00Z")
        out = sla_status(cases, POLICY, as_of=at, events=events)
        assert list(out.columns) == list(SLA_COLUMNS)
        assert out.loc[10, "resolution_status"] == "met"  # 3h of 4h, see the pause test
        assert out.loc[10, "resolution_elapsed"] == 3 * H
        assert out.loc[10, "first_response_status"] == "met"
        assert out.loc[11, "resolution_due"] == ts("2026-11-24T14:00Z")  # see the reopen test
        assert out.loc[11, "resolution_status"] == "breached"
        # F: normal opened Fri 16:00, no events: new. Fri 1h + Mon 8h + Tue 8h = 17h > 16h.
        # The 16th hour ends Tue 16:00; first response (4h) was due Mon 12:00.
        assert out.loc[12, "resolution_elapsed"] == 17 * H
        assert out.loc[12, "resolution_due"] == ts("2026-11-24T16:00Z")
        assert out.loc[12, "first_response_due"] == ts("2026-11-23T12:00Z")
        assert out.loc[13, "resolution_status"] == "none"
        assert out["resolution_left"].isna().tolist() == [False, False, False, True, False]
        assert out.loc[14, "state"] == ""
        assert out.loc[14, "resolution_status"] == "not_opened"
        pd.testing.assert_frame_equal(out, single_answers(cases, events, at))

    def test_without_events_uses_resolved_at(self) -> None:
        cases, _ = cases_frame()
        cases["resolved_at"] = pd.Series(
            [ts("2026-11-23T16:00Z"), pd.NaT, ts("2026-11-23T15:00Z"), pd.NaT, pd.NaT],
            index=cases.index,
        )
        at = ts("2026-11-25T09:00Z")
        out = sla_status(cases, POLICY, as_of=at)
        # P: no pause known without the log: 09:00-16:00 = 7h > 4h
        assert out.loc[10, "resolution_status"] == "breached"
        assert out.loc[12, "resolution_elapsed"] == 7 * H
        pd.testing.assert_frame_equal(out, single_answers(cases, None, at))

    def test_does_not_mutate_inputs(self) -> None:
        cases, events = cases_frame()
        before_cases, before_events = cases.copy(), events.copy()
        sla_status(cases, POLICY, as_of="2026-11-25", events=events)
        pd.testing.assert_frame_equal(cases, before_cases)
        pd.testing.assert_frame_equal(events, before_events)

    def test_bad_input(self) -> None:
        cases, events = cases_frame()
        with pytest.raises(MissingColumnError, match="priority"):
            sla_status(cases.drop(columns="priority"), POLICY, as_of="2026-11-25", events=events)
        with pytest.raises(MissingColumnError, match="resolved_at"):
            sla_status(cases, POLICY, as_of="2026-11-25")
        bad = cases.assign(priority=["urgent", "hihg", "normal", "low", "urgent"])
        with pytest.raises(DataError, match="did you mean 'high'") as info:
            sla_status(bad, POLICY, as_of="2026-11-25", events=events)
        assert info.value.rows == (11,)
        with pytest.raises(DataError, match="missing priorities"):
            sla_status(cases.assign(priority=None), POLICY, as_of="2026-11-25", events=events)
        dup = cases.assign(case_id=["P", "P", "F", "L", "Z"])
        with pytest.raises(DataError, match="duplicated case ids"):
            sla_status(dup, POLICY, as_of="2026-11-25", events=events)
        early = events.assign(at=events["at"] - pd.Timedelta(days=30))
        with pytest.raises(DataError, match="before their case"):
            sla_status(cases, POLICY, as_of="2026-11-25", events=early)
        naive = cases.assign(opened_at=cases["opened_at"].dt.tz_localize(None))
        with pytest.raises(DataError, match="naive"):
            sla_status(naive, POLICY, as_of="2026-11-25", events=events)
        response = cases.assign(first_response_at=cases["opened_at"] - H)
        with pytest.raises(DataError, match="before opened_at"):
            sla_status(response, POLICY, as_of="2026-11-25", events=events)
        with pytest.raises(DataError, match="missing states"):
            sla_status(cases, POLICY, as_of="2026-11-25", events=events.assign(dest=None))

    def test_empty_frame(self) -> None:
        cases, events = cases_frame()
        out = sla_status(cases.iloc[:0], POLICY, as_of="2026-11-25", events=events)
        assert out.empty
        assert list(out.columns) == list(SLA_COLUMNS)


# --------------------------------------------------------------------------- both engines agree

TRANSITIONS = {
    "new": ["in_progress", "new"],  # "new" -> "new" is an internal escalation
    "in_progress": ["waiting_on_customer", "resolved", "in_progress"],
    "waiting_on_customer": ["in_progress", "resolved", "waiting_on_customer"],
    "resolved": ["in_progress", "closed"],
    "closed": [],
}
BASE = pd.Timestamp("2026-11-19T00:00Z")


@st.composite
def case_logs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    n = draw(st.integers(min_value=1, max_value=6))
    minutes = st.integers(min_value=0, max_value=3 * 24 * 60)
    rows, events = [], []
    for k in range(n):
        opened = BASE + pd.Timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
        state, t = "new", opened
        for _ in range(draw(st.integers(0, 6))):
            options = TRANSITIONS[state]
            if not options:
                break
            state = draw(st.sampled_from(options))
            t += pd.Timedelta(minutes=draw(minutes))
            events.append({"kind": "case", "entity_id": f"C{k}", "dest": state, "at": t})
        respond = draw(st.none() | minutes)
        rows.append(
            {
                "case_id": f"C{k}",
                "opened_at": opened,
                "priority": draw(st.sampled_from(["urgent", "high", "normal", "low"])),
                "first_response_at": pd.NaT
                if respond is None
                else opened + pd.Timedelta(minutes=respond),
            }
        )
    at = BASE + pd.Timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
    log = pd.DataFrame(events, columns=["kind", "entity_id", "dest", "at"])
    log["at"] = pd.to_datetime(log["at"], utc=True)
    cases = pd.DataFrame(rows)
    cases["first_response_at"] = pd.to_datetime(cases["first_response_at"], utc=True)
    return cases, log, at


@given(case_logs())
def test_frame_engine_equals_single_case_engine_row_by_row(
    data: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    cases, events, at = data
    out = sla_status(cases, POLICY, as_of=at, events=events)
    pd.testing.assert_frame_equal(out, single_answers(cases, events, at))
    # invariants: breached <=> status breached; left = target - elapsed
    for name in ("first_response", "resolution"):
        assert np.array_equal(out[f"{name}_breached"], out[f"{name}_status"] == "breached")


# --------------------------------------------------------------------------- custom pipelines


#: CASE_STATUS's states and the TICKETS states of the same stage type.
AS_TICKETS = {
    "new": "open",
    "in_progress": "working",
    "waiting_on_customer": "parked",
    "resolved": "done",
    "closed": "dropped",
}


@given(case_logs())
def test_renaming_the_states_with_the_same_stage_types_changes_only_the_names(
    data: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    cases, events, as_of = data
    standard = sla_status(cases, POLICY, as_of=as_of, events=events)
    tickets = SlaPolicy(targets=POLICY.to_dict()["targets"], calendar=OFFICE, lifecycle=TICKETS)
    renamed = events.assign(dest=events["dest"].map(AS_TICKETS), kind=TICKETS.kind)
    out = sla_status(cases, tickets, as_of=as_of, events=renamed)
    expected = standard.assign(state=standard["state"].map({**AS_TICKETS, "": ""}))
    pd.testing.assert_frame_equal(out, expected)


def test_a_custom_case_pipeline_pauses_and_stops_by_its_stage_types() -> None:
    # Monday 09:00 open, 10:00 parked (on_hold), 13:00 working, 15:00 done (won).
    # Running time: 09-10 (1h) + 13-15 (2h) = 3h <= 4h target, stopped at 15:00: met.
    changes = history(
        ("2026-11-23T10:00Z", "parked"),
        ("2026-11-23T13:00Z", "working"),
        ("2026-11-23T15:00Z", "done"),
    )
    targets = {"high": {"resolution": "4h"}}
    policy = SlaPolicy(targets=targets, calendar=OFFICE, lifecycle=TICKETS)
    opened, as_of = "2026-11-23T09:00Z", "2026-11-23T17:00Z"
    result = case_sla(policy, opened_at=opened, priority="high", as_of=as_of, history=changes)
    assert result.state == "done"
    assert (result.resolution.elapsed, result.resolution.status) == (3 * H, "met")
    # the standard case policy knows none of these names: an error naming them (before,
    # the clock silently ran 09-17 = 8h through them and reported a breach)
    office = SlaPolicy(targets=targets, calendar=OFFICE)
    with pytest.raises(DataError, match=r"\['done', 'parked', 'working'\].*'case' lifecycle"):
        case_sla(office, opened_at=opened, priority="high", as_of=as_of, history=changes)
    # the frame engine reads the same lifecycle
    cases = pd.DataFrame(
        {
            "case_id": ["T1"],
            "opened_at": [ts("2026-11-23T09:00Z")],
            "priority": ["high"],
            "first_response_at": [pd.NaT],
        }
    )
    log = pd.DataFrame(changes).assign(kind=policy.lifecycle.kind, entity_id="T1")
    log["at"] = pd.to_datetime(log["at"], utc=True)
    out = sla_status(cases, policy, as_of="2026-11-23T17:00Z", events=log)
    # the policy's lifecycle picks the log's rows: rows of another kind are not its cases'
    other = sla_status(cases, policy, as_of="2026-11-23T17:00Z", events=log.assign(kind="case"))
    assert other.loc[0, "state"] == policy.lifecycle.initial
    assert out.loc[0, "state"] == "done"
    assert (out.loc[0, "resolution_elapsed"], out.loc[0, "resolution_status"]) == (3 * H, "met")


def test_renamed_columns_give_the_same_answers() -> None:
    cases, events = cases_frame()
    as_of = ts("2026-11-25T09:00Z")
    expected = sla_status(cases, POLICY, as_of=as_of, events=events)
    renamed_cases = cases.rename(
        columns={"case_id": "ticket", "opened_at": "created", "first_response_at": "answered"}
    )
    renamed_events = events.rename(
        columns={"entity_id": "ticket", "dest": "to_state", "at": "when", "kind": "type"}
    )
    out = sla_status(
        renamed_cases,
        POLICY,
        as_of=as_of,
        events=renamed_events,
        cases_columns=CaseColumns(
            case_id="ticket", opened_at="created", first_response_at="answered"
        ),
        events_columns=EventLogColumns(entity_id="ticket", dest="to_state", at="when", kind="type"),
    )
    pd.testing.assert_frame_equal(out, expected)
    with pytest.raises(MissingColumnError, match="opened_at"):
        sla_status(renamed_cases, POLICY, as_of=as_of, events=renamed_events)
    # one case: history_columns names the frame's columns and the mappings' keys
    columns = EventLogColumns(dest="to_state", at="when")
    moved = [{"when": row["at"], "to_state": row["dest"]} for row in PAUSED]

    def answer(history: object, history_columns: EventLogColumns) -> str:
        return repr(
            case_sla(
                POLICY,
                opened_at="2026-11-23T09:00Z",
                priority="urgent",
                as_of="2026-11-23T15:00Z",
                history=history,
                history_columns=history_columns,
            )
        )

    answers = {answer(h, columns) for h in (moved, pd.DataFrame(moved))}
    assert answers == {answer(PAUSED, EventLogColumns())}


def test_as_of_is_required() -> None:
    cases, events = cases_frame()
    with pytest.raises(DataError, match="as_of must not be missing"):
        sla_status(cases, POLICY, as_of=None, events=events)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="as_of must not be missing"):
        case_sla(POLICY, opened_at="2026-11-23", priority="urgent", as_of=None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the public API's shape


def _sla_callables() -> Iterator[tuple[str, Callable[..., Any], str]]:
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.isclass(obj):
            yield name, obj.__init__, obj.__doc__ or ""
            for attr, value in vars(obj).items():
                function = (
                    value.__func__ if isinstance(value, classmethod | staticmethod) else value
                )
                if not attr.startswith("_") and inspect.isfunction(function):
                    yield f"{name}.{attr}", function, function.__doc__ or ""
        elif inspect.isfunction(obj):
            yield name, obj, obj.__doc__ or ""


def _sla_parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # pragma: no cover - C slots without a signature
        return []
    return [
        p
        for p in signature.parameters.values()
        if p.name not in {"self", "cls"} and p.kind not in {p.VAR_POSITIONAL, p.VAR_KEYWORD}
    ]


#: Result records that store the moment they were computed as of (not an input).
SLA_RECORDS = {"CaseSla", "Evaluation"}


def test_the_moment_looked_from_is_as_of_and_columns_come_in_one_record() -> None:
    found = []
    for label, function, _ in _sla_callables():
        for parameter in _sla_parameters(function):
            if parameter.name == "at" or parameter.name.endswith("_col"):
                found.append((label, parameter.name))
            if parameter.name == "as_of" and label not in SLA_RECORDS:
                assert "Instant" in str(parameter.annotation), label
                assert parameter.kind is parameter.KEYWORD_ONLY, label
            if parameter.name.endswith("_columns"):
                assert parameter.kind is parameter.KEYWORD_ONLY, label
    assert found == []


def test_functions_with_six_or_more_parameters_document_every_one() -> None:
    undocumented: list[tuple[str, str]] = []
    for label, function, doc in _sla_callables():
        parameters = _sla_parameters(function)
        if len(parameters) < 6:
            continue
        undocumented.extend(
            (label, parameter.name)
            for parameter in parameters
            if not re.search(rf"^\s+{parameter.name}:", doc, re.MULTILINE)
        )
    assert undocumented == []
