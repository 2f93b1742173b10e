"""
The built-in KPIs of :func:`~crmlifecycle.metrics.compute_kpis`, one line each.

Each is a :class:`FunctionMetric` over the frames of a data set (the frame
names of :data:`crmlifecycle.schema.FRAME_NAMES`, as ``crmlifecycle.synth``
produces them), computing one headline number with the calculators of this
package. The lead and deal KPIs take their stages from the standard
lifecycles of :mod:`crmlifecycle.stages`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from crmlifecycle._frames import as_utc
from crmlifecycle._types import Instant
from crmlifecycle.metrics._acquisition import cac, new_customers
from crmlifecycle.metrics._backlog import backlog
from crmlifecycle.metrics._common import is_nan, ratio
from crmlifecycle.metrics._forecast import weighted_pipeline
from crmlifecycle.metrics._funnel import conversion_rate
from crmlifecycle.metrics._lifetime import average_order_value, historic_clv
from crmlifecycle.metrics._pipeline import average_deal_size, sales_cycle_length, win_rate
from crmlifecycle.metrics._protocol import NAMED_METRICS, FunctionMetric
from crmlifecycle.metrics._rate_conversion import convert_churn_rate
from crmlifecycle.metrics._retention import churn_rate
from crmlifecycle.metrics._revenue import arpu, mrr_movements
from crmlifecycle.metrics._revenue_retention import net_revenue_retention
from crmlifecycle.metrics._satisfaction import ces, csat, nps
from crmlifecycle.metrics._service import (
    first_response_time,
    resolution_time,
    sla_breach_rate,
)
from crmlifecycle.metrics._unit_economics import cac_payback_months, ltv_to_cac
from crmlifecycle.schema import EntityColumns, EventLogColumns, LeadColumns, OpportunityColumns
from crmlifecycle.stages import LEAD_STATUS, Lifecycle

__all__ = ["BUILTIN_METRICS"]

Frames = Mapping[str, pd.DataFrame]


def _lead_conversion(frames: Frames, *, as_of: Instant | None = None) -> float:
    """
    Leads that reached the won status ÷ leads that reached the initial one (the lead funnel).

    Every lead of the ``leads`` frame counts (created by ``as_of``), including those
    still in the initial status, which have no event.
    """
    first, won = _funnel_ends(LEAD_STATUS)
    leads = frames["leads"]
    return conversion_rate(
        frames["lead_events"],
        from_stage=first,
        to_stage=won,
        lifecycle=LEAD_STATUS,
        as_of=as_of,
        entities=leads,
        entities_columns=EntityColumns(id=_LEAD.lead_id),
        created=_created(leads, _LEAD.lead_id, _LEAD.created_at),
    )


def _created(frame: pd.DataFrame, id_col: str, created_col: str) -> pd.Series:
    """The creation timestamps of a frame's entities, indexed by their id."""
    return pd.Series(frame[created_col].to_numpy(), index=frame[id_col].to_numpy())


def _funnel_ends(lifecycle: Lifecycle) -> tuple[str, str]:
    """The first state of a lifecycle and its (first) won state."""
    won = next(stage.name for stage in lifecycle.stages if stage.won)
    return lifecycle.initial, won


def _monthly_churn(frames: Frames) -> float:
    """Pooled monthly churn: Σ lost ÷ Σ customers at month starts, complete months only."""
    customers = frames["customers"]
    table = churn_rate(customers, freq="M").iloc[:-1]  # the latest month may be incomplete
    return ratio(float(table["churned"].sum()), float(table["customers_start"].sum()))


def _monthly_arpu(frames: Frames) -> float:
    return arpu(frames["subscriptions"])


def _mrr(frames: Frames) -> float:
    table = mrr_movements(frames["subscriptions"])
    return math.nan if table.empty else float(table["ending_mrr"].iloc[-1])


def _nrr_12m(frames: Frames) -> float:
    subscriptions = frames["subscriptions"]
    periods = as_utc(subscriptions["period"], "period")
    if periods.empty:
        return math.nan
    last = periods.max()
    start = last - pd.DateOffset(months=12)
    if start < periods.min():
        return math.nan  # less than 13 months of data: the 12-month NRR is undefined
    return net_revenue_retention(subscriptions, start=start, end=last)


def _clv(frames: Frames, *, gross_margin: float) -> float:
    monthly_arpu, churn = _monthly_arpu(frames), _monthly_churn(frames)
    if is_nan(monthly_arpu) or is_nan(churn):
        return math.nan  # nobody paid, or nobody was there to churn: CLV is undefined too
    return historic_clv(monthly_arpu, gross_margin=gross_margin, churn_rate=churn)


def _ltv_to_cac(frames: Frames, *, gross_margin: float) -> float:
    clv = _clv(frames, gross_margin=gross_margin)
    cost = cac(frames["spend"], frames["customers"])
    return math.nan if is_nan(clv) or is_nan(cost) else ltv_to_cac(clv, cost)


def _payback(frames: Frames, *, gross_margin: float) -> float:
    cost, monthly_arpu = cac(frames["spend"], frames["customers"]), _monthly_arpu(frames)
    if is_nan(cost) or is_nan(monthly_arpu):
        return math.nan  # nobody acquired, or nobody paid: payback is undefined
    return cac_payback_months(cost, arpu=monthly_arpu, gross_margin=gross_margin)


def _latest_opening(frames: Frames) -> pd.Timestamp:
    """The default ``as_of`` of the case KPIs: the latest case opening (UTC)."""
    opened: pd.Timestamp = as_utc(frames["cases"]["opened_at"], "opened_at").max()
    return opened


def _metric(
    name: str,
    description: str,
    requires: Mapping[str, tuple[str, ...]],
    function: Any,
    needs_options: tuple[str, ...] = (),
) -> FunctionMetric:
    return FunctionMetric(
        name=name,
        description=description,
        requires=requires,
        function=function,
        needs_options=needs_options,
    )


_CUSTOMERS = {"customers": ("customer_id", "acquired_at")}
_CHURN = {"customers": ("customer_id", "acquired_at", "churned_at")}
_SPEND = {"spend": ("channel", "paid", "period", "spend")}
_SUBS = {"subscriptions": ("customer_id", "period", "mrr")}
_DEAL = OpportunityColumns()
_LEAD = LeadColumns()
_LOG = EventLogColumns()
_EVENTS = (_LOG.entity_id, _LOG.source, _LOG.dest, _LOG.at)
_DEALS = {
    "opportunities": (_DEAL.opportunity_id, _DEAL.created_at, _DEAL.state, _DEAL.amount),
    "opportunity_events": _EVENTS,
}
_FEEDBACK = {"feedback": ("kind", "score", "at")}
_CASES = {"cases": ("case_id", "opened_at")}

BUILTIN_METRICS: Final[tuple[FunctionMetric, ...]] = (
    _metric(
        "new_customers",
        "Customers acquired (count).",
        _CUSTOMERS,
        lambda f, start=None, end=None: new_customers(f["customers"], start=start, end=end),
    ),
    _metric(
        "cac_blended",
        "Blended CAC: all spend ÷ all new customers (Skok).",
        {**_SPEND, "customers": ("customer_id", "acquired_at", "channel")},
        lambda f, start=None, end=None: cac(f["spend"], f["customers"], start=start, end=end),
    ),
    _metric(
        "cac_paid",
        "Paid CAC: paid spend ÷ customers from paid channels (Skok).",
        {**_SPEND, "customers": ("customer_id", "acquired_at", "channel")},
        lambda f, start=None, end=None: cac(
            f["spend"], f["customers"], paid_only=True, start=start, end=end
        ),
    ),
    _metric(
        "monthly_churn_rate",
        "Pooled monthly customer churn (lost ÷ at start; new customers excluded).",
        _CHURN,
        _monthly_churn,
    ),
    _metric(
        "annual_churn_rate",
        "Monthly churn compounded to a year: 1 − (1 − monthly)^12.",
        _CHURN,
        lambda f: (
            math.nan
            if math.isnan(m := _monthly_churn(f))
            else convert_churn_rate(m, from_freq="M", to_freq="Y")
        ),
    ),
    _metric("arpu_monthly", "Monthly revenue per paying customer.", _SUBS, _monthly_arpu),
    _metric("mrr", "MRR of the latest month.", _SUBS, _mrr),
    _metric(
        "nrr_12m",
        "Net revenue retention over the latest 12 months (new customers excluded).",
        _SUBS,
        _nrr_12m,
    ),
    _metric(
        "historic_clv",
        "Historic CLV: monthly ARPU × gross margin ÷ monthly churn.",
        {**_SUBS, **_CHURN},
        _clv,
        needs_options=("gross_margin",),
    ),
    _metric(
        "ltv_to_cac",
        "Historic CLV ÷ blended CAC (target ≥ 3, Skok).",
        {**_SUBS, **_CHURN, **_SPEND},
        _ltv_to_cac,
        needs_options=("gross_margin",),
    ),
    _metric(
        "cac_payback_months",
        "Blended CAC ÷ (monthly ARPU × gross margin).",
        {**_SUBS, **_SPEND, **_CUSTOMERS},
        _payback,
        needs_options=("gross_margin",),
    ),
    _metric(
        "average_order_value",
        "Σ order amounts ÷ orders.",
        {"orders": ("order_id", "customer_id", "at", "amount")},
        lambda f: average_order_value(f["orders"]),
    ),
    _metric(
        "lead_conversion_rate",
        "Leads that reached the won status ÷ every lead created (the lead funnel).",
        {"lead_events": _EVENTS, "leads": (_LEAD.lead_id, _LEAD.created_at)},
        _lead_conversion,
    ),
    _metric(
        "win_rate",
        "Deals won ÷ deals closed.",
        _DEALS,
        lambda f, as_of=None: win_rate(f["opportunities"], f["opportunity_events"], as_of=as_of),
    ),
    _metric(
        "average_deal_size",
        "Σ amount of won deals ÷ won deals.",
        _DEALS,
        lambda f, as_of=None: average_deal_size(
            f["opportunities"], f["opportunity_events"], as_of=as_of
        ),
    ),
    _metric(
        "sales_cycle_days",
        "Median days from deal creation to win.",
        _DEALS,
        lambda f, as_of=None: sales_cycle_length(
            f["opportunities"], f["opportunity_events"], as_of=as_of, statistic="median"
        ),
    ),
    _metric(
        "weighted_pipeline",
        "Σ amount × stage probability of open deals.",
        _DEALS,
        lambda f, as_of=None: weighted_pipeline(
            f["opportunities"], f["opportunity_events"], as_of=as_of
        ),
    ),
    _metric(
        "nps",
        "Net Promoter Score: % promoters − % detractors (Reichheld 2003).",
        _FEEDBACK,
        lambda f: nps(f["feedback"]),
    ),
    _metric(
        "csat",
        "Share of satisfied answers (4–5 of 5).",
        _FEEDBACK,
        lambda f: csat(f["feedback"]),
    ),
    _metric(
        "ces",
        "Customer effort score (Dixon et al. 2010).",
        _FEEDBACK,
        lambda f: ces(f["feedback"]),
    ),
    _metric(
        "first_response_time",
        "Time from case opening to first response.",
        _CASES,
        lambda f: first_response_time(f["cases"]),
    ),
    _metric(
        "resolution_time",
        "Time from case opening to resolution.",
        _CASES,
        lambda f: resolution_time(f["cases"]),
    ),
    _metric(
        "backlog",
        "Open cases as of a date (default: the latest case opening).",
        _CASES,
        lambda f, as_of=None: backlog(
            f["cases"],
            as_of=as_of if as_of is not None else _latest_opening(f),
            by=("state", "priority"),
        ),
    ),
    _metric(
        "sla_breach_rate",
        "Share of cases breaching their SLA (needs option sla_policy).",
        _CASES,
        lambda f, sla_policy, as_of=None: sla_breach_rate(
            f["cases"],
            sla_policy,
            as_of=as_of if as_of is not None else _latest_opening(f),
        ),
        needs_options=("sla_policy",),
    ),
)
NAMED_METRICS.update((metric.name, metric) for metric in BUILTIN_METRICS)
