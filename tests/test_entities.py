from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmlifecycle
from crmlifecycle import (
    Account,
    Campaign,
    Case,
    Contact,
    Customer,
    Feedback,
    Interaction,
    Lead,
    Money,
    Opportunity,
    Order,
    Period,
    Product,
)
from crmlifecycle import testing as strategies
from crmlifecycle.errors import ValidationError
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2026, 3, 1, 9, 30)
EUR = Money(100, "EUR")

ALL_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    Account: strategies.accounts(),
    Campaign: strategies.campaigns(),
    Case: strategies.cases(),
    Contact: strategies.contacts(),
    Customer: strategies.customers(),
    Feedback: strategies.feedback(),
    Interaction: strategies.interactions(),
    Lead: strategies.leads(),
    Opportunity: strategies.opportunities(),
    Order: strategies.orders(),
    Product: strategies.products(),
}


def valid_kwargs(cls: type[Any]) -> dict[str, Any]:
    """The smallest valid keyword arguments for each entity."""
    return {
        Contact: {"id": "C-1", "name": "Ada", "created_at": AT},
        Account: {"id": "A-1", "name": "Acme", "created_at": AT},
        Lead: {"id": "L-1", "created_at": AT},
        Opportunity: {"id": "O-1", "name": "Deal", "amount": EUR, "created_at": AT},
        Customer: {"id": "K-1", "created_at": AT},
        Product: {"id": "P-1", "name": "Pro", "price": EUR},
        Campaign: {
            "id": "CMP-1",
            "name": "Spring",
            "channel": "webinar",
            "spend": EUR,
            "period": Period(AT, AT + timedelta(days=30)),
        },
        Case: {"id": "S-1", "customer_id": "K-1", "subject": "Help", "created_at": AT},
        Interaction: {"id": "I-1", "kind": "web_visit", "at": AT, "lead_id": "L-1"},
        Order: {"id": "R-1", "customer_id": "K-1", "at": AT, "amount": EUR},
        Feedback: {"id": "F-1", "customer_id": "K-1", "at": AT, "kind": "nps", "score": 9},
    }[cls]


def test_every_entity_has_a_strategy_and_is_exported() -> None:
    for cls in ALL_STRATEGIES:
        assert cls.__name__ in crmlifecycle.__all__
    assert crmlifecycle.__all__ == sorted(crmlifecycle.__all__)


@pytest.mark.parametrize("cls", list(ALL_STRATEGIES), ids=lambda c: c.__name__)
def test_minimal_construction(cls: type[Any]) -> None:
    entity = cls(**valid_kwargs(cls))
    assert entity.id == valid_kwargs(cls)["id"]


@pytest.mark.parametrize("cls", list(ALL_STRATEGIES), ids=lambda c: c.__name__)
def test_keyword_only_frozen_slotted(cls: type[Any]) -> None:
    entity = cls(**valid_kwargs(cls))
    with pytest.raises(TypeError):
        cls(*valid_kwargs(cls).values())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        entity.id = "other"
    assert not hasattr(entity, "__dict__")


@pytest.mark.parametrize("cls", list(ALL_STRATEGIES), ids=lambda c: c.__name__)
def test_empty_id_is_rejected(cls: type[Any]) -> None:
    with pytest.raises(ValidationError) as info:
        cls(**{**valid_kwargs(cls), "id": "  "})
    assert info.value.field == "id"


# One test per validation rule: (entity, field, bad value).
BAD_VALUES: list[tuple[type[Any], str, object]] = [
    (Contact, "email", "ada-at-example.com"),
    (Contact, "email", "ada@example"),
    (Contact, "created_at", NAIVE),
    (Contact, "name", ""),
    (Account, "employees", -1),
    (Account, "employees", 1.5),
    (Lead, "created_at", NAIVE),
    (Lead, "created_at", "2026-03-01"),
    (Lead, "email", "no spaces@example.com"),
    (Lead, "budget", Money(-1, "EUR")),
    (Lead, "budget", 100),
    (Lead, "company_size", True),
    (Lead, "state", ""),
    (Lead, "state_since", AT - timedelta(seconds=1)),
    (Opportunity, "amount", Money("-0.01", "EUR")),
    (Opportunity, "probability", 101),
    (Opportunity, "probability", -1),
    (Opportunity, "probability", 50.0),
    (Opportunity, "probability_manual", "yes"),
    (Opportunity, "closed_at", AT - timedelta(days=1)),
    (Customer, "state_since", AT - timedelta(days=1)),
    (Customer, "email", "x"),
    (Product, "price", Money(-5, "EUR")),
    (Product, "active", 1),
    (Campaign, "spend", Money(-5, "EUR")),
    (Campaign, "period", (AT, AT)),
    (Campaign, "paid", "no"),
    (Case, "priority", "critical"),
    (Case, "type", "bug"),
    (Case, "first_response_at", AT - timedelta(minutes=1)),
    (Case, "resolved_at", NAIVE),
    (Interaction, "kind", ""),
    (Interaction, "at", NAIVE),
    (Order, "amount", Money(-1, "EUR")),
    (Order, "quantity", 0),
    (Order, "customer_id", ""),
    (Feedback, "kind", "ces5"),
    (Feedback, "score", 11),
    (Feedback, "score", -1),
    (Feedback, "score", 8.5),
]


@pytest.mark.parametrize(
    ("cls", "field", "bad"), BAD_VALUES, ids=[f"{c.__name__}.{f}={b!r}" for c, f, b in BAD_VALUES]
)
def test_validation_names_the_field(cls: type[Any], field: str, bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        cls(**{**valid_kwargs(cls), field: bad})
    assert info.value.field == field
    assert info.value.value == bad
    assert f"{field!r} must be" in str(info.value)
    assert "Hint:" in str(info.value)


@pytest.mark.parametrize(("kind", "low", "high"), [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)])
def test_feedback_scale_edges(kind: str, low: int, high: int) -> None:
    base = {**valid_kwargs(Feedback), "kind": kind}
    assert Feedback(**{**base, "score": low}).score == low
    assert Feedback(**{**base, "score": high}).score == high
    for bad in (low - 1, high + 1):
        with pytest.raises(ValidationError):
            Feedback(**{**base, "score": bad})


def test_interaction_needs_an_owner() -> None:
    with pytest.raises(ValidationError) as info:
        Interaction(id="I-1", kind="call", at=AT)
    assert info.value.field == "lead_id"


def test_defaults_of_stateful_entities() -> None:
    assert Lead(id="L", created_at=AT).state_since == AT
    assert Opportunity(**valid_kwargs(Opportunity)).state == "prospecting"
    assert Customer(id="K", created_at=AT, state="retention").highest_state == "retention"
    assert Case(**valid_kwargs(Case)).state == "new"
    assert {Lead.kind, Opportunity.kind, Customer.kind, Case.kind} == {
        "lead",
        "opportunity",
        "customer",
        "case",
    }


@pytest.mark.parametrize("cls", list(ALL_STRATEGIES), ids=lambda c: c.__name__)
@given(data=st.data())
def test_evolve_with_own_values_is_identity(cls: type[Any], data: st.DataObject) -> None:
    entity = data.draw(ALL_STRATEGIES[cls])
    assert attrs.evolve(entity) == entity
    changes = {f.name: getattr(entity, f.name) for f in attrs.fields(cls)}
    assert attrs.evolve(entity, **changes) == entity
    assert hash(entity) == hash(attrs.evolve(entity))


@pytest.mark.parametrize("cls", list(ALL_STRATEGIES), ids=lambda c: c.__name__)
@given(data=st.data())
def test_evolve_takes_fields_from_another_valid_entity(cls: type[Any], data: st.DataObject) -> None:
    first = data.draw(ALL_STRATEGIES[cls])
    second = data.draw(ALL_STRATEGIES[cls])
    # replacing every field with another valid entity's values gives that entity
    changes = {f.name: getattr(second, f.name) for f in attrs.fields(cls)}
    assert attrs.evolve(first, **changes) == second


@given(strategies.leads(), st.sampled_from(["", "bad email", "a@b"]))
def test_evolve_revalidates(lead: Lead, bad: str) -> None:
    with pytest.raises(ValidationError):
        attrs.evolve(lead, email=bad)


@pytest.mark.parametrize(
    ("cls", "lifecycle"),
    [
        (Lead, LEAD_STATUS),
        (Opportunity, OPPORTUNITY_PIPELINE),
        (Customer, CUSTOMER_LIFECYCLE),
        (Case, CASE_STATUS),
    ],
)
def test_a_new_record_starts_in_its_lifecycle_initial_state(cls: Any, lifecycle: Lifecycle) -> None:
    # the entity's default state restates the standard lifecycle's initial state: keep them equal
    default = attrs.fields_dict(cls)["state"].default
    assert default == lifecycle.initial
    assert cls.kind == lifecycle.kind
