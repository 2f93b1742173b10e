"""
The single-record step: one validated path from the request to the entity and its event.

``fire`` builds the new entity through its class (every validator and post-init
check runs) and the event through its constructor. These tests hold every step
of the standard lifecycles to the constructors, check that validators and
post-init rules of custom classes run, and that the per-class caches give the
same answers from many threads.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle._event_data import encode as _encode
from crmlifecycle.errors import GuardRejected, InvalidTransition, ValidationError
from crmlifecycle.events import Created, FieldsChanged, Transitioned
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    TransitionDef,
)
from crmlifecycle.stages._step import Evolve, StepRequest
from crmlifecycle.testing import cases, customers, leads, opportunities

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rebuilt(entity: Any) -> Any:
    """The same entity through its class's validating constructor."""
    return type(entity)(**attrs.asdict(entity, recurse=False))


def _check_step(lifecycle: Lifecycle, entity: Any, trigger: str, hours: int) -> None:
    at = entity.state_since + timedelta(hours=hours)
    context = {"lost_reason": "price", "opportunity_id": "O-9"}
    step = lifecycle.fire(entity, trigger, at=at, **context)
    new, event = step.entity, step.event
    assert type(new) is type(entity)
    assert _rebuilt(new) == new
    assert hash(_rebuilt(new)) == hash(new)
    # only the lifecycle's fields changed
    changed = {
        f.name
        for f in attrs.fields(type(entity))
        if getattr(entity, f.name) != getattr(new, f.name)
    }
    bookkeeping = {"state", "state_since", "version", "updated_at"}
    assert changed <= bookkeeping | Evolve.of(type(entity)).effect_fields
    assert new.updated_at == at
    assert new.version == entity.version + 1 == event.sequence
    assert (new.state, new.state_since) == (event.dest, at)
    expected = Transitioned(
        kind=lifecycle.kind,
        entity_id=entity.id,
        trigger=trigger,
        source=entity.state,
        dest=event.dest,
        at=at,
        context=context,
        event_id=f"{lifecycle.kind}/{entity.id}/{entity.version + 1}",
        sequence=entity.version + 1,
        lifecycle=lifecycle.name,
        lifecycle_version=lifecycle.version,
    )
    assert event == expected
    assert event.to_dict() == expected.to_dict()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        new.state = "x"


STANDARD: list[tuple[Lifecycle, st.SearchStrategy[Any]]] = [
    (LEAD_STATUS, leads(states=st.sampled_from(LEAD_STATUS.states))),
    (OPPORTUNITY_PIPELINE, opportunities(states=st.sampled_from(OPPORTUNITY_PIPELINE.states))),
    (CUSTOMER_LIFECYCLE, customers(states=st.sampled_from(CUSTOMER_LIFECYCLE.states))),
    (CASE_STATUS, cases()),
]


@given(st.data(), st.sampled_from(range(len(STANDARD))), st.integers(0, 10_000))
def test_every_simple_step_builds_what_the_constructors_accept(
    data: st.DataObject, index: int, hours: int
) -> None:
    lifecycle, strategy = STANDARD[index]
    entity = data.draw(strategy)
    table = lifecycle._compiled.table
    simple = [
        t
        for t in lifecycle.triggers(entity)
        if len(table[(entity.state, t)]) == 1
        and table[(entity.state, t)][0].plain
        and not table[(entity.state, t)][0].internal
    ]
    if not simple:
        return
    _check_step(lifecycle, entity, data.draw(st.sampled_from(simple)), hours)


def test_the_class_facts_are_read_once_and_match_attrs() -> None:
    for cls in (Lead, Opportunity, Customer, Case):
        evolve = Evolve.of(cls)
        assert Evolve.of(cls) is evolve
        assert evolve.names == tuple(f.alias for f in attrs.fields(cls) if f.init)
    assert Evolve.of(Lead).effect_fields == {"opportunity_id"}
    assert Evolve.of(Customer).effect_fields == {"highest_state"}
    assert Evolve.of(Case).effect_fields == frozenset()
    assert Evolve.of(Opportunity).effect_fields == {
        "probability",
        "probability_manual",
        "lost_reason",
        "last_open_stage",
        "closed_at",
    }
    lead = Lead(id="L-1", created_at=T0, score=12.5)
    assert Evolve.of(Lead)(lead, {"state": "contacted"}) == attrs.evolve(lead, state="contacted")


def test_the_step_request_is_a_frozen_record() -> None:
    request = StepRequest("contact", T0, {})
    assert (request.trigger, request.at, request.context) == ("contact", T0, {})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.at = T0  # type: ignore[misc]


_CALLS: list[str] = []


def _counted(_inst: object, attr: attrs.Attribute[Any], _value: object) -> None:
    _CALLS.append(attr.name)


def _at_most_60(_inst: object, attr: attrs.Attribute[Any], value: int) -> None:
    if value > 60:
        raise ValidationError.for_field(attr.name, value, "at most 60")


@attrs.frozen(kw_only=True)
class CountedDeal:
    """A host's deal whose validators count their calls and cap the probability at 60."""

    id: str = attrs.field(validator=_counted)
    state: str = attrs.field(default="proposal", validator=_counted)
    state_since: datetime = attrs.field(default=T0, validator=_counted)
    probability: int = attrs.field(default=50, validator=[_counted, _at_most_60])


def test_every_validator_runs_on_the_new_entity() -> None:
    deal = CountedDeal(id="D-1")
    _CALLS.clear()
    step = OPPORTUNITY_PIPELINE.fire(deal, "lose", at=T0)
    assert sorted(_CALLS) == ["id", "probability", "state", "state_since"]
    assert (step.entity.state, step.entity.probability) == ("lost", 0)
    # negotiation's default probability (80) breaks the class's own rule: refused
    with pytest.raises(ValidationError, match="probability"):
        OPPORTUNITY_PIPELINE.fire(deal, "negotiate", at=T0)


DOORS = [
    TransitionDef(trigger="open_it", source="closed", dest="open"),
    TransitionDef(trigger="close_it", source="open", dest="closed"),
]
DOOR = Lifecycle("door", ["closed", "open"], DOORS)


@attrs.frozen(kw_only=True)
class CheckedDoor:
    """A custom entity whose post-init has its own rule: the shortcut must not skip it."""

    kind: ClassVar[str] = "door"
    id: str
    state: str = "closed"
    state_since: datetime = T0
    locked: bool = False

    def __attrs_post_init__(self) -> None:
        if self.locked and self.state == "open":
            raise ValidationError.for_field("locked", self.locked, "False when the door is open")


@attrs.frozen(kw_only=True, cache_hash=True)
class HashedDoor:
    id: str
    state: str = "closed"
    state_since: datetime = T0


@attrs.frozen(kw_only=True, slots=False)
class DictDoor:
    id: str
    state: str = "closed"
    state_since: datetime = T0


@attrs.frozen(kw_only=True)
class BareDoor:
    state: str = "closed"
    state_since: datetime = T0

    @property
    def id(self) -> str:
        return "D-bare"


@attrs.frozen(kw_only=True)
class NoInitDoor:
    id: str
    state: str = "closed"
    state_since: datetime = T0
    opened: int = attrs.field(init=False, default=0)


def test_custom_post_init_still_runs() -> None:
    with pytest.raises(ValidationError, match="locked"):
        DOOR.fire(CheckedDoor(id="D-1", locked=True), "open_it", at=T0)
    assert DOOR.fire(CheckedDoor(id="D-1"), "open_it", at=T0).entity.state == "open"


def test_cached_hash_classes_hash_their_new_fields() -> None:
    new = DOOR.fire(HashedDoor(id="D-1"), "open_it", at=T0).entity
    assert hash(new) == hash(HashedDoor(id="D-1", state="open"))


@pytest.mark.parametrize("cls", [DictDoor, BareDoor])
def test_dict_classes_and_tiny_classes(cls: Any) -> None:
    kwargs = {} if cls is BareDoor else {"id": "D-1"}
    later = T0 + timedelta(hours=2)
    step = DOOR.fire(cls(**kwargs), "open_it", at=later)
    assert step.entity == cls(**kwargs, state="open", state_since=later)
    assert step.event.entity_id == step.entity.id
    back = DOOR.fire(step.entity, "close_it", at=later).entity
    assert back == cls(**kwargs, state="closed", state_since=later)


def test_fields_outside_init_keep_their_default() -> None:
    assert DOOR.fire(NoInitDoor(id="D-1"), "open_it", at=T0).entity.state == "open"


def test_time_checks() -> None:
    # naive, before state_since, a str, another zone
    lead = Lead(id="L-1", created_at=T0, state_since=T0 + timedelta(days=2))
    with pytest.raises(ValidationError, match="timezone-aware"):
        LEAD_STATUS.fire(lead, "contact", at=datetime(2026, 3, 1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        LEAD_STATUS.fire(lead, "contact", at="2026-03-01")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="state_since"):
        LEAD_STATUS.fire(lead, "contact", at=T0 + timedelta(days=1))
    import zoneinfo

    paris = datetime(2026, 1, 3, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))  # = 2026-01-03 00:00Z
    assert LEAD_STATUS.fire(lead, "contact", at=paris).entity.state_since == paris


def test_an_invalid_entity_id_is_still_refused_by_the_event() -> None:
    # the entity classes refuse empty ids; a custom one that does not still gets the event's check
    with pytest.raises(ValidationError, match="entity_id"):
        DOOR.fire(DictDoor(id=" "), "open_it", at=T0)


# -- the event context (events.py) ------------------------------------------------------------

PLAIN = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
ANY_VALUE = st.one_of(
    PLAIN,
    st.floats(),
    st.lists(PLAIN, max_size=2),
    st.builds(object),
    st.builds(type("TextSubclass", (str,), {}), st.text(max_size=3)),
)
KEYS = st.one_of(st.text(max_size=4), st.sampled_from(["$x", "$decimal"]), st.integers())


@given(st.dictionaries(KEYS, ANY_VALUE, max_size=4))
def test_context_checks_agree_with_the_full_encoder(context: dict[Any, Any]) -> None:
    try:
        _encode(context, "context")
    except ValidationError:
        accepted = False
    else:
        accepted = True
    try:
        event = Created(kind="lead", entity_id="L-1", at=T0, context=context)
    except ValidationError:
        assert not accepted
    else:
        assert accepted
        assert event.context == context
        assert event.context is not context


def test_empty_contexts_share_one_read_only_mapping() -> None:
    extras: list[dict[str, dict[str, Any]]] = [{}, {"context": {}}, {"context": dict[str, Any]()}]
    events = [
        Transitioned(
            kind="lead",
            entity_id="L-1",
            trigger="contact",
            source="open",
            dest="contacted",
            at=T0,
            **extra,  # type: ignore[arg-type]  # only the context mapping is passed
        )
        for extra in extras
    ]
    assert all(e.context == {} for e in events)
    with pytest.raises(TypeError):
        events[0].context["x"] = 1  # type: ignore[index]
    changes = FieldsChanged(kind="lead", entity_id="L-1", at=T0, changes={})
    assert changes.changes == {}
    assert changes == FieldsChanged(kind="lead", entity_id="L-1", at=T0)


@attrs.frozen(kw_only=True)
class MiniDeal:
    """A host's deal with only some of the effect fields (no manual flag, no lost reason)."""

    id: str
    state: str = "proposal"
    state_since: datetime = T0
    probability: int = 50
    closed_at: datetime | None = None


def test_effects_are_resolved_per_entity_class() -> None:
    pipe = OPPORTUNITY_PIPELINE
    day = T0 + timedelta(days=1)
    mini = MiniDeal(id="M-1")
    deal = Opportunity(
        id="O-1",
        name="Acme",
        amount=Money(1, "EUR"),
        created_at=T0,
        state="proposal",
        probability=35,
        probability_manual=True,
    )
    for _ in range(2):  # the second round reads the cached effects
        # no manual flag on MiniDeal: the stage default 80 applies; the deal keeps its 35
        assert pipe.fire(mini, "negotiate", at=day).entity.probability == 80
        assert pipe.fire(deal, "negotiate", at=day).entity.probability == 35
        # no lost_reason field on MiniDeal: losing needs no reason there; it still closes
        lost = pipe.fire(mini, "lose", at=day).entity
        assert (lost.state, lost.probability, lost.closed_at) == ("lost", 0, day)
        with pytest.raises(ValidationError, match="lost_reason"):
            pipe.fire(deal, "lose", at=day)
        won = pipe.fire(deal, "win", at=day).entity
        assert (won.probability, won.probability_manual, won.closed_at) == (100, False, day)
    # reopening goes back to the last open stage, which MiniDeal does not remember
    with pytest.raises(GuardRejected, match="last_open_stage"):
        pipe.fire(lost, "reopen", at=day)


def test_customers_keep_their_high_water_mark_through_the_cached_effects() -> None:
    k = Customer(id="K-1", created_at=T0, state="loyalty", highest_state="loyalty")
    for _ in range(2):
        churned = CUSTOMER_LIFECYCLE.fire(k, "churn", at=T0).entity
        back = CUSTOMER_LIFECYCLE.fire(churned, "win_back", at=T0).entity
        assert (churned.highest_state, back.state, back.highest_state) == (
            "loyalty",
            "conversion",
            "loyalty",
        )
        fresh = Customer(id="K-2", created_at=T0, state="acquisition", highest_state="acquisition")
        assert CUSTOMER_LIFECYCLE.fire(fresh, "convert", at=T0).entity.highest_state == "conversion"


def _walk(pipe: Lifecycle, seed: int) -> list[tuple[str, int]]:
    deal = Opportunity(id=f"O-{seed}", name="Acme", amount=Money(1, "EUR"), created_at=T0)
    out = []
    triggers = pipe.trigger_names
    for i in range(60):
        trigger = triggers[(seed * 7 + i * 13) % len(triggers)]
        with contextlib.suppress(InvalidTransition, GuardRejected):
            at = T0 + timedelta(minutes=i)
            deal = pipe.fire(deal, trigger, at=at, lost_reason="price").entity
        out.append((deal.state, deal.probability))
    return out


def test_caches_filled_from_many_threads_at_once_give_serial_results() -> None:
    # fresh lifecycles: their step, effect and frame caches are empty when the threads start
    spec = OPPORTUNITY_PIPELINE.to_dict()
    serial = [_walk(Lifecycle.from_dict(spec), s) for s in range(16)]
    shared = Lifecycle.from_dict(spec)
    barrier = threading.Barrier(8)
    frame = pd.DataFrame({"opportunity_id": ["O-1", "O-2"], "state": ["proposal", "won"]})

    def run(seed: int) -> tuple[list[tuple[str, int]], list[str]]:
        if seed < 8:
            barrier.wait()
        states = shared.fire_frame(frame, "negotiate", at=T0).state.tolist()
        return _walk(shared, seed), states

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(16)))
    assert [walk for walk, _ in results] == serial
    assert all(states == ["negotiation", "won"] for _, states in results)
