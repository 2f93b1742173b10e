"""Declared custom fields, checked on every path: check, fire, edit, replay, JSON, frames, specs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle.errors import EventLogError, GuardRejected, SpecError, ValidationError
from crmlifecycle.events import Created, Event, FieldsChanged, event_from_json, event_to_json
from crmlifecycle.rules import SetField
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    CustomField,
    Guard,
    Lifecycle,
    TransitionDef,
    lint_spec,
)
from crmlifecycle.testing import (
    cases,
    custom_values,
    customers,
    event_sequences,
    field_declarations,
    leads,
    opportunities,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)


def _pipeline(*fields: CustomField, spec: dict[str, Any] | None = None) -> Lifecycle:
    """The standard pipeline with the given custom fields declared."""
    data = dict(spec or OPPORTUNITY_PIPELINE.to_dict())
    data["fields"] = [
        {k: v for k, v in attrs.asdict(f).items() if v is not None and v is not False}
        for f in fields
    ]
    for entry in data["fields"]:
        if "choices" in entry:
            entry["choices"] = [str(c) if isinstance(c, Decimal) else c for c in entry["choices"]]
    return Lifecycle.from_dict(data)


def _deal(**custom: Any) -> Opportunity:
    return Opportunity(
        id="O-1", name="Acme", amount=Money(9000, "EUR"), created_at=T0, custom=custom
    )


TIER = CustomField(name="tier", type="str", choices=["gold", "silver"])
SEATS = CustomField(name="seats", type="int", required=True)
PIPE = _pipeline(TIER, SEATS)


# -- the declaration ---------------------------------------------------------------------------


def test_lifecycle_holds_its_fields_and_the_spec_round_trips() -> None:
    assert PIPE.fields == (TIER, SEATS)
    spec = PIPE.to_dict()
    assert spec["fields"] == [
        {"name": "tier", "type": "str", "choices": ["gold", "silver"]},
        {"name": "seats", "type": "int", "required": True},
    ]
    again = Lifecycle.from_dict(spec)
    assert again == PIPE
    assert again.version == PIPE.version
    assert again.fields == PIPE.fields


def test_fields_change_equality_and_version() -> None:
    other = _pipeline(TIER)
    assert other != PIPE
    assert other.version != PIPE.version
    assert PIPE.version != OPPORTUNITY_PIPELINE.version
    # a lifecycle without fields writes no 'fields' key, so the standard versions stay put
    assert "fields" not in OPPORTUNITY_PIPELINE.to_dict()


def test_fields_from_yaml_text() -> None:
    pytest.importorskip("yaml")
    text = """
name: ticket
states: [todo, done]
transitions:
  - {trigger: finish, source: todo, dest: done, when: "urgency >= 2"}
fields:
  - name: urgency
    type: int
    required: true
    description: how urgent, 1 to 3
  - {name: budget_x, type: decimal, choices: ["9.99", 20]}
"""
    life = Lifecycle.from_text(text)
    assert life.fields == (
        CustomField(name="urgency", type="int", required=True, description="how urgent, 1 to 3"),
        CustomField(name="budget_x", type="decimal", choices=[Decimal("9.99"), Decimal(20)]),
    )
    assert Lifecycle.from_dict(life.to_dict()) == life


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"name": "tier", "type": "integer"}, "fields[1].type"),
        ({"name": "amount", "type": "int"}, "fields[1].name"),
        ({"name": "custom", "type": "int"}, "fields[1].name"),
        ({"name": "version", "type": "int"}, "fields[1].name"),
        ({"name": "2nd", "type": "int"}, "fields[1].name"),
        ({"name": "seats", "type": "int"}, "fields[1].name"),  # a duplicate
        ({"name": "tier", "type": "str", "choices": ["a", 3]}, "fields[1].choices[1]"),
        ({"name": "tier", "type": "str", "choices": []}, "fields[1].choices"),
        ({"name": "tier", "type": "str", "choices": "gold"}, "fields[1].choices"),
        ({"name": "due", "type": "date", "choices": ["2026-01-01"]}, "fields[1].choices"),
        ({"name": "tier", "type": "str", "required": "yes"}, "fields[1].required"),
        ({"name": "tier", "type": "str", "colour": "red"}, "fields[1].colour"),
        ({"name": "tier"}, "fields[1]"),
        ({"name": "cost", "type": "decimal", "choices": ["abc"]}, "fields[1].choices[0]"),
    ],
)
def test_bad_declarations_name_their_path(entry: dict[str, Any], path: str) -> None:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    spec["fields"] = [{"name": "seats", "type": "int"}, entry]
    with pytest.raises(SpecError) as info:
        Lifecycle.from_dict(spec)
    assert info.value.path.startswith(path)
    assert "Hint:" in str(info.value)


def test_lint_reports_a_bad_declaration_with_its_path() -> None:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    spec["fields"] = [{"name": "tier", "type": "text"}]
    findings = lint_spec(spec)
    assert [(f.code, f.path, f.severity) for f in findings] == [
        ("invalid", "fields[0].type", "error")
    ]


def test_fields_must_be_a_list() -> None:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    spec["fields"] = {"tier": "str"}
    with pytest.raises(SpecError) as info:
        Lifecycle.from_dict(spec)
    assert info.value.path == "fields"
    with pytest.raises(SpecError, match=r"CustomField"):
        Lifecycle("t", ["a"], [], fields=[{"name": "tier", "type": "str"}])  # type: ignore[list-item]


# -- checking values ----------------------------------------------------------------------------

GOOD_AND_BAD: list[tuple[str, object, object]] = [
    ("str", "gold", 3),
    ("int", 3, True),
    ("int", -7, 3.0),
    ("float", 2.5, True),
    ("float", 2, "2.5"),
    ("decimal", Decimal("1.50"), 1.5),
    ("decimal", 4, False),
    ("bool", False, 0),
    ("date", date(2026, 1, 2), T0),
    ("datetime", T0, datetime(2026, 1, 1)),
    ("datetime", T1, date(2026, 1, 2)),
    ("money", Money(10, "EUR"), Decimal(10)),
]


@pytest.mark.parametrize(("type_name", "good", "bad"), GOOD_AND_BAD)
def test_each_type_accepts_its_values_and_refuses_others(
    type_name: str, good: object, bad: object
) -> None:
    life = _pipeline(CustomField(name="extra", type=type_name))
    life.check(_deal(extra=good))
    with pytest.raises(ValidationError) as info:
        life.check(_deal(extra=bad))
    assert info.value.field == "custom.extra"
    assert info.value.value == bad
    assert f"declared type {type_name!r}" in str(info.value)
    assert "'O-1'" in str(info.value)  # names the record


def test_choices_required_and_undeclared_keys() -> None:
    PIPE.check(_deal(seats=3, tier="gold"))
    with pytest.raises(ValidationError, match=r"'custom.tier' must be one of \['gold', 'silver'\]"):
        PIPE.check(_deal(seats=3, tier="bronze"))
    with pytest.raises(
        ValidationError, match=r"'custom\.seats' must be set: the field is required"
    ):
        PIPE.check(_deal(tier="gold"))
    with pytest.raises(ValidationError, match=r"'custom\.colour' must be a declared custom field"):
        PIPE.check(_deal(seats=3, colour="red"))


def test_check_refuses_a_state_of_another_lifecycle() -> None:
    with pytest.raises(ValidationError, match=r"'state'"):
        PIPE.check(attrs.evolve(_deal(seats=1), state="reach"))


def test_a_declared_name_that_is_a_field_of_a_custom_record_class_is_refused() -> None:
    @attrs.frozen(kw_only=True)
    class Ticket:
        id: str
        state: str = "todo"
        state_since: datetime = T0
        seats_x: int = 0
        custom: dict[str, Any] = attrs.field(factory=dict)

    life = Lifecycle("ticket", ["todo"], [], fields=[CustomField(name="seats_x", type="int")])
    with pytest.raises(ValidationError, match=r"not a field of Ticket"):
        life.check(Ticket(id="T-1"))


# -- fire ---------------------------------------------------------------------------------------


def test_fire_checks_the_record_when_fields_are_declared() -> None:
    with pytest.raises(ValidationError, match=r"custom\.seats"):
        PIPE.fire(_deal(tier="gold"), "qualify", at=T1)
    step = PIPE.fire(_deal(seats=2), "qualify", at=T1)
    assert step.entity.custom == {"seats": 2}


def test_a_lifecycle_without_fields_leaves_custom_free() -> None:
    deal = _deal(anything=[1, 2], seats=True)
    assert OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=T1).entity.custom == deal.custom
    OPPORTUNITY_PIPELINE.check(deal)


# -- edit -----------------------------------------------------------------------------------------


def test_edit_sets_and_removes_a_custom_field_by_name() -> None:
    deal = _deal(seats=3)
    one = PIPE.edit(deal, at=T1, tier="gold")
    assert one.entity.custom == {"seats": 3, "tier": "gold"}
    assert dict(one.event.changes) == {"tier": [None, "gold"]}
    assert one.entity.version == 1
    two = PIPE.edit(one.entity, at=T1, tier=None, seats=4, name="Acme Ltd")
    assert two.entity.custom == {"seats": 4}
    assert dict(two.event.changes) == {
        "tier": ["gold", None],
        "seats": [3, 4],
        "name": ["Acme", "Acme Ltd"],
    }
    assert deal.custom == {"seats": 3}  # the old record is unchanged


def test_edit_refuses_a_value_that_does_not_fit() -> None:
    deal = _deal(seats=3)
    with pytest.raises(ValidationError) as info:
        PIPE.edit(deal, at=T1, tier="bronze")
    assert info.value.field == "custom.tier"
    assert info.value.value == "bronze"
    with pytest.raises(ValidationError, match=r"custom\.seats"):
        PIPE.edit(deal, at=T1, seats=True)
    with pytest.raises(ValidationError, match=r"required"):
        PIPE.edit(deal, at=T1, seats=None)


def test_edit_of_an_unknown_name_lists_record_and_declared_fields() -> None:
    with pytest.raises(ValidationError) as info:
        PIPE.edit(_deal(seats=3), at=T1, teir="gold")
    message = str(info.value)
    assert info.value.field == "teir"
    assert "a field of Opportunity (" in message
    assert "amount" in message
    assert "a declared custom field (seats, tier)" in message
    assert "Hint:" in message


def test_without_declared_fields_a_custom_name_is_not_an_edit_keyword() -> None:
    with pytest.raises(ValidationError, match=r"a field of Opportunity"):
        OPPORTUNITY_PIPELINE.edit(_deal(), at=T1, tier="gold")


def test_a_wholesale_custom_edit_is_checked_too() -> None:
    with pytest.raises(ValidationError, match=r"custom\.colour"):
        PIPE.edit(_deal(seats=3), at=T1, custom={"seats": 3, "colour": "red"})


def test_an_edit_by_name_and_a_wholesale_custom_together_are_refused() -> None:
    deal = _deal(seats=3)
    with pytest.raises(ValidationError, match=r"'custom' must be left out"):
        PIPE.edit(deal, at=T1, custom={"seats": 4}, tier="gold")


def test_a_set_action_on_a_declared_field_applies_as_an_edit() -> None:
    action = SetField(rule="vip", entity_id="O-1", field="tier", value="gold")
    changes: dict[str, Any] = {action.field: action.value}
    edit = PIPE.edit(_deal(seats=3), at=T1, actor=f"rule:{action.rule}", **changes)
    assert edit.entity.custom["tier"] == "gold"
    assert dict(edit.event.changes) == {"tier": [None, "gold"]}


# -- replay ---------------------------------------------------------------------------------------


def test_replay_applies_custom_edits_and_checks_them() -> None:
    deal = _deal(seats=3)
    one = PIPE.edit(deal, at=T1, tier="gold")
    two = PIPE.fire(one.entity, "qualify", at=T1)
    three = PIPE.edit(two.entity, at=T1, tier=None)
    log: list[Event] = [Created.of(deal), one.event, two.event, three.event]
    assert PIPE.replay(Opportunity, log) == three.entity
    forged = FieldsChanged(
        kind="opportunity", entity_id="O-1", at=T1, changes={"tier": [None, "bronze"]}
    )
    with pytest.raises(EventLogError, match=r"custom\.tier"):
        PIPE.replay(deal, [forged])


# -- guards read declared fields by name; frames read the column of that name ---------------------

GATED = Lifecycle(
    "opportunity",
    ["open", "fast", "done"],
    [
        TransitionDef(
            trigger="rush", source="open", dest="fast", conditions=(Guard.when("tier == 'gold'"),)
        ),
        TransitionDef(trigger="finish", source="open", dest="done"),
    ],
    fields=[TIER],
)


def test_a_guard_reads_a_declared_field_by_name_on_records_and_frames() -> None:
    gold, silver, absent = _deal(tier="gold"), _deal(tier="silver"), _deal()
    gold, silver, absent = (attrs.evolve(d, state="open") for d in (gold, silver, absent))
    assert GATED.fire(gold, "rush", at=T1).entity.state == "fast"
    for deal in (silver, absent):  # an absent optional field is missing: the guard says no
        with pytest.raises(GuardRejected):
            GATED.fire(deal, "rush", at=T1)
    frame = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2", "O-3"],
            "state": ["open"] * 3,
            "tier": ["gold", "silver", None],
        }
    )
    bulk = GATED.fire_frame(frame, "rush", at=T1)
    assert bulk.accepted.tolist() == [True, False, False]  # the same answers as one by one


def test_fire_frame_keeps_custom_columns_unchanged() -> None:
    frame = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2"],
            "state": ["open", "open"],
            "tier": ["gold", None],
            "seats_x": [3, 40],
        }
    )
    out = GATED.fire_frame(frame, "finish", at=T1).frame
    assert out["state"].tolist() == ["done", "done"]
    pd.testing.assert_series_equal(out["tier"], frame["tier"])
    pd.testing.assert_series_equal(out["seats_x"], frame["seats_x"])
    assert frame["state"].tolist() == ["open", "open"]  # the input is not modified


# -- strategies and the round trips, over generated declarations -----------------------------------

_KINDS = [
    (LEAD_STATUS, leads),
    (OPPORTUNITY_PIPELINE, opportunities),
    (CUSTOMER_LIFECYCLE, customers),
    (CASE_STATUS, cases),
]
_CLASSES = {"lead": Lead, "opportunity": Opportunity, "customer": Customer, "case": Case}


@st.composite
def _declared(draw: st.DrawFn) -> tuple[Lifecycle, Any]:
    """A standard lifecycle with generated fields, and its record strategy."""
    standard, records = draw(st.sampled_from(_KINDS))
    life = Lifecycle(
        standard.name,
        standard.stages,
        standard.transitions,
        initial=standard.initial,
        kind=standard.kind,
        fields=draw(field_declarations()),
    )
    return life, records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_records_are_valid_and_survive_created_json(data: st.DataObject) -> None:
    life, records = data.draw(_declared())
    record = data.draw(records(lifecycle=life))
    life.check(record)
    required = {f.name for f in life.fields if f.required}
    assert required <= set(record.custom)
    back = event_from_json(event_to_json(Created.of(record)))
    assert isinstance(back, Created)
    rebuilt = _CLASSES[life.kind](**back.data)
    assert rebuilt == record
    for name, value in record.custom.items():
        assert type(rebuilt.custom[name]) is type(value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_custom_edits_survive_json_and_replay(data: st.DataObject) -> None:
    life, _records = data.draw(_declared())
    first, events = data.draw(event_sequences(life, created=True, edits=True, max_steps=6))
    last = life.replay(first, events[1:])
    through_json = [event_from_json(event_to_json(e)) for e in events]
    assert life.replay(type(first), through_json) == last
    edits = [e for e in events if isinstance(e, FieldsChanged)]
    assert all(set(e.changes) <= {f.name for f in life.fields} for e in edits)
    life.check(last)


@settings(max_examples=30, deadline=None)
@given(field_declarations(), st.data())
def test_declarations_round_trip_through_the_spec(fields: list[CustomField], data: Any) -> None:
    life = Lifecycle("ticket", ["todo", "done"], [], fields=fields, kind="lead")
    text = json.dumps(life.to_dict())
    again = Lifecycle.from_text(text)
    assert again == life
    assert again.version == life.version
    again.check(Lead(id="L-1", created_at=T0, state="todo", custom=data.draw(custom_values(life))))


def test_custom_values_draws_nothing_for_a_lifecycle_without_fields() -> None:
    @given(custom_values(OPPORTUNITY_PIPELINE))
    def check(custom: dict[str, Any]) -> None:
        assert custom == {}

    check()
