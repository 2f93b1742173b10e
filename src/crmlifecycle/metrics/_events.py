"""
Reading lifecycle event logs: the rows of one kind, stage spells, stage facts.

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
import numpy.typing as npt
import pandas as pd

from crmlifecycle._finite import check_probability
from crmlifecycle._frames import as_utc
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._log_codes import NAT, CodedLog, IntArray, code_log, utc_ns
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["stage_spells"]

SPELL_COLUMNS: Final = ["entity_id", "state", "entered_at", "left_at", "next_state", "days"]


def log_kind(lifecycle: Lifecycle, kind: str | None) -> str:
    """
    The kind of rows to read: ``kind`` when given, else the lifecycle's kind.

    Raises:
        ValidationError: ``kind`` is not text (a name), naming ``kind``.
    """
    if kind is None:
        return lifecycle.kind
    return check_name("kind", kind, hint="pass kind= the kind of the rows, e.g. 'opportunity'.")


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
    """The default win probability (percent, 0 to 100: checked) of every state that declares one."""
    return {
        s.name: check_probability(s.probability, f"{s.name}.probability", scale="percent")
        for s in lifecycle.stages
        if s.probability is not None
    }


def forecast_categories(lifecycle: Lifecycle) -> dict[str, str]:
    """The forecast category of every state that declares one."""
    return {s.name: s.forecast for s in lifecycle.stages if s.forecast is not None}


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


def check_after_creation(
    entity_ids: pd.Series | npt.NDArray[np.object_],
    created: pd.Series,
    later: pd.Series,
    *,
    column: str,
    what: str,
) -> None:
    """
    Refuse a timeline in which an entity's ``what`` comes before its creation.

    The one timeline rule of the stage and cycle KPIs: nothing happens to an entity
    before it exists, so a creation time after its first event (or after its win) is
    an export error, never a negative duration. ``created`` and ``later`` are aligned
    UTC series; a missing value on either side is not checked.

    Raises:
        DataError: naming the first such entities, the column and both times.
    """
    early = (later < created).to_numpy(dtype=bool)
    if not early.any():
        return
    ids = np.asarray(entity_ids, dtype=object)[early]
    first = int(np.flatnonzero(early)[0])
    raise DataError(
        f"column {column!r}: entity {ids[0]!r} was created at {created.iloc[first]} but its "
        f"{what} is at {later.iloc[first]}, before it existed"
        f"{f' ({len(ids)} entities in all, e.g. {list(ids[:5])})' if len(ids) > 1 else ''}. "
        f"Hint: correct {column!r} (it must not be after the entity's first event), or drop "
        "those entities; a duration from creation would be negative.",
        column=column,
        rows=list(ids[:20]),
        value=ids[0],
    )


def creation_ns(log: CodedLog, created: pd.Series) -> IntArray:
    """
    Read ``created=`` for the entities of ``log``: UTC nanoseconds per entity code (NaT unknown).

    Raises:
        DataError: see :func:`creation_times`; an entity created after its first event.
    """
    stamps = creation_times(created)
    born = pd.Series(stamps.reindex(log.ids).array, dtype="datetime64[ns, UTC]")
    born_ns = np.asarray(born.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")).view(np.int64)
    head = log.first_rows() & (log.source >= 0)
    entity, first_at = log.entity[head], log.at_ns[head]
    early = born_ns[entity] != NAT
    early[early] = born_ns[entity][early] > first_at[early]
    if bool(early.any()):
        check_after_creation(
            log.ids[entity],
            pd.Series(utc_ns(born_ns[entity])),
            pd.Series(utc_ns(first_at)),
            column="created",
            what="first event",
        )
    return born_ns


def spells_of(
    events: pd.DataFrame,
    columns: EventLogColumns,
    kind: str,
    *,
    created: pd.Series | None,
    as_of: Instant | None,
) -> pd.DataFrame:
    """Do the work of :func:`stage_spells` for a log read with ``columns``."""
    log = code_log(events, columns, kind, as_of=as_of)
    born = None if created is None else creation_ns(log, created)
    return log.spells(born)[SPELL_COLUMNS]


def stage_order(stages: Sequence[str]) -> dict[str, int]:
    """Map each funnel stage to its position, rejecting an empty funnel."""
    if not stages:
        raise DataError(
            "the lifecycle has no stage other than lost ones, so it has no funnel. "
            "Hint: pass lifecycle= a lifecycle whose open, ongoing and won states form the funnel."
        )
    return {stage: i for i, stage in enumerate(stages)}
