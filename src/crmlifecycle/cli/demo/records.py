"""
The records section of ``crmlifecycle demo``: one lead's life as events, stored and rebuilt.

A lead of the generated world is merged with a duplicate, assigned, worked and
converted; its deal gets custom fields declared by the pipeline and a step. The
events (each with its envelope: id, sequence, actor, lifecycle and version) are
written as JSON lines, read back, and replayed into records equal to the live
ones, through the event-log frame too. Then the log is checked the ways a host
meets: a definition whose guard was tightened since (refused, then replayed
with ``trust=True``) and a log with two events swapped (refused).
"""

from __future__ import annotations

import pathlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlifecycle.entities import Lead, Opportunity
from crmlifecycle.errors import EventLogError, LifecycleVersionError
from crmlifecycle.events import Event, event_from_json, event_to_json
from crmlifecycle.stages import (
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    convert_lead,
    events_to_frame,
)
from crmlifecycle.values import Money

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["demo_section"]

#: The demo's pipeline: the standard one, declaring two custom fields of the deals.
_FIELDS = [
    {"name": "tier", "type": "str", "choices": ["gold", "silver", "bronze"]},
    {"name": "seats", "type": "int", "description": "licences in the offer"},
]


def _text(value: object) -> str | None:
    """A frame cell as text, or ``None`` when missing."""
    return value if isinstance(value, str) and value.strip() else None


def _lead_of(row: Any) -> Lead:
    created: datetime = row["created_at"].to_pydatetime()
    budget = row["budget"]
    return Lead(
        id=str(row["lead_id"]),
        created_at=created,
        email=_text(row["email"]),
        channel=_text(row["channel"]),
        industry=_text(row["industry"]),
        country=_text(row["country"]),
        budget=Money(round(float(budget), 2), "EUR") if pd.notna(budget) else None,
    )


def _life(data: Dataset, pipeline: Lifecycle) -> tuple[list[Event], Lead, Opportunity]:
    """Walk one lead from creation to a qualified deal; return the events and the two records."""
    converted = data.leads[data.leads["state"] == "converted"]
    row = (converted if len(converted) else data.leads).iloc[0]
    lead = _lead_of(row)
    t = lead.created_at
    hour = timedelta(hours=1)
    duplicate = Lead(
        id=f"{lead.id}-dup", created_at=t, company="Acme Analytics", job_title="Head of Data"
    )
    log: list[Event] = [
        LEAD_STATUS.create(lead, actor="import"),
        LEAD_STATUS.create(duplicate, actor="web form"),
    ]
    merge = LEAD_STATUS.merge(lead, duplicate, at=t + hour, actor="ana")
    lead = merge.survivor.entity
    log += merge.events
    assigned = LEAD_STATUS.assign(lead, "ana", at=t + 2 * hour, actor="rule:round-robin")
    lead = assigned.entity
    log.append(assigned.event)
    for i, trigger in enumerate(("contact", "qualify"), start=3):
        step = LEAD_STATUS.fire(lead, trigger, at=t + i * hour, actor="ana")
        lead = step.entity
        log.append(step.event)
    conversion = convert_lead(
        lead, at=t + 5 * hour, new_opportunity_id=f"O-{lead.id}", actor="ana", pipeline=pipeline
    )
    lead = conversion.lead
    assert conversion.opportunity is not None  # noqa: S101 - a new opportunity was asked for
    log += conversion.events
    edit = pipeline.edit(
        conversion.opportunity, at=t + 6 * hour, actor="ana", tier="gold", seats=40
    )
    qualified = pipeline.fire(edit.entity, "qualify", at=t + 7 * hour, actor="ana")
    log += [edit.event, qualified.event]
    return log, lead, qualified.entity


def _describe(event: Event) -> str:
    data = event.to_dict()
    if data["event"] == "transitioned":
        what = f"{data['trigger']}: {data['source']} -> {data['dest']}"
    elif data["event"] == "created":
        what = f"created in {event.data.get('state')}"  # type: ignore[union-attr]
    else:
        changes = ", ".join(f"{k}={v[1]!r}" for k, v in data["changes"].items())
        reason = event.context.get("reason", "edit")
        what = f"{reason}: {changes}"
    return f"  {event.event_id or '-':<26} {event.actor or '-':<16} {what}"


def _rebuild(lines: list[str], pipeline: Lifecycle) -> dict[str, Any]:
    """Read the JSON lines back and replay each record from its own events."""
    events = [event_from_json(line) for line in lines]
    by_record: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        by_record.setdefault((event.kind, event.entity_id), []).append(event)
    classes = {"lead": (Lead, LEAD_STATUS), "opportunity": (Opportunity, pipeline)}
    return {
        entity_id: classes[kind][1].replay(classes[kind][0], log)
        for (kind, entity_id), log in by_record.items()
    }


_WIDTH = 150


def _first_line(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Show one lead's life as stored events; write them to ``out/records/events.jsonl``.

    Returns:
        The text block the demo prints.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle.synth import generate
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     text = demo_section(generate(seed=7, n_leads=300), out=pathlib.Path(tmp))
        >>> print(text.splitlines()[0])
        one lead's life, as the events a host stores (id, actor, what happened):
    """
    pipeline = Lifecycle.from_dict({**OPPORTUNITY_PIPELINE.to_dict(), "fields": _FIELDS})
    log, lead, deal = _life(data, pipeline)
    folder = pathlib.Path(out) / "records"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.jsonl"
    path.write_text("".join(event_to_json(e) + "\n" for e in log), encoding="utf-8")
    lines = ["one lead's life, as the events a host stores (id, actor, what happened):"]
    lines += [_describe(e) for e in log]
    rebuilt = _rebuild(path.read_text(encoding="utf-8").splitlines(), pipeline)
    duplicate = rebuilt[f"{lead.id}-dup"]
    lines.append(
        f"rebuilt from {path.name} alone: lead equal {rebuilt[lead.id] == lead}, deal equal "
        f"{rebuilt[deal.id] == deal}; the duplicate is merged into {duplicate.merged_into}"
    )
    frame = events_to_frame(e for e in log if e.kind == "lead")
    states = LEAD_STATUS.replay_frame(frame)
    state, version = str(states.loc[lead.id, "state"]), states["version"].get(lead.id)
    lines.append(
        f"replay_frame on the event-log frame: {lead.id} is {state} at version {version} "
        f"(the record: {lead.state}, {lead.version})"
    )
    deal_log = [e for e in log if e.entity_id == deal.id]
    spec = pipeline.to_dict()
    for transition in spec["transitions"]:
        if transition["trigger"] == "qualify":
            transition["when"] = "amount >= 1000000"
    stricter = Lifecycle.from_dict(spec)
    lines.append(f"the pipeline's qualify guard tightened (version {stricter.version}):")
    try:
        stricter.replay(Opportunity, deal_log)
    except LifecycleVersionError as err:
        lines.append(f"  replay refuses the old log: {_first_line(err)}")
    trusted = stricter.replay(Opportunity, deal_log, trust=True)
    lines.append(f"  replay(..., trust=True) rebuilds the deal as recorded: {trusted == deal}")
    lead_log = [e for e in log if e.entity_id == lead.id]
    swapped = [lead_log[0], lead_log[2], lead_log[1], *lead_log[3:]]
    try:
        LEAD_STATUS.replay(Lead, swapped)
    except EventLogError as err:
        lines.append(f"a log with two events swapped: {_first_line(err)}")
    return "\n".join(lines)
