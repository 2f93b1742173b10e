"""
The plots section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.plotting`).

Every plot of the generated world is written as a PNG file and listed; without
matplotlib (the ``plot`` extra) the section says how to install it.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import pandas as pd

from crmlifecycle.errors import CrmError, MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmlifecycle.metrics.clv import HoldoutEvaluation
    from crmlifecycle.stages import Lifecycle
    from crmlifecycle.synth import Dataset

__all__ = ["demo_section"]

_HOLDOUT_WEEKS: Final = 26
_DPI: Final = 110


def _plots(data: Dataset) -> list[tuple[str, str, tuple[float, float], Callable[[Axes], object]]]:
    """(file stem, caption, figure size, draw) for every plot of the world."""
    from crmlifecycle import metrics
    from crmlifecycle.plotting import (
        plot_clv_distribution,
        plot_cohort_retention,
        plot_funnel,
        plot_mrr_movements,
        plot_predicted_vs_actual,
    )
    from crmlifecycle.stages import (
        CASE_STATUS,
        CUSTOMER_LIFECYCLE,
        LEAD_STATUS,
        OPPORTUNITY_PIPELINE,
    )

    deals = metrics.funnel(data.opportunity_events, entities=data.opportunities)
    cohorts = metrics.cohort_retention(data.orders, freq="M")
    movements = metrics.mrr_movements(data.subscriptions)
    clv, evaluation = _clv(data)
    plots: list[tuple[str, str, tuple[float, float], Callable[[Axes], object]]] = [
        (
            "funnel_opportunities",
            "opportunity funnel with conversion rates",
            (8.0, 4.0),
            lambda ax: plot_funnel(deals, ax=ax, title="Opportunity funnel"),
        ),
        (
            "cohort_retention",
            "monthly order cohorts: share of customers ordering k months later",
            (12.0, 7.0),
            lambda ax: plot_cohort_retention(cohorts, ax=ax),
        ),
        (
            "mrr_movements",
            "MRR movements per month (new, expansion, contraction, churned)",
            (11.0, 5.0),
            lambda ax: plot_mrr_movements(movements, ax=ax),
        ),
    ]
    if clv is not None and evaluation is not None:
        plots += [
            (
                "clv_distribution",
                "52-week CLV per customer (BG/NBD + Gamma-Gamma)",
                (8.0, 5.0),
                lambda ax: plot_clv_distribution(
                    clv, upper_quantile=0.99, ax=ax, title="52-week CLV"
                ),
            ),
            (
                "holdout_predicted_vs_actual",
                f"BG/NBD holdout check ({_HOLDOUT_WEEKS} weeks)",
                (8.0, 5.0),
                lambda ax: plot_predicted_vs_actual(evaluation, ax=ax),
            ),
        ]
    for lifecycle in (CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE, CASE_STATUS):
        plots.append(
            (
                f"lifecycle_{lifecycle.name}",
                f"the {lifecycle.name} lifecycle's state diagram",
                (12.0, 5.5),
                functools.partial(_draw_lifecycle, lifecycle),
            )
        )
    return plots


def _draw_lifecycle(lifecycle: Lifecycle, ax: Axes) -> Axes:
    from crmlifecycle.plotting import plot_lifecycle

    return plot_lifecycle(lifecycle, ax=ax)


def _clv(data: Dataset) -> tuple[pd.Series | None, HoldoutEvaluation | None]:
    """Fit BG/NBD and Gamma-Gamma on the orders; ``(None, None)`` if they cannot be fitted."""
    from crmlifecycle.metrics.clv import (
        BGNBDModel,
        GammaGammaModel,
        calibration_holdout,
        customer_lifetime_value,
        evaluate_holdout,
    )

    orders = data.orders
    end = orders["at"].max().normalize()
    frame = calibration_holdout(
        orders,
        monetary_value=True,
        as_of=end - pd.Timedelta(weeks=_HOLDOUT_WEEKS),
        end=end,
        time_unit="W",
    )
    try:
        transactions = BGNBDModel().fit(frame)
        spend = GammaGammaModel().fit(frame)
    except CrmError:
        return None, None
    weekly_rate = 1.10 ** (1 / 52) - 1  # 10% a year
    clv = customer_lifetime_value(transactions, spend, frame, horizon=52, discount_rate=weekly_rate)
    return clv, evaluate_holdout(transactions, frame)


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Render every plot for the generated world into ``out/plots/*.png`` and list the files.

    Plots are drawn on standalone matplotlib figures (no pyplot state, no
    display needed). Without matplotlib the section says how to install it.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle import synth
        >>> world = synth.generate(seed=1, n_leads=600)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     text = demo_section(world, out=pathlib.Path(folder))
        >>> print(text.splitlines()[0])  # doctest: +ELLIPSIS
        Plots written to .../plots:
    """
    try:
        import matplotlib as mpl  # noqa: F401 - is the plot extra installed?
    except ImportError:
        missing = MissingDependencyError(
            package="matplotlib", extra="plot", feature="crmlifecycle.plotting"
        )
        return f"Plots skipped: {missing}"
    from matplotlib.figure import Figure

    folder = out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"Plots written to {folder}:"]
    for stem, caption, size, draw in _plots(data):
        figure = Figure(figsize=size, layout="constrained")
        draw(figure.subplots())
        path = folder / f"{stem}.png"
        figure.savefig(path, dpi=_DPI)
        lines.append(f"  {path.name:<34} {caption}")
    return "\n".join(lines)
