"""
User code that must type-check under mypy --strict (not a test module: pytest does not collect it).

If a change to the public API breaks the way hosts write this code, mypy fails the check.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from crmlifecycle import Lead, Money, Opportunity
from crmlifecycle.errors import CrmError, InvalidTransition
from crmlifecycle.events import Transitioned, event_from_json, event_to_json
from crmlifecycle.rules import Condition
from crmlifecycle.stages import LEAD_STATUS, OPPORTUNITY_PIPELINE, Step

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)

lead = Lead(id="L-1", created_at=AT, budget=Money(20000, "EUR"), company_size=40)
step: Step[Lead] = LEAD_STATUS.fire(lead, "contact", at=AT)
contacted: Lead = step.entity
event: Transitioned = step.event
stored: str = event_to_json(event)
restored = event_from_json(stored)
allowed: tuple[str, ...] = LEAD_STATUS.triggers(contacted)

deal = Opportunity(id="O-1", name="Acme", amount=Money(5000, "EUR"), created_at=AT)
try:
    OPPORTUNITY_PIPELINE.fire(deal, "win", at=AT)
except InvalidTransition as err:
    reason: tuple[str, ...] = err.allowed
except CrmError:
    pass

hot = Condition.parse("company_size >= 20 and budget.amount > 10000")
one: bool = hot.evaluate(lead, at=AT)
frame = pd.DataFrame({"company_size": [5, 50], "budget.amount": [1.0, 20000.0]})
many: pd.Series = hot.evaluate_frame(frame, at=AT)
