"""
The :class:`Dataset` holding the frames of a synthetic CRM world.

Its frames and their columns are those of the data contract,
:mod:`crmlifecycle.schema` (``FRAME_NAMES``, ``SCHEMA``); building a dataset checks
that every frame has the contract's columns.
"""

from __future__ import annotations

from typing import Any, final

import attrs
import pandas as pd

from crmlifecycle._frames import require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.schema import FRAME_NAMES, SCHEMA

__all__ = ["Dataset"]


def _frame_validator(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    del instance
    if not isinstance(value, pd.DataFrame):
        raise DataError(
            f"Dataset.{attribute.name} must be a pandas DataFrame, got {type(value).__name__}. "
            "Hint: build datasets with crmlifecycle.synth.generate() or read_dataset()."
        )
    require_columns(value, SCHEMA[attribute.name], frame_name=attribute.name)


def _stamp(value: Instant) -> pd.Timestamp:
    # the time rule of every instant argument: a typed DataError for what is not one
    return utc_timestamp(value, name="Dataset.start/end")


@final
@attrs.frozen(kw_only=True, eq=False)
class Dataset:
    """
    A synthetic CRM world: one pandas DataFrame per table, plus the observation window.

    Build one with :func:`~crmlifecycle.synth.generate` or
    :func:`~crmlifecycle.synth.read_dataset`. All timestamps are
    ``datetime64[ns, UTC]`` and lie in ``[start, end)``; ids are strings; money is
    float64 in EUR. :data:`crmlifecycle.schema.SCHEMA` lists every column.

    Attributes:
        campaigns: one row per campaign (channel, paid, start, end).
        spend: spend per campaign per calendar month.
        leads: one row per lead, with its fit attributes and current state.
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
        Return the frames by name, in the order of :data:`crmlifecycle.schema.FRAME_NAMES`.

        Examples:
            >>> from crmlifecycle.synth import generate
            >>> sorted(generate(seed=1, n_leads=50).frames())[:2]
            ['campaigns', 'case_events']
        """
        return {name: getattr(self, name) for name in FRAME_NAMES}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(frame)}" for name, frame in self.frames().items())
        return f"Dataset({self.start.date()}..{self.end.date()}: {sizes})"
