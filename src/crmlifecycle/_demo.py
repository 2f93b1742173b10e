"""The ``crmlifecycle demo`` report, one section per capability."""

from __future__ import annotations


def run_demo(*, seed: int, n_leads: int, out: str) -> int:
    """Generate a world and print the report; return the exit status."""
    print(f"crmlifecycle demo (seed={seed}, leads={n_leads}, out={out})")  # noqa: T201
    return 0
