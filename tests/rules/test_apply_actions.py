"""A rule's fire and set actions are carried out through the lifecycle, as steps and edits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Lead, Money, Opportunity
from crmlifecycle.errors import InvalidTransition, ValidationError
from crmlifecycle.events import (
    Created,
    FieldsChanged,
    Transitioned,
    event_from_json,
    event_to_json,
)
from crmlifecycle.rules import (
    Action,
    AppliedActions,
    CreateTask,
    FireTrigger,
    LifecycleLike,
    Notify,
    RuleSet,
    SetField,
    apply_actions,
)
from crmlifecycle.stages import (
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    events_from_frame,
    events_to_frame,
)
from crmlifecycle.testing import leads

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _set(field: str, value: object, *, rule: str = "r", entity_id: str = "L-1") -> SetField:
    return SetField(rule=rule, entity_id=entity_id, field=field, value=value)


# -- SetField.apply ------------------------------------------------------------------------------


def test_set_is_an_edit_by_the_rule() -> None:
    lead = Lead(id="L-1", created_at=T0)
    edit = _set("company", "Acme", rule="enrich").apply(LEAD_STATUS, lead, at=T0)
    assert edit.entity == attrs.evolve(lead, company="Acme", version=1, updated_at=T0)
    assert edit.event == FieldsChanged(
        kind="lead",
        entity_id="L-1",
        at=T0,
        changes={"company": [None, "Acme"]},
        context={"reason": "rule", "rule": "enrich"},
        event_id="lead/L-1/1",
        sequence=1,
        actor="rule:enrich",
        lifecycle="lead",
        lifecycle_version=LEAD_STATUS.version,
    )
    assert LEAD_STATUS.replay(lead, [edit.event]) == edit.entity


def test_setting_the_probability_is_the_documented_manual_override() -> None:
    deal = Opportunity(id="O-1", name="Acme", amount=Money(5, "EUR"), created_at=T0)
    edit = _set("probability", 35, entity_id="O-1").apply(OPPORTUNITY_PIPELINE, deal, at=T0)
    assert (edit.entity.probability, edit.entity.probability_manual) == (35, True)
    assert dict(edit.event.changes) == {
        "probability": [10, 35],
        "probability_manual": [False, True],
    }


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("colour", "red", "colour"),  # unknown field
        ("state", "converted", "state"),  # the lifecycle's steps own it
        ("opportunity_id", "O-1", "opportunity_id"),
        ("version", 9, "version"),
        ("merged_into", "L-9", "merged_into"),
        ("email", "not-an-address", "email"),  # the record refuses the value
        ("company_size", -1, "company_size"),
    ],
)
def test_set_refuses_what_an_edit_refuses(field: str, value: object, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        _set(field, value).apply(LEAD_STATUS, Lead(id="L-1", created_at=T0), at=T0)
    assert info.value.field == expected
    assert info.value.value == value


def test_setting_the_owner_is_an_assignment_by_the_rule() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = _set("owner", "key-accounts", rule="route").apply(LEAD_STATUS, lead, at=T0)
    assert step.entity.owner == "key-accounts"
    assert dict(step.event.changes) == {"owner": [None, "key-accounts"]}
    assert dict(step.event.context) == {"reason": "assign"}
    assert step.event.actor == "rule:route"
    cleared = _set("owner", None).apply(LEAD_STATUS, step.entity, at=T0)
    assert cleared.entity.owner is None
    with pytest.raises(ValidationError, match="already assigned") as info:
        _set("owner", "key-accounts").apply(LEAD_STATUS, step.entity, at=T0)
    assert info.value.field == "owner"
    with pytest.raises(ValidationError) as info:
        _set("owner", 42).apply(LEAD_STATUS, lead, at=T0)
    assert (info.value.field, info.value.value) == ("owner", 42)


def test_an_action_applies_only_to_the_record_it_names() -> None:
    lead = Lead(id="L-1", created_at=T0)
    for action in (
        _set("company", "Acme", entity_id="L-2"),
        FireTrigger(rule="r", entity_id="L-2", trigger="contact"),
    ):
        with pytest.raises(ValidationError, match="'L-1'") as info:
            action.apply(LEAD_STATUS, lead, at=T0)
        assert (info.value.field, info.value.value) == ("entity_id", "L-2")
        assert "Hint:" in str(info.value)


# -- FireTrigger.apply ---------------------------------------------------------------------------


def test_fire_is_a_step_by_the_rule() -> None:
    lead = Lead(id="L-1", created_at=T0)
    step = FireTrigger(rule="hot", entity_id="L-1", trigger="contact").apply(
        LEAD_STATUS, lead, at=T0 + timedelta(hours=1)
    )
    assert step.entity.state == "contacted"
    assert step.event == Transitioned(
        kind="lead",
        entity_id="L-1",
        trigger="contact",
        source="open",
        dest="contacted",
        at=T0 + timedelta(hours=1),
        event_id="lead/L-1/1",
        sequence=1,
        actor="rule:hot",
        lifecycle="lead",
        lifecycle_version=LEAD_STATUS.version,
    )


def test_fire_refuses_what_the_lifecycle_refuses() -> None:
    lead = Lead(id="L-1", created_at=T0)
    with pytest.raises(InvalidTransition):
        FireTrigger(rule="r", entity_id="L-1", trigger="convert").apply(LEAD_STATUS, lead, at=T0)
    deal = Opportunity(id="O-1", name="Acme", amount=Money(5, "EUR"), created_at=T0)
    with pytest.raises(ValidationError) as info:  # a lost stage needs a reason
        FireTrigger(rule="r", entity_id="O-1", trigger="lose").apply(
            OPPORTUNITY_PIPELINE, deal, at=T0
        )
    assert info.value.field == "lost_reason"


# -- apply_actions -------------------------------------------------------------------------------

RULES = RuleSet.from_text(
    """
rules:
  - name: hot-webinar-lead
    priority: 10
    when: {kind: lead, dest: contacted}
    if: score >= 70 and channel == 'webinar'
    then:
      - fire: qualify
      - set: {field: owner, value: key-accounts}
      - set: {field: country, value: FR}
      - task: {title: Call back, due: days(2), assignee: sales}
  - name: log-contacts
    when: {kind: lead, trigger: contact}
    then:
      - notify: {to: audit, message: lead contacted}
"""
)


def test_a_rule_sets_actions_run_in_order_on_one_record() -> None:
    lead = Lead(id="L-7", created_at=T0, score=85, channel="webinar")
    contacted = LEAD_STATUS.fire(lead, "contact", at=T0)
    actions = RULES.evaluate(contacted.event, contacted.entity)
    later = T0 + timedelta(minutes=5)
    done = apply_actions(actions, contacted.entity, LEAD_STATUS, at=later)
    assert isinstance(done, AppliedActions)
    assert (done.entity.state, done.entity.owner, done.entity.country) == (
        "qualified",
        "key-accounts",
        "FR",
    )
    assert done.entity.version == 4  # contact, then qualify, assign and set
    assert [type(e).__name__ for e in done.events] == [
        "Transitioned",
        "FieldsChanged",
        "FieldsChanged",
    ]
    assert [e.sequence for e in done.events] == [2, 3, 4]
    assert {e.actor for e in done.events} == {"rule:hot-webinar-lead"}
    assert [dict(e.context) for e in done.events[1:]] == [
        {"reason": "assign"},
        {"reason": "rule", "rule": "hot-webinar-lead"},
    ]
    assert done.pending == (
        CreateTask(
            rule="hot-webinar-lead",
            entity_id="L-7",
            title="Call back",
            due_at=T0 + timedelta(days=2),
            assignee="sales",
        ),
        Notify(rule="log-contacts", entity_id="L-7", to="audit", message="lead contacted"),
    )
    # the whole history replays: from the record, through JSON and the event-log frame
    log = [Created.of(lead), contacted.event, *done.events]
    assert LEAD_STATUS.replay(Lead, log) == done.entity
    assert LEAD_STATUS.replay(Lead, [event_from_json(event_to_json(e)) for e in log]) == (
        done.entity
    )
    assert LEAD_STATUS.replay(Lead, events_from_frame(events_to_frame(log))) == done.entity


def test_the_actor_is_the_rule_unless_the_host_names_one() -> None:
    lead = Lead(id="L-1", created_at=T0)
    actions: list[Action] = [
        FireTrigger(rule="a", entity_id="L-1", trigger="contact"),
        _set("owner", "ana", rule="b"),
        _set("company", "Acme", rule="c"),
    ]
    done = apply_actions(actions, lead, LEAD_STATUS, at=T0)
    assert [e.actor for e in done.events] == ["rule:a", "rule:b", "rule:c"]
    named = apply_actions(actions, lead, LEAD_STATUS, at=T0, actor="automation@7")
    assert [e.actor for e in named.events] == ["automation@7"] * 3
    assert named.events[2].context == {"reason": "rule", "rule": "c"}  # the rule is still said


def test_no_actions_leave_the_record_as_it_is() -> None:
    lead = Lead(id="L-1", created_at=T0)
    done = apply_actions([], lead, LEAD_STATUS, at=T0)
    assert (done.entity, done.events, done.pending) == (lead, (), ())


def test_a_refused_action_returns_nothing() -> None:
    lead = Lead(id="L-1", created_at=T0)
    actions = [_set("company", "Acme"), _set("state", "converted")]
    with pytest.raises(ValidationError) as info:
        apply_actions(actions, lead, LEAD_STATUS, at=T0)
    assert info.value.field == "state"
    with pytest.raises(ValidationError) as info:
        apply_actions([_set("company", "Acme", entity_id="L-2")], lead, LEAD_STATUS, at=T0)
    assert info.value.field == "entity_id"


@attrs.define
class _Recorder:
    """A host's own lifecycle-like object: anything with fire, edit and assign will do."""

    calls: list[tuple[str, Any]] = attrs.Factory(list)

    def fire(
        self, entity: Any, trigger: str, *, at: datetime, actor: str | None = None, **context: Any
    ) -> Any:
        self.calls.append(("fire", (trigger, at, actor, context)))
        return _Done(entity, Created.of(entity))

    def edit(
        self,
        entity: Any,
        *,
        at: datetime,
        actor: str | None = None,
        context: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Any:
        self.calls.append(("edit", (changes, at, actor, dict(context or {}))))
        return _Done(entity, Created.of(entity))

    def assign(
        self, entity: Any, owner: str | None, *, at: datetime, actor: str | None = None
    ) -> Any:
        self.calls.append(("assign", (owner, at, actor)))
        return _Done(entity, Created.of(entity))


@attrs.frozen
class _Done:
    entity: Any
    event: Any


def test_any_object_with_the_lifecycles_methods_carries_actions_out() -> None:
    host = _Recorder()
    target: LifecycleLike = host
    actions: list[Action] = [
        FireTrigger(rule="a", entity_id="L-1", trigger="contact"),
        _set("owner", "ana", rule="b"),
        _set("company", "Acme", rule="c"),
    ]
    apply_actions(actions, Lead(id="L-1", created_at=T0), target, at=T0)
    assert host.calls == [
        ("fire", ("contact", T0, "rule:a", {})),
        ("assign", ("ana", T0, "rule:b")),
        ("edit", ({"company": "Acme"}, T0, "rule:c", {"reason": "rule", "rule": "c"})),
    ]


_SETTABLE: dict[str, st.SearchStrategy[Any]] = {
    "company": st.sampled_from(["Acme", "Globex", None]),
    "country": st.sampled_from(["FR", "DE", None]),
    "score": st.none() | st.floats(-100, 100),
    "company_size": st.none() | st.integers(0, 500),
    "owner": st.sampled_from(["ana", "bo", "cy"]),
}


@st.composite
def _set_actions(draw: st.DrawFn, entity_id: str) -> list[SetField]:
    names = draw(st.lists(st.sampled_from(sorted(_SETTABLE)), max_size=8))
    return [
        SetField(rule=f"r{i}", entity_id=entity_id, field=name, value=draw(_SETTABLE[name]))
        for i, name in enumerate(names)
    ]


@given(st.data())
def test_set_actions_replay_to_the_record_they_built(data: st.DataObject) -> None:
    lead = data.draw(leads())
    actions = data.draw(_set_actions(lead.id))
    # an assignment that changes nothing is refused: drop those (the host checks first)
    owner: object = lead.owner
    kept: list[SetField] = []
    for action in actions:
        if action.field == "owner":
            if action.value == owner:
                continue
            owner = action.value
        kept.append(action)
    done = apply_actions(kept, lead, LEAD_STATUS, at=lead.state_since)
    assert len(done.events) == len(kept)
    for action in kept:  # the last set of each field wins
        assert getattr(done.entity, action.field) == next(
            a.value for a in reversed(kept) if a.field == action.field
        )
    assert [e.actor for e in done.events] == [f"rule:{a.rule}" for a in kept]
    assert [e.sequence for e in done.events] == list(range(1, len(kept) + 1))
    assert LEAD_STATUS.replay(lead, done.events) == done.entity
    decoded = [event_from_json(event_to_json(e)) for e in done.events]
    assert LEAD_STATUS.replay(lead, decoded) == done.entity
