"""
Satisfaction KPIs over survey answers: NPS, CSAT and CES.

Each takes the feedback frame (one row per answer: ``kind``, ``score``, ``at``),
whose columns it reads through a :class:`~crmlifecycle.schema.FeedbackColumns`
record, and follows the shared KPI shape: a ``float`` overall, or with ``freq``
and/or ``by`` a DataFrame with one row per period (``period``, a UTC ``Period``)
and segment, holding the KPI and the counts that produced it. The grouping
helpers here are shared with the support KPIs of ``_service.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, check_numeric, equals, require_columns, to_periods
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics._common import segment_keys
from crmlifecycle.schema import FeedbackColumns

__all__ = ["ces", "csat", "nps"]


def _keys_frame(
    frame: pd.DataFrame,
    *,
    at_col: str,
    freq: str | None,
    by: Sequence[str],
) -> pd.DataFrame:
    """The grouping keys of each row: ``period`` (if ``freq``) then the ``by`` columns."""
    keys = pd.DataFrame(index=frame.index)
    if freq is not None:
        keys["period"] = to_periods(as_utc(frame[at_col], at_col), freq)
    for column in by:
        missing = frame[column].isna()
        if bool(missing.any()):
            raise DataError.malformed(
                column,
                "is a segment (by=) column with missing values",
                rows=list(frame.index[missing.to_numpy()][:20]),
                hint=f"fill them first, e.g. df[{column!r}].fillna('unknown').",
            )
        keys[column] = frame[column]
    return keys


def _sum_by(keys: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Sum ``values`` per key combination (sorted), as a flat frame of keys then sums."""
    names = list(keys.columns)
    joined = pd.concat([keys, values], axis=1)
    summed = joined.groupby(names, sort=True, observed=True, dropna=False)[list(values.columns)]
    return summed.sum().reset_index()


def _check_scale(scale: object) -> tuple[int, int]:
    # a survey scale is small: bounding it keeps every sum of answers finite
    expected = "a pair of whole numbers (low, high), low < high, within ±10**6, e.g. (1, 5)"
    if not isinstance(scale, Sequence) or isinstance(scale, str) or len(scale) != 2:  # noqa: PLR2004
        raise ValidationError.for_field("scale", scale, expected)
    low, high = scale
    if any(isinstance(v, bool) or not isinstance(v, int) or abs(v) > 10**6 for v in (low, high)):
        raise ValidationError.for_field("scale", scale, expected)
    if low >= high:
        raise ValidationError.for_field("scale", scale, expected)
    return int(low), int(high)


def _answers(
    feedback: pd.DataFrame,
    *,
    cols: FeedbackColumns,
    kind: str | None,
    freq: str | None,
    by: str | Sequence[str] | None,
    scale: tuple[int, int],
    what: str,
) -> tuple[pd.DataFrame, pd.Series]:
    """Select the answers of ``kind``, check their scores, and return (keys, scores)."""
    segments = segment_keys(by)
    if kind is not None:
        check_name("kind", kind, hint="pass kind= the survey kind, e.g. 'nps', or None.")
    score_col, kind_col, at_col = cols.score, cols.kind, cols.at
    needed = [score_col, *([kind_col] if kind is not None else []), *segments]
    require_columns(
        feedback, [*needed, *([at_col] if freq is not None else [])], frame_name="feedback"
    )
    rows = feedback if kind is None else feedback.loc[equals(feedback[kind_col], kind)]
    scores = check_numeric(rows[score_col], score_col)
    low, high = scale
    values = scores.to_numpy()
    outside = (values < low) | (values > high) | (values != np.round(values))
    if bool(outside.any()):
        raise DataError.malformed(
            score_col,
            f"has {what} answers that are not whole numbers from {low} to {high}",
            rows=list(rows.index[outside][:20]),
            value=float(values[outside][0]),
            hint=f"fix or drop those rows; {what} answers lie on the {low}-{high} scale"
            + (" (pass scale= if your survey uses another one)." if what != "NPS" else "."),
        )
    return _keys_frame(rows, at_col=at_col, freq=freq, by=segments), scores


@overload
def nps(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "nps",
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def nps(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "nps",
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def nps(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "nps",
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def nps(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = FeedbackColumns(),
    kind: str | None = "nps",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100.

    Definition: Reichheld (2003), "The One Number You Need to Grow", Harvard
    Business Review (Bain & Company), on the 0-10 "how likely are you to
    recommend us" question. Passives (7-8) count in the denominator only.
    Only rows whose ``kind`` column equals ``kind`` are used (``kind=None``: all).

    Args:
        feedback: one row per survey answer; not modified.
        feedback_columns: the columns of ``feedback`` (``score``, ``kind``
            unless ``kind=None``, and ``at`` with ``freq`` are read).
        kind: the survey kind whose answers count (``None``: every row).
        freq: one row per calendar period of the answers (``"M"``, ...).
        by: one row per segment (columns of ``feedback``).

    Returns:
        A float, or with ``freq``/``by`` a DataFrame with the key columns
        (``period`` first), ``nps``, ``promoters``, ``passives``,
        ``detractors`` and ``responses``. With no answers the score is
        undefined: NaN.

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        MissingColumnError: if a named column is absent.
        DataError: for scores that are missing, not whole numbers or outside
            0-10, malformed timestamps (with ``freq``), or missing segments.

    Examples:
        >>> answers = pd.DataFrame({"kind": "nps", "score": [10, 9, 9, 10, 9, 7, 8, 3, 6, 0]})
        >>> nps(answers)  # 5 promoters, 2 passives, 3 detractors: 50% - 30%
        20.0
        >>> answers["at"] = pd.to_datetime(["2026-01-05"] * 5 + ["2026-02-05"] * 5, utc=True)
        >>> nps(answers, freq="M")
            period    nps  promoters  passives  detractors  responses
        0  2026-01  100.0          5         0           0          5
        1  2026-02  -60.0          0         2           3          5
    """
    keys, scores = _answers(
        feedback,
        cols=feedback_columns,
        kind=kind,
        freq=freq,
        by=by,
        scale=(0, 10),
        what="NPS",
    )
    counts = pd.DataFrame(
        {
            "promoters": (scores >= 9).astype("int64"),  # noqa: PLR2004 - the definition
            "passives": scores.between(7, 8).astype("int64"),
            "detractors": (scores <= 6).astype("int64"),  # noqa: PLR2004 - the definition
            "responses": np.ones(len(scores), dtype="int64"),
        },
        index=scores.index,
    )
    if freq is None and by is None:
        total = int(counts["responses"].sum())
        if total == 0:
            return math.nan
        return 100.0 * float(counts["promoters"].sum() - counts["detractors"].sum()) / total
    table = _sum_by(keys, counts)
    score = 100.0 * (table["promoters"] - table["detractors"]) / table["responses"]
    table.insert(len(keys.columns), "nps", score.astype("float64"))
    return table


@overload
def csat(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "csat",
    freq: None = None,
    by: None = None,
    threshold: int = 4,
    scale: tuple[int, int] = (1, 5),
) -> float: ...
@overload
def csat(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "csat",
    freq: str,
    by: str | Sequence[str] | None = None,
    threshold: int = 4,
    scale: tuple[int, int] = (1, 5),
) -> pd.DataFrame: ...
@overload
def csat(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "csat",
    freq: str | None = None,
    by: str | Sequence[str],
    threshold: int = 4,
    scale: tuple[int, int] = (1, 5),
) -> pd.DataFrame: ...
def csat(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = FeedbackColumns(),
    kind: str | None = "csat",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    threshold: int = 4,
    scale: tuple[int, int] = (1, 5),
) -> float | pd.DataFrame:
    """
    Customer Satisfaction score: the percentage of answers at or above ``threshold``.

    Definition: the common *top-two-box* convention: on the 1-5 "how
    satisfied were you" scale, answers 4 ("satisfied") and 5 ("very
    satisfied") count as satisfied, and CSAT is satisfied answers / all
    answers x 100 (a percentage from 0 to 100). Some tools report the mean
    score instead; this function does not. ``scale`` and ``threshold`` make
    other conventions explicit (e.g. ``scale=(1, 7), threshold=6``).

    Args:
        feedback: one row per survey answer; not modified.
        feedback_columns: the columns of ``feedback`` (``score``, ``kind``
            unless ``kind=None``, and ``at`` with ``freq`` are read).
        kind: the survey kind whose answers count (``None``: every row).
        freq: one row per calendar period of the answers (``"M"``, ...).
        by: one row per segment (columns of ``feedback``).
        threshold: the lowest satisfied answer.
        scale: the lowest and highest possible answers (whole numbers within ±10**6).

    Returns:
        A float (percent), or with ``freq``/``by`` a DataFrame with the key
        columns, ``csat``, ``satisfied`` and ``responses``. With no answers
        the score is undefined: NaN.

    Raises:
        ValidationError: for a bad ``scale`` or a ``threshold`` outside it, or an
            empty ``by`` list (name a segment, or pass ``by=None``).
        MissingColumnError: if a named column is absent.
        DataError: for scores that are missing, not whole numbers or outside
            ``scale``, malformed timestamps (with ``freq``), or missing segments.

    Examples:
        >>> answers = pd.DataFrame({"kind": "csat", "score": [5, 4, 4, 3, 1],
        ...                         "team": ["a", "a", "b", "b", "b"]})
        >>> csat(answers)  # 3 of 5 answers are 4 or 5
        60.0
        >>> csat(answers, by="team")
          team        csat  satisfied  responses
        0    a  100.000000          2          2
        1    b   33.333333          1          3
    """
    low, high = _check_scale(scale)
    given: object = threshold  # checked at run time: callers may pass anything
    if isinstance(given, bool) or not isinstance(given, int) or not low < given <= high:
        raise ValidationError.for_field(
            "threshold", threshold, f"a whole number above {low} and at most {high}"
        )
    keys, scores = _answers(
        feedback,
        cols=feedback_columns,
        kind=kind,
        freq=freq,
        by=by,
        scale=(low, high),
        what="CSAT",
    )
    counts = pd.DataFrame(
        {
            "satisfied": (scores >= threshold).astype("int64"),
            "responses": np.ones(len(scores), dtype="int64"),
        },
        index=scores.index,
    )
    if freq is None and by is None:
        total = int(counts["responses"].sum())
        return math.nan if total == 0 else 100.0 * float(counts["satisfied"].sum()) / total
    table = _sum_by(keys, counts)
    share = 100.0 * table["satisfied"] / table["responses"]
    table.insert(len(keys.columns), "csat", share.astype("float64"))
    return table


@overload
def ces(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "ces",
    freq: None = None,
    by: None = None,
    scale: tuple[int, int] = (1, 7),
) -> float: ...
@overload
def ces(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "ces",
    freq: str,
    by: str | Sequence[str] | None = None,
    scale: tuple[int, int] = (1, 7),
) -> pd.DataFrame: ...
@overload
def ces(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = ...,
    kind: str | None = "ces",
    freq: str | None = None,
    by: str | Sequence[str],
    scale: tuple[int, int] = (1, 7),
) -> pd.DataFrame: ...
def ces(
    feedback: pd.DataFrame,
    *,
    feedback_columns: FeedbackColumns = FeedbackColumns(),
    kind: str | None = "ces",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    scale: tuple[int, int] = (1, 7),
) -> float | pd.DataFrame:
    """
    Customer Effort Score: the mean answer on the effort question's scale.

    Definition: Dixon, Freeman & Toman (2010), "Stop Trying to Delight Your
    Customers", Harvard Business Review. The original question ("how much
    effort did you personally have to put forth?") used a 1-5 scale where
    *lower* is better; the later CES 2.0 asks for agreement with "the company
    made it easy for me to handle my issue" on a 1-7 scale where *higher* is
    better. The default is that 7-point agreement scale; pass
    ``scale=(1, 5)`` for the original one and read the direction accordingly.

    Args:
        feedback: one row per survey answer; not modified.
        feedback_columns: the columns of ``feedback`` (``score``, ``kind``
            unless ``kind=None``, and ``at`` with ``freq`` are read).
        kind: the survey kind whose answers count (``None``: every row).
        freq: one row per calendar period of the answers (``"M"``, ...).
        by: one row per segment (columns of ``feedback``).
        scale: the lowest and highest possible answers (whole numbers within ±10**6).

    Returns:
        A float (mean score), or with ``freq``/``by`` a DataFrame with the key
        columns, ``ces``, ``score_sum`` and ``responses``. With no answers the
        score is undefined: NaN.

    Raises:
        ValidationError: for a bad ``scale``, or an empty ``by`` list (name a
            segment, or pass ``by=None``).
        MissingColumnError: if a named column is absent.
        DataError: for scores that are missing, not whole numbers or outside
            ``scale``, malformed timestamps (with ``freq``), or missing segments.

    Examples:
        >>> answers = pd.DataFrame({"kind": ["ces", "ces", "ces", "nps"], "score": [7, 5, 6, 0]})
        >>> ces(answers)  # (7 + 5 + 6) / 3; the NPS row is not a CES answer
        6.0
    """
    low, high = _check_scale(scale)
    keys, scores = _answers(
        feedback,
        cols=feedback_columns,
        kind=kind,
        freq=freq,
        by=by,
        scale=(low, high),
        what="CES",
    )
    sums = pd.DataFrame(
        {"score_sum": scores.astype("float64"), "responses": np.ones(len(scores), dtype="int64")},
        index=scores.index,
    )
    if freq is None and by is None:
        total = int(sums["responses"].sum())
        return math.nan if total == 0 else float(sums["score_sum"].sum()) / total
    table = _sum_by(keys, sums)
    table.insert(
        len(keys.columns), "ces", (table["score_sum"] / table["responses"]).astype("float64")
    )
    return table
