"""
Support KPIs over the cases frame: response and resolution times, SLA breach rate.

Times are measured from ``opened_at``; periods (``freq``) bucket cases by the
UTC period they were opened in. With a
:class:`~crmlifecycle.sla.BusinessCalendar` durations are business hours,
otherwise calendar (elapsed) hours. The cases frame is read through a
:class:`~crmlifecycle.schema.CaseColumns` record and the case event log through
an :class:`~crmlifecycle.schema.EventLogColumns` record. The SLA clocks come from
the public API of :mod:`crmlifecycle.sla` (metrics sit above it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal, overload

import numpy as np
import pandas as pd

from crmlifecycle._finite import NS_PER_HOUR, elapsed
from crmlifecycle._frames import as_utc, require_columns
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics._common import segment_keys, segment_names
from crmlifecycle.metrics._satisfaction import _keys_frame, _sum_by
from crmlifecycle.schema import CaseColumns, EventLogColumns
from crmlifecycle.sla import BusinessCalendar, SlaPolicy, sla_status

__all__ = ["first_response_time", "resolution_time", "sla_breach_rate"]

_HOUR_NS: Final = NS_PER_HOUR
_SUMMARY: Final = ["count", "pending", "mean_hours", "median_hours", "p90_hours"]


def _duration_summary(
    cases: pd.DataFrame,
    *,
    start_col: str,
    end_col: str,
    calendar: BusinessCalendar | None,
    freq: str | None,
    by: str | Sequence[str] | None,
) -> pd.DataFrame:
    segments = segment_names(by)
    require_columns(cases, [start_col, end_col, *segments], frame_name="cases")
    start = as_utc(cases[start_col], start_col)
    end = as_utc(cases[end_col], end_col, allow_missing=True)
    negative = (end < start).to_numpy(dtype=bool)  # before the calendar, which refuses them
    if bool(negative.any()):
        raise DataError.malformed(
            end_col,
            f"is before {start_col}",
            rows=list(cases.index[negative][:20]),
            value=end[negative].iloc[0],
            hint="check the two timestamps of those cases.",
        )
    if calendar is None:  # elapsed() never wraps, even from 1678 to 2261
        hours = elapsed(end, start, unit_ns=NS_PER_HOUR)
    else:
        spent = calendar.business_time_between(start, end)
        hours = spent.to_numpy(dtype="timedelta64[ns]").view(np.int64) / _HOUR_NS
        hours = np.where(spent.isna().to_numpy(), np.nan, hours)
    keys = _keys_frame(cases.assign(**{start_col: start}), at_col=start_col, freq=freq, by=segments)
    work = pd.DataFrame(
        {"hours": hours, "pending": np.isnan(hours).astype("int64")}, index=cases.index
    )
    if keys.columns.empty:
        keys = pd.DataFrame({"_all": np.zeros(len(cases), dtype="int64")}, index=cases.index)
    names = list(keys.columns)
    grouped = pd.concat([keys, work], axis=1).groupby(names, sort=True, observed=True)
    table = grouped.agg(
        count=("hours", "count"),
        pending=("pending", "sum"),
        mean_hours=("hours", "mean"),
        median_hours=("hours", "median"),
    ).reset_index()
    table["p90_hours"] = grouped["hours"].quantile(0.9).to_numpy()
    if names == ["_all"]:
        table = table.drop(columns="_all")
        if table.empty:  # no cases at all: one row of zero counts, undefined statistics
            table = pd.DataFrame([[0, 0, math.nan, math.nan, math.nan]], columns=_SUMMARY)
    table["count"] = table["count"].astype("int64")
    table["pending"] = table["pending"].astype("int64")
    return table


def first_response_time(
    cases: pd.DataFrame,
    *,
    cases_columns: CaseColumns = CaseColumns(),
    calendar: BusinessCalendar | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Time to first response: count, mean, median and 90th percentile, in hours.

    Definition: first response time = first response timestamp - case
    opening timestamp, per case; the summary covers the cases that have a
    response (``count``); cases still waiting for one are counted in
    ``pending`` and left out of the statistics (they would bias them down).
    The 90th percentile interpolates linearly between answers (pandas'
    default). With ``calendar``, durations are business hours on it (e.g.
    a case opened on Friday at 16:00 and answered on Monday at 10:00 took 2
    business hours on a 09:00-17:00 calendar), otherwise elapsed hours.
    The columns ``opened_at`` and ``first_response_at`` (and the ``by``
    columns) are read through ``cases_columns``.

    Args:
        cases: one row per case; not modified.
        cases_columns: the columns of ``cases`` (``opened_at`` and ``first_response_at`` are
            read; a missing response means the case is pending).
        calendar: measure business hours on this calendar (``None``: elapsed hours).
        freq: one row per calendar period (``"M"``, ``"W"``, ...) of opening.
        by: one row per segment (columns of ``cases``, e.g. ``"priority"``).

    Returns:
        A DataFrame: the key columns (``period`` of opening, then ``by``), if
        any, then ``count``, ``pending``, ``mean_hours``, ``median_hours``,
        ``p90_hours`` (NaN where ``count`` is 0: undefined). Without
        ``freq``/``by`` it has one row.

    Raises:
        MissingColumnError: if a named column is absent.
        DataError: for malformed timestamps, a response before the opening, or
            missing segments.

    Examples:
        >>> cases = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-11-20T16:00Z", "2026-11-23T09:00Z",
        ...                                  "2026-11-23T10:00Z"]),
        ...     "first_response_at": pd.to_datetime(["2026-11-23T10:00Z", "2026-11-23T10:30Z",
        ...                                          None], utc=True),
        ... })
        >>> first_response_time(cases)  # 66 h and 1.5 h of elapsed time
           count  pending  mean_hours  median_hours  p90_hours
        0      2        1       33.75         33.75     59.55
        >>> from crmlifecycle.sla import BusinessCalendar
        >>> first_response_time(cases, calendar=BusinessCalendar())  # 2 h and 1.5 h of work
           count  pending  mean_hours  median_hours  p90_hours
        0      2        1        1.75          1.75       1.95
    """
    return _duration_summary(
        cases,
        start_col=cases_columns.opened_at,
        end_col=cases_columns.first_response_at,
        calendar=calendar,
        freq=freq,
        by=by,
    )


def resolution_time(
    cases: pd.DataFrame,
    *,
    cases_columns: CaseColumns = CaseColumns(),
    calendar: BusinessCalendar | None = None,
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """
    Time to resolution: count, mean, median and 90th percentile, in hours.

    Definition: resolution time = resolution timestamp - opening timestamp,
    per resolved case (unresolved cases are ``pending``), in elapsed or, with
    ``calendar``, business hours. This is the *gross* time the customer
    waited: unlike the SLA resolution clock it does not leave out the time
    the case waited on the customer (use :func:`crmlifecycle.sla.sla_status`
    and its ``resolution_elapsed`` for that). The columns ``opened_at`` and
    ``resolved_at`` (and the ``by`` columns) are read through ``cases_columns``.

    Args:
        cases: one row per case; not modified.
        cases_columns: the columns of ``cases`` (``opened_at`` and ``resolved_at`` are read;
            a missing resolution means the case is pending).
        calendar: measure business hours on this calendar (``None``: elapsed hours).
        freq: one row per calendar period (``"M"``, ``"W"``, ...) of opening.
        by: one row per segment (columns of ``cases``, e.g. ``"priority"``).

    Returns:
        The same summary frame as :func:`first_response_time`.

    Raises:
        MissingColumnError: if a named column is absent.
        DataError: for malformed timestamps, a resolution before the opening,
            or missing segments.

    Examples:
        >>> cases = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-11-02T09:00Z", "2026-11-03T09:00Z"]),
        ...     "resolved_at": pd.to_datetime(["2026-11-02T13:00Z", "2026-11-05T09:00Z"]),
        ...     "priority": ["high", "low"],
        ... })
        >>> resolution_time(cases, by="priority")[["priority", "count", "mean_hours"]]
          priority  count  mean_hours
        0     high      1         4.0
        1      low      1        48.0
    """
    return _duration_summary(
        cases,
        start_col=cases_columns.opened_at,
        end_col=cases_columns.resolved_at,
        calendar=calendar,
        freq=freq,
        by=by,
    )


@overload
def sla_breach_rate(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = ...,
    events_columns: EventLogColumns = ...,
    kind: str | None = None,
    target: Literal["first_response", "resolution", "any"] = "resolution",
    freq: None = None,
    by: None = None,
) -> float: ...
@overload
def sla_breach_rate(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = ...,
    events_columns: EventLogColumns = ...,
    kind: str | None = None,
    target: Literal["first_response", "resolution", "any"] = "resolution",
    freq: str,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame: ...
@overload
def sla_breach_rate(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = ...,
    events_columns: EventLogColumns = ...,
    kind: str | None = None,
    target: Literal["first_response", "resolution", "any"] = "resolution",
    freq: str | None = None,
    by: str | Sequence[str],
) -> pd.DataFrame: ...
def sla_breach_rate(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = CaseColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
    kind: str | None = None,
    target: Literal["first_response", "resolution", "any"] = "resolution",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Share of cases whose SLA target was breached, among those whose outcome is known at ``as_of``.

    Each case opened by ``as_of`` is evaluated by the SLA engine
    (:func:`crmlifecycle.sla.sla_status`, with the clocks paused while waiting
    on the customer when ``events`` is given). A case counts as *breached*
    once its clock is breached (even if still open), as *met* once its clock
    stopped within target, and as *pending* while still within target (it may
    yet breach, so it is left out of the rate). Cases whose priority has no
    target for ``target`` are left out. ``target="any"``: breached if either
    clock is, met when every clock with a target is met.
    Rate = breached / (breached + met), a fraction from 0 to 1.

    Args:
        cases: one row per case; not modified.
        policy: the per-priority targets and their business calendar.
        as_of: the moment the SLA clocks are read at.
        events: the case event log (state changes), to pause the clocks
            while a case waits on the customer; without it the resolution
            clock stops at ``resolved_at``.
        cases_columns: the columns of ``cases`` (``case_id``, ``opened_at``,
            ``priority``, ``first_response_at``, and without ``events``
            ``resolved_at``; a column you do not record may hold ``NaT``).
        events_columns: the columns of ``events`` (``kind``, ``entity_id``,
            ``dest``, ``at``).
        kind: the ``kind`` of the case rows of ``events`` (default: the kind of the
            policy's lifecycle).
        target: the clock that counts: ``"first_response"``,
            ``"resolution"`` or ``"any"``.
        freq: one row per calendar period of opening.
        by: one row per segment (columns of ``cases``).

    Returns:
        A float, or with ``freq`` (period of opening) and/or ``by`` (columns of
        ``cases``) a DataFrame with the keys, ``breach_rate``, ``breached``,
        ``met`` and ``pending``. NaN where no outcome is known yet (undefined).

    Raises:
        ValidationError: for an unknown ``target``, or an empty ``by`` list (name
            a segment, or pass ``by=None``).
        MissingColumnError, DataError: as :func:`crmlifecycle.sla.sla_status`.

    Examples:
        >>> from crmlifecycle.sla import SlaPolicy
        >>> policy = SlaPolicy(targets={"normal": {"first_response": "4h"}})
        >>> cases = pd.DataFrame({
        ...     "case_id": ["C1", "C2", "C3"],
        ...     "opened_at": pd.to_datetime(["2026-11-23T09:00Z"] * 3),
        ...     "priority": "normal",
        ...     "first_response_at": pd.to_datetime(["2026-11-23T10:00Z", "2026-11-23T15:00Z",
        ...                                          None], utc=True),
        ...     "resolved_at": pd.NaT,
        ... })
        >>> # C1 met, C2 late (due 13:00), C3 late and open
        >>> sla_breach_rate(cases, policy, as_of="2026-11-23T16:00Z", target="first_response")
        0.666666...
    """
    clocks = {"first_response": ["first_response"], "resolution": ["resolution"]}
    clocks["any"] = clocks["first_response"] + clocks["resolution"]
    if target not in clocks:
        raise ValidationError.for_field("target", target, f"one of {sorted(clocks)}")
    segments = segment_keys(by)
    require_columns(cases, segments, frame_name="cases")
    status = sla_status(
        cases,
        policy,
        as_of=as_of,
        events=events,
        cases_columns=cases_columns,
        events_columns=events_columns,
        kind=kind,
    )
    parts = [status[f"{clock}_status"].to_numpy(dtype=object) for clock in clocks[target]]
    breached = np.any([p == "breached" for p in parts], axis=0)
    pending = ~breached & np.any([np.isin(p, ["running", "paused"]) for p in parts], axis=0)
    met = ~breached & ~pending & np.any([p == "met" for p in parts], axis=0)
    counted = breached | pending | met
    work = pd.DataFrame(
        {
            "breached": breached.astype("int64"),
            "met": met.astype("int64"),
            "pending": pending.astype("int64"),
        },
        index=cases.index,
    ).loc[counted]
    if by is None and freq is None:
        decided = int(work["breached"].sum() + work["met"].sum())
        return math.nan if decided == 0 else float(work["breached"].sum()) / decided
    opened_at = cases_columns.opened_at
    rows = cases.loc[counted].assign(**{opened_at: as_utc(cases[opened_at], opened_at)})
    keys = _keys_frame(rows, at_col=opened_at, freq=freq, by=segments)
    table = _sum_by(keys, work)
    decided_counts = (table["breached"] + table["met"]).astype("float64")
    rate = table["breached"].astype("float64").div(decided_counts.where(decided_counts > 0))
    table.insert(len(keys.columns), "breach_rate", rate)
    return table
