"""
The frame form of a rule set: events (and entities) in, actions out, vectorised.

It follows exactly the ordering and conflict rule of
:class:`~crmlifecycle.rules.RuleSet.evaluate`, with boolean masks per rule in
place of a loop over events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.rules._condition import evaluation_time
from crmlifecycle.schema import EntityColumns, EventLogColumns

if TYPE_CHECKING:
    from crmlifecycle.rules._ruleset import RuleSet

__all__ = ["ACTION_COLUMNS", "evaluate_frame"]

#: The columns of the returned actions frame, in order.
ACTION_COLUMNS: Final = (
    "event",
    "entity_id",
    "rule",
    "action",
    "trigger",
    "field",
    "value",
    "title",
    "due_at",
    "assignee",
    "to",
    "message",
)


def _events(events: pd.DataFrame, columns: EventLogColumns) -> pd.DataFrame:
    """The events with the contract's column names, each prefixed ``event.``."""
    names = {given: field for field, given in columns.names().items() if given != field}
    clash = sorted(set(names.values()) & (set(events.columns) - set(names)))
    if clash:
        raise DataError(
            f"events has both the columns {clash} and columns renamed to them by "
            "events_columns. Hint: drop or rename one of each pair."
        )
    renamed = events.rename(columns=names)
    renamed = renamed.rename(columns={c: f"event.{c}" for c in renamed.columns})
    return renamed.reset_index(drop=True)


def _merged(
    events: pd.DataFrame,
    entities: pd.DataFrame | None,
    *,
    events_columns: EventLogColumns,
    entity_key: str,
) -> pd.DataFrame:
    renamed = _events(events, events_columns)
    if entities is None:
        return renamed
    require_columns(entities, [entity_key], frame_name="entities")
    keys = entities[entity_key]
    if not keys.is_unique:
        duplicated = keys[keys.duplicated()]
        raise DataError.malformed(
            entity_key,
            "has duplicate entity ids",
            rows=list(duplicated.index),
            value=duplicated.iloc[0],
            hint="pass one row per entity (its state after the event).",
        )
    clash = [c for c in entities.columns if str(c).startswith("event.")]
    if clash:
        raise DataError(f"entity columns {clash} clash with the event.* names. Hint: rename them.")
    right = entities.reset_index(drop=True)
    merged = renamed.merge(
        right, how="left", left_on="event.entity_id", right_on=entity_key, sort=False
    )
    merged.index = renamed.index
    return merged


def _entity_key(
    events: pd.DataFrame,
    entities: pd.DataFrame | None,
    cols: EventLogColumns,
    entities_columns: EntityColumns,
) -> str:
    """The id column of ``entities``: the record's, else ``<kind>_id`` of the events' one kind."""
    if entities_columns.id is not None or entities is None:
        return entities_columns.id or ""
    kinds = sorted(str(k) for k in events[cols.kind].dropna().unique())
    if len(kinds) != 1:
        raise DataError(
            f"the events hold {len(kinds)} kinds ({kinds}), so the entities' id column "
            "cannot follow from the kind. Hint: pass "
            "entities_columns=EntityColumns(id='<the id column>')."
        )
    return entities_columns.id_for(kinds[0])


def _checked_and_merged(
    rule_set: RuleSet,
    events: pd.DataFrame,
    entities: pd.DataFrame | None,
    cols: EventLogColumns,
    entities_columns: EntityColumns,
) -> pd.DataFrame:
    """Check the columns the rules read; return the events joined with their entities."""
    require_columns(events, [cols.kind, cols.entity_id, cols.at], frame_name="events")
    needed = {
        getattr(cols, key)
        for rule in rule_set.rules
        for key in ("trigger", "source", "dest")
        if getattr(rule.when, key) is not None
    }
    require_columns(events, sorted(needed), frame_name="events")
    key = _entity_key(events, entities, cols, entities_columns)
    return _merged(events, entities, events_columns=cols, entity_key=key)


def evaluate_frame(  # noqa: C901, PLR0912 - one pass over the rules, mirroring evaluate()
    rule_set: RuleSet,
    events: pd.DataFrame,
    entities: pd.DataFrame | None = None,
    *,
    events_columns: EventLogColumns = EventLogColumns(),
    entities_columns: EntityColumns = EntityColumns(),
    as_of: Instant | None = None,
) -> pd.DataFrame:
    """
    Evaluate ``rule_set`` over a frame of events; return one row per action.

    Args:
        rule_set: the rules.
        events: the event log: ``kind``, ``entity_id``, ``at`` and the pattern
            columns the rules use (``trigger``, ``source``, ``dest``); conditions
            read every column as ``event.<contract name>``.
        entities: optional entity rows, one per id; an event whose entity is absent
            sees missing entity fields.
        events_columns: which columns of ``events`` hold the event log's fields.
        entities_columns: which column of ``entities`` holds the entity id (by
            default ``<kind>_id`` of the events' kind, e.g. ``lead_id``).
        as_of: one moment for all events (default: each event's ``at``).

    Returns:
        A frame with the columns of :data:`ACTION_COLUMNS`; ``event`` is the label
        of the event's row in ``events``. Rows come in event order, then rule order.
    """
    cols = events_columns
    merged = _checked_and_merged(rule_set, events, entities, cols, entities_columns)
    n = len(merged)
    event_at = as_utc(merged["event.at"], cols.at)
    when: pd.Series | datetime = event_at
    base = event_at
    if as_of is not None:
        when = evaluation_time(as_of)
        base = pd.Series(pd.Timestamp(when), index=merged.index)
    stopped = np.zeros(n, dtype=bool)
    fired = np.zeros(n, dtype=bool)
    assigned: dict[str, np.ndarray] = {}
    parts: list[pd.DataFrame] = []
    for rank, rule in enumerate(rule_set.rules):
        matched = ~stopped
        for key in ("kind", "trigger", "source", "dest"):
            wanted = getattr(rule.when, key)
            if wanted is not None:
                matched &= merged[f"event.{key}"].isin(sorted(wanted)).to_numpy()
        if rule.condition is not None and matched.any():
            matched &= rule.condition.evaluate_frame(merged, as_of=when).to_numpy()
        if rule.stop:
            stopped |= matched
        for order, spec in enumerate(rule.actions):
            rows = matched
            if spec.kind == "fire":
                rows = matched & ~fired
                fired |= rows
            elif spec.kind == "set":
                done = assigned.setdefault(spec.field, np.zeros(n, dtype=bool))
                rows = matched & ~done
                done |= rows
            if not rows.any():
                continue
            positions = np.flatnonzero(rows)
            part = pd.DataFrame(
                {
                    "_position": positions,
                    "_rank": rank,
                    "_order": order,
                    "entity_id": merged["event.entity_id"].to_numpy()[positions],
                    "rule": rule.name,
                    "action": spec.kind,
                }
            )
            if spec.kind == "fire":
                part["trigger"] = spec.trigger
            elif spec.kind == "set":
                part["field"] = spec.field
                part["value"] = pd.Series([spec.value] * len(positions), dtype=object)
            elif spec.kind == "task":
                part["title"] = spec.title
                part["due_at"] = (base.iloc[positions] + spec.due).reset_index(drop=True)
                part["assignee"] = spec.assignee
            else:
                part["to"] = spec.to
                part["message"] = spec.message
            parts.append(part)
    return _assemble(parts, events)


def _assemble(parts: list[pd.DataFrame], events: pd.DataFrame) -> pd.DataFrame:
    columns = {
        "event": pd.Series([], dtype=object),
        "entity_id": pd.Series([], dtype=object),
        "rule": pd.Series([], dtype=object),
        "action": pd.Series([], dtype=object),
        "trigger": pd.Series([], dtype=object),
        "field": pd.Series([], dtype=object),
        "value": pd.Series([], dtype=object),
        "title": pd.Series([], dtype=object),
        "due_at": pd.Series([], dtype="datetime64[ns, UTC]"),
        "assignee": pd.Series([], dtype=object),
        "to": pd.Series([], dtype=object),
        "message": pd.Series([], dtype=object),
    }
    if not parts:
        return pd.DataFrame(columns)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["_position", "_rank", "_order"], kind="stable")
    frame["event"] = events.index.to_numpy()[frame["_position"].to_numpy()]
    result = pd.DataFrame(
        {
            name: frame[name].astype(empty.dtype) if name in frame else empty.reindex(frame.index)
            for name, empty in columns.items()
        }
    )
    return result.reset_index(drop=True)
