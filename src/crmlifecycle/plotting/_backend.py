"""
The matplotlib side of the plots: lazy import, axes creation, input checks.

matplotlib is the optional ``plot`` extra. It is imported only when a plot is
drawn, and its absence raises :class:`~crmlifecycle.errors.MissingDependencyError`
naming the extra. No plot touches pyplot's global state when it is handed an
``ax``; without one, a new figure is made with :func:`matplotlib.pyplot.subplots`
so that notebooks show it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import require_columns
from crmlifecycle.errors import DataError, MissingDependencyError, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PALETTE",
    "check_frame",
    "finite_values",
    "new_axes",
    "percent",
    "require_matplotlib",
]

#: Colours used across the plots (colour-blind safe, Okabe & Ito 2008).
PALETTE: Final[dict[str, str]] = {
    "blue": "#0072B2",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "orange": "#E69F00",
    "red": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#7F7F7F",
}


def require_matplotlib() -> None:
    """
    Import matplotlib, or raise an error naming the ``plot`` extra.

    Raises:
        MissingDependencyError: matplotlib is not installed.

    Examples:
        >>> require_matplotlib()  # matplotlib is installed here
    """
    try:
        import matplotlib as mpl  # noqa: F401
    except ImportError as err:
        raise MissingDependencyError(
            package="matplotlib", extra="plot", feature="crmlifecycle.plotting"
        ) from err


def new_axes(ax: Axes | None, *, figsize: tuple[float, float]) -> Axes:
    """
    Return ``ax``, or the axes of a new pyplot figure of ``figsize`` inches.

    Examples:
        >>> from matplotlib.figure import Figure
        >>> ax = Figure().subplots()
        >>> new_axes(ax, figsize=(4, 3)) is ax
        True
    """
    require_matplotlib()
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise ValidationError.for_field(
                "ax", ax, "a matplotlib Axes or None", hint="pass fig.add_subplot() or omit ax."
            )
        return ax
    import matplotlib.pyplot as plt

    _figure, created = plt.subplots(figsize=figsize, layout="constrained")
    return created


def check_frame(frame: object, columns: Sequence[str], *, name: str) -> pd.DataFrame:
    """
    Check that ``frame`` is a non-empty DataFrame holding ``columns``.

    Examples:
        >>> check_frame(pd.DataFrame({"a": [1]}), ["a"], name="demo").shape
        (1, 1)
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{name} must be a pandas DataFrame (got {type(frame).__name__}). "
            "Hint: pass the frame the matching crmlifecycle.metrics function returns."
        )
    require_columns(frame, columns, frame_name=name)
    if frame.empty:
        raise DataError(
            f"the {name} frame is empty: there is nothing to plot. "
            "Hint: check the filters and the period range of the data."
        )
    return frame


def finite_values(values: Any, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """
    Return ``values`` as a float array, raising :class:`DataError` on text, NaN or infinity.

    Examples:
        >>> finite_values([1, 2.5], "clv").tolist()
        [1.0, 2.5]
    """
    series = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise DataError.malformed(
            column,
            f"must be numeric to be plotted (dtype is {series.dtype})",
            hint=f"convert it, e.g. pandas.to_numeric(df[{column!r}]).",
        )
    array = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(array)
    if bool(bad.any()):
        rows = list(series.index[bad][:20])
        raise DataError.malformed(
            column,
            "has missing or infinite values",
            rows=rows,
            hint="drop or fill them before plotting; a plot never guesses a number.",
        )
    return array


def percent(value: float, *, digits: int = 1) -> str:
    """
    Format a fraction as a percentage (``"–"`` when undefined).

    Examples:
        >>> percent(0.4567), percent(float("nan"))
        ('45.7%', '–')
    """
    if math.isnan(value):
        return "–"
    return f"{100 * value:.{digits}f}%"
