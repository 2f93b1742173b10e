"""The demo runner: every section printed under its title, in order, from one generated world."""

from __future__ import annotations

import pathlib

import pytest

from crmlifecycle.cli import main
from crmlifecycle.cli.demo import SECTIONS, run_demo

TITLES = [
    "The generated world",
    "Lifecycles",
    "Records and their events",
    "Bad input",
    "Rules",
    "Scoring",
    "KPI report",
    "Support and satisfaction",
    "Customer lifetime value",
    "Plots",
]


def test_the_sections_are_the_capabilities_in_report_order() -> None:
    assert [title for title, _ in SECTIONS] == TITLES


def test_demo_runs_every_section(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--leads", "1500", "--seed", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("crmlifecycle demo: a world of 1,500 leads (seed 3)\n")
    # each title is underlined and the titles come in the order of SECTIONS
    where = [out.index(f"\n{title}\n{'=' * len(title)}\n") for title in TITLES]
    assert where == sorted(where)
    # each section opens with its own first line, right under its title
    assert "\nThe generated world\n===================\nwindow 20" in out
    assert "\nLifecycles\n==========\nevent logs replayed" in out
    assert "\nRecords and their events\n========================\none lead's life" in out
    assert "lead equal True, deal equal True" in out
    assert "\nBad input\n=========\nAn export across a daylight-saving change" in out
    assert "\nRules\n=====\nRules: one condition, two engines" in out
    assert "\nKPI report\n==========\nKPI report (gross margin assumed 80%)" in out
    assert "\nSupport and satisfaction\n========================\nSLA targets" in out
    # every capability leaves its files in the folder the demo names
    assert (tmp_path / "data" / "orders.csv").exists()
    assert (tmp_path / "kpis.csv").exists()
    assert (tmp_path / "rule_actions.csv").exists()
    assert (tmp_path / "sla_status.csv").exists()
    assert (tmp_path / "bad_input.txt").exists()
    assert (tmp_path / "clv_by_customer.csv").exists()


def test_run_demo_returns_zero(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(seed=11, n_leads=1200, out=str(tmp_path / "nested" / "folder")) == 0
    err = capsys.readouterr().err
    assert err.startswith("done in ")
    assert str((tmp_path / "nested" / "folder").resolve()) in err
