"""
Predictive CLV: crmlifecycle vs ``lifetimes`` (and a plain pandas RFM summary).

``lifetimes`` is archived and does not install beside pandas 3 / numpy 2, so it runs
in its own interpreter, given by the ``LIFETIMES_PYTHON`` environment variable (or
``--lifetimes-python``), e.g. a venv made with::

    python3.10 -m venv /tmp/ltvenv
    /tmp/ltvenv/bin/pip install "numpy<1.25" "pandas<2" "scipy<1.12" autograd dill lifetimes==0.11.3

Both sides read the same data, written to a temporary folder, in the same run:

1. BG/NBD fit on 500k simulated customers (target: >= 15x faster, same parameters to
   4 significant digits);
2. Gamma-Gamma fit on CDNOW's 946 repeat buyers (target: faster than lifetimes);
3. ``rfm_summary`` on 1M orders with string ids, tz-aware timestamps, daily occasions
   (target: >= 3x faster than ``summary_data_from_transaction_data`` and no slower
   than a straightforward pandas version).

Run: ``LIFETIMES_PYTHON=/tmp/ltvenv/bin/python .venv/bin/python benchmarks/bench_clv.py``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _bench import median_seconds, report

from crmlifecycle.datasets import load_cdnow_summary
from crmlifecycle.metrics.clv import BGNBDModel, GammaGammaModel, rfm_summary, simulate_bgnbd

_CHILD = r"""
import json, sys, time, statistics
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
task, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
if task == "fit":
    data = pd.read_csv(path)
    for _ in range(repeat):
        start = time.perf_counter()
        model = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
        times.append(time.perf_counter() - start)
    out = {"params": [float(model.params_[k]) for k in ("r", "alpha", "a", "b")]}
elif task == "gg":
    data = pd.read_csv(path)
    for _ in range(repeat):
        start = time.perf_counter()
        model = GammaGammaFitter().fit(data["frequency"], data["monetary_value"])
        times.append(time.perf_counter() - start)
    out = {"params": [float(model.params_[k]) for k in ("p", "q", "v")]}
else:
    orders = pd.read_csv(path)
    orders["at"] = pd.to_datetime(orders["at"], utc=True)
    for _ in range(repeat):
        start = time.perf_counter()
        summary = summary_data_from_transaction_data(
            orders, "customer_id", "at", observation_period_end="2026-06-30", freq="D"
        )
        times.append(time.perf_counter() - start)
    out = {"rows": int(len(summary)), "frequency_sum": float(summary["frequency"].sum())}
out["median"] = statistics.median(times)
print(json.dumps(out))
"""


def lifetimes(python: str, task: str, path: Path, repeat: int) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603 - our own interpreter path and script
        [python, "-c", _CHILD, task, str(path), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def plain_pandas_summary(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per-day totals, offsets from each customer's first day, groupbys."""
    day = orders["at"].dt.tz_convert("UTC").dt.floor("D")
    daily = orders.assign(day=day)[day <= end].groupby(["customer_id", "day"]).size()
    days = daily.reset_index()["day"]
    customer = daily.index.get_level_values(0)
    first = days.groupby(customer).transform("min")
    offset = (days - first).dt.days
    grouped = offset.groupby(customer)
    summary = pd.DataFrame({"frequency": grouped.size() - 1, "recency": grouped.max()})
    summary["T"] = (end - first.groupby(customer).first()).dt.days
    return summary


def bench_fit(python: str | None, folder: Path) -> None:
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    n = 500_000
    data = simulate_bgnbd(n, **truth, T=np.random.default_rng(0).uniform(30, 78, n), seed=42)
    path = folder / "bgnbd.csv"
    data.to_csv(path, index=False)
    data = pd.read_csv(path)  # both sides fit the same (rounded) numbers
    model = BGNBDModel()
    ours = median_seconds(lambda: model.fit(data), repeat=5)
    params = model.summary["estimate"].tolist()
    print(f"BG/NBD, {n} customers: ours {[f'{p:.5g}' for p in params]}")
    if python is None:
        print(f"  ours {ours * 1e3:.1f} ms (set LIFETIMES_PYTHON for the baseline)")
        return
    theirs = lifetimes(python, "fit", path, 3)
    their_params = [float(p) for p in theirs["params"]]  # type: ignore[attr-defined]
    print(f"  lifetimes {[f'{p:.5g}' for p in their_params]}")
    same = all(f"{a:.4g}" == f"{b:.4g}" for a, b in zip(params, their_params, strict=True))
    print(f"  same parameters to 4 significant digits: {same}")
    report(
        "BG/NBD fit 500k",
        ours,
        float(theirs["median"]),  # type: ignore[arg-type]
        baseline_name="lifetimes",
        target="<= 0.067x (>= 15x faster)",
    )


def bench_gamma_gamma(python: str | None, folder: Path) -> None:
    """Gamma-Gamma on CDNOW's repeat buyers (Fader, Hardie & Lee 2005: p 6.25, q 3.74, γ 15.44)."""
    repeaters = load_cdnow_summary().query("frequency > 0")
    path = folder / "cdnow_repeaters.csv"
    repeaters.to_csv(path, index=False)
    model = GammaGammaModel()
    ours = median_seconds(lambda: model.fit(repeaters), repeat=21)
    params = model.summary["estimate"].tolist()
    print(f"Gamma-Gamma, {len(repeaters)} CDNOW repeaters: ours {[f'{p:.5g}' for p in params]}")
    if python is None:
        print(f"  ours {ours * 1e3:.1f} ms (set LIFETIMES_PYTHON for the baseline)")
        return
    theirs = lifetimes(python, "gg", path, 21)
    their_params = [float(p) for p in theirs["params"]]  # type: ignore[attr-defined]
    print(f"  lifetimes {[f'{p:.5g}' for p in their_params]}")
    report(
        "Gamma-Gamma fit, CDNOW",
        ours,
        float(theirs["median"]),  # type: ignore[arg-type]
        baseline_name="lifetimes",
        target="< 1x",
    )


def bench_rfm(python: str | None, folder: Path) -> None:
    rng = np.random.default_rng(1)
    n_orders, n_customers = 1_000_000, 200_000
    ids = np.array([f"cust-{i:07d}" for i in range(n_customers)])
    start = pd.Timestamp("2024-01-01", tz="UTC")
    seconds = rng.integers(0, 910 * 86_400, n_orders)
    orders = pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, n_customers, n_orders)],
            "at": (start + pd.to_timedelta(seconds, unit="s")).tz_convert("Europe/Berlin"),
        }
    )
    end = pd.Timestamp("2026-06-30", tz="UTC")
    ours = median_seconds(lambda: rfm_summary(orders, as_of=end), repeat=5)
    plain = median_seconds(lambda: plain_pandas_summary(orders, end), repeat=5)
    check = rfm_summary(orders, as_of=end)
    reference = plain_pandas_summary(orders, end)
    if not (check["frequency"].to_numpy() == reference["frequency"].to_numpy()).all():
        raise SystemExit("ours and the plain pandas summary differ")
    report("rfm_summary 1M orders", ours, plain, baseline_name="plain pandas", target="<= 1.0x")
    if python is None:
        return
    path = folder / "orders.csv"
    orders.to_csv(path, index=False)
    theirs = lifetimes(python, "rfm", path, 3)
    rows, total = theirs["rows"], theirs["frequency_sum"]
    if rows != len(check) or total != float(check["frequency"].sum()):
        raise SystemExit(f"lifetimes' summary differs: {rows} rows, frequency sum {total}")
    report(
        "rfm_summary 1M orders",
        ours,
        float(theirs["median"]),  # type: ignore[arg-type]
        baseline_name="lifetimes",
        target="<= 0.33x",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lifetimes-python", default=os.environ.get("LIFETIMES_PYTHON"))
    args = parser.parse_args()
    python = args.lifetimes_python
    if python is None:
        print("LIFETIMES_PYTHON not set: timing crmlifecycle only.", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        bench_fit(python, Path(folder))
        bench_gamma_gamma(python, Path(folder))
        bench_rfm(python, Path(folder))


if __name__ == "__main__":
    main()
