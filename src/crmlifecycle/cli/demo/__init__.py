"""
The ``crmlifecycle demo`` report: one section per capability, on one generated world.

The demo is a client of the library: every section uses only the public API of
the capability it shows. Each section module (``world``, ``lifecycles``, ``records``,
``rules``, ``scoring``, ``kpis``, ``support``, ``clv``, ``plots``) provides
``demo_section(data, *, out) -> str``; :func:`run_demo` generates the world,
runs the sections in :data:`SECTIONS` order (the first writes the world to
``out/data`` so ``crmlifecycle report`` can be tried on it) and prints each
one under its title with its timing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from crmlifecycle.cli.demo import (
    clv,
    hardening,
    kpis,
    lifecycles,
    plots,
    records,
    rules,
    scoring,
    support,
    world,
)
from crmlifecycle.synth import generate

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["SECTIONS", "Section", "run_demo"]


class Section(Protocol):
    """A section of the report: writes its files into ``out`` and returns its text."""

    def __call__(self, data: Dataset, *, out: Path) -> str:
        """Run the section on ``data``; return the text block the demo prints."""
        ...


#: The sections in the order the report prints them: (title, section).
SECTIONS: Final[tuple[tuple[str, Section], ...]] = (
    ("The generated world", world.demo_section),
    ("Lifecycles", lifecycles.demo_section),
    ("Records and their events", records.demo_section),
    ("Bad input", hardening.demo_section),
    ("Rules", rules.demo_section),
    ("Scoring", scoring.demo_section),
    ("KPI report", kpis.demo_section),
    ("Support and satisfaction", support.demo_section),
    ("Customer lifetime value", clv.demo_section),
    ("Plots", plots.demo_section),
)


def run_demo(*, seed: int, n_leads: int, out: str) -> int:
    """
    Generate a world, run every section on it, print the report; return the exit status.

    Args:
        seed: the random seed of the generated world.
        n_leads: how many leads the world has.
        out: the folder for the data, tables and plots (created if missing).

    Returns:
        0: the sections write their own files; errors propagate to the command line.
    """
    started = time.perf_counter()
    data: Dataset = generate(seed=seed, n_leads=n_leads)  # checks its arguments: nothing printed
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"crmlifecycle demo: a world of {n_leads:,} leads (seed {seed})", flush=True)
    print(f"  generated in {time.perf_counter() - started:.1f} s\n", flush=True)
    for title, section in SECTIONS:
        section_started = time.perf_counter()
        text = section(data, out=folder)
        elapsed = time.perf_counter() - section_started
        rule = "=" * len(title)
        print(f"{title}\n{rule}\n{text.rstrip()}\n({elapsed:.1f} s)\n", flush=True)
    total = time.perf_counter() - started
    print(f"done in {total:.1f} s; data and plots are in {folder.resolve()}", file=sys.stderr)
    return 0
