"""
An event log read once into integer codes: the fast path under every spell and stage KPI.

The rows of one kind are factorised once (entity ids and stage names become
integer codes, timestamps UTC nanoseconds), sorted by entity then time when
they are not already, and checked to chain (each event's source is the
previous event's dest). The spells are then built with array arithmetic, and
strings are only looked up again for the frame a caller asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._event_rows import stage_rows
from crmlifecycle._finite import NS_PER_DAY, elapsed
from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.schema import EventLogColumns

__all__ = ["NAT", "CodedLog", "IntArray", "check_chain", "code_log", "events_of_kind", "utc_ns"]

IntArray = npt.NDArray[np.int64]
NAT: int = np.iinfo(np.int64).min  # NaT's integer value in datetime64[ns]


def events_of_kind(events: pd.DataFrame, columns: EventLogColumns, kind: str) -> pd.DataFrame:
    """The stage rows (no ``fields_changed`` rows) of ``kind``; the whole log without kinds."""
    check_name("kind", kind, hint="pass kind= the kind of the rows, e.g. 'opportunity'.")
    if columns.kind not in events.columns:
        return stage_rows(events, entity_id=columns.entity_id, kind=columns.kind)
    # nullable string columns give pd.NA for missing kinds: those rows are not of the kind
    same = events[columns.kind].eq(kind).fillna(value=False).to_numpy(dtype=bool)
    if len(events) and not bool(same.any()):
        kinds = sorted(str(k) for k in events[columns.kind].dropna().unique())
        raise DataError.malformed(
            columns.kind,
            f"holds no event of kind {short_repr(kind)} (kinds present: {kinds})",
            hint=f"pass kind= one of {kinds} (or the lifecycle= of those events); a log "
            "without a kind column is read whole, as one lifecycle.",
        )
    if bool(same.all()):
        return stage_rows(events, entity_id=columns.entity_id, kind=columns.kind)
    return stage_rows(events.loc[same], entity_id=columns.entity_id, kind=columns.kind)


def _codes(values: pd.Series) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Factorise ``values``: codes (-1 where missing) and the distinct values."""
    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques)


def utc_ns(stamps: IntArray) -> pd.arrays.DatetimeArray:
    """UTC nanoseconds (``NAT`` for missing) as a ``datetime64[ns, UTC]`` array."""
    naive = pd.array(stamps.view("datetime64[ns]"), dtype="datetime64[ns]")
    return naive.tz_localize("UTC")


@dataclass(frozen=True)
class CodedLog:
    """
    The rows of one kind of an event log as codes, sorted by entity then time.

    Attributes:
        ids: the entity id of each entity code, in order of first appearance.
        entity: the entity code of each row (non-decreasing).
        states: the stage name of each state code.
        source: the state code each row left (-1 where the log has none: a creation).
        dest: the state code each row entered.
        at_ns: when, in UTC nanoseconds (non-decreasing within an entity).
    """

    ids: npt.NDArray[np.object_]
    entity: IntArray
    states: npt.NDArray[np.object_]
    source: IntArray
    dest: IntArray
    at_ns: IntArray

    def names(self, codes: IntArray) -> npt.NDArray[np.object_]:
        """The stage names of ``codes`` (NaN for -1)."""
        table = np.append(self.states, np.nan)
        names: npt.NDArray[np.object_] = table[codes]
        return names

    def column(self, codes: IntArray) -> pd.Series:
        """The stage names of ``codes`` as an object column (NaN for -1; no string copies)."""
        return pd.Series(self.names(codes), dtype=object)

    def first_rows(self) -> npt.NDArray[np.bool_]:
        """Where each entity's first row is."""
        first = np.ones(len(self.entity), dtype=bool)
        first[1:] = self.entity[1:] != self.entity[:-1]
        return first

    def last_rows(self) -> npt.NDArray[np.bool_]:
        """Where each entity's last row is."""
        last = np.ones(len(self.entity), dtype=bool)
        last[:-1] = self.entity[1:] != self.entity[:-1]
        return last

    def first_sources(self) -> pd.Series:
        """The first known source of each entity that has one (a creation row has none)."""
        known = self.source >= 0
        entity, source = self.entity[known], self.source[known]
        first = np.ones(len(entity), dtype=bool)
        first[1:] = entity[1:] != entity[:-1]
        return pd.Series(self.names(source[first]), index=self.ids[entity[first]], dtype=object)

    def until(self, ns: int) -> CodedLog:
        """The rows at or before ``ns`` (UTC nanoseconds), codes unchanged."""
        keep = self.at_ns <= ns
        if bool(keep.all()):
            return self
        return CodedLog(
            ids=self.ids,
            entity=self.entity[keep],
            states=self.states,
            source=self.source[keep],
            dest=self.dest[keep],
            at_ns=self.at_ns[keep],
        )

    def frame(self) -> pd.DataFrame:
        """The rows as a frame: ``entity_id``, ``source``, ``dest``, ``at`` (UTC)."""
        return pd.DataFrame(
            {
                "entity_id": self.ids[self.entity],
                "source": self.names(self.source),
                "dest": self.names(self.dest),
                "at": utc_ns(self.at_ns),
            }
        )

    def spells(self, created_ns: IntArray | None = None) -> pd.DataFrame:
        """
        The stage spells (see ``stage_spells``) in entity and time order.

        ``created_ns`` holds the creation time of each entity code (``NAT`` when
        unknown); it starts the spell of the source of an entity's first event.
        """
        spell_entity, state, entered, left, onward = self.spell_codes(created_ns)
        days = elapsed(left, entered, unit_ns=NS_PER_DAY)  # never wraps, even over 292 years
        return pd.DataFrame(
            {
                "entity_id": pd.Series(self.ids[spell_entity], dtype=self.ids.dtype),
                "state": self.column(state),
                "entered_at": utc_ns(entered),
                "left_at": utc_ns(left),
                "next_state": self.column(onward),
                "days": days,
            }
        )

    def spell_codes(
        self, created_ns: IntArray | None = None
    ) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
        """
        The spells of :meth:`spells` as codes: entity, state, entered, left, next state.

        Times are UTC nanoseconds (``NAT`` unknown or open), states -1 where none.
        """
        entity, at, dest = self.entity, self.at_ns, self.dest
        n = len(entity)
        first, last = self.first_rows(), self.last_rows()
        next_at = np.full(n, NAT, dtype=np.int64)
        next_at[:-1] = at[1:]
        next_at[last] = NAT
        next_state = np.full(n, -1, dtype=np.int64)
        next_state[:-1] = dest[1:]
        next_state[last] = -1
        head = first & (self.source >= 0)
        before = np.cumsum(head)
        size = n + int(before[-1]) if n else 0
        dest_at = np.arange(n, dtype=np.int64) + before
        head_at = dest_at[head] - 1
        spell_entity = np.empty(size, dtype=np.int64)
        state = np.empty(size, dtype=np.int64)
        entered = np.empty(size, dtype=np.int64)
        left = np.empty(size, dtype=np.int64)
        onward = np.empty(size, dtype=np.int64)
        spell_entity[dest_at], spell_entity[head_at] = entity, entity[head]
        state[dest_at], state[head_at] = dest, self.source[head]
        entered[dest_at] = at
        entered[head_at] = NAT if created_ns is None else created_ns[entity[head]]
        left[dest_at], left[head_at] = next_at, at[head]
        onward[dest_at], onward[head_at] = next_state, dest[head]
        return spell_entity, state, entered, left, onward


def _merge_states(
    source: tuple[IntArray, npt.NDArray[np.object_]], dest: tuple[IntArray, npt.NDArray[np.object_]]
) -> tuple[npt.NDArray[np.object_], IntArray, IntArray]:
    """One table of stage names for both columns, and both columns' codes into it."""
    names = list(dict.fromkeys([*dest[1].tolist(), *source[1].tolist()]))
    position = {name: i for i, name in enumerate(names)}
    dest_map = np.array([position[name] for name in dest[1].tolist()], dtype=np.int64)
    source_map = np.array([position[name] for name in source[1].tolist()] + [-1], dtype=np.int64)
    states = np.empty(len(names), dtype=object)
    states[:] = names
    return states, source_map[source[0]], dest_map[dest[0]]


def code_log(
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    *,
    as_of: Instant | None,
    chain: bool = True,
) -> CodedLog:
    """
    Read the rows of ``kind`` (at or before ``as_of``) into a :class:`CodedLog`.

    With ``chain=False`` the caller checks the chain itself (:func:`check_chain`),
    e.g. on the rows up to a moment first and on the whole log later.

    Raises:
        DataError: missing columns, ids or destinations; naive timestamps with a time of
            day; a log whose events do not chain (source ≠ previous dest).
    """
    names = [columns.entity_id, columns.source, columns.dest, columns.at]
    require_columns(events, names, frame_name="events")
    frame = events_of_kind(events, columns, kind)  # refuses missing or empty entity ids
    for column in (columns.dest,):
        missing = frame[column].isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "has missing values in the event log",
                rows=list(frame.index[missing.to_numpy()][:20]),
                hint="every event needs the entity id and the stage it moved to.",
            )
    at = as_utc(frame[columns.at], columns.at)
    ns = np.asarray(at.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")).view(np.int64)
    if as_of is not None:
        keep = ns <= utc_timestamp(as_of, name="as_of").value
        if not bool(keep.all()):
            frame, ns = frame.loc[keep], ns[keep]
    entity, ids = _codes(frame[columns.entity_id])
    states, source, dest = _merge_states(_codes(frame[columns.source]), _codes(frame[columns.dest]))
    sorted_already = bool(
        np.all((entity[1:] > entity[:-1]) | ((entity[1:] == entity[:-1]) & (ns[1:] >= ns[:-1])))
    )
    if not sorted_already:
        order = np.lexsort((ns, entity))
        entity, ns, source, dest = entity[order], ns[order], source[order], dest[order]
    log = CodedLog(ids=ids, entity=entity, states=states, source=source, dest=dest, at_ns=ns)
    if chain:
        check_chain(log, columns)
    return log


def check_chain(log: CodedLog, columns: EventLogColumns) -> None:
    """Refuse a log in which an event's source is not the previous dest of the same entity."""
    same = log.entity[1:] == log.entity[:-1]
    source = log.source[1:]
    broken = same & (source >= 0) & (source != log.dest[:-1])
    if not bool(broken.any()):
        return
    row = int(np.flatnonzero(broken)[0]) + 1
    raise DataError.malformed(
        columns.source,
        "does not match the previous event's dest for the same entity "
        f"(entity {log.ids[log.entity[row]]!r} at {utc_ns(log.at_ns[row : row + 1])[0]})",
        value=log.states[log.source[row]],
        hint="the log must hold every transition of an entity; events with equal "
        "timestamps are kept in their input order.",
    )
