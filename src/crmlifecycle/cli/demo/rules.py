"""
The rules section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.rules`).

Lead segments written as conditions, checked on both engines, and an automation
rule set run over the lead event log.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Final

from crmlifecycle.rules import Condition, RuleSet
from crmlifecycle.schema import EntityColumns

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["AUTOMATIONS", "SEGMENTS", "demo_section"]

#: The lead segments the demo counts: name -> condition.
SEGMENTS: Final = {
    "hot": "budget >= 20000 and company_size >= 200 and channel in ['webinar', 'referral']",
    "senior title": "startswith(job_title, 'Head') or contains(lower(job_title), 'director')",
    "budget unknown": "is_missing(budget)",
    "new this month": "days_since(created_at) <= 30",
}

#: The automation rule set the demo runs over the lead event log (a rule-set document).
AUTOMATIONS: Final = {
    "rules": [
        {
            "name": "call-big-budgets",
            "priority": 10,
            "when": {"kind": "lead", "dest": "contacted"},
            "if": "budget >= 20000",
            "then": [
                {"task": {"title": "Call within 2 days", "due": "days(2)", "assignee": "sales"}},
                {"notify": {"to": "sales-team", "message": "big-budget lead contacted"}},
            ],
        },
        {
            "name": "fast-track-large-accounts",
            "when": {"kind": "lead", "trigger": "qualify"},
            "if": "company_size >= 500",
            "then": [{"fire": "convert"}],
            "stop": True,
        },
        {
            "name": "nurture-unknown-budget",
            "when": {"kind": "lead", "dest": "unqualified"},
            "if": "is_missing(budget)",
            "then": [{"set": {"field": "nurture_track", "value": "budget-unknown"}}],
        },
    ]
}


def _describe(row: dict[str, object]) -> str:
    kind = row["action"]
    if kind == "fire":
        return f"fire {row['trigger']}"
    if kind == "set":
        return f"set {row['field']} = {row['value']!r}"
    if kind == "task":
        return f"task {row['title']!r} due {row['due_at']:%Y-%m-%d %H:%M}"
    return f"notify {row['to']}: {row['message']}"


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Apply lead segments and an automation rule set to the generated world.

    Writes ``rule_actions.csv`` (the actions the automations return) into ``out``.
    """
    leads = data.leads
    as_of = leads["created_at"].max()
    lines = ["Rules: one condition, two engines; automations return actions", ""]
    lines.append(f"lead segments over {len(leads):,} leads (frame engine, as_of={as_of:%Y-%m-%d}):")
    sample = leads.head(300)
    records = sample.to_dict("records")
    agree = True
    for name, text in SEGMENTS.items():
        cond = Condition.parse(text)
        hits = cond.evaluate_frame(leads, as_of=as_of)
        lines.append(f"  {name:<15} {int(hits.sum()):>6,}  {text}")
        one_by_one = [cond.evaluate(r, as_of=as_of) for r in records]
        agree = agree and one_by_one == cond.evaluate_frame(sample, as_of=as_of).tolist()
    lines.append(f"  record engine on the first {len(sample)} leads agrees: {agree}")
    rules = RuleSet.from_dict(AUTOMATIONS)
    actions = rules.evaluate_frame(
        data.lead_events, leads, entities_columns=EntityColumns(id="lead_id")
    )
    out.mkdir(parents=True, exist_ok=True)
    actions.to_csv(out / "rule_actions.csv", index=False)
    lines.append("")
    lines.append(
        f"automations over {len(data.lead_events):,} lead events -> {len(actions):,} actions:"
    )
    counts = actions.groupby(["rule", "action"], sort=True).size().reset_index(name="count")
    lines.extend(
        f"  {row['rule']:<26} {row['action']:<7} {row['count']:>6,}"
        for row in counts.to_dict("records")
    )
    first = actions.head(3)
    lines.extend(
        f"  e.g. {row['entity_id']} <- {row['rule']}: {_describe(row)}"  # type: ignore[arg-type]
        for row in first.to_dict("records")
    )
    lines.append(f"  written to {out / 'rule_actions.csv'}")
    return "\n".join(lines)
