"""Lifecycle.create: the checked, stamped Created event; convert_lead's custom fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmlifecycle import Lead, Money, Opportunity
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import event_from_json, event_to_json
from crmlifecycle.stages import (
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    convert_lead,
)

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)
PIPE_AMOUNT = Money(100, "EUR")
PIPE = Lifecycle.from_dict(
    {
        **OPPORTUNITY_PIPELINE.to_dict(),
        "fields": [
            {"name": "tier", "type": "str", "choices": ["gold", "silver"], "required": True}
        ],
    }
)


def test_create_stamps_the_envelope_and_starts_a_log_that_replays() -> None:
    lead = Lead(id="L-1", created_at=T0, company="Acme", version=0)
    born = LEAD_STATUS.create(lead, actor="ana", source="import")
    assert (born.kind, born.entity_id, born.at) == ("lead", "L-1", T0)
    assert (born.event_id, born.sequence, born.actor) == ("lead/L-1/0", 0, "ana")
    assert (born.lifecycle, born.lifecycle_version) == ("lead", LEAD_STATUS.version)
    assert dict(born.context) == {"source": "import"}
    step = LEAD_STATUS.fire(lead, "contact", at=T0 + timedelta(hours=1))
    log = [event_from_json(event_to_json(e)) for e in (born, step.event)]
    assert LEAD_STATUS.replay(Lead, log) == step.entity


def test_an_imported_record_starts_its_log_at_its_own_version() -> None:
    lead = Lead(id="L-2", created_at=T0, state="contacted", version=7)
    born = LEAD_STATUS.create(lead)
    assert (born.sequence, born.event_id) == (7, "lead/L-2/7")
    step = LEAD_STATUS.fire(lead, "qualify", at=T0)
    assert step.event.sequence == 8
    assert LEAD_STATUS.replay(Lead, [born, step.event]) == step.entity


def test_create_refuses_a_record_of_another_kind_state_or_custom_fields() -> None:
    deal = Opportunity(id="O-1", name="Acme", amount=PIPE_AMOUNT, created_at=T0)
    with pytest.raises(ValidationError, match=r"entity\.kind.*'lead'"):
        LEAD_STATUS.create(deal)
    with pytest.raises(ValidationError, match="state"):
        LEAD_STATUS.create(Lead(id="L-3", created_at=T0, state="prospecting"))
    with pytest.raises(ValidationError, match=r"custom\.tier"):
        PIPE.create(deal)  # the pipeline requires a tier
    with pytest.raises(ValidationError, match=r"custom\.tier"):
        PIPE.create(
            Opportunity(
                id="O-1", name="A", amount=PIPE_AMOUNT, created_at=T0, custom={"tier": "bronze"}
            )
        )


def test_convert_lead_gives_the_new_deal_its_custom_fields() -> None:
    lead = Lead(id="L-4", created_at=T0, state="qualified", company="Acme", owner="bo")
    with pytest.raises(ValidationError, match=r"custom\.tier"):
        convert_lead(lead, at=T0, new_opportunity_id="O-4", pipeline=PIPE)
    result = convert_lead(
        lead, at=T0, new_opportunity_id="O-4", pipeline=PIPE, custom={"tier": "gold"}
    )
    deal = result.opportunity
    assert deal is not None
    assert (dict(deal.custom), deal.owner) == ({"tier": "gold"}, "bo")  # owner: the lead's
    created = result.events[1]
    assert (created.lifecycle, created.lifecycle_version) == (PIPE.name, PIPE.version)
    assert PIPE.replay(Opportunity, [event_from_json(event_to_json(created))]) == deal
    with pytest.raises(ValidationError, match="custom"):
        convert_lead(lead, at=T0, existing_opportunity_id="O-1", custom={"tier": "gold"})
