"""
Customers (one per won deal), their orders (BG/NBD), subscriptions (MRR) and lifecycle walks.

Everything after a deal is won: when customers buy, what they pay each month, whether
they stay, and their walk through :data:`~crmlifecycle.stages.CUSTOMER_LIFECYCLE`
(written as trigger names; the churned state is its ``lost`` state).
"""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle.schema import CustomerColumns, OrderColumns, RevenueColumns
from crmlifecycle.stages import CUSTOMER_LIFECYCLE
from crmlifecycle.synth._columns import (
    BoolArray,
    Context,
    FloatArray,
    IntArray,
    assemble,
    id_column,
    label_column,
    month_index,
    month_start,
    positions,
    segment_cumsum,
    segment_starts,
    to_time,
)
from crmlifecycle.synth._deals import Deals
from crmlifecycle.synth._events import Walks, build_log, concat_walks, follow, stage_of_type
from crmlifecycle.synth._leads import CHANNELS, Leads

# the customer's steps in walk order: (trigger, dest) codes; churn and win-back are optional
_STEPS: Final = follow(
    CUSTOMER_LIFECYCLE, ("acquire", "convert", "retain", "promote", "churn", "win_back")
)
_CHURNED: Final = stage_of_type(CUSTOMER_LIFECYCLE, "lost")
_WIN_BACK_DAYS: Final = 120.0
_DAYS_PER_WEEK: Final = 7.0


@attrs.frozen
class Customers:
    """
    The customer frames and what the service step needs.

    Attributes:
        frames: customers, customer_events, orders and subscriptions.
        ids: customer ids.
        acquired: acquisition time of each customer (days).
        until: end of each customer's current tenure (churn time, or the window's end).
        drops_out: whether the customer drops out (stops buying) inside the window.
    """

    frames: dict[str, pd.DataFrame]
    ids: pd.Series
    acquired: FloatArray
    until: FloatArray
    drops_out: BoolArray


@attrs.frozen
class _Purchases:
    owner: IntArray
    when: FloatArray
    repeats: IntArray
    drops_out: BoolArray
    dropout_at: FloatArray


def _purchases(ctx: Context, acquired: FloatArray) -> _Purchases:
    """
    Draw orders by the BG/NBD story, observed until the window's end.

    Purchases follow a Poisson process at a gamma-distributed rate; after each repeat
    purchase the customer drops out with a beta-distributed probability.

    Given N purchases of a Poisson process in (0, T], their times are N sorted uniforms; the
    first k of them are T * S_j / (S_k + G) with S_j sums of unit exponentials and G a
    Gamma(N - k + 1) draw, so only the orders actually placed are ever drawn.
    """
    rng, params = ctx.rng, ctx.params
    n = acquired.size
    rate = rng.gamma(params.purchase_r, 1.0 / params.purchase_alpha, n)  # per week
    dropout = np.clip(rng.beta(params.dropout_a, params.dropout_b, n), 1e-12, 1.0)
    lifetime_orders = rng.geometric(dropout)  # repeat purchases until dropping out
    weeks = (ctx.horizon - acquired) / _DAYS_PER_WEEK
    possible = rng.poisson(rate * weeks)
    repeats = np.minimum(lifetime_orders, possible)
    drops_out = lifetime_orders <= possible
    lengths = repeats + 1
    owner, step = positions(lengths)
    spacing = rng.exponential(1.0, owner.size)
    spacing[step == 0] = 0.0
    cumulative = segment_cumsum(spacing, lengths)
    last = segment_starts(lengths) + repeats
    scale = cumulative[last] + rng.gamma((possible - repeats + 1).astype(np.float64))
    at = acquired[owner] + _DAYS_PER_WEEK * weeks[owner] * cumulative / scale[owner]
    return _Purchases(
        owner=owner,
        when=at,
        repeats=repeats,
        drops_out=drops_out,
        dropout_at=np.where(drops_out, at[last], np.nan),
    )


def _walks(
    ctx: Context, created: FloatArray, acquired: FloatArray, buys: _Purchases
) -> tuple[Walks, FloatArray]:
    """Acquire (as a lead), convert (first order), retain, promote, churn, win back."""
    rng, params = ctx.rng, ctx.params
    n = acquired.size
    everyone = np.arange(n, dtype=np.int64)
    first = segment_starts(buys.repeats + 1)
    retained = np.flatnonzero(buys.repeats >= 1)
    loyal = np.flatnonzero(buys.repeats >= params.loyalty_orders)
    churned = np.flatnonzero(buys.drops_out)
    churn_at = buys.dropout_at[churned] + params.churn_lag_days
    back = churned[rng.random(churned.size) < params.win_back_rate]
    churn_of = np.full(n, np.nan)
    churn_of[churned] = churn_at
    back_at = churn_of[back] + rng.exponential(_WIN_BACK_DAYS, back.size)
    win_back_of = np.full(n, np.nan)
    win_back_of[back] = back_at

    def part(who: IntArray, step: int, at: FloatArray) -> Walks:
        trigger, dest = _STEPS[step]
        return Walks(
            entity=who,
            step=np.full(who.size, step, dtype=np.int64),
            trigger=np.full(who.size, trigger, dtype=np.int64),
            dest=np.full(who.size, dest, dtype=np.int64),
            when=at,
        )

    walks = concat_walks(
        [
            part(everyone, 0, created),
            part(everyone, 1, acquired),
            part(retained, 2, buys.when[first[retained] + 1]),
            part(loyal, 3, buys.when[first[loyal] + params.loyalty_orders]),
            part(churned, 4, churn_at),
            part(back, 5, back_at),
        ]
    )
    return walks, np.stack([churn_of, win_back_of])


def _subscriptions(
    ctx: Context,
    ids: pd.Series,
    acquired: FloatArray,
    mrr: FloatArray,
    churn_and_back: FloatArray,
) -> pd.DataFrame:
    """
    Monthly MRR per active month, with expansions and contractions.

    A customer pays from the month of acquisition up to (not including) the month of
    churn (at least one month), and again from a win-back to the end.
    """
    rng, params = ctx.rng, ctx.params
    churn_at, back_at = churn_and_back
    churn_seen = churn_at < ctx.horizon
    back_seen = back_at < ctx.horizon
    first = month_index(ctx.start, acquired)
    after_last = month_index(ctx.start, np.array([ctx.horizon - 1e-6]))[0] + 1
    churn_month = month_index(ctx.start, np.where(churn_seen, churn_at, 0.0))
    first_end = np.where(churn_seen, np.maximum(churn_month, first + 1), after_last)
    back_month = month_index(ctx.start, np.where(back_seen, back_at, 0.0))
    second_start = np.maximum(back_month, first_end)
    second = np.where(back_seen, np.maximum(after_last - second_start, 0), 0)
    first_len = first_end - first
    lengths = first_len + second
    owner, step = positions(lengths)
    month = np.where(
        step < first_len[owner], first[owner] + step, second_start[owner] + step - first_len[owner]
    )
    draw = rng.random(owner.size)
    change = np.where(
        draw < params.expansion_rate,
        np.log(rng.uniform(1.1, 1.5, owner.size)),
        np.where(
            draw > 1.0 - params.contraction_rate, np.log(rng.uniform(0.6, 0.9, owner.size)), 0
        ),
    )
    change[step == 0] = 0.0
    level = mrr[owner] * np.exp(segment_cumsum(change, lengths))
    return assemble(
        RevenueColumns,
        {
            "customer_id": label_column(owner, ids),
            "period": month_start(month),
            "mrr": np.maximum(np.round(level, 2), 0.01),
        },
    )


def make_customers(ctx: Context, leads: Leads, deals: Deals) -> Customers:
    """
    Generate one customer per won opportunity, with orders, subscriptions and events.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> from crmlifecycle.synth import WorldParams
        >>> from crmlifecycle.synth._deals import make_deals
        >>> from crmlifecycle.synth._leads import make_leads
        >>> ctx = Context(
        ...     rng=np.random.default_rng(0), params=WorldParams(),
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=366.0,
        ... )
        >>> leads = make_leads(ctx, 600)
        >>> deals = make_deals(ctx, leads)
        >>> customers = make_customers(ctx, leads, deals)
        >>> len(customers.frames["customers"]) == len(deals.won)
        True
    """
    rng, params = ctx.rng, ctx.params
    opportunity = deals.won
    acquired = deals.won_at
    lead = deals.lead[opportunity]
    n = opportunity.size
    ids = id_column("C", n)
    buys = _purchases(ctx, acquired)
    walks, churn_and_back = _walks(ctx, leads.created[lead], acquired, buys)
    log = build_log(
        walks,
        lifecycle=CUSTOMER_LIFECYCLE,
        ids=ids,
        created=leads.created[lead],
        start=ctx.start,
        horizon=ctx.horizon,
    )
    is_churned = log.state == _CHURNED
    customers = assemble(
        CustomerColumns,
        {
            "customer_id": ids,
            "lead_id": label_column(lead, leads.ids),
            "opportunity_id": label_column(opportunity, deals.ids),
            "account_id": label_column(opportunity, deals.account_ids),
            "channel": label_column(leads.channel[lead], CHANNELS),
            "acquired_at": to_time(ctx.start, acquired),
            "state": label_column(log.state, CUSTOMER_LIFECYCLE.states),
            "state_since": to_time(ctx.start, log.since),
            "churned_at": to_time(ctx.start, np.where(is_churned, log.since, np.nan)),
        },
    )
    spend_rate = rng.gamma(params.spend_q, 1.0 / params.spend_gamma, n)
    amounts = rng.gamma(params.spend_p, 1.0 / spend_rate[buys.owner])
    orders = assemble(
        OrderColumns,
        {
            "order_id": id_column("O", buys.owner.size),
            "customer_id": label_column(buys.owner, ids),
            "at": to_time(ctx.start, buys.when),
            "amount": np.maximum(np.round(amounts, 2), 0.01),
        },
    )
    subscriptions = _subscriptions(
        ctx, ids, acquired, deals.amount[opportunity] / 12.0, churn_and_back
    )
    return Customers(
        frames={
            "customers": customers,
            "customer_events": log.frame,
            "orders": orders,
            "subscriptions": subscriptions,
        },
        ids=ids,
        acquired=acquired,
        until=np.where(is_churned, log.since, ctx.horizon),
        drops_out=buys.drops_out,
    )
