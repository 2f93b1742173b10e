"""
User code calling the funnel and pipeline KPIs, which mypy --strict must type exactly.

Not a test module (pytest does not collect it): ``assert_type`` fails the type check when a
KPI's overloads stop telling a number (no ``freq``/``by``) from a table (``freq`` or ``by``
given). The calls are never run.
"""

from __future__ import annotations

from typing import assert_type

import pandas as pd

from crmlifecycle.metrics import (
    average_deal_size,
    conversion_rate,
    deal_stages,
    forecast,
    funnel,
    sales_cycle_length,
    stage_spells,
    stage_velocity,
    time_in_stage,
    weighted_pipeline,
    win_rate,
)
from crmlifecycle.schema import EventLogColumns, OpportunityColumns
from crmlifecycle.stages import LEAD_STATUS


def kpis(deals: pd.DataFrame, events: pd.DataFrame, leads: pd.DataFrame) -> None:
    """The number and the table form of every funnel and pipeline KPI."""
    log = EventLogColumns(entity_id="deal_id")
    book = OpportunityColumns(opportunity_id="deal_id")

    assert_type(conversion_rate(events, from_stage="proposal", to_stage="won"), float)
    assert_type(
        conversion_rate(events, from_stage="proposal", to_stage="won", freq="M"), pd.DataFrame
    )
    assert_type(
        conversion_rate(
            events, from_stage="open", to_stage="converted", lifecycle=LEAD_STATUS, by="channel"
        ),
        pd.DataFrame,
    )
    assert_type(
        conversion_rate(events, from_stage="proposal", to_stage="won", freq="Q", by=["owner"]),
        pd.DataFrame,
    )

    assert_type(win_rate(deals, events), float)
    assert_type(win_rate(deals, events, as_of="2026-03-01", events_columns=log), float)
    assert_type(win_rate(deals, events, freq="M"), pd.DataFrame)
    assert_type(win_rate(deals, events, by="owner", opportunities_columns=book), pd.DataFrame)

    assert_type(average_deal_size(deals, events), float)
    assert_type(average_deal_size(deals, events, freq="Q"), pd.DataFrame)
    assert_type(average_deal_size(deals, events, by=["owner", "region"]), pd.DataFrame)

    assert_type(sales_cycle_length(deals, events, statistic="median"), float)
    assert_type(sales_cycle_length(deals, events, freq="M"), pd.DataFrame)
    assert_type(sales_cycle_length(deals, events, by="owner"), pd.DataFrame)

    assert_type(weighted_pipeline(deals, events), float)
    assert_type(weighted_pipeline(deals, events, by="owner"), pd.DataFrame)

    assert_type(forecast(deals, events, start="2026-01-01"), pd.DataFrame)
    assert_type(funnel(events, lifecycle=LEAD_STATUS, by="channel", entities=leads), pd.DataFrame)
    assert_type(time_in_stage(events), pd.DataFrame)
    assert_type(stage_velocity(events, freq="M"), pd.DataFrame)
    assert_type(stage_spells(events, kind="lead"), pd.DataFrame)
    assert_type(deal_stages(deals, events, as_of="2026-03-01"), pd.DataFrame)
