"""
Support cases with their status walks, and feedback (NPS, CSAT, CES) correlated with churn.

Response and resolution times depend on priority and case type. Case walks are
written as trigger names and follow the transitions of
:data:`~crmlifecycle.stages.CASE_STATUS`; a case counts as resolved in the states
of type ``won``. The cases' ``first_response_at`` is the time of the walk's
first-response step (the transition whose hooks include ``stamp_first_response``:
``start``), so replaying a case's events through the lifecycle gives the same stamp.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from crmlifecycle.schema import CaseColumns, FeedbackColumns
from crmlifecycle.stages import CASE_STATUS
from crmlifecycle.synth._columns import (
    Context,
    FloatArray,
    IntArray,
    assemble,
    id_column,
    label_column,
    pick,
    to_time,
)
from crmlifecycle.synth._customers import Customers
from crmlifecycle.synth._events import (
    Log,
    Walks,
    build_log,
    expand_templates,
    follow,
    stage_mask,
    trigger_code,
    walk_times,
)

_RESOLVED_STATES: Final = stage_mask(CASE_STATUS, lambda stage: stage.won)
_START, _RESOLVE, _CLOSE, _ESCALATE = (
    trigger_code(CASE_STATUS, name) for name in ("start", "resolve", "close", "escalate")
)
#: the triggers whose step stamps first_response_at (read from the lifecycle's hooks)
_FIRST_RESPONSE: Final = sorted(
    {
        trigger_code(CASE_STATUS, t.trigger)
        for t in CASE_STATUS.transitions
        if any(hook.name == "stamp_first_response" for hook in (*t.before, *t.after))
    }
)
PRIORITIES: Final = ("low", "normal", "high", "urgent")
_PRIORITY_WEIGHT: Final = (0.30, 0.45, 0.18, 0.07)
CASE_TYPES: Final = ("question", "problem", "incident", "feature_request")
_TYPE_WEIGHT: Final = (0.40, 0.30, 0.15, 0.15)
# median hours to first response and to resolution, per priority; resolution factor per type
_RESPONSE_HOURS: Final = np.array([24.0, 8.0, 2.0, 0.5])
_RESOLVE_HOURS: Final = np.array([72.0, 36.0, 12.0, 4.0])
_TYPE_FACTOR: Final = np.array([0.5, 1.0, 0.8, 3.0])
# mean hours of the other steps (exponential); closing waits three days first
_MEAN_HOURS_OF: Final = {
    "start": 0.0,
    "wait": 6.0,
    "resume": 48.0,
    "resolve": 0.0,
    "reopen": 48.0,
    "close": 48.0,
    "escalate": 4.0,
}
_MEAN_HOURS: Final = np.array([_MEAN_HOURS_OF[t] for t in CASE_STATUS.trigger_names])
_CLOSE_AFTER_HOURS: Final = 72.0


def _case_template(escalated: int, waits: int, reopened: int) -> list[tuple[int, int]]:
    triggers = ["start", *["escalate"] * escalated, *["wait", "resume"] * waits, "resolve"]
    triggers += ["reopen", "resolve"] * reopened
    return follow(CASE_STATUS, [*triggers, "close"])


# template index: 4 * escalated + 2 * waits + reopened
_CASE_TEMPLATES: Final = tuple(
    _case_template(e, w, r) for e in (0, 1) for w in (0, 1) for r in (0, 1)
)

FEEDBACK_KINDS: Final = ("nps", "csat", "ces")
# a comment on 30% of answers, by band of the score's position on its scale
_COMMENT_SHARE: Final = 0.3
_POSITIVE, _NEGATIVE = 0.75, 0.5
_COMMENTS: Final = (
    "Support was slow to get back to us.",
    "Too expensive for what we use.",
    "The last update broke our workflow.",
    "Does the job.",
    "Fine, a few rough edges.",
    "OK overall.",
    "Great product, the team loves it.",
    "Quick and friendly support.",
    "Would recommend it to colleagues.",
)


def _cases(ctx: Context, customers: Customers) -> tuple[pd.DataFrame, Log, IntArray, IntArray]:
    rng, params = ctx.rng, ctx.params
    tenure = customers.until - customers.acquired
    counts = rng.poisson(params.cases_per_year * tenure / 365.25)
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    opened = customers.acquired[owner] + rng.random(owner.size) * tenure[owner]
    order = np.argsort(opened, kind="stable")
    owner, opened = owner[order], opened[order]
    n = owner.size
    priority = pick(rng, _PRIORITY_WEIGHT, n)
    kind = pick(rng, _TYPE_WEIGHT, n)
    escalated = (rng.random(n) < params.escalation_rate) & (priority < len(PRIORITIES) - 1)
    waits = rng.random(n) < params.waiting_rate
    reopened = rng.random(n) < params.case_reopen_rate
    template = 4 * escalated.astype(np.int64) + 2 * waits + reopened
    entity, step, trigger, dest, lengths = expand_templates(template, _CASE_TEMPLATES)
    hours = rng.exponential(_MEAN_HOURS[trigger])
    response = rng.lognormal(np.log(_RESPONSE_HOURS[priority[entity]]), 0.8)
    resolve = rng.lognormal(
        np.log(_RESOLVE_HOURS[priority[entity]] * _TYPE_FACTOR[kind[entity]]), 0.7
    )
    hours = np.where(trigger == _START, response, hours)
    hours = np.where(trigger == _RESOLVE, resolve, hours)
    hours = np.where(trigger == _CLOSE, hours + _CLOSE_AFTER_HOURS, hours)
    at = walk_times(opened, hours / 24.0, lengths)
    ids = id_column("CS", n)
    log = build_log(
        Walks(entity=entity, step=step, trigger=trigger, dest=dest, when=at),
        lifecycle=CASE_STATUS,
        ids=ids,
        created=opened,
        start=ctx.start,
        horizon=ctx.horizon,
    )
    resolved = _RESOLVED_STATES[log.state]
    first_response = log.last_at[:, _FIRST_RESPONSE]
    current_priority = priority + ~np.isnan(log.last_at[:, _ESCALATE])
    cases = assemble(
        CaseColumns,
        {
            "case_id": ids,
            "customer_id": label_column(owner, customers.ids),
            "opened_at": to_time(ctx.start, opened),
            "priority": label_column(current_priority, PRIORITIES),
            "type": label_column(kind, CASE_TYPES),
            "state": label_column(log.state, CASE_STATUS.states),
            "state_since": to_time(ctx.start, log.since),
            # each walk takes its first-response step at most once, so its last time is its first
            "first_response_at": to_time(ctx.start, np.fmin.reduce(first_response, axis=1)),
            "resolved_at": to_time(ctx.start, np.where(resolved, log.last_at[:, _RESOLVE], np.nan)),
            "closed_at": to_time(ctx.start, log.last_at[:, _CLOSE]),
        },
    )
    return cases, log, owner, reopened.astype(np.int64)


def _feedback(
    ctx: Context, customers: Customers, case_owner: IntArray, case_log: Log, reopened: IntArray
) -> pd.DataFrame:
    """NPS surveys over each tenure; CSAT and CES after resolved cases; lower if dropping out."""
    rng, params = ctx.rng, ctx.params
    satisfaction = rng.normal(0.0, 1.0, customers.ids.size)
    satisfaction -= params.churn_sentiment * customers.drops_out
    tenure = customers.until - customers.acquired
    nps_count = rng.poisson(params.nps_per_year * tenure / 365.25)
    nps_owner = np.repeat(np.arange(nps_count.size, dtype=np.int64), nps_count)
    nps_at = customers.acquired[nps_owner] + rng.random(nps_owner.size) * tenure[nps_owner]
    nps = 7.2 + 1.6 * satisfaction[nps_owner] + rng.normal(0.0, 1.2, nps_owner.size)

    resolved_at = case_log.last_at[:, _RESOLVE]
    done = ~np.isnan(resolved_at)
    csat_case = np.flatnonzero(done & (rng.random(done.size) < params.survey_rate))
    ces_case = np.flatnonzero(done & (rng.random(done.size) < params.survey_rate / 2))
    csat_owner, ces_owner = case_owner[csat_case], case_owner[ces_case]
    csat = 4.1 + 0.6 * satisfaction[csat_owner] + rng.normal(0.0, 0.7, csat_case.size)
    csat -= 0.5 * reopened[csat_case]
    ces = 5.2 + 0.8 * satisfaction[ces_owner] + rng.normal(0.0, 1.0, ces_case.size)
    ces -= 0.7 * reopened[ces_case]

    owner = np.concatenate([nps_owner, csat_owner, ces_owner])
    kind = np.repeat(np.arange(3, dtype=np.int64), [nps_owner.size, csat_case.size, ces_case.size])
    at: FloatArray = np.concatenate(
        [
            nps_at,
            resolved_at[csat_case] + rng.exponential(0.5, csat_case.size),
            resolved_at[ces_case] + rng.exponential(0.5, ces_case.size),
        ]
    )
    low = np.array([0, 1, 1])[kind]
    high = np.array([10, 5, 7])[kind]
    score = np.clip(np.round(np.concatenate([nps, csat, ces])), low, high).astype(np.int64)
    share = (score - low) / (high - low)
    band = np.where(share >= _POSITIVE, 2, np.where(share <= _NEGATIVE, 0, 1))
    commented = rng.random(owner.size) < _COMMENT_SHARE
    comment = np.where(commented, 3 * band + rng.integers(0, 3, owner.size), -1)
    seen = at < ctx.horizon
    order = np.argsort(at[seen], kind="stable")
    pick_rows = np.flatnonzero(seen)[order]
    return assemble(
        FeedbackColumns,
        {
            "feedback_id": id_column("F", pick_rows.size),
            "customer_id": label_column(owner[pick_rows], customers.ids),
            "at": to_time(ctx.start, at[pick_rows]),
            "kind": label_column(kind[pick_rows], FEEDBACK_KINDS),
            "score": score[pick_rows],
            "comment": label_column(comment[pick_rows], _COMMENTS),
        },
    )


def make_service(ctx: Context, customers: Customers) -> dict[str, pd.DataFrame]:
    """
    Generate support cases, their status events, and feedback.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> from crmlifecycle.synth import WorldParams
        >>> from crmlifecycle.synth._customers import make_customers
        >>> from crmlifecycle.synth._deals import make_deals
        >>> from crmlifecycle.synth._leads import make_leads
        >>> ctx = Context(
        ...     rng=np.random.default_rng(0), params=WorldParams(),
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=366.0,
        ... )
        >>> leads = make_leads(ctx, 600)
        >>> customers = make_customers(ctx, leads, make_deals(ctx, leads))
        >>> sorted(make_service(ctx, customers))
        ['case_events', 'cases', 'feedback']
    """
    cases, log, owner, reopened = _cases(ctx, customers)
    feedback = _feedback(ctx, customers, owner, log, reopened)
    return {"cases": cases, "case_events": log.frame, "feedback": feedback}
