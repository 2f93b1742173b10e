"""
Reading lifecycle event logs: stage spells and the stage of each entity as of a date.

An event log has one row per transition (columns ``kind``, ``entity_id``,
``trigger``, ``source``, ``dest``, ``at``; see ``crmlifecycle.events``). From
it we rebuild *spells*: each stage an entity entered, when, when it left and
where it went. Every funnel and pipeline metric reads these spells, so all of
them can be computed *as of* any date by ignoring the events after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray
from crmlifecycle.metrics._segments import segment_lookup

__all__ = [
    "DEFAULT_FORECAST_CATEGORIES",
    "DEFAULT_PROBABILITIES",
    "OPPORTUNITY_STAGES",
    "stage_spells",
]

#: The standard opportunity pipeline in funnel order (``lost`` is an exit, not a step).
OPPORTUNITY_STAGES: Final[tuple[str, ...]] = (
    "prospecting",
    "qualification",
    "proposal",
    "negotiation",
    "won",
)
#: Default win probability of each stage in percent (EspoCRM defaults, REFERENCES.md).
DEFAULT_PROBABILITIES: Final[Mapping[str, float]] = {
    "prospecting": 10.0,
    "qualification": 20.0,
    "proposal": 50.0,
    "negotiation": 80.0,
    "won": 100.0,
    "lost": 0.0,
}
#: Default forecast category of each stage (Salesforce's categories, REFERENCES.md).
DEFAULT_FORECAST_CATEGORIES: Final[Mapping[str, str]] = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "proposal": "best_case",
    "negotiation": "commit",
    "won": "closed",
    "lost": "omitted",
}

SPELL_COLUMNS: Final = ["entity_id", "stage", "entered_at", "left_at", "next_stage", "days"]
_NS_PER_DAY: Final = 86_400 * 10**9


@final
@attrs.frozen
class LogColumns:
    """Which rows of an event log to read (``kind``) and the names of its columns."""

    kind: str | None = "opportunity"
    kind_col: str = "kind"
    entity_col: str = "entity_id"
    source_col: str = "source"
    dest_col: str = "dest"
    at_col: str = "at"


def _of_kind(events: pd.DataFrame, log: LogColumns) -> pd.DataFrame:
    """Keep the rows of ``log.kind`` when the log has a kind column (else it is one lifecycle)."""
    if log.kind is None or log.kind_col not in events.columns:
        return events
    # nullable string columns give pd.NA for missing kinds: those rows are not of the kind
    same = events[log.kind_col].eq(log.kind).fillna(value=False).to_numpy(dtype=bool)
    if len(events) and not bool(same.any()):
        kinds = sorted(str(k) for k in events[log.kind_col].dropna().unique())
        raise DataError.malformed(
            log.kind_col,
            f"holds no event of kind {log.kind!r} (kinds present: {kinds})",
            hint=f"pass kind= one of {kinds}, or kind=None to read every row as one lifecycle.",
        )
    return events.loc[same]


def read_events(events: pd.DataFrame, log: LogColumns, *, as_of: object | None) -> pd.DataFrame:
    """Validate the log; return the rows of ``log.kind`` by (entity, at), cut at ``as_of``."""
    columns = [log.entity_col, log.source_col, log.dest_col, log.at_col]
    require_columns(events, columns, frame_name="events")
    frame = _of_kind(events, log)
    for column in (log.entity_col, log.dest_col):
        missing = frame[column].isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "has missing values in the event log",
                rows=list(frame.index[missing.to_numpy()][:20]),
                hint="every event needs the entity id and the stage it moved to.",
            )
    at = as_utc(frame[log.at_col], log.at_col)
    table = pd.DataFrame(
        {
            "entity_id": frame[log.entity_col].to_numpy(),
            "source": frame[log.source_col].to_numpy(),
            "dest": frame[log.dest_col].to_numpy(),
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
            log.source_col,
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
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    created: pd.Series | None = None,
    as_of: object | None = None,
) -> pd.DataFrame:
    """
    Rebuild the stage spells of every entity from a lifecycle event log.

    Each event starts a spell in its ``dest`` stage, ended by the entity's
    next event (``left_at``, ``next_stage``) or still open (NaT) at
    ``as_of``. The source stage of an entity's first event is a spell too;
    it starts at the entity's creation time, taken from ``created`` (a
    Series of timestamps indexed by entity id, e.g.
    ``opportunities.set_index("opportunity_id")["created_at"]``) or unknown
    (NaT) without it. A creation event with an empty ``source`` starts the
    first spell itself. Only events at or before ``as_of`` count.
    ``days`` is the completed spell's length in days (NaN while open or when
    its start is unknown).

    A mixed log (several lifecycles in one frame, told apart by its
    ``kind_col`` column) is read for one lifecycle: the rows whose kind is
    ``kind`` (``"opportunity"`` by default; e.g. ``"lead"`` for the lead
    status log). A log without a ``kind_col`` column is read whole, as is
    any log with ``kind=None``.

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
        >>> stage_spells(events, created=created)[["stage", "next_stage", "days"]]
                   stage     next_stage  days
        0    prospecting  qualification   2.0
        1  qualification            won   7.0
        2            won            NaN   NaN
    """
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    return spells_of(events, columns, created=created, as_of=as_of)


def spells_of(
    events: pd.DataFrame,
    columns: LogColumns,
    *,
    created: pd.Series | None,
    as_of: object | None,
) -> pd.DataFrame:
    """Do the work of :func:`stage_spells` for a log read with ``columns``."""
    log = read_events(events, columns, as_of=as_of)
    ids = log["entity_id"].to_numpy()
    n = len(log)
    first = np.ones(n, dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    at = log["at"]
    next_at = at.shift(-1).where(~pd.Series(last))
    next_stage = log["dest"].shift(-1).where(~pd.Series(last))
    dest_spells = pd.DataFrame(
        {
            "entity_id": ids,
            "stage": log["dest"].to_numpy(),
            "entered_at": at.array,
            "left_at": next_at.array,
            "next_stage": next_stage.to_numpy(),
            "_rank": np.arange(n) * 2 + 1,
        }
    )
    initial = first & pd.notna(log["source"].to_numpy())
    heads = log.loc[initial]
    entered = pd.Series(pd.NaT, index=heads.index, dtype="datetime64[ns, UTC]")
    if created is not None and len(heads):
        stamps = as_utc(pd.Series(created), "created", allow_missing=True)
        entered = pd.Series(stamps.reindex(heads["entity_id"].to_numpy()).array, index=heads.index)
    head_spells = pd.DataFrame(
        {
            "entity_id": heads["entity_id"].to_numpy(),
            "stage": heads["source"].to_numpy(),
            "entered_at": entered.array,
            "left_at": heads["at"].array,
            "next_stage": heads["dest"].to_numpy(),
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
    """Map each funnel stage to its position, rejecting duplicates."""
    order = {stage: i for i, stage in enumerate(stages)}
    if len(order) != len(stages) or not stages:
        raise DataError(
            f"stages={list(stages)!r} must list each stage once, in funnel order. "
            "Hint: e.g. stages=('prospecting', 'qualification', 'proposal', 'negotiation', 'won')."
        )
    return order


def reached_order(spells: pd.DataFrame, order: Mapping[str, int]) -> pd.DataFrame:
    """Return per entity the furthest funnel position reached and when each was first entered."""
    position = spells["stage"].map(order)
    known = spells.loc[position.notna()].assign(position=position.dropna().astype("int64"))
    furthest = known.groupby("entity_id", sort=True)["position"].max()
    return pd.DataFrame({"furthest": furthest})


def entity_segments(
    ids: pd.Series,
    events: pd.DataFrame,
    log: LogColumns,
    *,
    by: Sequence[str],
    entities: pd.DataFrame | None,
    entities_id_col: str | None,
) -> tuple[IntArray, pd.DataFrame]:
    """
    Return the ``by`` segment code of each entity id in ``ids`` and the segments.

    The segments come from ``entities`` (one row per entity, its id column
    named by ``entities_id_col``, by default ``<kind>_id`` such as
    ``opportunity_id``), or from the event log itself when it already holds
    the ``by`` columns (then constant per entity).
    """
    entity = log.kind or "entity"
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
            ids, _of_kind(events, log), log.entity_col, by, frame_name="events", entity=entity
        )
    id_col = entities_id_col
    if id_col is None:
        if log.kind is None:
            raise DataError(
                "entities= was given with kind=None, so its id column cannot be guessed "
                "from the kind. Hint: pass entities_id_col= the name of the id column."
            )
        id_col = f"{log.kind}_id"
    require_columns(entities, [id_col, *by], frame_name="entities")
    return segment_lookup(ids, entities, id_col, by, frame_name="entities", entity=entity)


def segmented_spells(
    events: pd.DataFrame,
    columns: LogColumns,
    *,
    created: pd.Series | None,
    as_of: object | None,
    keys: list[str],
    entities: pd.DataFrame | None,
    entities_id_col: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Return the spells with a ``_segment`` code and the segments (one row per code).

    Without ``keys`` every spell is in segment 0 and the segments frame has one
    row and no columns.
    """
    spells = spells_of(events, columns, created=created, as_of=as_of)
    if not keys:
        return spells.assign(_segment=0), pd.DataFrame(index=pd.RangeIndex(1))
    codes, segments = entity_segments(
        spells["entity_id"],
        events,
        columns,
        by=keys,
        entities=entities,
        entities_id_col=entities_id_col,
    )
    return spells.assign(_segment=codes), segments
