"""
The lifecycles section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.stages`).

The world's event logs replayed through the standard lifecycles, a bulk step,
an as-of pipeline snapshot and one deal's history step by step.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlifecycle.entities import Opportunity
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
)
from crmlifecycle.values import Money

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["demo_section"]


def _agreement(
    lifecycle: Lifecycle, events: pd.DataFrame, frame: pd.DataFrame, id_col: str, state_col: str
) -> str:
    replayed = lifecycle.replay_frame(events)["state"].astype(str)
    current = frame.set_index(id_col)[state_col].astype(str)
    expected = replayed.reindex(current.index).fillna(lifecycle.initial)
    agree = int((expected == current).sum())
    return (
        f"  {lifecycle.name:<12} {len(events):>6,} events, {len(current):>5,} records: "
        f"{agree:,} agree ({agree / max(len(current), 1):.1%})"
    )


def _reason(value: object) -> str:
    """A lost reason from a frame cell: missing values (None, NaN, NA, blank) are not recorded."""
    if isinstance(value, str) and value.strip():
        return value
    return "not recorded"


def _escalation(data: Dataset, when: pd.Timestamp) -> list[str]:
    """Bulk-escalate the cases as they stood at ``when`` (states replayed from the log)."""
    cases = data.cases[data.cases["opened_at"] <= when]
    snapshot = CASE_STATUS.replay_frame(data.case_events, as_of=when)["state"].astype(str)
    states = snapshot.reindex(cases["case_id"]).fillna(CASE_STATUS.initial)
    frame = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy(),
            "state": states.to_numpy(),
            "priority": cases["priority"].to_numpy(),
        }
    )
    step = CASE_STATUS.fire_frame(frame, "escalate", at=when)
    escalated = int(step.accepted.sum())
    refused = ", ".join(f"{int(n)} {why}" for why, n in step.reason.value_counts().items() if n)
    urgent = int((frame["priority"] == "urgent").sum())
    return [
        f"bulk step on {len(frame):,} cases as of {when:%Y-%m-%d}, fire_frame(cases, 'escalate'):",
        (
            f"  {escalated:,} escalated, {len(frame) - escalated:,} refused "
            f"({refused or 'none'}); urgent {urgent:,} -> "
            f"{int((step.frame['priority'] == 'urgent').sum()):,}"
        ),
    ]


def _history(data: Dataset) -> list[str]:
    events = data.opportunity_events
    if not len(events):
        return ["  (no opportunity events)"]
    counts = events.groupby("entity_id", sort=True).size()
    deal_id = str(counts.idxmax())
    row: Any = data.opportunities.set_index("opportunity_id").loc[deal_id]
    created = row["created_at"].to_pydatetime()
    deal = Opportunity(
        id=deal_id,
        name=deal_id,
        amount=Money(round(float(row["amount"]), 2), "EUR"),
        created_at=created,
    )
    lines = [f"history of {deal_id}, replayed step by step with fire():"]
    lines.append(f"  {created:%Y-%m-%d} created in {deal.state} ({deal.probability}%)")
    log = events[events["entity_id"] == deal_id].sort_values("at", kind="stable")
    for trigger, at in zip(log["trigger"], log["at"], strict=True):
        context: dict[str, Any] = {}
        if trigger == "lose":  # a lost step needs a reason; the export may not have kept one
            context["lost_reason"] = _reason(row["lost_reason"])
        deal = OPPORTUNITY_PIPELINE.fire(
            deal, str(trigger), at=at.to_pydatetime(), **context
        ).entity
        extra = (
            f", reason {deal.lost_reason}, last open {deal.last_open_stage}"
            if deal.state == "lost"
            else ""
        )
        lines.append(f"  {at:%Y-%m-%d} {trigger:<9} -> {deal.state} ({deal.probability}%{extra})")
    return lines


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Run the generated world through its lifecycles; write Mermaid diagrams to ``out/lifecycles``.

    Replays the four event logs and checks them against the frames' current
    states, bulk-escalates the open cases with ``fire_frame``, takes an as-of
    pipeline snapshot, and replays one deal's history step by step.

    Returns:
        The text block the demo prints.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle.synth import generate
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     text = demo_section(generate(seed=7, n_leads=300), out=pathlib.Path(tmp))
        >>> print(text.splitlines()[0])
        event logs replayed and checked against current states:
    """
    folder = pathlib.Path(out) / "lifecycles"
    folder.mkdir(parents=True, exist_ok=True)
    for lifecycle in (CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE, CASE_STATUS):
        (folder / f"{lifecycle.name}.mmd").write_text(lifecycle.to_mermaid(), encoding="utf-8")
    lines = ["event logs replayed and checked against current states:"]
    lines += [
        _agreement(LEAD_STATUS, data.lead_events, data.leads, "lead_id", "state"),
        _agreement(
            OPPORTUNITY_PIPELINE,
            data.opportunity_events,
            data.opportunities,
            "opportunity_id",
            "state",
        ),
        _agreement(
            CUSTOMER_LIFECYCLE, data.customer_events, data.customers, "customer_id", "state"
        ),
        _agreement(CASE_STATUS, data.case_events, data.cases, "case_id", "state"),
    ]
    mid = data.start + (data.end - data.start) / 2
    lines += _escalation(data, mid)
    snapshot = OPPORTUNITY_PIPELINE.replay_frame(data.opportunity_events, as_of=mid)
    created = data.opportunities[data.opportunities["created_at"] <= mid]["opportunity_id"]
    states = snapshot["state"].astype(str).reindex(created).fillna(OPPORTUNITY_PIPELINE.initial)
    counts = states.value_counts()
    shown = ", ".join(f"{s} {int(counts.get(s, 0)):,}" for s in OPPORTUNITY_PIPELINE.states)
    lines.append(f"pipeline as of {mid:%Y-%m-%d} (replay_frame):")
    lines.append(f"  {shown}")
    lines.append(f"Mermaid diagrams written to {folder} (4 files)")
    lines += _history(data)
    return "\n".join(lines)
