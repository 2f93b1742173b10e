"""The predictive-CLV section: the calibration/holdout split it reads from the orders."""

from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.cli.demo.clv import demo_section
from crmlifecycle.synth import Dataset


def test_the_split_and_the_customers_come_from_the_orders(
    world: Dataset, tmp_path: pathlib.Path
) -> None:
    lines = demo_section(world, out=tmp_path).splitlines()
    assert lines[0] == "Predictive CLV (BG/NBD + Gamma-Gamma, weekly)"
    end = world.orders["at"].max().normalize()
    calibration_end = end - pd.Timedelta(weeks=26)
    # the customers whose first order falls on or before the calibration end (a UTC day)
    orders = world.orders[world.orders["at"].dt.normalize() <= calibration_end]
    customers = orders["customer_id"].nunique()
    assert lines[1] == (
        f"  calibration to {calibration_end.date()}, holdout 26 weeks to {end.date()}; "
        f"{customers} customers, " + lines[1].split("customers, ")[1]
    )
    assert lines[2].startswith("  BG/NBD: r=")
    assert lines[3].startswith("  Gamma-Gamma: p=")
    top = [line for line in lines if line.startswith("    C")]
    assert len(top) == 5
    written = pd.read_csv(tmp_path / "clv_by_customer.csv", index_col=0)
    assert len(written) == customers
    assert {"frequency", "clv", "probability_alive"} <= set(written.columns)
    assert lines[-1] == f"  wrote {tmp_path / 'clv_by_customer.csv'}"
