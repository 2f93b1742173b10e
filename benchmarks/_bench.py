"""
Shared timing helpers for the benchmark scripts.

Machines here are shared and noisy, so every benchmark times our code and its
baseline side by side in one run, repeats each several times, and reports the
ratio of the medians rather than absolute times.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def median_seconds(func: Callable[[], Any], *, repeat: int = 5, warmup: int = 1) -> float:
    """Return the median wall time of ``func()`` over ``repeat`` runs (after warm-up runs)."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(func: Callable[[], Any]) -> float:
    """Return the peak Python-tracked allocation of ``func()`` in MiB (numpy buffers included)."""
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def report(name: str, ours: float, baseline: float, *, baseline_name: str, target: str) -> str:
    """Format one comparison line: times, ratio ours/baseline and the target."""
    ratio = ours / baseline if baseline else float("inf")
    line = (
        f"{name}: ours {ours * 1e3:.1f} ms, {baseline_name} {baseline * 1e3:.1f} ms, "
        f"ratio {ratio:.2f}x (target {target})"
    )
    print(line, flush=True)
    return line
