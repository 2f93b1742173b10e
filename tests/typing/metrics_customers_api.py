"""
What a type checker knows about the per-customer KPIs (never run: the calls sit in a function).

mypy checks this file with the rest of ``tests/``: each KPI that is one number for the whole
data and a table per period or segment announces which, through its overloads. If a signature
loses them, ``assert_type`` fails the check.
"""

from __future__ import annotations

from typing import assert_type

import pandas as pd

from crmlifecycle.metrics import (
    arpu,
    average_order_value,
    backlog,
    cac,
    ces,
    churn_rate,
    csat,
    gross_revenue_retention,
    net_revenue_retention,
    new_customers,
    nps,
    retention_rate,
    sla_breach_rate,
)
from crmlifecycle.schema import CaseColumns, CustomerColumns, SpendColumns
from crmlifecycle.sla import SlaPolicy


def kpis() -> None:
    """The number and the table form of every per-customer KPI (never run)."""
    customers = pd.DataFrame()
    spend = pd.DataFrame()
    revenue = pd.DataFrame()
    orders = pd.DataFrame()
    feedback = pd.DataFrame()
    cases = pd.DataFrame()
    policy = SlaPolicy(targets={"normal": {"first_response": "4h"}})
    people = CustomerColumns(acquired_at="joined")

    assert_type(new_customers(customers), int)
    assert_type(new_customers(customers, customers_columns=people, start="2026-01-01"), int)
    assert_type(new_customers(customers, freq="M"), pd.DataFrame)
    assert_type(new_customers(customers, by="channel"), pd.DataFrame)

    assert_type(cac(spend, customers, spend_columns=SpendColumns(period="month")), float)
    assert_type(cac(spend, customers, paid_only=True), float)
    assert_type(cac(spend, customers, freq="Q"), pd.DataFrame)
    assert_type(cac(spend, customers, by=["channel"]), pd.DataFrame)

    assert_type(churn_rate(customers, start="2026-01-01", end="2026-02-01"), float)
    assert_type(churn_rate(customers, freq="M"), pd.DataFrame)
    assert_type(
        churn_rate(customers, start="2026-01-01", end="2026-02-01", by="plan"), pd.DataFrame
    )
    assert_type(retention_rate(customers, start="2026-01-01", end="2026-02-01"), float)
    assert_type(retention_rate(customers, freq="M", by="plan"), pd.DataFrame)

    assert_type(arpu(revenue), float)
    assert_type(arpu(revenue, freq="Q"), pd.DataFrame)
    assert_type(arpu(revenue, by="plan"), pd.DataFrame)
    assert_type(gross_revenue_retention(revenue, start="2025-01-01", end="2026-01-01"), float)
    assert_type(gross_revenue_retention(revenue, freq="M"), pd.DataFrame)
    assert_type(net_revenue_retention(revenue, start="2025-01-01", end="2026-01-01"), float)
    assert_type(
        net_revenue_retention(revenue, start="2025-01-01", end="2026-01-01", by="plan"),
        pd.DataFrame,
    )

    assert_type(average_order_value(orders), float)
    assert_type(average_order_value(orders, freq="M"), pd.DataFrame)
    assert_type(average_order_value(orders, by="channel"), pd.DataFrame)

    assert_type(nps(feedback), float)
    assert_type(nps(feedback, freq="M"), pd.DataFrame)
    assert_type(csat(feedback, threshold=4), float)
    assert_type(csat(feedback, by="team"), pd.DataFrame)
    assert_type(ces(feedback, scale=(1, 5)), float)
    assert_type(ces(feedback, freq="W", by="team"), pd.DataFrame)

    assert_type(sla_breach_rate(cases, policy, as_of="2026-12-01"), float)
    assert_type(sla_breach_rate(cases, policy, as_of="2026-12-01", freq="M"), pd.DataFrame)
    assert_type(sla_breach_rate(cases, policy, as_of="2026-12-01", by="priority"), pd.DataFrame)
    assert_type(
        backlog(cases, as_of="2026-12-01", cases_columns=CaseColumns(case_id="ticket")), int
    )
    assert_type(backlog(cases, as_of="2026-12-01", by=("state", "priority")), pd.DataFrame)
