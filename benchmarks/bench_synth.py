"""
Time ``crmlifecycle.synth.generate`` at one million leads and measure its peak memory.

The purchase parameters are raised from the defaults so that the world holds about
ten million orders: each customer buys at a weekly rate drawn from Gamma(5, 1)
(five orders a week on average) and drops out after each repeat order with a
probability drawn from Beta(1, 100) (about one in a hundred). The funnel keeps its
defaults (about 9% of leads become customers).

There is no baseline to compare with: the script prints absolute wall time (median
of several runs), orders per second and the peak memory traced by tracemalloc
(numpy and pyarrow buffers included).

Run: .venv/bin/python benchmarks/bench_synth.py [--leads 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

from _bench import median_seconds, peak_memory_mb

from crmlifecycle.synth import Dataset, WorldParams, generate

PARAMS = WorldParams(purchase_r=5.0, purchase_alpha=1.0, dropout_a=1.0, dropout_b=100.0)


def run(n_leads: int) -> Dataset:
    return generate(seed=1, n_leads=n_leads, params=PARAMS, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    world = generate(seed=1, n_leads=args.leads, params=PARAMS, progress=True)
    first = time.perf_counter() - started
    rows = {name: len(frame) for name, frame in world.frames().items()}
    del world
    print(f"python {platform.python_version()}, {platform.machine()}")
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    print(f"first run (with progress bar): {first:.1f} s")

    seconds = median_seconds(lambda: run(args.leads), repeat=args.repeat, warmup=0)
    orders = rows["orders"]
    print(
        f"generate(n_leads={args.leads:,}): median {seconds:.1f} s over {args.repeat} runs, "
        f"{orders / seconds:,.0f} orders/s, {sum(rows.values()) / seconds:,.0f} rows/s"
    )
    peak = peak_memory_mb(lambda: run(args.leads))
    print(f"peak traced memory: {peak:,.0f} MiB")
    resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident set size: {resident:,.0f} MiB")


if __name__ == "__main__":
    main()
