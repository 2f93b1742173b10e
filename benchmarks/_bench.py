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
    """
    Return the peak memory ``func()`` allocates, in MiB.

    NumPy buffers and Python objects are traced by ``tracemalloc``; Arrow's buffers
    (pandas' string columns) are counted by a proxy of Arrow's memory pool set as the
    default for the call, so only what the call allocates counts.
    """
    import pyarrow as pa  # only the memory figures need it

    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)
    return (peak + (pool.max_memory() or 0)) / 2**20


def report(name: str, ours: float, baseline: float, *, baseline_name: str, target: str) -> str:
    """Format one comparison line: times, ratio ours/baseline and the target."""
    ratio = ours / baseline if baseline else float("inf")
    line = (
        f"{name}: ours {ours * 1e3:.1f} ms, {baseline_name} {baseline * 1e3:.1f} ms, "
        f"ratio {ratio:.2f}x (target {target})"
    )
    print(line, flush=True)
    return line
