from __future__ import annotations

import pathlib

from crmlifecycle.rules._demo import demo_section
from crmlifecycle.synth import generate


def test_demo_section_prints_counts_and_writes_actions(tmp_path: pathlib.Path) -> None:
    text = demo_section(generate(seed=3, n_leads=300), out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("Rules:")
    assert 5 <= len(lines) <= 25
    assert "agrees: True" in text
    assert (tmp_path / "rule_actions.csv").exists()
