"""
The ``crmlifecycle`` command line: ``demo``, ``report`` and ``lint``.

* ``crmlifecycle demo`` generates a synthetic CRM world and runs every capability on it.
* ``crmlifecycle report FOLDER`` computes the KPI report on your own CSV/parquet exports
  (``--col customer_id=cust`` maps your column names; ``--json`` for pipelines).
* ``crmlifecycle lint SPEC`` checks a lifecycle spec, rule set or scorer configuration
  and prints each problem with its path (``--mermaid`` prints a lifecycle's diagram).

Exit status: 0 success, 1 ``lint`` found errors, 2 a user error (bad arguments,
a missing file or column, a malformed value), reported on one line of stderr.
See ``docs/cli.md``.

Examples:
    >>> from crmlifecycle.cli import main
    >>> main(["report", "--list-kpis"])  # doctest: +ELLIPSIS
    new_customers ...
    0
"""

from __future__ import annotations

from crmlifecycle.cli._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR
from crmlifecycle.cli._main import main

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_USER_ERROR", "main"]
