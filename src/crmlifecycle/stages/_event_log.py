"""
Event lists to an event-log frame and back (:func:`events_to_frame`, :func:`events_from_frame`).

The frame is the data contract's event log (:class:`~crmlifecycle.schema.EventLogColumns`:
``kind, entity_id, trigger, source, dest, at``) with more columns that keep
every event whole: ``event`` (the event's type tag: ``transitioned``, ``created``,
``fields_changed``), ``context``, ``data`` (a ``Created`` event's record) and
``changes`` (a ``FieldsChanged`` event's ``{field: [old, new]}``), each a mapping
or missing, and the envelope (``event_id``, ``sequence``, ``actor``,
``lifecycle``, ``lifecycle_version``, ``schema_version``; a frame without them
reads as schema version 1). A ``Created`` row names the record's state in ``dest`` (with no
``source``), so :meth:`~crmlifecycle.stages.Lifecycle.replay_frame` reads it as
the entity entering its initial state; a ``FieldsChanged`` row has no
``trigger``, ``source`` or ``dest``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import pandas as pd

from crmlifecycle._config import load_json
from crmlifecycle._frames import as_utc, is_missing, require_columns
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import DataError, SpecError, ValidationError
from crmlifecycle.events import Created, Event, FieldsChanged, Transitioned, event_from_dict
from crmlifecycle.schema import EventLogColumns

__all__ = ["EVENT_FRAME_EXTRAS", "events_from_frame", "events_to_frame"]

#: The envelope columns (see :class:`~crmlifecycle.events.Transitioned`): absent in old logs.
ENVELOPE: Final = (
    "event_id",
    "sequence",
    "actor",
    "lifecycle",
    "lifecycle_version",
    "schema_version",
)
_MAPPINGS: Final = ("context", "data", "changes")
#: The columns an event-log frame carries besides the contract's event-log columns.
EVENT_FRAME_EXTRAS: Final = ("event", *_MAPPINGS, *ENVELOPE)


def events_to_frame(
    events: Iterable[Event],
    *,
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Return events as an event-log frame, one row per event, in the order given.

    ``at`` becomes a UTC timestamp column; the mappings (``context``, ``data``,
    ``changes``) are kept as they are, so :func:`events_from_frame` gives back
    equal events.

    Args:
        events: the events (of one or several entities).
        events_columns: the names of the contract columns (defaults: the contract's).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.events import Created
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> step = LEAD_STATUS.fire(lead, "contact", at=datetime(2026, 1, 2, tzinfo=timezone.utc))
        >>> frame = events_to_frame([Created.of(lead), step.event])
        >>> frame[["event", "trigger", "source", "dest"]].to_dict("list")
        {'event': ['created', 'transitioned'], 'trigger': [None, 'contact'], \
'source': [None, 'open'], 'dest': ['open', 'contacted']}
        >>> events_from_frame(frame) == [Created.of(lead), step.event]
        True
        >>> LEAD_STATUS.replay_frame(frame)["state"].tolist()
        ['contacted']
    """
    check_arg("events_columns", events_columns, EventLogColumns, "an EventLogColumns")
    c = events_columns
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise ValidationError.for_field("events", events, "an iterable of events")
    rows: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        check_arg(
            f"events[{index}]",
            event,
            (Transitioned, Created, FieldsChanged),
            "an event (Transitioned, Created or FieldsChanged)",
        )
        row: dict[str, Any] = {
            "event": event.event_type,
            c.kind: event.kind,
            c.entity_id: event.entity_id,
            c.trigger: None,
            c.source: None,
            c.dest: None,
            c.at: event.at,
            "context": None,
            "data": None,
            "changes": None,
        }
        for name in ENVELOPE:
            row[name] = getattr(event, name)
        if isinstance(event, Transitioned):
            row.update({c.trigger: event.trigger, c.source: event.source, c.dest: event.dest})
            row["context"] = dict(event.context)
        elif isinstance(event, Created):
            row[c.dest] = event.data.get("state")
            row["context"] = dict(event.context)
            row["data"] = dict(event.data)
        else:
            row["changes"] = dict(event.changes)
            row["context"] = dict(event.context)
        rows.append(row)
    names = ["event", c.kind, c.entity_id, c.trigger, c.source, c.dest, c.at, *_MAPPINGS]
    frame = pd.DataFrame(rows, columns=[*names, *ENVELOPE], dtype=object)
    frame[c.at] = pd.to_datetime(frame[c.at], utc=True).astype("datetime64[ns, UTC]")
    frame["sequence"] = frame["sequence"].astype("Int64")
    frame["schema_version"] = frame["schema_version"].astype("int64")
    return frame


def events_from_frame(
    frame: pd.DataFrame,
    *,
    events_columns: EventLogColumns = EventLogColumns(),
) -> list[Event]:
    """
    Rebuild the events of an event-log frame (the inverse of :func:`events_to_frame`).

    Without an ``event`` column every row is a ``Transitioned`` event (a frame
    of transitions, such as :attr:`FrameStep.events <crmlifecycle.stages.FrameStep.events>`).
    The mapping columns may hold mappings or their JSON text
    (:func:`~crmlifecycle.events.event_to_json`'s encoding); missing columns and
    missing values are empty mappings.

    Args:
        frame: the event-log frame.
        events_columns: the names of the contract columns (defaults: the contract's).

    Raises:
        MissingColumnError: a contract column the rows need is absent.
        DataError: a row cannot be read as an event (the message names the row).

    Examples:
        >>> import pandas as pd
        >>> log = pd.DataFrame({"kind": ["lead"], "entity_id": ["L-1"], "trigger": ["contact"],
        ...     "source": ["open"], "dest": ["contacted"],
        ...     "at": pd.to_datetime(["2026-01-02"], utc=True)})
        >>> [(e.trigger, e.dest) for e in events_from_frame(log)]
        [('contact', 'contacted')]
    """
    check_arg("events_columns", events_columns, EventLogColumns, "an EventLogColumns")
    c = events_columns
    require_columns(frame, [c.kind, c.entity_id, c.at], frame_name="events")
    tags = frame["event"] if "event" in frame.columns else pd.Series("transitioned", frame.index)
    if bool((tags == "transitioned").any()):
        require_columns(frame, [c.trigger, c.source, c.dest], frame_name="events")
    stamps = as_utc(frame[c.at], c.at)
    out: list[Event] = []
    for position, label in enumerate(frame.index):
        row = frame.iloc[position]
        tag = tags.iloc[position]
        data: dict[str, Any] = {
            "event": tag,
            "kind": row[c.kind],
            "entity_id": row[c.entity_id],
            "at": stamps.iloc[position].to_pydatetime().isoformat(),
        }
        if tag == "transitioned":
            data.update(trigger=row[c.trigger], source=row[c.source], dest=row[c.dest])
        for name in ENVELOPE:
            if name in frame.columns and not is_missing(row[name]):
                value = row[name]
                data[name] = int(value) if name in _INTEGERS else value
        for name in _MAPPINGS:
            if name in frame.columns and _wanted(tag, name):
                data[name] = _mapping(row[name], name, label)
        try:
            out.append(event_from_dict(data))
        except ValidationError as err:
            raise DataError(
                f"row {label!r} of the events frame is not an event: {err}. "
                "Hint: write the frame with events_to_frame."
            ) from err
    return out


_INTEGERS: Final = frozenset({"sequence", "schema_version"})


def _wanted(tag: object, name: str) -> bool:
    """Whether events of type ``tag`` have the mapping field ``name``."""
    fields = {"transitioned": ("context",), "created": ("context", "data")}
    return name in fields.get(str(tag), ("changes", "context"))


def _mapping(value: object, name: str, label: object) -> Any:
    """A mapping cell as a mapping: missing -> {}, JSON text parsed."""
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124 - NaN
        return {}
    if isinstance(value, str):
        try:
            return load_json(value, what=f"column {name!r}")
        except SpecError as err:
            raise DataError(
                f"column {name!r} of row {label!r} holds text that is not JSON ({value[:40]!r}). "
                "Hint: store mappings, or their JSON text."
            ) from err
    return dict(value) if isinstance(value, Mapping) else value
