"""
Campaigns, their monthly spend, leads with fit attributes, interactions and lead status walks.

The top of the funnel: how leads arrive, how well they fit, how they engage. Lead
walks are written as trigger names and follow the transitions of
:data:`~crmlifecycle.stages.LEAD_STATUS`; the converted state is its ``won`` state.
"""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle.schema import CampaignColumns, InteractionColumns, LeadColumns, SpendColumns
from crmlifecycle.stages import LEAD_STATUS
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
    pick,
    pick_rows,
    positions,
    segment_cumsum,
    segment_starts,
    sigmoid,
    to_time,
)
from crmlifecycle.synth._events import (
    Walks,
    build_log,
    expand_templates,
    follow,
    stage_of_type,
    trigger_code,
    walk_times,
)

# channel: weight of leads, paid?, fit effect, cost per lead (EUR). Costs per lead are B2B
# levels, set so that the default world's blended CAC (~7k EUR) against its ARPU (~1.5k EUR a
# month) gives an LTV:CAC near 4 and a payback of about half a year, not a free lunch.
CHANNELS: Final = ("paid_search", "social", "display", "webinar", "referral", "organic", "events")
_CHANNEL_WEIGHT: Final = (0.25, 0.20, 0.12, 0.10, 0.08, 0.15, 0.10)
_CHANNEL_PAID: Final = np.array([True, True, True, True, False, False, True])
_CHANNEL_FIT: Final = np.array([0.0, -0.3, -0.5, 0.3, 0.6, 0.1, 0.2])
_COST_PER_LEAD: Final = np.array([720.0, 420.0, 300.0, 960.0, 0.0, 0.0, 1800.0])

INDUSTRIES: Final = (
    "software",
    "financial_services",
    "healthcare",
    "manufacturing",
    "retail",
    "education",
    "public_sector",
    "nonprofit",
)
_INDUSTRY_WEIGHT: Final = (0.22, 0.14, 0.12, 0.16, 0.14, 0.08, 0.08, 0.06)
_INDUSTRY_FIT: Final = np.array([0.6, 0.4, 0.2, 0.0, -0.2, -0.5, -0.3, -0.7])

JOB_TITLES: Final = (
    "CEO",
    "CTO",
    "VP Sales",
    "Head of Marketing",
    "IT Manager",
    "Operations Manager",
    "Analyst",
    "Engineer",
    "Consultant",
    "Student",
)
_JOB_WEIGHT: Final = (0.06, 0.05, 0.08, 0.10, 0.12, 0.12, 0.15, 0.15, 0.10, 0.07)
_JOB_FIT: Final = np.array([0.6, 0.7, 0.5, 0.5, 0.4, 0.2, -0.1, 0.0, -0.2, -1.5])

COUNTRIES: Final = ("DE", "FR", "GB", "NL", "ES", "IT", "SE", "PL", "US", "AT")
_COUNTRY_WEIGHT: Final = (0.25, 0.12, 0.14, 0.08, 0.07, 0.07, 0.05, 0.05, 0.12, 0.05)

#: mean days before each trigger of the lead status fires
_LEAD_GAP_DAYS: Final = {
    "contact": 3.0,
    "qualify": 10.0,
    "disqualify": 7.0,
    "recycle": 45.0,
    "convert": 5.0,
}
_LEAD_GAP: Final = np.array([_LEAD_GAP_DAYS[t] for t in LEAD_STATUS.trigger_names])
_CONVERTED: Final = stage_of_type(LEAD_STATUS, "won")
_CONVERT: Final = trigger_code(LEAD_STATUS, "convert")
_FIRST_PASS: Final = ("contact", "disqualify", "recycle")
_WINNING: Final = ("contact", "qualify", "convert")
_LEAD_TEMPLATES: Final = tuple(
    follow(LEAD_STATUS, walk)
    for walk in (
        (),  # never worked: stays open
        ("disqualify",),  # disqualified at a glance
        _FIRST_PASS[:2],  # contacted, then disqualified
        _WINNING[:2],  # qualified, not (yet) converted
        _WINNING,  # converted to an opportunity
        _FIRST_PASS,  # disqualified and recycled for nurturing
        _FIRST_PASS + _WINNING,  # recycled, then qualified and converted
    )
)

INTERACTION_KINDS: Final = (
    "email_open",
    "email_click",
    "web_visit",
    "download",
    "webinar",
    "demo_request",
)
# rows: leads never qualified, leads qualified at some point
_INTERACTION_MIX: Final = np.array(
    [[0.45, 0.20, 0.20, 0.08, 0.05, 0.02], [0.30, 0.20, 0.20, 0.12, 0.10, 0.08]]
)
_INTERACTION_DAYS: Final = 20.0


@attrs.frozen
class Leads:
    """
    The frames of the top of the funnel and what later steps need about converted leads.

    Attributes:
        frames: campaigns, spend, leads, interactions and lead_events.
        ids: lead ids.
        created: creation time of each lead (days).
        fit: latent fit of each lead.
        channel: channel code of each lead.
        size: company size of each lead.
        converted: indices of leads converted to an opportunity (in conversion order).
        converted_at: conversion time of those leads (days).
    """

    frames: dict[str, pd.DataFrame]
    ids: pd.Series
    created: FloatArray
    fit: FloatArray
    channel: IntArray
    size: IntArray
    converted: IntArray
    converted_at: FloatArray


def _campaigns(ctx: Context, n_leads: int) -> tuple[IntArray, FloatArray, FloatArray]:
    """Channel, start and end (days) of each campaign; the first one per channel runs always."""
    rng, horizon = ctx.rng, ctx.horizon
    n_campaigns = ctx.params.n_campaigns or max(len(CHANNELS), round(np.sqrt(n_leads)))
    n_campaigns = max(n_campaigns, len(CHANNELS))
    extra = n_campaigns - len(CHANNELS)
    channel = np.concatenate(
        [np.arange(len(CHANNELS), dtype=np.int64), pick(rng, _CHANNEL_WEIGHT, extra)]
    )
    duration = np.minimum(rng.uniform(30.0, 180.0, extra), horizon)
    begin = rng.uniform(0.0, 1.0, extra) * (horizon - duration)
    start = np.concatenate([np.zeros(len(CHANNELS)), np.floor(begin)])
    end = np.concatenate([np.full(len(CHANNELS), horizon), np.floor(begin + duration)])
    end = np.maximum(end, start + 1.0).clip(max=horizon)
    return channel, start, end


def _spend(
    ctx: Context,
    campaign: tuple[IntArray, FloatArray, FloatArray],
    ids: pd.Series,
    lead_campaign: IntArray,
    lead_created: FloatArray,
) -> pd.DataFrame:
    """Spend per campaign per month: cost per lead times leads that month, with noise."""
    channel, start, end = campaign
    first = month_index(ctx.start, start)
    last = month_index(ctx.start, end - 1e-6)
    n_months = last - first + 1
    owner, step = positions(n_months)
    row_of_lead = segment_starts(n_months)[lead_campaign] + (
        month_index(ctx.start, lead_created) - first[lead_campaign]
    )
    leads_per_row = np.bincount(row_of_lead, minlength=owner.size).astype(np.float64)
    cost = _COST_PER_LEAD[channel[owner]]
    noise = ctx.rng.lognormal(0.0, 0.25, owner.size)
    spend = np.round(cost * (leads_per_row + 2.0) * noise, 2)
    return assemble(
        SpendColumns,
        {
            "campaign_id": label_column(owner, ids),
            "channel": label_column(channel[owner], CHANNELS),
            "paid": _CHANNEL_PAID[channel[owner]],
            "period": month_start(first[owner] + step),
            "spend": spend,
        },
    )


def _fit(
    ctx: Context, channel: IntArray, n: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]:
    """Industry, job title, company size, budget (NaN = unknown) and the latent fit."""
    rng = ctx.rng
    industry = pick(rng, _INDUSTRY_WEIGHT, n)
    job = pick(rng, _JOB_WEIGHT, n)
    log_size = rng.normal(1.9, 0.8, n)
    size = np.clip(np.round(10.0**log_size), 1, 250_000).astype(np.int64)
    log_budget = 3.3 + 0.5 * np.log10(size) + rng.normal(0.0, 0.4, n)
    known = rng.random(n) >= 0.35  # noqa: PLR2004 - share of leads without a stated budget
    budget = np.where(known, np.round(10.0**log_budget, -2), np.nan)
    budget_effect = np.where(known, 0.3 + 0.3 * (log_budget - 4.0), -0.2)
    fit = (
        _INDUSTRY_FIT[industry]
        + _JOB_FIT[job]
        + _CHANNEL_FIT[channel]
        + 0.5 * (np.log10(size) - 2.0)
        + budget_effect
        + rng.normal(0.0, 0.5, n)
        - 0.3
    )
    return industry, job, size, budget, fit


def _lead_templates(ctx: Context, fit: FloatArray) -> IntArray:
    """Pick each lead's walk: contacted?, qualified (by fit)?, converted?, recycled?"""
    rng, params = ctx.rng, ctx.params
    n = fit.size
    contacted = rng.random(n) < params.contact_rate
    glance = rng.random(n) < 0.5  # noqa: PLR2004 - uncontacted: half stay open, half are dropped
    qualified = rng.random(n) < sigmoid(params.qualify_logit + params.fit_weight * fit)
    converts = rng.random(n) < params.convert_rate
    recycled = rng.random(n) < params.recycle_rate
    second_chance = rng.random(n) < sigmoid(params.qualify_logit + params.fit_weight * fit)
    template = np.where(glance, 1, 0)
    template = np.where(contacted & qualified, np.where(converts, 4, 3), template)
    unqualified = contacted & ~qualified
    template = np.where(unqualified, 2, template)
    template = np.where(unqualified & recycled, np.where(second_chance, 6, 5), template)
    return template.astype(np.int64)


def _interactions(
    ctx: Context, ids: pd.Series, created: FloatArray, fit: FloatArray, qualified: BoolArray
) -> pd.DataFrame:
    """Engagement: more interactions for better-fitting leads and those that get qualified."""
    rng, params = ctx.rng, ctx.params
    rate = params.interactions_per_lead * np.exp(0.3 * fit)
    rate = np.where(qualified, rate * params.engagement_lift, rate)
    counts = rng.poisson(rate)
    owner, step = positions(counts)
    # sorted exponential delays without sorting (Renyi): the j-th smallest of k is
    # the sum of X_i / (k - i) for i < j, with X_i unit exponentials
    spacing = rng.exponential(_INTERACTION_DAYS, owner.size) / (counts[owner] - step)
    at = created[owner] + segment_cumsum(spacing, counts)
    kind = pick_rows(rng, _INTERACTION_MIX, qualified[owner].astype(np.int64))
    seen = at < ctx.horizon
    owner, at, kind = owner[seen], at[seen], kind[seen]
    return assemble(
        InteractionColumns,
        {
            "interaction_id": id_column("I", owner.size),
            "lead_id": label_column(owner, ids),
            "kind": label_column(kind, INTERACTION_KINDS),
            "at": to_time(ctx.start, at),
        },
    )


def make_leads(ctx: Context, n_leads: int) -> Leads:
    """
    Generate campaigns, spend, leads, their interactions and lead status events.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> from crmlifecycle.synth import WorldParams
        >>> ctx = Context(
        ...     rng=np.random.default_rng(0), params=WorldParams(),
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=366.0,
        ... )
        >>> len(make_leads(ctx, 100).frames["leads"])
        100
    """
    rng = ctx.rng
    campaign = _campaigns(ctx, n_leads)
    channel_of, start_of, end_of = campaign
    duration = end_of - start_of
    per_channel = np.bincount(channel_of, weights=duration, minlength=len(CHANNELS))
    weight = np.asarray(_CHANNEL_WEIGHT)[channel_of] * duration / per_channel[channel_of]
    lead_campaign = pick(rng, list(weight), n_leads)
    created = start_of[lead_campaign] + rng.random(n_leads) * duration[lead_campaign]
    order = np.argsort(created, kind="stable")
    lead_campaign, created = lead_campaign[order], created[order]
    channel = channel_of[lead_campaign]
    campaign_ids = id_column("CMP", channel_of.size)

    industry, job, size, budget, fit = _fit(ctx, channel, n_leads)
    country = pick(rng, _COUNTRY_WEIGHT, n_leads)
    template = _lead_templates(ctx, fit)
    entity, step, trigger, dest, lengths = expand_templates(template, _LEAD_TEMPLATES)
    at = walk_times(created, rng.exponential(_LEAD_GAP[trigger]), lengths)
    ids = id_column("L", n_leads)
    log = build_log(
        Walks(entity=entity, step=step, trigger=trigger, dest=dest, when=at),
        lifecycle=LEAD_STATUS,
        ids=ids,
        created=created,
        start=ctx.start,
        horizon=ctx.horizon,
    )
    converted = np.flatnonzero(log.state == _CONVERTED)
    converted_at = log.last_at[converted, _CONVERT]
    by_time = np.argsort(converted_at, kind="stable")
    converted, converted_at = converted[by_time], converted_at[by_time]
    qualified = np.isin(template, (3, 4, 6))

    leads = assemble(
        LeadColumns,
        {
            "lead_id": ids,
            "campaign_id": label_column(lead_campaign, campaign_ids),
            "channel": label_column(channel, CHANNELS),
            "created_at": to_time(ctx.start, created),
            "email": id_column("lead", n_leads, suffix="@example.com"),
            "industry": label_column(industry, INDUSTRIES),
            "company_size": size,
            "job_title": label_column(job, JOB_TITLES),
            "budget": budget,
            "country": label_column(country, COUNTRIES),
            "state": label_column(log.state, LEAD_STATUS.states),
            "state_since": to_time(ctx.start, log.since),
        },
    )
    campaigns = assemble(
        CampaignColumns,
        {
            "campaign_id": campaign_ids,
            "channel": label_column(channel_of, CHANNELS),
            "paid": _CHANNEL_PAID[channel_of],
            "start": to_time(ctx.start, start_of),
            "end": to_time(ctx.start, end_of),
        },
    )
    frames = {
        "campaigns": campaigns,
        "spend": _spend(ctx, campaign, campaign_ids, lead_campaign, created),
        "leads": leads,
        "interactions": _interactions(ctx, ids, created, fit, qualified),
        "lead_events": log.frame,
    }
    return Leads(
        frames=frames,
        ids=ids,
        created=created,
        fit=fit,
        channel=channel,
        size=size,
        converted=converted,
        converted_at=converted_at,
    )
