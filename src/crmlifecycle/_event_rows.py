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
is not a stage change, so stage analytics ignore it.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

__all__ = ["EVENT_TAG", "STAGE_EVENTS", "stage_rows"]

#: The column of the event-log frame naming each row's event type.
EVENT_TAG: Final = "event"
#: The event types that place a record in a state: a transition, and its creation.
STAGE_EVENTS: Final = ("transitioned", "created")


def stage_rows(events: pd.DataFrame) -> pd.DataFrame:
    """
    Return the rows of an event log that place a record in a state (the input when all do).

    Examples:
        >>> import pandas as pd
        >>> log = pd.DataFrame({"event": ["created", "fields_changed", "transitioned", None],
        ...                     "dest": ["open", None, "contacted", "qualified"]})
        >>> stage_rows(log)["dest"].tolist()
        ['open', 'contacted', 'qualified']
        >>> plain = log.drop(columns="event")
        >>> stage_rows(plain) is plain
        True
    """
    if EVENT_TAG not in events.columns:
        return events
    tags = events[EVENT_TAG]
    keep = (tags.isna() | tags.isin(STAGE_EVENTS)).to_numpy(dtype=bool)
    if bool(keep.all()):
        return events
    return events.loc[keep]
