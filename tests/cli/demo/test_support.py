from __future__ import annotations

import pathlib

import pandas as pd

from crmlifecycle.cli.demo.support import DEMO_POLICY, demo_section
from crmlifecycle.synth import Dataset, generate


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


def test_the_table_counts_each_priority_and_the_answers(
    world: Dataset, tmp_path: pathlib.Path
) -> None:
    lines = demo_section(world, out=tmp_path).splitlines()
    header = "  priority  cases  response breached  resolution breached  resolution open"
    table = lines[lines.index(header) + 1 :][:4]
    counted = {row.split()[0]: int(row.split()[1]) for row in table}
    assert list(counted) == ["urgent", "high", "normal", "low"]
    assert counted == world.cases["priority"].value_counts().to_dict()
    answers = world.feedback["kind"].value_counts()
    satisfaction = next(line for line in lines if line.startswith("satisfaction: "))
    assert f"({answers['nps']} answers)" in satisfaction
    assert f"% ({answers['csat']})" in satisfaction
    assert f"on 1-7 ({answers['ces']})" in satisfaction
