"""
Replay over an event-log frame (:func:`replay_frame`): each entity's state as of a moment.

The log is coded once (entities factorized, states coded by the lifecycle's
bulk-step tables), sorted by entity and then by ``sequence`` (when every row
has one) or by time, and each entity's last step read off. With checks, the
whole frame is checked before anything is read off it: no repeated
``event_id``, no other lifecycle or (unless trusted) lifecycle version,
sequences counting up by one, time never going backwards, and every step one
the lifecycle defines (unless trusted) chaining on the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlifecycle._event_data import decode
from crmlifecycle._frames import as_utc, equals, require_columns, utc_timestamp
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg, is_aware
from crmlifecycle.errors import DataError, EventLogError, LifecycleVersionError
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages._event_log import _mapping
from crmlifecycle.stages._frame_tables import categorical, codes_of, frame_tables, state_codes

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import CompiledLifecycle
    from crmlifecycle.stages._lifecycle import Lifecycle

__all__ = ["replay_frame", "replay_log"]


def replay_frame(
    lifecycle: Lifecycle,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    check: bool = True,
    trust: bool = False,
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Each entity's state from an event log, optionally as of a moment (pipeline snapshots).

    ``events`` is an event-log frame of the data contract (columns ``entity_id,
    trigger, source, dest, at``, and ``kind``, which must be the lifecycle's, if
    present); ``events_columns`` renames them. It reads the library's own event
    log (:func:`~crmlifecycle.stages.events_to_frame`): rows with a missing
    ``source`` are creation rows (the entity enters ``dest``: a ``Created`` event
    holding its record), and rows with neither ``source`` nor ``dest`` carry no
    state (``FieldsChanged`` events, ``Created`` events without a record) and are
    skipped.

    Order: when the frame has a ``sequence`` column with a value in every row
    (the library's own event log), each entity's rows are read in sequence
    order; otherwise in ``at`` order (ties keep the frame's row order). With
    ``check`` (the default) the whole frame is checked first, and nothing is
    returned unless every check passes:

    - no ``event_id`` appears twice, and no row names another ``lifecycle``;
    - a row recorded under another ``lifecycle_version`` is a
      :class:`~crmlifecycle.errors.LifecycleVersionError`, unless ``trust``;
    - each entity's sequences go up by one from row to row (a gap or a repeat is
      a missing or doubled row); in a frame where only some rows have a sequence,
      those must grow along the entity's rows in time order;
    - in sequence order, ``at`` never goes backwards;
    - every logged step is one the lifecycle defines (not checked with ``trust``:
      history recorded under another definition may hold steps this one no
      longer has), and each entity's steps chain (a step's source is the
      previous step's dest).

    A step to its own state re-enters it (``state_since`` moves, as with
    :meth:`~crmlifecycle.stages.Lifecycle.fire`) when the lifecycle's first
    transition of that ``(state, trigger)`` landing there is not internal; a
    frame cannot run guards, so where an internal and a re-entering transition
    share a trigger, the first declared decides.

    The envelope problems raise :class:`~crmlifecycle.errors.EventLogError`,
    naming the entity, the row and its ``event_id``; the step problems raise
    :class:`~crmlifecycle.errors.DataError`, naming the rows. ``check=False``
    reads the log as it is, except that a row without an entity id (missing, or
    empty text) is always refused (a ``DataError`` naming the column and the
    rows). The checks cover the whole frame, also the rows after ``as_of``.
    Entities without an event at or before ``as_of`` are absent from the result;
    ``as_of=None`` reads the whole log.

    Args:
        lifecycle: the lifecycle the events belong to.
        events: an event log of ``lifecycle`` (the library's own event-log frame reads as is).
        as_of: the moment looked from (``None``: every event).
        check: whether to check the log (the envelope, and that every step is allowed by the
            lifecycle) before reading it.
        trust: read history recorded under another version of the lifecycle as it was recorded
            (no version check, steps the lifecycle does not define are accepted).
        events_columns: which columns of ``events`` hold the event-log fields.

    Returns:
        A DataFrame indexed by the entity id (sorted; the index is named like the
        id column) with ``state`` (categorical), ``state_since`` (when the entity
        entered that state: the last step that changed the state, or its
        creation) and ``events`` (how many rows carrying a state: steps and
        creations), and ``version`` (the last ``sequence`` at or before ``as_of``, a
        nullable integer) when the frame has a ``sequence`` column.

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> log = pd.DataFrame({"kind": "opportunity", "entity_id": ["O-1", "O-2", "O-1"],
        ...     "trigger": ["qualify", "lose", "propose"],
        ...     "source": ["prospecting", "prospecting", "qualification"],
        ...     "dest": ["qualification", "lost", "proposal"],
        ...     "at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-02-01"], utc=True)})
        >>> PIPE.replay_frame(log)["state"].to_dict()
        {'O-1': 'proposal', 'O-2': 'lost'}
        >>> PIPE.replay_frame(log, as_of="2026-01-31")["state"].to_dict()
        {'O-1': 'qualification', 'O-2': 'lost'}
    """
    from crmlifecycle.stages._lifecycle import Lifecycle

    check_arg("lifecycle", lifecycle, Lifecycle, "a Lifecycle (e.g. LEAD_STATUS)")
    return lifecycle.replay_frame(
        events, as_of=as_of, check=check, trust=trust, events_columns=events_columns
    )


def replay_log(
    compiled: CompiledLifecycle,
    events: pd.DataFrame,
    *,
    as_of: Instant | None,
    check: bool,
    trust: bool,
    cols: EventLogColumns,
) -> pd.DataFrame:
    """The replay of :func:`replay_frame`, on a compiled lifecycle."""
    check_arg("events_columns", cols, EventLogColumns, "an EventLogColumns")
    check_arg("check", check, bool, "True or False")
    check_arg("trust", trust, bool, "True or False")
    columns = [cols.entity_id, cols.trigger, cols.source, cols.dest, cols.at]
    require_columns(events, columns, frame_name="events")
    check_ids(events, cols.entity_id, frame_name="events", what="entity ids")
    _check_kind(compiled, events, cols)
    at = as_utc(events[cols.at], cols.at)
    naive_all = at.dt.tz_localize(None).to_numpy()
    entity_all, _ = pd.factorize(events[cols.entity_id], sort=True)
    sequence = _sequences(events)
    order = _order(entity_all, naive_all, sequence)
    if check:
        _check_envelope(compiled, events, order, entity_all, naive_all, sequence, cols, trust)
    # rows that carry no state (a FieldsChanged row, a Created row without its record)
    stateful = ~(events[cols.source].isna() & events[cols.dest].isna()).to_numpy(dtype=bool)
    kept = order[stateful[order]]
    log = events[columns[:4]].iloc[kept]
    tables = frame_tables(compiled)
    dest = state_codes(log[cols.dest], tables.state_index, cols.dest)
    creation = log[cols.source].isna().to_numpy()
    src = codes_of(log[cols.source], tables.state_index)
    if bool((src[~creation] < 0).any()):
        state_codes(log[cols.source][~creation], tables.state_index, cols.source)
    if check and len(kept):  # the whole log, also after as_of: nothing is read off a bad log
        _check_steps(compiled, events, log, (src, dest, creation), trust=trust, cols=cols)
    seen = np.ones(len(events), dtype=bool)
    if as_of is not None:
        seen = (at <= utc_timestamp(as_of, name="as_of")).to_numpy()
        upto = seen[kept]
        kept, log, src, dest, creation = (
            kept[upto],
            log[upto],
            src[upto],
            dest[upto],
            creation[upto],
        )
    ids = log[cols.entity_id].to_numpy()
    stamps = naive_all[kept]
    if "data" in events.columns and bool(creation.any()):
        stamps = _created_since(events["data"].iloc[kept], creation, stamps)
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    counts = np.diff(np.r_[-1, np.flatnonzero(last)])
    # state_since: the last row that entered a state (an internal step keeps it)
    entered = creation | (src != dest) | _reentered(compiled, log[cols.trigger], src, dest)
    since = pd.Series(np.where(entered, stamps, np.datetime64("NaT")), dtype="datetime64[ns]")
    if len(ids):
        since = since.groupby(np.cumsum(np.r_[True, last[:-1]])).ffill()
    since = since.fillna(pd.Series(stamps, dtype="datetime64[ns]"))
    index = pd.Index(ids[last], name=cols.entity_id)
    out = pd.DataFrame(
        {
            "state": categorical(dest[last], tables.state_dtype),
            "state_since": pd.DatetimeIndex(since.to_numpy()[last]).tz_localize("UTC"),
            "events": counts.astype(np.int64),
        },
        index=index,
    )
    if sequence is not None:
        versions = sequence[seen].groupby(events[cols.entity_id].to_numpy()[seen]).max()
        out["version"] = versions.reindex(index).astype("Int64").array
    return out


def _reentered(
    compiled: CompiledLifecycle, trigger: pd.Series, src: np.ndarray, dest: np.ndarray
) -> np.ndarray:
    """
    Which rows re-enter their state: a step to its own source that is not internal.

    An internal transition keeps ``state_since``; a transition declared with its
    source as ``dest`` re-enters the state and moves it (as :meth:`Lifecycle.fire`
    does). The lifecycle's first candidate of ``(state, trigger)`` landing in the
    state decides.
    """
    pairs = [
        (state, trig)
        for (state, trig), candidates in compiled.table.items()
        if any(c.dest == state for c in candidates)
        and not next(c for c in candidates if c.dest == state).internal
    ]
    loops = src == dest
    if not pairs or not bool(loops.any()):
        return np.zeros(len(src), dtype=bool)
    names = list(compiled.by_name)
    triggers = list(compiled.triggers)
    tcodes = pd.Index(triggers).get_indexer(pd.Index(trigger.to_numpy()))
    size = len(triggers) + 1
    keys = src.astype(np.int64) * size + tcodes
    wanted = np.array([names.index(s) * size + triggers.index(t) for s, t in pairs])
    reentering: np.ndarray = loops & np.isin(keys, wanted)
    return reentering


def _check_kind(compiled: CompiledLifecycle, events: pd.DataFrame, cols: EventLogColumns) -> None:
    """Refuse rows of another kind than the lifecycle's."""
    if cols.kind in events.columns:
        other = ~equals(events[cols.kind], compiled.kind)
        if bool(other.any()):
            bad = np.flatnonzero(other)
            raise DataError.malformed(
                cols.kind,
                f"holds events of other lifecycles than {compiled.kind!r}",
                rows=list(events.index[bad[:20]]),
                value=events[cols.kind].iloc[bad[0]],
                hint=f"filter first: events[events[{cols.kind!r}] == {compiled.kind!r}].",
            )


def _check_steps(
    compiled: CompiledLifecycle,
    events: pd.DataFrame,
    log: pd.DataFrame,
    codes: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    trust: bool,
    cols: EventLogColumns,
) -> None:
    """Refuse steps the lifecycle does not define (unless trusted) and steps that do not chain."""
    src, dest, creation = codes
    columns = [cols.entity_id, cols.trigger, cols.source, cols.dest]
    ids = log[cols.entity_id].to_numpy()
    same = np.r_[False, ids[1:] == ids[:-1]]
    broken = same & ~creation & np.r_[False, src[1:] != dest[:-1]]
    problems = [(broken, "a step whose source is not the previous step's dest")]
    if not trust:
        names = tuple(compiled.by_name)
        undefined = ~_defined(compiled, names, log[cols.trigger], src, dest) & ~creation
        problems.insert(0, (undefined, "a step the lifecycle does not define"))
    for mask, problem in problems:
        if bool(mask.any()):
            rows = list(log.index[np.flatnonzero(mask)][:20])
            raise DataError.malformed(
                "events",
                f"holds {problem}",
                rows=rows,
                value=tuple(events.loc[rows[0], columns]),
                hint="the log was written by another definition (pass trust=True if "
                "its steps are the truth), or is missing rows; pass check=False to "
                "read it anyway.",
            )


def _created_since(data: pd.Series, creation: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """
    Creation rows enter their state at the record's ``state_since`` (its ``data``), if held.

    A ``Created`` event happens at the record's ``created_at``; the record may have
    entered its state later (an imported record), which its ``data`` says.
    """
    out = stamps.copy()
    for position in np.flatnonzero(creation).tolist():
        cell = data.iloc[position]
        if isinstance(cell, str):
            cell = decode(_mapping(cell, "data", data.index[position]), "data")
        since = cell.get("state_since") if isinstance(cell, Mapping) else None
        if isinstance(since, datetime) and is_aware(since):
            out[position] = np.datetime64(since.astimezone(UTC).replace(tzinfo=None), "ns")
    return out


def _sequences(events: pd.DataFrame) -> pd.Series | None:
    """The ``sequence`` column as nullable integers (``None``: the frame has none)."""
    if "sequence" not in events.columns:
        return None
    try:
        return events["sequence"].astype("Int64")
    except (TypeError, ValueError) as err:
        raise DataError.malformed(
            "sequence",
            "holds values that are not whole numbers",
            hint="write the log with events_to_frame, or drop the column.",
        ) from err


def _order(entity: np.ndarray, stamps: np.ndarray, sequence: pd.Series | None) -> np.ndarray:
    """
    The replay order of the rows: by entity, then by sequence when every row has one.

    Without a complete ``sequence`` column, rows are ordered by ``at`` within each
    entity (stable: ties keep the frame's row order).
    """
    position = np.arange(len(entity))
    if sequence is not None and len(sequence) and not bool(sequence.isna().any()):
        return np.lexsort((position, sequence.to_numpy(dtype=np.int64), entity))
    return np.lexsort((position, stamps, entity))


def _defined(
    compiled: CompiledLifecycle,
    names: tuple[str, ...],
    trigger: pd.Series,
    src: np.ndarray,
    dest: np.ndarray,
) -> np.ndarray:
    """Whether each ``(source, trigger, dest)`` row is a step the lifecycle defines."""
    triggers = compiled.triggers
    tcodes = pd.Index(list(triggers)).get_indexer(pd.Index(trigger.to_numpy()))
    valid = {
        (names.index(state), triggers.index(trig), names.index(c.dest))
        for (state, trig), candidates in compiled.table.items()
        for c in candidates
    }
    size = max(len(names), len(triggers)) + 1
    keys = (src * size + tcodes) * size + dest
    valid_keys = np.array([(s * size + t) * size + d for s, t, d in valid], dtype=np.int64)
    return np.isin(keys, valid_keys)


def _check_envelope(
    compiled: CompiledLifecycle,
    events: pd.DataFrame,
    order: np.ndarray,
    entity: np.ndarray,
    stamps: np.ndarray,
    sequence: pd.Series | None,
    cols: EventLogColumns,
    trust: bool,
) -> None:
    """Refuse what makes a log unreplayable: the checks of :func:`replay_frame`."""

    def fail(position: int, problem: str, hint: str) -> EventLogError:
        label = events.index[position]
        event_id = _cell(events, "event_id", position)
        named = f" ({event_id})" if event_id is not None else ""
        entity_id = events[cols.entity_id].iloc[position]
        return EventLogError(
            f"row {label!r}{named} of entity {entity_id!r} {problem}. Hint: {hint}",
            entity_id=entity_id,
            index=label,
            event_id=event_id,
        )

    if "event_id" in events.columns:
        ids = events["event_id"]
        repeated = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
        if bool(repeated.any()):
            row = int(np.flatnonzero(repeated)[0])
            first = int(np.flatnonzero((ids == ids.iloc[row]).to_numpy())[0])
            raise fail(
                row,
                f"repeats the event_id of row {events.index[first]!r}",
                "store each event once; a repeated event would be counted twice.",
            )
    if "lifecycle" in events.columns:
        named = events["lifecycle"]
        other = (named.notna() & (named != compiled.name)).to_numpy()
        if bool(other.any()):
            row = int(np.flatnonzero(other)[0])
            raise fail(
                row,
                f"was recorded by lifecycle {named.iloc[row]!r}, not {compiled.name!r}",
                f"replay it with the {named.iloc[row]!r} lifecycle.",
            )
    if not trust and "lifecycle_version" in events.columns:
        recorded = events["lifecycle_version"]
        other = (recorded.notna() & (recorded != compiled.version)).to_numpy()
        if bool(other.any()):
            row = int(np.flatnonzero(other)[0])
            label, version = events.index[row], str(recorded.iloc[row])
            event_id = _cell(events, "event_id", row)
            raise LifecycleVersionError(
                f"row {label!r} of entity {events[cols.entity_id].iloc[row]!r} was recorded "
                f"under version {version!r} of the {compiled.name!r} lifecycle, not "
                f"{compiled.version!r} (this definition). Hint: pass trust=True to read the "
                "history as it was recorded (steps this definition no longer has are "
                "accepted), or replay it with the definition of that version.",
                entity_id=events[cols.entity_id].iloc[row],
                index=label,
                event_id=event_id,
                recorded=version,
                expected=compiled.version,
            )
    _check_order(order, entity, stamps, sequence, fail)


def _check_order(
    order: np.ndarray,
    entity: np.ndarray,
    stamps: np.ndarray,
    sequence: pd.Series | None,
    fail: Callable[[int, str, str], EventLogError],
) -> None:
    """Refuse sequence gaps and repeats, and time going backwards, within each entity."""
    ent, at = entity[order], stamps[order]
    same = np.r_[False, ent[1:] == ent[:-1]] if len(order) else np.zeros(0, dtype=bool)
    if sequence is not None:
        seq = sequence.to_numpy(dtype="float64", na_value=np.nan)[order]
        present = ~np.isnan(seq)
        if bool(present.all()):
            wrong = same & np.r_[False, seq[1:] != seq[:-1] + 1]
            what = "follow the entity's previous row by one"
        else:  # a partly sequenced log: the sequences it has must grow along time
            wrong = np.zeros(len(order), dtype=bool)
            rows = np.flatnonzero(present)
            kept_same = np.r_[False, ent[rows][1:] == ent[rows][:-1]]
            wrong[rows] = kept_same & np.r_[False, seq[rows][1:] <= seq[rows][:-1]]
            what = "grow along the entity's rows in time order"
        if bool(wrong.any()):
            at_row = int(np.flatnonzero(wrong)[0])
            row = int(order[at_row])
            previous = seq[:at_row][present[:at_row]][-1]
            raise fail(
                row,
                f"has sequence {int(seq[at_row])} after {int(previous)}: sequences must {what} "
                "(a row is missing, repeated or misplaced)",
                "store every event of the entity once, with the sequence it was given.",
            )
    backwards = same & np.r_[False, at[1:] < at[:-1]]
    if bool(backwards.any()):
        row = int(order[np.flatnonzero(backwards)[0]])
        raise fail(
            row,
            "happens before the row it follows in sequence order",
            "fix the clock or the sequence numbers; events are stored in the order they happen.",
        )


def _cell(events: pd.DataFrame, column: str, position: int) -> str | None:
    """A text cell at ``position`` (``None`` when the column or the value is missing)."""
    if column not in events.columns:
        return None
    value = events[column].iloc[position]
    return None if value is None or bool(pd.isna(value)) else str(value)
