"""
The stage effects of a bulk step, vectorised over the rows that change state.

The same invariants as the single step (see :mod:`crmlifecycle.stages._step`),
on whichever of the columns ``probability``, ``probability_manual``,
``lost_reason``, ``last_open_stage``, ``closed_at`` and ``highest_state`` the
frame carries: a stage's default probability unless set by hand (100 when won,
0 when lost), a lost reason required when entering a lost stage and cleared
when leaving it, the last open stage remembered, the close time stamped and
cleared, and the ``highest_state`` high-water mark.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._finite import check_probabilities
from crmlifecycle._frames import as_utc
from crmlifecycle.stages._definition import Stage

_WON: Final = 100


@attrs.frozen(kw_only=True)
class _Arrays:
    """Per-state lookup arrays for the vectorised effects."""

    names: np.ndarray[Any, Any]
    order: np.ndarray[Any, Any]
    won: np.ndarray[Any, Any]
    lost: np.ndarray[Any, Any]
    closed: np.ndarray[Any, Any]
    defaults: np.ndarray[Any, Any]

    @classmethod
    def of(cls, stages: tuple[Stage, ...]) -> _Arrays:
        types = np.array([s.type for s in stages], dtype=object)
        won, lost = types == "won", types == "lost"
        return cls(
            names=np.array([s.name for s in stages], dtype=object),
            order=np.array([s.order for s in stages], dtype=np.int64),
            won=won,
            lost=lost,
            closed=won | lost,
            defaults=np.array([np.nan if s.probability is None else s.probability for s in stages]),
        )


def _frame_probability(
    frame: pd.DataFrame, r: np.ndarray[Any, Any], dst: np.ndarray[Any, Any], a: _Arrays
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    prob = frame["probability"]
    values = prob.to_numpy(dtype=float, copy=True)
    manual = (
        frame["probability_manual"].to_numpy(dtype=bool, na_value=False)[r]
        if "probability_manual" in frame.columns
        else np.zeros(len(r), dtype=bool)
    )
    kept = (manual | np.isnan(a.defaults[dst])) & ~a.closed[dst]
    if bool(kept.any()):  # a kept value is a record's probability: 0 to 100, as on the record
        check_probabilities(
            pd.Series(values[r[kept]], index=frame.index[r[kept]]), "probability", scale="percent"
        )
    new = np.where(kept, values[r], a.defaults[dst])
    new = np.where(a.won[dst], float(_WON), new)
    values[r] = np.where(a.lost[dst], 0.0, new)
    out["probability"] = pd.Series(values, index=frame.index).astype(prob.dtype)
    if "probability_manual" in frame.columns:
        flags = frame["probability_manual"].to_numpy(dtype=bool, copy=True, na_value=False)
        flags[r[a.closed[dst]]] = False
        out["probability_manual"] = pd.Series(flags, index=frame.index)
    return out


def _frame_lost(
    frame: pd.DataFrame,
    moves: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]],
    a: _Arrays,
    at: pd.Timestamp,
    lost_reason: pd.Series | None,
) -> dict[str, pd.Series]:
    r, src, dst = moves
    out: dict[str, pd.Series] = {}
    entering = a.lost[dst] & ~a.lost[src]
    if "lost_reason" in frame.columns:
        col = frame["lost_reason"].astype(object).to_numpy(copy=True)
        if lost_reason is not None:
            col[r[entering]] = lost_reason.to_numpy(dtype=object)[r[entering]]
        col[r[~a.lost[dst]]] = None
        out["lost_reason"] = pd.Series(col, index=frame.index, dtype=object)
    if "last_open_stage" in frame.columns:
        col = frame["last_open_stage"].astype(object).to_numpy(copy=True)
        mark = entering & ~a.closed[src]
        col[r[mark]] = a.names[src[mark]]
        out["last_open_stage"] = pd.Series(col, index=frame.index, dtype=object)
    if "closed_at" in frame.columns:
        stamp = as_utc(frame["closed_at"], "closed_at", allow_missing=True)
        values = stamp.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]", copy=True)
        values[r[a.closed[dst] & ~a.closed[src]]] = at.tz_localize(None).to_datetime64()
        values[r[~a.closed[dst]]] = np.datetime64("NaT")
        out["closed_at"] = pd.Series(values, index=frame.index).dt.tz_localize("UTC")
    return out


def frame_updates(
    frame: pd.DataFrame,
    rows: np.ndarray[Any, Any],
    *,
    source: np.ndarray[Any, Any],
    dest: np.ndarray[Any, Any],
    stages: tuple[Stage, ...],
    at: pd.Timestamp,
    lost_reason: pd.Series | None,
    needs_reason: bool,
) -> tuple[dict[str, pd.Series], np.ndarray[Any, Any]]:
    """
    Vectorised stage effects for the rows of a bulk step that change state.

    ``rows`` are positions into ``frame``; ``source``/``dest`` are state codes for
    those rows. Returns the updated columns (full length, copies) and a bool mask
    over ``rows`` of steps refused for a missing lost reason (checked when
    ``needs_reason``: the frame has a ``lost_reason`` column, or its records' class
    has that field, as ``fire`` checks it).

    Raises:
        DataError: a probability a step keeps (set by hand, or a stage without a
            default) is not a number from 0 to 100, naming ``probability`` and the rows.
    """
    a = _Arrays.of(stages)
    refused = np.zeros(len(rows), dtype=bool)
    if needs_reason:
        entering = a.lost[dest] & ~a.lost[source]
        given = (
            lost_reason.to_numpy(dtype=object)[rows]
            if lost_reason is not None
            else np.full(len(rows), None)
        )
        text = pd.Series(given, dtype=object).astype("string").str.strip()
        refused = entering & (text.isna() | (text == "")).to_numpy(dtype=bool)
    keep = ~refused
    r, src, dst = rows[keep], source[keep], dest[keep]
    out: dict[str, pd.Series] = {}
    if "probability" in frame.columns:
        out.update(_frame_probability(frame, r, dst, a))
    out.update(_frame_lost(frame, (r, src, dst), a, at, lost_reason))
    if "highest_state" in frame.columns:
        col = frame["highest_state"].astype(object).to_numpy(copy=True)
        codes = pd.Index(list(a.names)).get_indexer(col[r])
        current = np.where(codes >= 0, a.order[np.maximum(codes, 0)], -1)
        raise_mark = ~a.lost[dst] & (a.order[dst] > current)
        col[r[raise_mark]] = a.names[dst[raise_mark]]
        out["highest_state"] = pd.Series(col, index=frame.index, dtype=object)
    return out, refused
