"""
Won/lost frequency tables for the naive Bayes scorer: the time split, keys, counts.

:func:`training_rows` picks the records closed before the cut-off.

Every field value becomes a text key before it is counted or looked up:
missing values (None/NaN) become :data:`MISSING`, numeric fields fall into
bins ``(-inf, e1]``, ``(e1, e2]``, ..., ``(e_last, inf)`` labelled like
``"<= 2.5"``, ``"(2.5, 7]"``, ``"> 7"``, other values become their ``str``.
The record path (:func:`record_key`) and the vectorised path
(:func:`value_keys`) follow the same rule. The per-key won/lost counts
(:func:`outcome_counts`, :func:`stage_counts`) and their naive Bayes log ratios
(:func:`log_ratios`) are built here too; the model around them is
:class:`~crmlifecycle.scoring.NaiveBayesScorer`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, check_numeric
from crmlifecycle.errors import DataError, FitError, ValidationError

__all__ = [
    "MISSING",
    "Floats",
    "bin_labels",
    "learn_edges",
    "log_ratios",
    "outcome_counts",
    "record_key",
    "stage_counts",
    "stage_index",
    "training_rows",
    "value_keys",
]

#: The value a missing (None/NaN) field is counted under.
MISSING: Final = "<missing>"

Floats = np.ndarray[Any, np.dtype[np.float64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]


def training_rows(
    frame: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    outcome_col: str,
    closed_at_col: str,
    won: Sequence[str],
    lost: Sequence[str],
) -> tuple[Bools, Bools]:
    """
    The rows closed (won or lost) strictly before ``cutoff``, and which of them were won.

    Raises:
        DataError: a closed record has no close date.
        FitError: no such row, or one outcome never occurs among them.
    """
    closed = as_utc(frame[closed_at_col], closed_at_col, allow_missing=True)
    outcome = frame[outcome_col]
    is_closed = outcome.isin([*won, *lost])
    undated = is_closed & closed.isna()
    if bool(undated.any()):
        raise DataError.malformed(
            closed_at_col,
            f"is missing for {int(undated.sum())} closed records",
            rows=list(frame.index[undated.to_numpy()][:20]),
            hint="every won or lost record needs its close date.",
        )
    train: Bools = (is_closed & (closed < cutoff)).to_numpy()
    y: Bools = np.isin(outcome.to_numpy()[train], list(won))
    n_won, n_lost = int(y.sum()), int(len(y) - y.sum())
    when = cutoff.date().isoformat()
    if len(y) == 0:
        raise FitError(
            f"no record closed before {when} to learn from (empty training data). "
            f"Hint: pass a later as_of, or check the {outcome_col!r} and "
            f"{closed_at_col!r} columns.",
            diagnostics={"as_of": when, "n": 0},
        )
    for count, states in ((n_won, won), (n_lost, lost)):
        if count == 0:
            label = states[0] if len(states) == 1 else list(states)
            raise FitError(
                f"no {label!r} record closed before {when}; the class was never seen in "
                f"training, so a probability cannot be learned. Hint: pass a later as_of "
                f"or more history (column {outcome_col!r}).",
                diagnostics={"as_of": when, "won": n_won, "lost": n_lost},
            )
    return train, y


def bin_labels(edges: Sequence[float]) -> list[str]:
    """The label of each bin of ``edges``, lowest first (``["all"]`` with no edges)."""
    if not edges:
        return ["all"]
    labels = [f"<= {edges[0]:g}"]
    labels += [f"({lo:g}, {hi:g}]" for lo, hi in itertools.pairwise(edges)]
    return [*labels, f"> {edges[-1]:g}"]


def record_key(value: object, edges: Sequence[float] | None) -> str:
    """The training key of one value (same rule as the vectorised path)."""
    if hasattr(value, "amount") and hasattr(value, "currency"):
        value = float(value.amount)  # a Money value: its amount
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if edges is None:
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError.for_field("value", value, "a number (the field is binned)")
    # the number of edges below the value, compared exactly (an int beyond a float included)
    return bin_labels(edges)[sum(1 for edge in edges if edge < value)]


def value_keys(values: pd.Series, field: str, edges: Sequence[float] | None) -> pd.Series:
    """The training key of every value (vectorised; same rule as :func:`record_key`)."""
    missing = values.isna().to_numpy()
    if edges is None:
        text = values.astype(object).where(~missing, MISSING).astype(str)
        return pd.Series(text.to_numpy(dtype=object), index=values.index)
    numbers = check_numeric(values, field, allow_missing=True).to_numpy()
    labels = np.array([*bin_labels(edges), MISSING], dtype=object)
    which = np.searchsorted(np.asarray(edges, dtype="float64"), numbers, side="left")
    which[missing] = len(labels) - 1
    return pd.Series(labels[which], index=values.index)


def learn_edges(
    values: pd.Series, field: str, bins: int | tuple[float, ...] | None
) -> list[float] | None:
    """
    The bin edges of a field: none (not binned), the given edges, or ``bins`` quantile edges.

    ``bins`` quantile bins put edges at the 1/bins, 2/bins, ... quantiles of the
    non-missing training values, duplicates dropped.
    """
    if bins is None:
        return None
    if isinstance(bins, tuple):
        return list(bins)
    numbers = check_numeric(values, field, allow_missing=True).dropna().to_numpy()
    if len(numbers) == 0:
        return []
    quantiles = np.quantile(numbers, np.arange(1, bins) / bins)
    return [float(q) for q in np.unique(quantiles)]


def stage_index(
    values: pd.Series, field: str, stages: Sequence[str]
) -> np.ndarray[Any, np.dtype[np.intp]]:
    """The position of every value in the stage order ``stages``; an unknown stage raises."""
    index = pd.Index(stages).get_indexer(pd.Index(values.astype(object)))
    if (index < 0).any():
        bad = values[index < 0]
        raise DataError.malformed(
            field,
            "holds stages not in the stage order",
            rows=list(bad.index[:20]),
            value=bad.iloc[0],
            hint=f"use one of {list(stages)}.",
        )
    return index


def outcome_counts(keys: pd.Series, won: np.ndarray[Any, Any]) -> dict[str, list[int]]:
    """``{key: [won records, lost records]}`` in order of first appearance."""
    codes, uniques = pd.factorize(keys)
    won_n = np.bincount(codes, weights=won, minlength=len(uniques))
    all_n = np.bincount(codes, minlength=len(uniques))
    return {str(k): [int(w), int(a - w)] for k, w, a in zip(uniques, won_n, all_n, strict=True)}


def stage_counts(
    reached: np.ndarray[Any, np.dtype[np.intp]], won: Bools, stages: Sequence[str]
) -> dict[str, list[int]]:
    """
    ``{stage: [won records, lost records that reached it]}``, counted the Odoo way.

    A won record counts toward every stage; a lost one toward each stage up to
    the one it was lost in (``reached``: its position in ``stages``).
    """
    n_won = int(won.sum())
    lost_reached = np.bincount(reached[~won], minlength=len(stages))[::-1].cumsum()[::-1]
    return {s: [n_won, int(n)] for s, n in zip(stages, lost_reached, strict=True)}


def log_ratios(
    counts: Mapping[str, Sequence[float]], *, n_won: float, n_lost: float, alpha: float
) -> tuple[pd.Index, Floats]:
    """
    The keys and their ``log(P(v | won) / P(v | lost))`` with additive smoothing ``alpha``.

    ``P(v | c) = (n(v, c) + alpha) / (N_c + alpha * K)`` with ``K`` the number of keys.
    """
    table = np.array(list(counts.values()), dtype="float64").reshape(-1, 2)
    k = len(table)
    ratio: Floats = np.log((table[:, 0] + alpha) / (n_won + alpha * k)) - np.log(
        (table[:, 1] + alpha) / (n_lost + alpha * k)
    )
    return pd.Index(list(counts), dtype=object), ratio
