from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from crmlifecycle.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, main
from crmlifecycle.cli._lint import check_spec, detect_kind

CLEAN = """name: ticket
states: [todo, doing, {name: done, type: won}]
transitions:
  - {trigger: start, source: todo, dest: doing}
  - {trigger: finish, source: doing, dest: done}
"""


def _spec(tmp_path: pathlib.Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_clean_lifecycle_is_ok(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, "ticket.yaml", CLEAN)
    assert _run(["lint", spec], capsys) == (EXIT_OK, f"{spec}: lifecycle: ok\n", "")


def test_errors_are_printed_with_their_path_and_exit_1(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, "dup.yaml", CLEAN.replace("[todo, doing,", "[todo, doing, todo,"))
    status, out, _ = _run(["lint", spec], capsys)
    assert status == EXIT_PROBLEMS
    assert out.splitlines() == [
        (
            f"{spec}: error: states[2].name: state 'todo' is already declared at states[0]. "
            "[duplicate_state]"
        ),
        f"{spec}: lifecycle: 1 error(s), 0 warning(s)",
    ]


def test_warnings_pass_unless_strict(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CLEAN.replace("{name: done, type: won}]", "{name: done, type: won}, archived]")
    spec = _spec(tmp_path, "warn.yaml", text)
    status, out, _ = _run(["lint", spec], capsys)
    assert status == EXIT_OK
    assert f"{spec}: warning: states[3]: state 'archived' cannot be reached" in out
    assert out.splitlines()[-1] == f"{spec}: lifecycle: 0 error(s), 2 warning(s)"
    assert _run(["lint", "--strict", spec], capsys)[0] == EXIT_PROBLEMS


def test_mermaid_prints_the_diagram(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, "ticket.yaml", CLEAN)
    status, out, _ = _run(["lint", "--mermaid", spec], capsys)
    assert status == EXIT_OK
    lines = out.splitlines()
    assert lines[1] == "stateDiagram-v2"
    assert "    todo --> doing: start" in lines
    assert "    doing --> done: finish" in lines


def test_mermaid_only_for_lifecycles(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _spec(tmp_path, "rules.yaml", "rules: []\n")
    status, out, _ = _run(["lint", "--mermaid", rules], capsys)
    assert status == EXIT_PROBLEMS
    assert "--mermaid draws lifecycle specs only, this is a rules spec [not_a_lifecycle]" in out
    status, _, err = _run(["lint", "--mermaid", "--kind", "scorer", rules], capsys)
    assert status == EXIT_USER_ERROR
    assert "'--mermaid' must be used with lifecycle specs" in err


def test_rule_sets(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "rules:\n"
        "  - name: hot\n"
        "    when: {kind: lead, dest: contacted}\n"
        "    if: 'scroe >= 70'\n"
        "    then: [{fire: qualify}]\n"
    )
    spec = _spec(tmp_path, "rules.yaml", text)
    # without a schema any field name may exist in the host's records
    assert _run(["lint", spec], capsys)[:2] == (EXIT_OK, f"{spec}: rules: ok\n")
    status, out, _ = _run(["lint", "--entities", spec], capsys)
    assert status == EXIT_PROBLEMS
    lines = out.splitlines()
    assert lines[0].startswith(
        f"{spec}: error: rules[0].if: unknown field 'scroe' (did you mean 'score'?)"
    )
    assert lines[1:3] == ["      scroe >= 70", "      ^"]  # the caret under the problem
    broken = _spec(tmp_path, "syntax.yaml", text.replace("scroe >= 70", "score >="))
    status, out, _ = _run(["lint", broken], capsys)
    assert status == EXIT_PROBLEMS
    assert f"{broken}: error: rules[0].if: " in out


def test_every_broken_rule_is_reported(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "rules:\n"
        "  - {name: a, then: [{fir: qualify}]}\n"
        "  - {name: b, then: []}\n"
        "  - {name: c, iff: 'x > 1', then: []}\n"
        "  - {name: a, then: []}\n"
    )
    spec = _spec(tmp_path, "rules.yaml", text)
    status, out, _ = _run(["lint", spec], capsys)
    assert status == EXIT_PROBLEMS
    lines = out.splitlines()
    assert lines[0].startswith(f"{spec}: error: rules[0].then[0]: unknown action 'fir'")
    assert lines[1].startswith(f"{spec}: error: rules[2].iff: unknown key 'iff'")
    assert lines[2].startswith(f"{spec}: error: rules[3].name: duplicate rule name 'a'")
    assert lines[3] == f"{spec}: rules: 3 error(s), 0 warning(s)"
    missing = _spec(tmp_path, "empty.yaml", "version: 1\n")
    status, out, _ = _run(["lint", "--kind", "rules", missing], capsys)
    assert status == EXIT_PROBLEMS
    assert f"{missing}: error: rules: missing required key 'rules'" in out


def test_scorer_configs(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _spec(tmp_path, "rfm.json", '{"scorer": "rfm"}')
    assert _run(["lint", good], capsys)[:2] == (EXIT_OK, f"{good}: scorer: ok\n")
    bad = _spec(
        tmp_path, "points.json", '{"scorer": "points", "fit": [{"when": "a > 1", "pionts": 2}]}'
    )
    status, out, _ = _run(["lint", bad], capsys)
    assert status == EXIT_PROBLEMS
    assert f"{bad}: error: fit[0].pionts: unknown key 'pionts' (did you mean 'points'?)" in out


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "broken.json",
            '{"name": "x", "states": [',
            "invalid JSON at line 1, column 26 of the file",
        ),
        ("broken.yaml", "states: [a, b\n", "invalid YAML at line 2, column 1"),
        ("other.yaml", "hello: 1\n", "cannot tell what kind of spec this is"),
        ("both.yaml", "states: []\nrules: []\n", "cannot tell what kind of spec this is"),
        ("list.yaml", "- a\n- b\n", "cannot tell what kind of spec this is"),
        # PyYAML's safe loader refuses Python tags: nothing in a spec is ever executed
        ("evil.yaml", "states: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ],
)
def test_unreadable_or_unknown_documents_are_errors(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    expected: str,
) -> None:
    spec = _spec(tmp_path, name, text)
    status, out, _ = _run(["lint", spec], capsys)
    assert status == EXIT_PROBLEMS
    assert expected in out


def test_kind_can_be_forced(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path, "list.yaml", "- a\n")
    status, out, _ = _run(["lint", "--kind", "lifecycle", spec], capsys)
    assert status == EXIT_PROBLEMS
    assert "the document is a list, not a mapping of keys" in out
    rules = _spec(tmp_path, "rules.yaml", "rules: []\n")
    status, out, _ = _run(["lint", "--kind", "scorer", rules], capsys)
    assert status == EXIT_PROBLEMS
    assert "needs a 'scorer' key" in out


def test_several_files_and_json(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _spec(tmp_path, "ticket.yaml", CLEAN)
    bad = _spec(tmp_path, "rfm.json", '{"scorer": "rmf"}')
    status, out, _ = _run(["lint", "--json", "--mermaid", good, bad], capsys)
    assert status == EXIT_PROBLEMS
    results = json.loads(out)
    assert [(r["file"], r["kind"], r["ok"]) for r in results] == [
        (good, "lifecycle", True),
        (bad, "scorer", False),
    ]
    assert results[0]["mermaid"].startswith("stateDiagram-v2")
    problem = results[1]["problems"][0]
    assert problem["severity"] == "error"
    assert problem["path"] == "scorer"
    assert problem["message"].startswith("unknown scorer 'rmf' (did you mean 'rfm'?)")


def test_a_missing_file_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(["lint", "no/such/spec.yaml"], capsys)
    assert (status, out) == (EXIT_USER_ERROR, "")
    assert err == "crmlifecycle: error: cannot read no/such/spec.yaml: No such file or directory\n"


def test_detect_kind_and_check_spec() -> None:
    assert detect_kind({"states": [], "name": "x"}) == "lifecycle"
    assert detect_kind({"rules": []}) == "rules"
    assert detect_kind({"scorer": "rfm"}) == "scorer"
    assert detect_kind({"rules": [], "scorer": "rfm"}) is None
    assert detect_kind("text") is None
    assert check_spec({"rules": []}, "rules") == []
    assert check_spec("rfm", "scorer")[0].message.startswith("the document is a str")


def test_lint_as_a_subprocess(tmp_path: pathlib.Path) -> None:
    spec = _spec(tmp_path, "dup.yaml", CLEAN.replace("[todo, doing,", "[todo, doing, todo,"))
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "crmlifecycle.cli", "lint", spec],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == EXIT_PROBLEMS
    assert "[duplicate_state]" in done.stdout
