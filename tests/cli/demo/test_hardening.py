"""The bad-input section: a damaged export is refused with typed errors, a DST export is read."""

from __future__ import annotations

import pathlib

from crmlifecycle.cli.demo.hardening import _across_dst, demo_section
from crmlifecycle.metrics import churn_rate
from crmlifecycle.synth import Dataset


def test_the_export_across_dst_holds_both_offsets_and_reads_like_the_clean_one(
    world: Dataset,
) -> None:
    local = _across_dst(world.customers)
    offsets = set(local["acquired_at"].str[-5:])
    assert offsets == {"+0100", "+0200"}  # winter and summer time in one column
    start, end = "2025-06-01", "2025-12-01"
    assert churn_rate(local, start=start, end=end) == churn_rate(
        world.customers, start=start, end=end
    )


def test_each_damage_is_refused_with_its_error_and_written_whole(
    world: Dataset, tmp_path: pathlib.Path
) -> None:
    text = demo_section(world, out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("An export across a daylight-saving change")
    assert "  a customer export with a blank id: DataError" in lines
    assert "  a customer stepped by the lead lifecycle: ValidationError" in lines
    assert "  a rule set naming a key twice: SpecError" in lines
    assert "  BG/NBD on 50 customers that all look alike: FitError" in lines
    assert all(len(line) <= 100 for line in lines)
    written = (tmp_path / "bad_input.txt").read_text(encoding="utf-8")
    assert written.count("Hint:") == 4  # the printed first sentences, with their hints
    assert "column 'customer_id'" in written
