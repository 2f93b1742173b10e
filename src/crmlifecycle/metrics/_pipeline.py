"""
Pipeline KPIs from opportunities and their event log: deal stages, win rate, deal size, cycle.

Every function takes the ``opportunities`` frame (id, amount, created_at,
current stage, segment columns such as ``owner``) and the opportunity event
log, and computes the stage of every deal *as of* a date from the log, so
"what did the pipeline look like on 1 March" has an answer. The weighted
pipeline and the forecast by category, which also read stage metadata, are in
``_forecast.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import final

import attrs
import pandas as pd

from crmlifecycle._frames import (
    as_sequence,
    as_utc,
    check_numeric,
    require_columns,
    utc_timestamp,
)
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import (
    check_by,
    check_unique,
    ordinals_to_periods,
    period_ordinals,
    safe_divide,
)
from crmlifecycle.metrics._events import LogColumns, read_events, spells_of

__all__ = [
    "average_deal_size",
    "deal_stages",
    "sales_cycle_length",
    "win_rate",
]


def deal_stages(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    opportunity_col: str = "opportunity_id",
    created_at_col: str = "created_at",
    stage_col: str = "stage",
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
) -> pd.DataFrame:
    """
    The stage of every deal created by ``as_of``, rebuilt from the event log.

    A deal's stage as of the date is the ``dest`` of its last event at or
    before it; a deal without such an event is in its first stage (the
    ``source`` of its first later event, or its current ``stage`` when it has
    no event at all) since its creation. Returns the ``opportunities`` rows
    (index kept) of the deals created by ``as_of`` with two columns added:
    ``stage_as_of`` and ``since_as_of`` (when it entered that stage).

    The event log may be mixed: only rows whose ``kind_col`` is ``kind``
    (``"opportunity"``) are read when it has that column, so lead or case
    events with colliding ids are not taken for deal stages (see
    :func:`~crmlifecycle.metrics.stage_spells`). The other pipeline KPIs
    take the same event-log keywords.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2"], "stage": ["won", "prospecting"],
        ...     "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1"], "source": ["prospecting"], "dest": ["won"],
        ...     "at": pd.to_datetime(["2026-02-01"], utc=True),
        ... })
        >>> deal_stages(deals, events, as_of="2026-01-15")["stage_as_of"].tolist()
        ['prospecting', 'prospecting']
        >>> deal_stages(deals, events)["stage_as_of"].tolist()
        ['won', 'prospecting']
    """
    log = LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col)
    deal = DealColumns(opportunity_col, created_at_col, stage_col)
    return stages_as_of(opportunities, events, as_of=as_of, deal=deal, log=log)


@final
@attrs.frozen
class DealColumns:
    """The column names of the opportunities frame."""

    opportunity_col: str = "opportunity_id"
    created_at_col: str = "created_at"
    stage_col: str = "stage"


def stages_as_of(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None,
    deal: DealColumns,
    log: LogColumns,
    by: Sequence[str] = (),
    needs: Sequence[str] = (),
) -> pd.DataFrame:
    """Do the work of :func:`deal_stages`, checking segment columns ``by`` and columns ``needs``."""
    require_columns(opportunities, [*needs, *by], frame_name="opportunities")
    check_by(opportunities, by, frame_name="opportunities")
    opportunity_col, created_at_col, stage_col = (
        deal.opportunity_col,
        deal.created_at_col,
        deal.stage_col,
    )
    require_columns(
        opportunities, [opportunity_col, created_at_col, stage_col], frame_name="opportunities"
    )
    check_unique(opportunities, [opportunity_col], frame_name="opportunities")
    created = as_utc(opportunities[created_at_col], created_at_col)
    full_log = read_events(events, log, as_of=None)
    first_source = full_log.groupby("entity_id", sort=False)["source"].first()
    by_id = pd.Series(created.to_numpy(), index=opportunities[opportunity_col].to_numpy())
    spells = spells_of(events, log, created=by_id, as_of=as_of)
    current = spells.loc[spells["left_at"].isna()].drop_duplicates("entity_id", keep="last")
    current = current.set_index("entity_id")
    ids = opportunities[opportunity_col]
    keep = pd.Series(data=True, index=opportunities.index)
    if as_of is not None:
        keep = created <= utc_timestamp(as_of, name="as_of")
    result = opportunities.loc[keep.to_numpy()].copy()
    ids = ids[keep.to_numpy()]
    keys = ids.to_numpy()
    stage = pd.Series(current["stage"].reindex(keys).to_numpy(), index=result.index)
    initial = pd.Series(first_source.reindex(keys).to_numpy(), index=result.index)
    initial = initial.where(initial.notna(), result[stage_col])
    result["stage_as_of"] = stage.where(stage.notna(), initial)
    since = pd.Series(current["entered_at"].reindex(keys).array, index=result.index)
    result["since_as_of"] = since.where(stage.notna(), created[keep.to_numpy()])
    return result


def _closed(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    stages: Sequence[str],
    as_of: object | None,
    deal: DealColumns,
    log: LogColumns,
    by: list[str],
) -> pd.DataFrame:
    deals = stages_as_of(opportunities, events, as_of=as_of, deal=deal, log=log, by=by)
    return deals.loc[deals["stage_as_of"].isin(stages).to_numpy()]


def _grouped(
    frame: pd.DataFrame, keys: list[str], freq: str | None, time_col: str
) -> tuple[pd.DataFrame, list[str]]:
    group = list(keys)
    if freq is not None:
        frame = frame.assign(_ordinal=period_ordinals(frame[time_col], freq))
        group = ["_ordinal", *keys]
    return frame, group


def _finish(table: pd.DataFrame, freq: str | None) -> pd.DataFrame:
    if freq is not None:
        table.insert(0, "period", ordinals_to_periods(table["_ordinal"].to_numpy(), freq))
        table = table.drop(columns=["_ordinal"])
    return table.reset_index(drop=True)


def win_rate(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    won: str = "won",
    lost: str = "lost",
    opportunity_col: str = "opportunity_id",
    created_at_col: str = "created_at",
    stage_col: str = "stage",
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Win rate: deals won ÷ deals closed (won + lost), as of a date.

    Counts the deals whose stage as of ``as_of`` (see :func:`deal_stages`)
    is ``won`` or ``lost``; open deals are not in the denominator (counting
    them would mix pipeline age into the rate), and a reopened deal counts by
    its stage at the date. With ``freq`` deals are grouped by the period they
    closed in; ``by`` names columns of ``opportunities`` (e.g. ``"owner"``).
    Columns: ``period``, ``by``, ``won``, ``lost``, ``win_rate``. NaN when no
    deal closed.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"], "stage": ["won", "lost", "won"],
        ...     "created_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2", "o3"], "source": ["prospecting"] * 3,
        ...     "dest": ["won", "lost", "won"],
        ...     "at": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-02-05"], utc=True),
        ... })
        >>> round(win_rate(deals, events), 4)  # 2 won of 3 closed
        0.6667
        >>> win_rate(deals, events, as_of="2026-01-31")  # o3 still open then
        0.5
    """
    keys = as_sequence(by)
    closed = _closed(
        opportunities,
        events,
        stages=[won, lost],
        as_of=as_of,
        deal=DealColumns(opportunity_col, created_at_col, stage_col),
        log=LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col),
        by=keys,
    )
    is_won = (closed["stage_as_of"] == won).astype("int64")
    frame = closed[keys].assign(won=is_won, lost=1 - is_won, since=closed["since_as_of"])
    if freq is None and not keys:
        total = len(frame)
        return math.nan if total == 0 else float(is_won.sum()) / total
    frame, group = _grouped(frame, keys, freq, "since")
    table = frame.groupby(group, sort=True, as_index=False, observed=True)[["won", "lost"]].sum()
    table["win_rate"] = safe_divide(table["won"], table["won"] + table["lost"])
    return _finish(table, freq)


def average_deal_size(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    won: str = "won",
    amount_col: str = "amount",
    opportunity_col: str = "opportunity_id",
    created_at_col: str = "created_at",
    stage_col: str = "stage",
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Average deal size: Σ amount of won deals ÷ number of won deals, as of a date.

    Uses the deals won by ``as_of`` (grouped by the period they were won in
    with ``freq``). Amounts are the current ``amount`` column (the event log
    does not record amount changes); a won deal with a missing or negative
    amount is an error. Columns: ``period``, ``by``, ``deals``, ``amount``,
    ``average_deal_size``. NaN when no deal was won.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"], "stage": ["won", "lost", "won"],
        ...     "amount": [1000.0, 5000.0, 3000.0],
        ...     "created_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2", "o3"], "source": ["prospecting"] * 3,
        ...     "dest": ["won", "lost", "won"],
        ...     "at": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-02-05"], utc=True),
        ... })
        >>> average_deal_size(deals, events)  # (1000 + 3000) / 2; the lost deal is ignored
        2000.0
    """
    keys = as_sequence(by)
    require_columns(opportunities, [amount_col], frame_name="opportunities")
    deals = _closed(
        opportunities,
        events,
        stages=[won],
        as_of=as_of,
        deal=DealColumns(opportunity_col, created_at_col, stage_col),
        log=LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col),
        by=keys,
    )
    amount = check_numeric(deals[amount_col], amount_col, non_negative=True)
    frame = deals[keys].assign(amount=amount, deals=1, since=deals["since_as_of"])
    if freq is None and not keys:
        return math.nan if len(frame) == 0 else float(amount.sum()) / len(frame)
    frame, group = _grouped(frame, keys, freq, "since")
    table = frame.groupby(group, sort=True, as_index=False, observed=True)[
        ["deals", "amount"]
    ].sum()
    table["average_deal_size"] = safe_divide(table["amount"], table["deals"])
    return _finish(table, freq)


def sales_cycle_length(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    won: str = "won",
    statistic: str = "mean",
    opportunity_col: str = "opportunity_id",
    created_at_col: str = "created_at",
    stage_col: str = "stage",
    kind: str | None = "opportunity",
    kind_col: str = "kind",
    entity_col: str = "entity_id",
    source_col: str = "source",
    dest_col: str = "dest",
    at_col: str = "at",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Sales cycle length: days from a deal's creation to its win, as of a date.

    Over the deals won by ``as_of``. Without ``freq``/``by`` returns the
    ``statistic`` (``"mean"`` or ``"median"``; cycles are right-skewed, so the
    median is often the better summary); otherwise a frame with ``period``
    (of the win), ``by``, ``deals``, ``mean_days``, ``median_days`` and
    ``p90_days``. Lost and open deals are excluded (their cycle is not a
    sales cycle; open ones are censored). NaN when no deal was won.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2"], "stage": ["won", "won"],
        ...     "created_at": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2"], "source": ["prospecting"] * 2, "dest": ["won"] * 2,
        ...     "at": pd.to_datetime(["2026-01-11", "2026-01-31"], utc=True),
        ... })
        >>> sales_cycle_length(deals, events)  # (10 + 30) / 2 days
        20.0
    """
    if statistic not in {"mean", "median"}:
        raise DataError(f"statistic={statistic!r} is not supported. Hint: use 'mean' or 'median'.")
    keys = as_sequence(by)
    deals = _closed(
        opportunities,
        events,
        stages=[won],
        as_of=as_of,
        deal=DealColumns(opportunity_col, created_at_col, stage_col),
        log=LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col),
        by=keys,
    )
    created = as_utc(deals[created_at_col], created_at_col)
    days = (deals["since_as_of"] - created).dt.total_seconds() / 86_400
    frame = deals[keys].assign(days=days, since=deals["since_as_of"])
    if freq is None and not keys:
        if frame.empty:
            return math.nan
        return float(days.mean() if statistic == "mean" else days.median())
    frame, group = _grouped(frame, keys, freq, "since")
    grouped = frame.groupby(group, sort=True, observed=True)["days"]
    table = pd.DataFrame(
        {
            "deals": grouped.size(),
            "mean_days": grouped.mean(),
            "median_days": grouped.median(),
            "p90_days": grouped.quantile(0.9),
        }
    ).reset_index()
    return _finish(table, freq)
