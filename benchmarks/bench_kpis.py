"""
Every KPI side by side with a hand-written pandas/numpy version of the same answer.

For each KPI the baseline is what a competent analyst writes for that one
question on that one frame: factorised codes, ``bincount``/``searchsorted``,
one ``groupby`` — no validation, no segments, no options. Before timing, the
two outputs are checked equal (a fast wrong answer is no result). Rounds are
interleaved (ours, baseline, ours, ...) and the medians compared, so machine
load hits both sides alike. Target: ours ≤ 1.5× the baseline.

Run ``.venv/bin/python benchmarks/bench_kpis.py [name ...] [--rows N]``; with
names, only those KPIs run (``funnel``, ``churn``...). ``--scaling`` prints
time per row at 10^5, 10^6 and 10^7 rows for the funnel, churn, cohort and
RFM paths, and peak memory against the input.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from _bench import median_seconds, peak_memory_mb

from crmlifecycle.metrics import (
    churn_rate,
    cohort_retention,
    conversion_rate,
    forecast,
    funnel,
    gross_revenue_retention,
    net_revenue_retention,
    new_customers,
    nps,
    sales_cycle_length,
    stage_velocity,
    time_in_stage,
    weighted_pipeline,
    win_rate,
)
from crmlifecycle.metrics.clv import calibration_holdout, rfm_summary
from crmlifecycle.stages import OPPORTUNITY_PIPELINE

FUNNEL = ["prospecting", "qualification", "proposal", "negotiation", "won"]
STATES = [*FUNNEL, "lost"]
PROBABILITY = {"prospecting": 10, "qualification": 20, "proposal": 50, "negotiation": 80}
CATEGORY = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "proposal": "best_case",
    "negotiation": "commit",
    "won": "closed",
    "lost": "omitted",
}
AS_OF = pd.Timestamp("2025-06-30", tz="UTC")
QUANTILES = {"p25_days": 0.25, "median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}
DAY_NS = 86_400 * 10**9


def months_index(ordinals: Any, freq: str = "M") -> pd.PeriodIndex:
    """Monthly periods from their ordinals (months since 1970-01)."""
    index: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        np.asarray(ordinals, dtype=np.int64), freq=freq
    )
    return index


# -- data ------------------------------------------------------------------------------------------
def deal_log(n_deals: int, seed: int = 7) -> pd.DataFrame:
    """An opportunity event log: each deal walks the funnel, some are lost on the way."""
    rng = np.random.default_rng(seed)
    stages = np.array(FUNNEL, dtype=object)
    furthest = rng.integers(0, len(FUNNEL), n_deals)
    lost = (furthest < len(FUNNEL) - 1) & (rng.random(n_deals) < 0.5)
    steps = furthest + lost
    deal = np.repeat(np.arange(n_deals), steps)
    offsets = np.concatenate([[0], np.cumsum(steps)[:-1]])
    step = np.arange(len(deal)) - np.repeat(offsets, steps)
    last = step == np.repeat(steps, steps) - 1
    dest = stages[np.minimum(step + 1, len(FUNNEL) - 1)].copy()
    dest[last & np.repeat(lost, steps)] = "lost"
    created = np.datetime64("2024-01-01", "D") + rng.integers(0, 700, n_deals)
    days = np.repeat(created, steps) + (step + 1) * 9 + rng.integers(0, 5, len(deal))
    ids = pd.Series(np.arange(n_deals)).map("O{:07d}".format).to_numpy()
    return pd.DataFrame(
        {
            "kind": "opportunity",
            "entity_id": pd.array(ids[deal], dtype="str"),
            "source": pd.array(stages[step], dtype="str"),
            "dest": pd.array(dest, dtype="str"),
            "at": pd.to_datetime(days).tz_localize("UTC").astype("datetime64[ns, UTC]"),
        }
    )


def pipeline(n_deals: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deal log and its deals (created 1-8 days before the first event, with an amount)."""
    log = deal_log(n_deals, seed)
    rng = np.random.default_rng(seed + 1)
    ids = pd.Series(np.arange(n_deals)).map("O{:07d}".format)
    first = log.groupby("entity_id", sort=False)["at"].min()
    last = log.groupby("entity_id", sort=False)["dest"].last()
    start = first.reindex(ids).fillna(pd.Timestamp("2024-01-01", tz="UTC"))
    created = start - pd.to_timedelta(rng.integers(1, 9, n_deals), unit="D").to_numpy()
    deals = pd.DataFrame(
        {
            "opportunity_id": ids.astype("str"),
            "state": pd.array(last.reindex(ids).fillna("prospecting").to_numpy(), dtype="str"),
            "created_at": created.to_numpy(),
            "amount": rng.integers(1, 500, n_deals) * 100.0,
        }
    )
    return deals, log


def customer_table(n_customers: int, seed: int = 11) -> pd.DataFrame:
    """Customers acquired over four years; about 40% churn some days after acquisition."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00", "s").astype(np.int64)
    acquired = start + rng.integers(0, 4 * 365 * 86_400, n_customers)
    churns = rng.random(n_customers) < 0.4
    churned = np.where(churns, acquired + rng.integers(3_600, 900 * 86_400, n_customers), 0)
    ids = pd.Series(np.arange(n_customers)).map("C{:07d}".format)
    return pd.DataFrame(
        {
            "customer_id": ids.astype("str"),
            "acquired_at": pd.to_datetime(acquired, unit="s", utc=True),
            "churned_at": pd.to_datetime(np.where(churns, churned, np.nan), unit="s", utc=True),
        }
    ).astype({"acquired_at": "datetime64[ns, UTC]", "churned_at": "datetime64[ns, UTC]"})


# -- hand-written baselines ------------------------------------------------------------------------
def funnel_by_hand(events: pd.DataFrame) -> pd.DataFrame:
    """Highest funnel stage per deal over sources and destinations; reversed cumulative counts."""
    position = {state: i for i, state in enumerate(FUNNEL)}
    codes, _ = pd.factorize(events["entity_id"])
    source = events["source"].map(position).fillna(-1).to_numpy("int64")
    dest = events["dest"].map(position).fillna(-1).to_numpy("int64")
    highest = pd.Series(np.maximum(source, dest)).groupby(codes).max().to_numpy()
    counts = np.bincount(highest[highest >= 0], minlength=len(FUNNEL))
    reached = counts[::-1].cumsum()[::-1]
    previous = np.concatenate([reached[:1], reached[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "state": np.array(FUNNEL, dtype=object),
                "reached": reached.astype("int64"),
                "conversion_from_previous": np.where(previous > 0, reached / previous, np.nan),
                "conversion_from_first": np.where(reached[0] > 0, reached / reached[0], np.nan),
            }
        )


def conversion_by_hand(events: pd.DataFrame) -> float:
    """Share of deals that reached qualification which also reached won."""
    reached = funnel_by_hand(events).set_index("state")["reached"]
    return float(reached["won"] / reached["qualification"])


def by_entity_and_time(events: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The log sorted by entity code then time (lexsort on integers), and the sorted codes."""
    codes, _ = pd.factorize(events["entity_id"])
    order = np.lexsort((events["at"].to_numpy(dtype="datetime64[ns]").view("int64"), codes))
    return events.take(order).reset_index(drop=True), codes[order]


def spells_by_hand(events: pd.DataFrame) -> pd.DataFrame:
    """One row per spell: each event opens one in its dest; each first event closes its source."""
    log, ids = by_entity_and_time(events)
    last = np.append(ids[1:] != ids[:-1], True)
    first = np.insert(last[:-1], 0, True)
    at = log["at"]
    dest = pd.DataFrame(
        {
            "state": log["dest"].to_numpy(),
            "left_at": at.shift(-1).where(~last),
            "next_state": log["dest"].shift(-1).where(~last).to_numpy(),
            "days": (at.shift(-1) - at).dt.total_seconds().where(~last) / 86_400,
        }
    )
    head = pd.DataFrame(
        {
            "state": log["source"].to_numpy()[first],
            "left_at": at[first].to_numpy(),
            "next_state": log["dest"].to_numpy()[first],
            "days": np.nan,
        }
    )
    return pd.concat([head, dest], ignore_index=True)


def time_in_stage_by_hand(events: pd.DataFrame) -> pd.DataFrame:
    spells = spells_by_hand(events)
    done = spells.loc[spells["days"].notna()].groupby("state")["days"]
    table = pd.DataFrame({"spells": done.size()}).reindex(STATES)
    table["spells"] = table["spells"].fillna(0).astype("int64")
    table["mean_days"] = done.mean()
    for column, q in QUANTILES.items():
        table[column] = done.quantile(q)
    table["max_days"] = done.max()
    table["open_spells"] = spells.loc[spells["left_at"].isna()].groupby("state").size()
    table["open_spells"] = table["open_spells"].fillna(0).astype("int64")
    return table.rename_axis("state").reset_index()


def velocity_by_hand(events: pd.DataFrame) -> pd.DataFrame:
    spells = spells_by_hand(events)
    position = {state: i for i, state in enumerate(FUNNEL)}
    here = spells["state"].map(position)
    onward = spells["next_state"].map(position)
    ended = spells.loc[here.notna() & spells["left_at"].notna()]
    advanced = (onward[ended.index] > here[ended.index]).astype("int64")
    frame = pd.DataFrame(
        {
            "state": ended["state"],
            "exits": 1,
            "advanced": advanced,
            "days": ended["days"].where(advanced == 1),
        }
    )
    grouped = frame.groupby("state")
    table = pd.DataFrame(
        {
            "exits": grouped["exits"].sum(),
            "advanced": grouped["advanced"].sum(),
            "mean_days_to_advance": grouped["days"].mean(),
            "median_days_to_advance": grouped["days"].median(),
        }
    ).reindex(FUNNEL[:-1])
    table[["exits", "advanced"]] = table[["exits", "advanced"]].fillna(0).astype("int64")
    table.insert(2, "advance_rate", table["advanced"] / table["exits"])
    return table.rename_axis("state").reset_index()


def stages_by_hand(deals: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Each deal created by AS_OF with its stage then and since when."""
    seen = events.loc[events["at"] <= AS_OF].sort_values(["entity_id", "at"], kind="stable")
    last = seen.groupby("entity_id", sort=False).tail(1).set_index("entity_id")
    first_source = (
        events.sort_values(["entity_id", "at"], kind="stable")
        .groupby("entity_id", sort=False)["source"]
        .first()
    )
    live = deals.loc[deals["created_at"] <= AS_OF]
    ids = live["opportunity_id"]
    stage = last["dest"].reindex(ids).to_numpy()
    initial = first_source.reindex(ids).fillna(live["state"].set_axis(ids)).to_numpy()
    moved = pd.notna(stage)
    since = last["at"].reindex(ids).to_numpy()
    return live.assign(
        state_as_of=np.where(moved, stage, initial),
        state_since_as_of=np.where(moved, since, live["created_at"].to_numpy()),
    )


def win_rate_by_hand(data: tuple[pd.DataFrame, pd.DataFrame]) -> float:
    state = stages_by_hand(*data)["state_as_of"]
    won, lost = int((state == "won").sum()), int((state == "lost").sum())
    return won / (won + lost)


def cycle_by_hand(data: tuple[pd.DataFrame, pd.DataFrame]) -> float:
    deals = stages_by_hand(*data)
    won = deals.loc[deals["state_as_of"] == "won"]
    days = (won["state_since_as_of"] - won["created_at"]).dt.total_seconds() / 86_400
    return float(days.mean())


def weighted_by_hand(data: tuple[pd.DataFrame, pd.DataFrame]) -> float:
    deals = stages_by_hand(*data)
    weight = deals["state_as_of"].map(PROBABILITY).astype("float64") / 100.0
    return float((deals["amount"] * weight).sum())


def forecast_by_hand(data: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    deals = stages_by_hand(*data)
    probability = {**PROBABILITY, "won": 100, "lost": 0}
    weight = deals["state_as_of"].map(probability).astype("float64") / 100.0
    frame = pd.DataFrame(
        {
            "category": deals["state_as_of"].map(CATEGORY).to_numpy(),
            "deals": 1,
            "amount": deals["amount"].to_numpy(),
            "weighted_amount": (deals["amount"] * weight).to_numpy(),
        }
    )
    return frame.groupby("category", sort=True, as_index=False)[
        ["deals", "amount", "weighted_amount"]
    ].sum()


def new_customers_by_hand(customers: pd.DataFrame) -> pd.DataFrame:
    stamps = customers["acquired_at"]
    months = ((stamps.dt.year - 1970) * 12 + stamps.dt.month - 1).to_numpy()
    low = int(months.min())
    counts = np.bincount(months - low)
    present = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "period": months_index(present + low),
            "new_customers": counts[present].astype("int64"),
        }
    )


def nps_by_hand(feedback: pd.DataFrame) -> pd.DataFrame:
    stamps = feedback["at"]
    months = ((stamps.dt.year - 1970) * 12 + stamps.dt.month - 1).to_numpy()
    score = feedback["score"].to_numpy()
    frame = pd.DataFrame(
        {
            "_month": months,
            "channel": feedback["channel"].to_numpy(),
            "promoters": (score >= 9).astype("int64"),
            "passives": ((score >= 7) & (score <= 8)).astype("int64"),
            "detractors": (score <= 6).astype("int64"),
            "responses": 1,
        }
    )
    table = frame.groupby(["_month", "channel"], sort=True, as_index=False).sum()
    table.insert(0, "period", months_index(table.pop("_month")))
    table.insert(2, "nps", 100.0 * (table["promoters"] - table["detractors"]) / table["responses"])
    return table


def churn_by_hand(customers: pd.DataFrame) -> pd.DataFrame:
    """Monthly churn: month ordinals by arithmetic, counts by bincount, starts by cumsum."""

    def months(stamps: pd.Series) -> np.ndarray:
        dates = stamps.dt.tz_convert("UTC")
        months: np.ndarray = ((dates.dt.year - 1970) * 12 + dates.dt.month - 1).to_numpy()
        return months

    acquired = months(customers["acquired_at"]).astype("int64")
    has_churn = customers["churned_at"].notna().to_numpy()
    churned = months(customers["churned_at"])[has_churn].astype("int64")
    low = int(acquired.min())
    high = int(max(acquired.max(), churned.max() if len(churned) else low))
    size = high - low + 1
    new = np.bincount(acquired - low, minlength=size)
    lost_all = np.bincount(churned - low, minlength=size)
    lost = np.bincount(churned[churned > acquired[has_churn]] - low, minlength=size)
    net = new - lost_all
    start = np.cumsum(net) - net
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(start > 0, lost / start, np.nan)
    return pd.DataFrame(
        {
            "period": months_index(np.arange(low, high + 1)),
            "customers_start": start.astype("int64"),
            "new_customers": new.astype("int64"),
            "churned": lost.astype("int64"),
            "churned_new": (lost_all - lost).astype("int64"),
            "customers_end": (start + net).astype("int64"),
            "churn_rate": rate,
            "retention_rate": 1.0 - rate,
        }
    )


def revenue_table(n_rows: int, seed: int = 17) -> pd.DataFrame:
    """Monthly MRR rows: each customer pays from a start month for a span, moving now and then."""
    rng = np.random.default_rng(seed)
    n_customers = max(n_rows // 12, 1)
    span = rng.integers(1, 24, n_customers)
    first = rng.integers(0, 24, n_customers)
    customer = np.repeat(np.arange(n_customers), span)
    step = np.arange(len(customer)) - np.repeat(np.cumsum(span) - span, span)
    base = np.repeat(rng.integers(2, 40, n_customers) * 25.0, span)
    moves = np.where(rng.random(len(customer)) < 0.1, rng.choice([0.5, 1.5, 2.0], len(customer)), 1)
    month = np.repeat(first, span) + step + (2024 - 1970) * 12
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer).map("C{:07d}".format).astype("str"),
            "period": months_index(month).to_timestamp().tz_localize("UTC"),
            "mrr": base * moves,
        }
    )


def retention_by_hand(revenue: pd.DataFrame, *, net: bool) -> pd.DataFrame:
    """Dense customer x month matrix; each month against the previous one."""
    codes, ids = pd.factorize(revenue["customer_id"])
    stamps = revenue["period"]
    month = ((stamps.dt.year - 1970) * 12 + stamps.dt.month - 1).to_numpy()
    low = int(month.min())
    dense = np.zeros((len(ids), int(month.max()) - low + 1))
    dense[codes, month - low] = revenue["mrr"].to_numpy()
    before = np.hstack([np.zeros((len(ids), 1)), dense[:, :-1]])
    starting = before.sum(axis=0)
    kept = np.where(before > 0, dense, 0.0) if net else np.minimum(before, dense)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(starting > 0, kept.sum(axis=0) / starting, np.nan)
    name, numerator = ("nrr", "cohort_mrr") if net else ("grr", "retained_mrr")
    return pd.DataFrame(
        {
            "period": months_index(np.arange(low, low + dense.shape[1])),
            "starting_mrr": starting,
            numerator: rate * starting if net else kept.sum(axis=0),
            name: rate,
        }
    )


TRIGGER = {"qualification": "qualify", "proposal": "propose", "negotiation": "negotiate"}
TRIGGER |= {"won": "win", "lost": "lose"}


def trigger_log(n_rows: int) -> pd.DataFrame:
    """The deal log with the trigger of each step (replay_frame checks every step)."""
    log = deal_log(n_rows // 2)
    return log.assign(trigger=log["dest"].map(TRIGGER).astype("str"))


def replay_by_hand(events: pd.DataFrame) -> pd.DataFrame:
    """Each deal's last step at or before AS_OF: its dest, when, and how many steps."""
    seen = events.loc[(events["at"] <= AS_OF).to_numpy()]
    log, codes = by_entity_and_time(seen)
    last = np.append(codes[1:] != codes[:-1], True)
    counts = np.bincount(codes)[codes[last]]
    table = pd.DataFrame(
        {
            "state": pd.Categorical(log["dest"].to_numpy()[last], categories=STATES),
            "state_since": log["at"].to_numpy()[last],
            "events": counts.astype("int64"),
        },
        index=pd.Index(log["entity_id"].to_numpy()[last], name="entity_id"),
    )
    return table.sort_index()


def order_log(n_orders: int, seed: int = 19) -> pd.DataFrame:
    """Orders of n/5 customers over three years (string ids, UTC instants)."""
    rng = np.random.default_rng(seed)
    n_customers = max(n_orders // 5, 1)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
    ids = pd.Series(np.arange(n_customers)).map("C{:07d}".format).to_numpy()
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids[rng.integers(0, n_customers, n_orders)], dtype="str"),
            "at": pd.to_datetime(start + rng.integers(0, 3 * 365 * 86_400, n_orders), unit="s")
            .tz_localize("UTC")
            .astype("datetime64[ns, UTC]"),
        }
    )


HOLDOUT = (pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-12-31", tz="UTC"))


def holdout_by_hand(orders: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer, day) occasions: the summary to the cut-off, holdout counts after."""
    cut, stop = (int(t.value // DAY_NS) for t in HOLDOUT)
    codes, ids = pd.factorize(orders["customer_id"])
    day = orders["at"].to_numpy(dtype="datetime64[ns]").view("int64") // DAY_NS
    pairs = np.unique(codes.astype(np.int64) * 100_000 + (day - day.min()))
    customer, day = pairs // 100_000, pairs % 100_000 + day.min()
    before = day <= cut
    first = pd.Series(day[before]).groupby(customer[before]).agg(["min", "max", "size"])
    after = (day > cut) & (day <= stop)
    later = np.bincount(customer[after], minlength=len(ids))[first.index]
    table = pd.DataFrame(
        {
            "frequency": (first["size"] - 1).to_numpy(),
            "recency": (first["max"] - first["min"]).to_numpy().astype(float),
            "T": (cut - first["min"]).to_numpy().astype(float),
            "frequency_holdout": later.astype("int64"),
            "duration_holdout": float(stop - cut),
        },
        index=pd.Index(np.asarray(ids)[first.index], name="customer_id"),
    )
    return table.sort_index()


def feedback_table(n_answers: int, seed: int = 13) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    seconds = start + rng.integers(0, 2 * 365 * 86_400, n_answers)
    channels = np.array(["email", "in_app", "phone", "web"], dtype=object)
    return pd.DataFrame(
        {
            "kind": "nps",
            "score": rng.integers(0, 11, n_answers),
            "channel": pd.array(channels[rng.integers(0, 4, n_answers)], dtype="str"),
            "at": pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]"),
        }
    )


def unique_ids(data: Any) -> bool:
    """The check a careful hand-written version adds on a customer table: ids are unique."""
    return bool(data["customer_id"].is_unique)


def unique_rows(revenue: pd.DataFrame) -> bool:
    """The check on a revenue table: one row per customer and period."""
    return not bool(revenue.duplicated(["customer_id", "period"]).any())


# -- harness ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One KPI: how to build its input, our call and the hand-written one."""

    name: str
    build: Callable[[int], Any]
    ours: Callable[[Any], Any]
    by_hand: Callable[[Any], Any]
    rows: int
    check: Callable[[Any], bool] | None = None


CASES = [
    Case(
        "funnel",
        lambda n: deal_log(n // 2),
        lambda log: funnel(log, lifecycle=OPPORTUNITY_PIPELINE),
        funnel_by_hand,
        1_000_000,
    ),
    Case(
        "conversion_rate",
        lambda n: deal_log(n // 2),
        lambda log: conversion_rate(log, from_stage="qualification", to_stage="won"),
        conversion_by_hand,
        1_000_000,
    ),
    Case(
        "time_in_stage", lambda n: deal_log(n // 2), time_in_stage, time_in_stage_by_hand, 1_000_000
    ),
    Case("stage_velocity", lambda n: deal_log(n // 2), stage_velocity, velocity_by_hand, 1_000_000),
    Case(
        "win_rate",
        lambda n: pipeline(n // 2),
        lambda data: win_rate(*data, as_of=AS_OF),
        win_rate_by_hand,
        1_000_000,
    ),
    Case(
        "sales_cycle_length",
        lambda n: pipeline(n // 2),
        lambda data: sales_cycle_length(*data, as_of=AS_OF),
        cycle_by_hand,
        1_000_000,
    ),
    Case(
        "weighted_pipeline",
        lambda n: pipeline(n // 2),
        lambda data: weighted_pipeline(*data, as_of=AS_OF),
        weighted_by_hand,
        1_000_000,
    ),
    Case(
        "forecast",
        lambda n: pipeline(n // 2),
        lambda data: forecast(*data, as_of=AS_OF),
        forecast_by_hand,
        1_000_000,
    ),
    Case(
        "new_customers",
        customer_table,
        lambda customers: new_customers(customers, freq="M"),
        new_customers_by_hand,
        1_000_000,
        unique_ids,
    ),
    Case(
        "nps",
        feedback_table,
        lambda feedback: nps(feedback, freq="M", by="channel"),
        nps_by_hand,
        1_000_000,
    ),
    Case(
        "gross_revenue_retention",
        revenue_table,
        lambda revenue: gross_revenue_retention(revenue, freq="M"),
        lambda revenue: retention_by_hand(revenue, net=False),
        1_000_000,
        unique_rows,
    ),
    Case(
        "net_revenue_retention",
        revenue_table,
        lambda revenue: net_revenue_retention(revenue, freq="M"),
        lambda revenue: retention_by_hand(revenue, net=True),
        1_000_000,
        unique_rows,
    ),
    Case(
        "replay_frame",
        trigger_log,
        lambda log: OPPORTUNITY_PIPELINE.replay_frame(log, as_of=AS_OF).sort_index(),
        replay_by_hand,
        10_000_000,
    ),
    Case(
        "calibration_holdout",
        order_log,
        lambda orders: calibration_holdout(orders, as_of=HOLDOUT[0], end=HOLDOUT[1]).sort_index(),
        holdout_by_hand,
        10_000_000,
    ),
    Case(
        "churn",
        customer_table,
        lambda customers: churn_rate(customers, freq="M"),
        churn_by_hand,
        1_000_000,
        unique_ids,
    ),
]


def agree(name: str, ours: Any, hand: Any) -> None:
    """Stop when the two answers differ: a fast wrong answer is no result."""
    if isinstance(ours, pd.DataFrame):
        if not isinstance(ours.index, pd.RangeIndex):  # a table keyed by id: compare the keys
            pd.testing.assert_index_equal(ours.index, hand.index, exact=False)
        pd.testing.assert_frame_equal(
            ours.reset_index(drop=True),
            hand.reset_index(drop=True),
            check_dtype=False,
            check_categorical=False,
        )
        print(f"  {name}: answers agree ({len(ours):,} rows)", flush=True)
        return
    if not np.isclose(ours, hand, rtol=1e-12, atol=0.0):
        raise SystemExit(f"{name}: ours {ours!r} != by hand {hand!r}")
    print(f"  {name}: answers agree ({ours!r})", flush=True)


def interleaved(
    ours: Callable[[], object], hand: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``hand`` over interleaved rounds (after a warm-up each)."""
    ours()
    hand()
    ours_s, hand_s = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ours()
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        hand()
        hand_s.append(time.perf_counter() - start)
    return statistics.median(ours_s), statistics.median(hand_s)


def run(case: Case, rows: int, rounds: int) -> None:
    data = case.build(rows)
    size = sum(len(part) for part in data) if isinstance(data, tuple) else len(data)
    agree(case.name, case.ours(data), case.by_hand(data))
    ours_s, hand_s = interleaved(lambda: case.ours(data), lambda: case.by_hand(data), rounds)
    print(
        f"{case.name} ({size:,} input rows): ours {ours_s * 1e3:.1f} ms, "
        f"by hand {hand_s * 1e3:.1f} ms, ratio {ours_s / hand_s:.2f}x (target <= 1.5x)",
        flush=True,
    )
    if case.check is not None:
        check = case.check
        check_s = statistics.median(interleaved(lambda: check(data), lambda: check(data), rounds))
        print(
            f"  with the input check ours makes ({check_s * 1e3:.1f} ms) added to the "
            f"hand-written version: ratio {ours_s / (hand_s + check_s):.2f}x",
            flush=True,
        )


Runner = Callable[[pd.DataFrame], object]
SCALING: dict[str, tuple[Callable[[int], pd.DataFrame], Runner]] = {
    "funnel": (lambda n: deal_log(n * 10 // 24), funnel),
    "churn": (customer_table, lambda customers: churn_rate(customers, freq="M")),
    "cohort": (order_log, cohort_retention),
    "rfm": (order_log, lambda orders: rfm_summary(orders, as_of=HOLDOUT[1])),
}


def scaling(rounds: int, sizes: list[int]) -> None:
    """Time per input row and peak memory against the input, at each size."""
    print("path | rows | median ms | ns per row | peak MiB | input MiB | peak / input")
    for name, (build, call) in SCALING.items():
        for size in sizes:
            data = build(size)

            def once(
                call: Callable[[pd.DataFrame], object] = call, data: pd.DataFrame = data
            ) -> None:
                call(data)

            seconds = median_seconds(once, repeat=rounds)
            peak = peak_memory_mb(once)
            held = data.memory_usage(deep=True).sum() / 2**20
            print(
                f"{name} | {len(data):,} | {seconds * 1e3:.0f} | {seconds / len(data) * 1e9:.0f} "
                f"| {peak:.0f} | {held:.0f} | {peak / held:.2f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("names", nargs="*", help="KPIs to run (default: all)")
    parser.add_argument("--rows", type=int, help="input rows (default: per KPI)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scaling", action="store_true", help="time per row at 10^5..10^7")
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    args = parser.parse_args()
    if args.scaling:
        scaling(args.rounds, [int(size) for size in args.sizes.split(",")])
        return
    chosen = [c for c in CASES if not args.names or c.name in args.names]
    for case in chosen:
        run(case, args.rows or case.rows, args.rounds)


if __name__ == "__main__":
    main()
