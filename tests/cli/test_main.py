from __future__ import annotations

import pytest

from crmlifecycle.cli import EXIT_OK, EXIT_USER_ERROR, main


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: crmlifecycle")


@pytest.mark.parametrize("command", [[], ["demo"], ["report"], ["lint"]])
def test_help_everywhere(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"usage: crmlifecycle {' '.join(command)}".rstrip())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == version("crmlifecycle")


@pytest.mark.parametrize(
    "args",
    [["frobnicate"], ["report", "--gross-margin", "lots"], ["lint"], ["lint", "--kind", "x", "a"]],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("crmlifecycle")  # one line, pointing at --help (no usage block)
    assert err.count("\n") == 1
    assert "--help" in err
    assert "error:" in err
    assert "Traceback" not in err


def test_demo_is_dispatched_to_the_demo_runner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []

    def fake_run_demo(*, seed: int, n_leads: int, out: str) -> int:
        calls.append({"seed": seed, "n_leads": n_leads, "out": out})
        return 0

    monkeypatch.setattr("crmlifecycle.cli.demo.run_demo", fake_run_demo)
    assert main(["demo", "--seed", "3", "--leads", "100", "--out", "here"]) == EXIT_OK
    assert main(["demo"]) == EXIT_OK
    assert calls == [
        {"seed": 3, "n_leads": 100, "out": "here"},
        {"seed": 7, "n_leads": 5000, "out": "demo-output"},
    ]
    assert capsys.readouterr().err == ""
