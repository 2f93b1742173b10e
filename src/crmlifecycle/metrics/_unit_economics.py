"""
Unit economics: LTV:CAC and CAC payback, ratios of two KPIs.

Definitions (David Skok, "SaaS Metrics 2.0 - A Guide to Measuring and Improving
What Matters"). Both take numbers, not frames: the CAC of
:func:`~crmlifecycle.metrics.cac`, a lifetime value, a monthly ARPU. A ratio is NaN
where its denominator is 0 (undefined), and never infinite: a ratio that overflows
a 64-bit float raises :class:`~crmlifecycle.errors.DataError`.
"""

from __future__ import annotations

import math

from crmlifecycle._finite import ensure_finite
from crmlifecycle.metrics._common import check_fraction, check_non_negative

__all__ = ["cac_payback_months", "ltv_to_cac"]


def ltv_to_cac(ltv: float, cac: float) -> float:
    """
    Return the LTV:CAC ratio (lifetime value ÷ acquisition cost).

    A ratio of 3 or more is the common target (Skok, "SaaS Metrics 2.0").
    NaN when ``cac`` is 0 (the ratio is undefined:
    customers cost nothing to acquire).

    Args:
        ltv: the customer lifetime value, in the same currency as ``cac``.
        cac: the customer acquisition cost (see :func:`cac`).

    Raises:
        ValidationError: a negative, infinite or NaN input (a NaN CAC or LTV is
            an undefined KPI upstream, e.g. no customer acquired: decide what
            it should be before dividing).
        DataError: the ratio overflows a 64-bit float (a huge LTV over a tiny CAC).

    Examples:
        >>> ltv_to_cac(1800.0, 600.0)
        3.0
        >>> ltv_to_cac(1800.0, 0.0)
        nan
    """
    value = check_non_negative(ltv, "ltv")
    cost = check_non_negative(cac, "cac")
    ratio = math.nan if cost == 0 else value / cost
    return ensure_finite(ratio, name="ltv_to_cac", inputs=["ltv", "cac"])


def cac_payback_months(cac: float, *, arpu: float, gross_margin: float) -> float:
    """
    Return the months of gross profit needed to earn back the CAC.

    Definition (Skok, "SaaS Metrics 2.0"): payback = CAC ÷ (monthly ARPU × gross
    margin). ``arpu`` must be *monthly* revenue per customer (see
    :func:`~crmlifecycle.metrics.arpu`) and ``gross_margin`` a fraction in
    [0, 1]. NaN when ARPU × margin is 0 (never paid back: undefined).

    Args:
        cac: the customer acquisition cost (see :func:`cac`).
        arpu: the average *monthly* revenue per customer, in the currency of ``cac``.
        gross_margin: the fraction of revenue kept as gross profit, in [0, 1].

    Raises:
        ValidationError: negative or NaN inputs, or a margin outside [0, 1].
        DataError: the number of months overflows a 64-bit float (a tiny ARPU × margin).

    Examples:
        >>> cac_payback_months(600.0, arpu=100.0, gross_margin=0.8)  # 600 / (100 * 0.8)
        7.5
    """
    cost = check_non_negative(cac, "cac")
    revenue = check_non_negative(arpu, "arpu")
    margin = check_fraction(gross_margin, "gross_margin")
    monthly_profit = revenue * margin
    if monthly_profit == 0:
        return math.nan
    payback = cost / monthly_profit
    return ensure_finite(payback, name="cac_payback_months", inputs=["cac", "arpu", "gross_margin"])
