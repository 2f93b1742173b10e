"""Single-record steps on the four standard lifecycles: hand-worked examples and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle.errors import EventLogError, GuardRejected, InvalidTransition, ValidationError
from crmlifecycle.events import Created, FieldsChanged, Transitioned
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Guard,
    Lifecycle,
    TransitionDef,
    convert_lead,
)

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def deal(**kw: object) -> Opportunity:
    return Opportunity(id="O-1", name="Acme", amount=Money(1000, "EUR"), created_at=T0, **kw)  # type: ignore[arg-type]


def test_standard_names_match_the_shared_contract() -> None:
    assert CUSTOMER_LIFECYCLE.states == (
        "reach",
        "acquisition",
        "conversion",
        "retention",
        "loyalty",
        "churned",
    )
    assert CUSTOMER_LIFECYCLE.trigger_names == (
        "acquire",
        "convert",
        "retain",
        "promote",
        "churn",
        "win_back",
    )
    assert LEAD_STATUS.states == ("open", "contacted", "qualified", "unqualified", "converted")
    assert LEAD_STATUS.trigger_names == ("contact", "qualify", "disqualify", "recycle", "convert")
    assert OPPORTUNITY_PIPELINE.trigger_names == (
        "qualify",
        "propose",
        "negotiate",
        "win",
        "lose",
        "reopen",
    )
    assert CASE_STATUS.states == ("new", "in_progress", "waiting_on_customer", "resolved", "closed")
    assert set(CASE_STATUS.trigger_names) == {
        "start",
        "wait",
        "resume",
        "resolve",
        "reopen",
        "close",
        "escalate",
    }


def test_stage_metadata_follows_espocrm_and_salesforce() -> None:
    # EspoCRM defaults 10/20/50/80/100/0; Salesforce forecast categories
    probs = [OPPORTUNITY_PIPELINE.stage(s).probability for s in OPPORTUNITY_PIPELINE.states]
    assert probs == [10, 20, 50, 80, 100, 0]
    forecasts = [OPPORTUNITY_PIPELINE.stage(s).forecast for s in OPPORTUNITY_PIPELINE.states]
    assert forecasts == ["pipeline", "pipeline", "best_case", "commit", "closed", "omitted"]
    lost = OPPORTUNITY_PIPELINE.stage("lost")
    assert (lost.order, lost.type, lost.closed, lost.won) == (5, "lost", True, False)
    assert LEAD_STATUS.stage("unqualified").type == "lost"
    assert CASE_STATUS.stage("waiting_on_customer").type == "on_hold"
    frame = OPPORTUNITY_PIPELINE.stages_frame()
    assert frame.loc["won", "won"]
    assert frame["closed"].tolist() == [False, False, False, False, True, True]
    with pytest.raises(ValidationError, match="one of"):
        OPPORTUNITY_PIPELINE.stage("closed_won")


def test_fire_returns_new_entity_and_event_and_leaves_the_old_one() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = LEAD_STATUS.fire(lead, "contact", at=day(1), channel="phone")
    assert lead.state == "open"
    assert lead.state_since == T0
    assert step.entity.state == "contacted"
    assert step.entity.state_since == day(1)
    assert step.event == Transitioned(
        kind="lead",
        entity_id="L-1",
        trigger="contact",
        source="open",
        dest="contacted",
        at=day(1),
        context={"channel": "phone"},
        event_id="lead/L-1/1",
        sequence=1,
        lifecycle=LEAD_STATUS.name,
        lifecycle_version=LEAD_STATUS.version,
    )
    assert step.entity.version == 1


def test_invalid_transition_carries_trigger_state_and_allowed() -> None:
    lead = Lead(id="L-1", created_at=T0)
    with pytest.raises(InvalidTransition) as info:
        LEAD_STATUS.fire(lead, "qualify", at=day(1))
    assert info.value.trigger == "qualify"
    assert info.value.state == "open"
    assert info.value.allowed == ("contact", "disqualify")
    assert "Hint:" in str(info.value)
    with pytest.raises(InvalidTransition, match="did you mean 'contact'"):
        LEAD_STATUS.fire(lead, "contcat", at=day(1))


def test_time_rules() -> None:
    lead = Lead(id="L-1", created_at=T0, state_since=day(2))
    with pytest.raises(ValidationError, match="state_since") as info:
        LEAD_STATUS.fire(lead, "contact", at=day(1))
    assert info.value.field == "at"
    with pytest.raises(ValidationError, match="timezone-aware"):
        LEAD_STATUS.fire(lead, "contact", at=datetime(2026, 3, 5))
    # another zone is fine: same instant rules
    step = LEAD_STATUS.fire(lead, "contact", at=day(3).astimezone(timezone(timedelta(hours=5))))
    assert step.entity.state_since == day(3)


def test_unknown_state_of_entity_is_named() -> None:
    lead = Lead(id="L-1", created_at=T0, state="nurturing")
    with pytest.raises(ValidationError, match="nurturing"):
        LEAD_STATUS.fire(lead, "contact", at=day(1))
    with pytest.raises(ValidationError, match="nurturing"):
        LEAD_STATUS.triggers(lead)


def test_opportunity_probability_follows_stages_and_manual_value_survives() -> None:
    d = deal()
    assert d.probability == 10
    d = OPPORTUNITY_PIPELINE.fire(d, "qualify", at=day(1)).entity
    assert d.probability == 20
    # the user sets 35% by hand: kept through the next stage change
    d = deal(state="qualification", probability=35, probability_manual=True)
    d = OPPORTUNITY_PIPELINE.fire(d, "propose", at=day(2)).entity
    assert (d.state, d.probability, d.probability_manual) == ("proposal", 35, True)
    # cleared by the user: the next stage's default applies again
    d = OPPORTUNITY_PIPELINE.fire(
        attrs.evolve(d, probability_manual=False), "negotiate", at=day(3)
    ).entity
    assert d.probability == 80
    won = OPPORTUNITY_PIPELINE.fire(d, "win", at=day(4)).entity
    assert (won.probability, won.closed_at, won.lost_reason) == (100, day(4), None)


def test_won_overrides_a_manual_probability() -> None:
    d = deal(state="negotiation", probability=60, probability_manual=True)
    won = OPPORTUNITY_PIPELINE.fire(d, "win", at=day(1)).entity
    assert (won.probability, won.probability_manual) == (100, False)


def test_lost_needs_a_reason_and_remembers_the_open_stage_and_reopens_there() -> None:
    d = deal(state="proposal", probability=50)
    with pytest.raises(ValidationError, match="lost_reason") as info:
        OPPORTUNITY_PIPELINE.fire(d, "lose", at=day(1))
    assert info.value.field == "lost_reason"
    with pytest.raises(ValidationError, match="lost_reason"):
        OPPORTUNITY_PIPELINE.fire(d, "lose", at=day(1), lost_reason="  ")
    lost = OPPORTUNITY_PIPELINE.fire(d, "lose", at=day(1), lost_reason="price").entity
    assert (lost.state, lost.probability, lost.lost_reason) == ("lost", 0, "price")
    assert (lost.last_open_stage, lost.closed_at) == ("proposal", day(1))
    back = OPPORTUNITY_PIPELINE.fire(lost, "reopen", at=day(2)).entity
    # back to proposal with its default 50%, reason and close date cleared
    assert (back.state, back.probability, back.lost_reason, back.closed_at) == (
        "proposal",
        50,
        None,
        None,
    )


def test_reopen_without_a_remembered_stage_is_rejected_by_its_guard() -> None:
    orphan = deal(state="lost", probability=0, lost_reason="imported")
    with pytest.raises(GuardRejected, match="last_open_stage") as info:
        OPPORTUNITY_PIPELINE.fire(orphan, "reopen", at=day(1))
    assert info.value.trigger == "reopen"
    assert info.value.state == "lost"


def test_customer_keeps_current_and_highest_stage() -> None:
    k = Customer(id="K-1", created_at=T0)
    path = ["acquire", "convert", "retain", "promote", "churn", "win_back"]
    states = []
    for i, trigger in enumerate(path):
        k = CUSTOMER_LIFECYCLE.fire(k, trigger, at=day(i)).entity
        states.append((k.state, k.highest_state))
    assert states == [
        ("acquisition", "acquisition"),
        ("conversion", "conversion"),
        ("retention", "retention"),
        ("loyalty", "loyalty"),
        ("churned", "loyalty"),
        ("conversion", "loyalty"),
    ]
    with pytest.raises(InvalidTransition):
        CUSTOMER_LIFECYCLE.fire(Customer(id="K-2", created_at=T0), "churn", at=day(1))


def test_case_flow_escalation_and_resolution_stamps() -> None:
    case = Case(id="S-1", customer_id="K-1", subject="Down", created_at=T0, priority="low")
    case = CASE_STATUS.fire(case, "escalate", at=day(0)).entity
    assert (case.state, case.priority, case.state_since) == ("new", "normal", T0)
    case = CASE_STATUS.fire(case, "start", at=day(1)).entity
    case = CASE_STATUS.fire(case, "wait", at=day(2)).entity
    case = CASE_STATUS.fire(case, "resume", at=day(3)).entity
    for _ in range(3):  # normal -> high -> urgent -> urgent (the top stays)
        case = CASE_STATUS.fire(case, "escalate", at=day(3)).entity
    assert case.priority == "urgent"
    step = CASE_STATUS.fire(case, "resolve", at=day(4))
    assert (step.entity.state, step.entity.resolved_at) == ("resolved", day(4))
    reopened = CASE_STATUS.fire(step.entity, "reopen", at=day(5)).entity
    assert (reopened.state, reopened.resolved_at) == ("in_progress", None)
    closed = CASE_STATUS.fire(step.entity, "close", at=day(6)).entity
    assert CASE_STATUS.triggers(closed) == ()
    with pytest.raises(InvalidTransition, match="none"):
        CASE_STATUS.fire(closed, "reopen", at=day(7))


def test_lead_recycle_and_triggers() -> None:
    lead = Lead(id="L-1", created_at=T0)
    lead = LEAD_STATUS.fire(lead, "disqualify", at=day(1)).entity
    assert LEAD_STATUS.triggers(lead) == ("recycle",)
    lead = LEAD_STATUS.fire(lead, "recycle", at=day(2)).entity
    assert (lead.state, lead.state_since) == ("open", day(2))


def test_can_fire() -> None:
    d = deal(state="proposal", probability=50)
    assert OPPORTUNITY_PIPELINE.can_fire(d, "negotiate")
    assert not OPPORTUNITY_PIPELINE.can_fire(d, "reopen")
    assert not OPPORTUNITY_PIPELINE.can_fire(d, "lose")
    assert OPPORTUNITY_PIPELINE.can_fire(d, "lose", lost_reason="price")
    assert not OPPORTUNITY_PIPELINE.can_fire(d, "negotiate", at=T0 - timedelta(days=1))


def test_convert_lead_creates_an_opportunity() -> None:
    lead = Lead(
        id="L-1",
        created_at=T0,
        state="qualified",
        name="Ada",
        account_id="A-1",
        contact_id="C-1",
    )
    result = convert_lead(lead, at=day(1), new_opportunity_id="O-9", owner="rep1")
    assert (result.lead.state, result.lead.opportunity_id) == ("converted", "O-9")
    opp = result.opportunity
    assert opp is not None
    assert (opp.id, opp.name, opp.amount, opp.owner) == ("O-9", "Ada", Money(0, "EUR"), "rep1")
    assert (opp.account_id, opp.contact_id, opp.lead_id) == ("A-1", "C-1", "L-1")
    assert (opp.state, opp.probability, opp.created_at) == ("prospecting", 10, day(1))
    transitioned, created = result.events
    assert isinstance(transitioned, Transitioned)
    assert transitioned.context == {"opportunity_id": "O-9", "mode": "created"}
    assert isinstance(created, Created)
    assert (created.kind, created.entity_id) == ("opportunity", "O-9")


def test_convert_lead_attaches_to_an_existing_opportunity() -> None:
    lead = Lead(id="L-1", created_at=T0, state="qualified")
    result = convert_lead(lead, at=day(1), existing_opportunity_id="O-1")
    assert result.opportunity is None
    assert result.lead.opportunity_id == "O-1"
    assert [type(e) for e in result.events] == [Transitioned]
    with pytest.raises(ValidationError, match="exactly one"):
        convert_lead(lead, at=day(1))
    with pytest.raises(ValidationError, match="exactly one"):
        convert_lead(lead, at=day(1), new_opportunity_id="O-2", existing_opportunity_id="O-1")
    with pytest.raises(InvalidTransition):
        convert_lead(Lead(id="L-2", created_at=T0), at=day(1), new_opportunity_id="O-2")


def test_replay_with_fields_changed_and_created_events() -> None:
    d = deal()
    one = OPPORTUNITY_PIPELINE.fire(d, "qualify", at=day(1))
    manual = FieldsChanged(
        kind="opportunity",
        entity_id="O-1",
        at=day(2),
        changes={"probability": [20, 33], "probability_manual": [False, True]},
    )
    created = Created(kind="opportunity", entity_id="O-1", at=T0)
    # a version-1 FieldsChanged (no sequence) still counts as the record's next event
    after_manual = attrs.evolve(one.entity, probability=33, probability_manual=True, version=2)
    two = OPPORTUNITY_PIPELINE.fire(after_manual, "propose", at=day(3))
    replayed = OPPORTUNITY_PIPELINE.replay(d, [created, one.event, manual, two.event])
    assert replayed == two.entity
    assert replayed.probability == 33


def test_replay_refuses_foreign_or_disagreeing_logs() -> None:
    lead = Lead(id="L-1", created_at=T0)
    foreign = Transitioned(
        kind="lead", entity_id="L-2", trigger="contact", source="open", dest="contacted", at=day(1)
    )
    with pytest.raises(EventLogError, match="entity_id"):
        LEAD_STATUS.replay(lead, [foreign])
    wrong = Transitioned(
        kind="lead", entity_id="L-1", trigger="contact", source="open", dest="qualified", at=day(1)
    )
    with pytest.raises(EventLogError, match="open->qualified"):
        LEAD_STATUS.replay(lead, [wrong])


def test_state_at() -> None:
    log = [
        Transitioned(
            kind="lead",
            entity_id="L-1",
            trigger="contact",
            source="open",
            dest="contacted",
            at=day(1),
        ),
        Transitioned(
            kind="lead",
            entity_id="L-1",
            trigger="qualify",
            source="contacted",
            dest="qualified",
            at=day(5),
        ),
    ]
    assert LEAD_STATUS.state_at(log, as_of=T0) is None
    assert LEAD_STATUS.state_at(log, as_of=T0, initial="open") == "open"
    assert LEAD_STATUS.state_at(log, as_of=day(1)) == "contacted"  # at the instant: already moved
    assert LEAD_STATUS.state_at(log, as_of=day(4)) == "contacted"
    assert LEAD_STATUS.state_at(log, as_of=day(9)) == "qualified"
    # as_of is an instant: a date or date-only text is that UTC day's midnight
    # (the steps are at 2026-03-02 09:00 and 2026-03-06 09:00)
    assert LEAD_STATUS.state_at(log, as_of="2026-03-06") == "contacted"
    assert LEAD_STATUS.state_at(log, as_of="2026-03-07") == "qualified"
    assert LEAD_STATUS.state_at(log, as_of=day(1).date(), initial="open") == "open"
    # nothing defaults to now; a naive time of day is ambiguous
    with pytest.raises(ValidationError, match="as_of"):
        LEAD_STATUS.state_at(log, as_of=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="as_of"):
        LEAD_STATUS.state_at(log, as_of=datetime(2026, 3, 5, 10))


def _scored_lifecycle() -> Lifecycle:
    return Lifecycle(
        "lead_gate",
        ["open", "hot", "cold"],
        [
            TransitionDef(
                trigger="route", source="open", dest="hot", conditions=(Guard.when("score >= 50"),)
            ),
            TransitionDef(
                trigger="route",
                source="open",
                dest="cold",
                unless=(Guard.of(lambda e, _i: e.score is None, name="unscored"),),
            ),
        ],
        kind="lead",
    )


def test_condition_guards_first_passing_candidate_wins() -> None:
    gate = _scored_lifecycle()
    hot = gate.fire(Lead(id="L-1", created_at=T0, score=70), "route", at=day(1))
    cold = gate.fire(Lead(id="L-2", created_at=T0, score=10), "route", at=day(1))
    assert (hot.entity.state, cold.entity.state) == ("hot", "cold")
    with pytest.raises(GuardRejected) as info:
        gate.fire(Lead(id="L-3", created_at=T0), "route", at=day(1))
    # both candidates failed: the condition (missing counts as False) and the unless guard
    assert info.value.guard == "score >= 50; unless unscored"
    assert not gate.can_fire(Lead(id="L-3", created_at=T0), "route")


def test_hooks_before_and_after_see_old_and_new_entity() -> None:
    seen: list[tuple[str, str]] = []

    def before(e: Lead, _info: object) -> dict[str, object]:
        seen.append(("before", e.state))
        return {"score": 1.0}

    def after(e: Lead, _info: object) -> None:
        seen.append(("after", e.state))

    from crmlifecycle.stages import Hook

    lc = Lifecycle(
        "lead",
        ["open", "contacted"],
        [
            TransitionDef(
                trigger="contact",
                source="open",
                dest="contacted",
                before=(Hook.of(before),),
                after=(Hook.of(after),),
            )
        ],
    )
    step = lc.fire(Lead(id="L-1", created_at=T0), "contact", at=day(1))
    assert seen == [("before", "open"), ("after", "contacted")]
    assert step.entity.score == 1.0


def test_the_new_entity_equals_evolve_and_stays_frozen() -> None:
    import attrs

    deal = Opportunity(
        id="O-1", name="Acme", amount=Money(5, "EUR"), created_at=T0, owner="ada", lead_id="L-9"
    )
    new = OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=day(1)).entity
    expected = attrs.evolve(
        deal,
        state="qualification",
        state_since=day(1),
        probability=20,
        version=1,
        updated_at=day(1),
    )
    assert new == expected
    assert hash(new) == hash(expected)
    assert type(new) is Opportunity
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        new.state = "won"  # type: ignore[misc]
    # the event is the same value the validating constructor builds, context included
    step = OPPORTUNITY_PIPELINE.fire(new, "lose", at=day(2), lost_reason="price")
    assert step.event == Transitioned(
        kind="opportunity",
        entity_id="O-1",
        trigger="lose",
        source="qualification",
        dest="lost",
        at=day(2),
        context={"lost_reason": "price"},
        event_id="opportunity/O-1/2",
        sequence=2,
        lifecycle=OPPORTUNITY_PIPELINE.name,
        lifecycle_version=OPPORTUNITY_PIPELINE.version,
    )
    with pytest.raises(ValidationError, match="context"):
        LEAD_STATUS.fire(Lead(id="L-1", created_at=T0), "contact", at=day(1), bad=object())
