"""The synthetic cases agree with their event log: replaying it with CASE_STATUS rebuilds them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlifecycle import Case
from crmlifecycle.entities import CASE_PRIORITIES
from crmlifecycle.events import Transitioned
from crmlifecycle.sla import SlaPolicy, case_sla, sla_status
from crmlifecycle.stages import CASE_STATUS
from crmlifecycle.synth import Dataset


def test_first_response_at_is_the_time_of_the_first_start_step(world: Dataset) -> None:
    events = world.case_events
    starts = events.loc[events["trigger"] == "start"].groupby("entity_id")["at"].min()
    cases = world.cases.set_index("case_id")
    expected = starts.reindex(cases.index)
    assert expected.notna().any()  # answered cases
    assert expected.isna().any()  # and cases not yet answered
    pd.testing.assert_series_equal(
        cases["first_response_at"], expected, check_names=False, check_freq=False
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _events_of(rows: pd.DataFrame) -> list[Transitioned]:
    return [
        Transitioned(
            kind=row["kind"],
            entity_id=row["entity_id"],
            trigger=row["trigger"],
            source=row["source"],
            dest=row["dest"],
            at=row["at"].to_pydatetime(),
        )
        for row in _records(rows)
    ]


def _time_or_none(value: Any) -> Any:
    return None if pd.isna(value) else value


def test_replaying_each_case_rebuilds_its_row(world: Dataset) -> None:
    by_case = dict(tuple(world.case_events.groupby("entity_id", sort=False)))
    checked = 0
    for row in _records(world.cases.head(400)):
        mine = by_case.get(row["case_id"], world.case_events.iloc[:0])
        escalated = int((mine["trigger"] == "escalate").sum())
        initial = Case(
            id=row["case_id"],
            customer_id=row["customer_id"],
            subject="synthetic",
            created_at=row["opened_at"].to_pydatetime(),
            priority=CASE_PRIORITIES[CASE_PRIORITIES.index(row["priority"]) - escalated],
            type=row["type"],
        )
        case = CASE_STATUS.replay(initial, _events_of(mine))
        assert case.state == row["state"]
        assert case.state_since == row["state_since"]
        assert case.priority == row["priority"]
        assert case.first_response_at == _time_or_none(row["first_response_at"])
        assert case.resolved_at == _time_or_none(row["resolved_at"])
        checked += 1
    assert checked == min(400, len(world.cases))


def test_both_sla_engines_read_the_synthetic_first_responses_alike(world: Dataset) -> None:
    policy = SlaPolicy(
        targets={p: {"first_response": "4h", "resolution": "40h"} for p in CASE_PRIORITIES}
    )
    as_of = world.case_events["at"].max()
    sample = world.cases.head(150)
    frame = sla_status(sample, policy, as_of=as_of, events=world.case_events)
    by_case = dict(tuple(world.case_events.groupby("entity_id", sort=False)))
    for index, row in zip(sample.index, _records(sample), strict=True):
        one = case_sla(
            policy,
            opened_at=row["opened_at"],
            priority=row["priority"],
            as_of=as_of,
            history=by_case.get(row["case_id"], world.case_events.iloc[:0]),
            first_response_at=row["first_response_at"],
        )
        assert one.first_response.status == frame.loc[index, "first_response_status"]
        if pd.notna(row["first_response_at"]):
            assert one.first_response.status in ("met", "breached")
