"""
The stage of every deal as of a date, rebuilt from the opportunities and their event log.

:func:`deal_stages` is the public view; the pipeline KPIs (win rate, deal size,
sales cycle, weighted pipeline, forecast) read the same table through
:func:`stages_as_of` and :func:`closed_deals`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.metrics._common import check_by, check_unique
from crmlifecycle.metrics._events import check_states, creation_ns
from crmlifecycle.metrics._log_codes import code_log, utc_ns
from crmlifecycle.metrics._population import MERGED_INTO
from crmlifecycle.schema import EventLogColumns, OpportunityColumns
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["closed_deals", "deal_stages", "stages_as_of"]


def deal_stages(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None = None,
    kind: str = OPPORTUNITY_PIPELINE.kind,
    opportunities_columns: OpportunityColumns = OpportunityColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    The stage of every deal created by ``as_of``, rebuilt from the event log.

    A deal's stage as of the date is the ``dest`` of its last event at or
    before it; a deal without such an event is in its first stage (the
    ``source`` of its first later event, or its current ``state`` when it has
    no event at all) since its creation. Returns the ``opportunities`` rows
    (index kept) of the deals created by ``as_of`` (every deal when it is
    ``None``) with two columns added: ``state_as_of`` and
    ``state_since_as_of`` (when it entered that stage).

    The event log may be mixed: only rows whose kind column is ``kind``
    (``"opportunity"``) are read when it has that column, so lead or case
    events with colliding ids are not taken for deal stages (see
    :func:`~crmlifecycle.metrics.stage_spells`). ``opportunities_columns`` and
    ``events_columns`` name the columns of the two frames, e.g.
    ``OpportunityColumns(opportunity_id="deal_id")``; the other pipeline KPIs take
    the same keywords.

    Args:
        opportunities: the deals, one row per deal.
        events: the event log, one row per transition.
        as_of: the moment to look from (default: after every event).
        kind: the kind of the deals' rows in a mixed log.
        opportunities_columns: the column names of ``opportunities``.
        events_columns: the column names of ``events``.

    Examples:
        >>> import pandas as pd
        >>> deals = pd.DataFrame({
        ...     "opportunity_id": ["o1", "o2"], "state": ["won", "prospecting"],
        ...     "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        ... })
        >>> events = pd.DataFrame({
        ...     "entity_id": ["o1"], "source": ["prospecting"], "dest": ["won"],
        ...     "at": pd.to_datetime(["2026-02-01"], utc=True),
        ... })
        >>> deal_stages(deals, events, as_of="2026-01-15")["state_as_of"].tolist()
        ['prospecting', 'prospecting']
        >>> deal_stages(deals, events)["state_as_of"].tolist()
        ['won', 'prospecting']
    """
    return stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=opportunities_columns,
        log=events_columns,
        kind=kind,
    )


def stages_as_of(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: Instant | None,
    deal: OpportunityColumns,
    log: EventLogColumns,
    kind: str,
    lifecycle: Lifecycle | None = None,
    by: Sequence[str] = (),
    needs: Sequence[str] = (),
) -> pd.DataFrame:
    """
    Do the work of :func:`deal_stages`, checking segment columns ``by`` and columns ``needs``.

    With ``lifecycle``, every stage of the log and every current state of the deals
    must be one of its states. A deal whose ``merged_into`` column (when the frame
    has one) is set is a duplicate folded into another deal and is left out.
    """
    require_columns(opportunities, (), frame_name="opportunities")
    if MERGED_INTO in opportunities.columns:
        merged = opportunities[MERGED_INTO].notna().to_numpy(dtype=bool)
        if bool(merged.any()):
            opportunities = opportunities.loc[~merged]
    require_columns(opportunities, [*needs, *by], frame_name="opportunities")
    check_by(opportunities, by, frame_name="opportunities")
    require_columns(
        opportunities,
        [deal.opportunity_id, deal.created_at, deal.state],
        frame_name="opportunities",
    )
    check_unique(opportunities, [deal.opportunity_id], frame_name="opportunities")
    created = as_utc(opportunities[deal.created_at], deal.created_at)
    full_log = code_log(events, log, kind, as_of=None)
    if lifecycle is not None:
        check_states(pd.Series(full_log.states, dtype=object), lifecycle, log.dest)
        check_states(opportunities[deal.state], lifecycle, deal.state)
    first_source = full_log.first_sources()
    by_id = pd.Series(created.to_numpy(), index=opportunities[deal.opportunity_id].to_numpy())
    seen = full_log if as_of is None else full_log.until(utc_timestamp(as_of, name="as_of").value)
    creation_ns(seen, by_id)  # nothing happens to a deal before it was created
    ends = seen.last_rows()
    current = pd.DataFrame(
        {
            "state": seen.names(seen.dest[ends]),
            "entered_at": utc_ns(seen.at_ns[ends]),
        },
        index=seen.ids[seen.entity[ends]],
    )
    ids = opportunities[deal.opportunity_id]
    keep = pd.Series(data=True, index=opportunities.index)
    if as_of is not None:
        keep = created <= utc_timestamp(as_of, name="as_of")
    result = opportunities.loc[keep.to_numpy()].copy()
    ids = ids[keep.to_numpy()]
    keys = ids.to_numpy()
    stage = pd.Series(current["state"].reindex(keys).to_numpy(), index=result.index)
    initial = pd.Series(first_source.reindex(keys).to_numpy(), index=result.index)
    initial = initial.where(initial.notna(), result[deal.state])
    result["state_as_of"] = stage.where(stage.notna(), initial)
    since = pd.Series(current["entered_at"].reindex(keys).array, index=result.index)
    result["state_since_as_of"] = since.where(stage.notna(), created[keep.to_numpy()])
    return result


def closed_deals(
    opportunities: pd.DataFrame,
    events: pd.DataFrame,
    *,
    stages: Sequence[str],
    as_of: Instant | None,
    deal: OpportunityColumns,
    log: EventLogColumns,
    kind: str,
    lifecycle: Lifecycle,
    by: list[str],
) -> pd.DataFrame:
    """Return the deals whose stage as of ``as_of`` is one of ``stages`` (of ``lifecycle``)."""
    deals = stages_as_of(
        opportunities,
        events,
        as_of=as_of,
        deal=deal,
        log=log,
        kind=kind,
        lifecycle=lifecycle,
        by=by,
    )
    return deals.loc[deals["state_as_of"].isin(stages).to_numpy()]
