"""
The synthetic-world section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.synth`).

It summarises the generated world and writes it as CSV files to ``out/data``,
where ``crmlifecycle report`` can read it.
"""

from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.stages import CASE_STATUS, CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE
from crmlifecycle.synth import Dataset, write_dataset

__all__ = ["demo_section"]


def _counts(series: pd.Series, order: tuple[str, ...]) -> str:
    counts = series.value_counts()
    return ", ".join(f"{name} {int(counts.get(name, 0)):,}" for name in order)


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Summarise ``data`` (sizes, states, revenue, example rows) and write it to ``out/data``.

    Args:
        data: the generated world.
        out: the demo's output folder; the CSV files go to ``out / "data"``.

    Returns:
        The text block the demo prints.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle.synth import generate
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     text = demo_section(generate(seed=7, n_leads=500), out=pathlib.Path(tmp))
        >>> print(text.splitlines()[0][:23])
        window 2024-01-01 .. 20
    """
    folder = write_dataset(data, pathlib.Path(out) / "data", file_format="csv")
    sizes = data.frames()
    revenue = float(data.orders["amount"].sum())
    last_month = data.subscriptions["period"].max() if len(data.subscriptions) else None
    mrr = (
        float(data.subscriptions.loc[data.subscriptions["period"] == last_month, "mrr"].sum())
        if last_month is not None
        else 0.0
    )
    spend = float(data.spend["spend"].sum())
    named = [f"{name} {len(frame):,}" for name, frame in sizes.items()]
    size_lines = [", ".join(named[i : i + 5]) for i in range(0, len(named), 5)]
    example = data.orders.head(3).copy()
    example["at"] = example["at"].dt.strftime("%Y-%m-%d %H:%M")
    lines = [
        f"window {data.start.date()} .. {data.end.date()} (exclusive), written to {folder}",
        *(("rows: " if i == 0 else "      ") + line for i, line in enumerate(size_lines)),
        "leads by state: " + _counts(data.leads["state"], LEAD_STATUS.states),
        "opportunities by state: "
        + _counts(data.opportunities["state"], OPPORTUNITY_PIPELINE.states),
        "customers by state: " + _counts(data.customers["state"], CUSTOMER_LIFECYCLE.states),
        "cases by state: " + _counts(data.cases["state"], CASE_STATUS.states),
        f"order revenue EUR {revenue:,.2f} from {len(data.orders):,} orders",
        f"MRR in the last month EUR {mrr:,.2f}; campaign spend EUR {spend:,.2f}",
        "example orders:",
        *("  " + line for line in example.to_string(index=False).splitlines()),
    ]
    return "\n".join(lines)
