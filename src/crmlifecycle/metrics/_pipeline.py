"""
Pipeline KPIs from opportunities and their event log: win rate, deal size, sales cycle.

Every function takes the ``opportunities`` frame (id, amount, created_at,
current state, segment columns such as ``owner``; its columns named by
``opportunities_columns``, a :class:`~crmlifecycle.schema.OpportunityColumns`) and the
opportunity event log (``events_columns``, an
:class:`~crmlifecycle.schema.EventLogColumns`), and reads the stage of every
deal *as of* a date from the log (:func:`~crmlifecycle.metrics.deal_stages`),
so "what did the pipeline look like on 1 March" has an answer. Which stages
are won and lost comes from the stage types of ``lifecycle=`` (by default
:data:`~crmlifecycle.stages.OPPORTUNITY_PIPELINE`). The weighted pipeline and
the forecast by category, which also read the stages' probabilities and
forecast categories, are in ``_forecast.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import pandas as pd

from crmlifecycle._finite import NS_PER_DAY, elapsed, finite_sum
from crmlifecycle._frames import as_utc, check_numeric, require_columns
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_name
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.metrics._common import (
    ordinals_to_periods,
    period_ordinals,
    safe_divide,
    segment_keys,
)
from crmlifecycle.metrics._deals import closed_deals
from crmlifecycle.metrics._events import check_after_creation, closed_stages, log_kind, won_stages
from crmlifecycle.schema import EventLogColumns, OpportunityColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["average_deal_size", "sales_cycle_length", "win_rate"]


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


@overload
def win_rate(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: None = None,
    by: None = None,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> float: ...
@overload
def win_rate(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: str,
    by: str | Sequence[str] | None = ...,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
@overload
def win_rate(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: str | None = ...,
    by: str | Sequence[str],
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
def win_rate(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> float | pd.DataFrame:
    """
    Win rate: deals won ÷ deals closed (won + lost), as of a date.

    Counts the deals whose stage as of ``as_of`` (see :func:`deal_stages`)
    is a won or a lost state of ``lifecycle`` (by stage type); open deals are
    not in the denominator (counting them would mix pipeline age into the
    rate), and a reopened deal counts by its stage at the date. A number
    without ``freq`` and ``by`` (NaN when no deal closed); otherwise a table
    with the columns ``period`` (the period the deals closed in), the ``by``
    columns of ``opportunities`` (e.g. ``"owner"``), ``won``, ``lost`` and
    ``win_rate``.

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        lifecycle: the pipeline whose stage types say which stages are won and lost.
        kind: the kind of the deals' rows in a mixed log (default: the lifecycle's kind).
        freq: a period (``"M"``, ``"Q"``...) to group the deals by when they closed.
        by: segment column(s) of ``opportunities``.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Raises:
        DataError: see :func:`deal_stages`; a lifecycle without a won state.
        ValidationError: ``by`` is an empty list.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"], "state": ["won", "lost", "won"],
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
    keys = segment_keys(by)
    won = won_stages(lifecycle)
    closed = closed_deals(
        opportunities,
        events,
        stages=closed_stages(lifecycle),
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=log_kind(lifecycle, kind),
        lifecycle=lifecycle,
        by=keys,
    )
    is_won = closed["state_as_of"].isin(won).astype("int64")
    frame = closed[keys].assign(won=is_won, lost=1 - is_won, since=closed["state_since_as_of"])
    if freq is None and by is None:
        total = len(frame)
        return math.nan if total == 0 else float(is_won.sum()) / total
    frame, group = _grouped(frame, keys, freq, "since")
    table = frame.groupby(group, sort=True, as_index=False, observed=True)[["won", "lost"]].sum()
    table["win_rate"] = safe_divide(table["won"], table["won"] + table["lost"])
    return _finish(table, freq)


@overload
def average_deal_size(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: None = None,
    by: None = None,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> float: ...
@overload
def average_deal_size(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: str,
    by: str | Sequence[str] | None = ...,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
@overload
def average_deal_size(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    freq: str | None = ...,
    by: str | Sequence[str],
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
def average_deal_size(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> float | pd.DataFrame:
    """
    Average deal size: Σ amount of won deals ÷ number of won deals, as of a date.

    Uses the deals in a won state of ``lifecycle`` as of ``as_of`` (grouped by
    the period they were won in with ``freq``). Amounts are the current
    ``amount`` column (the event log does not record amount changes); a won
    deal with a missing or negative amount is an error. A number without
    ``freq`` and ``by`` (NaN when no deal was won); otherwise a table with the
    columns ``period``, ``by``, ``deals``, ``amount``, ``average_deal_size``.

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        lifecycle: the pipeline whose stage types say which stages are won.
        kind: the kind of the deals' rows in a mixed log (default: the lifecycle's kind).
        freq: a period (``"M"``, ``"Q"``...) to group the deals by when they were won.
        by: segment column(s) of ``opportunities``.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Raises:
        DataError: see :func:`deal_stages`; a missing or negative amount of a won deal, or
            amounts whose sum overflows a 64-bit float.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"], "state": ["won", "lost", "won"],
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
    keys = segment_keys(by)
    amount_col = opportunities_columns.amount
    require_columns(opportunities, [amount_col], frame_name="opportunities")
    deals = closed_deals(
        opportunities,
        events,
        stages=won_stages(lifecycle),
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=log_kind(lifecycle, kind),
        lifecycle=lifecycle,
        by=keys,
    )
    amount = check_numeric(deals[amount_col], amount_col, non_negative=True)
    finite_sum(amount, name="the sum of the deal amounts", inputs=[amount_col])
    frame = deals[keys].assign(amount=amount, deals=1, since=deals["state_since_as_of"])
    if freq is None and by is None:
        return math.nan if len(frame) == 0 else float(amount.sum()) / len(frame)
    frame, group = _grouped(frame, keys, freq, "since")
    table = frame.groupby(group, sort=True, as_index=False, observed=True)[
        ["deals", "amount"]
    ].sum()
    table["average_deal_size"] = safe_divide(table["amount"], table["deals"])
    return _finish(table, freq)


@overload
def sales_cycle_length(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    statistic: str = ...,
    freq: None = None,
    by: None = None,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> float: ...
@overload
def sales_cycle_length(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    statistic: str = ...,
    freq: str,
    by: str | Sequence[str] | None = ...,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
@overload
def sales_cycle_length(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    statistic: str = ...,
    freq: str | None = ...,
    by: str | Sequence[str],
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
def sales_cycle_length(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    statistic: str = "mean",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> float | pd.DataFrame:
    """
    Sales cycle length: days from a deal's creation to its win, as of a date.

    Over the deals in a won state of ``lifecycle`` as of ``as_of``. Without
    ``freq``/``by`` returns the ``statistic`` (``"mean"`` or ``"median"``;
    cycles are right-skewed, so the median is often the better summary; NaN
    when no deal was won); otherwise a table with ``period`` (of the win),
    ``by``, ``deals``, ``mean_days``, ``median_days`` and ``p90_days``. Lost
    and open deals are excluded (their cycle is not a sales cycle; open ones
    are censored).

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        lifecycle: the pipeline whose stage types say which stages are won.
        kind: the kind of the deals' rows in a mixed log (default: the lifecycle's kind).
        statistic: ``"mean"`` or ``"median"``, for the single number.
        freq: a period (``"M"``, ``"Q"``...) to group the deals by when they were won.
        by: segment column(s) of ``opportunities``.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2"], "state": ["won", "won"],
        ...     "created_at": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2"], "source": ["prospecting"] * 2, "dest": ["won"] * 2,
        ...     "at": pd.to_datetime(["2026-01-11", "2026-01-31"], utc=True),
        ... })
        >>> sales_cycle_length(deals, events)  # (10 + 30) / 2 days
        20.0
    """
    check_name("statistic", statistic, hint="use 'mean' or 'median'.")
    if statistic not in {"mean", "median"}:
        raise DataError(
            f"statistic={short_repr(statistic)} is not supported. Hint: use 'mean' or 'median'."
        )
    keys = segment_keys(by)
    deals = closed_deals(
        opportunities,
        events,
        stages=won_stages(lifecycle),
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=log_kind(lifecycle, kind),
        lifecycle=lifecycle,
        by=keys,
    )
    created_at = opportunities_columns.created_at
    created = as_utc(deals[created_at], created_at)
    check_after_creation(
        deals[opportunities_columns.opportunity_id].to_numpy(),
        created,
        deals["state_since_as_of"],
        column=created_at,
        what="win",
    )
    days = pd.Series(
        elapsed(deals["state_since_as_of"], created, unit_ns=NS_PER_DAY), index=deals.index
    )
    frame = deals[keys].assign(days=days, since=deals["state_since_as_of"])
    if freq is None and by is None:
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
