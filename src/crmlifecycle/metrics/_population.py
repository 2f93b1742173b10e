"""
The population of the funnel KPIs: which entities count, their segments and their spells.

The entities frame (``entities=``) names every entity that exists, so one still
in its initial stage with no event row is counted there; a row whose
``merged_into`` is set is a duplicate folded into another record and does not
count. :func:`segmented_spells_by_frames` joins the population to the stage
spells (:mod:`crmlifecycle.metrics._events`) and to its ``by=`` segments with
frames: the reference the tests compare the coded population of
:mod:`crmlifecycle.metrics._population_codes` (what the KPIs read) with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import require_columns, utc_timestamp
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray
from crmlifecycle.metrics._events import (
    check_states,
    creation_times,
    log_kind,
    read_events,
    spells_of,
)
from crmlifecycle.metrics._log_codes import events_of_kind
from crmlifecycle.metrics._segments import segment_lookup
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import Lifecycle

__all__ = [
    "MERGED_INTO",
    "entity_segments",
    "population_spells",
    "segmented_spells_by_frames",
    "without_merged",
]


def entity_segments(
    ids: pd.Series,
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    *,
    by: Sequence[str],
    entities: pd.DataFrame | None,
    entities_columns: EntityColumns,
) -> tuple[IntArray, pd.DataFrame]:
    """
    Return the ``by`` segment code of each entity id in ``ids`` and the segments.

    The segments come from ``entities`` (one row per entity, its id column
    named by ``entities_columns``, by default ``<kind>_id`` such as
    ``opportunity_id``), or from the event log itself when it already holds
    the ``by`` columns (then constant per entity).
    """
    if entities is None:
        absent = [column for column in by if column not in events.columns]
        if absent:
            raise DataError(
                f"by={list(by)!r}: the event log has no column(s) {absent}; an event log "
                "holds transitions, not the attributes of the entities. Hint: pass "
                "entities= a frame with one row per entity, its id and the segment columns "
                "(e.g. entities=opportunities, by='owner')."
            )
        return segment_lookup(
            ids,
            events_of_kind(events, columns, kind),
            columns.entity_id,
            by,
            frame_name="events",
            entity=kind,
        )
    id_col = entities_columns.id_for(kind)
    require_columns(entities, [id_col, *by], frame_name="entities")
    return segment_lookup(ids, entities, id_col, by, frame_name="entities", entity=kind)


def population_spells(
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
    full = read_events(events, columns, kind, as_of=None)
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


#: The column of an entities frame that links a record merged into another to it.
MERGED_INTO: Final = "merged_into"


def without_merged(
    entities: pd.DataFrame,
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    entities_columns: EntityColumns,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Drop the rows of ``entities`` merged into another record, and their events of ``kind``.

    A record whose ``merged_into`` column is set was folded into its survivor
    (:meth:`Lifecycle.merge <crmlifecycle.stages.Lifecycle.merge>`): it is not a
    separate entity, so it is neither in the population nor in the log read.
    Without that column every row counts.
    """
    id_col = entities_columns.id_for(kind)
    if MERGED_INTO not in entities.columns or id_col not in entities.columns:
        return entities, events
    merged = entities[MERGED_INTO].notna().to_numpy(dtype=bool)
    if not bool(merged.any()) or columns.entity_id not in events.columns:
        return entities.loc[~merged], events
    drop = events[columns.entity_id].isin(entities.loc[merged, id_col]).to_numpy(dtype=bool)
    if columns.kind in events.columns:
        drop = drop & events[columns.kind].eq(kind).fillna(value=False).to_numpy(dtype=bool)
    return entities.loc[~merged], events.loc[~drop]


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
    set) and their events are left out (:func:`without_merged`).
    """
    rows = log_kind(lifecycle, kind)
    if entities is not None:
        entities, events = without_merged(entities, events, columns, rows, entities_columns)
    spells = spells_of(events, columns, rows, created=created, as_of=as_of)
    if entities is not None:
        id_col = entities_columns.id_for(rows)
        silent = population_spells(
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
