"""The coded population path of the funnel KPIs equals the frame-built one, and by= adds up."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle._frames import require_columns, utc_timestamp
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import CrmError, DataError
from crmlifecycle.metrics import conversion_rate, funnel, stage_velocity, time_in_stage
from crmlifecycle.metrics._events import check_states, creation_times, log_kind, spells_of
from crmlifecycle.metrics._log_codes import code_log
from crmlifecycle.metrics._population import entity_segments, without_merged
from crmlifecycle.metrics._population_codes import segmented_spells
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won")
START = pd.Timestamp("2026-01-01", tz="UTC")

World = tuple[pd.DataFrame, pd.DataFrame, pd.Series | None, pd.Timestamp | None]


# -- the reference: the population built with frames, as the KPIs read it before codes --------


def _read_events(
    events: pd.DataFrame, columns: EventLogColumns, kind: str, *, as_of: Instant | None
) -> pd.DataFrame:
    """Validate the log; return the rows of ``kind`` by (entity, at), cut at ``as_of``."""
    return code_log(events, columns, kind, as_of=as_of).frame()


def _population_spells(
    spells: pd.DataFrame,
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    lifecycle: Lifecycle,
    *,
    entities: pd.DataFrame,
    id_col: str,
    created: pd.Series | None,
    as_of: Instant | None,
) -> pd.DataFrame:
    """
    Return the open spells of the entities of ``entities`` that have no spell in ``spells``.

    ``entities`` is the whole population of ``kind``: every entity in it exists,
    events or not. An entity without an event by ``as_of`` is in the stage it
    was created in: the ``source`` of its first event when the log has a later
    one, else the state its creation event moved it to, else the lifecycle's
    initial state. It entered that stage at its creation time (``created``, or
    its creation event), unknown (NaT) without one. With ``as_of`` an entity
    created after it does not exist yet and gets no spell.

    Raises:
        DataError: missing ids in ``entities``; an event of an entity absent
            from ``entities`` (the population must be complete); an id twice
            in ``created``; with ``as_of``, an entity without an event by then
            whose creation time is unknown.
    """
    require_columns(entities, [id_col], frame_name="entities")
    check_ids(entities, id_col, frame_name="entities")
    population = pd.Index(pd.unique(entities[id_col].to_numpy()))
    full = _read_events(events, columns, kind, as_of=None)
    heads = full.drop_duplicates("entity_id", keep="first").set_index("entity_id")
    strangers = heads.index[~heads.index.isin(population)]
    if len(strangers):
        raise DataError.malformed(
            columns.entity_id,
            f"holds events of {len(strangers)} {kind} id(s) absent from the entities frame "
            f"{list(strangers[:5])}",
            value=strangers[0],
            hint=f"entities= is the whole population: give it one row per {kind} of the log "
            f"(its id in the column {id_col!r}), or drop those events.",
        )
    silent = population[~population.isin(pd.Index(spells["entity_id"].to_numpy()))]
    head = heads.reindex(silent)
    logged = head["dest"].notna().to_numpy()
    creation_event = logged & head["source"].isna().to_numpy()
    state = np.where(
        creation_event,
        head["dest"].to_numpy(dtype=object),
        np.where(logged, head["source"].to_numpy(dtype=object), lifecycle.initial),
    )
    born = pd.Series(pd.NaT, index=silent, dtype="datetime64[ns, UTC]")
    if created is not None:
        stamps = creation_times(created)
        born = pd.Series(stamps.reindex(silent).array, index=silent, dtype="datetime64[ns, UTC]")
    event_at = pd.Series(head["at"].array, index=silent).where(creation_event)
    born = born.fillna(event_at.astype("datetime64[ns, UTC]"))
    keep = np.ones(len(silent), dtype=bool)
    if as_of is not None:
        unknown = born.isna().to_numpy()
        if bool(unknown.any()):
            who = list(silent[unknown][:5])
            raise DataError(
                f"created=: the creation time of {int(unknown.sum())} {kind}(s) of the "
                f"entities frame without an event by as_of is unknown (e.g. {who}), so "
                "whether they existed then is unknown. Hint: pass created= the creation "
                f"timestamps indexed by entity id (e.g. entities.set_index({id_col!r})"
                "['created_at']), or leave as_of out."
            )
        keep = (born <= utc_timestamp(as_of, name="as_of")).to_numpy()
    return pd.DataFrame(
        {
            "entity_id": silent.to_numpy()[keep],
            "state": state[keep],
            "entered_at": born.array[keep],
            "left_at": pd.Series(
                pd.NaT, index=range(int(keep.sum())), dtype="datetime64[ns, UTC]"
            ).array,
            "next_state": np.full(int(keep.sum()), np.nan, dtype=object),
            "days": np.full(int(keep.sum()), np.nan),
        }
    )


def segmented_spells_by_frames(
    events: pd.DataFrame,
    columns: EventLogColumns,
    lifecycle: Lifecycle,
    kind: str | None,
    *,
    created: pd.Series | None,
    as_of: Instant | None,
    keys: list[str],
    entities: pd.DataFrame | None,
    entities_columns: EntityColumns,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Return the spells with a ``_segment`` code and the segments, built with frames.

    The rows read are those of ``kind`` (default: the lifecycle's kind); every
    stage they hold must be a state of the lifecycle. Without ``keys`` every
    spell is in segment 0 and the segments frame has one row and no columns.
    With ``entities``, its rows merged into another record (``merged_into``
    set) and their events are left out (``without_merged``).
    """
    rows = log_kind(lifecycle, kind)
    if entities is not None:
        entities, events = without_merged(entities, events, columns, rows, entities_columns)
    spells = spells_of(events, columns, rows, created=created, as_of=as_of)
    if entities is not None:
        id_col = entities_columns.id_for(rows)
        silent = _population_spells(
            spells,
            events,
            columns,
            rows,
            lifecycle,
            entities=entities,
            id_col=id_col,
            created=created,
            as_of=as_of,
        )
        if len(silent):
            spells = pd.concat([spells, silent], ignore_index=True)
    check_states(spells["state"], lifecycle, columns.dest)
    if not keys:
        return spells.assign(_segment=0), pd.DataFrame(index=pd.RangeIndex(1))
    codes, segments = entity_segments(
        spells["entity_id"],
        events,
        columns,
        rows,
        by=keys,
        entities=entities,
        entities_columns=entities_columns,
    )
    return spells.assign(_segment=codes), segments


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """
    Deals walking forward (or to lost), some with a creation row, some without events.

    Rows come shuffled; some deals are merged into another, some creation times are
    unknown, and now and then an event names a deal missing from the deals frame.
    """
    n = draw(st.integers(0, 8))
    rows: list[tuple[str, object, str, pd.Timestamp]] = []
    born: dict[str, pd.Timestamp] = {}
    for i in range(n):
        at = START + pd.Timedelta(hours=draw(st.integers(0, 24 * 60)))
        if draw(st.booleans()):
            born[f"d{i}"] = at
        position = 0
        if draw(st.booleans()):
            rows.append((f"d{i}", None, STAGES[0], at))
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
    rows = draw(st.permutations(rows))
    events = pd.DataFrame(rows, columns=["entity_id", "source", "dest", "at"]).astype(
        {"entity_id": object, "source": object, "dest": object, "at": "datetime64[ns, UTC]"}
    )
    ids = [f"d{i}" for i in range(n)]
    if ids and draw(st.integers(0, 9)) == 0:
        ids = ids[1:]  # d0's events, if any, belong to no deal of the frame
    owners = [draw(st.sampled_from(["ann", "bob", "cy"])) for _ in ids]
    merged = [None if draw(st.integers(0, 5)) else "d1" for _ in ids]
    deals = pd.DataFrame({"opportunity_id": ids, "owner": owners, "merged_into": merged})
    created = None
    if draw(st.booleans()):
        created = pd.Series(list(born.values()), index=list(born), dtype="datetime64[ns, UTC]")
    as_of = None
    if draw(st.booleans()):
        as_of = START + pd.Timedelta(hours=draw(st.integers(0, 24 * 90)))
    return events, deals, created, as_of


def _outcome(compute: object) -> object:
    try:
        return compute()  # type: ignore[operator]
    except CrmError as error:
        return (type(error).__name__, str(error))


def _same(coded: object, frames: object) -> None:
    if isinstance(frames, tuple) and isinstance(frames[0], str):
        assert coded == frames
        return
    assert isinstance(coded, tuple)
    assert isinstance(frames, tuple)
    order = ["_segment", "entity_id", "entered_at", "state"]
    ours = coded[0].sort_values(order, na_position="first", kind="stable").reset_index(drop=True)
    reference = frames[0].sort_values(order, na_position="first", kind="stable")
    pd.testing.assert_frame_equal(ours, reference.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(coded[1], frames[1])


@settings(max_examples=150, deadline=None)
@given(worlds(), st.sampled_from([[], ["owner"]]), st.booleans())
def test_the_coded_population_equals_the_frame_built_spells(
    world: World, keys: list[str], with_entities: bool
) -> None:
    events, deals, created, as_of = world
    arguments: dict[str, Any] = {
        "created": created,
        "as_of": as_of,
        "keys": keys,
        "entities": deals if with_entities else None,
        "entities_columns": EntityColumns(),
    }
    if not with_entities and keys:
        events = events.assign(owner="ann")  # the log carries the segment itself
    coded = _outcome(
        lambda: segmented_spells(events, EventLogColumns(), OPPORTUNITY_PIPELINE, None, **arguments)
    )
    frames = _outcome(
        lambda: segmented_spells_by_frames(
            events, EventLogColumns(), OPPORTUNITY_PIPELINE, None, **arguments
        )
    )
    _same(coded, frames)


def _per_owner(world: World, kpi: Any) -> tuple[Any, dict[Any, Any]]:
    events, deals, created, as_of = world
    deals = deals.loc[deals["merged_into"].isna()].drop(columns="merged_into")
    events = events.loc[events["entity_id"].isin(deals["opportunity_id"])]
    together = kpi(events, by="owner", entities=deals, created=created, as_of=as_of)
    apart = {}
    for owner, block in deals.groupby("owner", sort=True):
        mine = events.loc[events["entity_id"].isin(block["opportunity_id"])]
        apart[owner] = kpi(mine, entities=block, created=created, as_of=as_of)
    return together, apart


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_by_owner_is_the_unsegmented_funnel_of_each_owner(world: World) -> None:
    created, as_of = world[2], world[3]
    if as_of is not None and created is None:
        world = (world[0], world[1], None, None)  # whether a silent deal existed is unknown
    try:
        together, apart = _per_owner(world, funnel)
    except CrmError:
        return  # a creation time after a first event, or unknown by as_of: refused
    assert isinstance(together, pd.DataFrame)
    for owner, table in apart.items():
        assert isinstance(table, pd.DataFrame)
        if owner not in set(together["owner"]):  # none of the owner's deals existed by as_of
            assert int(table["reached"].sum()) == 0
            continue
        block = together.loc[together["owner"] == owner].drop(columns="owner")
        pd.testing.assert_frame_equal(block.reset_index(drop=True), table)


@settings(max_examples=100, deadline=None)
@given(worlds(), st.sampled_from(STAGES[:3]), st.sampled_from(STAGES[3:]))
def test_by_owner_conversion_is_each_owners_conversion(world: World, low: str, high: str) -> None:
    if world[3] is not None and world[2] is None:
        world = (world[0], world[1], None, None)

    def rate(events: pd.DataFrame, **kwargs: object) -> object:
        return conversion_rate(events, from_stage=low, to_stage=high, **kwargs)  # type: ignore[call-overload]

    try:
        together, apart = _per_owner(world, rate)
    except CrmError:
        return
    assert isinstance(together, pd.DataFrame)
    for owner, value in apart.items():
        if owner not in set(together["owner"]):
            assert math.isnan(value)  # none of the owner's deals counted
            continue
        row = together.loc[together["owner"] == owner].iloc[0]
        assert row["conversion_rate"] == pytest.approx(value, nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_by_owner_stage_times_add_up_to_the_unsegmented_ones(world: World) -> None:
    events, deals, created, as_of = world
    deals = deals.loc[deals["merged_into"].isna()]
    events = events.loc[events["entity_id"].isin(deals["opportunity_id"])]
    if as_of is not None and created is None:
        as_of = None
    try:
        velocity = stage_velocity(events, by="owner", entities=deals, created=created, as_of=as_of)
        whole = stage_velocity(events, entities=deals, created=created, as_of=as_of)
        times = time_in_stage(events, by="owner", entities=deals, created=created, as_of=as_of)
        all_times = time_in_stage(events, entities=deals, created=created, as_of=as_of)
    except CrmError:
        return
    summed = velocity.groupby("state", sort=False)[["exits", "advanced"]].sum()
    assert summed.reindex(whole["state"]).fillna(0).astype("int64").to_numpy().tolist() == (
        whole[["exits", "advanced"]].to_numpy().tolist()
    )
    counted = times.groupby("state", sort=False)[["spells", "open_spells"]].sum()
    assert counted.reindex(all_times["state"]).fillna(0).astype("int64").to_numpy().tolist() == (
        all_times[["spells", "open_spells"]].to_numpy().tolist()
    )
