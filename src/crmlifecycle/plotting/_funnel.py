"""
Funnel and cohort plots: a conversion funnel and a cohort retention heat map.

Both draw the tables of :mod:`crmlifecycle.metrics` as they are returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._validators import check_arg, check_name
from crmlifecycle.errors import DataError, ValidationError, did_you_mean
from crmlifecycle.plotting._backend import (
    PALETTE,
    check_frame,
    finite_values,
    new_axes,
    percent,
)
from crmlifecycle.schema import STATE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_cohort_retention", "plot_funnel"]

_AUTO_ANNOTATE_CELLS: Final = 400
_MAX_TICK_LABELS: Final = 24
_DARK_CELL: Final = 0.6
_LABEL_INSIDE: Final = 0.15


def _funnel_counts(
    funnel: pd.DataFrame | pd.Series,
) -> tuple[list[str], np.ndarray[Any, np.dtype[np.float64]]]:
    count_col = "reached"
    if isinstance(funnel, pd.Series):
        if funnel.empty:
            raise DataError(
                "the funnel is empty: there is nothing to plot. "
                "Hint: pass one count per stage, in funnel order."
            )
        stages = [str(s) for s in funnel.index]
        counts = finite_values(funnel, count_col if funnel.name is None else str(funnel.name))
    else:
        frame = check_frame(funnel, [STATE, count_col], name="funnel")
        stages = [str(s) for s in frame[STATE]]
        counts = finite_values(frame[count_col], count_col)
    if bool((counts < 0).any()):
        raise DataError.malformed(
            count_col, "has negative counts", hint="a funnel counts entities: use counts >= 0."
        )
    return stages, counts


def plot_funnel(
    funnel: pd.DataFrame | pd.Series,
    *,
    ax: Axes | None = None,
    title: str = "Funnel",
) -> Axes:
    """
    Draw a funnel: one centred bar per stage, with step and overall conversion rates.

    The bars are drawn top down in the order given (the funnel order). Each
    stage after the first is labelled with its conversion from the previous
    stage (count ÷ previous count) and from the top of the funnel (count ÷
    first count), the stage-to-stage funnel definitions used by
    :mod:`crmlifecycle.metrics`; a rate with a zero denominator is shown as
    ``–`` (undefined), never as 0.

    Args:
        funnel: :func:`crmlifecycle.metrics.funnel`'s table (its ``state`` and
            ``reached`` columns), or a Series of counts indexed by state.
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title.

    Returns:
        The Axes, for further styling. Its bars (``ax.patches``) are in stage order.

    Raises:
        DataError: empty input, missing columns, negative or non-finite counts.

    Examples:
        >>> import pandas as pd
        >>> from matplotlib.figure import Figure
        >>> counts = pd.Series([200, 80, 20], index=["lead", "qualified", "won"])
        >>> ax = plot_funnel(counts, ax=Figure().subplots())
        >>> [float(bar.get_width()) for bar in ax.patches]
        [200.0, 80.0, 20.0]
        >>> [label.get_text() for label in ax.get_yticklabels()]
        ['lead', 'qualified', 'won']
    """
    stages, counts = _funnel_counts(funnel)
    axes = new_axes(ax, figsize=(8.0, 1.0 + 0.6 * len(stages)))
    positions = np.arange(len(stages), dtype="float64")
    widest = float(counts.max()) or 1.0
    shades = np.linspace(1.0, 0.55, len(stages))
    axes.barh(
        positions,
        counts,
        left=-counts / 2,
        height=0.7,
        color=PALETTE["blue"],
        alpha=None,
        edgecolor="white",
    )
    for bar, shade in zip(axes.patches, shades, strict=True):
        bar.set_alpha(float(shade))
    top = counts[0]
    for i, count in enumerate(counts):
        inside = count >= _LABEL_INSIDE * widest
        axes.text(
            0 if inside else count / 2 + widest * 0.02,
            i,
            f"{count:,.0f}",
            ha="center" if inside else "left",
            va="center",
            color="white" if inside else "black",
            weight="bold",
        )
        if i == 0:
            continue
        previous = counts[i - 1]
        step = count / previous if previous > 0 else float("nan")
        overall = count / top if top > 0 else float("nan")
        axes.text(
            widest * 0.62,
            i,
            f"{percent(step)} of previous · {percent(overall)} of top",
            ha="left",
            va="center",
            fontsize="small",
            color=PALETTE["grey"],
        )
    axes.set_yticks(positions, labels=stages)
    axes.set_ylim(len(stages) - 0.5, -0.5)
    axes.set_xlim(-widest * 0.52, widest * 1.5)
    axes.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    axes.set_title(title)
    return axes


def _matrix_values(matrix: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    if not isinstance(matrix, pd.DataFrame):
        raise DataError(
            f"the cohort matrix must be a pandas DataFrame (got {type(matrix).__name__}). "
            "Hint: pass the result of crmlifecycle.metrics.cohort_retention(...)."
        )
    if matrix.empty:
        raise DataError(
            "the cohort matrix is empty: there is nothing to plot. "
            "Hint: check that the activity frame has rows in the period range."
        )
    for column in matrix.columns:
        dtype = matrix[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError.malformed(
                str(column),
                f"of the cohort matrix must be numeric (dtype is {dtype})",
                hint="pass rates or counts as cohort_retention(...) returns them.",
            )
    values = matrix.to_numpy(dtype="float64", na_value=np.nan)
    if bool(np.isinf(values).any()) or bool((values < 0).any()):
        raise DataError(
            "the cohort matrix holds negative or infinite cells. "
            "Hint: a cohort matrix holds rates in [0, 1] or counts >= 0; NaN marks unknown cells."
        )
    return values


def _thin_ticks(count: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    step = max(1, int(np.ceil(count / _MAX_TICK_LABELS)))
    return np.arange(0, count, step, dtype=np.int64)


def plot_cohort_retention(
    matrix: pd.DataFrame,
    *,
    rates: bool | None = None,
    annotate: bool | None = None,
    cmap: str = "Blues",
    ax: Axes | None = None,
    title: str = "Cohort retention",
) -> Axes:
    """
    Draw a cohort retention matrix as a heat map (cohorts down, periods since start across).

    The matrix is the one of :func:`crmlifecycle.metrics.cohort_retention`
    (the cohort retention matrix: cell ``(c, k)`` = customers of
    cohort ``c`` active in period ``c + k`` ÷ cohort size), as rates or counts.
    Cells that cannot be observed yet (NaN / ``<NA>``) are left blank rather
    than drawn as 0, so the triangle of the future stays visibly empty.

    Args:
        matrix: rows = cohorts, columns = period numbers ``0, 1, ...``.
        rates: whether the cells are rates in [0, 1] (coloured on 0–100%) or counts;
            by default, rates when every known cell is ≤ 1.
        annotate: write each cell's value in it; by default when there are at most
            400 cells.
        cmap: a matplotlib colour map name.
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title.

    Returns:
        The Axes; ``ax.images[0].get_array()`` holds the matrix (masked where unknown).

    Raises:
        DataError: an empty or non-numeric matrix, negative or infinite cells.
        ValidationError: ``rates`` or ``annotate`` not a bool (or None), ``cmap`` not the
            name of a colour map.

    Examples:
        >>> import pandas as pd
        >>> from matplotlib.figure import Figure
        >>> matrix = pd.DataFrame([[1.0, 0.5, 0.25], [1.0, 0.4, None]],
        ...                       index=["2026-01", "2026-02"])
        >>> ax = plot_cohort_retention(matrix, ax=Figure().subplots())
        >>> ax.images[0].get_array().filled(-1).tolist()
        [[1.0, 0.5, 0.25], [1.0, 0.4, -1.0]]
    """
    import matplotlib as mpl  # lazily, as every plot does

    values = _matrix_values(matrix)
    check_arg("rates", rates, (bool, type(None)), "True, False or None")
    check_arg("annotate", annotate, (bool, type(None)), "True, False or None")
    check_name("cmap", cmap, hint="name a matplotlib colour map, e.g. cmap='Blues'.")
    if cmap not in mpl.colormaps:
        raise ValidationError.for_field(
            "cmap",
            cmap,
            f"a matplotlib colour map name{did_you_mean(cmap, list(mpl.colormaps))}",
            hint="name a matplotlib colour map, e.g. cmap='Blues'.",
        )
    known = values[~np.isnan(values)]
    is_rates = bool(known.size == 0 or known.max() <= 1.0) if rates is None else rates
    vmax = 1.0 if is_rates else float(known.max()) if known.size else 1.0
    rows, columns = values.shape
    axes = new_axes(ax, figsize=(min(4.0 + 0.55 * columns, 16.0), min(2.0 + 0.35 * rows, 12.0)))
    colours = mpl.colormaps[cmap].with_extremes(bad="white")
    image = axes.imshow(
        np.ma.masked_invalid(values),
        cmap=colours,
        vmin=0.0,
        vmax=vmax or 1.0,
        aspect="auto",
        interpolation="nearest",
    )
    x_ticks, y_ticks = _thin_ticks(columns), _thin_ticks(rows)
    axes.set_xticks(x_ticks, labels=[str(matrix.columns[i]) for i in x_ticks])
    axes.set_yticks(y_ticks, labels=[str(matrix.index[i]) for i in y_ticks])
    x_name, y_name = matrix.columns.name, matrix.index.name
    axes.set_xlabel("periods since first activity" if x_name is None else str(x_name))
    axes.set_ylabel("cohort" if y_name is None else str(y_name))
    axes.set_title(title)
    if annotate is None:
        annotate = rows * columns <= _AUTO_ANNOTATE_CELLS
    if annotate:
        for (row, column), value in np.ndenumerate(values):
            if np.isnan(value):
                continue
            text = f"{100 * value:.0f}" if is_rates else f"{value:,.0f}"
            dark = value > _DARK_CELL * (vmax or 1.0)
            axes.text(
                column,
                row,
                text,
                ha="center",
                va="center",
                fontsize="x-small",
                color="white" if dark else "black",
            )
    bar = axes.figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02)
    if is_rates:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        bar.set_label("active ÷ cohort size")
    else:
        bar.set_label("active customers")
    return axes
