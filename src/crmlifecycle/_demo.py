"""
The ``crmlifecycle demo`` report: one section per capability, on one generated world.

Each capability package provides ``demo_section(data, *, out) -> str`` in its
private ``_demo`` module; this runner generates the world, writes it to
``out/data`` (so ``crmlifecycle report`` can be tried on it) and prints every
section in order with its timing.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

#: The sections in the order the report prints them (module paths are fixed, never user input).
SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("The generated world", "crmlifecycle.synth._demo"),
    ("Lifecycles", "crmlifecycle.stages._demo"),
    ("Rules", "crmlifecycle.rules._demo"),
    ("Scoring", "crmlifecycle.scoring._demo"),
    ("KPI report", "crmlifecycle.metrics._demo"),
    ("Support and satisfaction", "crmlifecycle.sla._demo"),
    ("Customer lifetime value", "crmlifecycle.metrics.clv._demo"),
    ("Plots", "crmlifecycle.plotting._demo"),
)


def _load(module: str) -> Callable[..., str]:
    section: Callable[..., str] = importlib.import_module(module).demo_section
    return section


def run_demo(*, seed: int, n_leads: int, out: str) -> int:
    """Generate a world, run every section on it, print the report; return the exit status."""
    from crmlifecycle.synth import generate

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"crmlifecycle demo: generating a world of {n_leads:,} leads (seed {seed})", flush=True)
    data: Dataset = generate(seed=seed, n_leads=n_leads)
    print(f"  generated in {time.perf_counter() - started:.1f} s\n", flush=True)
    for title, module in SECTIONS:
        section_started = time.perf_counter()
        text = _load(module)(data, out=folder)
        elapsed = time.perf_counter() - section_started
        rule = "=" * len(title)
        print(f"{title}\n{rule}\n{text.rstrip()}\n({elapsed:.1f} s)\n", flush=True)
    total = time.perf_counter() - started
    print(f"done in {total:.1f} s; data and plots are in {folder.resolve()}", file=sys.stderr)
    return 0
