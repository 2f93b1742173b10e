"""The lifecycles section of the demo, on the synthetic world."""

from __future__ import annotations

import pathlib

import attrs
import numpy as np
import pandas as pd
import pytest

from crmlifecycle import synth
from crmlifecycle.cli.demo.lifecycles import _reason, demo_section


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("price", "price"),
        (None, "not recorded"),
        (np.nan, "not recorded"),
        (pd.NA, "not recorded"),
        ("  ", "not recorded"),
    ],
)
def test_missing_lost_reasons_are_not_recorded(cell: object, shown: str) -> None:
    assert _reason(cell) == shown


def test_demo_section_reads_well(tmp_path: pathlib.Path) -> None:
    data = synth.generate(seed=7, n_leads=300)
    text = demo_section(data, out=tmp_path)
    lines = text.splitlines()
    assert lines[0] == "event logs replayed and checked against current states:"
    assert 5 <= len(lines) <= 25
    # every line fits 100 columns, but the one naming the output folder (the caller's path)
    assert all(len(line) <= 100 for line in lines if str(tmp_path) not in line)
    assert sorted(p.name for p in (tmp_path / "lifecycles").iterdir()) == [
        "case.mmd",
        "customer.mmd",
        "lead.mmd",
        "opportunity.mmd",
    ]


def test_a_lost_deal_without_a_reason_reads_not_recorded(tmp_path: pathlib.Path) -> None:
    data = synth.generate(seed=7, n_leads=300)
    events = data.opportunity_events
    deal = events.loc[events["trigger"] == "lose", "entity_id"].iloc[0]
    deals = data.opportunities
    unknown = deals.assign(lost_reason=deals["lost_reason"].where(deals["opportunity_id"] != deal))
    assert unknown.loc[unknown["opportunity_id"] == deal, "lost_reason"].isna().all()
    world = attrs.evolve(
        data, opportunity_events=events[events["entity_id"] == deal], opportunities=unknown
    )
    text = demo_section(world, out=tmp_path)
    assert f"history of {deal}" in text
    assert "reason not recorded" in text
    assert "nan" not in text.lower().replace("nance", "")  # e.g. "finance" is fine
