"""
Which rows of an event log move a record between states: the one rule every stage reader shares.

An event log comes in two shapes, and every consumer that reads stages (the
funnel and pipeline KPIs, the case backlog, the SLA engine) reads both as is:

- a plain transition log: one row per transition (``kind, entity_id, trigger,
  source, dest, at``, :class:`~crmlifecycle.schema.EventLogColumns`);
- the library's event-log frame (:func:`~crmlifecycle.stages.events_to_frame`),
  which adds an ``event`` column tagging each row's event type. Its
  ``created`` rows name the state the record was created in (in ``dest``, with
  no ``source``): the record entering that state at its creation. Its
  ``fields_changed`` rows change fields, not the state (no ``source`` or
  ``dest``).

:func:`stage_rows` keeps the rows that say where a record is: those tagged
``transitioned`` or ``created``, and rows without a tag (a plain log, or a
plain log concatenated with a tagged one). Every other tag (``fields_changed``)
is not a stage change, so stage analytics ignore it. A record the log shows
merged into another (a ``fields_changed`` row whose ``changes`` set
``merged_into``) is a duplicate, not a record of its own: none of its rows count.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from crmlifecycle._config import load_json
from crmlifecycle._ids import check_ids
from crmlifecycle.errors import SpecError

__all__ = ["EVENT_TAG", "STAGE_EVENTS", "stage_rows"]

#: The column of the event-log frame naming each row's event type.
EVENT_TAG: Final = "event"
#: The event types that place a record in a state: a transition, and its creation.
STAGE_EVENTS: Final = ("transitioned", "created")
_PAIR: Final = 2  # a change is an [old, new] pair


def stage_rows(
    events: pd.DataFrame, *, entity_id: str = "entity_id", kind: str = "kind"
) -> pd.DataFrame:
    """
    Return the rows of an event log that place a record in a state (the input when all do).

    Rows of records merged into another (see the module docs) are left out too;
    ``entity_id`` and ``kind`` name the columns that identify a record.

    Raises:
        DataError: a row's ``entity_id`` is missing or empty text (the one id rule).

    Examples:
        >>> import pandas as pd
        >>> log = pd.DataFrame({"event": ["created", "fields_changed", "transitioned", None],
        ...                     "dest": ["open", None, "contacted", "qualified"]})
        >>> stage_rows(log)["dest"].tolist()
        ['open', 'contacted', 'qualified']
        >>> plain = log.drop(columns="event")
        >>> stage_rows(plain) is plain
        True
        >>> merged = pd.DataFrame({"event": ["created", "created", "fields_changed"],
        ...     "kind": "lead", "entity_id": ["L-1", "L-2", "L-2"], "dest": ["open", "open", None],
        ...     "changes": [None, None, {"merged_into": [None, "L-1"]}]})
        >>> stage_rows(merged)["entity_id"].tolist()
        ['L-1']
    """
    if entity_id in events.columns:  # a row naming no record places no record anywhere
        check_ids(events, entity_id, frame_name="events", what="entity ids")
    if EVENT_TAG not in events.columns:
        return events
    tags = events[EVENT_TAG]
    keep = (tags.isna() | tags.isin(STAGE_EVENTS)).to_numpy(dtype=bool)
    gone = _merged_records(events, keep, entity_id=entity_id, kind=kind)
    if gone is not None:
        keep = keep & ~gone
    if bool(keep.all()):
        return events
    return events.loc[keep]


def _merged_records(events: pd.DataFrame, stage: Any, *, entity_id: str, kind: str) -> Any:
    """The rows of records merged into another (``None``: no such record, or no changes column)."""
    if "changes" not in events.columns or entity_id not in events.columns or bool(stage.all()):
        return None
    edits = events.loc[~stage]
    merged = [_sets_merged_into(cell) for cell in edits["changes"]]
    if not any(merged):
        return None
    keys = [entity_id] if kind not in events.columns else [kind, entity_id]
    gone = pd.MultiIndex.from_frame(edits.loc[merged, keys].astype(object))
    return pd.MultiIndex.from_frame(events[keys].astype(object)).isin(gone)


def _sets_merged_into(cell: object) -> bool:
    """Whether a ``changes`` cell (a mapping or its JSON text) sets ``merged_into``."""
    if isinstance(cell, str):
        try:
            cell = load_json(cell, what="a changes cell")
        except SpecError:
            return False
    if not isinstance(cell, dict):
        return False
    change = cell.get("merged_into")
    return isinstance(change, list | tuple) and len(change) == _PAIR and change[1] is not None
