"""
The data contract: every frame's columns and their kinds, and the column-spec records.

This module is the one source of truth for the frames the library reads and writes
(the synthetic world, the metrics, the bulk lifecycle steps, the command line). Each
frame of the contract has a frozen *column-spec* record whose field names are the
contract's column names and whose defaults are those same names. A function that
reads a frame parameter ``X`` takes its columns as one keyword ``X_columns`` holding
such a record; to read an export whose columns are named differently, rename only
the columns that differ:

Examples:
    >>> from crmlifecycle.schema import EventLogColumns, SCHEMA
    >>> EventLogColumns().entity_id
    'entity_id'
    >>> cols = EventLogColumns(entity_id="deal_id", at="changed_at")
    >>> cols.entity_id, cols.dest
    ('deal_id', 'dest')
    >>> SCHEMA["orders"]
    {'order_id': 'str', 'customer_id': 'str', 'at': 'time', 'amount': 'float'}
    >>> EventLogColumns(at="")
    Traceback (most recent call last):
    ...
    crmlifecycle.errors.ValidationError: 'at' must be a non-empty string (got '')....

Column kinds are ``str``, ``bool``, ``int``, ``float`` and ``time``
(``datetime64[ns, UTC]``). Missing values are NaN (``str``, ``float``) and NaT (``time``).
The state of a record is always the column ``state`` (and ``state_since``), whatever
the lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias, final

import attrs
import pandas as pd

from crmlifecycle._frames import check_labels
from crmlifecycle._validators import non_empty_str, optional
from crmlifecycle.errors import DataError

__all__ = [
    "FRAME_COLUMNS",
    "FRAME_NAMES",
    "SCHEMA",
    "STATE",
    "STATE_SINCE",
    "CampaignColumns",
    "CaseColumns",
    "ColumnKind",
    "ColumnSpec",
    "CustomerColumns",
    "EntityColumns",
    "EventLogColumns",
    "FeedbackColumns",
    "InteractionColumns",
    "LeadColumns",
    "OpportunityColumns",
    "OrderColumns",
    "RevenueColumns",
    "SpendColumns",
]

#: The kind of a column of the contract.
ColumnKind: TypeAlias = Literal["str", "bool", "int", "float", "time"]

#: The column that holds a record's state, in every frame of a stateful entity.
STATE: Final = "state"
#: The column that holds when a record entered its state.
STATE_SINCE: Final = "state_since"


def _column(name: str, kind: ColumnKind) -> Any:
    """A column of the contract: its default name and its kind (kept in the field metadata)."""
    return attrs.field(default=name, validator=non_empty_str(), metadata={"kind": kind})


class ColumnSpec:
    """
    The base of every column-spec record: which column of a frame holds which field.

    Subclasses are frozen attrs records; :meth:`kinds` and :meth:`names` describe them.
    """

    __slots__ = ()

    @classmethod
    def kinds(cls) -> dict[str, ColumnKind]:
        """
        Return the contract's columns of this frame and their kinds, in order.

        Examples:
            >>> from crmlifecycle.schema import RevenueColumns
            >>> RevenueColumns.kinds()
            {'customer_id': 'str', 'period': 'time', 'mrr': 'float'}
        """
        return {f.name: f.metadata["kind"] for f in attrs.fields(cls)}  # type: ignore[arg-type]

    def names(self) -> dict[str, str]:
        """
        Return ``{contract column: column name in the frame}``.

        Examples:
            >>> from crmlifecycle.schema import RevenueColumns
            >>> RevenueColumns(mrr="monthly_revenue").names()["mrr"]
            'monthly_revenue'
        """
        return attrs.asdict(self)  # type: ignore[arg-type]

    def to_contract(self, frame: pd.DataFrame, *, frame_name: str = "") -> pd.DataFrame:
        """
        Return a copy of ``frame`` whose columns this record names carry the contract's names.

        Columns the record leaves at their default, and columns it does not know,
        keep their names; the caller's frame is not changed.

        Args:
            frame: the frame in the caller's column names.
            frame_name: the frame's name (``"orders"``) for the error message; ``""`` leaves it out.

        Raises:
            DataError: the frame holds both a column the record renames and a column
                already named like its contract name; its columns are a MultiIndex or
                repeat a label.

        Examples:
            >>> import pandas as pd
            >>> from crmlifecycle.schema import OrderColumns
            >>> export = pd.DataFrame({"cust": ["a"], "at": ["2026-01-05"], "amount": [9.5]})
            >>> OrderColumns(customer_id="cust").to_contract(export).columns.tolist()
            ['customer_id', 'at', 'amount']
        """
        check_labels(frame, frame_name=frame_name)
        renames = {source: column for column, source in self.names().items() if source != column}
        present = set(frame.columns)
        clash = [c for s, c in renames.items() if s in present and c in present]
        if clash:
            where = f" in the {frame_name} frame" if frame_name else ""
            raise DataError.malformed(
                clash[0],
                f"is a column{where} while the column record names another column for it",
                hint="drop one of the two columns, or leave it out of the record.",
            )
        return frame.rename(columns=renames)


@final
@attrs.frozen(kw_only=True)
class EventLogColumns(ColumnSpec):
    """
    The columns of a lifecycle event log: one row per transition.

    Attributes:
        kind: the entity kind of the row's lifecycle (``lead``, ``opportunity`` ...).
        entity_id: the id of the record that moved.
        trigger: the trigger that was fired.
        source: the state the record left.
        dest: the state the record entered.
        at: when the step happened.
    """

    kind: str = _column("kind", "str")
    entity_id: str = _column("entity_id", "str")
    trigger: str = _column("trigger", "str")
    source: str = _column("source", "str")
    dest: str = _column("dest", "str")
    at: str = _column("at", "time")


@final
@attrs.frozen(kw_only=True)
class OrderColumns(ColumnSpec):
    """
    The columns of an orders frame: one row per purchase.

    Attributes:
        order_id: the order's id.
        customer_id: the customer who bought.
        at: when the order was placed.
        amount: the order's value.
    """

    order_id: str = _column("order_id", "str")
    customer_id: str = _column("customer_id", "str")
    at: str = _column("at", "time")
    amount: str = _column("amount", "float")


@final
@attrs.frozen(kw_only=True)
class OpportunityColumns(ColumnSpec):
    """
    The columns of an opportunities (deals) frame: one row per deal.

    Attributes:
        opportunity_id: the deal's id.
        lead_id: the lead it came from.
        account_id: the account it is with.
        created_at: when it was created.
        amount: its value.
        state: its current stage.
        state_since: when it entered that stage.
        probability: its win probability in percent.
        closed_at: when it was won or lost (missing while open).
        lost_reason: why it was lost.
        owner: the salesperson who owns it.
    """

    opportunity_id: str = _column("opportunity_id", "str")
    lead_id: str = _column("lead_id", "str")
    account_id: str = _column("account_id", "str")
    created_at: str = _column("created_at", "time")
    amount: str = _column("amount", "float")
    state: str = _column(STATE, "str")
    state_since: str = _column(STATE_SINCE, "time")
    probability: str = _column("probability", "int")
    closed_at: str = _column("closed_at", "time")
    lost_reason: str = _column("lost_reason", "str")
    owner: str = _column("owner", "str")


@final
@attrs.frozen(kw_only=True)
class RevenueColumns(ColumnSpec):
    """
    The columns of revenue rows: recurring revenue per customer per period.

    Attributes:
        customer_id: the paying customer.
        period: the start of the period the revenue is for.
        mrr: the recurring revenue of that period.
    """

    customer_id: str = _column("customer_id", "str")
    period: str = _column("period", "time")
    mrr: str = _column("mrr", "float")


@final
@attrs.frozen(kw_only=True)
class CustomerColumns(ColumnSpec):
    """
    The columns of a customers frame: one row per customer.

    Attributes:
        customer_id: the customer's id.
        lead_id: the lead the customer came from.
        opportunity_id: the won deal that made the customer.
        account_id: the customer's account.
        channel: the acquisition channel.
        acquired_at: when the customer was acquired.
        state: the current stage in the customer life cycle.
        state_since: when it entered that stage.
        churned_at: when the customer churned (missing while active).
    """

    customer_id: str = _column("customer_id", "str")
    lead_id: str = _column("lead_id", "str")
    opportunity_id: str = _column("opportunity_id", "str")
    account_id: str = _column("account_id", "str")
    channel: str = _column("channel", "str")
    acquired_at: str = _column("acquired_at", "time")
    state: str = _column(STATE, "str")
    state_since: str = _column(STATE_SINCE, "time")
    churned_at: str = _column("churned_at", "time")


@final
@attrs.frozen(kw_only=True)
class LeadColumns(ColumnSpec):
    """
    The columns of a leads frame: one row per lead.

    Attributes:
        lead_id: the lead's id.
        campaign_id: the campaign that brought it.
        channel: the acquisition channel.
        created_at: when it was created.
        email: e-mail address.
        industry: industry.
        company_size: employees of the lead's company.
        job_title: job title.
        budget: the stated budget.
        country: country.
        state: the lead's current state.
        state_since: when it entered that state.
    """

    lead_id: str = _column("lead_id", "str")
    campaign_id: str = _column("campaign_id", "str")
    channel: str = _column("channel", "str")
    created_at: str = _column("created_at", "time")
    email: str = _column("email", "str")
    industry: str = _column("industry", "str")
    company_size: str = _column("company_size", "int")
    job_title: str = _column("job_title", "str")
    budget: str = _column("budget", "float")
    country: str = _column("country", "str")
    state: str = _column(STATE, "str")
    state_since: str = _column(STATE_SINCE, "time")


@final
@attrs.frozen(kw_only=True)
class CaseColumns(ColumnSpec):
    """
    The columns of a support cases frame: one row per case.

    Attributes:
        case_id: the case's id.
        customer_id: the customer who opened it.
        opened_at: when it was opened.
        priority: its priority.
        type: its type.
        state: its current state.
        state_since: when it entered that state.
        first_response_at: when the first response was sent.
        resolved_at: when it was resolved.
        closed_at: when it was closed.
    """

    case_id: str = _column("case_id", "str")
    customer_id: str = _column("customer_id", "str")
    opened_at: str = _column("opened_at", "time")
    priority: str = _column("priority", "str")
    type: str = _column("type", "str")
    state: str = _column(STATE, "str")
    state_since: str = _column(STATE_SINCE, "time")
    first_response_at: str = _column("first_response_at", "time")
    resolved_at: str = _column("resolved_at", "time")
    closed_at: str = _column("closed_at", "time")


@final
@attrs.frozen(kw_only=True)
class FeedbackColumns(ColumnSpec):
    """
    The columns of a feedback frame: one row per survey answer (NPS, CSAT, CES).

    Attributes:
        feedback_id: the answer's id.
        customer_id: the customer who answered.
        at: when they answered.
        kind: the survey (``nps``, ``csat``, ``ces``).
        score: the answer.
        comment: free text.
    """

    feedback_id: str = _column("feedback_id", "str")
    customer_id: str = _column("customer_id", "str")
    at: str = _column("at", "time")
    kind: str = _column("kind", "str")
    score: str = _column("score", "int")
    comment: str = _column("comment", "str")


@final
@attrs.frozen(kw_only=True)
class SpendColumns(ColumnSpec):
    """
    The columns of a marketing spend frame: spend per campaign per period.

    Attributes:
        campaign_id: the campaign.
        channel: its channel.
        paid: whether the spend is paid acquisition.
        period: the start of the period spent in.
        spend: the amount spent.
    """

    campaign_id: str = _column("campaign_id", "str")
    channel: str = _column("channel", "str")
    paid: str = _column("paid", "bool")
    period: str = _column("period", "time")
    spend: str = _column("spend", "float")


@final
@attrs.frozen(kw_only=True)
class CampaignColumns(ColumnSpec):
    """
    The columns of a campaigns frame: one row per campaign.

    Attributes:
        campaign_id: the campaign's id.
        channel: its channel.
        paid: whether its spend is paid acquisition.
        start: when it started.
        end: when it ended.
    """

    campaign_id: str = _column("campaign_id", "str")
    channel: str = _column("channel", "str")
    paid: str = _column("paid", "bool")
    start: str = _column("start", "time")
    end: str = _column("end", "time")


@final
@attrs.frozen(kw_only=True)
class InteractionColumns(ColumnSpec):
    """
    The columns of an interactions frame: one row per touch of a lead.

    Attributes:
        interaction_id: the touch's id.
        lead_id: the lead touched.
        kind: what happened.
        at: when it happened.
    """

    interaction_id: str = _column("interaction_id", "str")
    lead_id: str = _column("lead_id", "str")
    kind: str = _column("kind", "str")
    at: str = _column("at", "time")


@final
@attrs.frozen(kw_only=True)
class EntityColumns(ColumnSpec):
    """
    The id column of an *entities* frame: one row per entity of an event log's kind.

    The frames that sit beside an event log (the entities an automation reads, the
    population of a funnel) hold one row per entity; this record names the column that
    holds the id matched to the log's ``entity_id``.

    Attributes:
        id: the id column; ``None``: ``<kind>_id`` of the log's kind (``lead_id``,
            ``opportunity_id`` ...), as in the library's own frames.

    Examples:
        >>> EntityColumns().id_for("lead"), EntityColumns(id="id").id_for("lead")
        ('lead_id', 'id')
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


#: Every frame of the contract and the spec record of its columns, in the order the
#: synthetic world stores them.
FRAME_COLUMNS: Final[Mapping[str, type[ColumnSpec]]] = {
    "campaigns": CampaignColumns,
    "spend": SpendColumns,
    "leads": LeadColumns,
    "interactions": InteractionColumns,
    "lead_events": EventLogColumns,
    "opportunities": OpportunityColumns,
    "opportunity_events": EventLogColumns,
    "customers": CustomerColumns,
    "customer_events": EventLogColumns,
    "orders": OrderColumns,
    "subscriptions": RevenueColumns,
    "cases": CaseColumns,
    "case_events": EventLogColumns,
    "feedback": FeedbackColumns,
}

#: The frame names of the contract, in order.
FRAME_NAMES: Final[tuple[str, ...]] = tuple(FRAME_COLUMNS)

#: Every frame's columns and their kinds (derived from the spec records).
SCHEMA: Final[Mapping[str, Mapping[str, ColumnKind]]] = {
    name: spec.kinds() for name, spec in FRAME_COLUMNS.items()
}
