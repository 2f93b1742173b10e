"""
Funnel KPIs from a lifecycle event log: conversion, funnel table, time in stage, velocity.

A funnel is an ordered list of stages (``stages=``, by default the standard
opportunity pipeline) over one lifecycle of the event log (``kind=``, by
default ``"opportunity"``; pass ``kind="lead"`` and the lead stages for the
lead funnel; see :func:`~crmlifecycle.metrics.stage_spells` for mixed logs).
An entity *reached* a stage when it was ever in that stage or a later one
of the list (the high-water mark: a deal won straight from qualification
counts as having passed proposal and negotiation, and a reopened or lost
deal keeps the stages it reached). Conversion from stage A
to stage B is the share of entities that reached A which also reached B
(the stage-to-stage conversion of funnel analysis; for leads see also
Frappe CRM's status types in REFERENCES.md).

Segments (``by=``) are attributes of the entities (a deal's owner, a lead's
channel), which an event log does not hold: pass ``entities=`` (one row per
entity with its id and the segment columns) and they are joined onto the
events by entity id. Every count is then per segment, and the segments of a
stage add up to the unsegmented count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_sequence
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    ordinals_to_periods,
    period_ordinals,
    ratio,
    safe_divide,
)
from crmlifecycle.metrics._events import (
    OPPORTUNITY_STAGES,
    LogColumns,
    segmented_spells,
    stage_order,
)
from crmlifecycle.metrics._segments import labelled

__all__ = ["conversion_rate", "funnel", "stage_velocity", "time_in_stage"]

_QUANTILES = {"p25_days": 0.25, "median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}


def _check_stage(stage: str, order: dict[str, int], name: str) -> int:
    if stage not in order:
        raise DataError(
            f"{name}={stage!r} is not one of the funnel stages {list(order)}. "
            "Hint: pass stages= with your pipeline's stages in order."
        )
    return order[stage]


def conversion_rate(
    events: pd.DataFrame,
    *,
    from_stage: str,
    to_stage: str,
    stages: Sequence[str] = OPPORTUNITY_STAGES,
    as_of: object | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_id_col: str | None = None,
    created: pd.Series | None = None,
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
) -> float | pd.DataFrame:
    """
    Conversion rate between two funnel stages, as of a date.

    Entities that reached ``to_stage`` ÷ entities that reached ``from_stage``
    (reached = the stage or a later one of ``stages``, see the module notes),
    counting only events at or before ``as_of``. With ``freq`` the entities
    are grouped by the period in which they first reached ``from_stage``
    (columns ``period``, ``entered``, ``converted``, ``conversion_rate``);
    recent periods look worse because their entities had less time to convert.
    With ``by`` (segment columns of ``entities``, one row per entity whose id
    column is ``entities_id_col``, by default ``<kind>_id``; or columns of the
    log itself) there is one row per segment (after ``period``), every
    segment of the log's entities included. When the first stage of an entity
    has no creation event, pass ``created=`` so its entry time is known. NaN
    when nobody reached ``from_stage``.

    Raises:
        DataError: a stage outside ``stages``, ``to_stage`` before
            ``from_stage``, an unknown entry time with ``freq``, or ``by``
            columns that neither ``entities`` nor the log hold (or that are
            missing or change within an entity).

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
    order = stage_order(stages)
    low = _check_stage(from_stage, order, "from_stage")
    high = _check_stage(to_stage, order, "to_stage")
    if high < low:
        raise DataError(
            f"to_stage={to_stage!r} comes before from_stage={from_stage!r} in the funnel. "
            "Hint: swap them."
        )
    keys = as_sequence(by)
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells, segments = segmented_spells(
        events,
        columns,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_id_col=entities_id_col,
    )
    spells = spells.assign(position=spells["stage"].map(order))
    per_entity = spells.groupby("entity_id", sort=True).agg(
        position=("position", "max"), _segment=("_segment", "first")
    )
    entered = per_entity["position"] >= low
    converted = per_entity["position"] >= high
    if freq is None and not keys:
        return ratio(int(converted.sum()), int(entered.sum()))
    if freq is None:
        n_segments = len(segments)
        segment = per_entity["_segment"].to_numpy()
        table = pd.DataFrame(
            {
                "_segment": np.arange(n_segments),
                "entered": np.bincount(segment[entered.to_numpy()], minlength=n_segments),
                "converted": np.bincount(segment[converted.to_numpy()], minlength=n_segments),
            }
        )
        table["conversion_rate"] = safe_divide(table["converted"], table["entered"])
        return labelled(table, segments, keys)
    reached = spells.loc[spells["position"] >= low]
    # spells are in time order per entity: the first one reaching the stage says when
    first = reached.drop_duplicates("entity_id").set_index("entity_id").sort_index()
    if bool(first["entered_at"].isna().any()):
        raise DataError(
            f"the time some entities reached {from_stage!r} is unknown (no creation event). "
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
    stages: Sequence[str] = OPPORTUNITY_STAGES,
    as_of: object | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_id_col: str | None = None,
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
) -> pd.DataFrame:
    """
    The stage-to-stage funnel table, as of a date.

    One row per stage of ``stages``: ``reached`` (entities that reached the
    stage or a later one), ``conversion_from_previous`` (÷ the previous
    stage's ``reached``) and ``conversion_from_first`` (÷ the first stage's).
    Entities whose log only holds stages outside ``stages`` (e.g. created and
    lost at once) count as having reached nothing. Ratios are NaN where the
    denominator is 0. With ``by`` (see :func:`conversion_rate` for
    ``entities``) the table has one block of stages per segment, the segment
    columns first; ``reached`` adds up over the segments.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o3"],
        ...     "source": ["prospecting", "qualification", "prospecting", "prospecting"],
        ...     "dest": ["qualification", "won", "lost", "qualification"],
        ...     "at": pd.to_datetime(["2026-01-03", "2026-01-10", "2026-01-04",
        ...                           "2026-01-05"], utc=True),
        ... })
        >>> funnel(events)[["stage", "reached", "conversion_from_previous"]]
                   stage  reached  conversion_from_previous
        0    prospecting        3                  1.000000
        1  qualification        2                  0.666667
        2       proposal        1                  0.500000
        3    negotiation        1                  1.000000
        4            won        1                  1.000000
        >>> deals = pd.DataFrame({"opportunity_id": ["o1", "o2", "o3"],
        ...                       "owner": ["ann", "bob", "ann"]})
        >>> table = funnel(events, stages=["prospecting", "qualification", "won"],
        ...                by="owner", entities=deals)
        >>> table[["owner", "stage", "reached", "conversion_from_first"]]
          owner          stage  reached  conversion_from_first
        0   ann    prospecting        2                    1.0
        1   ann  qualification        2                    1.0
        2   ann            won        1                    0.5
        3   bob    prospecting        1                    1.0
        4   bob  qualification        0                    0.0
        5   bob            won        0                    0.0
    """
    order = stage_order(stages)
    keys = as_sequence(by)
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells, segments = segmented_spells(
        events,
        columns,
        created=None,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_id_col=entities_id_col,
    )
    per_entity = (
        spells.assign(position=spells["stage"].map(order))
        .groupby("entity_id", sort=True)
        .agg(position=("position", "max"), _segment=("_segment", "first"))
        .dropna()
    )
    n_stages, n_segments = len(order), len(segments)
    cell = per_entity["_segment"].to_numpy() * n_stages + per_entity["position"].to_numpy()
    counts = np.bincount(cell.astype("int64"), minlength=n_segments * n_stages)
    reached = counts.reshape(n_segments, n_stages)[:, ::-1].cumsum(axis=1)[:, ::-1]
    previous = np.concatenate([reached[:, :1], reached[:, :-1]], axis=1)
    first = np.repeat(reached[:, :1], n_stages, axis=1)
    table = pd.DataFrame(
        {
            "_segment": np.repeat(np.arange(n_segments), n_stages),
            "stage": np.tile(np.array(list(order), dtype=object), n_segments),
            "reached": reached.ravel().astype("int64"),
        }
    )
    table["conversion_from_previous"] = safe_divide(table["reached"], pd.Series(previous.ravel()))
    table["conversion_from_first"] = safe_divide(table["reached"], pd.Series(first.ravel()))
    return labelled(table, segments, keys)


def _grid(segments: pd.DataFrame, names: Sequence[str]) -> pd.MultiIndex:
    """Every (segment code, stage) pair, segment-major."""
    return pd.MultiIndex.from_product(
        [pd.RangeIndex(len(segments)), pd.Index(list(names), dtype=object)],
        names=["_segment", "stage"],
    )


def time_in_stage(
    events: pd.DataFrame,
    *,
    stages: Sequence[str] | None = None,
    as_of: object | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_id_col: str | None = None,
    created: pd.Series | None = None,
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
) -> pd.DataFrame:
    """
    The distribution of time spent in each stage (days), as of a date.

    Over completed spells (the entity entered and left the stage by
    ``as_of``; see :func:`~crmlifecycle.metrics.stage_spells`): ``spells``,
    ``mean_days``, ``p25_days``, ``median_days``, ``p75_days``, ``p90_days``,
    ``max_days``, and ``open_spells`` (entities still in the stage, whose
    time is censored and therefore *not* in the statistics: durations of
    long open spells make the mean look shorter than it will be). A stage
    entered twice (e.g. after a reopen) contributes two spells. Rows follow
    ``stages`` if given, else every stage seen, alphabetically; with ``by``
    (see :func:`conversion_rate` for ``entities``) for every segment, the
    segment columns first.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o2"],
        ...     "source": [None, "prospecting", None, "prospecting"],
        ...     "dest": ["prospecting", "qualification", "prospecting", "qualification"],
        ...     "at": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-01",
        ...                           "2026-01-09"], utc=True),
        ... })
        >>> time_in_stage(events, stages=["prospecting", "qualification"])[
        ...     ["stage", "spells", "mean_days", "max_days", "open_spells"]]
                   stage  spells  mean_days  max_days  open_spells
        0    prospecting       2        5.0       8.0            0
        1  qualification       0        NaN       NaN            2
    """
    keys = as_sequence(by)
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells, segments = segmented_spells(
        events,
        columns,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_id_col=entities_id_col,
    )
    names = list(stages) if stages is not None else sorted(spells["stage"].dropna().unique())
    done = spells.loc[spells["days"].notna()]
    grouped = done.groupby(["_segment", "stage"], sort=True)["days"]
    table = pd.DataFrame(index=_grid(segments, names))
    table["spells"] = grouped.size().reindex(table.index).fillna(0).astype("int64")
    table["mean_days"] = grouped.mean().reindex(table.index)
    for column, q in _QUANTILES.items():
        table[column] = grouped.quantile(q).reindex(table.index)
    table["max_days"] = grouped.max().reindex(table.index)
    open_spells = spells.loc[spells["left_at"].isna()].groupby(["_segment", "stage"]).size()
    table["open_spells"] = open_spells.reindex(table.index).fillna(0).astype("int64")
    return labelled(table.reset_index(), segments, keys)


def stage_velocity(
    events: pd.DataFrame,
    *,
    stages: Sequence[str] = OPPORTUNITY_STAGES,
    as_of: object | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    entities: pd.DataFrame | None = None,
    entities_id_col: str | None = None,
    created: pd.Series | None = None,
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
) -> pd.DataFrame:
    """
    Stage velocity: how many entities move forward out of each stage, and how fast.

    For every spell that ended by ``as_of`` in a stage of ``stages``:
    ``exits``, ``advanced`` (left to a later stage of the funnel),
    ``advance_rate`` (advanced ÷ exits) and the ``mean_days_to_advance`` /
    ``median_days_to_advance`` of the advancing spells whose start is known.
    With ``freq`` rows are per period in which the spell ended (column
    ``period``); with ``by`` (see :func:`conversion_rate` for ``entities``)
    per segment too, the segment columns after ``period`` and before
    ``stage``. A slower stage is where deals stall; compare with
    :func:`time_in_stage`, which also counts exits to ``lost``.

    Examples:
        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o1", "o2", "o2"],
        ...     "source": [None, "prospecting", None, "prospecting"],
        ...     "dest": ["prospecting", "qualification", "prospecting", "lost"],
        ...     "at": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-01",
        ...                           "2026-01-02"], utc=True),
        ... })
        >>> stage_velocity(events, stages=["prospecting", "qualification"])[
        ...     ["stage", "exits", "advanced", "advance_rate", "median_days_to_advance"]]
                 stage  exits  advanced  advance_rate  median_days_to_advance
        0  prospecting      2         1           0.5                     4.0
    """
    order = stage_order(stages)
    keys = as_sequence(by)
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells, segments = segmented_spells(
        events,
        columns,
        created=created,
        as_of=as_of,
        keys=keys,
        entities=entities,
        entities_id_col=entities_id_col,
    )
    position = spells["stage"].map(order)
    onward = spells["next_stage"].map(order)
    ended = spells.loc[position.notna() & spells["left_at"].notna()].copy()
    ended["advanced"] = (onward[ended.index] > position[ended.index]).astype("int64")
    ended["exits"] = 1
    ended["advance_days"] = ended["days"].where(ended["advanced"] == 1)
    group = ["_segment", "stage"]
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
        table = table.reindex(_grid(segments, [s for s in order if s != stages[-1]]))
        table[["exits", "advanced"]] = table[["exits", "advanced"]].fillna(0).astype("int64")
        table = table.reset_index()
    else:
        table = table.reset_index()
        table["_position"] = table["stage"].map(order)
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
