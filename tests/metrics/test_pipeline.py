from __future__ import annotations

import copy
import math
from typing import Any

import pandas as pd
import pytest

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics import (
    average_deal_size,
    conversion_rate,
    deal_stages,
    forecast,
    funnel,
    sales_cycle_length,
    stage_spells,
    stage_velocity,
    time_in_stage,
    weighted_pipeline,
    win_rate,
)
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages import LEAD_STATUS, STANDARD_SPECS, Lifecycle

OPPORTUNITY_SPEC = STANDARD_SPECS["opportunity"]


def _lifecycle(spec: dict[str, Any]) -> Lifecycle:
    return Lifecycle.from_dict(spec)


def _without_metadata(spec: dict[str, Any], key: str) -> dict[str, Any]:
    """The spec with ``key`` (e.g. every stage's probability) removed from its states."""
    bare = copy.deepcopy(spec)
    for state in bare["states"]:
        state.pop(key, None)
    return bare


def _renamed(spec: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The spec with the state ``old`` renamed ``new`` (its name and the transitions)."""
    renamed = copy.deepcopy(spec)
    for state in renamed["states"]:
        state["name"] = new if state["name"] == old else state["name"]
    for transition in renamed["transitions"]:
        for end in ("source", "dest"):
            value = transition.get(end)
            if isinstance(value, list):
                transition[end] = [new if v == old else v for v in value]
            elif value == old:
                transition[end] = new
    return renamed


def utc(*stamps: str) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


@pytest.fixture
def deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5"],
            "owner": ["ann", "ann", "bob", "bob", "ann"],
            "amount": [1000.0, 2000.0, 4000.0, 500.0, 800.0],
            "state": ["won", "lost", "won", "negotiation", "prospecting"],
            "created_at": utc("2026-01-01", "2026-01-02", "2026-01-05", "2026-02-01", "2026-03-01"),
        }
    )


@pytest.fixture
def events() -> pd.DataFrame:
    rows = [
        ("o1", "prospecting", "qualification", "2026-01-03"),
        ("o1", "qualification", "proposal", "2026-01-10"),
        ("o1", "proposal", "won", "2026-01-21"),
        ("o2", "prospecting", "qualification", "2026-01-04"),
        ("o2", "qualification", "lost", "2026-01-14"),
        ("o3", "prospecting", "qualification", "2026-01-06"),
        ("o3", "qualification", "proposal", "2026-01-16"),
        ("o3", "proposal", "negotiation", "2026-02-01"),
        ("o3", "negotiation", "won", "2026-02-15"),
        ("o4", "prospecting", "proposal", "2026-02-05"),
        ("o4", "proposal", "negotiation", "2026-02-20"),
    ]
    frame = pd.DataFrame(rows, columns=["entity_id", "source", "dest", "at"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame.insert(0, "kind", "opportunity")
    return frame.iloc[::-1].reset_index(drop=True)  # row order must not matter


def created(deals: pd.DataFrame) -> pd.Series:
    return pd.Series(deals["created_at"].to_numpy(), index=deals["opportunity_id"])


def test_stage_spells(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    spells = stage_spells(events, created=created(deals))
    o1 = spells.loc[spells["entity_id"] == "o1"]
    assert o1["state"].tolist() == ["prospecting", "qualification", "proposal", "won"]
    # o1: created 1 Jan, qualified 3 Jan (2 days), proposal 10 Jan (7), won 21 Jan (11)
    assert o1["days"].tolist()[:3] == [2.0, 7.0, 11.0]
    assert math.isnan(o1["days"].tolist()[3])


def test_broken_log_is_an_error(events: pd.DataFrame) -> None:
    broken = events.copy()
    broken.loc[broken["dest"] == "won", "source"] = "prospecting"
    with pytest.raises(DataError, match="does not match the previous event"):
        stage_spells(broken)


def test_funnel_and_conversion(events: pd.DataFrame) -> None:
    table = funnel(events)
    # reached (high-water mark): prospecting o1-o4 = 4; qualification o1, o2, o3, o4 (skipped
    # to proposal) = 4; proposal o1, o3, o4 = 3; negotiation o1 (won), o3, o4 = 3; won o1, o3 = 2
    assert table["reached"].tolist() == [4, 4, 3, 3, 2]
    assert table["conversion_from_first"].tolist() == [1.0, 1.0, 0.75, 0.75, 0.5]
    assert conversion_rate(events, from_stage="proposal", to_stage="won") == pytest.approx(2 / 3)
    # as of 31 Jan: o1 won; o3 in proposal; o4 not started: won 1 of 3 in the log
    assert conversion_rate(
        events, from_stage="prospecting", to_stage="won", as_of="2026-01-31"
    ) == pytest.approx(1 / 3)
    with pytest.raises(DataError, match="comes before"):
        conversion_rate(events, from_stage="won", to_stage="proposal")
    with pytest.raises(DataError, match="not one of the funnel stages"):
        conversion_rate(events, from_stage="lost", to_stage="won")


def test_conversion_per_period_needs_entry_times(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="created="):
        conversion_rate(events, from_stage="prospecting", to_stage="won", freq="M")
    table = conversion_rate(
        events, from_stage="prospecting", to_stage="won", freq="M", created=created(deals)
    )
    # January: o1, o2, o3 entered, o1 and o3 won; February: o4, not won
    assert table["entered"].tolist() == [3, 1]
    assert table["conversion_rate"].tolist() == pytest.approx([2 / 3, 0.0])


def test_time_in_stage_distribution(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    table = time_in_stage(events, created=created(deals))
    # one row per state of the opportunity pipeline, in order, lost included
    assert table["state"].tolist() == [
        "prospecting",
        "qualification",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    row = table.set_index("state")
    # prospecting: o1 2, o2 2, o3 1, o4 4 days
    assert row.loc["prospecting", "spells"] == 4
    assert row.loc["prospecting", "mean_days"] == pytest.approx(9 / 4)
    assert row.loc["prospecting", "median_days"] == pytest.approx(2.0)
    assert row.loc["prospecting", "max_days"] == pytest.approx(4.0)
    # qualification: o1 7, o2 10, o3 10
    assert row.loc["qualification", "median_days"] == pytest.approx(10.0)
    as_of = time_in_stage(events, as_of="2026-02-10").set_index("state")
    assert as_of.loc["negotiation", "open_spells"] == 1  # o3, still negotiating


def test_stage_velocity(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    table = stage_velocity(events, created=created(deals)).set_index("state")
    # qualification exits: o1 -> proposal, o2 -> lost, o3 -> proposal
    assert table.loc["qualification", "exits"] == 3
    assert table.loc["qualification", "advanced"] == 2
    assert table.loc["qualification", "median_days_to_advance"] == pytest.approx(8.5)  # 7, 10


def test_deal_stages_as_of(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    table = deal_stages(deals, events, as_of="2026-02-10").set_index("opportunity_id")
    assert table["state_as_of"].to_dict() == {
        "o1": "won",
        "o2": "lost",
        "o3": "negotiation",
        "o4": "proposal",
    }  # o5 was created later
    # o4 has no event by 4 Feb: it is in its first stage since creation
    early = deal_stages(deals, events, as_of="2026-02-04").set_index("opportunity_id")
    assert early.loc["o4", "state_as_of"] == "prospecting"
    assert early.loc["o4", "state_since_as_of"] == pd.Timestamp("2026-02-01", tz="UTC")
    # o5 has no event at all: its current stage is its first stage
    assert deal_stages(deals, events).set_index("opportunity_id").loc["o5", "state_as_of"] == (
        "prospecting"
    )


def test_win_rate_deal_size_and_cycle(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    # won o1, o3; lost o2 -> 2 / 3
    assert win_rate(deals, events) == pytest.approx(2 / 3)
    assert win_rate(deals, events, as_of="2026-01-31") == 0.5  # o1 won, o2 lost
    nothing_closed = win_rate(deals, events, as_of="2026-01-05")
    assert math.isnan(nothing_closed)
    by_owner = win_rate(deals, events, by="owner")
    assert by_owner.set_index("owner")["win_rate"].to_dict() == {"ann": 0.5, "bob": 1.0}
    # two won deals, 1000 and 4000, average 2500
    assert average_deal_size(deals, events) == 2500.0
    # o1: 1 Jan -> 21 Jan = 20 days; o3: 5 Jan -> 15 Feb = 41 days
    assert sales_cycle_length(deals, events) == pytest.approx(30.5)
    monthly = sales_cycle_length(deals, events, freq="M")
    assert monthly["median_days"].tolist() == [20.0, 41.0]
    with pytest.raises(DataError, match="statistic"):
        sales_cycle_length(deals, events, statistic="mode")


def test_weighted_pipeline_and_forecast(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    # now: o4 negotiation 500 * 80% + o5 prospecting 800 * 10% = 400 + 80
    assert weighted_pipeline(deals, events) == pytest.approx(480.0)
    # 20 Jan: o1 proposal 1000 * 50%, o3 proposal 4000 * 50%; o2 lost; o4/o5 not created
    assert weighted_pipeline(deals, events, as_of="2026-01-20") == pytest.approx(2500.0)
    table = forecast(deals, events, start="2026-02-01").set_index("category")
    # o2 (lost 14 Jan) and o1 (won 21 Jan) closed before the window: only o3 is closed
    assert table["deals"].to_dict() == {"closed": 1, "commit": 1, "pipeline": 1}
    assert table.loc["closed", "amount"] == 4000.0  # o3; o1 closed in January
    bare = _lifecycle(_without_metadata(OPPORTUNITY_SPEC, "probability"))
    with pytest.raises(DataError, match=r"no win probability for stage.*'negotiation'") as info:
        weighted_pipeline(deals, events, lifecycle=bare)
    assert "Hint:" in str(info.value)
    uncategorised = _lifecycle(_without_metadata(OPPORTUNITY_SPEC, "forecast"))
    with pytest.raises(DataError, match="no forecast category for stage"):
        forecast(deals, events, lifecycle=uncategorised)


def test_pipeline_bad_amounts(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="missing"):
        average_deal_size(deals.assign(amount=[math.nan, 1.0, 2.0, 3.0, 4.0]), events)
    with pytest.raises(DataError, match="unique"):
        win_rate(pd.concat([deals, deals]), events)


def mixed_log(events: pd.DataFrame) -> pd.DataFrame:
    """Add lead and case events whose ids collide with deal ids (one log of every lifecycle)."""
    others = pd.DataFrame(
        {
            "kind": ["lead", "lead", "case", "case"],
            "entity_id": ["o5", "o5", "o4", "o4"],
            "source": ["open", "contacted", "new", "in_progress"],
            "dest": ["contacted", "qualified", "in_progress", "resolved"],
            "at": utc("2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"),
        }
    )
    return pd.concat([events, others], ignore_index=True)


def test_every_pipeline_kpi_keeps_only_deal_events_of_a_mixed_log(
    deals: pd.DataFrame, events: pd.DataFrame
) -> None:
    mixed = mixed_log(events)
    # o4's case events and o5's lead events must not become deal stages: the answers equal
    # those on the deal-only log (win rate: o1, o3 won of o1, o2, o3 closed = 2/3;
    # weighted: o4 negotiation 500 x 80% + o5 prospecting 800 x 10% = 480)
    assert win_rate(deals, mixed) == pytest.approx(2 / 3)
    assert average_deal_size(deals, mixed) == 2500.0  # (1000 + 4000) / 2
    assert sales_cycle_length(deals, mixed) == pytest.approx((20 + 41) / 2)  # Jan 1->21, 5->Feb 15
    assert weighted_pipeline(deals, mixed) == pytest.approx(480.0)
    table = forecast(deals, mixed)
    assert table.set_index("category")["deals"].to_dict() == {
        "closed": 2,
        "commit": 1,
        "omitted": 1,
        "pipeline": 1,
    }
    stages = deal_stages(deals, mixed)
    assert stages.set_index("opportunity_id")["state_as_of"].to_dict()["o4"] == "negotiation"
    for function in (funnel, time_in_stage, stage_velocity):
        pd.testing.assert_frame_equal(function(mixed), function(events))
    assert conversion_rate(mixed, from_stage="prospecting", to_stage="won") == conversion_rate(
        events, from_stage="prospecting", to_stage="won"
    )
    pd.testing.assert_frame_equal(stage_spells(mixed), stage_spells(events))
    # lifecycle= picks another lifecycle of the same log, and its kind of rows: o5's lead
    # events open -> contacted -> qualified reach the lead funnel's first three stages
    leads = funnel(mixed, lifecycle=LEAD_STATUS)
    assert leads["state"].tolist() == ["open", "contacted", "qualified", "converted"]
    assert leads["reached"].tolist() == [1, 1, 1, 0]


def test_pipeline_kpis_read_renamed_event_columns(
    deals: pd.DataFrame, events: pd.DataFrame
) -> None:
    renamed = mixed_log(events).rename(
        columns={
            "kind": "lifecycle",
            "entity_id": "deal",
            "source": "from",
            "dest": "to",
            "at": "when",
        }
    )
    cols = EventLogColumns(kind="lifecycle", entity_id="deal", source="from", dest="to", at="when")
    assert win_rate(deals, renamed, events_columns=cols) == pytest.approx(2 / 3)
    assert average_deal_size(deals, renamed, events_columns=cols) == 2500.0
    assert sales_cycle_length(deals, renamed, events_columns=cols) == pytest.approx(30.5)
    assert weighted_pipeline(deals, renamed, events_columns=cols) == pytest.approx(480.0)
    total = forecast(deals, renamed, events_columns=cols)["deals"].sum()
    assert total == 5
    pd.testing.assert_frame_equal(funnel(renamed, events_columns=cols), funnel(events))


def test_a_log_without_a_kind_column_is_one_lifecycle(
    deals: pd.DataFrame, events: pd.DataFrame
) -> None:
    plain = events.drop(columns=["kind"])
    assert win_rate(deals, plain) == pytest.approx(2 / 3)
    pd.testing.assert_frame_equal(funnel(plain), funnel(events))


def test_a_kind_absent_from_the_log_is_an_error(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"no event of kind 'lead'.*\['opportunity'\]") as info:
        funnel(events, kind="lead")
    assert "Hint:" in str(info.value)
    # kind= names the lifecycle's rows when the log spells the kind differently
    relabelled = events.assign(kind="deal")
    pd.testing.assert_frame_equal(funnel(relabelled, kind="deal"), funnel(events))
    assert win_rate(deals, relabelled, kind="deal") == pytest.approx(2 / 3)


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_kind_filter_treats_a_missing_kind_as_another_kind(dtype: str) -> None:
    from crmlifecycle.metrics import stage_spells

    log = pd.DataFrame(
        {
            "kind": pd.Series(["opportunity", None, "opportunity"], dtype=dtype),
            "entity_id": ["O-1", "O-1", "O-1"],
            "trigger": ["qualify", "x", "propose"],
            "source": ["prospecting", "qualification", "qualification"],
            "dest": ["qualification", "qualification", "proposal"],
            "at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-01-05"], utc=True),
        }
    )
    spells = stage_spells(log)
    # the row without a kind is dropped (read as part of the log, its self-transition at
    # 01-03 would split qualification in two): prospecting, qualification 01-02..01-05, proposal
    assert spells["state"].tolist() == ["prospecting", "qualification", "proposal"]


def test_renaming_a_stage_is_a_change_to_the_lifecycle_only(
    deals: pd.DataFrame, events: pd.DataFrame
) -> None:
    # rename "won" to "closed_won" and "negotiation" to "negotiating" in the lifecycle and in
    # the data: every KPI gives the numbers of the standard pipeline on the standard data
    spec = _renamed(_renamed(OPPORTUNITY_SPEC, "won", "closed_won"), "negotiation", "negotiating")
    pipeline = _lifecycle(spec)
    names = {"won": "closed_won", "negotiation": "negotiating"}
    log = events.replace({"source": names, "dest": names})
    book = deals.replace({"state": names})
    assert win_rate(book, log, lifecycle=pipeline) == pytest.approx(2 / 3)
    assert average_deal_size(book, log, lifecycle=pipeline) == 2500.0
    assert sales_cycle_length(book, log, lifecycle=pipeline) == pytest.approx(30.5)
    assert weighted_pipeline(book, log, lifecycle=pipeline) == pytest.approx(480.0)
    table = forecast(book, log, lifecycle=pipeline, start="2026-02-01")
    assert table.set_index("category")["deals"].to_dict() == {
        "closed": 1,
        "commit": 1,
        "pipeline": 1,
    }
    assert funnel(log, lifecycle=pipeline)["reached"].tolist() == [4, 4, 3, 3, 2]
    assert conversion_rate(
        log, from_stage="proposal", to_stage="closed_won", lifecycle=pipeline
    ) == pytest.approx(2 / 3)
    # the old names are no stages of the renamed pipeline
    with pytest.raises(DataError, match="not one of the funnel stages"):
        conversion_rate(log, from_stage="proposal", to_stage="won", lifecycle=pipeline)


def test_won_and_lost_come_from_the_stage_types(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    # a pipeline with two won stages: "won" and "won_expanded"; o3's win counts either way
    spec = copy.deepcopy(OPPORTUNITY_SPEC)
    spec["states"].insert(
        5, {"name": "won_expanded", "type": "won", "probability": 100, "forecast": "closed"}
    )
    spec["transitions"].append({"trigger": "expand", "source": "won", "dest": "won_expanded"})
    pipeline = _lifecycle(spec)
    expanded = pd.concat(
        [
            events,
            pd.DataFrame(
                {
                    "kind": ["opportunity"],
                    "entity_id": ["o3"],
                    "source": ["won"],
                    "dest": ["won_expanded"],
                    "at": utc("2026-03-01"),
                }
            ),
        ],
        ignore_index=True,
    )
    # won o1, o3 (now won_expanded) of closed o1, o2, o3
    assert win_rate(deals, expanded, lifecycle=pipeline) == pytest.approx(2 / 3)
    assert average_deal_size(deals, expanded, lifecycle=pipeline) == 2500.0
    # a lifecycle without a won state cannot give a win rate
    nothing_won = _lifecycle(
        {
            "name": "opportunity",
            "states": [{"name": "prospecting"}, {"name": "lost", "type": "lost"}],
            "transitions": [{"trigger": "lose", "source": "prospecting", "dest": "lost"}],
        }
    )
    with pytest.raises(DataError, match=r"no state of type 'won'.*Hint:"):
        win_rate(deals, events, lifecycle=nothing_won)


def test_an_empty_by_is_refused(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    # by=None is the whole data as a number; by=[] names no segment yet asks for a table
    with pytest.raises(ValidationError, match="'by' must be a column name or a non-empty list"):
        win_rate(deals, events, by=[])
    with pytest.raises(ValidationError, match="by=None"):
        conversion_rate(events, from_stage="prospecting", to_stage="won", by=[])
    with pytest.raises(ValidationError):
        weighted_pipeline(deals, events, by=())


def test_a_table_without_segments_with_freq(deals: pd.DataFrame, events: pd.DataFrame) -> None:
    # freq alone gives a table even when nothing is segmented: won o1 in January, o3 February
    table = win_rate(deals, events, freq="M")
    assert table["period"].astype(str).tolist() == ["2026-01", "2026-02"]
    # January: o1 won, o2 lost; February: o3 won
    assert table["win_rate"].tolist() == [0.5, 1.0]


def test_stages_outside_the_lifecycle_are_an_error(
    deals: pd.DataFrame, events: pd.DataFrame
) -> None:
    # the lead rows read with the opportunity pipeline: no funnel of zeros, a clear error
    mixed = mixed_log(events)
    with pytest.raises(DataError, match=r"not states of the 'opportunity' lifecycle") as info:
        funnel(mixed, kind="lead")
    assert info.value.column == "dest"
    assert "LEAD_STATUS" in str(info.value)
    for call in (time_in_stage, stage_velocity):
        with pytest.raises(DataError, match="not states of the 'opportunity' lifecycle"):
            call(mixed, kind="lead")
    # the deal rows read with the lead lifecycle
    with pytest.raises(DataError, match="not states of the 'lead' lifecycle"):
        win_rate(deals, mixed, lifecycle=LEAD_STATUS, kind="opportunity")
    # a deal whose current state the pipeline does not know
    odd = deals.assign(state=["won", "lost", "won", "negotiation", "on_ice"])
    with pytest.raises(DataError, match=r"'state' holds stage\(s\) \['on_ice'\]") as info:
        weighted_pipeline(odd, events)
    assert info.value.column == "state"
    # deal_stages reads no stage facts, so it reports what the data says
    assert deal_stages(odd, events)["state_as_of"].tolist()[-1] == "on_ice"
