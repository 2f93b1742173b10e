"""
The KPI report section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.metrics`).

The KPI report, the deal funnel (overall and per owner, every deal counted) and quarterly
order cohorts.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

from crmlifecycle.metrics import cohort_retention, compute_kpis, funnel

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["DEMO_GROSS_MARGIN", "demo_section"]

#: The gross margin assumed by the demo for CLV, LTV:CAC and payback (stated in the output).
DEMO_GROSS_MARGIN = 0.8

_SHOWN = (
    "new_customers",
    "cac_blended",
    "cac_paid",
    "monthly_churn_rate",
    "annual_churn_rate",
    "arpu_monthly",
    "mrr",
    "nrr_12m",
    "historic_clv",
    "ltv_to_cac",
    "cac_payback_months",
    "win_rate",
    "average_deal_size",
    "sales_cycle_days",
    "weighted_pipeline",
    "lead_conversion_rate",
)


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Return the KPI report of the generated world, and write its tables into ``out``.

    Writes ``kpis.csv`` (every KPI, including skipped ones with the reason) and
    ``cohort_retention.csv`` (the quarterly cohort retention matrix).

    Examples:
        >>> import pathlib, tempfile
        >>> from crmlifecycle.synth import generate
        >>> text = demo_section(generate(seed=3, n_leads=300), out=pathlib.Path(tempfile.mkdtemp()))
        >>> text.splitlines()[0]
        'KPI report (gross margin assumed 80%)'
    """
    out.mkdir(parents=True, exist_ok=True)
    report = compute_kpis(data, names=list(_SHOWN), gross_margin=DEMO_GROSS_MARGIN)
    report.to_frame().to_csv(out / "kpis.csv", index=False)
    frames = data.frames()
    matrix = cohort_retention(frames["orders"], freq="Q")
    matrix.to_csv(out / "cohort_retention.csv")
    # every deal counts, including those still in their first stage (no event yet)
    deals = frames["opportunities"]
    stages = funnel(frames["opportunity_events"], entities=deals)
    lines = [f"KPI report (gross margin assumed {DEMO_GROSS_MARGIN:.0%})"]
    lines += ["  " + line for line in report.to_text().splitlines()]
    steps = " -> ".join(f"{s} {n}" for s, n in zip(stages["state"], stages["reached"], strict=True))
    lines.append(f"  deal funnel: {steps}")
    if not matrix.empty and matrix.shape[1] > 1:
        second = matrix[1].dropna()
        lines.append(
            f"  cohorts: {len(matrix)} quarterly; customers ordering again the next quarter: "
            f"{second.mean():.0%} on average ({out / 'cohort_retention.csv'})"
        )
    by_owner = funnel(frames["opportunity_events"], by="owner", entities=deals)
    won = by_owner[by_owner["state"] == "won"].set_index("owner")["reached"]
    started = by_owner[by_owner["state"] == by_owner["state"].iloc[0]].set_index("owner")["reached"]
    rates = (won / started).sort_values(ascending=False)
    if len(rates):
        lines.append(
            "  share of deals won, best owners (funnel by=owner): "
            + ", ".join(f"{owner} {rate:.0%}" for owner, rate in rates.head(4).items())
        )
    lines.append(f"  all KPIs: {out / 'kpis.csv'}")
    return "\n".join(lines)
