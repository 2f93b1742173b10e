"""
Segments (``by=``) of the cohort and funnel KPIs vs a loop over the segments.

The baseline is what an analyst writes without ``by=``: filter the frame to
each segment, call the unsegmented KPI, and concatenate. Targets: ``by=`` no
slower than that loop, and within 2x of one unsegmented call (with the same population,
``entities=``, for the event-log KPIs). ``--log-only`` skips the cohort part.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
from _bench import median_seconds, report

from crmlifecycle.metrics import cohort_retention, funnel, stage_velocity

N_ORDERS = 3_000_000
N_CUSTOMERS = 300_000
CHANNELS = np.array(
    ["paid_search", "social", "display", "webinar", "referral", "organic", "events"]
)
N_DEALS = 300_000
OWNERS = np.array([f"rep{i:02d}" for i in range(20)])
STAGES = np.array(["prospecting", "qualification", "proposal", "negotiation", "won"])


def build_orders() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    customer = rng.integers(0, N_CUSTOMERS, N_ORDERS)
    start = np.datetime64("2021-01-01T00:00:00", "s").astype(np.int64)
    seconds = start + rng.integers(0, 5 * 365 * 86_400, N_ORDERS)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer).map("C{:07d}".format),
            "channel": CHANNELS[customer % len(CHANNELS)],
            "at": pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]"),
        }
    )


def build_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    furthest = rng.integers(0, 5, N_DEALS)
    lost = (furthest < len(STAGES) - 1) & (rng.random(N_DEALS) < 0.5)
    steps = furthest + lost
    deal = np.repeat(np.arange(N_DEALS), steps)
    offsets = np.concatenate([[0], np.cumsum(steps)[:-1]])
    step = np.arange(len(deal)) - np.repeat(offsets, steps)
    last = step == np.repeat(steps, steps) - 1
    dest = STAGES[np.minimum(step + 1, len(STAGES) - 1)].astype(object)
    dest[last & np.repeat(lost, steps)] = "lost"
    created = np.datetime64("2024-01-01", "D") + rng.integers(0, 700, N_DEALS)
    days = np.repeat(created, steps) + (step + 1) * 9 + rng.integers(0, 5, len(deal))
    ids = pd.Series(np.arange(N_DEALS)).map("O{:07d}".format)
    events = pd.DataFrame(
        {
            "kind": "opportunity",
            "entity_id": ids.to_numpy()[deal],
            "source": STAGES[step].astype(object),
            "dest": dest,
            "at": pd.to_datetime(days).tz_localize("UTC").astype("datetime64[ns, UTC]"),
        }
    )
    deals = pd.DataFrame({"opportunity_id": ids, "owner": OWNERS[rng.integers(0, 20, N_DEALS)]})
    return events, deals


def agree(ours: int, loop: int) -> None:
    """Stop when the two computations disagree: a fast wrong answer is no result."""
    print(f"  totals agree: {ours == loop} ({ours:,})")
    if ours != loop:
        raise SystemExit(1)


def compare(name: str, ours: Callable[[], object], loop: Callable[[], object]) -> None:
    ours_s = median_seconds(ours, repeat=3)
    loop_s = median_seconds(loop, repeat=3)
    report(name, ours_s, loop_s, baseline_name="loop over segments", target="<= 1x")


def main() -> None:
    if "--log-only" not in sys.argv:
        cohort()
    log()


def cohort() -> None:
    orders = build_orders()
    print(f"orders: {len(orders):,} rows, {orders['customer_id'].nunique():,} customers")
    whole_s = median_seconds(lambda: cohort_retention(orders, rates=False), repeat=3)

    def cohort_by() -> pd.DataFrame:
        return cohort_retention(orders, by="channel", rates=False)

    def cohort_loop() -> pd.DataFrame:
        parts = {
            channel: cohort_retention(block, rates=False)
            for channel, block in orders.groupby("channel", sort=True)
        }
        return pd.concat(parts, names=["channel"])

    agree(int(cohort_by().sum().sum()), int(cohort_loop().sum().sum()))
    compare("cohort_retention by 7 channels, 3M orders", cohort_by, cohort_loop)
    by_s = median_seconds(cohort_by, repeat=3)
    print(f"  by= vs one unsegmented call: {by_s / whole_s:.2f}x (target <= 2x)")


def log() -> None:
    events, deals = build_log()
    print(f"event log: {len(events):,} transitions of {N_DEALS:,} deals")
    owner_of = deals.set_index("opportunity_id")["owner"]
    owners = events["entity_id"].map(owner_of)
    # the same answer without by=: each owner's deals (the population, with the deals
    # that have no event yet) and their events
    blocks = {
        o: (events.loc[(owners == o).to_numpy()], deals.loc[(deals["owner"] == o).to_numpy()])
        for o in OWNERS
    }

    def funnel_by() -> pd.DataFrame:
        return funnel(events, by="owner", entities=deals)

    def funnel_loop() -> pd.DataFrame:
        return pd.concat(  # type: ignore[no-any-return]
            {o: funnel(log, entities=block) for o, (log, block) in blocks.items()},
            names=["owner"],
        )

    agree(int(funnel_by()["reached"].sum()), int(funnel_loop()["reached"].sum()))
    compare("funnel by 20 owners, 300k deals", funnel_by, funnel_loop)
    whole_funnel = median_seconds(lambda: funnel(events, entities=deals), repeat=3)
    print(
        f"  by= vs one unsegmented call: {median_seconds(funnel_by, repeat=3) / whole_funnel:.2f}x"
    )

    def velocity_by() -> pd.DataFrame:
        return stage_velocity(events, by="owner", entities=deals)

    def velocity_loop() -> pd.DataFrame:
        return pd.concat(  # type: ignore[no-any-return]
            {o: stage_velocity(log, entities=block) for o, (log, block) in blocks.items()},
            names=["owner"],
        )

    agree(int(velocity_by()["exits"].sum()), int(velocity_loop()["exits"].sum()))
    compare("stage_velocity by 20 owners, 300k deals", velocity_by, velocity_loop)
    whole_velocity = median_seconds(lambda: stage_velocity(events, entities=deals), repeat=3)
    print(
        "  by= vs one unsegmented call: "
        f"{median_seconds(velocity_by, repeat=3) / whole_velocity:.2f}x"
    )


if __name__ == "__main__":
    main()
