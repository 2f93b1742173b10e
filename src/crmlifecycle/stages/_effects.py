"""
Stage effects: the invariants every lifecycle keeps, driven by stage metadata.

They apply to whatever entity carries the matching fields, so a custom pipeline
with other stage names gets them too:

- ``probability`` (with ``probability_manual``): entering a stage sets its default
  probability unless the probability was set by hand; entering a won stage sets
  100 and a lost stage 0 (and clears the manual flag, since a closed deal's
  probability is not an opinion).
- ``lost_reason``: entering a lost stage needs ``lost_reason=`` in the step's
  context; leaving it clears the reason.
- ``last_open_stage``: entering a lost stage remembers the stage it left.
- ``closed_at``: entering a won or lost stage stamps it; reopening clears it.
- ``highest_state``: the furthest non-lost stage ever reached (a high-water mark).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc
from crmlifecycle.errors import ValidationError
from crmlifecycle.stages._model import Stage

_WON: Final = 100
EFFECT_FIELDS: Final = frozenset(
    {"probability", "probability_manual", "lost_reason", "last_open_stage", "closed_at"}
    | {"highest_state"}
)


_FIELDS_BY_CLASS: dict[type, frozenset[str]] = {}


def effect_fields(entity: object) -> frozenset[str]:
    """Return the effect fields an entity's class carries (cached per class)."""
    cls = type(entity)
    fields = _FIELDS_BY_CLASS.get(cls)
    if fields is None:
        names = {f.name for f in attrs.fields(cls)} if attrs.has(cls) else set()
        fields = _FIELDS_BY_CLASS.setdefault(cls, frozenset(names) & EFFECT_FIELDS)
    return fields


def missing_lost_reason(trigger: str, dest: str, context: Mapping[str, Any]) -> ValidationError:
    """Build the error for a lost step without a reason."""
    return ValidationError.for_field(
        "lost_reason",
        context.get("lost_reason"),
        f"a non-empty reason when entering lost stage {dest!r}",
        hint=f"fire(entity, {trigger!r}, at=..., lost_reason='price').",
    )


@final
class StepEffects:
    """
    The stage effects of a step from ``source`` to ``dest`` on a class carrying ``fields``.

    What depends only on the two stages is decided once, when this is built;
    :meth:`updates` adds what depends on the entity or the step: a stage's default
    probability (unless set by hand), the lost reason from the context, the close
    time, and the ``highest_state`` high-water mark. ``fire`` keeps one per entity
    class and simple step, so a step costs a dict copy and a few tests.
    """

    __slots__ = ("default", "dest", "fixed", "highest", "needs_reason", "stamp_closed")

    def __init__(self, fields: frozenset[str], source: Stage, dest: Stage) -> None:
        fixed: dict[str, Any] = {}
        self.default: int | None = None
        if "probability" in fields:
            if dest.type == "won":
                fixed["probability"] = _WON
            elif dest.type == "lost":
                fixed["probability"] = 0
            else:
                self.default = dest.probability
        if dest.closed and "probability_manual" in fields:
            fixed["probability_manual"] = False
        entering_lost = dest.type == "lost" and source.type != "lost"
        self.needs_reason = "lost_reason" in fields and entering_lost
        if "lost_reason" in fields and dest.type != "lost":
            fixed["lost_reason"] = None
        if "last_open_stage" in fields and entering_lost and not source.closed:
            fixed["last_open_stage"] = source.name
        self.stamp_closed = "closed_at" in fields and dest.closed and not source.closed
        if "closed_at" in fields and not dest.closed:
            fixed["closed_at"] = None
        self.highest = "highest_state" in fields and dest.type != "lost"
        self.fixed = fixed
        self.dest = dest

    def updates(
        self,
        entity: Any,  # noqa: ANN401 - any entity
        step: tuple[str, datetime, Mapping[str, Any]],
        stages: Mapping[str, Stage],
    ) -> dict[str, Any]:
        """Return the field updates for one step (``step`` is ``(trigger, at, context)``)."""
        out = dict(self.fixed)
        if self.default is not None and not getattr(entity, "probability_manual", False):
            out["probability"] = self.default
        if self.needs_reason:
            trigger, _, context = step
            reason = context.get("lost_reason")
            if not isinstance(reason, str) or not reason.strip():
                raise missing_lost_reason(trigger, self.dest.name, context)
            out["lost_reason"] = reason
        if self.stamp_closed:
            out["closed_at"] = step[1]
        if self.highest:
            current = stages.get(entity.highest_state)
            if current is None or self.dest.order > current.order:
                out["highest_state"] = self.dest.name
        return out


def record_updates(
    entity: Any,  # noqa: ANN401 - any entity
    fields: frozenset[str],
    *,
    source: Stage,
    dest: Stage,
    step: tuple[str, datetime, Mapping[str, Any]],
    stages: Mapping[str, Stage],
) -> dict[str, Any]:
    """
    Return the field updates the stage effects make for one step.

    ``step`` is the step's ``(trigger, at, context)``.
    """
    return StepEffects(fields, source, dest).updates(entity, step, stages)


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
        frame["probability_manual"].to_numpy(dtype=bool)[r]
        if "probability_manual" in frame.columns
        else np.zeros(len(r), dtype=bool)
    )
    new = np.where(~manual & ~np.isnan(a.defaults[dst]), a.defaults[dst], values[r])
    new = np.where(a.won[dst], float(_WON), new)
    values[r] = np.where(a.lost[dst], 0.0, new)
    out["probability"] = pd.Series(values, index=frame.index).astype(prob.dtype)
    if "probability_manual" in frame.columns:
        flags = frame["probability_manual"].to_numpy(dtype=bool, copy=True)
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
) -> tuple[dict[str, pd.Series], np.ndarray[Any, Any]]:
    """
    Vectorised stage effects for the rows of a bulk step that change state.

    ``rows`` are positions into ``frame``; ``source``/``dest`` are state codes for
    those rows. Returns the updated columns (full length, copies) and a bool mask
    over ``rows`` of steps refused for a missing lost reason (checked only when the
    frame has a ``lost_reason`` column).
    """
    a = _Arrays.of(stages)
    refused = np.zeros(len(rows), dtype=bool)
    if "lost_reason" in frame.columns:
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
