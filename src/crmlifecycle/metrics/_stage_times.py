"""
Time in stage and stage velocity, from a lifecycle event log.

Both read the stage spells of :func:`~crmlifecycle.metrics.stage_spells` for
the rows of one lifecycle's kind (``lifecycle=``, by default
:data:`~crmlifecycle.stages.OPPORTUNITY_PIPELINE`; ``kind=`` overrides the
kind): :func:`time_in_stage` summarises how long completed spells lasted per
state of the lifecycle, :func:`stage_velocity` how many entities leave each
funnel stage forward and how fast. Segments (``by=``) and the population
(``entities=``: every entity counts, with events or not; without it only
entities with an event are counted) work as for
:func:`~crmlifecycle.metrics.funnel`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from crmlifecycle._types import Instant
from crmlifecycle.metrics._common import (
    ordinals_to_periods,
    period_ordinals,
    safe_divide,
    segment_keys,
)
from crmlifecycle.metrics._events import funnel_stages, stage_order
from crmlifecycle.metrics._population_codes import segmented_spells
from crmlifecycle.metrics._segments import labelled
from crmlifecycle.schema import EntityColumns, EventLogColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["stage_velocity", "time_in_stage"]

_QUANTILES = {"p25_days": 0.25, "median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}


def _grid(segments: pd.DataFrame, names: Sequence[str]) -> pd.MultiIndex:
    """Every (segment code, stage) pair, segment-major."""
    return pd.MultiIndex.from_product(
        [pd.RangeIndex(len(segments)), pd.Index(list(names), dtype=object)],
        names=["_segment", "state"],
    )


def time_in_stage(
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
    The distribution of time spent in each stage (days), as of a date.

    Over completed spells (the entity entered and left the stage by
    ``as_of``; see :func:`~crmlifecycle.metrics.stage_spells`): ``spells``,
    ``mean_days``, ``p25_days``, ``median_days``, ``p75_days``, ``p90_days``,
    ``max_days``, and ``open_spells`` (entities still in the stage, whose
    time is censored and therefore *not* in the statistics: durations of
    long open spells make the mean look shorter than it will be). A stage
    entered twice (e.g. after a reopen) contributes two spells. One row per
    state of the lifecycle, in order (lost ones included; stages of the log
    outside the lifecycle are not reported); with ``by`` for every segment,
    the segment columns first.

    Args:
        events: the event log, one row per transition.
        lifecycle: the lifecycle whose states are the rows.
        kind: the kind of rows to read from a mixed log (default: the lifecycle's kind).
        as_of: only events at or before this moment count (default: every event).
        by: segment column(s), of ``entities`` or of the log itself.
        entities: the population, one row per entity: its id and the ``by`` columns;
            an entity in it without an event has an open spell in the stage it was
            created in. Without it only entities with an event are counted.
        entities_columns: the id column of ``entities`` (default ``<kind>_id``).
        created: creation timestamps indexed by entity id (the start of each entity's
            first spell when the log has no creation event; with ``entities`` and
            ``as_of``, they tell which entities without an event existed by then).
        events_columns: the column names of ``events``.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o2"],
        ...     "source": [None, "prospecting", None, "prospecting"],
        ...     "dest": ["prospecting", "qualification", "prospecting", "qualification"],
        ...     "at": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-01",
        ...                           "2026-01-09"], utc=True),
        ... })
        >>> time_in_stage(events)[
        ...     ["state", "spells", "mean_days", "max_days", "open_spells"]].head(2)
                   state  spells  mean_days  max_days  open_spells
        0    prospecting       2        5.0       8.0            0
        1  qualification       0        NaN       NaN            2
    """
    keys = segment_keys(by)
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
    names = lifecycle.states
    done = spells.loc[spells["days"].notna()]
    grouped = done.groupby(["_segment", "state"], sort=True)["days"]
    table = pd.DataFrame(index=_grid(segments, names))
    table["spells"] = grouped.size().reindex(table.index).fillna(0).astype("int64")
    table["mean_days"] = grouped.mean().reindex(table.index)
    for column, q in _QUANTILES.items():
        table[column] = grouped.quantile(q).reindex(table.index)
    table["max_days"] = grouped.max().reindex(table.index)
    open_spells = spells.loc[spells["left_at"].isna()].groupby(["_segment", "state"]).size()
    table["open_spells"] = open_spells.reindex(table.index).fillna(0).astype("int64")
    return labelled(table.reset_index(), segments, keys)


def stage_velocity(
    events: pd.DataFrame,
    *,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    as_of: Instant | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_columns: EntityColumns = EntityColumns(),
    created: pd.Series | None = None,
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Stage velocity: how many entities move forward out of each stage, and how fast.

    For every spell that ended by ``as_of`` in a stage of the lifecycle's
    funnel (its states in order without the lost ones) but the last:
    ``exits``, ``advanced`` (left to a later stage of the funnel),
    ``advance_rate`` (advanced ÷ exits) and the ``mean_days_to_advance`` /
    ``median_days_to_advance`` of the advancing spells whose start is known.
    With ``freq`` rows are per period in which the spell ended (column
    ``period``); with ``by`` per segment too, the segment columns after
    ``period`` and before ``stage``. A slower stage is where deals stall;
    compare with :func:`time_in_stage`, which also counts exits to ``lost``.

    Args:
        events: the event log, one row per transition.
        lifecycle: the lifecycle whose states, without the lost ones, are the funnel.
        kind: the kind of rows to read from a mixed log (default: the lifecycle's kind).
        as_of: only events at or before this moment count (default: every event).
        freq: a period (``"M"``, ``"Q"``...) to group the spells by when they ended.
        by: segment column(s), of ``entities`` or of the log itself.
        entities: the population, one row per entity: its id and the ``by`` columns;
            an entity in it without an event has an open spell in the stage it was
            created in. Without it only entities with an event are counted.
        entities_columns: the id column of ``entities`` (default ``<kind>_id``).
        created: creation timestamps indexed by entity id (the start of each entity's
            first spell when the log has no creation event; with ``entities`` and
            ``as_of``, they tell which entities without an event existed by then).
        events_columns: the column names of ``events``.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o2"],
        ...     "source": [None, "prospecting", None, "prospecting"],
        ...     "dest": ["prospecting", "qualification", "prospecting", "lost"],
        ...     "at": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-01",
        ...                           "2026-01-02"], utc=True),
        ... })
        >>> stage_velocity(events)[  # o1 advanced after 4 days, o2 was lost; o1 still qualifies
        ...     ["state", "exits", "advanced", "advance_rate", "median_days_to_advance"]].head(2)
                   state  exits  advanced  advance_rate  median_days_to_advance
        0    prospecting      2         1           0.5                     4.0
        1  qualification      0         0           NaN                     NaN
    """
    funnel = funnel_stages(lifecycle)
    order = stage_order(funnel)
    keys = segment_keys(by)
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
    position = spells["state"].map(order)
    onward = spells["next_state"].map(order)
    ended = spells.loc[position.notna() & spells["left_at"].notna()].copy()
    ended["advanced"] = (onward[ended.index] > position[ended.index]).astype("int64")
    ended["exits"] = 1
    ended["advance_days"] = ended["days"].where(ended["advanced"] == 1)
    group = ["_segment", "state"]
    if freq is not None:
        ended["_ordinal"] = period_ordinals(ended["left_at"], freq)
        group = ["_ordinal", *group]
    table = ended.groupby(group, sort=False).agg(
        exits=("exits", "sum"),
        advanced=("advanced", "sum"),
        mean_days_to_advance=("advance_days", "mean"),
        median_days_to_advance=("advance_days", "median"),
    )
    periods = None
    if freq is None:
        table = table.reindex(_grid(segments, funnel[:-1]))
        table[["exits", "advanced"]] = table[["exits", "advanced"]].fillna(0).astype("int64")
        table = table.reset_index()
    else:
        table = table.reset_index()
        table["_position"] = table["state"].map(order)
        table = table.sort_values(["_ordinal", "_segment", "_position"], ignore_index=True)
        periods = ordinals_to_periods(table.pop("_ordinal").to_numpy(), freq)
        table = table.drop(columns=["_position"])
    table = labelled(table, segments, keys)
    if periods is not None:
        table.insert(0, "period", periods)
    table.insert(
        list(table.columns).index("advanced") + 1,
        "advance_rate",
        safe_divide(table["advanced"], table["exits"]),
    )
    return table
