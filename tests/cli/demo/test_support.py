from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.cli.demo.support import DEMO_POLICY, demo_section
from crmlifecycle.synth import generate


def test_demo_section_is_a_short_titled_block(tmp_path: pathlib.Path) -> None:
    data = generate(seed=3, n_leads=600)
    text = demo_section(data, out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("SLA targets")  # the demo runner prints the title
    assert 5 <= len(lines) <= 25
    assert all(len(line) <= 100 for line in lines[:-1])
    written = pd.read_csv(tmp_path / "sla_status.csv")
    assert len(written) == len(data.cases)
    assert set(written["resolution_status"]) <= {"met", "breached", "running", "paused"}
    assert set(DEMO_POLICY.targets) == {"low", "normal", "high", "urgent"}
