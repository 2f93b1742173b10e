"""
Bulk steps and replay over DataFrames, vectorised from the lifecycle's compiled table.

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

if TYPE_CHECKING:
    from crmlifecycle.stages._machine import Lifecycle

__all__ = ["EVENT_COLUMNS", "FrameStep", "fire_frame", "replay_frame"]

#: The columns of an events frame (``context`` is optional).
EVENT_COLUMNS: Final = ("kind", "entity_id", "trigger", "source", "dest", "at")

_NOT_ALLOWED: Final = "not allowed from this state"
_UNKNOWN_TRIGGER: Final = "unknown trigger"
_TOO_EARLY: Final = "at is before state_since"
_NO_REASON: Final = "missing lost_reason"
_SIMPLE: Final = -2


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


def _codes(
    values: pd.Series, names: Sequence[str], column: str, *, loud: bool
) -> np.ndarray[Any, Any]:
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == list(names):
        codes = values.cat.codes.to_numpy()
    else:
        codes = pd.Index(list(names)).get_indexer(pd.Index(values))
    codes = codes.astype(np.int64)
    if loud and bool((codes < 0).any()):
        bad = np.flatnonzero(codes < 0)
        raise DataError.malformed(
            column,
            "holds values that are not states of this lifecycle",
            rows=list(values.index[bad[:20]]),
            value=values.iloc[bad[0]],
            hint=f"use one of {list(names)}, or the lifecycle that wrote them.",
        )
    return codes


def _tables(
    lifecycle: Lifecycle,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], dict[tuple[int, int], Any]]:
    states = {s: i for i, s in enumerate(lifecycle.states)}
    triggers = lifecycle.trigger_names
    dest = np.full((len(triggers), len(states)), -1, dtype=np.int64)
    internal = np.zeros((len(triggers), len(states)), dtype=bool)
    complex_pairs: dict[tuple[int, int], Any] = {}
    table = lifecycle._table  # noqa: SLF001 - the compiled table is shared within the package
    for t, trigger in enumerate(triggers):
        for s, state in enumerate(lifecycle.states):
            candidates = table.get((state, trigger))
            if candidates is None:
                continue
            first = candidates[0]
            if len(candidates) == 1 and not (first.guards or first.before or first.after):
                dest[t, s] = states[first.dest]
                internal[t, s] = first.internal
            else:
                dest[t, s] = _SIMPLE
                complex_pairs[(t, s)] = candidates
    return dest, internal, complex_pairs


def _cat(codes: np.ndarray[Any, Any], names: Sequence[str]) -> pd.Categorical:
    dtype: Any = pd.CategoricalDtype(list(names))
    categorical: pd.Categorical = pd.Categorical.from_codes(codes.astype(np.int64), dtype=dtype)
    return categorical


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


def fire_frame(  # noqa: C901, PLR0912, PLR0915 - one pass, steps commented
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
    n = len(frame)
    names = lifecycle.states
    triggers = lifecycle.trigger_names
    # 1. states and triggers as codes
    src = _codes(frame[state_col], names, state_col, loud=True)
    unknown_trigger = np.zeros(n, dtype=bool)
    if trigger_col is not None:
        tcodes = pd.Index(list(triggers)).get_indexer(pd.Index(frame[trigger_col])).astype(np.int64)
        no_step = frame[trigger_col].isna().to_numpy()
        unknown_trigger = (tcodes < 0) & ~no_step
    elif trigger in triggers:
        tcodes = np.full(n, triggers.index(trigger), dtype=np.int64)
        no_step = np.zeros(n, dtype=bool)
    else:
        tcodes = np.full(n, -1, dtype=np.int64)
        no_step = np.zeros(n, dtype=bool)
        unknown_trigger = np.ones(n, dtype=bool)
    # 2. one table lookup for the unguarded steps
    dest_table, internal_table, complex_pairs = _tables(lifecycle)
    has_trigger = tcodes >= 0
    safe_t = np.where(has_trigger, tcodes, 0)
    dest = np.where(has_trigger, dest_table[safe_t, src], -1)
    internal = has_trigger & internal_table[safe_t, src]
    reason = np.zeros(n, dtype=np.int64)  # 0 = accepted; codes index `reasons`
    reasons: list[str] = [_NOT_ALLOWED, _UNKNOWN_TRIGGER, _TOO_EARLY, _NO_REASON]
    hook_runs: list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]] = []
    # 3. guarded / hooked pairs: candidates in order, first passing wins
    for (t, s), candidates in complex_pairs.items():
        rows = np.flatnonzero((tcodes == t) & (src == s))
        if not len(rows):
            continue
        undecided = rows
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
            dest[won] = names.index(candidate.dest)
            internal[won] = candidate.internal
            if candidate.before or candidate.after:
                hook_runs.append((won, candidate.before + candidate.after))
            undecided = undecided[~passing]
        if len(undecided):
            reasons.append("guard rejected: " + "; ".join(dict.fromkeys(failures)))
            reason[undecided] = len(reasons)
    reason = np.where((dest < 0) & (reason == 0), 1, reason)
    reason = np.where(unknown_trigger, 2, reason)
    reason = np.where(no_step, 0, reason)
    moved = dest >= 0
    # 4. time order: state_since never goes backwards
    changes: dict[str, pd.Series] = {}
    since: pd.Series | None = None
    if since_col is not None and since_col in frame.columns:
        since = as_utc(frame[since_col], since_col)
        too_early = moved & (
            since.dt.tz_localize(None).to_numpy() > when.tz_localize(None).to_datetime64()
        )
        reason = np.where(too_early, 3, reason)
        moved &= ~too_early
    # 5. stage effects on the rows that change state
    stepping = np.flatnonzero(moved & ~internal)
    lost_reason = frame["lost_reason"] if "lost_reason" in context_cols else None
    effects, refused = frame_updates(
        frame,
        stepping,
        source=src[stepping],
        dest=dest[stepping],
        stages=lifecycle.stages,
        at=when,
        lost_reason=lost_reason,
    )
    if bool(refused.any()):
        reason[stepping[refused]] = 4
        moved[stepping[refused]] = False
        stepping = stepping[~refused]
    changes.update(effects)
    # 6. hooks (vectorised forms) on accepted rows
    _apply_hooks(frame, changes, hook_runs, moved, when)
    # 7. outputs
    final = np.where(moved, dest, src)
    index = frame.index
    state = pd.Series(_cat(final, names), index=index, name=state_col)
    changes[state_col] = state
    if since is not None and since_col is not None:
        new_since = since.copy()
        new_since.iloc[stepping] = when
        changes[since_col] = new_since
    accepted = pd.Series(moved, index=index, name="accepted")
    reason = np.where(moved | no_step, -1, reason - 1)
    why = pd.Series(_cat(reason, reasons), index=index, name="reason")
    moved_rows = np.flatnonzero(moved)
    events = pd.DataFrame(
        {
            "kind": _cat(np.zeros(len(moved_rows), dtype=np.int64), [lifecycle.kind]),
            "entity_id": frame[id_col].to_numpy()[moved_rows],
            "trigger": _cat(tcodes[moved_rows], triggers),
            "source": _cat(src[moved_rows], names),
            "dest": _cat(dest[moved_rows], names),
            "at": pd.DatetimeIndex(
                np.full(len(moved_rows), when.tz_localize(None).to_datetime64())
            ).tz_localize("UTC"),
        }
    )
    if context_cols:
        records: list[dict[Any, Any]] = frame.iloc[moved_rows][list(context_cols)].to_dict(
            "records"
        )
        events["context"] = pd.Series(records, dtype=object)
    return FrameStep(
        state=state,
        accepted=accepted,
        reason=why,
        events=events,
        changes=changes,
        source_frame=frame,
    )


def replay_frame(
    lifecycle: Lifecycle,
    events: pd.DataFrame,
    *,
    as_of: object = None,
    check: bool = True,
) -> pd.DataFrame:
    """
    Each entity's state from an events frame, optionally as of a time (pipeline snapshots).

    ``events`` has the columns ``entity_id, trigger, source, dest, at`` (and
    ``kind``, which must be the lifecycle's). Rows with a missing ``source`` are
    creation rows (the entity enters ``dest``). With ``check`` (the default)
    every logged step must be one the lifecycle defines and each entity's steps
    must chain (a step's source is the previous step's dest), else a
    :class:`~crmlifecycle.errors.DataError` names the rows. Entities without an
    event at or before ``as_of`` are absent from the result.

    Returns:
        A DataFrame indexed by ``entity_id`` (sorted) with ``state`` (categorical),
        ``state_since`` (the time of the last step) and ``events`` (how many steps).

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> log = pd.DataFrame({"kind": "opportunity", "entity_id": ["O-1", "O-2", "O-1"],
        ...     "trigger": ["qualify", "lose", "propose"],
        ...     "source": ["prospecting", "prospecting", "qualification"],
        ...     "dest": ["qualification", "lost", "proposal"],
        ...     "at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-02-01"], utc=True)})
        >>> PIPE.replay_frame(log)["state"].to_dict()
        {'O-1': 'proposal', 'O-2': 'lost'}
        >>> PIPE.replay_frame(log, as_of="2026-01-31")["state"].to_dict()
        {'O-1': 'qualification', 'O-2': 'lost'}
    """
    require_columns(events, ["entity_id", "trigger", "source", "dest", "at"], frame_name="events")
    names = lifecycle.states
    if "kind" in events.columns:
        other = (events["kind"] != lifecycle.kind).to_numpy()
        if bool(other.any()):
            bad = np.flatnonzero(other)
            raise DataError.malformed(
                "kind",
                f"holds events of other lifecycles than {lifecycle.kind!r}",
                rows=list(events.index[bad[:20]]),
                value=events["kind"].iloc[bad[0]],
                hint=f"filter first: events[events['kind'] == {lifecycle.kind!r}].",
            )
    at = as_utc(events["at"], "at")
    keep = np.ones(len(events), dtype=bool)
    if as_of is not None:
        keep = (at <= utc_timestamp(as_of, name="as_of")).to_numpy()
    log = events.loc[keep, ["entity_id", "trigger", "source", "dest"]]
    at = at[keep]
    dest = _codes(log["dest"], names, "dest", loud=True)
    creation = log["source"].isna().to_numpy()
    src = _codes(log["source"], names, "source", loud=False)
    if bool((src[~creation] < 0).any()):
        _codes(log["source"][~creation], names, "source", loud=True)
    naive = at.dt.tz_localize(None).to_numpy()
    entity_codes, _ = pd.factorize(log["entity_id"], sort=True)
    order = np.lexsort((np.arange(len(log)), naive, entity_codes))
    ids = log["entity_id"].to_numpy()[order]
    src, dest, creation = src[order], dest[order], creation[order]
    stamps = naive[order]
    if check and len(order):
        triggers = lifecycle.trigger_names
        tcodes = pd.Index(list(triggers)).get_indexer(pd.Index(log["trigger"].to_numpy()[order]))
        valid = {
            (names.index(state), triggers.index(trig), names.index(c.dest))
            for (state, trig), cands in lifecycle._table.items()  # noqa: SLF001
            for c in cands
        }
        size = max(len(names), len(triggers)) + 1
        keys = (src * size + tcodes) * size + dest
        valid_keys = np.array([(s * size + t) * size + d for s, t, d in valid], dtype=np.int64)
        undefined = ~np.isin(keys, valid_keys) & ~creation
        same = np.r_[False, ids[1:] == ids[:-1]]
        broken = same & ~creation & np.r_[False, src[1:] != dest[:-1]]
        for mask, problem in (
            (undefined, "a step the lifecycle does not define"),
            (broken, "a step whose source is not the previous step's dest"),
        ):
            if bool(mask.any()):
                rows = list(log.index[order[np.flatnonzero(mask)][:20]])
                raise DataError.malformed(
                    "events",
                    f"holds {problem}",
                    rows=rows,
                    value=tuple(events.loc[rows[0], ["entity_id", "trigger", "source", "dest"]]),
                    hint="the log was written by another definition, or is missing rows; "
                    "pass check=False to read it anyway.",
                )
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    counts = np.diff(np.r_[-1, np.flatnonzero(last)])
    return pd.DataFrame(
        {
            "state": _cat(dest[last], names),
            "state_since": pd.DatetimeIndex(stamps[last]).tz_localize("UTC"),
            "events": counts.astype(np.int64),
        },
        index=pd.Index(ids[last], name="entity_id"),
    )
