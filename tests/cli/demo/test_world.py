from __future__ import annotations

import pathlib

from crmlifecycle.cli.demo.world import demo_section
from crmlifecycle.synth import Dataset, read_dataset


def test_demo_section_summarises_and_writes_the_world(
    world: Dataset, tmp_path: pathlib.Path
) -> None:
    text = demo_section(world, out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("window ")  # the demo runner prints the title
    assert 5 <= len(lines) <= 25
    assert all(len(line) <= 110 for line in lines[1:])  # line 1 names the output folder
    converted = int((world.leads["state"] == "converted").sum())
    assert f"converted {converted:,}" in text
    assert f"{len(world.orders):,} orders" in text
    assert read_dataset(tmp_path / "data").leads.equals(world.leads)
