"""
Predictive CLV over long horizons: the cost of ``customer_lifetime_value`` is linear in the steps.

``customer_lifetime_value(horizon=H, step=1)`` sums ``H`` discounted increments of each
customer's expected purchases. Its cost must grow as ``H`` (one evaluation of the
transaction model per customer and step, in blocks of bounded memory), not faster, and
stop early once discounting leaves nothing to add. In one run, on 326 CDNOW customers:

1. BG/NBD and Pareto/NBD at a rate so small that the sum never stops early
   (``1e-9`` per week), horizons 250 to 4,000 weeks: the time of the CLV against the
   model's own cost for the same cells asked in one call (target: within 1.2x at every
   horizon: the sum adds nothing that grows faster than the steps), and against 16 x
   the time at 250 weeks (target ~1x for Pareto/NBD, whose evaluations cost the same
   at every horizon; BG/NBD's hypergeometric function, scipy's ``hyp2f1``, costs more
   per evaluation as ``z = t / (alpha + T + t)`` nears 1, up to a bound of some tens of
   microseconds, so its ratio is above 1 by that factor);
2. without discounting: one evaluation per customer at any horizon (target: a few
   milliseconds at 9,999 weeks, against 250 weeks);
3. at 1 % a week: the sum stops once the rest is below 1e-15 of it (target: the time
   at 9,999 weeks within 2x of 2,000 weeks).

The steps are bounded at 10,000 (``MAX_STEPS``); more is a ``ValidationError``.

Run: ``.venv/bin/python benchmarks/bench_clv_horizon.py``
"""

from __future__ import annotations

import numpy as np
from _bench import median_seconds, report

from crmlifecycle.datasets import load_cdnow_summary
from crmlifecycle.metrics.clv import (
    BGNBDModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
)

SUMMARY = load_cdnow_summary().sample(326, random_state=1)
SPEND = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
MODELS = {
    "BG/NBD": BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
    "Pareto/NBD": ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669),
}
HORIZONS = (250, 500, 1000, 2000, 4000)


def clv_seconds(model: object, horizon: float, rate: float) -> float:
    return median_seconds(
        lambda: customer_lifetime_value(
            model,  # type: ignore[arg-type]
            SPEND,
            SUMMARY,
            horizon=horizon,
            discount_rate=rate,
        ),
        repeat=3,
        warmup=1,
    )


def evaluations_seconds(model: object, horizon: int) -> float:
    """The same cells as the CLV sum, asked of the model in one call: its own cost."""
    x, t_x, big_t = (SUMMARY[c].to_numpy()[:, None] for c in ("frequency", "recency", "T"))
    ends = np.arange(1, horizon + 1, dtype="float64")[None, :]
    return median_seconds(
        lambda: model.conditional_expected_purchases(ends, x, t_x, big_t),  # type: ignore[attr-defined]
        repeat=3,
        warmup=1,
    )


def main() -> None:
    for name, model in MODELS.items():
        print(f"-- {name}: never stopping early (1e-9 a week)", flush=True)
        times, own_times = {}, {}
        for horizon in HORIZONS:
            times[horizon] = clv_seconds(model, horizon, 1e-9)
            own = own_times[horizon] = evaluations_seconds(model, horizon)
            print(
                f"horizon {horizon:>5}: {times[horizon] * 1e3:8.1f} ms, "
                f"{times[horizon] / horizon * 1e6:7.1f} us/step; the model's own cost for "
                f"those cells {own * 1e3:8.1f} ms",
                flush=True,
            )
        first, last = HORIZONS[0], HORIZONS[-1]
        report(
            f"{name} CLV over {last} weeks vs the model's own cost for its cells",
            times[last],
            own_times[last],
            baseline_name="the evaluations alone",
            target="<= 1.2x",
        )
        report(
            f"{name} {last} vs {last // first} x {first} weeks",
            times[last],
            times[first] * last / first,
            baseline_name="linear extrapolation",
            target="~1x for Pareto/NBD; BG/NBD above by its cost per evaluation",
        )
        report(
            f"{name} undiscounted, 9,999 vs 250 weeks",
            clv_seconds(model, 9_999, 0.0),
            clv_seconds(model, 250, 0.0),
            baseline_name="250 weeks",
            target="a few ms: one evaluation per customer",
        )
        report(
            f"{name} 1 % a week, 9,999 vs 2,000 weeks",
            clv_seconds(model, 9_999, 0.01),
            clv_seconds(model, 2_000, 0.01),
            baseline_name="2,000 weeks",
            target="<= 2x: the sum stops once discounting leaves nothing to add",
        )


if __name__ == "__main__":
    main()
