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
from crmlifecycle.schema import CaseColumns, OrderColumns
from crmlifecycle.scoring import PointsScorer, RfmScorer
from crmlifecycle.sla import CaseSla, SlaPolicy, SlaTarget, case_sla, sla_status
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    FrameStep,
    Lifecycle,
    Step,
    StepFrameColumns,
)
from crmlifecycle.typing import ScoreCard, Scorer

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)

lead = Lead(id="L-1", created_at=AT, budget=Money(20000, "EUR"), company_size=40)
step: Step[Lead] = LEAD_STATUS.fire(lead, "contact", at=AT)
contacted: Lead = step.entity
event: Transitioned = step.event
stored: str = event_to_json(event)
restored = event_from_json(stored)
allowed: tuple[str, ...] = LEAD_STATUS.triggers(contacted)
where: str | None = LEAD_STATUS.state_at([event], as_of="2026-03-03")
custom: Lifecycle = Lifecycle.from_text('{"name": "t", "states": ["a"], "transitions": []}')
spec: dict[str, object] = Lifecycle.from_dict(LEAD_STATUS.to_dict()).to_dict()
leads = pd.DataFrame({"lead": ["L-1"], "state": ["open"]})
bulk: FrameStep = LEAD_STATUS.fire_frame(
    leads, "contact", at="2026-03-02", entities_columns=StepFrameColumns(id="lead")
)
snapshot: pd.DataFrame = LEAD_STATUS.replay_frame(bulk.events, as_of=AT)

deal = Opportunity(id="O-1", name="Acme", amount=Money(5000, "EUR"), created_at=AT)
try:
    OPPORTUNITY_PIPELINE.fire(deal, "win", at=AT)
except InvalidTransition as err:
    reason: tuple[str, ...] = err.allowed
except CrmError:
    pass

hot = Condition.parse("company_size >= 20 and budget.amount > 10000")
one: bool = hot.evaluate(lead, as_of=AT)
frame = pd.DataFrame({"company_size": [5, 50], "budget.amount": [1.0, 20000.0]})
many: pd.Series = hot.evaluate_frame(frame, as_of="2026-03-02")

# scorers look from as_of and name a frame's columns with one spec record
points: Scorer = PointsScorer(fit=[{"when": "company_size >= 20", "points": 10}])
card: ScoreCard = points.score(lead, as_of=AT)
orders = pd.DataFrame({"cid": ["C-1"], "at": [AT], "amount": [10.0]})
rfm: pd.DataFrame = RfmScorer().score_frame(
    orders, as_of=AT, orders_columns=OrderColumns(customer_id="cid")
)

# SLA clocks: stage facts from the case lifecycle, columns from the data contract
policy = SlaPolicy(targets={"normal": SlaTarget(resolution="8h")}, lifecycle=CASE_STATUS)
answer: CaseSla = case_sla(policy, opened_at=AT, priority="normal", as_of="2026-03-03")
none = pd.Series([pd.NaT], dtype="datetime64[ns, UTC]")
cases = pd.DataFrame(
    {
        "ticket": ["T-1"],
        "opened_at": [AT],
        "priority": ["normal"],
        "first_response_at": none,
        "resolved_at": none,
    }
)
clocks: pd.DataFrame = sla_status(
    cases, policy, as_of=AT, cases_columns=CaseColumns(case_id="ticket")
)
