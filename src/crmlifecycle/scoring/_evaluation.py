"""
Measures of a probability forecast: ROC AUC, Brier score and a calibration table.

- ROC AUC in its Mann-Whitney form (Hanley & McNeil 1982, *Radiology* 143(1)): the
  probability that a randomly chosen positive is scored above a randomly chosen
  negative, ties counting one half, computed from average ranks as
  ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``.
- Brier score (Brier 1950, *Monthly Weather Review* 78(1)): the mean squared
  difference between the forecast probability and the 0/1 outcome (lower is better;
  always forecasting the base rate ``b`` scores ``b (1 - b)``).
- Calibration table: forecasts grouped into equal-width probability bins, each
  with its mean forecast and the observed rate of positives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, final

import attrs
import numpy as np
import pandas as pd
from scipy.stats import rankdata

from crmlifecycle._finite import check_probabilities
from crmlifecycle.errors import DataError

__all__ = ["Evaluation", "brier_score", "calibration_table", "roc_auc"]

_Array = np.ndarray[Any, np.dtype[Any]]

#: The most bins a calibration table has (each bin costs memory, whatever the data).
_MAX_BINS = 1_000


def _inputs(
    y_true: Sequence[Any] | _Array | pd.Series,
    prob: Sequence[float] | _Array | pd.Series,
) -> tuple[_Array, _Array]:
    y = np.asarray(y_true)
    try:
        p = np.asarray(prob, dtype="float64")
    except (TypeError, ValueError) as err:
        raise DataError(
            "prob must hold numbers only (probabilities from 0 to 1). "
            "Hint: pass a scorer's probabilities as a list, array or Series."
        ) from err
    if y.shape != p.shape or y.ndim != 1:
        raise DataError(
            f"y_true and the probabilities must be 1-d and equally long (got {y.shape} and "
            f"{p.shape}). Hint: pass one probability per outcome."
        )
    if not np.isin(y, [0, 1, True, False]).all():
        raise DataError.malformed(
            "y_true", "must hold only 0/1 or booleans", hint="map the outcome to won=1, lost=0."
        )
    check_probabilities(pd.Series(p), "probability", scale="fraction")
    return y.astype(bool), p


def roc_auc(
    y_true: Sequence[Any] | _Array | pd.Series,
    prob: Sequence[float] | _Array | pd.Series,
) -> float:
    """
    Return the area under the ROC curve (Mann-Whitney form, ties count one half).

    Args:
        y_true: the outcomes, 1/``True`` (won) or 0/``False`` (lost), one per forecast.
        prob: the forecast probabilities of outcome 1, in [0, 1], as long as ``y_true``.

    Examples:
        >>> roc_auc([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1])
        0.75

    Raises:
        DataError: only one class is present (the AUC is undefined).
    """
    y, p = _inputs(y_true, prob)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DataError(
            f"the AUC needs both outcomes; got {n_pos} positive and {n_neg} negative. "
            "Hint: evaluate on a period with both won and lost records.",
            column="y_true",
        )
    ranks = rankdata(p)  # average ranks for ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def brier_score(
    y_true: Sequence[Any] | _Array | pd.Series, prob: Sequence[float] | _Array | pd.Series
) -> float:
    """
    Return the Brier score, the mean of ``(probability - outcome)^2``.

    Args:
        y_true: the outcomes, 1/``True`` (won) or 0/``False`` (lost), one per forecast.
        prob: the forecast probabilities of outcome 1, in [0, 1], as long as ``y_true``.

    Examples:
        >>> brier_score([1, 0], [0.8, 0.4])  # ((0.2)^2 + (0.4)^2) / 2
        0.1
    """
    y, p = _inputs(y_true, prob)
    if len(y) == 0:
        raise DataError("the Brier score of no forecasts is undefined. Hint: pass forecasts.")
    return float(np.mean((p - y) ** 2))


def calibration_table(
    y_true: Sequence[Any] | _Array | pd.Series,
    prob: Sequence[float] | _Array | pd.Series,
    *,
    bins: int = 10,
) -> pd.DataFrame:
    """
    Return forecasts grouped into ``bins`` equal-width bins (empty bins left out).

    Columns: ``low``, ``high`` (the bin, ``[low, high)``, the last one closed),
    ``n``, ``mean_predicted`` and ``observed_rate``.

    Args:
        y_true: the outcomes, 1/``True`` (won) or 0/``False`` (lost), one per forecast.
        prob: the forecast probabilities of outcome 1, in [0, 1], as long as ``y_true``.
        bins: the number of equal-width bins over [0, 1] (a positive int, at most 1000:
            three arrays of ``bins`` numbers are built).

    Raises:
        DataError: probabilities outside [0, 1] (naming the rows), outcomes not 0/1, or
            ``bins`` not an int from 1 to 1000.

    Examples:
        >>> calibration_table([1, 0, 1, 1], [0.15, 0.12, 0.85, 0.95], bins=2)
           low  high  n  mean_predicted  observed_rate
        0  0.0   0.5  2           0.135            0.5
        1  0.5   1.0  2           0.900            1.0
    """
    y, p = _inputs(y_true, prob)
    given: object = bins  # checked at run time: callers may pass anything
    if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= _MAX_BINS:
        raise DataError(
            f"bins must be a positive int of at most {_MAX_BINS} (got {bins!r:.60}). "
            "Hint: e.g. bins=10."
        )
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y.astype("float64"), minlength=bins)
    used = n > 0
    edges = np.arange(bins + 1) / bins
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "low": edges[:-1],
                "high": edges[1:],
                "n": n,
                "mean_predicted": sum_p / n,
                "observed_rate": sum_y / n,
            }
        )
    return table[used].reset_index(drop=True)


@final
@attrs.frozen(kw_only=True, eq=False)
class Evaluation:
    """
    How well a predictive scorer did on records closed after its training cut-off.

    Attributes:
        auc: ROC AUC (0.5 is chance, 1 is perfect ranking).
        brier: Brier score (lower is better).
        base_brier: the Brier score of always forecasting the holdout's base rate.
        n: number of holdout records.
        n_won: how many of them were won.
        as_of: the training cut-off; the holdout is every record closed at or after it.
        calibration: the calibration table (see :func:`calibration_table`).

    Examples:
        >>> ev = Evaluation(auc=0.8, brier=0.1, base_brier=0.25, n=10, n_won=5,
        ...                 as_of=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                 calibration=pd.DataFrame())
        >>> print(ev)
        AUC 0.800, Brier 0.100 (base rate alone 0.250), 10 closed since 2026-01-01 (5 won)
    """

    auc: float
    brier: float
    base_brier: float
    n: int
    n_won: int
    as_of: pd.Timestamp
    calibration: pd.DataFrame

    def __str__(self) -> str:
        return (
            f"AUC {self.auc:.3f}, Brier {self.brier:.3f} (base rate alone {self.base_brier:.3f}), "
            f"{self.n} closed since {self.as_of.date()} ({self.n_won} won)"
        )
