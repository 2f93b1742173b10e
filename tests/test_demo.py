from __future__ import annotations

import pathlib

import pytest

from crmlifecycle._demo import SECTIONS, run_demo
from crmlifecycle.cli import main


def test_demo_runs_every_section(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--leads", "1500", "--seed", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for title, _ in SECTIONS:
        assert f"{title}\n{'=' * len(title)}\n" in out
    assert "generating a world of 1,500 leads (seed 3)" in out
    # every capability leaves its files in the folder the demo names
    assert (tmp_path / "data" / "orders.csv").exists()
    assert len(list((tmp_path / "plots").glob("*.png"))) >= 6
    assert (tmp_path / "kpis.csv").exists()


def test_every_section_module_has_a_demo_section() -> None:
    import importlib

    for _, module in SECTIONS:
        assert callable(importlib.import_module(module).demo_section)


def test_run_demo_returns_zero(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(seed=11, n_leads=1200, out=str(tmp_path / "nested" / "folder")) == 0
    assert "done in" in capsys.readouterr().err
