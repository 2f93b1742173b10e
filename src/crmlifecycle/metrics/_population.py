"""
The population of the funnel KPIs: which entities count, their segments and their spells.

The entities frame (``entities=``) names every entity that exists, so one still
in its initial stage with no event row is counted there; a row whose
``merged_into`` is set is a duplicate folded into another record and does not
count. This module holds the frame readers of the population (segments per entity, merged
rows left out); :mod:`crmlifecycle.metrics._population_codes` builds the population the
KPIs read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd

from crmlifecycle._frames import require_columns
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray
from crmlifecycle.metrics._log_codes import events_of_kind
from crmlifecycle.metrics._segments import segment_lookup
from crmlifecycle.schema import EntityColumns, EventLogColumns

__all__ = [
    "MERGED_INTO",
    "entity_segments",
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
