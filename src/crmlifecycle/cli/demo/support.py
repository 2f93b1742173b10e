"""
The support section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.sla`).

SLA status of the cases at the end date, and, from :mod:`crmlifecycle.metrics`,
response and resolution times, the backlog, and NPS / CSAT / CES.
"""

from __future__ import annotations

import math
import pathlib
from typing import TYPE_CHECKING, Final

import pandas as pd

from crmlifecycle.entities import CASE_PRIORITIES
from crmlifecycle.metrics import backlog, ces, csat, first_response_time, nps, resolution_time
from crmlifecycle.sla import BusinessCalendar, SlaPolicy, sla_status

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["DEMO_POLICY", "demo_section"]

#: The example policy the demo applies: business hours Monday-Friday 08:00-18:00 UTC.
DEMO_POLICY: Final = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "8h"},
        "high": {"first_response": "2h", "resolution": "16h"},
        "normal": {"first_response": "4h", "resolution": "40h"},
        "low": {"first_response": "8h", "resolution": "80h"},
    },
    calendar=BusinessCalendar(tz="UTC", hours={"mon-fri": "08:00-18:00"}),
)


def _pct(part: int, whole: int) -> str:
    return "n/a" if whole == 0 else f"{100 * part / whole:.1f}%"


def _num(value: float, fmt: str) -> str:
    return "n/a" if math.isnan(value) else format(value, fmt)


def _hours(row: pd.Series) -> str:
    if int(row["count"]) == 0:
        return "no cases yet"
    return f"median {row['median_hours']:.1f} h, p90 {row['p90_hours']:.1f} h"


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Summarise the support cases of ``data`` at its end date: SLAs, times, backlog, satisfaction.

    Writes the per-case SLA status to ``out / "sla_status.csv"``.

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
        SLA targets, response/resolution: urgent 1h/8h, high 2h/16h, normal 4h/40h, low 8h/80h
    """
    cases, events, at = data.cases, data.case_events, data.end
    status = sla_status(cases, DEMO_POLICY, as_of=at, events=events)
    out.mkdir(parents=True, exist_ok=True)
    status.assign(case_id=cases["case_id"], priority=cases["priority"]).to_csv(
        out / "sla_status.csv", index=False
    )
    targets = ", ".join(
        f"{p} {t.to_dict()['first_response']}/{t.to_dict()['resolution']}"
        for p, t in DEMO_POLICY.targets.items()
    )
    lines = [
        f"SLA targets, response/resolution: {targets}",
        "in business hours Mon-Fri 08:00-18:00 UTC; clocks pause while waiting on the customer",
        f"SLA status of {len(cases):,} cases at {at.date()}:",
        "  priority  cases  response breached  resolution breached  resolution open",
    ]
    for priority in reversed(CASE_PRIORITIES):
        mine = status.loc[(cases["priority"] == priority).to_numpy()]
        decided_fr = int(mine["first_response_status"].isin(["met", "breached"]).sum())
        decided_res = int(mine["resolution_status"].isin(["met", "breached"]).sum())
        running = int(mine["resolution_status"].isin(["running", "paused"]).sum())
        lines.append(
            f"  {priority:<8} {len(mine):>6}  "
            f"{_pct(int(mine['first_response_breached'].sum()), decided_fr):>17}  "
            f"{_pct(int(mine['resolution_breached'].sum()), decided_res):>19}  {running:>15}"
        )
    calendar = DEMO_POLICY.calendar
    response = first_response_time(cases).iloc[0]
    response_business = first_response_time(cases, calendar=calendar).iloc[0]
    resolved = resolution_time(cases).iloc[0]
    resolved_business = resolution_time(cases, calendar=calendar).iloc[0]
    lines += [
        f"first response: {_hours(response)} elapsed; {_hours(response_business)} business",
        f"resolution:     {_hours(resolved)} elapsed; {_hours(resolved_business)} business",
    ]
    queue = backlog(cases, at=at, events=events, by="status")
    assert isinstance(queue, pd.DataFrame)  # noqa: S101 - by= makes it a frame
    queue_text = ", ".join(
        f"{row.status} {row.open_cases}" for row in queue.itertuples(index=False)
    )
    lines.append(f"backlog at {at.date()}: {queue_text or 'none'}")
    feedback = data.feedback
    counts = feedback["kind"].value_counts()
    scores = {
        "nps": nps(feedback),
        "csat": csat(feedback),
        "ces": ces(feedback),
    }
    values = {k: float(v) if isinstance(v, float) else math.nan for k, v in scores.items()}
    lines.append(
        f"satisfaction: NPS {_num(values['nps'], '+.1f')} ({int(counts.get('nps', 0))} answers), "
        f"CSAT {_num(values['csat'], '.1f')}% ({int(counts.get('csat', 0))}), "
        f"CES {_num(values['ces'], '.2f')} on 1-7 ({int(counts.get('ces', 0))})"
    )
    lines.append(f"per-case SLA status written to {out / 'sla_status.csv'}")
    return "\n".join(lines)
