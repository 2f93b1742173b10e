"""Regressions from the review of the event envelope, checked replay and the bulk step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crmlifecycle import Lead, Money, Opportunity
from crmlifecycle.errors import EventLogError, SpecError, ValidationError
from crmlifecycle.events import Created, FieldsChanged
from crmlifecycle.rules import RuleSet, SetField
from crmlifecycle.stages import (
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    CustomField,
    Guard,
    Lifecycle,
    StepFrameColumns,
    TransitionDef,
    events_from_frame,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_trusted_replay_reads_guards_as_fire_does() -> None:
    # two transitions land in "open": an internal one (guarded on a custom field) and a
    # re-entering one; fire takes the internal one, so state_since stays
    lc = Lifecycle(
        "lead",
        ["open", "done"],
        [
            TransitionDef(
                trigger="touch",
                source="open",
                internal=True,
                conditions=(Guard.when("tier == 'gold'"),),
            ),
            TransitionDef(trigger="touch", source="open", dest="open"),
        ],
        fields=[CustomField(name="tier", type="str")],
    )
    lead = Lead(id="L-1", created_at=T0, custom={"tier": "gold"})
    live = lc.fire(lead, "touch", at=T0 + 3 * DAY)
    assert live.entity.state_since == T0
    for trust in (False, True):
        assert lc.replay(Lead, [lc.create(lead), live.event], trust=trust) == live.entity


def test_replay_refuses_a_fields_changed_that_sets_what_steps_own() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = LEAD_STATUS.fire(lead, "contact", at=T0 + DAY)
    forged = FieldsChanged(
        kind="lead",
        entity_id="L-1",
        at=T0 + 2 * DAY,
        changes={"state": ["contacted", "converted"]},
        sequence=2,
    )
    with pytest.raises(EventLogError, match=r"changes\.state"):
        LEAD_STATUS.replay(lead, [step.event, forged])


def test_replay_refuses_an_edit_before_the_records_last_change() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = LEAD_STATUS.fire(lead, "contact", at=T0 + 5 * DAY)
    early = FieldsChanged(
        kind="lead", entity_id="L-1", at=T0 + DAY, changes={"company": [None, "A"]}, sequence=2
    )
    with pytest.raises(EventLogError, match="last change"):
        LEAD_STATUS.replay(step.entity, [early])


def test_replay_names_records_of_another_class_and_items_that_are_not_events() -> None:
    deal = Opportunity(id="O-1", name="A", amount=Money(1, "EUR"), created_at=T0)
    with pytest.raises(EventLogError, match="kind 'opportunity'"):
        LEAD_STATUS.replay(Lead, [Created.of(deal)])
    with pytest.raises(EventLogError, match="not of class Opportunity"):
        LEAD_STATUS.replay(Opportunity, [Created.of(Lead(id="L-1", created_at=T0))])
    lead = Lead(id="L-1", created_at=T0)
    step = LEAD_STATUS.fire(lead, "contact", at=T0)
    with pytest.raises(ValidationError, match=r"events\[0\]"):
        LEAD_STATUS.replay(lead, [step.event.to_dict()])  # type: ignore[list-item]


def test_a_bulk_step_follows_the_record_class_requirements_without_their_columns() -> None:
    # no opportunity_id column: a lead's conversion still needs its opportunity
    leads = pd.DataFrame({"lead_id": ["L-1"], "state": ["qualified"]})
    step = LEAD_STATUS.fire_frame(leads, "convert", at="2026-03-01")
    assert step.accepted.tolist() == [False]
    # no lost_reason column: a deal is still not lost without a reason
    deals = pd.DataFrame({"opportunity_id": ["O-1"], "state": ["proposal"]})
    lost = OPPORTUNITY_PIPELINE.fire_frame(deals, "lose", at="2026-03-01")
    assert lost.accepted.tolist() == [False]
    assert lost.reason.tolist() == ["missing lost_reason"]


def test_a_refused_conversion_is_not_half_applied() -> None:
    # the row is refused for its missing link: no won-stage effect may touch it
    deals = pd.DataFrame(
        {
            "lead_id": ["L-1"],
            "state": ["qualified"],
            "opportunity_id": [None],
            "closed_at": pd.Series([None], dtype="datetime64[ns, UTC]"),
        }
    )
    step = LEAD_STATUS.fire_frame(
        deals,
        "convert",
        at="2026-03-01",
        entities_columns=StepFrameColumns(context="opportunity_id"),
    )
    assert step.accepted.tolist() == [False]
    assert step.frame["closed_at"].isna().all()
    assert step.frame["state"].tolist() == ["qualified"]


def test_a_missing_context_cell_is_no_context_and_the_events_read_back() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2"],
            "state": ["proposal", "qualification"],
            "lost_reason": ["price", None],
            "trigger": ["lose", "propose"],
        }
    )
    step = OPPORTUNITY_PIPELINE.fire_frame(
        deals, at="2026-03-01", entities_columns=StepFrameColumns(context="lost_reason")
    )
    assert step.accepted.tolist() == [True, True]
    events = events_from_frame(step.events)
    assert [dict(e.context) for e in events] == [{"lost_reason": "price"}, {}]


def test_a_set_action_cannot_name_the_edits_own_arguments() -> None:
    lead = Lead(id="L-1", created_at=T0)
    for name in ("at", "actor", "context", "entity"):
        action = SetField(rule="r", entity_id="L-1", field=name, value="x")
        with pytest.raises(ValidationError, match="field"):
            action.apply(LEAD_STATUS, lead, at=T0)
    rule = {"name": "r", "when": {"kind": "lead"}, "then": [{"set": {"field": "at", "value": 1}}]}
    with pytest.raises(SpecError, match="field"):
        RuleSet.from_dict({"rules": [rule]})
