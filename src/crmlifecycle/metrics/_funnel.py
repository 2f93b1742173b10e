"""
Funnel KPIs from a lifecycle event log: the conversion rate between two stages, the funnel table.

A funnel is the ordered list of a lifecycle's states without its lost ones
(``lifecycle=``, by default :data:`~crmlifecycle.stages.OPPORTUNITY_PIPELINE`:
prospecting, qualification, proposal, negotiation, won), read from the rows of
the event log of that lifecycle's kind (``kind=`` overrides it; pass
``lifecycle=LEAD_STATUS`` for the lead funnel; see
:func:`~crmlifecycle.metrics.stage_spells` for mixed logs). An entity
*reached* a stage when it was ever in that stage or a later one of the funnel
(the high-water mark: a deal won straight from qualification counts as having
passed proposal and negotiation, and a reopened or lost deal keeps the stages
it reached). Conversion from stage A to stage B is the share of entities that
reached A which also reached B (the stage-to-stage conversion of funnel
analysis, as in Frappe CRM's lead status types). Time in stage and stage
velocity are in ``_stage_times.py``.

Who is counted: an event log only holds entities that moved. A deal still in
its first stage has no event, so from the log alone it is invisible: without
``entities=``, only entities with an event (by ``as_of``) are counted. Pass
``entities=`` (one row per entity, its id in the column ``entities_columns`` names, by
default ``<kind>_id`` such as ``opportunity_id``) and it is the population:
every entity in it counts, and one without an event by ``as_of`` is in the
stage it was created in (the lifecycle's initial state, or the ``source`` of
its first, later event), entered at its creation time (``created=``,
timestamps indexed by entity id). With ``as_of``, an entity created after it
does not count, which needs ``created=`` for the entities without an event by
then. An event of an entity missing from ``entities`` is a ``DataError``: the
population must be complete. A row of ``entities`` whose ``merged_into``
column is set is a duplicate folded into another record
(:meth:`Lifecycle.merge <crmlifecycle.stages.Lifecycle.merge>`), not a
separate entity: it and its events are left out.

Segments (``by=``) are attributes of the entities (a deal's owner, a lead's
channel), which an event log does not hold: they are read from ``entities``
(or from the log itself when it carries them, constant per entity) and joined
by entity id. Every count is then per segment, and the segments of a stage add
up to the unsegmented count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import pandas as pd

from crmlifecycle._types import Instant
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.metrics._common import (
    ordinals_to_periods,
    period_ordinals,
    ratio,
    safe_divide,
    segment_keys,
)
from crmlifecycle.metrics._events import check_states, funnel_stages, log_kind, stage_order
from crmlifecycle.metrics._log_codes import IntArray, code_log
from crmlifecycle.metrics._population_codes import code_population, segmented_spells
from crmlifecycle.metrics._segments import labelled
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["conversion_rate", "funnel"]


def _highest_reached(
    events: pd.DataFrame,
    columns: EventLogColumns,
    lifecycle: Lifecycle,
    kind: str | None,
    as_of: Instant | None,
    order: dict[str, int],
) -> IntArray:
    """
    The furthest funnel position each entity of the log reached (-1: none), from its codes.

    The whole population is the log's entities (no ``entities=``, ``created=`` or
    segments), so the spells need not be built: an entity's stages are the source of
    its first event and every dest, and a source is always the previous dest.
    """
    log = code_log(events, columns, log_kind(lifecycle, kind), as_of=as_of)
    check_states(pd.Series(log.states, dtype=object), lifecycle, columns.dest)
    position = np.array([order.get(state, -1) for state in log.states] + [-1], dtype=np.int64)
    furthest = np.maximum(position[log.source], position[log.dest])
    if len(furthest) == 0:
        return furthest
    highest: IntArray = np.maximum.reduceat(furthest, np.flatnonzero(log.first_rows()))
    return highest


def _segment_highest(
    events: pd.DataFrame,
    columns: EventLogColumns,
    lifecycle: Lifecycle,
    kind: str | None,
    order: dict[str, int],
    *,
    created: pd.Series | None,
    as_of: Instant | None,
    keys: list[str],
    entities: pd.DataFrame | None,
    entities_columns: EntityColumns,
) -> tuple[IntArray, IntArray, pd.DataFrame]:
    """
    The segment code and furthest funnel position (-1: none) of each counted entity.

    From the coded population (:func:`code_population`: the checks of the spells
    path), without building spells: one reduceat over the log's rows, the silent
    entities' stage for the others. Also returns the segments.
    """
    population = code_population(
        events,
        columns,
        lifecycle,
        kind,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_columns=entities_columns,
    )
    position = np.array([order.get(state, -1) for state in population.states], dtype=np.int64)
    highest = population.highest(position)
    counted = population.segment >= 0
    return population.segment[counted], highest[counted], population.segments


def _check_stage(stage: str, order: dict[str, int], name: str) -> int:
    check_name(name, stage, hint=f"name a state of the lifecycle, e.g. {name}='proposal'.")
    if stage not in order:
        raise DataError(
            f"{name}={short_repr(stage)} is not one of the funnel stages {list(order)}. "
            "Hint: pass a state of lifecycle= that is not a lost state, or the lifecycle "
            "whose funnel holds it."
        )
    return order[stage]


@overload
def conversion_rate(
    events: pd.DataFrame,
    *,
    from_stage: str,
    to_stage: str,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    as_of: Instant | None = ...,
    freq: None = None,
    by: None = None,
    entities: pd.DataFrame | None = ...,
    entities_columns: EntityColumns = ...,
    created: pd.Series | None = ...,
    events_columns: EventLogColumns = ...,
) -> float: ...
@overload
def conversion_rate(
    events: pd.DataFrame,
    *,
    from_stage: str,
    to_stage: str,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    as_of: Instant | None = ...,
    freq: str,
    by: str | Sequence[str] | None = ...,
    entities: pd.DataFrame | None = ...,
    entities_columns: EntityColumns = ...,
    created: pd.Series | None = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
@overload
def conversion_rate(
    events: pd.DataFrame,
    *,
    from_stage: str,
    to_stage: str,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    as_of: Instant | None = ...,
    freq: str | None = ...,
    by: str | Sequence[str],
    entities: pd.DataFrame | None = ...,
    entities_columns: EntityColumns = ...,
    created: pd.Series | None = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
def conversion_rate(
    events: pd.DataFrame,
    *,
    from_stage: str,
    to_stage: str,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    as_of: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_columns: EntityColumns = EntityColumns(),
    created: pd.Series | None = None,
    events_columns: EventLogColumns = EventLogColumns(),
) -> float | pd.DataFrame:
    """
    Conversion rate between two funnel stages, as of a date.

    Entities that reached ``to_stage`` ÷ entities that reached ``from_stage``
    (reached = the stage or a later one of the lifecycle's funnel, see the
    module notes), counting only events at or before ``as_of``. A number
    without ``freq`` and ``by`` (NaN when nobody reached ``from_stage``);
    otherwise a table. With ``freq`` the entities are grouped by the period in
    which they first reached ``from_stage`` (columns ``period``, ``entered``,
    ``converted``, ``conversion_rate``); recent periods look worse because
    their entities had less time to convert. With ``by`` there is one row per
    segment (after ``period``), every segment of the log's entities included.

    Args:
        events: the event log, one row per transition.
        from_stage: the funnel stage the entities reached first.
        to_stage: the funnel stage they converted to (not before ``from_stage``).
        lifecycle: the lifecycle whose states, without the lost ones, are the funnel.
        kind: the kind of rows to read from a mixed log (default: the lifecycle's kind).
        as_of: only events at or before this moment count (default: every event).
        freq: a period (``"M"``, ``"Q"``...) to group the entities by their entry time.
        by: segment column(s), of ``entities`` or of the log itself.
        entities: the population, one row per entity: its id and the ``by`` columns;
            every entity in it counts, with events or not (see the module notes).
            Without it only entities with an event are counted.
        entities_columns: the id column of ``entities`` (default ``<kind>_id``, such as
            ``opportunity_id``).
        created: creation timestamps indexed by entity id: when each entity entered its
            first stage (needed with ``freq`` when that stage has no creation event, and
            with ``entities`` and ``as_of`` to tell which entities existed by then).
        events_columns: the column names of ``events``.

    Returns:
        The conversion rate, or with ``freq``/``by`` a table per period and segment.

    Raises:
        DataError: a stage outside the funnel, ``to_stage`` before
            ``from_stage``, an unknown entry time with ``freq``, or ``by``
            columns that neither ``entities`` nor the log hold (or that are
            missing or change within an entity), an event of an entity
            missing from ``entities``, or with ``entities`` and ``as_of`` an
            entity without an event by then and without a creation time.
        ValidationError: ``by`` is an empty list.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o3", "o3"],
        ...     "source": ["prospecting", "qualification", "prospecting",
        ...                "prospecting", "qualification"],
        ...     "dest": ["qualification", "won", "lost", "qualification", "proposal"],
        ...     "at": pd.to_datetime(["2026-01-03", "2026-01-10", "2026-01-04",
        ...                           "2026-01-05", "2026-02-01"], utc=True),
        ... })
        >>> # reached qualification: o1, o3; of those reached proposal or beyond: o1 (won), o3
        >>> conversion_rate(events, from_stage="qualification", to_stage="proposal")
        1.0
        >>> conversion_rate(events, from_stage="prospecting", to_stage="won")  # o1 of 3
        0.3333333333333333
        >>> conversion_rate(events, from_stage="prospecting", to_stage="won", as_of="2026-01-09")
        0.0
        >>> deals = pd.DataFrame({"opportunity_id": ["o1", "o2", "o3"],
        ...                       "owner": ["ann", "bob", "ann"]})
        >>> conversion_rate(events, from_stage="prospecting", to_stage="won",
        ...                 by="owner", entities=deals)  # ann: o1 of o1, o3; bob: none of o2
          owner  entered  converted  conversion_rate
        0   ann        2          1              0.5
        1   bob        1          0              0.0
    """
    order = stage_order(funnel_stages(lifecycle))
    low = _check_stage(from_stage, order, "from_stage")
    high = _check_stage(to_stage, order, "to_stage")
    if high < low:
        raise DataError(
            f"to_stage={short_repr(to_stage)} comes before "
            f"from_stage={short_repr(from_stage)} in the funnel. "
            "Hint: swap them."
        )
    keys = segment_keys(by)
    if freq is None and by is None and entities is None and created is None:
        highest = _highest_reached(events, events_columns, lifecycle, kind, as_of, order)
        return ratio(int((highest >= high).sum()), int((highest >= low).sum()))
    if freq is None:
        segment, highest, segments = _segment_highest(
            events,
            events_columns,
            lifecycle,
            kind,
            order,
            created=created,
            as_of=as_of,
            keys=keys,
            entities=entities,
            entities_columns=entities_columns,
        )
        if by is None:
            return ratio(int((highest >= high).sum()), int((highest >= low).sum()))
        n_segments = len(segments)
        table = pd.DataFrame(
            {
                "_segment": np.arange(n_segments),
                "entered": np.bincount(segment[highest >= low], minlength=n_segments),
                "converted": np.bincount(segment[highest >= high], minlength=n_segments),
            }
        )
        table["conversion_rate"] = safe_divide(table["converted"], table["entered"])
        return labelled(table, segments, keys)
    spells, segments = segmented_spells(
        events,
        events_columns,
        lifecycle,
        kind,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_columns=entities_columns,
    )
    spells = spells.assign(position=spells["state"].map(order))
    per_entity = spells.groupby("entity_id", sort=False).agg(
        position=("position", "max"), _segment=("_segment", "first")
    )
    converted = per_entity["position"] >= high
    reached = spells.loc[spells["position"] >= low]
    # spells are in time order per entity: the first one reaching the stage says when
    first = reached.drop_duplicates("entity_id").set_index("entity_id").sort_index()
    if bool(first["entered_at"].isna().any()):
        raise DataError(
            f"the time some entities reached {short_repr(from_stage)} is unknown (no "
            "creation event). "
            "Hint: pass created= (creation timestamps indexed by entity id), or freq=None."
        )
    table = pd.DataFrame(
        {
            "_ordinal": period_ordinals(first["entered_at"], freq),
            "_segment": first["_segment"].to_numpy(),
            "entered": 1,
            "converted": converted.reindex(first.index).astype("int64").to_numpy(),
        }
    )
    table = table.groupby(["_ordinal", "_segment"], sort=True, as_index=False)[
        ["entered", "converted"]
    ].sum()
    table["conversion_rate"] = safe_divide(table["converted"], table["entered"])
    periods = ordinals_to_periods(table.pop("_ordinal").to_numpy(), freq)
    table = labelled(table, segments, keys)
    table.insert(0, "period", periods)
    return table


def funnel(
    events: pd.DataFrame,
    *,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    as_of: Instant | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_columns: EntityColumns = EntityColumns(),
    created: pd.Series | None = None,
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    The stage-to-stage funnel table, as of a date.

    One row per stage of the lifecycle's funnel (its states in order, without
    the lost ones): ``reached`` (entities that reached the stage or a later
    one), ``conversion_from_previous`` (÷ the previous stage's ``reached``) and
    ``conversion_from_first`` (÷ the first stage's). Entities whose log only
    holds stages outside the funnel (e.g. created and lost at once) count as
    having reached nothing. Ratios are NaN where the denominator is 0. With
    ``by`` the table has one block of stages per segment, the segment columns
    first; ``reached`` adds up over the segments.

    Args:
        events: the event log, one row per transition.
        lifecycle: the lifecycle whose states, without the lost ones, are the funnel.
        kind: the kind of rows to read from a mixed log (default: the lifecycle's kind).
        as_of: only events at or before this moment count (default: every event).
        by: segment column(s), of ``entities`` or of the log itself.
        entities: the population, one row per entity: its id and the ``by`` columns;
            every entity in it counts, with events or not (see the module notes).
            Without it only entities with an event are counted.
        entities_columns: the id column of ``entities`` (default ``<kind>_id``).
        created: creation timestamps indexed by entity id; with ``entities`` and
            ``as_of`` they tell which entities without an event existed by then.
        events_columns: the column names of ``events``.

    Returns:
        One row per funnel stage (per segment with ``by``).

    Raises:
        DataError: see :func:`conversion_rate`; also an event of an entity
            missing from ``entities``, and with ``entities`` and ``as_of`` an
            entity without an event by then and without a creation time.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o3"],
        ...     "source": ["prospecting", "qualification", "prospecting", "prospecting"],
        ...     "dest": ["qualification", "won", "lost", "qualification"],
        ...     "at": pd.to_datetime(["2026-01-03", "2026-01-10", "2026-01-04",
        ...                           "2026-01-05"], utc=True),
        ... })
        >>> funnel(events)[["state", "reached", "conversion_from_previous"]]
                   state  reached  conversion_from_previous
        0    prospecting        3                  1.000000
        1  qualification        2                  0.666667
        2       proposal        1                  0.500000
        3    negotiation        1                  1.000000
        4            won        1                  1.000000
        >>> # o4 exists but has no event yet: counted once the deals are the population
        >>> population = pd.DataFrame({"opportunity_id": ["o1", "o2", "o3", "o4"]})
        >>> funnel(events, entities=population)["reached"].tolist()
        [4, 2, 1, 1, 1]
        >>> deals = pd.DataFrame({"opportunity_id": ["o1", "o2", "o3"],
        ...                       "owner": ["ann", "bob", "ann"]})
        >>> table = funnel(events, by="owner", entities=deals)  # ann: o1 won, o3; bob: o2
        >>> table[["owner", "state", "reached", "conversion_from_first"]]
          owner          state  reached  conversion_from_first
        0   ann    prospecting        2                    1.0
        1   ann  qualification        2                    1.0
        2   ann       proposal        1                    0.5
        3   ann    negotiation        1                    0.5
        4   ann            won        1                    0.5
        5   bob    prospecting        1                    1.0
        6   bob  qualification        0                    0.0
        7   bob       proposal        0                    0.0
        8   bob    negotiation        0                    0.0
        9   bob            won        0                    0.0
    """
    order = stage_order(funnel_stages(lifecycle))
    keys = segment_keys(by)
    if by is None and entities is None and created is None:
        highest = _highest_reached(events, events_columns, lifecycle, kind, as_of, order)
        cell, segments = highest[highest >= 0], pd.DataFrame(index=pd.RangeIndex(1))
    else:
        segment, highest, segments = _segment_highest(
            events,
            events_columns,
            lifecycle,
            kind,
            order,
            created=created,
            as_of=as_of,
            keys=keys,
            entities=entities,
            entities_columns=entities_columns,
        )
        reached = highest >= 0
        cell = segment[reached] * len(order) + highest[reached]
    n_stages, n_segments = len(order), len(segments)
    counts = np.bincount(cell.astype("int64"), minlength=n_segments * n_stages)
    reached = counts.reshape(n_segments, n_stages)[:, ::-1].cumsum(axis=1)[:, ::-1]
    previous = np.concatenate([reached[:, :1], reached[:, :-1]], axis=1)
    first = np.repeat(reached[:, :1], n_stages, axis=1)
    table = pd.DataFrame(
        {
            "_segment": np.repeat(np.arange(n_segments), n_stages),
            "state": np.tile(np.array(list(order), dtype=object), n_segments),
            "reached": reached.ravel().astype("int64"),
        }
    )
    table["conversion_from_previous"] = safe_divide(table["reached"], pd.Series(previous.ravel()))
    table["conversion_from_first"] = safe_divide(table["reached"], pd.Series(first.ravel()))
    return labelled(table, segments, keys)
