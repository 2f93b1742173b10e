"""
Weighted pipeline and forecast by category, from opportunities and their event log.

Both read every deal's stage *as of* a date (see
:func:`~crmlifecycle.metrics.deal_stages`) and the stage metadata of a
lifecycle (``lifecycle=``, by default
:data:`~crmlifecycle.stages.OPPORTUNITY_PIPELINE`): its win probabilities
(EspoCRM's default stage probabilities 10/20/50/80/100/0), its forecast
categories (Salesforce's forecast categories pipeline, best case, commit,
closed and omitted) and which stages are closed (won or lost by stage type).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import pandas as pd

from crmlifecycle._finite import finite_sum
from crmlifecycle._frames import check_numeric, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import segment_keys
from crmlifecycle.metrics._deals import stages_as_of
from crmlifecycle.metrics._events import (
    closed_stages,
    forecast_categories,
    log_kind,
    stage_probabilities,
)
from crmlifecycle.schema import EventLogColumns, OpportunityColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["forecast", "weighted_pipeline"]


def _without(stages: pd.Series, known: set[str], lifecycle: Lifecycle, what: str) -> None:
    """Raise when a deal's stage has no ``what`` in the lifecycle's stage metadata."""
    unknown = sorted(set(stages.dropna().unique()) - known)
    if unknown:
        raise DataError(
            f"no {what} for stage(s) {unknown} in the {lifecycle.name!r} lifecycle "
            f"(states: {list(lifecycle.states)}). Hint: pass lifecycle= the pipeline of these "
            f"deals, with a {what} in the metadata of every stage."
        )


def _weighted(
    deals: pd.DataFrame, keys: list[str], amount_col: str, lifecycle: Lifecycle
) -> pd.DataFrame:
    """Return the segments of ``deals`` with ``deals`` (1), ``amount`` and ``weighted_amount``."""
    probabilities = stage_probabilities(lifecycle)
    stages = deals["state_as_of"]
    _without(stages, set(probabilities), lifecycle, "win probability")
    weight = stages.map(probabilities).astype("float64") / 100.0
    amount = check_numeric(deals[amount_col], amount_col, non_negative=True)
    finite_sum(amount, name="the sum of the deal amounts", inputs=[amount_col])
    return deals[keys].assign(deals=1, amount=amount, weighted_amount=amount * weight)


@overload
def weighted_pipeline(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    by: None = None,
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> float: ...
@overload
def weighted_pipeline(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = ...,
    lifecycle: Lifecycle = ...,
    kind: str | None = ...,
    by: str | Sequence[str],
    opportunities_columns: OpportunityColumns = ...,
    events_columns: EventLogColumns = ...,
) -> pd.DataFrame: ...
def weighted_pipeline(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    by: str | Sequence[str] | None = None,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> float | pd.DataFrame:
    """
    Weighted pipeline: Σ amount × win probability of the open deals, as of a date.

    Open deals are those not in a closed (won or lost) state of
    ``lifecycle`` as of ``as_of``. The probability is the default of the
    deal's stage at that date (the stage's ``probability`` in the lifecycle,
    in percent; EspoCRM's default stage probabilities 10/20/50/80 by
    default), not a probability set by hand later, which the log does not
    date. A snapshot, so no ``freq``: a number without ``by``, otherwise a
    table with the columns ``by``, ``deals``, ``amount`` and
    ``weighted_amount``.

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        lifecycle: the pipeline whose stage metadata gives probabilities and closed stages.
        kind: the kind of the deals' rows in a mixed log (default: the lifecycle's kind).
        by: segment column(s) of ``opportunities``.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Raises:
        DataError: see :func:`deal_stages`; an open deal in a stage without a
            probability in ``lifecycle``; amounts whose sum overflows a 64-bit float.
        ValidationError: a stage probability outside 0..100 (a lifecycle-like object).

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"],
        ...     "state": ["proposal", "negotiation", "won"],
        ...     "amount": [1000.0, 2000.0, 5000.0],
        ...     "created_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2", "o3"], "source": ["prospecting"] * 3,
        ...     "dest": ["proposal", "negotiation", "won"],
        ...     "at": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-01-25"], utc=True),
        ... })
        >>> weighted_pipeline(deals, events)  # 1000 * 50% + 2000 * 80%
        2100.0
    """
    keys = segment_keys(by)
    deals = stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=log_kind(lifecycle, kind),
        lifecycle=lifecycle,
        by=keys,
        needs=[opportunities_columns.amount],
    )
    deals = deals.loc[~deals["state_as_of"].isin(closed_stages(lifecycle)).to_numpy()]
    frame = _weighted(deals, keys, opportunities_columns.amount, lifecycle)
    if by is None:
        return float(frame["weighted_amount"].sum())
    return frame.groupby(keys, sort=True, as_index=False, observed=True)[
        ["deals", "amount", "weighted_amount"]
    ].sum()


def forecast(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    start: Instant | None = None,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    kind: str | None = None,
    by: str | Sequence[str] | None = None,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Forecast by category (pipeline, best case, commit, closed, omitted), as of a date.

    Each deal's stage as of ``as_of`` maps to the forecast category of that
    stage in ``lifecycle`` (Salesforce's forecast categories; the standard
    pipeline maps prospecting/qualification → pipeline, proposal →
    best_case, negotiation → commit, won → closed, lost → omitted). Deals won
    or lost count only if they closed at or after ``start`` (e.g. the start
    of the quarter being forecast; every closed deal when it is ``None``).
    Columns: ``by``, ``category``, ``deals``, ``amount``, ``weighted_amount``
    (amount × stage probability).

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        start: the start of the window in which closed deals count.
        lifecycle: the pipeline whose stage metadata gives categories and probabilities.
        kind: the kind of the deals' rows in a mixed log (default: the lifecycle's kind).
        by: segment column(s) of ``opportunities``.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Raises:
        DataError: see :func:`deal_stages`; a deal in a stage without a
            forecast category or a probability in ``lifecycle``; amounts whose sum
            overflows a 64-bit float.
        ValidationError: a stage probability outside 0..100 (a lifecycle-like object).

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"],
        ...     "state": ["proposal", "negotiation", "won"],
        ...     "amount": [1000.0, 2000.0, 5000.0],
        ...     "created_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1", "o2", "o3"], "source": ["prospecting"] * 3,
        ...     "dest": ["proposal", "negotiation", "won"],
        ...     "at": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-01-25"], utc=True),
        ... })
        >>> forecast(deals, events)
            category  deals  amount  weighted_amount
        0  best_case      1  1000.0            500.0
        1     closed      1  5000.0           5000.0
        2     commit      1  2000.0           1600.0
    """
    keys = segment_keys(by)
    deals = stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=log_kind(lifecycle, kind),
        lifecycle=lifecycle,
        by=keys,
        needs=[opportunities_columns.amount],
    )
    categories = forecast_categories(lifecycle)
    _without(deals["state_as_of"], set(categories), lifecycle, "forecast category")
    category = deals["state_as_of"].map(categories)
    if start is not None:
        since = utc_timestamp(start, name="start")
        closed = deals["state_as_of"].isin(closed_stages(lifecycle))
        old = closed & (deals["state_since_as_of"] < since)
        deals, category = deals.loc[~old.to_numpy()], category[~old]
    frame = _weighted(deals, keys, opportunities_columns.amount, lifecycle)
    return (
        frame.assign(category=category)
        .groupby([*keys, "category"], sort=True, as_index=False, observed=True)[
            ["deals", "amount", "weighted_amount"]
        ]
        .sum()
    )
