"""
The predictive-CLV section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.metrics.clv`).

BG/NBD and Gamma-Gamma fitted on all but the last 26 weeks of orders, 52-week
CLV, and a check of the predicted repeat purchases against the holdout.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pandas as pd

from crmlifecycle.errors import FitError
from crmlifecycle.metrics.clv import (
    BGNBDModel,
    GammaGammaModel,
    calibration_holdout,
    customer_lifetime_value,
    evaluate_holdout,
)

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["demo_section"]

_HOLDOUT_WEEKS = 26
_ANNUAL_RATE = 0.10


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Fit BG/NBD + Gamma-Gamma on the generated orders and report CLV and a holdout check.

    Writes ``clv_by_customer.csv`` (calibration summary, predictions and CLV) into ``out``.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle import synth
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     text = demo_section(synth.generate(seed=1, n_leads=3000), out=pathlib.Path(folder))
        >>> text.splitlines()[0]
        'Predictive CLV (BG/NBD + Gamma-Gamma, weekly)'
    """
    orders = data.orders
    end = orders["at"].max().normalize()
    calibration_end = end - pd.Timedelta(weeks=_HOLDOUT_WEEKS)
    frame = calibration_holdout(
        orders,
        amount_col="amount",
        calibration_end=calibration_end,
        observation_end=end,
        time_unit="W",
    )
    lines = ["Predictive CLV (BG/NBD + Gamma-Gamma, weekly)"]
    lines.append(
        f"  calibration to {calibration_end.date()}, holdout {_HOLDOUT_WEEKS} weeks to "
        f"{end.date()}; {len(frame)} customers, {int((frame['frequency'] > 0).sum())} repeat buyers"
    )
    try:
        bgnbd = BGNBDModel().fit(frame)
        spend = GammaGammaModel().fit(frame)
    except FitError as err:
        lines.append(f"  the models could not be fitted: {err}")
        return "\n".join(lines)
    shown = ", ".join(f"{k}={v:.3g}" for k, v in bgnbd.summary["estimate"].items())
    lines.append(f"  BG/NBD: {shown} (LL {bgnbd.log_likelihood_:.1f})")
    shown = ", ".join(f"{k}={v:.3g}" for k, v in spend.summary["estimate"].items())
    lines.append(f"  Gamma-Gamma: {shown}; mean spend per order {spend.expected_spend():.2f} EUR")
    weekly_rate = (1 + _ANNUAL_RATE) ** (1 / 52) - 1
    clv = customer_lifetime_value(bgnbd, spend, frame, horizon=52, discount_rate=weekly_rate)
    quantiles = clv.quantile([0.1, 0.5, 0.9, 0.99])
    lines.append(
        f"  52-week CLV at 10%/year: mean {clv.mean():.2f} EUR; p10 {quantiles[0.1]:.2f}, "
        f"median {quantiles[0.5]:.2f}, p90 {quantiles[0.9]:.2f}, p99 {quantiles[0.99]:.2f}"
    )
    predicted = bgnbd.predict(frame, horizon=52)
    lines.append("  top customers:")
    for customer in clv.nlargest(5).index:
        row = frame.loc[customer]
        lines.append(
            f"    {customer}: CLV {clv[customer]:8.2f} EUR, {int(row['frequency'])} repeats, "
            f"P(alive) {predicted.loc[customer, 'probability_alive']:.2f}"
        )
    evaluation = evaluate_holdout(bgnbd, frame)
    metrics = evaluation.metrics
    lines.append(
        f"  holdout: predicted {metrics['predicted_total']:.0f} vs actual "
        f"{metrics['actual_total']:.0f} repeat purchases ({metrics['total_error_pct']:+.1f}%), "
        f"MAE {metrics['mae']:.2f}, correlation {metrics['correlation']:.2f}"
    )
    table = evaluation.by_frequency
    lines.append("  mean holdout purchases by calibration repeats (actual / predicted):")
    lines.append(
        "    "
        + "  ".join(
            f"{k}{'+' if k == table.index.max() else ''}: {actual:.2f}/{predicted:.2f}"
            for k, actual, predicted in zip(
                table.index, table["actual"], table["predicted"], strict=True
            )
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    frame.join(predicted).assign(clv=clv).to_csv(out / "clv_by_customer.csv")
    lines.append(f"  wrote {out / 'clv_by_customer.csv'}")
    return "\n".join(lines)
