"""Counts are complete: with ``entities=``, every entity counts at its first stage."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import DataError
from crmlifecycle.metrics import (
    compute_kpis,
    conversion_rate,
    funnel,
    stage_velocity,
    time_in_stage,
)
from crmlifecycle.stages import LEAD_STATUS
from crmlifecycle.synth import Dataset, generate

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won")


def utc(*stamps: str) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


@pytest.fixture
def deals() -> pd.DataFrame:
    # o5 and o6 never moved: they have no event and are still in prospecting
    return pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "owner": ["ann", "ann", "bob", "bob", "ann", "cy"],
            "created_at": utc(
                "2026-01-01", "2026-01-02", "2026-01-05", "2026-02-01", "2026-03-01", "2026-03-02"
            ),
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


def created(deals: pd.DataFrame) -> pd.Series:
    return pd.Series(deals["created_at"].to_numpy(), index=deals["opportunity_id"])


def test_an_entity_without_events_counts_at_the_first_stage(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    # furthest stage: o1 won, o2 qualification (then lost), o3 won, o4 negotiation,
    # o5 and o6 prospecting (no event)
    assert funnel(events, entities=deals)["reached"].tolist() == [6, 4, 3, 3, 2]
    # without entities= only the deals with an event are seen
    assert funnel(events)["reached"].tolist() == [4, 4, 3, 3, 2]
    # by owner: ann {o1, o2, o5}, bob {o3, o4}, cy {o6}
    table = funnel(events, by="owner", entities=deals)
    assert table["owner"].tolist() == ["ann"] * 5 + ["bob"] * 5 + ["cy"] * 5
    assert table["reached"].tolist() == [3, 2, 1, 1, 1, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0]
    ann = table.loc[table["owner"] == "ann", "conversion_from_first"].tolist()
    assert ann == pytest.approx([1, 2 / 3, 1 / 3, 1 / 3, 1 / 3])
    cy = table.loc[table["owner"] == "cy", "conversion_from_previous"].tolist()
    assert cy[:2] == [1.0, 0.0]
    assert all(math.isnan(v) for v in cy[2:])  # nobody reached qualification: 0 ÷ 0
    # conversion prospecting -> won: o1, o3 of six deals
    rate = conversion_rate(events, from_stage="prospecting", to_stage="won", entities=deals)
    assert rate == pytest.approx(2 / 6)
    assert conversion_rate(events, from_stage="prospecting", to_stage="won") == 0.5


def test_the_entities_frame_needs_no_by_and_may_repeat_an_id(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    again = pd.concat([deals, deals.iloc[[4]]], ignore_index=True)
    pd.testing.assert_frame_equal(funnel(events, entities=again), funnel(events, entities=deals))
    # only the id column is needed without by=
    ids = deals[["opportunity_id"]]
    assert funnel(events, entities=ids)["reached"].tolist() == [6, 4, 3, 3, 2]


def test_an_entity_created_after_as_of_does_not_count(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    born = created(deals)
    # on 10 Feb: o1 won, o2 lost from qualification, o3 in negotiation, o4 in proposal;
    # o5 (1 Mar) and o6 (2 Mar) do not exist yet
    table = funnel(events, entities=deals, created=born, as_of="2026-02-10")
    assert table["reached"].tolist() == [4, 4, 3, 2, 1]
    # on 3 Feb o4 exists (created 1 Feb) but its first event is on 5 Feb: it is in prospecting
    table = funnel(events, entities=deals, created=born, as_of="2026-02-03")
    assert table["reached"].tolist() == [4, 3, 2, 2, 1]
    # at midnight on 1 Mar o5 exists (created then), o6 not yet
    table = funnel(events, entities=deals, created=born, as_of="2026-03-01")
    assert table["reached"].tolist()[0] == 5
    # before anything was created the funnel is empty
    assert funnel(events, entities=deals, created=born, as_of="2025-12-31")["reached"].sum() == 0


def test_without_creation_times_as_of_cannot_tell_who_existed(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    with pytest.raises(DataError, match=r"created=.*'o5'.*Hint: pass created="):
        funnel(events, entities=deals, as_of="2026-02-10")
    # a deal of entities missing from created= is as unknown
    partial = created(deals).drop(["o6"])
    with pytest.raises(DataError, match=r"created=.*'o6'"):
        funnel(events, entities=deals, created=partial, as_of="2026-03-05")
    twice = pd.concat([created(deals), created(deals).iloc[[4]]])
    with pytest.raises(DataError, match=r"created=.*twice.*'o5'"):
        funnel(events, entities=deals, created=twice)


def test_an_event_of_an_unknown_entity_is_an_error(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    stranger = pd.DataFrame(
        {
            "entity_id": ["o9"],
            "source": ["prospecting"],
            "dest": ["qualification"],
            "at": utc("2026-01-20"),
        }
    )
    log = pd.concat([events, stranger], ignore_index=True)
    for call in (
        lambda: funnel(log, entities=deals),
        lambda: time_in_stage(log, entities=deals),
        lambda: stage_velocity(log, entities=deals),
        lambda: conversion_rate(log, from_stage="prospecting", to_stage="won", entities=deals),
        # an event after as_of still names an entity that must exist
        lambda: funnel(log, entities=deals, created=created(deals), as_of="2026-01-15"),
    ):
        with pytest.raises(DataError, match=r"absent from the entities frame \['o9'\]") as info:
            call()
        assert info.value.column == "entity_id"
        assert info.value.value == "o9"
    missing = deals.assign(opportunity_id=deals["opportunity_id"].where(deals.index != 5))
    with pytest.raises(DataError, match="missing ids") as info:
        funnel(events, entities=missing)
    assert info.value.column == "opportunity_id"


def test_spells_of_entities_without_events(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    born = created(deals)
    # o5 and o6 are still in prospecting: two open spells there
    table = time_in_stage(events, entities=deals, created=born).set_index("state")
    assert table.loc["prospecting", "open_spells"] == 2
    assert table.loc["prospecting", "spells"] == 4
    assert (
        time_in_stage(events, created=born).set_index("state").loc["prospecting", "open_spells"]
        == 0
    )
    # an open spell has left no stage: velocity is the same
    pd.testing.assert_frame_equal(
        stage_velocity(events, entities=deals, created=born), stage_velocity(events, created=born)
    )
    # entered prospecting when created: Jan o1, o2, o3 (o1, o3 won); Feb o4; Mar o5, o6
    monthly = conversion_rate(
        events,
        from_stage="prospecting",
        to_stage="won",
        freq="M",
        entities=deals,
        created=born,
    )
    assert monthly["period"].astype(str).tolist() == ["2026-01", "2026-02", "2026-03"]
    assert monthly[["entered", "converted"]].to_numpy().tolist() == [[3, 2], [1, 0], [2, 0]]
    with pytest.raises(DataError, match="Hint: pass created="):
        conversion_rate(events, from_stage="prospecting", to_stage="won", freq="M", entities=deals)


def test_the_first_stage_of_a_silent_entity_comes_from_its_log() -> None:
    # d1 was created on 1 Jan by a creation event into qualification: on 2 Jan it is there;
    # d2 has no creation event, its first step (on 10 Jan) leaves qualification
    events = pd.DataFrame(
        {
            "entity_id": ["d1", "d1", "d2"],
            "source": [None, "qualification", "qualification"],
            "dest": ["qualification", "won", "proposal"],
            "at": utc("2026-01-01", "2026-01-20", "2026-01-10"),
        }
    )
    deals = pd.DataFrame({"opportunity_id": ["d1", "d2", "d3"]})
    born = pd.Series(utc("2025-12-30", "2025-12-31").to_numpy(), index=["d2", "d3"])
    table = funnel(events, entities=deals, created=born, as_of="2026-01-02")
    # d1, d2 in qualification, d3 in prospecting
    assert table["reached"].tolist() == [3, 2, 0, 0, 0]
    spells = time_in_stage(events, entities=deals, created=born, as_of="2026-01-02")
    assert spells.set_index("state")["open_spells"].tolist()[:2] == [1, 2]


def test_the_lead_funnel_counts_every_lead() -> None:
    events = pd.DataFrame(
        {
            "kind": ["lead", "lead", "lead"],
            "entity_id": ["l1", "l1", "l2"],
            "source": ["open", "contacted", "open"],
            "dest": ["contacted", "qualified", "unqualified"],
            "at": utc("2026-01-02", "2026-01-05", "2026-01-03"),
        }
    )
    leads = pd.DataFrame({"lead_id": ["l1", "l2", "l3", "l4"]})  # l3, l4 still open
    table = funnel(events, lifecycle=LEAD_STATUS, entities=leads)
    assert table["state"].tolist()[0] == LEAD_STATUS.initial
    assert table["reached"].tolist()[0] == 4
    # l1 reached qualified: one of the four leads
    rate = conversion_rate(
        events,
        from_stage=LEAD_STATUS.initial,
        to_stage="qualified",
        lifecycle=LEAD_STATUS,
        entities=leads,
    )
    assert rate == pytest.approx(1 / 4)


@st.composite
def populations(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Deals created over two months, each walking forward (or to lost) after its creation."""
    n = draw(st.integers(0, 10))
    start = pd.Timestamp("2026-01-01", tz="UTC")
    rows: list[tuple[str, str, str, pd.Timestamp]] = []
    born = []
    for i in range(n):
        at = start + pd.Timedelta(hours=draw(st.integers(0, 24 * 60)))
        born.append(at)
        position = 0
        for _ in range(draw(st.integers(0, 4))):
            if position == len(STAGES) - 1:
                break
            at += pd.Timedelta(hours=draw(st.integers(0, 24 * 20)))
            lost = draw(st.booleans()) and draw(st.booleans())
            dest = "lost" if lost else STAGES[position + draw(st.integers(1, 4 - position))]
            rows.append((f"d{i}", STAGES[position], dest, at))
            if lost:
                break
            position = STAGES.index(dest)
    events = pd.DataFrame(rows, columns=["entity_id", "source", "dest", "at"]).astype(
        {"entity_id": object, "source": object, "dest": object, "at": "datetime64[ns, UTC]"}
    )
    ids = [f"d{i}" for i in range(n)]
    deals = pd.DataFrame({"opportunity_id": ids})
    return events, deals, pd.Series(pd.DatetimeIndex(born, tz="UTC"), index=ids, dtype=object)


@settings(max_examples=60, deadline=None)
@given(populations(), st.integers(0, 24 * 90))
def test_the_first_count_is_every_entity_created_by_as_of(
    world: tuple[pd.DataFrame, pd.DataFrame, pd.Series], hours: int
) -> None:
    events, deals, born = world
    born = pd.to_datetime(born, utc=True)
    as_of = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=hours)
    table = funnel(events, entities=deals, created=born, as_of=as_of)
    assert int(table["reached"].iloc[0]) == int((born <= as_of).sum())
    # and with every event, every entity
    assert int(funnel(events, entities=deals)["reached"].iloc[0]) == len(deals)
    # the stages reached never exceed the population, and never grow along the funnel
    reached = table["reached"].tolist()
    assert reached == sorted(reached, reverse=True)


@pytest.fixture(scope="module")
def synth() -> Dataset:
    return generate(seed=7, n_leads=5000)


def test_the_synthetic_world_funnel_counts_every_deal(synth: Dataset) -> None:
    deals, events = synth.opportunities, synth.opportunity_events
    # 1,528 deals, of which 17 are still in prospecting and have no event
    assert len(deals) == 1528
    silent = ~deals["opportunity_id"].isin(events["entity_id"])
    assert int(silent.sum()) == 17
    assert set(deals.loc[silent, "state"]) == {"prospecting"}
    assert funnel(events, entities=deals)["reached"].iloc[0] == 1528
    assert funnel(events)["reached"].iloc[0] == 1511  # the log alone: deals with an event
    # the deals won: the last stage of the funnel
    won = int((deals["state"] == "won").sum())
    assert funnel(events, entities=deals)["reached"].iloc[-1] == won


def test_the_lead_conversion_kpi_counts_every_lead(synth: Dataset) -> None:
    leads = synth.leads
    converted = int((leads["state"] == "converted").sum())
    report = compute_kpis(synth, names=["lead_conversion_rate"])
    assert not report.skipped
    value = report["lead_conversion_rate"]
    # converted leads ÷ every lead, including the 379 never contacted (no event)
    assert value == pytest.approx(converted / len(leads))
    assert len(leads) == 5000


@settings(max_examples=60, deadline=None)
@given(populations(), st.integers(0, 24 * 90), st.randoms(use_true_random=False))
def test_the_log_alone_counts_as_the_population_of_its_entities(
    world: tuple[pd.DataFrame, pd.DataFrame, pd.Series], hours: int, rng: random.Random
) -> None:
    # without entities= the funnel reads the log's codes alone; with the log's own entities
    # as the population it builds every spell: both must count alike, whatever order the
    # entities come in (an entity's own events keep their order: ties are read in it)
    events, _, _ = world
    ids = list(pd.unique(events["entity_id"]))
    rng.shuffle(ids)
    rank = events["entity_id"].map({entity: i for i, entity in enumerate(ids)})
    shuffled = events.iloc[rank.to_numpy().argsort(kind="stable")]
    as_of = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=hours)
    seen = events.loc[events["at"] <= as_of]
    population = pd.DataFrame({"opportunity_id": pd.unique(seen["entity_id"])})
    fast = funnel(shuffled, as_of=as_of)
    full = funnel(seen, entities=population)
    pd.testing.assert_frame_equal(fast, full)
    for low, high in [("prospecting", "won"), ("qualification", "proposal")]:
        rate = conversion_rate(shuffled, from_stage=low, to_stage=high, as_of=as_of)
        expected = conversion_rate(seen, from_stage=low, to_stage=high, entities=population)
        assert rate == pytest.approx(expected, nan_ok=True)
