"""
The population of the funnel KPIs read into integer codes: what the KPIs count on.

:func:`code_population` reads the entities a funnel KPI counts into codes: the
coded log (:mod:`crmlifecycle.metrics._log_codes`) cut at ``as_of``, the
entities of ``entities=`` without an event as extra codes, and one segment code
per entity. The funnel and conversion rate count on it directly (a bincount
over segment and stage); :func:`segmented_spells` builds the stage spells with
their ``by=`` segment from it for the stage-time KPIs. The checks and their
order are those of the frame-built population the KPIs read before (the tests keep it
as the reference this is compared with).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._finite import NS_PER_DAY, elapsed
from crmlifecycle._frames import require_columns, utc_timestamp
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray
from crmlifecycle.metrics._events import (
    check_states,
    creation_ns,
    creation_times,
    log_kind,
    spells_of,
)
from crmlifecycle.metrics._log_codes import NAT, CodedLog, check_chain, code_log, utc_ns
from crmlifecycle.metrics._population import entity_segments, without_merged
from crmlifecycle.metrics._segments import segment_table, segments_of_rows
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import Lifecycle

__all__ = ["CodedPopulation", "code_population", "segmented_spells"]


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
    set) and their events are left out (:func:`without_merged`), and its
    entities without an event have an open spell.
    """
    if entities is None and not keys:
        spells = spells_of(events, columns, log_kind(lifecycle, kind), created=created, as_of=as_of)
        check_states(spells["state"], lifecycle, columns.dest)
        return spells.assign(_segment=0), pd.DataFrame(index=pd.RangeIndex(1))
    population = code_population(
        events,
        columns,
        lifecycle,
        kind,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_columns=entities_columns,
    )
    return population.spells(), population.segments


@dataclass(frozen=True)
class CodedPopulation:
    """
    The entities a funnel KPI counts, as codes: its coded log plus the entities without events.

    Attributes:
        log: the rows read (up to ``as_of``), coded; its entity codes index ``ids``.
        ids: the id of each entity code: the log's entities (every row, also after
            ``as_of``), then those of ``entities=`` without any row.
        states: the stage name of each state code (the log's, then the initial state).
        born_ns: the creation time of each entity code of the log (``NAT`` unknown),
            or ``None`` without ``created=``.
        silent: the entity codes counted without a row up to ``as_of`` (population order).
        silent_state: the state code each of them is in.
        silent_born: when it entered it (UTC nanoseconds, ``NAT`` unknown).
        segment: the segment code of each entity code (-1: not counted).
        segments: the segments, one row per code.
    """

    log: CodedLog
    ids: npt.NDArray[np.object_]
    states: npt.NDArray[np.object_]
    born_ns: IntArray | None
    silent: IntArray
    silent_state: IntArray
    silent_born: IntArray
    segment: IntArray
    segments: pd.DataFrame

    def highest(self, position: IntArray) -> IntArray:
        """
        The highest ``position`` (one per state code, -1 none) each entity code reached.

        An entity's stages are the source of its first row and every dest (a later
        source is the previous dest); an entity without rows is in its silent state.
        """
        table = np.append(position, -1)
        highest = np.full(len(self.ids), -1, dtype=np.int64)
        log = self.log
        if len(log.entity):
            furthest = np.maximum(table[log.source], table[log.dest])
            starts = np.flatnonzero(log.first_rows())
            highest[log.entity[starts]] = np.maximum.reduceat(furthest, starts)
        highest[self.silent] = table[self.silent_state]
        return highest

    def spells(self) -> pd.DataFrame:
        """The spells (``SPELL_COLUMNS``, ``_segment``): the log's, then the silent ones."""
        entity, state, entered, left, onward = self.log.spell_codes(self.born_ns)
        n = len(self.silent)
        entity = np.concatenate([entity, self.silent])
        state = np.concatenate([state, self.silent_state])
        entered = np.concatenate([entered, self.silent_born])
        left = np.concatenate([left, np.full(n, NAT, dtype=np.int64)])
        onward = np.concatenate([onward, np.full(n, -1, dtype=np.int64)])
        names = np.append(self.states, np.nan)
        return pd.DataFrame(
            {
                "entity_id": pd.Series(self.ids[entity], dtype=object),
                "state": pd.Series(names[state], dtype=object),
                "entered_at": utc_ns(entered),
                "left_at": utc_ns(left),
                "next_state": pd.Series(names[onward], dtype=object),
                "days": elapsed(left, entered, unit_ns=NS_PER_DAY),
                "_segment": self.segment[entity],
            }
        )


def code_population(
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
) -> CodedPopulation:
    """
    Read the population of a funnel KPI into codes: the work of :func:`segmented_spells`.

    The log is coded once (every row: the population check needs the rows after
    ``as_of`` too) and cut at ``as_of`` by its codes; the entities of ``entities``
    without a row become extra codes; segments are looked up once per entity.
    The checks, and their order, are those of the frame-built reference in the tests.
    """
    rows = log_kind(lifecycle, kind)
    if entities is not None:
        entities, events = without_merged(entities, events, columns, rows, entities_columns)
    full = code_log(events, columns, rows, as_of=None, chain=False)
    log = full if as_of is None else full.until(utc_timestamp(as_of, name="as_of").value)
    check_chain(log, columns)
    born_ns = None if created is None else creation_ns(log, created)
    ids: npt.NDArray[np.object_] = np.asarray(full.ids, dtype=object)
    states = full.states
    n_log = len(ids)
    has_rows = np.zeros(n_log, dtype=bool)
    has_rows[log.entity] = True
    silent = silent_state = silent_born = member = np.array([], dtype=np.int64)
    if entities is not None:
        ids, has_rows, states, member, silent, silent_state, silent_born = _silent_entities(
            full,
            log,
            columns,
            lifecycle,
            rows,
            entities=entities,
            id_col=entities_columns.id_for(rows),
            created=created,
            as_of=as_of,
        )
    used = np.zeros(len(states), dtype=bool)
    used[log.dest] = True
    used[log.source[log.source >= 0]] = True
    used[silent_state] = True
    check_states(pd.Series(states[used], dtype=object), lifecycle, columns.dest)
    counted = has_rows.copy()
    counted[silent] = True
    segment = np.where(counted, 0, -1).astype(np.int64)
    segments = pd.DataFrame(index=pd.RangeIndex(1))
    if keys and entities is not None:
        id_col = entities_columns.id_for(rows)
        require_columns(entities, [id_col, *keys], frame_name="entities")
        table = segment_table(
            entities,
            id_col,
            keys,
            frame_name="entities",
            entity=rows,
            unique=len(member) == len(entities),  # ids checked by _silent_entities
        )
        # the table's rows are the population's ids in order: row k is entity code member[k]
        row_of = np.full(len(ids), -1, dtype=np.int64)
        row_of[member] = np.arange(len(member))
        who_codes = np.flatnonzero(counted)
        segment[who_codes], segments = segments_of_rows(table, keys, row_of[who_codes])
    elif keys:
        who_codes = np.flatnonzero(counted)
        of_entity, segments = entity_segments(
            pd.Series(ids[who_codes], dtype=object),
            events,
            columns,
            rows,
            by=keys,
            entities=entities,
            entities_columns=entities_columns,
        )
        segment[who_codes] = of_entity
    return CodedPopulation(
        log=log,
        ids=ids,
        states=states,
        born_ns=born_ns,
        silent=silent,
        silent_state=silent_state,
        silent_born=silent_born,
        segment=segment,
        segments=segments,
    )


def _silent_entities(
    full: CodedLog,
    log: CodedLog,
    columns: EventLogColumns,
    lifecycle: Lifecycle,
    rows: str,
    *,
    entities: pd.DataFrame,
    id_col: str,
    created: pd.Series | None,
    as_of: Instant | None,
) -> tuple[
    npt.NDArray[np.object_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.object_],
    IntArray,
    IntArray,
    IntArray,
    IntArray,
]:
    """
    Add the entities of ``entities`` without a row in ``log`` (cut from ``full``) as codes.

    Returns the ids of every entity code, whether each has a row in ``log``, the
    states, the entity code of each distinct id of ``entities`` (in order), and the
    silent entities (codes, states, entry times) that exist by ``as_of``, with the
    population's checks (missing ids, events of unknown entities, unknown creation times).
    """
    ids: npt.NDArray[np.object_] = np.asarray(full.ids, dtype=object)
    n_log = len(ids)
    require_columns(entities, [id_col], frame_name="entities")
    check_ids(entities, id_col, frame_name="entities")
    check_chain(full, columns)
    population = np.asarray(entities[id_col].to_numpy(), dtype=object)
    codes, uniques = pd.factorize(np.concatenate([ids, population]))
    row_codes = np.asarray(codes[n_log:], dtype=np.int64)
    # the distinct ids of the entities frame in order of first appearance (pd.unique's)
    member = row_codes[np.sort(np.unique(row_codes, return_index=True)[1])]
    in_population = np.zeros(n_log, dtype=bool)
    in_population[member[member < n_log]] = True
    if not bool(in_population.all()):
        strangers = ids[~in_population]
        raise DataError.malformed(
            columns.entity_id,
            f"holds events of {len(strangers)} {rows} id(s) absent from the entities frame "
            f"{list(strangers[:5])}",
            value=strangers[0],
            hint=f"entities= is the whole population: give it one row per {rows} of the "
            f"log (its id in the column {id_col!r}), or drop those events.",
        )
    ids = np.asarray(uniques, dtype=object)
    has_rows: npt.NDArray[np.bool_] = np.zeros(len(ids), dtype=bool)
    has_rows[log.entity] = True
    silent = member[~has_rows[member]]
    silent_state, silent_born, states = _silent_heads(full, silent, lifecycle)
    if created is not None:
        stamps = creation_times(created)
        given = pd.Series(stamps.reindex(ids[silent]).array, dtype="datetime64[ns, UTC]")
        given_ns = np.asarray(given.dt.tz_convert(None).to_numpy("datetime64[ns]")).view(np.int64)
        silent_born = np.where(given_ns != NAT, given_ns, silent_born)
    if as_of is not None:
        unknown = silent_born == NAT
        if bool(unknown.any()):
            who = list(ids[silent][unknown][:5])
            raise DataError(
                f"created=: the creation time of {int(unknown.sum())} {rows}(s) of the "
                f"entities frame without an event by as_of is unknown (e.g. {who}), so "
                "whether they existed then is unknown. Hint: pass created= the creation "
                f"timestamps indexed by entity id (e.g. entities.set_index({id_col!r})"
                "['created_at']), or leave as_of out."
            )
        keep = silent_born <= utc_timestamp(as_of, name="as_of").value
        silent, silent_state, silent_born = silent[keep], silent_state[keep], silent_born[keep]
    return ids, has_rows, states, member, silent, silent_state, silent_born


def _silent_heads(
    full: CodedLog, silent: IntArray, lifecycle: Lifecycle
) -> tuple[IntArray, IntArray, npt.NDArray[np.object_]]:
    """
    The stage each silent entity is in, when it entered it from its log (``NAT``), the states.

    The source of its first row when that row has one; the dest of a creation row
    (entered then); the lifecycle's initial state without any row (appended to the
    states when the log does not hold it).
    """
    states = full.states
    initial = np.flatnonzero(states == lifecycle.initial)
    if len(initial):
        initial_code = int(initial[0])
    else:
        initial_code = len(states)
        states = np.append(states, np.array([lifecycle.initial], dtype=object))
    n_log = len(full.ids)
    first = np.flatnonzero(full.first_rows())  # entity code e's first row: full codes are sorted
    logged = silent < n_log
    row = first[silent[logged]]
    creation = full.source[row] < 0
    state = np.full(len(silent), initial_code, dtype=np.int64)
    born = np.full(len(silent), NAT, dtype=np.int64)
    state[logged] = np.where(creation, full.dest[row], full.source[row])
    born[logged] = np.where(creation, full.at_ns[row], NAT)
    return state, born, states
