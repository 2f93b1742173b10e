"""
Revenue and value plots: MRR movements, the CLV distribution, predicted vs actual purchases.

Each draws the frame the matching metrics or CLV function returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._validators import check_arg, check_real
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.plotting._backend import PALETTE, check_frame, finite_values, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmlifecycle.metrics.clv import HoldoutEvaluation

__all__ = ["plot_clv_distribution", "plot_mrr_movements", "plot_predicted_vs_actual"]

#: The MRR movement columns drawn upwards and downwards, with their colours.
_GAINS: Final = (("new", "green"), ("reactivated", "sky"), ("expansion", "blue"))
_LOSSES: Final = (("contraction", "orange"), ("churned", "red"))
_MAX_TICK_LABELS: Final = 18
#: The most histogram bins a CLV distribution draws (more than a screen has pixels).
_MAX_BINS: Final = 10_000


def _is_count(value: object) -> bool:
    """Whether ``value`` is an ``int`` (not a ``bool``) >= 1."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def plot_mrr_movements(
    movements: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str = "MRR movements",
) -> Axes:
    """
    Draw MRR movements per period: gains stacked up, losses stacked down, net change as a line.

    ``movements`` is the frame of :func:`crmlifecycle.metrics.mrr_movements`
    (columns ``period``, ``new``, ``reactivated``, ``expansion``, ``contraction``
    and ``churned``, the last two as positive amounts). New, reactivated and
    expansion MRR are stacked above zero; contraction and churned MRR below
    it; the line is the net change (gains − losses), which equals ending −
    starting MRR. A frame split by segment (``by=``) is summed per period first.

    Args:
        movements: one row per period (or per period and segment).
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title.

    Returns:
        The Axes; ``ax.containers`` holds one bar container per movement, labelled
        with its column name, heights signed (losses negative); ``ax.lines[0]`` is
        the net change.

    Raises:
        DataError: missing columns, negative or non-finite amounts, an empty frame.

    Examples:
        >>> import pandas as pd
        >>> from matplotlib.figure import Figure
        >>> moves = pd.DataFrame({"period": pd.period_range("2026-01", periods=2, freq="M"),
        ...     "new": [100.0, 20.0], "reactivated": [0.0, 0.0], "expansion": [0.0, 50.0],
        ...     "contraction": [0.0, 10.0], "churned": [0.0, 30.0]})
        >>> ax = plot_mrr_movements(moves, ax=Figure().subplots())
        >>> {c.get_label(): [float(b.get_height()) for b in c] for c in ax.containers}["churned"]
        [0.0, -30.0]
        >>> ax.lines[0].get_ydata().tolist()  # net change: 100; 20 + 50 - 10 - 30
        [100.0, 30.0]
    """
    columns = [name for name, _ in (*_GAINS, *_LOSSES)]
    period_col = "period"
    frame = check_frame(movements, [period_col, *columns], name="MRR movements")
    amounts = {name: finite_values(frame[name], name) for name in columns}
    for name, values in amounts.items():
        if bool((values < 0).any()):
            raise DataError.malformed(
                name,
                "has negative amounts",
                hint="pass contraction and churned as positive amounts, as mrr_movements does.",
            )
    table = (
        pd.DataFrame(amounts, index=frame.index)
        .assign(**{period_col: frame[period_col]})
        .groupby(period_col, sort=True, observed=True)[columns]
        .sum()
    )
    axes = new_axes(ax, figsize=(max(6.0, 0.45 * len(table) + 2.0), 4.5))
    x = np.arange(len(table), dtype="float64")
    bottom = np.zeros(len(table))
    for name, colour in _GAINS:
        heights = table[name].to_numpy(dtype="float64")
        axes.bar(x, heights, bottom=bottom, color=PALETTE[colour], label=name, width=0.75)
        bottom = bottom + heights
    bottom_up, bottom = bottom, np.zeros(len(table))
    for name, colour in _LOSSES:
        heights = -table[name].to_numpy(dtype="float64")
        axes.bar(x, heights, bottom=bottom, color=PALETTE[colour], label=name, width=0.75)
        bottom = bottom + heights
    net = (
        table[[name for name, _ in _GAINS]].sum(axis=1)
        - table[[name for name, _ in _LOSSES]].sum(axis=1)
    ).to_numpy(dtype="float64")
    axes.plot(x, net, color="black", marker="o", markersize=3, linewidth=1.2, label="net change")
    axes.axhline(0.0, color=PALETTE["grey"], linewidth=0.8)
    step = max(1, int(np.ceil(len(table) / _MAX_TICK_LABELS)))
    ticks = x[::step]
    axes.set_xticks(ticks, labels=[str(p) for p in table.index[::step]], rotation=45, ha="right")
    axes.set_ylabel("MRR change per period")
    from matplotlib.ticker import StrMethodFormatter

    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_title(title)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    # stacked zero-height bars make their bottoms "sticky" for autoscaling: set the range
    top = max(float(bottom_up.max()), float(net.max()), 0.0)
    low = min(float(bottom.min()), float(net.min()), 0.0)
    pad = 0.08 * ((top - low) or 1.0)
    axes.set_ylim(low - pad, top + pad)
    return axes


def plot_clv_distribution(
    clv: pd.Series | pd.DataFrame | np.ndarray[Any, Any] | Sequence[float],
    *,
    column: str = "clv",
    bins: int = 30,
    upper_quantile: float | None = None,
    ax: Axes | None = None,
    title: str = "Customer lifetime value",
) -> Axes:
    """
    Draw the distribution of customer lifetime value (one value per customer) as a histogram.

    CLV is skewed: a few customers carry much of the value, so the mean and
    the median (both marked) tell different stories. ``upper_quantile`` (e.g.
    0.99) narrows the x range to that quantile so the body of the distribution
    is readable; the customers above it are *counted in the legend*, never
    silently dropped or clipped into the last bin.

    Args:
        clv: per-customer values: a Series, array or list (e.g. the result of
            ``crmlifecycle.metrics.clv.customer_lifetime_value``), or a frame with ``column``.
        column: the value column of a frame.
        bins: the number of histogram bins.
        upper_quantile: show values up to this quantile (in (0, 1]); ``None`` shows all.
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title.

    Returns:
        The Axes; ``ax.patches`` are the histogram bars.

    Raises:
        DataError: no values, non-numeric, missing or infinite values.
        ValidationError: ``bins`` not an integer from 1 to 10,000, ``upper_quantile`` not
            a number in (0, 1].

    Examples:
        >>> import pandas as pd
        >>> from matplotlib.figure import Figure
        >>> ax = plot_clv_distribution(pd.Series([10.0, 20.0, 20.0, 90.0]), bins=4,
        ...                            ax=Figure().subplots())
        >>> [float(bar.get_height()) for bar in ax.patches]  # [10,30) [30,50) [50,70) [70,90]
        [3.0, 0.0, 0.0, 1.0]
    """
    if not _is_count(bins) or bins > _MAX_BINS:
        raise ValidationError.for_field("bins", bins, f"an integer from 1 to {_MAX_BINS:,}")
    if upper_quantile is not None and not 0 < check_real("upper_quantile", upper_quantile) <= 1:
        raise ValidationError.for_field("upper_quantile", upper_quantile, "a number in (0, 1]")
    if isinstance(clv, pd.DataFrame):
        values = finite_values(check_frame(clv, [column], name="CLV")[column], column)
    else:
        values = finite_values(clv, str(getattr(clv, "name", None) or column))
    if values.size == 0:
        raise DataError("there are no CLV values to plot. Hint: pass one value per customer.")
    axes = new_axes(ax, figsize=(7.0, 4.5))
    high = float(np.quantile(values, upper_quantile)) if upper_quantile else float(values.max())
    low = float(values.min())
    above = int((values > high).sum())
    axes.hist(
        values[values <= high],
        bins=bins,
        range=(low, high if high > low else low + 1.0),
        color=PALETTE["blue"],
        edgecolor="white",
    )
    mean, median = float(values.mean()), float(np.median(values))
    axes.axvline(mean, color=PALETTE["red"], linestyle="--", label=f"mean {mean:,.2f}")
    axes.axvline(median, color=PALETTE["orange"], label=f"median {median:,.2f}")
    if above:
        axes.plot([], [], " ", label=f"{above:,} customers above {high:,.2f} not shown")
    axes.set_xlabel("customer lifetime value")
    axes.set_ylabel("customers")
    axes.set_title(f"{title} ({values.size:,} customers)")
    axes.legend(frameon=False, fontsize="small")
    return axes


def _holdout_groups(
    evaluation: pd.DataFrame | HoldoutEvaluation, max_frequency: int
) -> pd.DataFrame:
    from crmlifecycle.metrics.clv import HoldoutEvaluation  # at call time: a light import

    frequency_col, actual_col, predicted_col = "frequency", "actual", "predicted"
    check_arg(
        "evaluation",
        evaluation,
        (pd.DataFrame, HoldoutEvaluation),
        "a HoldoutEvaluation or a DataFrame",
        hint="pass evaluate_holdout(...) or its .customers / .by_frequency frame.",
    )
    frame = evaluation if isinstance(evaluation, pd.DataFrame) else evaluation.customers
    check_frame(frame, [actual_col, predicted_col], name="holdout")
    actual = finite_values(frame[actual_col], actual_col)
    predicted = finite_values(frame[predicted_col], predicted_col)
    if frequency_col in frame.columns:
        frequency = finite_values(frame[frequency_col], frequency_col)
        if bool((frequency < 0).any()) or bool((frequency != np.floor(frequency)).any()):
            raise DataError.malformed(
                frequency_col,
                "must hold whole numbers of repeat purchases >= 0",
                hint="pass the calibration frequency of each customer.",
            )
        groups = np.minimum(frequency, max_frequency).astype("int64")
        per_customer = pd.DataFrame({"group": groups, "actual": actual, "predicted": predicted})
        return per_customer.groupby("group", sort=True).mean()
    if frame.index.name == frequency_col:
        groups = np.asarray(frame.index, dtype="int64")
        return pd.DataFrame({"actual": actual, "predicted": predicted}, index=groups)
    raise DataError(
        f"the holdout frame has neither a {frequency_col!r} column nor index. "
        "Hint: pass evaluate_holdout(...) or its .customers / .by_frequency frame."
    )


def plot_predicted_vs_actual(
    evaluation: pd.DataFrame | HoldoutEvaluation,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
    title: str = "Holdout purchases: predicted vs actual",
) -> Axes:
    """
    Draw mean holdout purchases by calibration frequency, as the model predicted and as they were.

    The validation plot of Fader, Hardie & Lee (2005), "Counting Your
    Customers the Easy Way", *Marketing Science* 24(2), Figure 4: customers
    are grouped by their number of repeat purchases in the calibration period
    (``max_frequency`` and more in one group, labelled ``7+``), and for each
    group the mean number of purchases in the holdout period is compared with
    the model's conditional expectation.

    Args:
        evaluation: the result of ``crmlifecycle.metrics.clv.evaluate_holdout``, or a
            frame like its ``customers`` table: one row per customer with ``frequency``
            (calibration repeat purchases), ``actual`` (purchases in the holdout) and
            ``predicted`` (purchases the model expected there); or a frame already
            grouped, indexed by ``frequency``, like its ``by_frequency`` table.
        max_frequency: the frequency from which customers share one group.
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title.

    Returns:
        The Axes; ``ax.lines[0]`` is the actual mean, ``ax.lines[1]`` the predicted mean.

    Raises:
        DataError: missing columns, non-numeric or non-finite values, an empty frame.
        ValidationError: ``max_frequency`` < 1; ``evaluation`` neither a frame nor an
            evaluation.

    Examples:
        >>> import pandas as pd
        >>> from matplotlib.figure import Figure
        >>> per_customer = pd.DataFrame({"frequency": [0, 0, 1, 9],
        ...     "actual": [0.0, 1.0, 2.0, 6.0], "predicted": [0.2, 0.4, 1.5, 5.0]})
        >>> ax = plot_predicted_vs_actual(per_customer, max_frequency=2, ax=Figure().subplots())
        >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_ydata().tolist()
        ([0.5, 2.0, 6.0], [0.3, 1.5, 5.0])
        >>> [label.get_text() for label in ax.get_xticklabels()]
        ['0', '1', '2+']
    """
    if not _is_count(max_frequency):
        raise ValidationError.for_field("max_frequency", max_frequency, "an integer >= 1")
    grouped = _holdout_groups(evaluation, max_frequency)
    axes = new_axes(ax, figsize=(7.0, 4.5))
    x = grouped.index.to_numpy(dtype="float64")
    axes.plot(x, grouped["actual"].to_numpy(), color=PALETTE["blue"], marker="o", label="actual")
    axes.plot(
        x,
        grouped["predicted"].to_numpy(),
        color=PALETTE["red"],
        marker="s",
        linestyle="--",
        label="predicted",
    )
    labels = [str(int(g)) for g in grouped.index]
    if int(grouped.index.max()) >= max_frequency:
        labels[-1] = f"{max_frequency}+"
    axes.set_xticks(x, labels=labels)
    axes.set_xlabel("repeat purchases in the calibration period")
    axes.set_ylabel("mean purchases in the holdout period")
    axes.set_title(title)
    axes.legend(frameon=False)
    axes.set_ylim(bottom=0)
    return axes
