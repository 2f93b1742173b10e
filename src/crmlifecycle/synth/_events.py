"""
Event logs as valid walks of a lifecycle, built without per-entity loops.

Each generator describes the transitions of all entities of one kind as flat
arrays (entity, step number, trigger, destination state, time). :func:`build_log`
orders them by entity and step, drops what happens at or after the world's end
(times only grow along a walk, so what is left is a prefix of each walk), derives
each source state from the previous destination, and reports each entity's
current state and when it entered it.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import pandas as pd

from crmlifecycle.synth._columns import (
    FloatArray,
    IntArray,
    label_column,
    positions,
    segment_cumsum,
    to_time,
)

#: The columns of every event log, in order.
EVENT_COLUMNS = ("kind", "entity_id", "trigger", "source", "dest", "at")


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
        frame: the event log (columns :data:`EVENT_COLUMNS`).
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
    kind: str,
    ids: pd.Series,
    created: FloatArray,
    initial: int,
    states: Sequence[str],
    triggers: Sequence[str],
    start: pd.Timestamp,
    horizon: float,
) -> Log:
    """
    Censor the walks at ``horizon`` and assemble the event log of lifecycle ``kind``.

    Examples:
        >>> walks = Walks(
        ...     entity=np.array([0, 0]), step=np.array([1, 0]), trigger=np.array([1, 0]),
        ...     dest=np.array([2, 1]), when=np.array([2.0, 1.0]),
        ... )
        >>> log = build_log(
        ...     walks, kind="demo", ids=pd.Series(["E1"]), created=np.array([0.0]), initial=0,
        ...     states=["a", "b", "c"], triggers=["go", "stop"],
        ...     start=pd.Timestamp("2024-01-01", tz="UTC"), horizon=1.5,
        ... )
        >>> log.frame[["trigger", "source", "dest"]].to_numpy().tolist()
        [['go', 'a', 'b']]
        >>> log.state.tolist(), log.since.tolist()
        ([1], [1.0])
    """
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

    frame = pd.DataFrame(
        {
            "kind": label_column(np.zeros(entity.size, dtype=np.int64), [kind]),
            "entity_id": label_column(entity, ids),
            "trigger": label_column(trigger, triggers),
            "source": label_column(source, states),
            "dest": label_column(dest, states),
            "at": to_time(start, at),
        }
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
