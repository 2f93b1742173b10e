"""
The backlog KPI: the open cases as of a moment, in all or per state and segment.

A case's state as of the moment comes from the case event log (or, for the standard
case lifecycle, from the cases' timestamps); the lifecycle says which stages close a
case. The cases frame is read through a :class:`~crmlifecycle.schema.CaseColumns`
record and the event log through an :class:`~crmlifecycle.schema.EventLogColumns` record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import pandas as pd

from crmlifecycle._event_rows import stage_rows
from crmlifecycle._finite import NS_PER_HOUR, elapsed
from crmlifecycle._frames import as_utc, equals, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import check_unique, segment_keys
from crmlifecycle.metrics._satisfaction import _keys_frame
from crmlifecycle.schema import STATE, CaseColumns, EventLogColumns
from crmlifecycle.sla import stop_states_of
from crmlifecycle.stages import CASE_STATUS, Lifecycle

__all__ = ["backlog"]


@overload
def backlog(
    cases: pd.DataFrame,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = ...,
    events_columns: EventLogColumns = ...,
    lifecycle: Lifecycle = CASE_STATUS,
    by: None = None,
) -> int: ...
@overload
def backlog(
    cases: pd.DataFrame,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = ...,
    events_columns: EventLogColumns = ...,
    lifecycle: Lifecycle = CASE_STATUS,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def backlog(
    cases: pd.DataFrame,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = CaseColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
    lifecycle: Lifecycle = CASE_STATUS,
    by: str | Sequence[str] | None = None,
) -> int | pd.DataFrame:
    """
    Open cases as of ``as_of`` (opened by then and not resolved or closed), in all or by segment.

    The state as of ``as_of`` is the destination of the case's last state
    change at or before ``as_of`` in ``events`` of the lifecycle's kind (its
    initial state if none); a case is open until it reaches a won or lost
    (closed) stage of ``lifecycle``. Without ``events`` the state of the standard
    case lifecycle is derived from the timestamps: closed, else resolved, else
    ``in_progress`` once answered, else ``new`` (so ``waiting_on_customer``
    cannot be seen, and a case reopened after ``resolved_at`` counts as
    resolved); another lifecycle needs ``events``. ``by`` may name ``"state"``
    (that state as of ``as_of``, not the frame's current ``state`` column) and
    any column of ``cases``; the usual queue view is ``by=("state", "priority")``.

    Like every KPI of the package it is one number without ``by`` (the count
    of open cases) and a table with it.

    Args:
        cases: one row per case; not modified.
        as_of: the moment the queue is looked at.
        events: the case event log, to read each case's state as of ``as_of``.
        cases_columns: the columns of ``cases`` (``opened_at``; with
            ``events`` ``case_id``, without it ``first_response_at``,
            ``resolved_at`` and ``closed_at``).
        events_columns: the columns of ``events`` (``kind``, ``entity_id``,
            ``dest``, ``at``).
        lifecycle: the case lifecycle: its kind picks the rows of ``events``, its
            initial state is a case's state before any event, its won and lost
            stages end the backlog.
        by: one row per segment: ``"state"`` and columns of ``cases``.

    Returns:
        The number of open cases (``by=None``), or a DataFrame with the keys,
        ``open_cases``, ``median_age_hours`` and ``max_age_hours`` (elapsed
        time since opening, at ``as_of``), one row per key combination present.

    Raises:
        ValidationError: ``by`` is an empty list (name a segment, or pass ``by=None``).
        MissingColumnError: if a named column is absent.
        DataError: for malformed timestamps or missing segments, a state of
            ``events`` that ``lifecycle`` does not know, or no ``events`` for a
            lifecycle other than the standard one.

    Examples:
        >>> cases = pd.DataFrame({
        ...     "case_id": ["A", "B", "C"],
        ...     "opened_at": pd.to_datetime(["2026-11-23T09:00Z", "2026-11-23T10:00Z",
        ...                                  "2026-11-24T09:00Z"]),
        ...     "first_response_at": pd.to_datetime(["2026-11-23T09:30Z", None, None], utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-11-23T12:00Z", None, None], utc=True),
        ...     "closed_at": pd.NaT,
        ...     "priority": ["high", "low", "low"],
        ... })
        >>> backlog(cases, as_of="2026-11-23T11:00Z", by=("state", "priority"))
                 state priority  open_cases  median_age_hours  max_age_hours
        0  in_progress     high           1               2.0            2.0
        1          new      low           1               1.0            1.0
        >>> backlog(cases, as_of="2026-11-24T12:00Z")
        2
    """
    segments = segment_keys(by)
    moment = utc_timestamp(as_of, name="as_of")
    cols, log_cols = cases_columns, events_columns
    opened_at_col = cols.opened_at
    require_columns(
        cases, [opened_at_col, *[s for s in segments if s != STATE]], frame_name="cases"
    )
    opened = as_utc(cases[opened_at_col], opened_at_col)
    if events is None:
        if lifecycle is not CASE_STATUS:
            raise DataError(
                f"backlog without events= reads the timestamps of the standard case "
                f"lifecycle, not of {lifecycle.name!r}. Hint: pass the case event log "
                "as events=."
            )
        marks = [
            (cols.closed_at, "closed"),
            (cols.resolved_at, "resolved"),
            (cols.first_response_at, "in_progress"),
        ]
        require_columns(cases, [column for column, _ in marks], frame_name="cases")
        if cols.case_id in cases.columns:  # a case counted twice would count twice
            check_unique(cases, [cols.case_id], frame_name="cases")
        status = pd.Series(lifecycle.initial, index=cases.index, dtype=object)
        for column, name in reversed(marks):  # later marks override earlier ones
            reached = (as_utc(cases[column], column, allow_missing=True) <= moment).to_numpy()
            status[reached] = name
    else:
        case_col, entity_col, at_col = cols.case_id, log_cols.entity_id, log_cols.at
        dest_col, kind_col = log_cols.dest, log_cols.kind
        require_columns(cases, [case_col], frame_name="cases")
        check_unique(cases, [case_col], frame_name="cases")
        require_columns(events, [entity_col, at_col, dest_col], frame_name="events")
        kind = lifecycle.kind
        log = events if kind_col not in events else events.loc[equals(events[kind_col], kind)]
        log = stage_rows(log, entity_id=entity_col, kind=kind_col)  # no fields_changed rows
        unknown = sorted(set(log[dest_col].dropna().astype(str)) - set(lifecycle.states))
        if unknown:
            raise DataError.malformed(
                dest_col,
                f"holds states the {lifecycle.name!r} lifecycle does not know: {unknown}",
                hint="pass the lifecycle= the events were recorded with.",
            )
        times = as_utc(log[at_col], at_col)
        log = pd.DataFrame({"id": log[entity_col].to_numpy(), "at": times, "dest": log[dest_col]})
        seen = log.loc[(times <= moment).to_numpy()].sort_values("at", kind="stable")
        last: pd.Series = seen.drop_duplicates("id", keep="last").set_index("id")["dest"]
        status = cases[case_col].map(last).astype(object)  # float NaN when the log is empty
        status = status.where(status.notna(), lifecycle.initial)
    stopped = status.isin(list(stop_states_of(lifecycle))).to_numpy()
    is_open = (opened <= moment).to_numpy() & ~stopped
    age = elapsed(moment, opened, unit_ns=NS_PER_HOUR)  # never wraps, even 1678 to 2261
    if by is None:
        return int(is_open.sum())
    rows = cases.loc[is_open].assign(**{STATE: status[is_open].astype(str)})
    keys = _keys_frame(rows, at_col=opened_at_col, freq=None, by=segments)
    work = pd.DataFrame({"age": age[is_open]}, index=rows.index)
    grouped = pd.concat([keys, work], axis=1).groupby(list(keys.columns), sort=True, observed=True)
    return grouped.agg(
        open_cases=("age", "size"),
        median_age_hours=("age", "median"),
        max_age_hours=("age", "max"),
    ).reset_index()
