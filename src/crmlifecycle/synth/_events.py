"""
Event logs as valid walks of a lifecycle, built without per-entity loops.

States and triggers are codes: positions in the lifecycle's ``states`` and
``trigger_names``. :func:`follow` turns a sequence of trigger names into the
(trigger, destination) codes of a walk by reading the lifecycle's declared
transitions, so the generator never names a state; :func:`stage_mask` and
:func:`stage_of_type` find states by their metadata (type, closed, won).

Each generator describes the transitions of all entities of one kind as flat
arrays (entity, step number, trigger, destination state, time). :func:`build_log`
orders them by entity and step, drops what happens at or after the world's end
(times only grow along a walk, so what is left is a prefix of each walk), derives
each source state from the previous destination, and reports each entity's
current state and when it entered it. The log's columns are those of
:class:`~crmlifecycle.schema.EventLogColumns`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np
import pandas as pd

from crmlifecycle.errors import SpecError
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages import Lifecycle, Stage
from crmlifecycle.synth._columns import (
    BoolArray,
    FloatArray,
    IntArray,
    assemble,
    label_column,
    positions,
    segment_cumsum,
    to_time,
)


def _dest(lifecycle: Lifecycle, state: str, trigger: str, last_open: str) -> str:
    for transition in lifecycle.transitions:
        if transition.trigger == trigger and state in transition.source:
            if transition.to_last_open:
                return last_open
            return state if transition.dest is None else transition.dest
    raise SpecError(
        f"trigger {trigger!r} is not allowed from state {state!r} in the "
        f"{lifecycle.name!r} lifecycle. Hint: the synthetic world walks the standard "
        "lifecycles; a walk's triggers must follow their transitions."
    )


def follow(
    lifecycle: Lifecycle, triggers: Sequence[str], *, start: str | None = None
) -> list[tuple[int, int]]:
    """
    Follow trigger names through ``lifecycle``; return each step's (trigger, dest) codes.

    The walk starts in ``start`` (default: the initial state). Each destination
    comes from the lifecycle's declared transitions: an internal transition stays
    in its state, a ``to_last_open`` one returns to the last state that was not
    closed.

    Raises:
        SpecError: a trigger is not allowed from the state the walk is in.

    Examples:
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> steps = follow(PIPE, ["qualify", "lose", "reopen"])
        >>> [(PIPE.trigger_names[t], PIPE.states[d]) for t, d in steps]
        [('qualify', 'qualification'), ('lose', 'lost'), ('reopen', 'qualification')]
        >>> follow(PIPE, ["win", "win"])
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: trigger 'win' is not allowed from state 'won' ...
    """
    state = lifecycle.initial if start is None else start
    last_open = state
    steps = []
    for trigger in triggers:
        if not lifecycle.stage(state).closed:
            last_open = state
        dest = _dest(lifecycle, state, trigger, last_open)
        steps.append((lifecycle.trigger_names.index(trigger), lifecycle.states.index(dest)))
        state = dest
    return steps


def trigger_code(lifecycle: Lifecycle, trigger: str) -> int:
    """
    Return a trigger's code: its position in ``lifecycle.trigger_names``.

    Examples:
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> trigger_code(LEAD_STATUS, "convert")
        4
    """
    return lifecycle.trigger_names.index(trigger)


def stage_mask(lifecycle: Lifecycle, test: Callable[[Stage], bool]) -> BoolArray:
    """
    Return, per state code, whether the state's metadata passes ``test``.

    Examples:
        >>> from crmlifecycle.stages import CASE_STATUS
        >>> stage_mask(CASE_STATUS, lambda stage: stage.won).tolist()
        [False, False, False, True, True]
    """
    return np.array([test(stage) for stage in lifecycle.stages], dtype=bool)


def stage_of_type(lifecycle: Lifecycle, status_type: str) -> int:
    """
    Return the code of the one state of a status type (``"won"``, ``"lost"``...).

    Raises:
        SpecError: the lifecycle has no state, or several states, of that type.

    Examples:
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
        >>> stage_of_type(OPPORTUNITY_PIPELINE, "lost")
        5
    """
    found = np.flatnonzero(stage_mask(lifecycle, lambda stage: stage.type == status_type))
    if found.size != 1:
        raise SpecError(
            f"the {lifecycle.name!r} lifecycle has {found.size} states of type "
            f"{status_type!r}, the synthetic world needs exactly one. "
            "Hint: keep one such state in the standard lifecycle."
        )
    return int(found[0])


@attrs.frozen
class Walks:
    """
    Flat arrays describing the transitions of many entities.

    Attributes:
        entity: index of the entity each transition belongs to.
        step: order of the transition within its entity's walk.
        trigger: index into the lifecycle's trigger names.
        dest: index into the lifecycle's state names.
        when: time in days since the world's start (non-decreasing along a walk).
    """

    entity: IntArray
    step: IntArray
    trigger: IntArray
    dest: IntArray
    when: FloatArray


@attrs.frozen
class Log:
    """
    A finished event log and each entity's resulting state.

    Attributes:
        frame: the event log (columns of :class:`~crmlifecycle.schema.EventLogColumns`).
        state: current state index per entity.
        since: time (days) the entity entered its current state (its creation if no events).
        last_at: time (days) of each entity's last event of each trigger, NaN if none;
            shape (entities, triggers).
    """

    frame: pd.DataFrame
    state: IntArray
    since: FloatArray
    last_at: FloatArray


def concat_walks(parts: Sequence[Walks]) -> Walks:
    """
    Join several sets of walks into one.

    Examples:
        >>> one = Walks(
        ...     entity=np.array([0]), step=np.array([0]), trigger=np.array([0]),
        ...     dest=np.array([1]), when=np.array([1.0]),
        ... )
        >>> concat_walks([one, one]).entity.tolist()
        [0, 0]
    """
    return Walks(
        entity=np.concatenate([p.entity for p in parts]),
        step=np.concatenate([p.step for p in parts]),
        trigger=np.concatenate([p.trigger for p in parts]),
        dest=np.concatenate([p.dest for p in parts]),
        when=np.concatenate([p.when for p in parts]),
    )


def build_log(
    walks: Walks,
    *,
    lifecycle: Lifecycle,
    ids: pd.Series,
    created: FloatArray,
    start: pd.Timestamp,
    horizon: float,
) -> Log:
    """
    Censor the walks at ``horizon`` and assemble the event log of ``lifecycle``.

    Every entity starts in the lifecycle's initial state; the log's ``kind`` is the
    lifecycle's kind.

    Args:
        walks: the transitions of every entity (codes of ``lifecycle``).
        lifecycle: the lifecycle walked.
        ids: the entity ids, by entity index.
        created: each entity's creation time (days); its ``since`` when it has no event.
        start: the world's start (UTC).
        horizon: the window's length in days; later transitions are dropped.

    Examples:
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> walks = Walks(
        ...     entity=np.array([0, 0]), step=np.array([1, 0]), trigger=np.array([1, 0]),
        ...     dest=np.array([2, 1]), when=np.array([2.0, 1.0]),
        ... )
        >>> log = build_log(
        ...     walks, lifecycle=LEAD_STATUS, ids=pd.Series(["E1"]), created=np.array([0.0]),
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=1.5,
        ... )
        >>> log.frame[["kind", "trigger", "source", "dest"]].to_numpy().tolist()
        [['lead', 'contact', 'open', 'contacted']]
        >>> log.state.tolist(), log.since.tolist()
        ([1], [1.0])
    """
    states, triggers = lifecycle.states, lifecycle.trigger_names
    initial = states.index(lifecycle.initial)
    keep = walks.when < horizon
    entity = walks.entity[keep]
    order = np.lexsort((walks.step[keep], entity))
    entity = entity[order]
    trigger = walks.trigger[keep][order]
    dest = walks.dest[keep][order]
    at = walks.when[keep][order]
    first = np.ones(entity.size, dtype=bool)
    first[1:] = entity[1:] != entity[:-1]
    source = np.empty_like(dest)
    source[0:1] = initial
    source[1:] = dest[:-1]
    source[first] = initial
    last = np.ones(entity.size, dtype=bool)
    last[:-1] = entity[1:] != entity[:-1]

    n_entities = len(created)
    state = np.full(n_entities, initial, dtype=np.int64)
    state[entity[last]] = dest[last]
    since = np.asarray(created, dtype=np.float64).copy()
    since[entity[last]] = at[last]
    last_at = np.full((n_entities, len(triggers)), np.nan)
    # rows are in step order, so later assignments win: the last event per trigger
    last_at[entity, trigger] = at

    frame = assemble(
        EventLogColumns,
        {
            "kind": label_column(np.zeros(entity.size, dtype=np.int64), [lifecycle.kind]),
            "entity_id": label_column(entity, ids),
            "trigger": label_column(trigger, triggers),
            "source": label_column(source, states),
            "dest": label_column(dest, states),
            "at": to_time(start, at),
        },
    )
    return Log(frame=frame, state=state, since=since, last_at=last_at)


def expand_templates(
    template: IntArray, table: Sequence[Sequence[tuple[int, int]]]
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """
    Expand one template (a list of ``(trigger, dest)`` pairs) per entity into flat rows.

    Returns:
        entity, step, trigger, dest per row, and the number of rows per entity.

    Examples:
        >>> entity, step, trigger, dest, lengths = expand_templates(
        ...     np.array([1, 0]), [[(0, 1)], [(0, 1), (1, 2)]]
        ... )
        >>> entity.tolist(), step.tolist(), dest.tolist(), lengths.tolist()
        ([0, 0, 1], [0, 1, 0], [1, 2, 1], [2, 1])
    """
    width = max((len(t) for t in table), default=0)
    sizes = np.array([len(t) for t in table], dtype=np.int64)
    triggers = np.zeros((len(table), max(width, 1)), dtype=np.int64)
    dests = np.zeros_like(triggers)
    for row, steps in enumerate(table):
        for column, (trig, dest) in enumerate(steps):
            triggers[row, column] = trig
            dests[row, column] = dest
    lengths = sizes[template]
    entity, step = positions(lengths)
    rows = template[entity]
    return entity, step, triggers[rows, step], dests[rows, step], lengths


def walk_times(origin: FloatArray, gaps: FloatArray, lengths: IntArray) -> FloatArray:
    """
    Times of consecutive steps: each entity's origin plus the running sum of its gaps.

    Examples:
        >>> walk_times(np.array([0.0, 10.0]), np.array([1.0, 2.0, 3.0]), np.array([2, 1])).tolist()
        [1.0, 3.0, 13.0]
    """
    result: FloatArray = np.repeat(origin, lengths) + segment_cumsum(gaps, lengths)
    return result
