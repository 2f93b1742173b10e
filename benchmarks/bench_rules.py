"""
The rule language's two engines against hand-written baselines, side by side.

1. Record engine: ``Condition.evaluate`` on 100k dicts vs a hand-written lambda
   for ``score >= 70 and state == 'contacted'`` (target: within 3x). The
   ``predicate()`` hot-loop form is timed too.
2. Frame engine: ``Condition.evaluate_frame`` on 1M rows vs the same 3-clause
   condition hand-written in pandas (target: within 1.5x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _bench import median_seconds, report

from crmlifecycle.rules import Condition

N_RECORDS = 100_000
N_ROWS = 1_000_000


def bench_records() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 100, N_RECORDS).tolist()
    states = rng.choice(["open", "contacted", "qualified"], N_RECORDS).tolist()
    rows = [{"score": s, "state": t} for s, t in zip(scores, states, strict=True)]
    cond = Condition.parse("score >= 70 and state == 'contacted'")
    evaluate = cond.evaluate
    predicate = cond.predicate()

    def hand(r: dict[str, object]) -> bool:
        return r["score"] >= 70 and r["state"] == "contacted"  # type: ignore[operator]

    if [evaluate(r) for r in rows] != [hand(r) for r in rows]:
        raise SystemExit("the record engine disagrees with the lambda")
    baseline = median_seconds(lambda: [hand(r) for r in rows], repeat=9)
    ours = median_seconds(lambda: [evaluate(r) for r in rows], repeat=9)
    fast = median_seconds(lambda: [predicate(r) for r in rows], repeat=9)
    per = 1e6 / N_RECORDS
    print(
        f"per record: lambda {baseline * per:.3f} us, evaluate {ours * per:.3f} us, "
        f"predicate {fast * per:.3f} us"
    )
    report(
        "record engine evaluate, 100k dicts", ours, baseline, baseline_name="lambda", target="<= 3x"
    )
    report(
        "record engine predicate(), 100k dicts",
        fast,
        baseline,
        baseline_name="lambda",
        target="<= 3x",
    )


def bench_frame() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "score": rng.integers(0, 100, N_ROWS),
            "state": pd.Series(rng.choice(["open", "contacted", "qualified"], N_ROWS), dtype="str"),
            "budget": np.where(rng.random(N_ROWS) < 0.1, np.nan, rng.uniform(0, 50_000, N_ROWS)),
        }
    )
    cond = Condition.parse("score >= 70 and state == 'contacted' and budget > 10000")

    def hand() -> pd.Series:
        return (frame["score"] >= 70) & (frame["state"] == "contacted") & (frame["budget"] > 10000)

    pd.testing.assert_series_equal(cond.evaluate_frame(frame), hand())
    baseline = median_seconds(hand, repeat=9)
    ours = median_seconds(lambda: cond.evaluate_frame(frame), repeat=9)
    report(
        "frame engine, 3 clauses over 1M rows",
        ours,
        baseline,
        baseline_name="pandas",
        target="<= 1.5x",
    )


if __name__ == "__main__":
    bench_records()
    bench_frame()
