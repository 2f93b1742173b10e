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

from crmlifecycle._validators import non_empty_str, optional
from crmlifecycle.schema import ColumnSpec

__all__ = ["EntityColumns"]


@final
@attrs.frozen(kw_only=True)
class EntityColumns(ColumnSpec):
    """
    The columns of an entities frame: one row per entity, its state after the event.

    Attributes:
        id: the column holding the entity id (matched to the event log's ``entity_id``);
            ``None``: ``<kind>_id`` of the events' kind (``lead_id``, ``opportunity_id``
            ...), as in the library's own frames.

    Examples:
        >>> EntityColumns().id_for("lead"), EntityColumns(id="id").id_for("lead")
        ('lead_id', 'id')
        >>> EntityColumns.kinds()
        {'id': 'str'}
    """

    id: str | None = attrs.field(
        default=None, validator=optional(non_empty_str()), metadata={"kind": "str"}
    )

    def id_for(self, kind: str) -> str:
        """
        Return the id column for entities of ``kind``.

        Args:
            kind: the entities' kind as the event log names it (``"lead"``), used when ``id``
                is ``None``.
        """
        return self.id if self.id is not None else f"{kind}_id"
