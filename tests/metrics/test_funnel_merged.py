"""A record merged into another is not a separate entity: the funnel population leaves it out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crmlifecycle import Lead
from crmlifecycle.events import Event
from crmlifecycle.metrics import conversion_rate, funnel, time_in_stage, win_rate
from crmlifecycle.stages import LEAD_STATUS, events_to_frame


def utc(*stamps: str) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


@pytest.fixture
def deals() -> pd.DataFrame:
    # o4 was a duplicate of o3 and was merged into it; o5 and o6 never moved
    return pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "owner": ["ann", "ann", "bob", "bob", "ann", "cy"],
            "merged_into": [None, None, None, "o3", None, None],
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
    return frame


def test_a_merged_record_and_its_events_are_left_out(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    # furthest stage: o1 won, o2 qualification (then lost), o3 won, o5 and o6 prospecting;
    # o4 (negotiation) is o3's duplicate and does not count
    assert funnel(events, entities=deals)["reached"].tolist() == [5, 3, 2, 2, 2]
    # the same population without the link counts o4 (the unchanged behaviour)
    plain = deals.drop(columns="merged_into")
    assert funnel(events, entities=plain)["reached"].tolist() == [6, 4, 3, 3, 2]
    # by owner: ann {o1, o2, o5}, bob {o3}, cy {o6}
    table = funnel(events, by="owner", entities=deals)
    assert table.loc[table["owner"] == "bob", "reached"].tolist() == [1, 1, 1, 1, 1]
    # qualification -> won: o1 and o3 of o1, o2, o3
    assert conversion_rate(
        events, from_stage="qualification", to_stage="won", entities=deals
    ) == pytest.approx(2 / 3)


def test_a_merged_record_without_events_is_left_out_too(events: pd.DataFrame) -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "merged_into": [None, None, None, None, None, "o5"],
        }
    )
    assert funnel(events, entities=deals)["reached"].tolist() == [5, 4, 3, 3, 2]


def test_only_the_merged_records_own_kind_is_dropped_from_a_mixed_log(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    lead_row = pd.DataFrame(
        {
            "kind": ["lead"],
            "entity_id": ["o4"],  # a lead that happens to share the duplicate's id
            "source": ["open"],
            "dest": ["contacted"],
            "at": utc("2026-01-02"),
        }
    )
    mixed = pd.concat([events.assign(kind="opportunity"), lead_row], ignore_index=True)
    assert funnel(mixed, entities=deals)["reached"].tolist() == [5, 3, 2, 2, 2]
    leads = pd.DataFrame({"lead_id": ["o4"], "merged_into": [None]})
    assert funnel(mixed, lifecycle=LEAD_STATUS, entities=leads)["reached"].tolist()[:2] == [1, 1]


def test_time_in_stage_leaves_the_merged_record_out(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    # negotiation: o3 from 2026-02-01 to 02-15 (14 days, closed); o4 entered it on 02-20 and
    # is still there (an open spell), but o4 is o3's duplicate and is left out
    table = time_in_stage(events, entities=deals).set_index("state")
    row = table.loc["negotiation"]
    assert (row["spells"], row["mean_days"], row["open_spells"]) == (1, 14.0, 0)
    plain = time_in_stage(events, entities=deals.drop(columns="merged_into")).set_index("state")
    assert (plain.loc["negotiation", "spells"], plain.loc["negotiation", "open_spells"]) == (1, 1)


def test_win_rate_leaves_out_a_merged_duplicate_deal() -> None:
    # W-1 won; W-2, its lost duplicate, was merged into it: one deal, won (1 of 1)
    deals = pd.DataFrame(
        {
            "opportunity_id": ["W-1", "W-2"],
            "created_at": utc("2026-01-01", "2026-01-01"),
            "state": ["won", "lost"],
            "amount": [100.0, 100.0],
            "merged_into": [None, "W-1"],
        }
    )
    log = pd.DataFrame(
        {
            "kind": "opportunity",
            "entity_id": ["W-1", "W-2"],
            "trigger": ["win", "lose"],
            "source": ["prospecting", "prospecting"],
            "dest": ["won", "lost"],
            "at": utc("2026-01-05", "2026-01-06"),
        }
    )
    assert win_rate(deals, log) == 1.0
    assert win_rate(deals.drop(columns="merged_into"), log) == 0.5  # without the link: two deals


def test_the_event_log_frame_alone_shows_a_merge_and_the_duplicate_is_left_out() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    keep = Lead(id="L-1", created_at=t0)
    dup = Lead(id="L-2", created_at=t0)
    contacted = LEAD_STATUS.fire(dup, "contact", at=t0 + timedelta(days=1))
    merge = LEAD_STATUS.merge(keep, contacted.entity, at=t0 + timedelta(days=2))
    log: list[Event] = [
        LEAD_STATUS.create(keep),
        LEAD_STATUS.create(dup),
        contacted.event,
        *merge.events,
    ]
    frame = events_to_frame(log)
    # by hand: one lead (L-1), still open; L-2 (contacted) is a duplicate folded into it
    assert funnel(frame, lifecycle=LEAD_STATUS)["reached"].tolist()[:2] == [1, 0]
    unmerged = events_to_frame(log[:3])
    assert funnel(unmerged, lifecycle=LEAD_STATUS)["reached"].tolist()[:2] == [2, 1]
    # the changes may be stored as JSON text (a CSV or Parquet file)
    frame["changes"] = frame["changes"].map(lambda c: None if c is None else json.dumps(c))
    assert funnel(frame, lifecycle=LEAD_STATUS)["reached"].tolist()[:2] == [1, 0]
