from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError, ValidationError
from crmlifecycle.metrics._backlog import backlog
from crmlifecycle.metrics._service import (
    first_response_time,
    resolution_time,
    sla_breach_rate,
)
from crmlifecycle.schema import CaseColumns, EventLogColumns
from crmlifecycle.sla import BusinessCalendar, SlaPolicy
from crmlifecycle.stages import Lifecycle

OFFICE = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
POLICY = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "4h"},
        "normal": {"first_response": "4h", "resolution": "16h"},
        "low": {},
    },
    calendar=OFFICE,
)


def stamps(*values: str | None) -> pd.Series:
    return pd.Series([pd.NaT if v is None else pd.Timestamp(v) for v in values]).astype(
        "datetime64[ns, UTC]"
    )


def cases_table() -> pd.DataFrame:
    # 2026-11-20 is a Friday.
    return pd.DataFrame(
        {
            "case_id": ["A", "B", "C", "D"],
            "opened_at": stamps(
                "2026-11-20T16:00Z", "2026-11-23T09:00Z", "2026-11-23T10:00Z", "2026-12-01T09:00Z"
            ),
            "first_response_at": stamps(
                "2026-11-23T10:00Z", "2026-11-23T09:30Z", None, "2026-12-01T09:10Z"
            ),
            "resolved_at": stamps("2026-11-23T15:00Z", "2026-11-23T17:00Z", None, None),
            "closed_at": stamps("2026-11-24T09:00Z", None, None, None),
            "priority": ["normal", "urgent", "normal", "low"],
        }
    )


class TestResponseAndResolutionTimes:
    def test_elapsed_hours(self) -> None:
        # A: Fri 16:00 -> Mon 10:00 = 66h; B: 0.5h; D: 10 min = 1/6 h; C pending
        table = first_response_time(cases_table())
        row = table.iloc[0]
        assert (row["count"], row["pending"]) == (3, 1)
        assert row["mean_hours"] == pytest.approx((66 + 0.5 + 1 / 6) / 3)
        assert row["median_hours"] == pytest.approx(0.5)
        # p90 of [1/6, 0.5, 66] by linear interpolation: position 0.9 * 2 = 1.8
        # -> 0.5 + 0.8 * (66 - 0.5) = 52.9
        assert row["p90_hours"] == pytest.approx(52.9)

    def test_business_hours(self) -> None:
        # A: Fri 16-17 (1h) + Mon 09-10 (1h) = 2h; B: 0.5h; D: 1/6 h
        table = first_response_time(cases_table(), calendar=OFFICE)
        assert table.loc[0, "mean_hours"] == pytest.approx((2 + 0.5 + 1 / 6) / 3)
        # resolution: A Fri 16 -> Mon 15 = 1 + 6 = 7h; B Mon 09 -> 17 = 8h
        resolved = resolution_time(cases_table(), calendar=OFFICE)
        assert [resolved.loc[0, "count"], resolved.loc[0, "pending"]] == [2, 2]
        assert resolved.loc[0, "mean_hours"] == pytest.approx(7.5)

    def test_by_period_and_segment(self) -> None:
        table = resolution_time(cases_table(), freq="M", by="priority")
        assert list(table.columns) == [
            "period",
            "priority",
            "count",
            "pending",
            "mean_hours",
            "median_hours",
            "p90_hours",
        ]
        assert table["period"].astype(str).tolist() == ["2026-11", "2026-11", "2026-12"]
        assert table["priority"].tolist() == ["normal", "urgent", "low"]
        # November normal: A resolved after 71h (Fri 16:00 -> Mon 15:00), C pending
        assert [table.loc[0, "count"], table.loc[0, "pending"]] == [1, 1]
        assert table.loc[0, "mean_hours"] == pytest.approx(71.0)
        # December low: D unresolved: count 0, statistics undefined
        assert table.loc[2, "count"] == 0
        assert table["mean_hours"].isna().tolist() == [False, False, True]

    def test_no_cases(self) -> None:
        table = first_response_time(cases_table().iloc[:0])
        assert [table.loc[0, "count"], table.loc[0, "pending"]] == [0, 0]
        assert table["median_hours"].isna().tolist() == [True]

    def test_bad_input(self) -> None:
        frame = cases_table()
        frame.loc[1, "first_response_at"] = pd.Timestamp("2026-11-22T09:00Z")
        with pytest.raises(DataError, match="before opened_at") as info:
            first_response_time(frame)
        assert info.value.rows == (1,)
        with pytest.raises(MissingColumnError):
            resolution_time(cases_table().drop(columns="resolved_at"))
        naive = cases_table().assign(opened_at=lambda f: f["opened_at"].dt.tz_localize(None))
        with pytest.raises(DataError, match="naive"):
            resolution_time(naive)


class TestBreachRate:
    def test_resolution_breaches_without_events(self) -> None:
        # at Tue 2026-11-24 12:00:
        # A normal 16h: Fri 1h + Mon 6h = 7h -> met.
        # B urgent 4h: 09:00 -> 17:00 = 8h -> breached (due 13:00).
        # C normal, open: Mon 10-17 = 7h + Tue 09-12 = 3h = 10h < 16h -> pending.
        # D not opened yet; low has no target anyway. Rate = 1 / (1 + 1) = 0.5
        at = "2026-11-24T12:00Z"
        assert sla_breach_rate(cases_table(), POLICY, as_of=at) == 0.5
        table = sla_breach_rate(cases_table(), POLICY, as_of=at, by="priority")
        assert table.to_dict("list") == {
            "priority": ["normal", "urgent"],
            "breach_rate": [0.0, 1.0],
            "breached": [0, 1],
            "met": [1, 0],
            "pending": [1, 0],
        }

    def test_first_response_and_any(self) -> None:
        # first response at Tue 12:00: A 2h <= 4h met; B 0.5h <= 1h met;
        # C no answer after 10h > 4h -> breached. 1 / 3
        at = "2026-11-24T12:00Z"
        rate = sla_breach_rate(cases_table(), POLICY, as_of=at, target="first_response")
        assert rate == pytest.approx(1 / 3)
        # any: A met both; B breached resolution; C breached first response -> 2 / 3
        assert sla_breach_rate(cases_table(), POLICY, as_of=at, target="any") == pytest.approx(
            2 / 3
        )

    def test_events_pause_the_clock(self) -> None:
        # B waited on the customer from 10:00 to 15:00: 09-10 + 15-17 = 3h <= 4h -> met
        events = pd.DataFrame(
            {
                "kind": "case",
                "entity_id": ["B", "B", "B", "B"],
                "dest": ["in_progress", "waiting_on_customer", "in_progress", "resolved"],
                "at": stamps(
                    "2026-11-23T09:30Z",
                    "2026-11-23T10:00Z",
                    "2026-11-23T15:00Z",
                    "2026-11-23T17:00Z",
                ),
            }
        )
        cases = cases_table().iloc[[1]]
        assert sla_breach_rate(cases, POLICY, as_of="2026-11-24T12:00Z", events=events) == 0.0
        assert sla_breach_rate(cases, POLICY, as_of="2026-11-24T12:00Z") == 1.0

    def test_undefined_when_nothing_is_decided(self) -> None:
        # at Mon 09:30 only B (urgent, opened 09:00) and A exist; both still within target
        at = "2026-11-23T09:30Z"
        assert math.isnan(sla_breach_rate(cases_table(), POLICY, as_of=at))

    def test_periods(self) -> None:
        table = sla_breach_rate(cases_table(), POLICY, as_of="2026-12-31T00:00Z", freq="M")
        # November: A met, B breached, C breached (open since Nov 23 well past 16h) -> 2/3
        assert table["period"].astype(str).tolist() == ["2026-11"]
        assert table["breach_rate"].tolist() == pytest.approx([2 / 3])

    def test_bad_target(self) -> None:
        with pytest.raises(ValidationError, match="first_response"):
            sla_breach_rate(cases_table(), POLICY, as_of="2026-12-01", target="both")  # type: ignore[call-overload]


class TestBacklog:
    def test_by_state_and_priority_from_timestamps(self) -> None:
        # at Mon 2026-11-23 12:00: A answered (in_progress), B answered, C new; D not opened
        table = backlog(cases_table(), as_of="2026-11-23T12:00Z", by=("state", "priority"))
        assert table.to_dict("list") == {
            "state": ["in_progress", "in_progress", "new"],
            "priority": ["normal", "urgent", "normal"],
            "open_cases": [1, 1, 1],
            "median_age_hours": [68.0, 3.0, 2.0],  # Fri 16:00 -> Mon 12:00 = 68h
            "max_age_hours": [68.0, 3.0, 2.0],
        }

    def test_count_and_resolution_removes_cases(self) -> None:
        # at Tue 12:00: A closed, B resolved, C open; D not opened
        assert backlog(cases_table(), as_of="2026-11-24T12:00Z") == 1
        # on Dec 2nd C and D are open
        assert backlog(cases_table(), as_of="2026-12-02") == 2

    def test_state_from_events(self) -> None:
        events = pd.DataFrame(
            {
                "kind": ["case", "case", "lead"],
                "entity_id": ["C", "C", "C"],
                "dest": ["in_progress", "waiting_on_customer", "closed"],
                "at": stamps("2026-11-23T11:00Z", "2026-11-23T11:30Z", "2026-11-23T11:40Z"),
            }
        )
        table = backlog(cases_table(), as_of="2026-11-23T12:00Z", events=events, by="state")
        # A and B have no events: "new" by the log; C waits on the customer
        assert table["state"].tolist() == ["new", "waiting_on_customer"]
        assert table["open_cases"].tolist() == [2, 1]

    def test_state_by_overrides_the_frames_current_state_column(self) -> None:
        # the frame's `state` is its state today; by="state" is the state as of the moment
        cases = cases_table().assign(state="closed")
        table = backlog(cases, as_of="2026-11-23T12:00Z", by="state")
        assert table["state"].tolist() == ["in_progress", "new"]
        assert table["open_cases"].tolist() == [2, 1]

    def test_empty_by_is_refused(self) -> None:
        # a table was asked for but no segment named: say so instead of returning a count
        with pytest.raises(ValidationError, match="by"):
            backlog(cases_table(), as_of="2026-12-01", by=[])
        with pytest.raises(ValidationError, match="by"):
            sla_breach_rate(cases_table(), POLICY, as_of="2026-12-01", by=())

    def test_bad_input(self) -> None:
        with pytest.raises(MissingColumnError, match="closed_at"):
            backlog(cases_table().drop(columns="closed_at"), as_of="2026-12-01")
        with pytest.raises(DataError, match="naive"):
            backlog(cases_table(), as_of="2026-12-01T10:00")


@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.none() | st.integers(0, 500)), min_size=1, max_size=20
    ),
    st.integers(0, 1000),
)
def test_backlog_counts_cases_open_at_the_moment(
    rows: list[tuple[int, int | None]], moment: int
) -> None:
    base = pd.Timestamp("2026-11-02T00:00Z")
    opened = [base + pd.Timedelta(hours=o) for o, _ in rows]
    resolved = [None if r is None else base + pd.Timedelta(hours=o + r) for o, r in rows]
    utc = "datetime64[ns, UTC]"
    cases = pd.DataFrame(
        {
            "opened_at": pd.Series(opened, dtype=utc),
            "first_response_at": pd.Series([pd.NaT] * len(rows), dtype=utc),
            "resolved_at": pd.Series([pd.NaT if r is None else r for r in resolved], dtype=utc),
            "closed_at": pd.Series([pd.NaT] * len(rows), dtype=utc),
        }
    )
    at = base + pd.Timedelta(hours=moment)
    expected = sum(
        1 for o, r in zip(opened, resolved, strict=True) if o <= at and (r is None or r > at)
    )
    assert backlog(cases, as_of=at) == expected


def test_service_kpis_read_renamed_columns() -> None:
    renamed = cases_table().rename(
        columns={
            "case_id": "ticket",
            "opened_at": "opened",
            "first_response_at": "answered",
            "resolved_at": "solved",
            "closed_at": "done",
        }
    )
    cols = CaseColumns(
        case_id="ticket",
        opened_at="opened",
        first_response_at="answered",
        resolved_at="solved",
        closed_at="done",
    )
    pd.testing.assert_frame_equal(
        resolution_time(renamed, cases_columns=cols), resolution_time(cases_table())
    )
    pd.testing.assert_frame_equal(
        first_response_time(renamed, cases_columns=cols), first_response_time(cases_table())
    )
    assert sla_breach_rate(
        renamed, POLICY, as_of="2026-12-02", cases_columns=cols
    ) == sla_breach_rate(cases_table(), POLICY, as_of="2026-12-02")
    # at Tue 12:00: A closed, B resolved, C open (as in test_count_and_resolution_removes_cases)
    assert backlog(renamed, as_of="2026-11-24T12:00Z", cases_columns=cols) == 1
    events = pd.DataFrame(
        {
            "kind": ["case"],
            "entity_id": ["C"],
            "dest": ["closed"],
            "when": stamps("2026-11-23T11:00Z"),
        }
    )
    # C closed by the log: A and B (no events) stay "new" and open
    log_cols = EventLogColumns(at="when")
    assert (
        backlog(
            renamed,
            as_of="2026-11-23T12:00Z",
            events=events,
            cases_columns=cols,
            events_columns=log_cols,
        )
        == 2
    )
    # the SLA engine reads the renamed log too: B's pause from the log keeps it within target
    pause = pd.DataFrame(
        {
            "kind": "case",
            "entity_id": ["B", "B", "B", "B"],
            "dest": ["in_progress", "waiting_on_customer", "in_progress", "resolved"],
            "when": stamps(
                "2026-11-23T09:30Z", "2026-11-23T10:00Z", "2026-11-23T15:00Z", "2026-11-23T17:00Z"
            ),
        }
    )
    one = renamed.iloc[[1]]
    rate = sla_breach_rate(
        one,
        POLICY,
        as_of="2026-11-24T12:00Z",
        events=pause,
        cases_columns=cols,
        events_columns=log_cols,
    )
    assert rate == 0.0


_TICKETS = Lifecycle.from_dict(
    {
        "name": "ticket",
        "initial": "open",
        "states": [
            {"name": "open", "type": "open"},
            {"name": "working", "type": "ongoing"},
            {"name": "done", "type": "won"},
        ],
        "transitions": [
            {"trigger": "work", "source": "open", "dest": "working"},
            {"trigger": "finish", "source": "working", "dest": "done"},
        ],
    }
)


def _tickets() -> tuple[pd.DataFrame, pd.DataFrame]:
    cases = pd.DataFrame(
        {
            "case_id": ["T1", "T2", "T3"],
            "opened_at": pd.to_datetime(["2026-11-23T09:00Z"] * 3),
            "priority": ["high", "low", "low"],
        }
    )
    events = pd.DataFrame(
        {
            "kind": ["ticket", "ticket", "ticket", "case"],
            "entity_id": ["T1", "T1", "T2", "T3"],
            "dest": ["working", "done", "working", "closed"],
            "at": pd.to_datetime(["2026-11-23T10:00Z", "2026-11-23T11:00Z"] * 2),
        }
    )
    return cases, events


def test_backlog_reads_states_and_closed_stages_from_the_lifecycle() -> None:
    cases, events = _tickets()
    # T1 done (won: closed) at 11:00; T2 working; T3 has no ticket event (its 'case' row is
    # another lifecycle's) so it is in the initial state 'open'.
    table = backlog(cases, as_of="2026-11-23T12:00Z", events=events, lifecycle=_TICKETS, by="state")
    assert table[["state", "open_cases"]].to_numpy().tolist() == [["open", 1], ["working", 1]]
    assert backlog(cases, as_of="2026-11-23T10:30Z", events=events, lifecycle=_TICKETS) == 3


def test_backlog_refuses_states_the_lifecycle_does_not_know_and_a_custom_one_without_events() -> (
    None
):
    cases, events = _tickets()
    typo = events.assign(dest=events["dest"].replace({"done": "dnoe"}))
    with pytest.raises(DataError, match=r"does not know: \['dnoe'\]"):
        backlog(cases, as_of="2026-11-23T12:00Z", events=typo, lifecycle=_TICKETS)
    with pytest.raises(DataError, match="pass the case event log as events="):
        backlog(cases, as_of="2026-11-23T12:00Z", lifecycle=_TICKETS)
