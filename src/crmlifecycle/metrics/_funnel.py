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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    ordinals_to_periods,
    period_ordinals,
    ratio,
    safe_divide,
)
from crmlifecycle.metrics._events import OPPORTUNITY_STAGES, LogColumns, spells_of, stage_order

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
    When the first stage of an entity has no creation event, pass
    ``created=`` so its entry time is known. NaN when nobody reached
    ``from_stage``.

    Raises:
        DataError: a stage outside ``stages``, ``to_stage`` before
            ``from_stage``, or an unknown entry time with ``freq``.

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
    """
    order = stage_order(stages)
    low = _check_stage(from_stage, order, "from_stage")
    high = _check_stage(to_stage, order, "to_stage")
    if high < low:
        raise DataError(
            f"to_stage={to_stage!r} comes before from_stage={from_stage!r} in the funnel. "
            "Hint: swap them."
        )
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells = spells_of(events, columns, created=created, as_of=as_of)
    position = spells["stage"].map(order)
    spells = spells.assign(position=position)
    furthest = spells.groupby("entity_id", sort=True)["position"].max()
    entered = furthest >= low
    converted = furthest >= high
    if freq is None:
        return ratio(int(converted.sum()), int(entered.sum()))
    reached = spells.loc[spells["position"] >= low]
    # spells are in time order per entity: the first one reaching the stage says when
    first = reached.drop_duplicates("entity_id").set_index("entity_id")["entered_at"].sort_index()
    if bool(first.isna().any()):
        raise DataError(
            f"the time some entities reached {from_stage!r} is unknown (no creation event). "
            "Hint: pass created= (creation timestamps indexed by entity id), or freq=None."
        )
    table = pd.DataFrame(
        {
            "_ordinal": period_ordinals(first, freq),
            "entered": 1,
            "converted": converted.reindex(first.index).astype("int64").to_numpy(),
        }
    )
    table = table.groupby("_ordinal", sort=True, as_index=False)[["entered", "converted"]].sum()
    table["conversion_rate"] = safe_divide(table["converted"], table["entered"])
    table.insert(0, "period", ordinals_to_periods(table["_ordinal"].to_numpy(), freq))
    return table.drop(columns=["_ordinal"])


def funnel(
    events: pd.DataFrame,
    *,
    stages: Sequence[str] = OPPORTUNITY_STAGES,
    as_of: object | None = None,
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
    denominator is 0.

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
    """
    order = stage_order(stages)
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells = spells_of(events, columns, created=None, as_of=as_of)
    furthest = spells["stage"].map(order).groupby(spells["entity_id"]).max().dropna()
    counts = np.bincount(furthest.astype("int64").to_numpy(), minlength=len(order))
    reached = counts[::-1].cumsum()[::-1]
    table = pd.DataFrame({"stage": list(order), "reached": reached.astype("int64")})
    previous = table["reached"].shift(1).fillna(table["reached"].iloc[0])
    table["conversion_from_previous"] = safe_divide(table["reached"], previous)
    first = pd.Series(table["reached"].iloc[0], index=table.index)
    table["conversion_from_first"] = safe_divide(table["reached"], first)
    return table


def time_in_stage(
    events: pd.DataFrame,
    *,
    stages: Sequence[str] | None = None,
    as_of: object | None = None,
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
    ``stages`` if given, else every stage seen, alphabetically.

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
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells = spells_of(events, columns, created=created, as_of=as_of)
    names = list(stages) if stages is not None else sorted(spells["stage"].dropna().unique())
    done = spells.loc[spells["days"].notna()]
    grouped = done.groupby("stage", sort=True)["days"]
    table = pd.DataFrame(index=pd.Index(names, name="stage"))
    table["spells"] = grouped.size().reindex(table.index).fillna(0).astype("int64")
    table["mean_days"] = grouped.mean().reindex(table.index)
    for column, q in _QUANTILES.items():
        table[column] = grouped.quantile(q).reindex(table.index)
    table["max_days"] = grouped.max().reindex(table.index)
    open_spells = spells.loc[spells["left_at"].isna()].groupby("stage").size()
    table["open_spells"] = open_spells.reindex(table.index).fillna(0).astype("int64")
    return table.reset_index()


def stage_velocity(
    events: pd.DataFrame,
    *,
    stages: Sequence[str] = OPPORTUNITY_STAGES,
    as_of: object | None = None,
    freq: str | None = None,
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
    ``period``). A slower stage is where deals stall; compare with
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
    columns = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    spells = spells_of(events, columns, created=created, as_of=as_of)
    position = spells["stage"].map(order)
    onward = spells["next_stage"].map(order)
    ended = spells.loc[position.notna() & spells["left_at"].notna()].copy()
    ended["advanced"] = (onward[ended.index] > position[ended.index]).astype("int64")
    ended["exits"] = 1
    ended["advance_days"] = ended["days"].where(ended["advanced"] == 1)
    group = ["stage"]
    if freq is not None:
        ended["_ordinal"] = period_ordinals(ended["left_at"], freq)
        group = ["_ordinal", "stage"]
    table = ended.groupby(group, sort=False).agg(
        exits=("exits", "sum"),
        advanced=("advanced", "sum"),
        mean_days_to_advance=("advance_days", "mean"),
        median_days_to_advance=("advance_days", "median"),
    )
    table = table.reset_index()
    if freq is None:
        table = (
            table.set_index("stage")
            .reindex([s for s in order if s != stages[-1]])
            .rename_axis("stage")
            .reset_index()
        )
        table[["exits", "advanced"]] = table[["exits", "advanced"]].fillna(0).astype("int64")
    else:
        table["_position"] = table["stage"].map(order)
        table = table.sort_values(["_ordinal", "_position"], ignore_index=True)
        table.insert(0, "period", ordinals_to_periods(table["_ordinal"].to_numpy(), freq))
        table = table.drop(columns=["_ordinal", "_position"])
    table.insert(
        list(table.columns).index("advanced") + 1,
        "advance_rate",
        safe_divide(table["advanced"], table["exits"]),
    )
    return table
