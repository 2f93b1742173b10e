"""Set up a virtual environment and run the project's two jobs.

Usage (from a fresh clone, with only Python 3.11+ installed)::

    python3 dev.py demo     # set up, then run `crmlifecycle demo` on generated data
    python3 dev.py check    # set up, then run ruff, mypy, the architecture contract,
                            # the docs build and the whole test suite

Extra arguments after the job name are passed on (to `crmlifecycle demo` or to pytest).
The environment lives in `.venv/` and is reinstalled when `pyproject.toml` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".crmlifecycle-installed"
EXTRAS = {"demo": "yaml,plot", "check": "test,dev,docs,yaml,parquet,plot"}
PYTEST_NO_TESTS_COLLECTED = 5


def _run(*args: str | Path) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT)


def _plugins(job: str) -> list[Path]:
    # The example plugin packages under plugins/ are installed (not editable) for the
    # check, so the tests see them exactly as a user's installed plugin: via entry points.
    if job != "check":
        return []
    return sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))


def _fingerprint(plugins: list[Path]) -> str:
    hasher = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    for plugin in plugins:
        for source in sorted(plugin.rglob("*")):
            skip = "egg-info" in str(source) or "__pycache__" in str(source)
            if source.is_file() and not skip:
                hasher.update(source.read_bytes())
    return hasher.hexdigest()


def _setup(job: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must run (and explain) on old Pythons
        sys.exit(f"crmlifecycle needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PYTHON.exists():
        print(f"creating {VENV.name}/ ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    extras, plugins = EXTRAS[job], _plugins(job)
    wanted = f"{_fingerprint(plugins)} {job}"
    have = STAMP.read_text().split("\n") if STAMP.exists() else []
    if wanted in have:
        return
    pip = (PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    if _run(*pip, "--upgrade", "pip") or _run(*pip, "--editable", f".[{extras}]"):
        sys.exit("installation failed; see the pip output above")
    for plugin in plugins:
        if _run(*pip, "--no-deps", "--force-reinstall", plugin):
            sys.exit(f"installing the example plugin {plugin.name} failed; see above")
    STAMP.write_text("\n".join([*have, wanted]))


def _check(extra: list[str]) -> int:
    steps: list[tuple[str | Path, ...]] = [
        (PYTHON, "-m", "ruff", "check", "."),
        (PYTHON, "-m", "ruff", "format", "--check", "."),
        (PYTHON, "-m", "mypy"),
        (BIN / "lint-imports", "--no-cache"),  # the architecture contract (pyproject.toml)
    ]
    for step in steps:
        if code := _run(*step):
            return code
    docs = (PYTHON, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html")
    if code := _run(*docs, "docs", "docs/_build/html"):
        return code
    pytest = (PYTHON, "-m", "pytest", "-n", "auto", "--cov", "--cov-report=term", *extra)
    code = _run(*pytest)
    if code == PYTEST_NO_TESTS_COLLECTED:
        print("pytest collected no tests: that is a failure, not a pass", flush=True)
        return 1
    return code


def main(argv: list[str]) -> int:
    """Run a job: `demo` or `check`."""
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    job, extra = argv[0], argv[1:]
    _setup(job)
    if job == "demo":
        return _run(BIN / "crmlifecycle", "demo", *extra)
    return _check(extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
