"""
Bulk steps over a frame of entities (:func:`fire_frame`), vectorised from the compiled table.

States and triggers are turned into integer codes once; the dense
``(trigger, state) -> dest`` table of :mod:`crmlifecycle.stages._frame_tables`
advances every row whose step has no guard or hook with one numpy lookup.
Guarded or hooked ``(trigger, state)`` pairs (a handful per lifecycle) are
evaluated per pair on the rows concerned, through each guard's frame form
(rule-language conditions use ``evaluate_frame``). Which columns hold the id,
state, ``state_since``, version, per-row trigger and step context is one
:class:`StepFrameColumns` record.

The events of the accepted rows come out as an event-log frame with the
envelope :meth:`Lifecycle.fire <crmlifecycle.stages.Lifecycle.fire>` gives
(event tag, lifecycle name and version, schema version, actor, and, when the
frame has a version column, each row's next ``sequence`` and its ``event_id``),
so ``events_from_frame`` rebuilds exactly the events ``fire`` would have made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, is_missing, require_columns, utc_timestamp
from crmlifecycle._ids import check_ids, missing_ids, refuse_repeats
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg, non_empty_str, optional
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.events import EVENT_SCHEMA_VERSION
from crmlifecycle.schema import STATE, STATE_SINCE, EventLogColumns
from crmlifecycle.stages._definition import Hook
from crmlifecycle.stages._frame_effects import frame_updates
from crmlifecycle.stages._frame_tables import (
    BY_GUARDS,
    NO_STEP,
    FrameTables,
    Refusal,
    categorical,
    codes_of,
    frame_tables,
    state_codes,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import Candidate, CompiledLifecycle
    from crmlifecycle.stages._lifecycle import Lifecycle

__all__ = ["FrameStep", "StepFrameColumns", "fire_frame", "step_frame"]

_EVENTS: Final = EventLogColumns()
_TRANSITIONED: Final = pd.CategoricalDtype(["transitioned"])
#: The records' event-count field (``Lead.version`` ...), the frames' version column.
VERSION: Final = "version"
#: The column naming the record another one was merged into (merged records take no step).
_MERGED: Final = "merged_into"
_UPDATED: Final = "updated_at"
_INT8_MAX: Final = 127


def _names(value: object) -> tuple[str, ...]:
    """One column name or a sequence of them, as a tuple (checked by the validator)."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence):
        raise ValidationError.for_field(
            "context",
            value,
            "a column name or a list of column names",
            hint='context=["lost_reason"]',
        )
    return tuple(value)


def _each_non_empty(inst: object, attr: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for name in value:
        non_empty_str()(inst, attr, name)


@final
@attrs.frozen(kw_only=True)
class StepFrameColumns:
    """
    The columns :func:`fire_frame` reads from a frame of entities.

    The defaults are the library's own entity frames (what ``crmlifecycle.synth``
    writes and :mod:`crmlifecycle.schema` declares): the id column is
    ``<kind>_id`` of the lifecycle (``lead_id``, ``opportunity_id``,
    ``customer_id``, ``case_id``), the state columns are ``state`` and
    ``state_since``. Rename only what differs.

    Attributes:
        id: the entity id column (copied into the events); ``None``: ``<kind>_id``.
        state: the current state column.
        state_since: when each row entered its state; checked and updated when
            the frame has it, ignored when it does not.
        trigger: the column holding each row's trigger (read when no single
            trigger is given; a missing value means no step).
        context: columns passed as step context (``lost_reason`` feeds the
            lost-stage effect) and stored in the events' ``context`` column.
        version: the record's event count (the ``version`` of
            :class:`~crmlifecycle.Lead` and the other records); when the frame
            has it, an accepted row's version goes up by one and its event gets
            that ``sequence`` and its ``event_id``, as :meth:`Lifecycle.fire
            <crmlifecycle.stages.Lifecycle.fire>` does.

    Examples:
        >>> StepFrameColumns().state, StepFrameColumns().id
        ('state', None)
        >>> StepFrameColumns(id="id", context="lost_reason").context
        ('lost_reason',)

    .. versionadded:: 0.1
    """

    id: str | None = attrs.field(default=None, validator=optional(non_empty_str()))
    state: str = attrs.field(default=STATE, validator=non_empty_str())
    state_since: str = attrs.field(default=STATE_SINCE, validator=non_empty_str())
    trigger: str = attrs.field(default="trigger", validator=non_empty_str())
    context: tuple[str, ...] = attrs.field(default=(), converter=_names, validator=_each_non_empty)
    version: str = attrs.field(default=VERSION, validator=non_empty_str())

    def id_for(self, kind: str) -> str:
        """
        Return the id column for entities of ``kind``.

        Args:
            kind: the entity kind of the lifecycle (``lead``, ``opportunity`` ...).

        Examples:
            >>> StepFrameColumns().id_for("lead"), StepFrameColumns(id="id").id_for("lead")
            ('lead_id', 'id')
        """
        return self.id if self.id is not None else f"{kind}_id"


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
        events: one row per accepted step, in the event-log frame's columns
            (:func:`~crmlifecycle.stages.events_to_frame`): ``event``
            (``transitioned``), ``kind, entity_id, trigger, source, dest, at``,
            ``context`` when context columns were given, and the envelope
            ``event_id, sequence, actor, lifecycle, lifecycle_version,
            schema_version``; ``sequence`` and ``event_id`` are missing when the
            frame has no version column. ``events_from_frame(step.events)`` gives
            the events :meth:`Lifecycle.fire <crmlifecycle.stages.Lifecycle.fire>`
            would give.
        changes: every column the step changes (``state``, ``state_since``,
            ``updated_at``, ``version``, and the stage-effect and hook columns), full length,
            aligned to the input.
        source_frame: the entities frame the step read (:attr:`frame` applies
            ``changes`` to it).

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> leads = pd.DataFrame({"lead_id": ["L-1", "L-2"], "state": ["open", "qualified"]})
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
    entities: pd.DataFrame,
    trigger: str | None = None,
    *,
    at: Instant,
    actor: str | None = None,
    entities_columns: StepFrameColumns = StepFrameColumns(),
) -> FrameStep:
    """
    Fire one trigger (or each row's trigger) on a frame of entities, vectorised.

    Rows whose step is not allowed, whose guards say no, whose ``state_since`` is
    after ``at``, that would enter a lost stage without a ``lost_reason`` (when
    the frame carries that column), or that would enter a won stage without an
    ``opportunity_id`` given as step context (when the frame carries that column
    and it is not the id: a lead's conversion) are refused with a reason; the
    others advance. Condition guards are evaluated with the rule language's frame
    engine; a Python guard or hook needs a vectorised form (``frame=``), else a
    :class:`~crmlifecycle.errors.DataError` is raised. In bulk steps, hooks see
    the rows as they were before the step. A row whose ``merged_into`` column
    (when the frame has one) names a record is refused, as ``fire`` refuses a
    merged record. When the frame has an ``updated_at`` column (the record's last
    change), a row whose ``updated_at`` is after ``at`` is refused as too early,
    and an accepted row's ``updated_at`` becomes ``at``, as ``fire`` stamps it.
    The input frame is not modified.

    The events carry the envelope ``fire`` gives: the lifecycle's name and
    version, the schema version and ``actor``; when the frame has a ``version``
    column, an accepted row's version goes up by one and its event gets that
    ``sequence`` and the matching ``event_id``
    (:func:`~crmlifecycle.events.event_id_of`), so the frame and its events
    agree with stepping each record with ``fire``.

    Args:
        lifecycle: the lifecycle.
        entities: one row per entity.
        trigger: the trigger to fire on every row; ``None``: each row's trigger,
            from the ``entities_columns.trigger`` column.
        at: when the step happens (datetime, date or ISO text; read as UTC).
        actor: who or what takes the steps (a user id, ``"rule:<name>"``...),
            stored in every event.
        entities_columns: which columns hold the id, state, ``state_since``,
            version, per-row trigger and step context (defaults: the library's frames).

    Raises:
        MissingColumnError: a named column is absent.
        DataError: an id that is missing, empty or not text, or listed twice among the
            rows that step (naming the id column and the rows), a ``kind`` column
            naming another kind of record, unknown states, bad timestamps, a version
            column with missing, negative or non-integer values, a probability a step
            keeps that is not from 0 to 100, or a guard/hook without a frame form.

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> deals = pd.DataFrame({"opportunity_id": ["O-1", "O-2"],
        ...                       "state": ["proposal", "won"],
        ...                       "probability": [50, 100], "probability_manual": [False, False]})
        >>> step = PIPE.fire_frame(deals, "negotiate", at="2026-03-01")
        >>> step.frame[["state", "probability"]].to_dict("list")
        {'state': ['negotiation', 'won'], 'probability': [80, 100]}
        >>> step.events[["entity_id", "source", "dest"]].to_dict("records")
        [{'entity_id': 'O-1', 'source': 'proposal', 'dest': 'negotiation'}]

        With a version column the events are numbered as ``fire`` numbers them:

        >>> step = PIPE.fire_frame(deals.assign(version=[3, 5]), "negotiate", at="2026-03-01",
        ...                        actor="u-7")
        >>> step.frame["version"].tolist()
        [4, 5]
        >>> step.events[["event_id", "sequence", "actor"]].to_dict("records")
        [{'event_id': 'opportunity/O-1/4', 'sequence': 4, 'actor': 'u-7'}]
    """
    from crmlifecycle.stages._lifecycle import Lifecycle

    check_arg("lifecycle", lifecycle, Lifecycle, "a Lifecycle (e.g. LEAD_STATUS)")
    return lifecycle.fire_frame(
        entities, trigger, at=at, actor=actor, entities_columns=entities_columns
    )


def _needed(compiled: CompiledLifecycle, cols: object, trigger: object) -> list[str]:
    """
    The columns a bulk step reads (the id column first).

    Refuses ``entities_columns`` and ``trigger`` of the wrong types, naming them.
    """
    check_arg("entities_columns", cols, StepFrameColumns, "a StepFrameColumns")
    assert isinstance(cols, StepFrameColumns)  # noqa: S101 - for the type checker
    if trigger is not None:
        check_arg("trigger", trigger, str, "a trigger name (str), or None to read a column")
        return [cols.id_for(compiled.kind), cols.state, *cols.context]
    return [cols.id_for(compiled.kind), cols.state, *cols.context, cols.trigger]


def step_frame(
    compiled: CompiledLifecycle,
    frame: pd.DataFrame,
    trigger: str | None,
    *,
    at: Instant,
    cols: StepFrameColumns,
    actor: str | None = None,
) -> FrameStep:
    """The bulk step of :func:`fire_frame`, on a compiled lifecycle."""
    needed = _needed(compiled, cols, trigger)
    id_col, trigger_col = needed[0], cols.trigger if trigger is None else None
    require_columns(frame, needed, frame_name="entities")
    # every row names its record (in text, as events do); two steps of one record: below
    check_ids(frame, id_col, frame_name="entities", what=f"{compiled.kind} ids", text=True)
    _check_kind_column(compiled, frame)
    when = utc_timestamp(at, name="at")
    versions = _versions(frame, cols.version)
    tables = frame_tables(compiled)
    # 1. states as codes; one table lookup gives each row's dest code (or NO_STEP / BY_GUARDS)
    src = state_codes(frame[cols.state], tables.state_index, cols.state)
    lookup = _lookup(tables, frame, trigger, trigger_col, src)
    dest, why = lookup.dest, lookup.why  # why: a Refusal (or guard reason) code, -1 = none
    # 2. guarded / hooked pairs: candidates in order, the first passing wins
    reasons = [r.message for r in Refusal]
    hook_runs = _resolve(frame, tables, lookup, src=src, when=when, reasons=reasons)
    moved = dest >= 0
    internal = lookup.internal
    # 3. time order: never before state_since, nor before updated_at (the last change)
    since = _refuse_too_early(frame, cols.state_since, when, moved, why)
    updated = _refuse_too_early(frame, _UPDATED, when, moved, why)
    if _MERGED in frame.columns:  # merged records take no step (as fire refuses them)
        merged = moved & frame[_MERGED].notna().to_numpy(dtype=bool)
        why[merged], moved = Refusal.MERGED, moved & ~merged
    # 4. stage effects on the rows that change state
    stepping = np.flatnonzero(moved & ~internal if internal is not None else moved)
    fields = record_fields(compiled.kind)
    link = _link_opportunity(frame, (stepping, src, dest), compiled, id_col, cols, fields)
    stepping = _refuse(stepping, link, moved, why, reasons)  # before any effect is worked out
    effects, refused = frame_updates(
        frame,
        stepping,
        source=src[stepping],
        dest=dest[stepping],
        stages=compiled.stages,
        at=when,
        lost_reason=frame["lost_reason"] if "lost_reason" in cols.context else None,
        needs_reason="lost_reason" in frame.columns or "lost_reason" in fields,
    )
    if bool(refused.any()):
        why[stepping[refused]] = Refusal.NO_LOST_REASON
        moved[stepping[refused]] = False
        stepping = stepping[~refused]
    changes: dict[str, pd.Series] = dict(effects)
    # 5. hooks (vectorised forms) on accepted rows
    _apply_hooks(frame, changes, hook_runs, moved, when)
    # 6. outputs
    index = frame.index
    # without internal steps the rows that step are the accepted ones (refusals drop both)
    accepted = stepping if internal is None else np.flatnonzero(moved)
    state = pd.Series(
        categorical(_moved_codes(src, dest, accepted, tables), tables.state_dtype),
        index=index,
        name=cols.state,
    )
    changes[cols.state] = state
    if since is not None:
        new_since = since.copy()
        new_since.iloc[stepping] = when
        changes[cols.state_since] = new_since
    accepted_ids = _stepping_ids(frame, id_col, accepted)
    if updated is not None:
        new_updated = updated.copy()
        new_updated.iloc[accepted] = when
        changes[_UPDATED] = new_updated
    sequence = None if versions is None else (versions + moved)[accepted]
    if versions is not None:
        changes[cols.version] = pd.Series(versions + moved, index=index, name=cols.version)
    reason_dtype = (
        tables.reason_dtype if len(reasons) == len(Refusal) else pd.CategoricalDtype(reasons)
    )
    return FrameStep(
        state=state,
        accepted=pd.Series(moved, index=index, name="accepted"),
        reason=pd.Series(categorical(why, reason_dtype), index=index, name="reason"),
        events=_events(
            frame,
            tables,
            lookup,
            (src, accepted, accepted_ids),
            when=when,
            cols=(id_col, cols.context),
            envelope=_Envelope(compiled, sequence, actor),
        ),
        changes=changes,
        source_frame=frame,
    )


def _moved_codes(
    src: np.ndarray[Any, Any],
    dest: np.ndarray[Any, Any],
    accepted: np.ndarray[Any, Any],
    tables: FrameTables,
) -> np.ndarray[Any, Any]:
    """Each row's new state code: its dest where accepted, else its state (the table's width)."""
    codes = src.astype(tables.dest.dtype)  # wide enough for every state code
    codes[accepted] = dest[accepted]
    return codes


def _stepping_ids(frame: pd.DataFrame, id_col: str, accepted: np.ndarray[Any, Any]) -> pd.Series:
    """
    The ids of the accepted rows, read once: checked for repeats here, copied into the events.

    An object column's ids are read as the events frame holds them (pandas 3: Arrow
    text), once, so the repeat check hashes them as Arrow text too.
    """
    ids = frame[id_col].iloc[accepted]
    if ids.dtype == object:
        ids = pd.Series(ids.to_numpy(), index=ids.index)
    # one record stepping twice at one instant would give two events from one state
    refuse_repeats(ids, id_col, frame_name="entities", among=" among the rows that step")
    return ids


def _check_kind_column(compiled: CompiledLifecycle, frame: pd.DataFrame) -> None:
    """Refuse rows whose ``kind`` column (when the frame has one) names another kind of record."""
    if "kind" not in frame.columns:
        return
    other = (frame["kind"] != compiled.kind).to_numpy(dtype=bool)
    if bool(other.any()):
        bad = np.flatnonzero(other)
        raise DataError.malformed(
            "kind",
            f"names records of another kind than {compiled.kind!r} "
            f"(the {compiled.name!r} lifecycle steps {compiled.kind} records)",
            rows=list(frame.index[bad[:20]]),
            value=frame["kind"].iloc[bad[0]],
            hint="step each kind of record with its own lifecycle: "
            f"entities[entities['kind'] == {compiled.kind!r}].",
        )


def _refuse_too_early(
    frame: pd.DataFrame,
    column: str,
    when: pd.Timestamp,
    moved: np.ndarray[Any, Any],
    why: np.ndarray[Any, Any],
) -> pd.Series | None:
    """
    Refuse (in place) the moving rows whose ``column`` time is after ``when``; return it.

    ``updated_at`` may be missing (a record that has not changed since ``state_since``).
    """
    if column not in frame.columns:
        return None
    stamps = as_utc(frame[column], column, allow_missing=column == _UPDATED)
    too_early = moved & (stamps > when).to_numpy(dtype=bool)
    why[too_early] = Refusal.TOO_EARLY
    moved &= ~too_early
    return stamps


def _refuse(
    stepping: np.ndarray[Any, Any],
    link: np.ndarray[Any, Any] | None,
    moved: np.ndarray[Any, Any],
    why: np.ndarray[Any, Any],
    reasons: list[str],
) -> np.ndarray[Any, Any]:
    """Refuse (in place) the stepping rows ``link`` marks as missing their opportunity."""
    if link is None or not bool(link.any()):
        return stepping
    reasons.append(_NO_LINK)
    why[stepping[link]] = len(reasons) - 1
    moved[stepping[link]] = False
    kept: np.ndarray[Any, Any] = stepping[~link]
    return kept


def record_fields(kind: str) -> frozenset[str]:
    """The fields of the library's record class for ``kind`` (none for another kind)."""
    from crmlifecycle.entities import Case, Customer, Lead, Opportunity

    classes: dict[str, type] = {
        "lead": Lead,
        "opportunity": Opportunity,
        "customer": Customer,
        "case": Case,
    }
    cls = classes.get(kind)
    return frozenset(attrs.fields_dict(cls)) if cls is not None else frozenset()


_LINK: Final = "opportunity_id"
_NO_LINK: Final = "entering a won stage needs an opportunity_id"


def _link_opportunity(
    frame: pd.DataFrame,
    moves: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]],
    compiled: CompiledLifecycle,
    id_col: str,
    cols: StepFrameColumns,
    fields: frozenset[str],
) -> np.ndarray[Any, Any] | None:
    """
    The conversion effect of a bulk step, as :meth:`Lifecycle.fire` applies it.

    When the frame carries an ``opportunity_id`` column (that is not its id), a
    row entering a won stage needs that column as step context
    (``StepFrameColumns(context="opportunity_id")``) with a value: the row keeps
    it and its event's context holds it, so replaying the event links the record
    as the single step does. Other rows entering a won stage are refused. Returns
    the refused mask over the stepping rows, or ``None`` when the frame has no
    such column.
    """
    if id_col == _LINK or (_LINK not in frame.columns and _LINK not in fields):
        return None
    stepping, src, dest = moves
    won = np.array([s.won for s in compiled.stages], dtype=bool)
    entering = won[dest[stepping]] & ~won[src[stepping]]
    missing: np.ndarray[Any, Any] = entering.copy()
    if _LINK in cols.context and bool(entering.any()):  # the link column is step context
        # only the rows entering a won stage need one; an opportunity id follows the id rule
        linked = frame[_LINK].iloc[stepping[entering]]
        missing[entering] = missing_ids(linked)
    return missing


def _versions(frame: pd.DataFrame, column: str) -> np.ndarray[Any, Any] | None:
    """The version column as int64 (``None``: the frame has none); bad values are an error."""
    if column not in frame.columns:
        return None
    values = frame[column]
    missing = values.isna().to_numpy(dtype=bool)
    if bool(missing.any()):
        raise DataError.malformed(
            column,
            "has missing versions",
            rows=list(values.index[missing][:20]),
            hint="a record's version is the number of events applied to it (0 for a new record).",
        )
    try:
        numbers = values.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError.malformed(
            column,
            "holds values that are not whole numbers",
            value=values.iloc[0],
            hint="a record's version is the number of events applied to it (0 for a new record).",
        ) from err
    bad = (numbers < 0) | (numbers != np.floor(numbers))
    if bool(bad.any()):
        rows = np.flatnonzero(bad)
        raise DataError.malformed(
            column,
            "holds values that are not whole numbers >= 0",
            rows=list(values.index[rows[:20]]),
            value=values.iloc[rows[0]],
            hint="a record's version is the number of events applied to it (0 for a new record).",
        )
    return numbers.astype(np.int64)


@final
class _Envelope:
    """What the events of one bulk step carry besides the transition: the envelope."""

    __slots__ = ("actor", "kind", "name", "sequence", "version")

    def __init__(
        self, compiled: CompiledLifecycle, sequence: np.ndarray[Any, Any] | None, actor: str | None
    ) -> None:
        _check_actor(actor)
        self.kind = compiled.kind
        self.name = compiled.name
        self.version = compiled.version
        self.sequence = sequence  # one per accepted row, or None (the frame has no version)
        self.actor = actor


def _check_actor(actor: object) -> None:
    if actor is not None and (not isinstance(actor, str) or not actor.strip()):
        raise ValidationError.for_field(
            "actor", actor, "a non-empty text or None", hint='actor="u-7" or actor="rule:assign"'
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
    small = np.int8 if len(tables.guarded) + len(Refusal) < _INT8_MAX else np.int16
    if trigger_col is None:
        t = tables.trigger_of.get(str(trigger), -1)
        if t < 0:
            unknown = Refusal.UNKNOWN_TRIGGER
            return _Lookup(t, None, np.full(n, NO_STEP, np.int8), np.full(n, unknown, small), None)
        dest = tables.dest[t].take(src)
        why = _not_allowed(dest, small)
        internal = tables.internal[t].take(src) if tables.has_internal else None
        return _Lookup(t, None, dest, why, internal)
    column = frame[trigger_col]
    tcodes = codes_of(column, tables.trigger_index)
    known = tcodes >= 0
    safe = np.where(known, tcodes, 0)
    dest = np.where(known, tables.dest[safe, src], NO_STEP)
    why = _not_allowed(dest, small)
    why[~known] = Refusal.UNKNOWN_TRIGGER
    why[column.isna().to_numpy(dtype=bool)] = -1  # no trigger: no step, no reason
    internal = (tables.internal[safe, src] & known) if tables.has_internal else None
    return _Lookup(-1, tcodes, dest, why, internal)


def _not_allowed(dest: np.ndarray[Any, Any], dtype: type[np.integer[Any]]) -> np.ndarray[Any, Any]:
    """Reason codes: ``Refusal.NOT_ALLOWED`` where the table has no step, else -1 (none yet)."""
    why: np.ndarray[Any, Any] = (dest == NO_STEP).astype(dtype)  # 1 where refused, else 0
    why += Refusal.NOT_ALLOWED - 1  # NOT_ALLOWED where refused, else -1 (one pass, in place)
    return why


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
    pending = np.flatnonzero(lookup.dest == BY_GUARDS)
    hook_runs: list[tuple[np.ndarray[Any, Any], tuple[Hook, ...]]] = []
    if not len(pending):
        return hook_runs
    pending_src = src[pending]
    pending_t = lookup.tcodes[pending] if lookup.tcodes is not None else None
    for (t, s), candidates in tables.guarded.items():
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
    pair: tuple[np.ndarray[Any, Any], tuple[Candidate, ...]],
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
    moves: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], pd.Series],
    *,
    when: pd.Timestamp,
    cols: tuple[str, tuple[str, ...]],
    envelope: _Envelope,
) -> pd.DataFrame:
    """
    The events frame of the accepted rows: categorical names, the ids as they came.

    The columns are those of the event-log frame (``event``, the contract's
    columns, ``context`` when asked for, the envelope); the constant ones are
    one-category categoricals, so they cost one byte per row.
    """
    src, rows, ids = moves  # ids: the id column at ``rows``
    _, context_cols = cols
    # keep the column's own storage (e.g. Arrow strings): no Python objects per row
    entity_id: Any = ids.to_numpy() if ids.dtype == object else ids.array
    k = len(rows)
    tcodes = (
        np.full(k, lookup.trigger, dtype=np.int64) if lookup.tcodes is None else lookup.tcodes[rows]
    )
    zeros = np.zeros(k, dtype=np.int8)
    columns: dict[str, Any] = {
        "event": categorical(zeros, _TRANSITIONED),
        _EVENTS.kind: categorical(zeros, tables.kind_dtype),
        _EVENTS.entity_id: entity_id,
        _EVENTS.trigger: categorical(tcodes, tables.trigger_dtype),
        _EVENTS.source: categorical(src[rows], tables.state_dtype),
        _EVENTS.dest: categorical(lookup.dest[rows], tables.state_dtype),
        _EVENTS.at: pd.DatetimeIndex(
            np.full(k, when.tz_localize(None).to_datetime64())
        ).tz_localize("UTC"),
    }
    if context_cols:
        records: list[dict[Any, Any]] = frame.iloc[rows][list(context_cols)].to_dict("records")
        kept = [{k: v for k, v in record.items() if not is_missing(v)} for record in records]
        columns["context"] = pd.Series(kept, dtype=object).to_numpy()
    columns.update(_envelope_columns(envelope, entity_id, zeros))
    return pd.DataFrame(columns)


def _envelope_columns(
    envelope: _Envelope, entity_id: Any, zeros: np.ndarray[Any, Any]
) -> dict[str, Any]:
    """The envelope columns of the events (the constant ones as one-category categoricals)."""
    k = len(zeros)
    sequence = envelope.sequence
    out: dict[str, Any] = {}
    if sequence is None:  # the frame has no version column: no sequence, no event id
        out["event_id"] = np.full(k, None, dtype=object)
        out["sequence"] = pd.arrays.IntegerArray(
            np.zeros(k, dtype=np.int64), np.ones(k, dtype=bool)
        )
    else:
        text = pd.Series(entity_id, dtype=object).astype(str).tolist()
        prefix = f"{envelope.kind}/"
        out["event_id"] = np.array(
            [f"{prefix}{i}/{n}" for i, n in zip(text, sequence.tolist(), strict=True)],
            dtype=object,
        )
        out["sequence"] = pd.array(sequence, dtype="Int64")
    out["actor"] = (
        np.full(k, None, dtype=object)
        if envelope.actor is None
        else categorical(zeros, pd.CategoricalDtype([envelope.actor]))
    )
    out["lifecycle"] = categorical(zeros, pd.CategoricalDtype([envelope.name]))
    out["lifecycle_version"] = categorical(zeros, pd.CategoricalDtype([envelope.version]))
    out["schema_version"] = np.full(k, EVENT_SCHEMA_VERSION, dtype=np.int64)
    return out
