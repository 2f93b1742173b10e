"""
Reading lifecycle event logs: the rows of one kind, stage spells, segments, stage facts.

An event log has one row per transition (:class:`~crmlifecycle.schema.EventLogColumns`:
``kind``, ``entity_id``, ``trigger``, ``source``, ``dest``, ``at``), or is the
library's event-log frame (:func:`~crmlifecycle.stages.events_to_frame`), read
as is: its ``created`` rows are the record entering the state it was created in
(a spell from its creation), its ``fields_changed`` rows change no stage and are
skipped. From it we rebuild *spells*: each stage an entity entered, when, when
it left and where it went. Every funnel and pipeline metric reads these spells,
so all of them can be computed *as of* any date by ignoring later events.

The facts about stages (funnel order, won and lost stages, win probabilities,
forecast categories) are not declared here: they are read from a
:class:`~crmlifecycle.stages.Lifecycle`'s stage metadata, so renaming a stage
is a change to the lifecycle definition only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from crmlifecycle._event_rows import stage_rows
from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray
from crmlifecycle.metrics._segments import segment_lookup
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["stage_spells"]

SPELL_COLUMNS: Final = ["entity_id", "state", "entered_at", "left_at", "next_state", "days"]


def log_kind(lifecycle: Lifecycle, kind: str | None) -> str:
    """The kind of rows to read: ``kind`` when given, else the lifecycle's kind."""
    return lifecycle.kind if kind is None else kind


def check_states(stages: pd.Series, lifecycle: Lifecycle, column: str) -> None:
    """
    Require every stage in ``stages`` to be a state of ``lifecycle``.

    A stage the lifecycle does not know means the data belongs to another lifecycle
    (or another kind of rows): its funnel, won and lost stages would silently not match.

    Raises:
        DataError: naming ``column``, the unknown stages and the lifecycle's states.
    """
    unknown = sorted(set(stages.dropna().unique()) - set(lifecycle.states), key=str)
    if unknown:
        raise DataError.malformed(
            column,
            f"holds stage(s) {unknown[:5]} that are not states of the {lifecycle.name!r} "
            f"lifecycle (states: {list(lifecycle.states)})",
            value=unknown[0],
            hint="pass lifecycle= the lifecycle of these records (e.g. LEAD_STATUS for lead "
            "events), or kind= the kind of its rows in a mixed log.",
        )


def funnel_stages(lifecycle: Lifecycle) -> tuple[str, ...]:
    """The funnel of a lifecycle: its states in order, without the lost ones (exits, not steps)."""
    return tuple(stage.name for stage in lifecycle.stages if stage.type != "lost")


def won_stages(lifecycle: Lifecycle) -> list[str]:
    """
    The states of type ``won``.

    Raises:
        DataError: the lifecycle has no won state, so nothing can be won.
    """
    won = [stage.name for stage in lifecycle.stages if stage.won]
    if not won:
        raise DataError(
            f"the {lifecycle.name!r} lifecycle has no state of type 'won' "
            f"(states: {list(lifecycle.states)}). Hint: pass lifecycle= a pipeline that "
            "marks its won stage with type 'won'."
        )
    return won


def closed_stages(lifecycle: Lifecycle) -> list[str]:
    """The states of type ``won`` or ``lost``."""
    return [stage.name for stage in lifecycle.stages if stage.closed]


def stage_probabilities(lifecycle: Lifecycle) -> dict[str, float]:
    """The default win probability (percent) of every state that declares one."""
    return {s.name: float(s.probability) for s in lifecycle.stages if s.probability is not None}


def forecast_categories(lifecycle: Lifecycle) -> dict[str, str]:
    """The forecast category of every state that declares one."""
    return {s.name: s.forecast for s in lifecycle.stages if s.forecast is not None}


def _of_kind(events: pd.DataFrame, columns: EventLogColumns, kind: str) -> pd.DataFrame:
    """The stage rows (no ``fields_changed`` rows) of ``kind``; the whole log without kinds."""
    if columns.kind not in events.columns:
        return stage_rows(events)
    # nullable string columns give pd.NA for missing kinds: those rows are not of the kind
    same = events[columns.kind].eq(kind).fillna(value=False).to_numpy(dtype=bool)
    if len(events) and not bool(same.any()):
        kinds = sorted(str(k) for k in events[columns.kind].dropna().unique())
        raise DataError.malformed(
            columns.kind,
            f"holds no event of kind {kind!r} (kinds present: {kinds})",
            hint=f"pass kind= one of {kinds} (or the lifecycle= of those events); a log "
            "without a kind column is read whole, as one lifecycle.",
        )
    return stage_rows(events.loc[same])


def read_events(
    events: pd.DataFrame, columns: EventLogColumns, kind: str, *, as_of: Instant | None
) -> pd.DataFrame:
    """Validate the log; return the rows of ``kind`` by (entity, at), cut at ``as_of``."""
    names = [columns.entity_id, columns.source, columns.dest, columns.at]
    require_columns(events, names, frame_name="events")
    frame = _of_kind(events, columns, kind)
    for column in (columns.entity_id, columns.dest):
        missing = frame[column].isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "has missing values in the event log",
                rows=list(frame.index[missing.to_numpy()][:20]),
                hint="every event needs the entity id and the stage it moved to.",
            )
    at = as_utc(frame[columns.at], columns.at)
    table = pd.DataFrame(
        {
            "entity_id": frame[columns.entity_id].to_numpy(),
            "source": frame[columns.source].to_numpy(),
            "dest": frame[columns.dest].to_numpy(),
            "at": at.array,
        }
    )
    if as_of is not None:
        table = table.loc[table["at"] <= utc_timestamp(as_of, name="as_of")]
    codes = np.asarray(pd.factorize(table["entity_id"])[0], dtype=np.int64)
    order = np.lexsort((table["at"].dt.tz_convert(None).to_numpy(), codes))
    table = table.iloc[order].reset_index(drop=True)
    same = table["entity_id"].to_numpy()[1:] == table["entity_id"].to_numpy()[:-1]
    source = table["source"].to_numpy()[1:]
    broken = same & pd.notna(source) & (source != table["dest"].to_numpy()[:-1])
    if bool(broken.any()):
        row = int(np.flatnonzero(broken)[0]) + 1
        raise DataError.malformed(
            columns.source,
            "does not match the previous event's dest for the same entity "
            f"(entity {table['entity_id'].iloc[row]!r} at {table['at'].iloc[row]})",
            value=table["source"].iloc[row],
            hint="the log must hold every transition of an entity; events with equal "
            "timestamps are kept in their input order.",
        )
    return table


def stage_spells(
    events: pd.DataFrame,
    *,
    kind: str = OPPORTUNITY_PIPELINE.kind,
    created: pd.Series | None = None,
    as_of: Instant | None = None,
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Rebuild the stage spells of every entity from a lifecycle event log.

    Each event starts a spell in its ``dest`` stage, ended by the entity's
    next event (``left_at``, ``next_state``) or still open (NaT) at
    ``as_of``. The source stage of an entity's first event is a spell too;
    it starts at the entity's creation time, taken from ``created`` (a
    Series of timestamps indexed by entity id, e.g.
    ``opportunities.set_index("opportunity_id")["created_at"]``) or unknown
    (NaT) without it. A creation event with an empty ``source`` (a ``created``
    row of :func:`~crmlifecycle.stages.events_to_frame`) starts the first spell
    itself; ``fields_changed`` rows are skipped. Only events at or before ``as_of`` count (every
    event when it is ``None``). ``days`` is the completed spell's length in
    days (NaN while open or when its start is unknown).

    The spells are those of the entities in the log: an entity without an
    event (still in its first stage) has none here. The funnel KPIs add it
    when given the population (``entities=``, see
    :func:`~crmlifecycle.metrics.funnel`).

    A mixed log (several lifecycles in one frame, told apart by its kind
    column) is read for one lifecycle: the rows whose kind is ``kind``
    (``"opportunity"`` by default; e.g. ``"lead"`` for the lead status log).
    A log without a kind column is read whole. ``events_columns`` names the
    log's columns (:class:`~crmlifecycle.schema.EventLogColumns`, e.g.
    ``EventLogColumns(entity_id="deal_id")``).

    Args:
        events: the event log, one row per transition.
        kind: the kind of the rows to read (one lifecycle of a mixed log).
        created: each entity's creation time, indexed by entity id; it starts the
            spell of the first stage.
        as_of: the moment looked from: later events are ignored and spells still
            running then are open (``None``: every event).
        events_columns: which columns of ``events`` hold the event-log fields.

    Returns:
        One row per spell: ``entity_id``, ``state``, ``entered_at``, ``left_at``,
        ``next_state`` and ``days``.

    Raises:
        DataError: missing columns or ids, naive timestamps with a time of
            day, a log whose events do not chain (source ≠ previous dest), or
            a kind column without any event of ``kind``.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1"], "source": ["prospecting", "qualification"],
        ...     "dest": ["qualification", "won"],
        ...     "at": pd.to_datetime(["2026-01-03", "2026-01-10"], utc=True),
        ... })
        >>> created = pd.Series(pd.to_datetime(["2026-01-01"], utc=True), index=["o1"])
        >>> stage_spells(events, created=created)[["state", "next_state", "days"]]
                   state     next_state  days
        0    prospecting  qualification   2.0
        1  qualification            won   7.0
        2            won            NaN   NaN
    """
    return spells_of(events, events_columns, kind, created=created, as_of=as_of)


def creation_times(created: pd.Series) -> pd.Series:
    """
    Read ``created=``: UTC creation timestamps indexed by entity id, one per entity.

    Raises:
        DataError: naive timestamps with a time of day, or an id given twice.
    """
    stamps = as_utc(pd.Series(created), "created", allow_missing=True)
    if not stamps.index.is_unique:
        twice = list(stamps.index[stamps.index.duplicated()][:5])
        raise DataError(
            f"created=: the creation times name some entities twice (e.g. {twice}). "
            "Hint: pass one timestamp per entity id, e.g. "
            "deals.drop_duplicates('opportunity_id').set_index('opportunity_id')['created_at']."
        )
    return stamps


def spells_of(
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    *,
    created: pd.Series | None,
    as_of: Instant | None,
) -> pd.DataFrame:
    """Do the work of :func:`stage_spells` for a log read with ``columns``."""
    log = read_events(events, columns, kind, as_of=as_of)
    ids = log["entity_id"].to_numpy()
    n = len(log)
    first = np.ones(n, dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    at = log["at"]
    next_at = at.shift(-1).where(~pd.Series(last))
    next_state = log["dest"].shift(-1).where(~pd.Series(last))
    dest_spells = pd.DataFrame(
        {
            "entity_id": ids,
            "state": log["dest"].to_numpy(),
            "entered_at": at.array,
            "left_at": next_at.array,
            "next_state": next_state.to_numpy(),
            "_rank": np.arange(n) * 2 + 1,
        }
    )
    initial = first & pd.notna(log["source"].to_numpy())
    heads = log.loc[initial]
    entered = pd.Series(pd.NaT, index=heads.index, dtype="datetime64[ns, UTC]")
    if created is not None and len(heads):
        stamps = creation_times(created)
        entered = pd.Series(stamps.reindex(heads["entity_id"].to_numpy()).array, index=heads.index)
    head_spells = pd.DataFrame(
        {
            "entity_id": heads["entity_id"].to_numpy(),
            "state": heads["source"].to_numpy(),
            "entered_at": entered.array,
            "left_at": heads["at"].array,
            "next_state": heads["dest"].to_numpy(),
            "_rank": np.flatnonzero(initial) * 2,
        }
    )
    spells = pd.concat([head_spells, dest_spells], ignore_index=True)
    spells = spells.sort_values("_rank", ignore_index=True).drop(columns=["_rank"])
    for column in ("entered_at", "left_at"):
        spells[column] = spells[column].astype("datetime64[ns, UTC]")
    spells["days"] = (spells["left_at"] - spells["entered_at"]).dt.total_seconds() / 86_400
    return spells[SPELL_COLUMNS]


def stage_order(stages: Sequence[str]) -> dict[str, int]:
    """Map each funnel stage to its position, rejecting an empty funnel."""
    if not stages:
        raise DataError(
            "the lifecycle has no stage other than lost ones, so it has no funnel. "
            "Hint: pass lifecycle= a lifecycle whose open, ongoing and won states form the funnel."
        )
    return {stage: i for i, stage in enumerate(stages)}


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
            _of_kind(events, columns, kind),
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
    missing = entities[id_col].isna()
    if bool(missing.any()):
        raise DataError.malformed(
            id_col,
            "has missing ids in the entities frame",
            rows=list(entities.index[missing.to_numpy()][:20]),
            hint=f"every row of entities needs the id of its {kind}.",
        )
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


def segmented_spells(
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
    Return the spells of ``lifecycle`` with a ``_segment`` code and the segments (one per code).

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
