"""
Small public data sets that the docs and tests share.

Every loader returns a fresh :class:`pandas.DataFrame` read from a file shipped
inside the package (through :mod:`importlib.resources`), so the data are
available offline and identical everywhere. Each loader's docstring cites the
source of its data; see ``docs/clv.md`` for how the models reproduce the
published results on them.

Examples:
    >>> from crmlifecycle.datasets import load_cdnow_summary
    >>> load_cdnow_summary().shape
    (2357, 4)
"""

from __future__ import annotations

from crmlifecycle.datasets._load import (
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
    load_retention_cohorts,
)

__all__ = [
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "load_donations",
    "load_retention_cohorts",
]
