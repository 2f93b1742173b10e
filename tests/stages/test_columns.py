"""The frame paths read their columns from one spec record per frame, defaulting to the contract."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlifecycle.errors import MissingColumnError, ValidationError
from crmlifecycle.schema import SCHEMA, EventLogColumns
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    StepFrameColumns,
    fire_frame,
    replay_frame,
)

AT = pd.Timestamp("2026-03-01", tz="UTC")


def test_the_event_log_columns_are_the_contract() -> None:
    leads = pd.DataFrame({"lead_id": ["L-1"], "state": ["open"]})
    events = LEAD_STATUS.fire_frame(leads, "contact", at=AT).events
    contract = list(events.columns)[1:7]  # after the event tag, before the envelope
    assert contract == list(SCHEMA["lead_events"])
    assert contract == list(EventLogColumns().names().values())


def test_synth_event_logs_replay_with_the_default_columns() -> None:
    from crmlifecycle import synth

    data = synth.generate(seed=1, n_leads=200)
    logs = [
        (LEAD_STATUS, data.lead_events),
        (OPPORTUNITY_PIPELINE, data.opportunity_events),
        (CUSTOMER_LIFECYCLE, data.customer_events),
        (CASE_STATUS, data.case_events),
    ]
    for lifecycle, events in logs:
        assert len(events) > 0, lifecycle.name
        states = lifecycle.replay_frame(events)
        # one row per entity of the log, each with as many steps as the log holds for it
        counts = events.groupby("entity_id").size()
        assert sorted(states.index) == sorted(counts.index)
        assert states["events"].to_dict() == counts.to_dict()
        # the last logged dest of each entity (rows are in time order per entity)
        last = events.sort_values("at", kind="stable").groupby("entity_id")["dest"].last()
        assert states["state"].astype(str).to_dict() == last.astype(str).to_dict()
        # and the public function is the method
        pd.testing.assert_frame_equal(replay_frame(lifecycle, events), states)


@pytest.mark.parametrize(
    ("lifecycle", "frame_name", "id_column", "trigger", "sources"),
    [
        (LEAD_STATUS, "leads", "lead_id", "contact", {"open"}),
        (
            OPPORTUNITY_PIPELINE,
            "opportunities",
            "opportunity_id",
            "win",
            {"prospecting", "qualification", "proposal", "negotiation"},
        ),
        (
            CUSTOMER_LIFECYCLE,
            "customers",
            "customer_id",
            "churn",
            {"acquisition", "conversion", "retention", "loyalty"},
        ),
        (
            CASE_STATUS,
            "cases",
            "case_id",
            "escalate",
            {"new", "in_progress", "waiting_on_customer"},
        ),
    ],
)
def test_fire_frame_runs_on_synth_entity_frames_with_the_default_columns(
    lifecycle: Lifecycle, frame_name: str, id_column: str, trigger: str, sources: set[str]
) -> None:
    from crmlifecycle import synth

    frame = getattr(synth.generate(seed=1, n_leads=200), frame_name)
    # `sources` are the states the standard definition fires `trigger` from
    step = lifecycle.fire_frame(frame, trigger, at="2030-01-01")
    expected = frame["state"].astype(str).isin(sources)
    # at the end of this small world every case is closed: all of them are refused
    assert 0 < int(expected.sum()) < len(frame) or (frame_name == "cases" and not expected.any())
    assert step.accepted.tolist() == expected.tolist()
    assert (step.reason[~expected] == "not allowed from this state").all()
    assert step.events["entity_id"].tolist() == frame[id_column][expected].tolist()


def test_fire_frame_runs_on_a_replayed_snapshot_with_the_default_columns() -> None:
    from crmlifecycle import synth

    data = synth.generate(seed=1, n_leads=200)
    # the entities frame the library's own frames use: <kind>_id, state, state_since
    deals = (
        OPPORTUNITY_PIPELINE.replay_frame(data.opportunity_events, as_of="2024-09-01")
        .reset_index()
        .rename(columns={"entity_id": "opportunity_id"})
    )
    step = OPPORTUNITY_PIPELINE.fire_frame(deals, "win", at="2027-01-01")
    open_stages = {s.name for s in OPPORTUNITY_PIPELINE.stages if not s.closed}
    expected = deals["state"].astype(str).isin(open_stages).tolist()
    assert 0 < sum(expected) < len(expected)  # some open deals win, the closed ones are refused
    assert step.accepted.tolist() == expected
    assert step.events["entity_id"].tolist() == deals["opportunity_id"][expected].tolist()


def test_renamed_columns() -> None:
    leads = pd.DataFrame(
        {
            "lead": ["L-1", "L-2"],
            "status": ["open", "contacted"],
            "since": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "next": ["contact", "qualify"],
        }
    )
    columns = StepFrameColumns(id="lead", state="status", state_since="since", trigger="next")
    step = fire_frame(LEAD_STATUS, leads, at=AT, entities_columns=columns)
    assert step.frame["status"].tolist() == ["contacted", "qualified"]
    assert step.frame["since"].tolist() == [AT, AT]
    assert step.events["entity_id"].tolist() == ["L-1", "L-2"]
    log = step.events.rename(columns={"entity_id": "lead", "at": "changed_at"})
    cols = EventLogColumns(entity_id="lead", at="changed_at")
    states = LEAD_STATUS.replay_frame(log, events_columns=cols)
    assert states.index.name == "lead"
    assert states["state"].astype(str).to_dict() == {"L-1": "contacted", "L-2": "qualified"}
    with pytest.raises(MissingColumnError, match="entity_id"):
        LEAD_STATUS.replay_frame(log)


def test_the_step_frame_record_checks_its_names() -> None:
    assert StepFrameColumns().id_for("case") == "case_id"
    assert StepFrameColumns(context=["lost_reason", "note"]).context == ("lost_reason", "note")
    with pytest.raises(ValidationError, match="state"):
        StepFrameColumns(state="")
    with pytest.raises(ValidationError, match="id"):
        StepFrameColumns(id=" ")
    with pytest.raises(ValidationError, match="context"):
        StepFrameColumns(context=("lost_reason", ""))
    with pytest.raises(ValidationError, match="context"):
        StepFrameColumns(context=5)
