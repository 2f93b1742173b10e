"""Funnel KPIs per segment (``by=`` with ``entities=``): hand tables, errors, properties."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError
from crmlifecycle.metrics import conversion_rate, funnel, stage_velocity, time_in_stage
from crmlifecycle.schema import EntityColumns

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won")


def utc(*stamps: str) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


@pytest.fixture
def population() -> pd.DataFrame:
    # every deal; o5 and o6 have no events yet: they are still in prospecting
    return pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "owner": ["ann", "ann", "bob", "bob", "ann", "cy"],
            "region": ["north", "south", "north", "north", "south", "south"],
            "created_at": utc(
                "2026-01-01", "2026-01-02", "2026-01-05", "2026-02-01", "2026-03-01", "2026-03-02"
            ),
        }
    )


@pytest.fixture
def deals(population: pd.DataFrame) -> pd.DataFrame:
    # the deals that have events (entities= is the whole population, so these tests of the
    # segments give the deals of the log only; the population tests below add o5 and o6)
    return population.iloc[:4].reset_index(drop=True)


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


def test_funnel_by_owner_by_hand(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    # furthest stage: o1 won, o2 qualification (lost is not a funnel stage), o3 won, o4 negotiation
    # ann {o1, o2}: reached 2, 2, 1, 1, 1; bob {o3, o4}: reached 2, 2, 2, 2, 1
    table = funnel(events, by="owner", entities=deals)
    assert list(table.columns) == [
        "owner",
        "state",
        "reached",
        "conversion_from_previous",
        "conversion_from_first",
    ]
    assert table["owner"].tolist() == ["ann"] * 5 + ["bob"] * 5
    assert table["state"].tolist() == list(STAGES) * 2
    assert table["reached"].tolist() == [2, 2, 1, 1, 1, 2, 2, 2, 2, 1]
    # ann: proposal 1/2 of qualification, then 1/1; bob: won 1/2 of negotiation
    assert table["conversion_from_previous"].tolist() == [1, 1, 0.5, 1, 1, 1, 1, 1, 1, 0.5]
    assert table["conversion_from_first"].tolist() == [1, 1, 0.5, 0.5, 0.5, 1, 1, 1, 1, 0.5]
    # the segments add up to the whole funnel: 4, 4, 3, 3, 2
    whole = funnel(events)
    assert whole["reached"].tolist() == [4, 4, 3, 3, 2]
    assert table.groupby("state", sort=False)["reached"].sum().tolist() == [4, 4, 3, 3, 2]


def test_conversion_rate_by_owner_by_hand(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    # prospecting -> won: ann o1 of {o1, o2} = 1/2, bob o3 of {o3, o4} = 1/2
    table = conversion_rate(
        events, from_stage="prospecting", to_stage="won", by="owner", entities=deals
    )
    assert list(table.columns) == ["owner", "entered", "converted", "conversion_rate"]
    assert table.to_numpy().tolist() == [["ann", 2, 1, 0.5], ["bob", 2, 1, 0.5]]
    # qualification -> proposal: ann o1 of {o1, o2} = 1/2; bob o3, o4 (jumped to proposal) = 2/2
    table = conversion_rate(
        events, from_stage="qualification", to_stage="proposal", by="owner", entities=deals
    )
    assert table["conversion_rate"].tolist() == [0.5, 1.0]
    # on 10 Jan nothing is won yet, and o4 (bob) does not exist: bob's o3 only
    early = conversion_rate(
        events,
        from_stage="prospecting",
        to_stage="won",
        by="owner",
        entities=deals,
        created=created(deals),
        as_of="2026-01-10",
    )
    assert early.to_numpy().tolist() == [["ann", 2, 0, 0.0], ["bob", 1, 0, 0.0]]


def test_conversion_rate_by_period_and_owner(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    # entered prospecting when created: o1 1 Jan, o2 2 Jan (ann); o3 5 Jan, o4 1 Feb (bob)
    # (Jan, ann) 1 won of 2; (Jan, bob) o3 won 1/1; (Feb, bob) o4 not won 0/1
    table = conversion_rate(
        events,
        from_stage="prospecting",
        to_stage="won",
        freq="M",
        by="owner",
        entities=deals,
        created=created(deals),
    )
    assert list(table.columns) == ["period", "owner", "entered", "converted", "conversion_rate"]
    assert table["period"].astype(str).tolist() == ["2026-01", "2026-01", "2026-02"]
    assert table[["owner", "entered", "converted"]].to_numpy().tolist() == [
        ["ann", 2, 1],
        ["bob", 1, 1],
        ["bob", 1, 0],
    ]
    assert table["conversion_rate"].tolist() == [0.5, 1.0, 0.0]


def test_time_in_stage_by_owner_by_hand(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    table = time_in_stage(
        events,
        by="owner",
        entities=deals,
        created=created(deals),
    ).set_index(["owner", "state"])

    def cells(owner: str, stage: str, *columns: str) -> list[float]:
        row = (table.index.get_level_values("owner") == owner) & (
            table.index.get_level_values("state") == stage
        )
        return [float(v) for v in table.loc[row, list(columns)].to_numpy(dtype="float64")[0]]

    # ann prospecting: o1 1 -> 3 Jan (2 days), o2 2 -> 4 Jan (2 days)
    assert cells("ann", "prospecting", "spells", "mean_days", "max_days") == [2, 2.0, 2.0]
    # ann qualification: o1 3 -> 10 Jan (7), o2 4 -> 14 Jan (10): mean 8.5
    assert cells("ann", "qualification", "mean_days") == [8.5]
    # ann never negotiated: no spells, statistics undefined
    spells, mean = cells("ann", "negotiation", "spells", "mean_days")
    assert spells == 0
    assert math.isnan(mean)
    # bob proposal: o3 16 Jan -> 1 Feb (16), o4 5 -> 20 Feb (15): mean and median 15.5
    assert cells("bob", "proposal", "spells", "mean_days", "median_days") == [2, 15.5, 15.5]
    # bob negotiation: o3 1 -> 15 Feb (14) done, o4 still there since 20 Feb
    assert cells("bob", "negotiation", "spells", "max_days", "open_spells") == [1, 14.0, 1]
    whole = time_in_stage(events, created=created(deals)).set_index("state")
    summed = table.groupby(level="state", sort=False)[["spells", "open_spells"]].sum()
    pd.testing.assert_frame_equal(summed, whole[["spells", "open_spells"]])


def test_stage_velocity_by_owner_by_hand(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    table = stage_velocity(events, by="owner", entities=deals, created=created(deals))
    assert list(table.columns[:3]) == ["owner", "state", "exits"]
    assert table["state"].tolist() == list(STAGES[:-1]) * 2
    # ann: prospecting 2 exits both advancing (2 days each); qualification o1 -> proposal,
    # o2 -> lost: 1 of 2 (7 days); proposal o1 -> won (11 days); negotiation never left
    # bob: prospecting o3 (1 day), o4 (4 days) advance; qualification o3 (10 days);
    # proposal o3 (16), o4 (15); negotiation o3 -> won (14), o4 still open
    assert table["exits"].tolist() == [2, 2, 1, 0, 2, 1, 2, 1]
    assert table["advanced"].tolist() == [2, 1, 1, 0, 2, 1, 2, 1]
    rates = table["advance_rate"].tolist()
    assert rates[:3] == [1.0, 0.5, 1.0]
    assert math.isnan(rates[3])
    assert rates[4:] == [1.0, 1.0, 1.0, 1.0]
    days = table["mean_days_to_advance"].tolist()
    assert days[:3] == [2.0, 7.0, 11.0]
    assert days[4:] == [2.5, 10.0, 15.5, 14.0]


def test_stage_velocity_by_period_and_owner(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    table = stage_velocity(events, freq="M", by="owner", entities=deals)
    assert list(table.columns[:3]) == ["period", "owner", "state"]
    # spells by the month they ended: January ann prospecting (o1, o2), qualification (o1 on,
    # o2 lost), proposal (o1); bob prospecting (o3), qualification (o3).
    # February bob prospecting (o4), proposal (o3, o4), negotiation (o3)
    rows = table[["owner", "state", "exits", "advanced"]].to_numpy().tolist()
    assert table["period"].astype(str).tolist() == ["2026-01"] * 5 + ["2026-02"] * 3
    assert rows == [
        ["ann", "prospecting", 2, 2],
        ["ann", "qualification", 2, 1],
        ["ann", "proposal", 1, 1],
        ["bob", "prospecting", 1, 1],
        ["bob", "qualification", 1, 1],
        ["bob", "prospecting", 1, 1],
        ["bob", "proposal", 2, 2],
        ["bob", "negotiation", 1, 1],
    ]


def test_two_segment_columns(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    # (ann, north) o1 won; (ann, south) o2 to qualification; (bob, north) o3 won, o4 negotiation
    table = funnel(events, by=["owner", "region"], entities=deals)
    assert list(table.columns[:3]) == ["owner", "region", "state"]
    assert table["reached"].tolist() == [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2, 2, 1]


def test_segment_columns_already_in_the_log(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    owner = dict(zip(deals["opportunity_id"], deals["owner"], strict=True))
    carrying = events.assign(owner=events["entity_id"].map(owner))
    pd.testing.assert_frame_equal(
        funnel(carrying, by="owner"), funnel(events, by="owner", entities=deals)
    )
    # entities= wins over the log's own column
    other = deals.assign(owner="zed")
    assert funnel(carrying, by="owner", entities=other)["owner"].unique().tolist() == ["zed"]
    changing = carrying.copy()
    changing.loc[changing["dest"] == "won", "owner"] = "cy"
    with pytest.raises(DataError, match=r"'owner' changes within opportunity 'o\d'") as info:
        funnel(changing, by="owner")
    assert info.value.column == "owner"


def test_other_kinds_and_renamed_ids(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    # the id column defaults to <kind>_id: lead_id for the lead funnel
    leads_log = events.assign(kind="lead")
    leads = deals.rename(columns={"opportunity_id": "lead_id"})
    pd.testing.assert_frame_equal(
        funnel(leads_log, kind="lead", by="owner", entities=leads),
        funnel(events, by="owner", entities=deals),
    )
    renamed = deals.rename(columns={"opportunity_id": "deal"})
    pd.testing.assert_frame_equal(
        funnel(events, by="owner", entities=renamed, entities_columns=EntityColumns(id="deal")),
        funnel(events, by="owner", entities=deals),
    )
    with pytest.raises(MissingColumnError, match="opportunity_id"):
        funnel(events, by="owner", entities=renamed)
    # a log that spells the kind "deal": kind= reads it, and the id column is then deal_id
    deal_log = events.assign(kind="deal")
    deal_ids = deals.rename(columns={"opportunity_id": "deal_id"})
    assert funnel(deal_log, kind="deal", by="owner", entities=deal_ids)["reached"].tolist() == [
        2,
        2,
        1,
        1,
        1,
        2,
        2,
        2,
        2,
        1,
    ]


def test_by_without_entities_is_an_error_with_a_hint(events: pd.DataFrame) -> None:
    calls: list[Callable[[], object]] = [
        lambda: funnel(events, by="owner"),
        lambda: time_in_stage(events, by="owner"),
        lambda: stage_velocity(events, by="owner"),
        lambda: conversion_rate(events, from_stage="prospecting", to_stage="won", by="owner"),
    ]
    for call in calls:
        with pytest.raises(DataError, match=r"no column\(s\) \['owner'\].*Hint: pass entities="):
            call()


def test_bad_entities_are_errors(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    without_o4 = deals.loc[deals["opportunity_id"] != "o4"]
    # entities= is the population: an event of a deal it lacks is an error, by= or not
    for by in ("owner", None):
        with pytest.raises(
            DataError, match=r"events of 1 opportunity id\(s\) absent from the entities.*'o4'"
        ) as info:
            funnel(events, by=by, entities=without_o4)
        assert info.value.column == "entity_id"
        assert info.value.value == "o4"
    holes = deals.assign(owner=deals["owner"].where(deals["opportunity_id"] != "o2"))
    with pytest.raises(DataError, match="segment") as info:
        funnel(events, by="owner", entities=holes)
    assert info.value.column == "owner"
    twice = pd.concat([deals, deals.iloc[[0]].assign(owner="bob")], ignore_index=True)
    with pytest.raises(DataError, match=r"'owner' changes within opportunity 'o1'"):
        funnel(events, by="owner", entities=twice)
    # a repeated row with the same segment is harmless
    again = pd.concat([deals, deals.iloc[[0]]], ignore_index=True)
    pd.testing.assert_frame_equal(
        funnel(events, by="owner", entities=again), funnel(events, by="owner", entities=deals)
    )


def test_nothing_is_mutated(events: pd.DataFrame, deals: pd.DataFrame) -> None:
    before_events, before_deals = events.copy(), deals.copy()
    funnel(events, by="owner", entities=deals)
    stage_velocity(events, by=["owner", "region"], entities=deals, freq="M")
    time_in_stage(events, by="owner", entities=deals, created=created(deals))
    conversion_rate(events, from_stage="prospecting", to_stage="won", by="owner", entities=deals)
    pd.testing.assert_frame_equal(events, before_events)
    pd.testing.assert_frame_equal(deals, before_deals)


def test_an_empty_window_gives_empty_segmented_tables(
    events: pd.DataFrame, deals: pd.DataFrame
) -> None:
    early = funnel(events, by="owner", entities=deals, created=created(deals), as_of="2025-12-31")
    assert early.empty
    assert list(early.columns[:2]) == ["owner", "state"]


@st.composite
def segmented_logs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(1, 12))
    rows: list[tuple[str, str, str, pd.Timestamp]] = []
    born: list[pd.Timestamp] = []
    start = pd.Timestamp("2026-01-01", tz="UTC")
    for i in range(n):
        jumps = draw(st.lists(st.integers(1, 4), max_size=3, unique=True))
        path = [0, *sorted(jumps)]
        stages = [STAGES[p] for p in path]
        if path[-1] < len(STAGES) - 1 and draw(st.booleans()):
            stages.append("lost")
        at = start + pd.Timedelta(days=draw(st.integers(0, 60)))
        born.append(at)  # created in prospecting; a deal that never moved has no event
        for source, dest in itertools.pairwise(stages):
            at += pd.Timedelta(days=draw(st.integers(0, 40)))
            rows.append((f"o{i}", source, dest, at))
    events = pd.DataFrame(rows, columns=["entity_id", "source", "dest", "at"]).astype(
        {"at": "datetime64[ns, UTC]", "entity_id": object, "source": object, "dest": object}
    )
    owners = draw(st.lists(st.sampled_from(["ann", "bob", "cy"]), min_size=n, max_size=n))
    entities = pd.DataFrame(
        {
            "opportunity_id": [f"o{i}" for i in range(n)],
            "owner": owners,
            "created_at": pd.Series(born, dtype="datetime64[ns, UTC]"),
        }
    )
    return events, entities


@settings(max_examples=30)
@given(segmented_logs(), st.sampled_from([None, "2026-02-15"]))
def test_segment_counts_add_up_to_the_unsegmented_counts(
    log: tuple[pd.DataFrame, pd.DataFrame], as_of: str | None
) -> None:
    events, entities = log
    if events.empty:
        return
    born = created(entities)
    whole = funnel(events, entities=entities, created=born, as_of=as_of)
    parts = funnel(events, by="owner", entities=entities, created=born, as_of=as_of)
    summed = parts.groupby("state", sort=False)["reached"].sum()
    if parts.empty:
        assert (whole["reached"] == 0).all()
    else:
        assert summed.tolist() == whole["reached"].tolist()
    spells = time_in_stage(events, entities=entities, created=born, as_of=as_of)
    split = time_in_stage(events, by="owner", entities=entities, created=born, as_of=as_of)
    for column in ("spells", "open_spells"):
        if split.empty:
            assert (spells[column] == 0).all()
        else:
            total = split.groupby("state", sort=False)[column].sum().tolist()
            assert total == spells[column].tolist()
    velocity = stage_velocity(events, entities=entities, created=born, as_of=as_of)
    split_velocity = stage_velocity(
        events, by="owner", entities=entities, created=born, as_of=as_of
    )
    for column in ("exits", "advanced"):
        if split_velocity.empty:
            assert (velocity[column] == 0).all()
        else:
            total = split_velocity.groupby("state", sort=False)[column].sum().tolist()
            assert total == velocity[column].tolist()
    for low, high in (("prospecting", "won"), ("qualification", "negotiation")):
        rate = conversion_rate(
            events, from_stage=low, to_stage=high, entities=entities, created=born, as_of=as_of
        )
        table = conversion_rate(
            events,
            from_stage=low,
            to_stage=high,
            by="owner",
            entities=entities,
            created=born,
            as_of=as_of,
        )
        entered, converted = int(table["entered"].sum()), int(table["converted"].sum())
        expected = converted / entered if entered else math.nan
        assert rate == pytest.approx(expected, nan_ok=True)


@settings(max_examples=30)
@given(segmented_logs())
def test_each_segment_equals_the_funnel_of_its_own_entities(
    log: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    events, entities = log
    if events.empty:
        return
    table = funnel(events, by="owner", entities=entities)
    owner_of = dict(zip(entities["opportunity_id"], entities["owner"], strict=True))
    owners = events["entity_id"].map(owner_of)
    # every owner of the population has a block, with events or not
    assert sorted(table["owner"].unique()) == sorted(entities["owner"].unique())
    for owner, block in table.groupby("owner"):
        mine = entities.loc[(entities["owner"] == owner).to_numpy()]
        alone = funnel(events.loc[(owners == owner).to_numpy()], entities=mine)
        np.testing.assert_array_equal(block["reached"].to_numpy(), alone["reached"].to_numpy())
        np.testing.assert_allclose(
            block["conversion_from_previous"].to_numpy(),
            alone["conversion_from_previous"].to_numpy(),
        )
