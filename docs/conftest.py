# ruff: noqa: INP001 - pytest reads this file as a conftest, docs/ is not a package
"""Skip the pages whose examples need an example plugin (``plugins/``) that is not installed."""

from __future__ import annotations

from importlib import metadata

import pytest

#: Page -> the example plugin its examples run (the project's check installs both).
NEEDS_PLUGIN = {
    "cli.md": "crmlifecycle-example-metric",
    "how-to-kpis-from-export.md": "crmlifecycle-example-metric",
}


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a page's doctests, with the reason, when the plugin they use is not installed."""
    plugin = NEEDS_PLUGIN.get(item.path.name)
    if plugin is not None and not _installed(plugin):
        pytest.skip(f"the example plugin is not installed (pip install plugins/{plugin})")
