"""
The column-spec record of the closed-records frame a predictive scorer learns from.

Leads, interactions and orders come from the data contract
(:mod:`crmlifecycle.schema`); the training history of :class:`NaiveBayesScorer`
is any table of records with a state and a close date (opportunities, or leads
with their close date), so the contract has no record for it:
:class:`OutcomeColumns` names those two columns, in the same pattern. Its defaults
are the opportunities' columns (``state``, ``closed_at``).
"""

from __future__ import annotations

from typing import final

import attrs

from crmlifecycle._validators import non_empty_str
from crmlifecycle.schema import ColumnSpec

__all__ = ["OutcomeColumns"]


@final
@attrs.frozen(kw_only=True)
class OutcomeColumns(ColumnSpec):
    """
    The columns of a history of closed records: how each one ended, and when.

    Attributes:
        state: the column holding how each record ended (the won and the lost state,
            or anything else for a record still open).
        closed_at: the column holding when the record closed (missing while open).

    Examples:
        >>> OutcomeColumns().state, OutcomeColumns(state="outcome").state
        ('state', 'outcome')
        >>> OutcomeColumns.kinds()
        {'state': 'str', 'closed_at': 'time'}
    """

    state: str = attrs.field(default="state", validator=non_empty_str(), metadata={"kind": "str"})
    closed_at: str = attrs.field(
        default="closed_at", validator=non_empty_str(), metadata={"kind": "time"}
    )
