from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Money
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import (
    Created,
    FieldsChanged,
    Transitioned,
    event_from_dict,
    event_from_json,
    event_to_json,
    register_enum,
)
from crmlifecycle.testing import (
    cases,
    created_events,
    customers,
    fields_changed_events,
    leads,
    opportunities,
    transitioned_events,
)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


@register_enum
class Tier(Enum):
    GOLD = "gold"
    SILVER = "silver"


class Unregistered(Enum):
    A = 1


def make(**context: Any) -> Transitioned:
    return Transitioned(
        kind="opportunity",
        entity_id="O-1",
        trigger="lose",
        source="proposal",
        dest="lost",
        at=AT,
        context=context,
    )


events = st.one_of(transitioned_events(), created_events(), fields_changed_events())


@given(events)
def test_dict_round_trip(event: Transitioned | Created | FieldsChanged) -> None:
    assert event_from_dict(event.to_dict()) == event


@given(events)
def test_json_round_trip(event: Transitioned | Created | FieldsChanged) -> None:
    text = event_to_json(event)
    again = event_from_json(text)
    assert again == event
    assert type(again) is type(event)
    assert event_to_json(again) == text  # stable, so hosts can hash or diff stored events


def test_round_trip_keeps_types_exactly() -> None:
    context = {
        "amount": Money("1234.50", "EUR"),
        "ratio": Decimal("0.1000"),
        "when": datetime(2026, 3, 1, 9, tzinfo=UTC),
        "day": date(2026, 3, 1),
        "wait": timedelta(hours=36),
        "tier": Tier.GOLD,
        "pair": (1, "a"),
        "nested": {"list": [1, 2.5, None, True]},
    }
    again = event_from_json(event_to_json(make(**context)))
    assert isinstance(again, Transitioned)
    restored = again.context
    assert restored["amount"] == Money("1234.50", "EUR")
    assert str(restored["ratio"]) == "0.1000"  # trailing zeros kept
    assert restored["tier"] is Tier.GOLD
    assert restored["pair"] == (1, "a")
    assert isinstance(restored["pair"], tuple)
    assert restored["day"] == date(2026, 3, 1)
    assert type(restored["day"]) is date
    assert restored["wait"] == timedelta(hours=36)
    assert restored["nested"] == {"list": [1, 2.5, None, True]}


def test_top_level_fields_are_plain_json() -> None:
    data = make(reason="price").to_dict()
    assert data == {
        "event": "transitioned",
        "kind": "opportunity",
        "entity_id": "O-1",
        "trigger": "lose",
        "source": "proposal",
        "dest": "lost",
        "at": "2026-03-01T12:00:00+00:00",
        "context": {"reason": "price"},
        "event_id": None,
        "sequence": None,
        "actor": None,
        "lifecycle": None,
        "lifecycle_version": None,
        "schema_version": 2,
    }
    json.dumps(data)


def test_context_is_read_only() -> None:
    event = make(reason="price")
    with pytest.raises(TypeError):
        event.context["reason"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), Decimal("NaN"), object(), Unregistered.A, {"$x": 1}, {1: "a"}],
)
def test_context_rejects_what_does_not_round_trip(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        make(value=bad)
    assert info.value.field.startswith("context")


def test_unknown_enum_tag_is_not_imported() -> None:
    data = make().to_dict()
    data["context"] = {"x": {"$enum": "os.system", "value": "echo hi"}}
    with pytest.raises(ValidationError):
        event_from_dict(data)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "exploded"}, "event"),
        ({"colour": "red"}, "colour"),
        ({"at": "yesterday"}, "at"),
        ({"at": 5}, "at"),
        ({"at": "2026-03-01T12:00:00"}, "at"),  # naive
        ({"kind": ""}, "kind"),
    ],
)
def test_from_dict_names_the_bad_field(change: dict[str, Any], field: str) -> None:
    data = {**make().to_dict(), **change}
    with pytest.raises(ValidationError) as info:
        event_from_dict(data)
    assert info.value.field == field


def test_missing_field() -> None:
    data = make().to_dict()
    del data["dest"]
    with pytest.raises(ValidationError) as info:
        event_from_dict(data)
    assert info.value.field == "dest"


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_from_json_rejects_non_objects(text: str) -> None:
    with pytest.raises(ValidationError):
        event_from_json(text)


def test_offsets_survive() -> None:
    eastern = datetime.fromisoformat("2026-03-01T07:00:00-05:00")
    event = Created(kind="lead", entity_id="L-1", at=eastern)
    again = event_from_json(event_to_json(event))
    assert again.at.utcoffset() == timedelta(hours=-5)
    assert again.at == AT.replace(hour=12)


def test_fields_changed_holds_old_and_new() -> None:
    event = FieldsChanged(
        kind="opportunity", entity_id="O-1", at=AT, changes={"probability": [20, 35]}
    )
    assert event_from_json(event_to_json(event)) == event


@given(st.one_of(leads(), opportunities(), customers(), cases()))
def test_created_data_rebuilds_the_record_through_json(entity: Any) -> None:
    event = Created.of(entity)
    assert (event.kind, event.entity_id, event.at) == (entity.kind, entity.id, entity.created_at)
    again = event_from_json(event_to_json(event))
    assert again == event
    assert isinstance(again, Created)
    rebuilt = type(entity)(**again.data)
    assert rebuilt == entity
    for name, value in again.data.items():  # the exact types come back, not look-alikes
        assert type(value) is type(event.data[name]), name


def test_a_created_payload_without_data_still_reads() -> None:
    old = {"event": "created", "kind": "lead", "entity_id": "L-1", "at": AT.isoformat()}
    event = event_from_dict(old)
    assert isinstance(event, Created)
    assert dict(event.data) == {}
    assert event.to_dict()["data"] == {}


def test_created_data_names_the_field_it_cannot_store() -> None:
    with pytest.raises(ValidationError) as info:
        Created(kind="lead", entity_id="L-1", at=AT, data={"score": float("nan")})
    assert info.value.field == "data.score"
    with pytest.raises(ValidationError) as info:
        FieldsChanged(kind="lead", entity_id="L-1", at=AT, changes={"x": [object(), 1]})
    assert info.value.field == "changes.x[0]"
