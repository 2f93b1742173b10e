"""The KPI report section: the KPIs it names, the funnel and the cohorts it reads from the world."""

from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.cli.demo.kpis import DEMO_GROSS_MARGIN, demo_section
from crmlifecycle.synth import Dataset

SHOWN = [
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
]


def test_the_report_lists_the_kpis_in_order(world: Dataset, tmp_path: pathlib.Path) -> None:
    lines = demo_section(world, out=tmp_path).splitlines()
    assert lines[0] == "KPI report (gross margin assumed 80%)"
    assert DEMO_GROSS_MARGIN == 0.8
    assert [line.split()[0] for line in lines[1 : 1 + len(SHOWN)]] == SHOWN
    written = pd.read_csv(tmp_path / "kpis.csv")
    assert set(SHOWN) <= set(written.iloc[:, 0])
    assert lines[-1] == f"  all KPIs: {tmp_path / 'kpis.csv'}"


def test_the_counts_come_from_the_world(world: Dataset, tmp_path: pathlib.Path) -> None:
    text = demo_section(world, out=tmp_path)
    # every customer of the synthetic world is acquired inside its window
    assert f"  new_customers         {len(world.customers):,}\n" in text
    # the funnel starts with every deal of the world, those without an event included
    assert f"  deal funnel: prospecting {len(world.opportunities)} -> " in text
    # the funnel ends with the deals in the terminal 'won' stage
    won = int((world.opportunities["state"] == "won").sum())
    assert f" -> won {won}\n" in text
    matrix = pd.read_csv(tmp_path / "cohort_retention.csv", index_col=0)
    first_orders = pd.to_datetime(world.orders.groupby("customer_id")["at"].min(), utc=True)
    quarters = first_orders.dt.tz_localize(None).dt.to_period("Q").nunique()
    assert len(matrix) == quarters
    assert f"  cohorts: {quarters} quarterly;" in text
