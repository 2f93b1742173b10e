"""The plots section: every plot written and listed; a note instead when matplotlib is absent."""

from __future__ import annotations

import pathlib

import pytest

from crmlifecycle.cli.demo.plots import demo_section

EXPECTED = [
    "funnel_opportunities.png",
    "cohort_retention.png",
    "mrr_movements.png",
    "clv_distribution.png",
    "holdout_predicted_vs_actual.png",
    "lifecycle_customer.png",
    "lifecycle_lead.png",
    "lifecycle_opportunity.png",
    "lifecycle_case.png",
]


def test_demo_section_writes_and_lists_every_plot(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    from crmlifecycle.synth import generate

    text = demo_section(generate(seed=1, n_leads=1500), out=tmp_path)
    lines = text.splitlines()
    assert lines[0] == f"Plots written to {tmp_path / 'plots'}:"
    assert [line.split()[0] for line in lines[1:]] == EXPECTED
    assert 5 <= len(lines) <= 25
    for name in EXPECTED:
        assert (tmp_path / "plots" / name).stat().st_size > 10_000


def test_demo_section_without_matplotlib(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    text = demo_section(object(), out=tmp_path)  # type: ignore[arg-type]
    assert text == (
        "Plots skipped: crmlifecycle.plotting needs matplotlib, which is not installed. "
        "Hint: pip install 'crmlifecycle[plot]'."
    )
