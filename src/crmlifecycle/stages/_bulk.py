"""
Bulk steps over DataFrames, vectorised from the lifecycle's compiled table.

States and triggers are turned into categorical codes once; a dense
``(trigger, state) -> dest`` table advances every row whose step has no guard or
hook with one numpy lookup. Guarded or hooked ``(trigger, state)`` pairs (a
handful per lifecycle) are evaluated per pair on the rows concerned, through
each guard's frame form (rule-language conditions use ``evaluate_frame``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.stages._effects import frame_updates
from crmlifecycle.stages._model import Hook
from crmlifecycle.stages._tables import (
    COMPLEX,
    REASONS,
    FrameTables,
    categorical,
    codes_of,
    frame_tables,
    state_codes,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import Compiled
    from crmlifecycle.stages._machine import Lifecycle

__all__ = ["EVENT_COLUMNS", "FrameStep", "fire_frame"]

#: The columns of an events frame (``context`` is optional).
EVENT_COLUMNS: Final = ("kind", "entity_id", "trigger", "source", "dest", "at")

_UNKNOWN_TRIGGER: Final = REASONS[1]
_TOO_EARLY: Final = REASONS[2]
_NO_REASON: Final = REASONS[3]
_INT8_MAX: Final = 127


@final
@attrs.frozen(kw_only=True, eq=False)
class FrameStep:
    """
    The result of a bulk step (:func:`fire_frame`).

    Attributes:
        state: the new state per row (categorical over the lifecycle's states;
            unchanged where the step was refused).
        accepted: whether the row's step happened.
        reason: why a row was refused (categorical; missing where accepted).
        events: one row per accepted step, columns ``kind, entity_id, trigger,
            source, dest, at`` (plus ``context`` when ``context_cols`` were given).
        changes: every column the step changes (``state``, ``state_since``, and the
            stage-effect and hook columns), full length, aligned to the input.

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> leads = pd.DataFrame({"id": ["L-1", "L-2"], "state": ["open", "qualified"]})
        >>> step = LEAD_STATUS.fire_frame(leads, "contact", at="2026-03-01")
        >>> step.state.tolist(), step.accepted.tolist(), step.reason.tolist()
        (['contacted', 'qualified'], [True, False], [nan, 'not allowed from this state'])
        >>> step.frame["state"].tolist()
        ['contacted', 'qualified']

    .. versionadded:: 0.1
    """

    state: pd.Series
    accepted: pd.Series
    reason: pd.Series
    events: pd.DataFrame
    changes: Mapping[str, pd.Series]
    source_frame: pd.DataFrame = attrs.field(repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the input frame with the changes applied (the input is untouched)."""
        return self.source_frame.assign(**dict(self.changes))


def _apply_hooks(
    frame: pd.DataFrame,
    changes: dict[str, pd.Series],
    hook_runs: list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]],
    moved: np.ndarray[Any, Any],
    when: pd.Timestamp,
) -> None:
    for candidate_rows, hooks in hook_runs:
        rows = candidate_rows[moved[candidate_rows]]
        for hook in hooks:
            if hook.frame is None:
                raise DataError(
                    f"hook {hook.name!r} has no vectorised form. Hint: build it with "
                    "Hook.of(func, frame=vectorised_func), or step these entities with fire()."
                )
            for column, values in hook.frame(frame.iloc[rows], when).items():
                current = changes.get(column, frame.get(column))
                base = (
                    current.copy()
                    if current is not None
                    else pd.Series(None, index=frame.index, dtype=object)
                )
                base.iloc[rows] = (
                    values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
                )
                changes[column] = base


def fire_frame(
    lifecycle: Lifecycle,
    frame: pd.DataFrame,
    trigger: str | None = None,
    *,
    at: object,
    trigger_col: str | None = None,
    id_col: str = "id",
    state_col: str = "state",
    since_col: str | None = "state_since",
    context_cols: Sequence[str] = (),
) -> FrameStep:
    """
    Fire one trigger (or each row's trigger) on a frame of entities, vectorised.

    Rows whose step is not allowed, whose guards say no, whose ``state_since`` is
    after ``at``, or that would enter a lost stage without a ``lost_reason``
    (when the frame carries that column) are refused with a reason; the others
    advance. Condition guards are evaluated with the rule language's frame
    engine; a Python guard or hook needs a vectorised form (``frame=``), else a
    :class:`~crmlifecycle.errors.DataError` is raised. In bulk steps, hooks see
    the rows as they were before the step. The input frame is not modified.

    Args:
        lifecycle: the lifecycle.
        frame: one row per entity.
        trigger: the trigger to fire on every row, or ``None`` with ``trigger_col``.
        at: when the step happens (datetime, date or ISO text; read as UTC).
        trigger_col: a column holding each row's trigger (missing = no step).
        id_col: the entity id column (copied into the events).
        state_col: the current state column.
        since_col: the ``state_since`` column, if the frame has it (checked and updated).
        context_cols: columns passed as step context (``lost_reason`` feeds the
            lost-stage effect) and stored in the events' ``context`` column.

    Raises:
        MissingColumnError: a named column is absent.
        DataError: unknown states, bad timestamps, or a guard/hook without a frame form.

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> deals = pd.DataFrame({"id": ["O-1", "O-2"], "state": ["proposal", "won"],
        ...                       "probability": [50, 100], "probability_manual": [False, False]})
        >>> step = PIPE.fire_frame(deals, "negotiate", at="2026-03-01")
        >>> step.frame[["state", "probability"]].to_dict("list")
        {'state': ['negotiation', 'won'], 'probability': [80, 100]}
        >>> step.events[["entity_id", "source", "dest"]].to_dict("records")
        [{'entity_id': 'O-1', 'source': 'proposal', 'dest': 'negotiation'}]
    """
    if (trigger is None) == (trigger_col is None):
        raise DataError(
            "pass exactly one of trigger= and trigger_col=. "
            "Hint: fire_frame(df, 'qualify', at=...) or fire_frame(df, trigger_col='next', at=...)."
        )
    needed = [id_col, state_col, *context_cols] + ([trigger_col] if trigger_col else [])
    require_columns(frame, needed)
    when = utc_timestamp(at, name="at")
    tables = frame_tables(lifecycle)
    # 1. states as codes; one table lookup gives each row's dest code (or -1 / COMPLEX)
    src = state_codes(frame[state_col], tables.state_index, state_col)
    lookup = _lookup(tables, frame, trigger, trigger_col, src)
    dest, why = lookup.dest, lookup.why  # why: reason category code, -1 = none
    # 2. guarded / hooked pairs: candidates in order, the first passing wins
    reasons = list(REASONS)
    hook_runs = _resolve(frame, tables, lookup, src=src, when=when, reasons=reasons)
    moved = dest >= 0
    internal = lookup.internal
    # 3. time order: state_since never goes backwards
    since: pd.Series | None = None
    if since_col is not None and since_col in frame.columns:
        since = as_utc(frame[since_col], since_col)
        too_early = moved & (since > when).to_numpy(dtype=bool)
        why[too_early] = REASONS.index(_TOO_EARLY)
        moved &= ~too_early
    # 4. stage effects on the rows that change state
    stepping = np.flatnonzero(moved & ~internal if internal is not None else moved)
    effects, refused = frame_updates(
        frame,
        stepping,
        source=src[stepping],
        dest=dest[stepping],
        stages=lifecycle.stages,
        at=when,
        lost_reason=frame["lost_reason"] if "lost_reason" in context_cols else None,
    )
    if bool(refused.any()):
        why[stepping[refused]] = REASONS.index(_NO_REASON)
        moved[stepping[refused]] = False
        stepping = stepping[~refused]
    changes: dict[str, pd.Series] = dict(effects)
    # 5. hooks (vectorised forms) on accepted rows
    _apply_hooks(frame, changes, hook_runs, moved, when)
    # 6. outputs
    index = frame.index
    state = pd.Series(
        categorical(np.where(moved, dest, src), tables.state_dtype), index=index, name=state_col
    )
    changes[state_col] = state
    if since is not None and since_col is not None:
        new_since = since.copy()
        new_since.iloc[stepping] = when
        changes[since_col] = new_since
    reason_dtype = (
        tables.reason_dtype if len(reasons) == len(REASONS) else pd.CategoricalDtype(reasons)
    )
    return FrameStep(
        state=state,
        accepted=pd.Series(moved, index=index, name="accepted"),
        reason=pd.Series(categorical(why, reason_dtype), index=index, name="reason"),
        events=_events(
            frame,
            tables,
            lookup,
            src,
            np.flatnonzero(moved),
            when=when,
            cols=(id_col, context_cols),
        ),
        changes=changes,
        source_frame=frame,
    )


@final
class _Lookup:
    """Each row's trigger code (or the one trigger's), dest code, reason code and flags."""

    __slots__ = ("dest", "internal", "tcodes", "trigger", "why")

    def __init__(
        self,
        trigger: int,
        tcodes: np.ndarray[Any, Any] | None,
        dest: np.ndarray[Any, Any],
        why: np.ndarray[Any, Any],
        internal: np.ndarray[Any, Any] | None,
    ) -> None:
        self.trigger = trigger  # the one trigger's code (-1: per row, in tcodes)
        self.tcodes = tcodes
        self.dest = dest
        self.why = why
        self.internal = internal


def _lookup(
    tables: FrameTables,
    frame: pd.DataFrame,
    trigger: str | None,
    trigger_col: str | None,
    src: np.ndarray[Any, Any],
) -> _Lookup:
    n = len(src)
    small = np.int8 if len(tables.complex_pairs) + len(REASONS) < _INT8_MAX else np.int16
    if trigger_col is None:
        t = tables.trigger_of.get(str(trigger), -1)
        if t < 0:
            unknown = REASONS.index(_UNKNOWN_TRIGGER)
            return _Lookup(t, None, np.full(n, -1, np.int8), np.full(n, unknown, small), None)
        dest = tables.dest[t].take(src)
        why = (dest == -1).astype(small) - 1  # 0 (not allowed) where -1, else -1 (none yet)
        internal = tables.internal[t].take(src) if tables.has_internal else None
        return _Lookup(t, None, dest, why, internal)
    column = frame[trigger_col]
    tcodes = codes_of(column, tables.trigger_index)
    known = tcodes >= 0
    safe = np.where(known, tcodes, 0)
    dest = np.where(known, tables.dest[safe, src], -1)
    why = (dest == -1).astype(small) - 1
    why[~known] = REASONS.index(_UNKNOWN_TRIGGER)
    why[column.isna().to_numpy(dtype=bool)] = -1  # no trigger: no step, no reason
    internal = (tables.internal[safe, src] & known) if tables.has_internal else None
    return _Lookup(-1, tcodes, dest, why, internal)


def _resolve(
    frame: pd.DataFrame,
    tables: FrameTables,
    lookup: _Lookup,
    *,
    src: np.ndarray[Any, Any],
    when: pd.Timestamp,
    reasons: list[str],
) -> list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]]:
    """Decide the guarded / hooked rows in place (dest, why, internal); return the hook runs."""
    pending = np.flatnonzero(lookup.dest == COMPLEX)
    hook_runs: list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]] = []
    if not len(pending):
        return hook_runs
    pending_src = src[pending]
    pending_t = lookup.tcodes[pending] if lookup.tcodes is not None else None
    for (t, s), candidates in tables.complex_pairs.items():
        if pending_t is None:
            if t != lookup.trigger:
                continue
            rows = pending[pending_src == s]
        else:
            rows = pending[(pending_src == s) & (pending_t == t)]
        if len(rows):
            _decide(
                frame,
                tables,
                lookup,
                (rows, candidates),
                when=when,
                reasons=reasons,
                hook_runs=hook_runs,
            )
    return hook_runs


def _decide(
    frame: pd.DataFrame,
    tables: FrameTables,
    lookup: _Lookup,
    pair: tuple[np.ndarray[Any, Any], tuple[Compiled, ...]],
    *,
    when: pd.Timestamp,
    reasons: list[str],
    hook_runs: list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]],
) -> None:
    """One (trigger, state) pair's rows: the first candidate whose guards pass wins."""
    undecided, candidates = pair
    failures: list[str] = []
    for candidate in candidates:
        if not len(undecided):
            break
        passing = np.ones(len(undecided), dtype=bool)
        sub = frame.iloc[undecided]
        for guard, target in candidate.guards:
            check = guard.check_frame(sub, when)
            passing &= check if target else ~check
        failures.extend(g.name if tg else f"unless {g.name}" for g, tg in candidate.guards)
        won = undecided[passing]
        lookup.dest[won] = tables.state_index.get_loc(candidate.dest)
        if candidate.internal:
            if lookup.internal is None:
                lookup.internal = np.zeros(len(lookup.dest), dtype=bool)
            lookup.internal[won] = True
        if candidate.before or candidate.after:
            hook_runs.append((won, candidate.before + candidate.after))
        undecided = undecided[~passing]
    if len(undecided):
        reasons.append("guard rejected: " + "; ".join(dict.fromkeys(failures)))
        lookup.why[undecided] = len(reasons) - 1


def _events(
    frame: pd.DataFrame,
    tables: FrameTables,
    lookup: _Lookup,
    src: np.ndarray[Any, Any],
    rows: np.ndarray[Any, Any],
    *,
    when: pd.Timestamp,
    cols: tuple[str, Sequence[str]],
) -> pd.DataFrame:
    """The events frame of the accepted rows: categorical names, the ids as they came."""
    id_col, context_cols = cols
    ids = frame[id_col]
    if ids.dtype == object:
        entity_id: Any = ids.to_numpy()[rows]
    else:  # keep the column's own storage (e.g. Arrow strings): no Python objects per row
        entity_id = ids.array.take(rows)
    k = len(rows)
    tcodes = (
        np.full(k, lookup.trigger, dtype=np.int64) if lookup.tcodes is None else lookup.tcodes[rows]
    )
    events = pd.DataFrame(
        {
            "kind": categorical(np.zeros(k, dtype=np.int8), tables.kind_dtype),
            "entity_id": entity_id,
            "trigger": categorical(tcodes, tables.trigger_dtype),
            "source": categorical(src[rows], tables.state_dtype),
            "dest": categorical(lookup.dest[rows], tables.state_dtype),
            "at": pd.DatetimeIndex(np.full(k, when.tz_localize(None).to_datetime64())).tz_localize(
                "UTC"
            ),
        }
    )
    if context_cols:
        records: list[dict[Any, Any]] = frame.iloc[rows][list(context_cols)].to_dict("records")
        events["context"] = pd.Series(records, dtype=object)
    return events
