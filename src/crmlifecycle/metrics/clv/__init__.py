"""
Predictive customer lifetime value: RFM summaries and the buy-till-you-die models.

- :func:`rfm_summary` / :func:`calibration_holdout` turn an order log into the
  frequency, recency, T (and monetary value) of each customer as of a cut-off
  (``as_of``), in any time unit;
- :class:`BGNBDModel` and :class:`ParetoNBDModel` forecast purchases in
  continuous time, :class:`BGBBModel` in discrete opportunities,
  :class:`GammaGammaModel` the spend per purchase and
  :class:`ShiftedBetaGeometricModel` contract renewals;
- :func:`customer_lifetime_value` combines a transaction and a spend model over
  an explicit horizon, time unit and discount rate;
- :func:`evaluate_holdout` compares forecasts with what customers then did;
- :class:`SummaryColumns` and :class:`HoldoutColumns` name the columns of the
  summaries the models read (``summary_columns=``, ``holdout_columns=``), as the
  records of :mod:`crmlifecycle.schema` do for the order log (``orders_columns=``).

Historic (backward-looking) CLV, such as ARPU x margin / churn, is a KPI of
:mod:`crmlifecycle.metrics`; see ``docs/clv.md`` for how the two relate.

Examples:
    >>> from crmlifecycle.datasets import load_cdnow_summary
    >>> from crmlifecycle.metrics.clv import BGNBDModel
    >>> BGNBDModel().fit(load_cdnow_summary())
    <BGNBDModel: r=0.2426, alpha=4.414, a=0.7929, b=2.426>
"""

from __future__ import annotations

from crmlifecycle.metrics.clv._bgbb import BGBBModel
from crmlifecycle.metrics.clv._bgnbd import BGNBDModel
from crmlifecycle.metrics.clv._columns import HoldoutColumns, SummaryColumns
from crmlifecycle.metrics.clv._gammagamma import GammaGammaModel
from crmlifecycle.metrics.clv._pareto import ParetoNBDModel
from crmlifecycle.metrics.clv._rfm import (
    calibration_holdout,
    rfm_combine,
    rfm_partial,
    rfm_summary,
    unit_positions,
)
from crmlifecycle.metrics.clv._sbg import ShiftedBetaGeometricModel
from crmlifecycle.metrics.clv._simulate import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_sbg,
)
from crmlifecycle.metrics.clv._value import (
    HoldoutEvaluation,
    customer_lifetime_value,
    evaluate_holdout,
)

__all__ = [
    "BGBBModel",
    "BGNBDModel",
    "GammaGammaModel",
    "HoldoutColumns",
    "HoldoutEvaluation",
    "ParetoNBDModel",
    "ShiftedBetaGeometricModel",
    "SummaryColumns",
    "calibration_holdout",
    "customer_lifetime_value",
    "evaluate_holdout",
    "rfm_combine",
    "rfm_partial",
    "rfm_summary",
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
    "simulate_sbg",
    "unit_positions",
]
