"""Invariants that hold for every sequence of steps (see the lifecycles guide), property-tested."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Customer, Money, Opportunity
from crmlifecycle.errors import GuardRejected, InvalidTransition, ValidationError
from crmlifecycle.stages import CUSTOMER_LIFECYCLE, OPPORTUNITY_PIPELINE

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PIPE = OPPORTUNITY_PIPELINE
ACTIONS = st.lists(
    st.one_of(
        st.sampled_from(PIPE.trigger_names),
        st.tuples(st.just("lose"), st.sampled_from(["price", "timing", ""])),
        st.tuples(st.just("set_probability"), st.integers(0, 100)),
        st.just("clear_manual"),
    ),
    max_size=30,
)


@given(ACTIONS)
def test_opportunity_invariants_hold_for_every_sequence(actions: list[object]) -> None:
    deal = Opportunity(id="O-1", name="Acme", amount=Money(1, "EUR"), created_at=T0)
    manual_value: int | None = None
    for i, action in enumerate(actions):
        at = T0 + timedelta(days=i)
        before = deal
        if action == "clear_manual":
            deal = attrs.evolve(deal, probability_manual=False)
            manual_value = None
            continue
        if isinstance(action, tuple) and action[0] == "set_probability":
            if deal.state in {"won", "lost"}:
                continue
            deal = attrs.evolve(deal, probability=action[1], probability_manual=True)
            manual_value = action[1]
            continue
        trigger, context = (
            (action[0], {"lost_reason": action[1]}) if isinstance(action, tuple) else (action, {})
        )
        try:
            deal = PIPE.fire(deal, str(trigger), at=at, **context).entity
        except (InvalidTransition, GuardRejected, ValidationError):
            assert deal == before  # a refused step changes nothing
            continue
        stage = PIPE.stage(deal.state)
        assert deal.state_since == at >= before.state_since
        if deal.state == "won":
            assert deal.probability == 100
            assert deal.closed_at is not None
            manual_value = None
        elif deal.state == "lost":
            assert deal.probability == 0
            assert deal.lost_reason
            assert deal.last_open_stage in {
                "prospecting",
                "qualification",
                "proposal",
                "negotiation",
            }
            assert deal.closed_at is not None
            manual_value = None
        else:
            assert deal.closed_at is None
            assert deal.lost_reason is None
            expected = manual_value if manual_value is not None else stage.probability
            assert deal.probability == expected
            assert deal.probability_manual == (manual_value is not None)
        if before.state == "lost" and trigger == "reopen":
            assert deal.state == before.last_open_stage


@given(st.lists(st.sampled_from(CUSTOMER_LIFECYCLE.trigger_names), max_size=30))
def test_customer_highest_state_is_a_high_water_mark(triggers: list[str]) -> None:
    k = Customer(id="K-1", created_at=T0)
    order = CUSTOMER_LIFECYCLE.states
    reached = {k.state}
    for i, trigger in enumerate(triggers):
        try:
            k = CUSTOMER_LIFECYCLE.fire(k, trigger, at=T0 + timedelta(days=i)).entity
        except InvalidTransition:
            continue
        if k.state != "churned":
            reached.add(k.state)
        assert k.highest_state == max(reached, key=order.index)


def _walk(seed: int) -> list[tuple[str, int]]:
    deal = Opportunity(id=f"O-{seed}", name="Acme", amount=Money(1, "EUR"), created_at=T0)
    out = []
    triggers = PIPE.trigger_names
    for i in range(200):
        trigger = triggers[(seed * 7 + i * 13) % len(triggers)]
        with contextlib.suppress(InvalidTransition, GuardRejected):
            at = T0 + timedelta(minutes=i)
            deal = PIPE.fire(deal, trigger, at=at, lost_reason="price").entity
        out.append((deal.state, deal.probability))
    return out


def test_one_shared_lifecycle_from_many_threads_matches_serial_use() -> None:
    seeds = list(range(64))
    serial = [_walk(s) for s in seeds]
    barrier = threading.Barrier(8)

    def run(seed: int) -> list[tuple[str, int]]:
        if seed < 8:
            barrier.wait()
        return _walk(seed)

    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(run, seeds))
    assert threaded == serial
