"""Readable explanations for a whole scored frame, built column-wise (no per-row loop)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlifecycle._frames import check_labels
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import DataError
from crmlifecycle.scoring._protocol import CONTRIB_PREFIX

__all__ = ["explain_frame"]


def explain_frame(scored: pd.DataFrame, *, top: int = 3) -> pd.Series:
    """
    Return, for every row of a scored frame, its ``top`` contributions as text.

    Reads the ``contrib:<rule>`` columns any scorer's ``score_frame`` returns, ranks
    them by absolute points per row and joins the non-zero ones, largest first.
    The work is done column by column with numpy, never row by row.

    Args:
        scored: a frame a scorer's ``score_frame`` returned (its ``contrib:<rule>`` columns
            are read); not modified.
        top: how many contributions to show per row, at least 1.

    Examples:
        >>> scored = pd.DataFrame({"score": [12.0, 0.0], "contrib:fit": [10.0, 0.0],
        ...                        "contrib:email": [2.0, 0.0]})
        >>> explain_frame(scored).tolist()
        ['+10 fit; +2 email', '']
    """
    check_arg("scored", scored, pd.DataFrame, "a DataFrame", hint="pass a scorer's score_frame().")
    check_arg("top", top, int, "an integer >= 1", hint="e.g. top=3.")
    check_labels(scored, frame_name="scored")
    columns = [c for c in scored.columns if str(c).startswith(CONTRIB_PREFIX)]
    if not columns:
        raise DataError(
            "the frame has no 'contrib:' columns to explain. "
            "Hint: pass the frame a scorer's score_frame() returned.",
        )
    if top < 1:
        raise DataError(f"top must be >= 1 (got {top}). Hint: e.g. top=3.")
    points = scored[columns].to_numpy(dtype="float64")
    names = np.array([str(c)[len(CONTRIB_PREFIX) :] for c in columns], dtype=str)
    order = np.argsort(-np.abs(points), axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(points, order, axis=1)
    text = np.full(len(scored), "", dtype=object)
    for j in range(order.shape[1]):  # one pass per rank, vectorised over the rows
        part = np.char.add(np.char.mod("%+.3g ", picked[:, j]), names[order[:, j]])
        has = picked[:, j] != 0
        glue = np.where((text != "") & has, "; ", "")
        text = np.where(has, text + glue + part.astype(object), text)
    return pd.Series(text, index=scored.index, name="explanation", dtype=object)
