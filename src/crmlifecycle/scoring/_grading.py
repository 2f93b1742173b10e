"""Map scores to grades and labels through ``{name: minimum}`` thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["grade_one", "grade_values"]


def grade_values(
    values: np.ndarray[Any, np.dtype[np.float64]],
    pairs: Sequence[tuple[str, float]],
    default: str,
) -> pd.Categorical[str]:
    """
    Grade every value: the name of the highest minimum it reaches, else ``default``.

    ``pairs`` are sorted from the highest minimum down (as ``thresholds`` returns
    them). The result is an ordered categorical from the lowest grade up.

    Examples:
        >>> grade_values(np.array([90.0, 50.0, 10.0]), (("A", 80.0), ("B", 50.0)), "C").tolist()
        ['A', 'B', 'C']
    """
    ascending = list(reversed(pairs))
    mins = np.array([low for _, low in ascending], dtype="float64")
    codes = np.searchsorted(mins, values, side="right")
    categories = pd.Index([default, *(name for name, _ in ascending)])
    return pd.Categorical.from_codes(codes, categories=categories, ordered=True)


def grade_one(value: float, pairs: Sequence[tuple[str, float]], default: str) -> str:
    """
    Grade one value by the same rule as :func:`grade_values`.

    Examples:
        >>> grade_one(50.0, (("A", 80.0), ("B", 50.0)), "C")
        'B'
    """
    for name, low in pairs:
        if value >= low:
            return name
    return default
