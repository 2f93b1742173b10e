"""
The column-spec record of the entities frame a rule set reads beside an event log.

The event log's columns come from the data contract
(:class:`crmlifecycle.schema.EventLogColumns`); the entities frame is any table of
entity rows, so the contract has no record for it: :class:`EntityColumns` names its
id column, in the same pattern.
"""

from __future__ import annotations

from typing import final

import attrs

from crmlifecycle._validators import non_empty_str
from crmlifecycle.schema import ColumnSpec

__all__ = ["EntityColumns"]


@final
@attrs.frozen(kw_only=True)
class EntityColumns(ColumnSpec):
    """
    The columns of an entities frame: one row per entity, its state after the event.

    Attributes:
        id: the column holding the entity id (matched to the event log's ``entity_id``).

    Examples:
        >>> EntityColumns().id, EntityColumns(id="lead_id").id
        ('id', 'lead_id')
        >>> EntityColumns.kinds()
        {'id': 'str'}
    """

    id: str = attrs.field(default="id", validator=non_empty_str(), metadata={"kind": "str"})
