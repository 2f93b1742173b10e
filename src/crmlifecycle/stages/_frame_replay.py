"""
Replay over an event-log frame (:func:`replay_frame`): each entity's state as of a moment.

The log is coded once (entities factorized, states coded by the lifecycle's
bulk-step tables), sorted by entity and time, and each entity's last step read
off; with checks, every step must be one the lifecycle defines and chain on the
previous one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.schema import EventLogColumns
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
    skipped. With ``check`` (the default)
    every logged step must be one the lifecycle defines and each entity's steps
    must chain (a step's source is the previous step's dest), else a
    :class:`~crmlifecycle.errors.DataError` names the rows. Entities without an
    event at or before ``as_of`` are absent from the result; ``as_of=None`` reads
    the whole log.

    Args:
        lifecycle: the lifecycle the events belong to.
        events: an event log of ``lifecycle`` (the library's own event-log frame reads as is).
        as_of: the moment looked from (``None``: every event).
        check: whether to check that every step is allowed by the lifecycle.
        events_columns: which columns of ``events`` hold the event-log fields.

    Returns:
        A DataFrame indexed by the entity id (sorted; the index is named like the
        id column) with ``state`` (categorical), ``state_since`` (when the entity
        entered that state: the last step that changed the state, or its
        creation) and ``events`` (how many rows carrying a state: steps and
        creations).

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
    return lifecycle.replay_frame(events, as_of=as_of, check=check, events_columns=events_columns)


def replay_log(
    compiled: CompiledLifecycle,
    events: pd.DataFrame,
    *,
    as_of: Instant | None,
    check: bool,
    cols: EventLogColumns,
) -> pd.DataFrame:
    """The replay of :func:`replay_frame`, on a compiled lifecycle."""
    columns = [cols.entity_id, cols.trigger, cols.source, cols.dest, cols.at]
    require_columns(events, columns, frame_name="events")
    names = tuple(compiled.by_name)
    if cols.kind in events.columns:
        other = (events[cols.kind] != compiled.kind).to_numpy()
        if bool(other.any()):
            bad = np.flatnonzero(other)
            raise DataError.malformed(
                cols.kind,
                f"holds events of other lifecycles than {compiled.kind!r}",
                rows=list(events.index[bad[:20]]),
                value=events[cols.kind].iloc[bad[0]],
                hint=f"filter first: events[events[{cols.kind!r}] == {compiled.kind!r}].",
            )
    at = as_utc(events[cols.at], cols.at)
    # rows that carry no state (a FieldsChanged row, a Created row without its record)
    keep = ~(events[cols.source].isna() & events[cols.dest].isna()).to_numpy(dtype=bool)
    if as_of is not None:
        keep &= (at <= utc_timestamp(as_of, name="as_of")).to_numpy()
    log = events.loc[keep, columns[:4]]
    at = at[keep]
    tables = frame_tables(compiled)
    dest = state_codes(log[cols.dest], tables.state_index, cols.dest)
    creation = log[cols.source].isna().to_numpy()
    src = codes_of(log[cols.source], tables.state_index)
    if bool((src[~creation] < 0).any()):
        state_codes(log[cols.source][~creation], tables.state_index, cols.source)
    naive = at.dt.tz_localize(None).to_numpy()
    entity_codes, _ = pd.factorize(log[cols.entity_id], sort=True)
    order = np.lexsort((np.arange(len(log)), naive, entity_codes))
    ids = log[cols.entity_id].to_numpy()[order]
    src, dest, creation = src[order], dest[order], creation[order]
    stamps = naive[order]
    if check and len(order):
        triggers = compiled.triggers
        tcodes = pd.Index(list(triggers)).get_indexer(pd.Index(log[cols.trigger].to_numpy()[order]))
        valid = {
            (names.index(state), triggers.index(trig), names.index(c.dest))
            for (state, trig), candidates in compiled.table.items()
            for c in candidates
        }
        size = max(len(names), len(triggers)) + 1
        keys = (src * size + tcodes) * size + dest
        valid_keys = np.array([(s * size + t) * size + d for s, t, d in valid], dtype=np.int64)
        undefined = ~np.isin(keys, valid_keys) & ~creation
        same = np.r_[False, ids[1:] == ids[:-1]]
        broken = same & ~creation & np.r_[False, src[1:] != dest[:-1]]
        for mask, problem in (
            (undefined, "a step the lifecycle does not define"),
            (broken, "a step whose source is not the previous step's dest"),
        ):
            if bool(mask.any()):
                rows = list(log.index[order[np.flatnonzero(mask)][:20]])
                raise DataError.malformed(
                    "events",
                    f"holds {problem}",
                    rows=rows,
                    value=tuple(events.loc[rows[0], columns[:4]]),
                    hint="the log was written by another definition, or is missing rows; "
                    "pass check=False to read it anyway.",
                )
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    counts = np.diff(np.r_[-1, np.flatnonzero(last)])
    # state_since: the last row that entered a state (an internal step keeps it)
    entered = creation | (src != dest)
    since = pd.Series(np.where(entered, stamps, np.datetime64("NaT")), dtype="datetime64[ns]")
    if len(ids):
        since = since.groupby(np.cumsum(np.r_[True, last[:-1]])).ffill()
    since = since.fillna(pd.Series(stamps, dtype="datetime64[ns]"))
    return pd.DataFrame(
        {
            "state": categorical(dest[last], tables.state_dtype),
            "state_since": pd.DatetimeIndex(since.to_numpy()[last]).tz_localize("UTC"),
            "events": counts.astype(np.int64),
        },
        index=pd.Index(ids[last], name=cols.entity_id),
    )
