"""Scores feed the lifecycles: a guard and an automation rule that read a lead's score or grade."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pandas as pd
import pytest

from crmlifecycle import Lead
from crmlifecycle.errors import GuardRejected
from crmlifecycle.rules import RuleSet
from crmlifecycle.scoring import PointsScorer
from crmlifecycle.stages import LEAD_STATUS, Lifecycle

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)

SCORER = PointsScorer(
    fit=[
        {"name": "saas", "when": "industry == 'saas'", "points": 40},
        {"name": "big", "when": "company_size >= 200", "points": 30},
    ],
    grades={"A": 60, "B": 30},
)

# LEAD_STATUS with one change: qualifying needs a score of at least 60.
GUARDED = LEAD_STATUS.to_dict()
for transition in GUARDED["transitions"]:
    if transition["trigger"] == "qualify":
        transition["when"] = "score >= 60"
GUARDED_LEADS = Lifecycle.from_dict(GUARDED)


def contacted(lead_id: str, **fields: object) -> Lead:
    lead = Lead(id=lead_id, created_at=AT, **fields)  # type: ignore[arg-type]
    step = LEAD_STATUS.fire(lead, "contact", at=AT)
    assert isinstance(step.entity, Lead)
    return step.entity


def test_a_guard_reads_the_stored_score() -> None:
    # saas (40) + company_size 500 >= 200 (30) = 70 >= 60: qualifies
    strong = contacted("L-1", industry="saas", company_size=500)
    # saas only: 40 < 60: rejected
    weak = contacted("L-2", industry="saas", company_size=10)
    cards = {lead.id: SCORER.score(lead, as_of=AT) for lead in (strong, weak)}
    assert (cards["L-1"].total, cards["L-2"].total) == (70, 40)
    strong = attrs.evolve(strong, score=cards["L-1"].total)
    weak = attrs.evolve(weak, score=cards["L-2"].total)
    assert GUARDED_LEADS.fire(strong, "qualify", at=AT).entity.state == "qualified"
    with pytest.raises(GuardRejected) as info:
        GUARDED_LEADS.fire(weak, "qualify", at=AT)
    assert info.value.guard == "score >= 60"
    # an unscored lead (score missing) is not qualified: a missing value makes the guard false
    with pytest.raises(GuardRejected):
        GUARDED_LEADS.fire(contacted("L-3"), "qualify", at=AT)


def test_bulk_step_with_scores_equals_single_steps() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L-1", "L-2", "L-3"],
            "industry": ["saas", "saas", "retail"],
            "company_size": [500, 10, 900],
        }
    )
    scored = SCORER.score_frame(leads, as_of=AT)
    # L-1: 40 + 30 = 70 (A); L-2: 40 (B); L-3: 30 (B)
    assert scored["score"].tolist() == [70, 40, 30]
    assert scored["grade"].tolist() == ["A", "B", "B"]
    frame = leads.assign(state="contacted", score=scored["score"])
    step = GUARDED_LEADS.fire_frame(frame, "qualify", at=AT)
    assert step.accepted.tolist() == [True, False, False]
    assert step.state.tolist() == ["qualified", "contacted", "contacted"]


def test_an_automation_rule_auto_qualifies_grade_a_leads() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {
                    "name": "auto-qualify grade A",
                    "when": {"kind": "lead", "dest": "contacted"},
                    "if": "grade == 'A'",
                    "then": [{"fire": "qualify"}],
                }
            ]
        }
    )
    lead = Lead(id="L-1", created_at=AT, industry="saas", company_size=500)
    step = LEAD_STATUS.fire(lead, "contact", at=AT)
    card = SCORER.score(step.entity, as_of=AT)
    record = {**attrs.asdict(step.entity, recurse=False), "grade": card.grade}
    actions = rules.evaluate(step.event, record, as_of=AT)
    assert len(actions) == 1
    # the host performs the action: fire the trigger the rule returned
    action = actions[0]
    qualified = LEAD_STATUS.fire(step.entity, action.trigger, at=AT).entity  # type: ignore[union-attr]
    assert qualified.state == "qualified"
    low = {**record, "grade": "B"}
    assert rules.evaluate(step.event, low, as_of=AT) == []
