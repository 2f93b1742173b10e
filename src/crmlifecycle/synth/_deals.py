"""
Opportunities (one per converted lead) and their walks through the sales pipeline.

Better-fitting leads win more often; lost deals carry a reason and may be reopened.
Walks are written as trigger names and follow the transitions of
:data:`~crmlifecycle.stages.OPPORTUNITY_PIPELINE`; the won and lost states, the
closed ones and each state's default probability come from its stage metadata.
"""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle.schema import OpportunityColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE
from crmlifecycle.synth._columns import (
    Context,
    FloatArray,
    IntArray,
    assemble,
    id_column,
    label_column,
    pick,
    sigmoid,
    to_time,
)
from crmlifecycle.synth._events import (
    Walks,
    build_log,
    expand_templates,
    follow,
    stage_mask,
    stage_of_type,
    trigger_code,
    walk_times,
)
from crmlifecycle.synth._leads import Leads

#: each state's default win probability in percent (EspoCRM's 10/20/50/80/100/0)
PROBABILITY: Final = np.array(
    [stage.probability or 0 for stage in OPPORTUNITY_PIPELINE.stages], dtype=np.int64
)
_CLOSED: Final = stage_mask(OPPORTUNITY_PIPELINE, lambda stage: stage.closed)
_WON: Final = stage_of_type(OPPORTUNITY_PIPELINE, "won")
_LOST: Final = stage_of_type(OPPORTUNITY_PIPELINE, "lost")
_REOPEN: Final = trigger_code(OPPORTUNITY_PIPELINE, "reopen")
_ADVANCE: Final = ("qualify", "propose", "negotiate")
# template 4 * depth + shape, shape: 0 won, 1 lost, 2 lost-reopened-won, 3 lost-reopened-lost
_OPPORTUNITY_TEMPLATES: Final = tuple(
    follow(OPPORTUNITY_PIPELINE, _ADVANCE[:depth] + tail)
    for depth in range(4)
    for tail in (
        ("win",),
        ("lose",),
        ("lose", "reopen", "win"),
        ("lose", "reopen", "lose"),
    )
)
_WON_DEPTH: Final = (0.05, 0.10, 0.25, 0.60)
_LOST_DEPTH: Final = (0.35, 0.30, 0.20, 0.15)
_REOPEN_DAYS: Final = 45.0
_REOPENED_WIN_SHARE: Final = 0.4

LOST_REASONS: Final = ("price", "competitor", "no_budget", "no_decision", "timing", "product_fit")
_LOST_REASON_WEIGHT: Final = (0.25, 0.25, 0.15, 0.15, 0.1, 0.1)
OWNERS: Final = tuple(f"rep{number:02d}" for number in range(1, 13))


@attrs.frozen
class Deals:
    """
    The pipeline frames and what the customer step needs about won deals.

    Attributes:
        frames: opportunities and opportunity_events.
        ids: opportunity ids.
        account_ids: account ids (one account per opportunity).
        lead: index of each opportunity's lead.
        amount: annual contract value of each opportunity (EUR).
        won: indices of won opportunities (in order of winning).
        won_at: time each of those was won (days).
    """

    frames: dict[str, pd.DataFrame]
    ids: pd.Series
    account_ids: pd.Series
    lead: IntArray
    amount: FloatArray
    won: IntArray
    won_at: FloatArray


def _templates(ctx: Context, fit: FloatArray) -> IntArray:
    """Outcome by fit, the stage reached, and whether a lost deal is reopened."""
    rng, params = ctx.rng, ctx.params
    n = fit.size
    wins = rng.random(n) < sigmoid(params.win_logit + params.fit_weight * fit)
    depth = np.where(wins, pick(rng, _WON_DEPTH, n), pick(rng, _LOST_DEPTH, n))
    reopened = rng.random(n) < params.reopen_rate
    second = np.where(rng.random(n) < _REOPENED_WIN_SHARE, 2, 3)
    shape = np.where(wins, 0, np.where(reopened, second, 1))
    return (4 * depth + shape).astype(np.int64)


def make_deals(ctx: Context, leads: Leads) -> Deals:
    """
    Generate one opportunity per converted lead and walk it through the pipeline.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> from crmlifecycle.synth import WorldParams
        >>> from crmlifecycle.synth._leads import make_leads
        >>> ctx = Context(
        ...     rng=np.random.default_rng(0), params=WorldParams(),
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=366.0,
        ... )
        >>> leads = make_leads(ctx, 400)
        >>> deals = make_deals(ctx, leads)
        >>> len(deals.frames["opportunities"]) == len(leads.converted)
        True
    """
    rng, params = ctx.rng, ctx.params
    lead = leads.converted
    created = leads.converted_at
    n = lead.size
    fit = leads.fit[lead]
    template = _templates(ctx, fit)
    entity, step, trigger, dest, lengths = expand_templates(template, _OPPORTUNITY_TEMPLATES)
    mean_gap = np.where(trigger == _REOPEN, _REOPEN_DAYS, params.stage_days)
    at = walk_times(created, rng.exponential(mean_gap), lengths)
    ids = id_column("OPP", n)
    log = build_log(
        Walks(entity=entity, step=step, trigger=trigger, dest=dest, when=at),
        lifecycle=OPPORTUNITY_PIPELINE,
        ids=ids,
        created=created,
        start=ctx.start,
        horizon=ctx.horizon,
    )
    closed = _CLOSED[log.state]
    reason = np.where(log.state == _LOST, pick(rng, _LOST_REASON_WEIGHT, n), -1)
    log_size = np.log10(leads.size[lead])
    amount = np.maximum(np.round(10.0 ** (3.3 + 0.35 * log_size + rng.normal(0, 0.3, n)), -1), 100)
    account_ids = id_column("ACC", n)
    opportunities = assemble(
        OpportunityColumns,
        {
            "opportunity_id": ids,
            "lead_id": label_column(lead, leads.ids),
            "account_id": account_ids,
            "created_at": to_time(ctx.start, created),
            "amount": amount,
            "state": label_column(log.state, OPPORTUNITY_PIPELINE.states),
            "state_since": to_time(ctx.start, log.since),
            "probability": PROBABILITY[log.state],
            "closed_at": to_time(ctx.start, np.where(closed, log.since, np.nan)),
            "lost_reason": label_column(reason, LOST_REASONS),
            "owner": label_column(rng.integers(0, len(OWNERS), n), OWNERS),
        },
    )
    won = np.flatnonzero(log.state == _WON)
    won_at = log.since[won]
    by_time = np.argsort(won_at, kind="stable")
    return Deals(
        frames={"opportunities": opportunities, "opportunity_events": log.frame},
        ids=ids,
        account_ids=account_ids,
        lead=lead,
        amount=amount,
        won=won[by_time],
        won_at=won_at[by_time],
    )
