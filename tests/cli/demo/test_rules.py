from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.cli.demo.rules import _describe, demo_section
from crmlifecycle.synth import generate


def test_demo_section_prints_counts_and_writes_actions(tmp_path: pathlib.Path) -> None:
    text = demo_section(generate(seed=3, n_leads=300), out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("Rules:")
    assert 5 <= len(lines) <= 25
    assert "agrees: True" in text
    assert (tmp_path / "rule_actions.csv").exists()


def test_the_demo_describes_each_kind_of_action() -> None:
    due = pd.Timestamp("2026-03-03 09:30", tz="UTC")
    assert _describe({"action": "fire", "trigger": "convert"}) == "fire convert"
    assert _describe({"action": "set", "field": "track", "value": "b"}) == "set track = 'b'"
    assert _describe({"action": "task", "title": "Call", "due_at": due}) == (
        "task 'Call' due 2026-03-03 09:30"
    )
    assert _describe({"action": "notify", "to": "ops", "message": "hi"}) == "notify ops: hi"
