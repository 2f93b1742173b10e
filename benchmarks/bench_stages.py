"""
Lifecycle steps: ``fire`` and ``fire_frame`` against their baselines, side by side.

1. ``fire`` (with its event) vs building a ``transitions.Machine`` per entity and
   firing (target: at least 20x faster).
2. ``fire`` vs a hand-written dict-table step that also evolves the frozen entity
   and builds the event (target: within 3x).
3. ``fire_frame`` on 1M rows vs looping ``fire`` (target: at least 100x faster).
4. ``fire_frame`` on 1M rows vs a hand-written numpy/pandas version producing the
   same new states and events frame (target: within 2x).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import numpy as np
import pandas as pd
from _bench import median_seconds, report
from transitions import Machine

from crmlifecycle import Lead
from crmlifecycle.errors import InvalidTransition
from crmlifecycle.events import Transitioned
from crmlifecycle.stages import LEAD_STATUS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = T0 + timedelta(days=1)
N_SINGLE = 20_000
N_FRAME = 1_000_000


def interleaved(*funcs: Callable[[], object], rounds: int = 5) -> list[float]:
    """Median seconds of each function, timed in alternating rounds (fair on a busy machine)."""
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(rounds):
        for i, func in enumerate(funcs):
            times[i].append(median_seconds(func, repeat=1, warmup=0))
    return [statistics.median(t) for t in times]


def leads(n: int) -> list[Lead]:
    return [Lead(id=f"L-{i}", created_at=T0) for i in range(n)]


def bench_fire() -> None:
    batch = leads(N_SINGLE)
    fire = LEAD_STATUS.fire

    def ours() -> None:
        for lead in batch:
            fire(lead, "contact", at=AT)

    table = {("open", "contact"): "contacted"}

    def hand_written() -> None:
        for lead in batch:
            dest = table[(lead.state, "contact")]
            attrs.evolve(lead, state=dest, state_since=AT)
            Transitioned(
                kind="lead",
                entity_id=lead.id,
                trigger="contact",
                source=lead.state,
                dest=dest,
                at=AT,
                context={},
            )

    spec = [
        {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
        for t in LEAD_STATUS.transitions
    ]

    class Model:
        def __init__(self) -> None:
            self.state = "open"

    small = batch[: N_SINGLE // 10]

    def machine_per_entity() -> None:
        for _lead in small:
            model = Model()
            Machine(
                model=model,
                states=list(LEAD_STATUS.states),
                transitions=spec,
                initial="open",
                auto_transitions=False,
            )
            model.trigger("contact")  # type: ignore[attr-defined]

    ours()
    hand_written()
    t_ours, t_hand, t_machine = interleaved(ours, hand_written, machine_per_entity, rounds=7)
    t_ours, t_hand, t_machine = t_ours / len(batch), t_hand / len(batch), t_machine / len(small)
    report(
        "fire vs Machine per entity (per step)",
        t_ours,
        t_machine,
        baseline_name="Machine per entity",
        target="<= 0.05x",
    )
    report(
        "fire vs dict table + evolve + event (per step)",
        t_ours,
        t_hand,
        baseline_name="hand-written",
        target="<= 3x",
    )
    print(
        f"  per step: fire {t_ours * 1e6:.2f} us, hand-written {t_hand * 1e6:.2f} us, "
        f"Machine per entity {t_machine * 1e6:.1f} us"
    )


def bench_fire_frame() -> None:
    rng = np.random.default_rng(0)
    states = np.array(LEAD_STATUS.states, dtype=object)
    frame = pd.DataFrame(
        {
            "id": [f"L-{i}" for i in range(N_FRAME)],
            "state": states[rng.integers(0, len(states), N_FRAME)],
        }
    )
    at = pd.Timestamp(AT)

    def ours() -> object:
        return LEAD_STATUS.fire_frame(frame, "contact", at=at)

    names = list(LEAD_STATUS.states)
    dest_of = np.full(len(names), -1)
    dest_of[names.index("open")] = names.index("contacted")
    dtype = pd.CategoricalDtype(names)

    def hand_written() -> object:
        codes = pd.Index(names).get_indexer(pd.Index(frame["state"]))
        dest = dest_of[codes]
        ok = dest >= 0
        new = pd.Series(
            pd.Categorical.from_codes(np.where(ok, dest, codes), dtype=dtype), index=frame.index
        )
        rows = np.flatnonzero(ok)
        events = pd.DataFrame(
            {
                "kind": "lead",
                "entity_id": frame["id"].to_numpy()[rows],
                "trigger": "contact",
                "source": pd.Categorical.from_codes(codes[rows], dtype=dtype),
                "dest": pd.Categorical.from_codes(dest[rows], dtype=dtype),
                "at": at,
            }
        )
        return new, ok, events

    sample = [
        Lead(id=f"L-{i}", created_at=T0, state=str(frame["state"].iloc[i])) for i in range(20_000)
    ]

    def loop_fire() -> None:
        for lead in sample:
            try:
                LEAD_STATUS.fire(lead, "contact", at=AT)
            except InvalidTransition:
                continue

    ours()
    hand_written()
    t_ours, t_hand, t_loop = interleaved(ours, hand_written, loop_fire, rounds=5)
    t_loop *= N_FRAME / len(sample)
    report(
        "fire_frame 1M rows vs looping fire (extrapolated from 20k)",
        t_ours,
        t_loop,
        baseline_name="loop of fire",
        target="<= 0.01x",
    )
    report(
        "fire_frame 1M rows vs hand-written numpy/pandas",
        t_ours,
        t_hand,
        baseline_name="hand-written",
        target="<= 2x",
    )


if __name__ == "__main__":
    bench_fire()
    bench_fire_frame()
