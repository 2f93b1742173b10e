"""
Weighted pipeline and forecast by category, from opportunities and their event log.

Both read every deal's stage *as of* a date (see
:func:`~crmlifecycle.metrics.deal_stages`) and the stage metadata of the
pipeline, which defaults to the standard one: win probabilities
10/20/50/80/100/0 per stage (EspoCRM's defaults) and Salesforce's forecast
categories pipeline, best case, commit, closed and omitted (REFERENCES.md,
"CRM state models seen in the field").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from crmlifecycle._frames import as_sequence, check_numeric, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._events import (
    DEFAULT_FORECAST_CATEGORIES,
    DEFAULT_PROBABILITIES,
    LogColumns,
)
from crmlifecycle.metrics._pipeline import DealColumns, stages_as_of

__all__ = ["forecast", "weighted_pipeline"]


def _weighted(
    deals: pd.DataFrame, keys: list[str], amount_col: str, probabilities: Mapping[str, float]
) -> pd.DataFrame:
    """Return the segments of ``deals`` with ``deals`` (1), ``amount`` and ``weighted_amount``."""
    stages = deals["stage_as_of"]
    unknown = sorted(set(stages.dropna().unique()) - set(probabilities))
    if unknown:
        raise DataError(
            f"no win probability for stage(s) {unknown}. "
            "Hint: pass probabilities={stage: percent, ...} for every stage of your pipeline."
        )
    weight = stages.map(probabilities).astype("float64") / 100.0
    amount = check_numeric(deals[amount_col], amount_col, non_negative=True)
    return deals[keys].assign(deals=1, amount=amount, weighted_amount=amount * weight)


def weighted_pipeline(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    probabilities: Mapping[str, float] = DEFAULT_PROBABILITIES,
    closed: Sequence[str] = ("won", "lost"),
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
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Weighted pipeline: Σ amount × win probability of the open deals, as of a date.

    Open deals are those not in a ``closed`` stage as of ``as_of``. The
    probability is the default of the deal's stage at that date
    (``probabilities``, in percent; EspoCRM's 10/20/50/80 by default), not a
    probability set by hand later, which the log does not date. A snapshot,
    so no ``freq``; with ``by`` the columns are ``by``, ``deals``, ``amount``
    and ``weighted_amount``.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"],
        ...     "stage": ["proposal", "negotiation", "won"],
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
    keys = as_sequence(by)
    deals = stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=DealColumns(opportunity_col, created_at_col, stage_col),
        log=LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col),
        by=keys,
        needs=[amount_col],
    )
    deals = deals.loc[~deals["stage_as_of"].isin(list(closed)).to_numpy()]
    frame = _weighted(deals, keys, amount_col, probabilities)
    if not keys:
        return float(frame["weighted_amount"].sum())
    return frame.groupby(keys, sort=True, as_index=False, observed=True)[
        ["deals", "amount", "weighted_amount"]
    ].sum()


def forecast(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: object | None = None,
    closed_since: object | None = None,
    categories: Mapping[str, str] = DEFAULT_FORECAST_CATEGORIES,
    probabilities: Mapping[str, float] = DEFAULT_PROBABILITIES,
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
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Forecast by category (pipeline, best case, commit, closed, omitted), as of a date.

    Each deal's stage as of ``as_of`` maps to a forecast category
    (``categories``; Salesforce's categories, REFERENCES.md, with the
    standard stages mapped prospecting/qualification → pipeline, proposal →
    best_case, negotiation → commit, won → closed, lost → omitted). Deals won
    or lost count only if they closed at or after ``closed_since`` (e.g. the
    start of the quarter being forecast). Columns: ``by``, ``category``,
    ``deals``, ``amount``, ``weighted_amount`` (amount × stage probability).

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2", "o3"],
        ...     "stage": ["proposal", "negotiation", "won"],
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
    keys = as_sequence(by)
    deals = stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=DealColumns(opportunity_col, created_at_col, stage_col),
        log=LogColumns(kind, kind_col, entity_col, source_col, dest_col, at_col),
        by=keys,
        needs=[amount_col],
    )
    unknown = sorted(set(deals["stage_as_of"].dropna().unique()) - set(categories))
    if unknown:
        raise DataError(
            f"no forecast category for stage(s) {unknown}. "
            "Hint: pass categories={stage: category, ...} for every stage of your pipeline."
        )
    category = deals["stage_as_of"].map(categories)
    if closed_since is not None:
        since = utc_timestamp(closed_since, name="closed_since")
        old = category.isin(["closed", "omitted"]) & (deals["since_as_of"] < since)
        deals, category = deals.loc[~old.to_numpy()], category[~old]
    frame = _weighted(deals, keys, amount_col, probabilities).assign(category=category)
    return frame.groupby([*keys, "category"], sort=True, as_index=False, observed=True)[
        ["deals", "amount", "weighted_amount"]
    ].sum()
