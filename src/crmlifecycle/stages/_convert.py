"""
Lead conversion: a qualified lead becomes (or joins) an opportunity, in one step.

The lead's ``convert`` step carries ``opportunity_id`` in its context; the lead
lifecycle's stage effect for won stages stores it on the lead, so replaying the
lead's events links it again (a ``convert`` without it is refused). A new
opportunity comes with its :class:`~crmlifecycle.events.Created` event holding the
whole record, so replaying from that event rebuilds the deal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, final

import attrs

from crmlifecycle._validators import check_arg, check_name
from crmlifecycle.entities import Lead, Opportunity
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import Created, Transitioned
from crmlifecycle.stages._lifecycle import Lifecycle
from crmlifecycle.stages._standard import LEAD_STATUS, OPPORTUNITY_PIPELINE
from crmlifecycle.values import Money

__all__ = ["Conversion", "convert_lead"]


@final
@attrs.frozen(kw_only=True)
class Conversion:
    """
    The result of :func:`convert_lead`.

    Attributes:
        lead: the converted lead (``state`` converted, ``opportunity_id`` set).
        opportunity: the new opportunity, or ``None`` when the lead joined an existing one.
        events: the events to store, in order: the lead's ``Transitioned`` (its
            context holds ``opportunity_id`` and ``mode``, ``"created"`` or
            ``"attached"``) and, for a new opportunity, its ``Created`` (``data``:
            the new deal's fields; ``context``: ``from_lead``).

    .. versionadded:: 0.1
    """

    lead: Lead
    opportunity: Opportunity | None
    events: tuple[Transitioned | Created, ...]


def convert_lead(
    lead: Lead,
    *,
    at: datetime,
    new_opportunity_id: str | None = None,
    existing_opportunity_id: str | None = None,
    name: str | None = None,
    amount: Money | None = None,
    owner: str | None = None,
    custom: Mapping[str, Any] | None = None,
    actor: str | None = None,
    lead_status: Lifecycle = LEAD_STATUS,
    pipeline: Lifecycle = OPPORTUNITY_PIPELINE,
) -> Conversion:
    """
    Convert a qualified lead: create its opportunity, or attach it to an existing one.

    Pass exactly one of ``new_opportunity_id`` (the host's id for the new deal) and
    ``existing_opportunity_id``. A new opportunity starts in the pipeline's initial
    stage with that stage's default probability, carries the lead's contact and
    account, and is named ``name`` (default: the lead's company, else its name,
    else its id) with ``amount`` (default: the lead's budget, else 0 EUR), owned by
    ``owner`` (default: the lead's owner). Both events name ``actor`` and the
    lifecycle that produced them.

    Args:
        lead: the lead to convert (it must be able to fire ``convert``).
        at: when the conversion happens (timezone-aware).
        new_opportunity_id: the host's id for a new opportunity.
        existing_opportunity_id: the id of an opportunity the lead joins instead.
        name: the new opportunity's name (default: company, name, else the lead's id).
        amount: the new opportunity's amount (default: the lead's budget, else 0 EUR).
        owner: the new opportunity's owner (default: the lead's owner).
        custom: the new opportunity's custom fields, checked against the fields the
            ``pipeline`` declares (a pipeline with required fields needs them here).
        actor: who converts the lead, written into both events.
        lead_status: the lead lifecycle that fires ``convert``.
        pipeline: the opportunity pipeline whose initial stage the new deal enters.

    Raises:
        ValidationError: both or neither opportunity id given, or ``lead_status``'s
            ``convert`` does not enter a won stage (which stores ``opportunity_id``).
        InvalidTransition: the lead cannot be converted from its status.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead, Money
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> lead = Lead(id="L-1", created_at=t0, company="Acme", state="qualified",
        ...             budget=Money(5000, "EUR"), contact_id="C-1")
        >>> result = convert_lead(lead, at=t0, new_opportunity_id="O-1", actor="ana")
        >>> result.lead.state, result.lead.opportunity_id
        ('converted', 'O-1')
        >>> deal = result.opportunity
        >>> deal.name, deal.amount, deal.state, deal.probability, deal.lead_id, deal.contact_id
        ('Acme', Money(amount=Decimal('5000'), currency='EUR'), 'prospecting', 10, 'L-1', 'C-1')
        >>> [(type(e).__name__, e.actor, e.lifecycle) for e in result.events]
        [('Transitioned', 'ana', 'lead'), ('Created', 'ana', 'opportunity')]
        >>> from crmlifecycle import Opportunity
        >>> from crmlifecycle.stages import LEAD_STATUS, OPPORTUNITY_PIPELINE
        >>> LEAD_STATUS.replay(lead, result.events[:1]) == result.lead
        True
        >>> OPPORTUNITY_PIPELINE.replay(Opportunity, result.events[1:]) == deal
        True
    """
    check_arg("lead_status", lead_status, Lifecycle, "a Lifecycle (LEAD_STATUS or one like it)")
    check_arg("pipeline", pipeline, Lifecycle, "a Lifecycle (OPPORTUNITY_PIPELINE or one like it)")
    if (new_opportunity_id is None) == (existing_opportunity_id is None):
        raise ValidationError.for_field(
            "new_opportunity_id",
            new_opportunity_id,
            "given, or existing_opportunity_id given (exactly one)",
            hint="pass new_opportunity_id='O-9' to create a deal, or "
            "existing_opportunity_id='O-1' to attach the lead to one.",
        )
    opportunity_id = (
        check_name("new_opportunity_id", new_opportunity_id)
        if new_opportunity_id is not None
        else check_name("existing_opportunity_id", existing_opportunity_id)
    )
    mode = "created" if new_opportunity_id is not None else "attached"
    if custom is not None and existing_opportunity_id is not None:
        raise ValidationError.for_field(
            "custom",
            custom,
            "None when the lead joins an existing opportunity",
            hint="edit the existing opportunity's custom fields with pipeline.edit(...).",
        )
    step = lead_status.fire(
        lead, "convert", at=at, actor=actor, opportunity_id=opportunity_id, mode=mode
    )
    converted = step.entity
    if converted.opportunity_id != opportunity_id:
        raise ValidationError.for_field(
            "lead_status",
            lead_status.name,
            "a lead lifecycle whose 'convert' trigger enters a won stage",
            hint="the won-stage effect stores opportunity_id; give 'convert' a dest of type won.",
        )
    if existing_opportunity_id is not None:
        return Conversion(lead=converted, opportunity=None, events=(step.event,))
    first = pipeline.stage(pipeline.initial)
    deal = Opportunity(
        id=opportunity_id,
        name=name or lead.company or lead.name or lead.id,
        amount=amount if amount is not None else (lead.budget or Money(0, "EUR")),
        created_at=at,
        state=first.name,
        probability=first.probability if first.probability is not None else 0,
        account_id=lead.account_id,
        contact_id=lead.contact_id,
        lead_id=lead.id,
        owner=owner if owner is not None else lead.owner,
        custom=custom,
    )
    created = pipeline.create(deal, actor=actor, from_lead=lead.id)
    return Conversion(lead=converted, opportunity=deal, events=(step.event, created))
