"""
The architecture contract: the layers of the packages, and private modules kept private.

``lint-imports`` checks the contract in ``[tool.importlinter]`` (part of ``python3 dev.py
check``); these tests pin what the contract must say, and check the private-module rule
without import-linter.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
PACKAGE = SOURCE / "crmlifecycle"
CAPABILITIES = ("rules", "stages", "scoring", "sla", "metrics")
TOOLS = ("cli", "plotting", "synth")
CORE = ("schema", "entities", "values", "events", "errors")


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return {contract["id"]: contract for contract in contracts}


def _layer_of() -> dict[str, int]:
    """Each module named in the layers contract -> its layer's position (0 is the top)."""
    where: dict[str, int] = {}
    for position, layer in enumerate(_contracts()["layers"]["layers"]):
        for name in layer.replace(":", "|").split("|"):
            where[name.strip().strip("()")] = position
    return where


def test_capability_packages_sit_below_the_tools() -> None:
    layer = _layer_of()
    for capability in CAPABILITIES:
        for tool in TOOLS:
            assert layer[capability] > layer[tool], (capability, tool)


def test_the_core_sits_below_every_capability() -> None:
    layer = _layer_of()
    for core in CORE:
        assert all(layer[core] > layer[capability] for capability in CAPABILITIES), core
    assert layer["errors"] == max(layer.values())  # errors imports nothing of the package


def test_every_package_and_module_has_a_layer() -> None:
    contract = _contracts()["layers"]
    assert contract["containers"] == ["crmlifecycle"]
    assert contract["exhaustive"] is True


def test_the_private_module_contract_covers_the_whole_package() -> None:
    contract = _contracts()["private-modules"]
    assert contract["type"] == "private_modules"
    assert contract["packages_with_private_modules"] == ["crmlifecycle"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST) -> list[tuple[str, int]]:
    """The crmlifecycle modules (and ``from`` names) a module imports, with line numbers."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.split(".")[0] == "crmlifecycle"]


def _private_module(name: str) -> tuple[str, str] | None:
    """(owner package, private module) for the first private component of ``name``, if any."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i]), ".".join(parts[: i + 1])
    return None


def _is_module(name: str) -> bool:
    path = SOURCE.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _private_imports() -> list[str]:
    broken: dict[str, None] = {}  # ordered and without repeats
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for name, line in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            private = _private_module(name)
            if private is None or not _is_module(private[1]):
                continue
            owner = private[0]
            if importer != owner and not importer.startswith(owner + "."):
                broken[f"{importer} (line {line}) imports {private[1]}"] = None
    return list(broken)


def test_no_package_imports_another_packages_private_module() -> None:
    # crmlifecycle._frames & co. belong to the root package, so every package may use them;
    # crmlifecycle.metrics._service may be imported only from inside crmlifecycle.metrics.
    assert _private_imports() == []


def test_the_private_module_check_sees_a_violation() -> None:
    assert _private_module("crmlifecycle.metrics._service.backlog") == (
        "crmlifecycle.metrics",
        "crmlifecycle.metrics._service",
    )
    assert _private_module("crmlifecycle._frames") == ("crmlifecycle", "crmlifecycle._frames")
    assert _private_module("crmlifecycle.metrics.clv._bgnbd") == (
        "crmlifecycle.metrics.clv",
        "crmlifecycle.metrics.clv._bgnbd",
    )
    assert _private_module("crmlifecycle.metrics.clv") is None
    assert _private_module("crmlifecycle.cli.__main__") is None
    tree = ast.parse("from crmlifecycle.metrics._service import backlog\nimport crmlifecycle.sla")
    assert _imported(tree) == [
        ("crmlifecycle.metrics._service", 1),
        ("crmlifecycle.metrics._service.backlog", 1),
        ("crmlifecycle.sla", 2),
    ]


def test_the_contract_holds() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter (the dev extra) is not installed")
    done = subprocess.run(  # noqa: S603 - a fixed command on the project's own config
        [lint_imports, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
