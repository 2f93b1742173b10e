"""
The :class:`Dataset` holding the frames of a synthetic CRM world, and their schema.

The schema is the contract other parts of the library and the docs rely on.
"""

from __future__ import annotations

from typing import Any, Final, final

import attrs
import pandas as pd

from crmlifecycle._frames import require_columns
from crmlifecycle.errors import DataError

__all__ = ["FRAME_NAMES", "SCHEMA", "Dataset"]

_EVENTS: Final = {
    "kind": "str",
    "entity_id": "str",
    "trigger": "str",
    "source": "str",
    "dest": "str",
    "at": "time",
}

#: Every frame's columns and their kind: ``str``, ``bool``, ``int``, ``float`` or ``time``
#: (``datetime64[ns, UTC]``). Missing values: NaN (str, float) and NaT (time).
SCHEMA: Final[dict[str, dict[str, str]]] = {
    "campaigns": {
        "campaign_id": "str",
        "channel": "str",
        "paid": "bool",
        "start": "time",
        "end": "time",
    },
    "spend": {
        "campaign_id": "str",
        "channel": "str",
        "paid": "bool",
        "period": "time",
        "spend": "float",
    },
    "leads": {
        "lead_id": "str",
        "campaign_id": "str",
        "channel": "str",
        "created_at": "time",
        "email": "str",
        "industry": "str",
        "company_size": "int",
        "job_title": "str",
        "budget": "float",
        "country": "str",
        "status": "str",
        "status_since": "time",
    },
    "interactions": {
        "interaction_id": "str",
        "lead_id": "str",
        "kind": "str",
        "at": "time",
    },
    "lead_events": _EVENTS,
    "opportunities": {
        "opportunity_id": "str",
        "lead_id": "str",
        "account_id": "str",
        "created_at": "time",
        "amount": "float",
        "stage": "str",
        "stage_since": "time",
        "probability": "int",
        "closed_at": "time",
        "lost_reason": "str",
        "owner": "str",
    },
    "opportunity_events": _EVENTS,
    "customers": {
        "customer_id": "str",
        "lead_id": "str",
        "opportunity_id": "str",
        "account_id": "str",
        "channel": "str",
        "acquired_at": "time",
        "stage": "str",
        "stage_since": "time",
        "churned_at": "time",
    },
    "customer_events": _EVENTS,
    "orders": {
        "order_id": "str",
        "customer_id": "str",
        "at": "time",
        "amount": "float",
    },
    "subscriptions": {
        "customer_id": "str",
        "period": "time",
        "mrr": "float",
    },
    "cases": {
        "case_id": "str",
        "customer_id": "str",
        "opened_at": "time",
        "priority": "str",
        "type": "str",
        "status": "str",
        "status_since": "time",
        "first_response_at": "time",
        "resolved_at": "time",
        "closed_at": "time",
    },
    "case_events": _EVENTS,
    "feedback": {
        "feedback_id": "str",
        "customer_id": "str",
        "at": "time",
        "kind": "str",
        "score": "int",
        "comment": "str",
    },
}

#: The frames of a dataset, in the order :meth:`Dataset.frames` returns them.
FRAME_NAMES: Final[tuple[str, ...]] = tuple(SCHEMA)


def _frame_validator(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    del instance
    if not isinstance(value, pd.DataFrame):
        raise DataError(
            f"Dataset.{attribute.name} must be a pandas DataFrame, got {type(value).__name__}. "
            "Hint: build datasets with crmlifecycle.synth.generate() or read_dataset()."
        )
    require_columns(value, SCHEMA[attribute.name], frame_name=attribute.name)


def _stamp(value: object) -> pd.Timestamp:
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@final
@attrs.frozen(kw_only=True, eq=False)
class Dataset:
    """
    A synthetic CRM world: one pandas DataFrame per table, plus the observation window.

    Build one with :func:`~crmlifecycle.synth.generate` or
    :func:`~crmlifecycle.synth.read_dataset`. All timestamps are
    ``datetime64[ns, UTC]`` and lie in ``[start, end)``; ids are strings; money is
    float64 in EUR. :data:`~crmlifecycle.synth.SCHEMA` lists every column.

    Attributes:
        campaigns: one row per campaign (channel, paid, start, end).
        spend: spend per campaign per calendar month.
        leads: one row per lead, with its fit attributes and current status.
        interactions: engagement of leads (e-mail opens, visits, demo requests...).
        lead_events: transitions of the ``lead`` lifecycle.
        opportunities: one row per opportunity (one per converted lead).
        opportunity_events: transitions of the ``opportunity`` lifecycle.
        customers: one row per won opportunity.
        customer_events: transitions of the ``customer`` lifecycle.
        orders: purchases of customers.
        subscriptions: monthly recurring revenue per customer per active month.
        cases: support cases.
        case_events: transitions of the ``case`` lifecycle.
        feedback: NPS, CSAT and CES answers.
        start: the start of the observation window (UTC).
        end: the end of the observation window (UTC, exclusive).

    Examples:
        >>> from crmlifecycle.synth import generate
        >>> world = generate(seed=1, n_leads=200)
        >>> list(world.frames())[:3]
        ['campaigns', 'spend', 'leads']
        >>> len(world.leads)
        200
    """

    campaigns: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    spend: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    leads: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    interactions: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    lead_events: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    opportunities: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    opportunity_events: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    customers: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    customer_events: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    orders: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    subscriptions: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    cases: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    case_events: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    feedback: pd.DataFrame = attrs.field(validator=_frame_validator, repr=False)
    start: pd.Timestamp = attrs.field(converter=_stamp)
    end: pd.Timestamp = attrs.field(converter=_stamp)

    def frames(self) -> dict[str, pd.DataFrame]:
        """
        Return the frames by name, in the order of :data:`~crmlifecycle.synth.FRAME_NAMES`.

        Examples:
            >>> from crmlifecycle.synth import generate
            >>> sorted(generate(seed=1, n_leads=50).frames())[:2]
            ['campaigns', 'case_events']
        """
        return {name: getattr(self, name) for name in FRAME_NAMES}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(frame)}" for name, frame in self.frames().items())
        return f"Dataset({self.start.date()}..{self.end.date()}: {sizes})"
