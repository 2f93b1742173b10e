"""
KPI calculators over pandas DataFrames: acquisition, retention, revenue, funnel, pipeline.

Every calculator takes DataFrames and, for each frame parameter ``X`` it
reads, one keyword ``X_columns`` naming that frame's columns (a column-spec
record of :mod:`crmlifecycle.schema` whose defaults are the library's data
contract), checks them up front, never mutates them, follows a cited
definition (see ``docs/kpis.md``), and returns a float, or with ``freq=``
and/or ``by=`` a frame with one row per period and segment holding the KPI
and the counts that produced it (overloads tell a type checker which).
The funnel and pipeline KPIs read the facts about stages (order, won and
lost, probabilities, forecast categories) from a lifecycle of
:mod:`crmlifecycle.stages`. Per-customer KPIs also come as a split step
(``*_partial``) and a combine step (``combine_*``) so the same pandas code can
run partition-wise on Dask or Spark. :func:`compute_kpis` runs the built-in
and plugged-in :class:`Metric` objects over a whole data set. Predictive CLV
models live in :mod:`crmlifecycle.metrics.clv`.

Examples:
    >>> import pandas as pd
    >>> from crmlifecycle.metrics import convert_churn_rate, cohort_retention
    >>> round(convert_churn_rate(0.02, from_freq="M", to_freq="Y"), 3)
    0.215
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "at": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-01-09"], utc=True),
    ... })
    >>> cohort_retention(orders).loc["2026-01"].tolist()
    [1.0, 0.5]
"""

from __future__ import annotations

from crmlifecycle.metrics._acquisition import (
    cac,
    combine_new_customers,
    new_customers,
    new_customers_partial,
)
from crmlifecycle.metrics._backlog import backlog
from crmlifecycle.metrics._cohort import (
    cohort_retention,
    cohort_retention_partial,
    combine_cohort_retention,
)
from crmlifecycle.metrics._deals import deal_stages
from crmlifecycle.metrics._events import stage_spells
from crmlifecycle.metrics._forecast import forecast, weighted_pipeline
from crmlifecycle.metrics._funnel import conversion_rate, funnel
from crmlifecycle.metrics._lifetime import average_order_value, historic_clv, order_based_clv
from crmlifecycle.metrics._pipeline import average_deal_size, sales_cycle_length, win_rate
from crmlifecycle.metrics._protocol import FunctionMetric, KpiReport, Metric
from crmlifecycle.metrics._rate_conversion import convert_churn_rate
from crmlifecycle.metrics._registry import (
    ENTRY_POINT_GROUP,
    available_metrics,
    compute_kpis,
    get_metric,
    register_metric,
)
from crmlifecycle.metrics._retention import (
    churn_rate,
    churn_rate_partial,
    combine_churn_rate,
    retention_rate,
)
from crmlifecycle.metrics._revenue import (
    arpu,
    combine_mrr_movements,
    mrr_movements,
    mrr_movements_partial,
)
from crmlifecycle.metrics._revenue_retention import gross_revenue_retention, net_revenue_retention
from crmlifecycle.metrics._satisfaction import ces, csat, nps
from crmlifecycle.metrics._service import (
    first_response_time,
    resolution_time,
    sla_breach_rate,
)
from crmlifecycle.metrics._stage_times import stage_velocity, time_in_stage
from crmlifecycle.metrics._unit_economics import cac_payback_months, ltv_to_cac

__all__ = [
    "ENTRY_POINT_GROUP",
    "FunctionMetric",
    "KpiReport",
    "Metric",
    "arpu",
    "available_metrics",
    "average_deal_size",
    "average_order_value",
    "backlog",
    "cac",
    "cac_payback_months",
    "ces",
    "churn_rate",
    "churn_rate_partial",
    "cohort_retention",
    "cohort_retention_partial",
    "combine_churn_rate",
    "combine_cohort_retention",
    "combine_mrr_movements",
    "combine_new_customers",
    "compute_kpis",
    "conversion_rate",
    "convert_churn_rate",
    "csat",
    "deal_stages",
    "first_response_time",
    "forecast",
    "funnel",
    "get_metric",
    "gross_revenue_retention",
    "historic_clv",
    "ltv_to_cac",
    "mrr_movements",
    "mrr_movements_partial",
    "net_revenue_retention",
    "new_customers",
    "new_customers_partial",
    "nps",
    "order_based_clv",
    "register_metric",
    "resolution_time",
    "retention_rate",
    "sales_cycle_length",
    "sla_breach_rate",
    "stage_spells",
    "stage_velocity",
    "time_in_stage",
    "weighted_pipeline",
    "win_rate",
]
