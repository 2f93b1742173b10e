"""
The bad-input section of ``crmlifecycle demo``: what a careless export or configuration meets.

The generated world is damaged the ways real exports and hosts damage data: a
customer without an id, times exported across a daylight-saving change (accepted:
every value carries its offset, so it is read in UTC), a record stepped through
another kind's lifecycle, a configuration naming a key twice, a fit on customers
that all look alike. Each refusal is a typed error naming what is wrong; the
section prints the first sentence of each and writes the whole messages to
``bad_input.txt``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from crmlifecycle.entities import Customer
from crmlifecycle.errors import CrmError
from crmlifecycle.metrics import churn_rate
from crmlifecycle.metrics.clv import BGNBDModel
from crmlifecycle.rules import RuleSet
from crmlifecycle.stages import LEAD_STATUS

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["demo_section"]

_WIDTH = 96  # a printed line at most, the rest is in the file


def _first_sentence(error: CrmError) -> str:
    text = str(error).split(" Hint:", 1)[0]
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _cases(data: Dataset) -> list[tuple[str, Callable[[], object]]]:
    customers = data.customers
    start = data.end - pd.DateOffset(months=1)
    blank = customers.copy()
    blank.loc[blank.index[0], "customer_id"] = " "
    alike = pd.DataFrame({"frequency": [2] * 50, "recency": [30.0] * 50, "T": [40.0] * 50})
    first = customers.iloc[0]
    stray = Customer(id=str(first["customer_id"]), created_at=first["acquired_at"].to_pydatetime())
    return [
        ("a customer export with a blank id", lambda: churn_rate(blank, start=start, end=data.end)),
        (
            "a customer stepped by the lead lifecycle",
            lambda: LEAD_STATUS.fire(stray, "contact", at=data.end),
        ),
        ("a rule set naming a key twice", lambda: RuleSet.from_text('{"rules": [], "rules": []}')),
        ("BG/NBD on 50 customers that all look alike", lambda: BGNBDModel().fit(alike)),
    ]


def _across_dst(customers: pd.DataFrame) -> pd.DataFrame:
    """The export as text in Europe/Berlin: offsets +01:00 and +02:00 in one column."""
    local = customers.copy()
    for column in ("acquired_at", "churned_at"):
        stamps = local[column].dt.tz_convert("Europe/Berlin")
        local[column] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S%z").where(stamps.notna(), None)
    return local


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Damage the world's data the ways exports do; show what is accepted and what is refused.

    Writes the whole messages to ``out / "bad_input.txt"``.

    Args:
        data: the generated world (``crmlifecycle.synth.generate``).
        out: the demo's output folder.

    Returns:
        The text block the demo prints.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle.synth import generate
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     text = demo_section(generate(seed=7, n_leads=400), out=pathlib.Path(tmp))
        >>> print(text.splitlines()[0])
        An export across a daylight-saving change (offsets +01:00 and +02:00 in one column):
    """
    start = data.end - pd.DateOffset(months=1)
    clean = churn_rate(data.customers, start=start, end=data.end)
    local = churn_rate(_across_dst(data.customers), start=start, end=data.end)
    lines = [
        "An export across a daylight-saving change (offsets +01:00 and +02:00 in one column):",
        f"  read in UTC, churn in the last month {local:.2%} (the clean export: {clean:.2%})",
        "Refused, each with a typed error naming what is wrong:",
    ]
    messages = []
    for what, call in _cases(data):
        try:
            call()
        except CrmError as error:
            lines.append(f"  {what}: {type(error).__name__}")
            lines.append(f"    {_first_sentence(error)}")
            messages.append(f"{what}\n{type(error).__name__}: {error}\n")
        else:  # a demo that shows a refusal that did not happen would mislead
            msg = f"the demo expected {what!r} to be refused"
            raise AssertionError(msg)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bad_input.txt").write_text("\n".join(messages), encoding="utf-8")
    lines.append("(the whole messages, with their hints: bad_input.txt)")
    return "\n".join(lines)
