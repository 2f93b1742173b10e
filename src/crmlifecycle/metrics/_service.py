"""
Support KPIs over the cases frame: response and resolution times, SLA breach rate, backlog.

Times are measured from ``opened_at``; periods (``freq``) bucket cases by the
UTC period they were opened in. With a
:class:`~crmlifecycle.sla.BusinessCalendar` durations are business hours,
otherwise calendar (elapsed) hours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_sequence, as_utc, require_columns, utc_timestamp
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics._satisfaction import _keys_frame, _sum_by
from crmlifecycle.schema import CaseColumns
from crmlifecycle.sla import DEFAULT_STOP_STATES, BusinessCalendar, SlaPolicy, sla_status

__all__ = ["backlog", "first_response_time", "resolution_time", "sla_breach_rate"]

_HOUR_NS: Final = 3_600 * 10**9
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
    segments = as_sequence(by)
    require_columns(cases, [start_col, end_col, *segments], frame_name="cases")
    start = as_utc(cases[start_col], start_col)
    end = as_utc(cases[end_col], end_col, allow_missing=True)
    spent = end - start if calendar is None else calendar.business_time_between(start, end)
    negative = (spent < pd.Timedelta(0)).to_numpy()
    if bool(negative.any()):
        raise DataError.malformed(
            end_col,
            f"is before {start_col}",
            rows=list(cases.index[negative][:20]),
            value=end[negative].iloc[0],
            hint="check the two timestamps of those cases.",
        )
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
    opened_at_col: str = "opened_at",
    first_response_at_col: str = "first_response_at",
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
        start_col=opened_at_col,
        end_col=first_response_at_col,
        calendar=calendar,
        freq=freq,
        by=by,
    )


def resolution_time(
    cases: pd.DataFrame,
    *,
    opened_at_col: str = "opened_at",
    resolved_at_col: str = "resolved_at",
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
    and its ``resolution_elapsed`` for that).

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
        start_col=opened_at_col,
        end_col=resolved_at_col,
        calendar=calendar,
        freq=freq,
        by=by,
    )


def sla_breach_rate(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    at: object,
    events: pd.DataFrame | None = None,
    target: Literal["first_response", "resolution", "any"] = "resolution",
    case_col: str = "case_id",
    opened_at_col: str = "opened_at",
    priority_col: str = "priority",
    first_response_at_col: str | None = "first_response_at",
    resolved_at_col: str | None = "resolved_at",
    freq: str | None = None,
    by: str | Sequence[str] | None = None,
) -> float | pd.DataFrame:
    """
    Share of cases whose SLA target was breached, among those whose outcome is known at ``at``.

    Each case opened by ``at`` is evaluated by the SLA engine
    (:func:`crmlifecycle.sla.sla_status`, with the clocks paused while waiting
    on the customer when ``events`` is given). A case counts as *breached*
    once its clock is breached (even if still open), as *met* once its clock
    stopped within target, and as *pending* while still within target (it may
    yet breach, so it is left out of the rate). Cases whose priority has no
    target for ``target`` are left out. ``target="any"``: breached if either
    clock is, met when every clock with a target is met.
    Rate = breached / (breached + met), a fraction from 0 to 1.

    Returns:
        A float, or with ``freq`` (period of opening) and/or ``by`` (columns of
        ``cases``) a DataFrame with the keys, ``breach_rate``, ``breached``,
        ``met`` and ``pending``. NaN where no outcome is known yet (undefined).

    Raises:
        ValidationError: for an unknown ``target``.
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
        ... })
        >>> sla_breach_rate(cases, policy, at="2026-11-23T16:00Z", target="first_response",
        ...                 resolved_at_col=None)  # C1 met, C2 late (due 13:00), C3 late and open
        0.666666...
    """
    clocks = {"first_response": ["first_response"], "resolution": ["resolution"]}
    clocks["any"] = clocks["first_response"] + clocks["resolution"]
    if target not in clocks:
        raise ValidationError.for_field("target", target, f"one of {sorted(clocks)}")
    segments = as_sequence(by)
    require_columns(cases, segments, frame_name="cases")
    unread = {"first_response_at": first_response_at_col, "resolved_at": resolved_at_col}
    status = sla_status(
        cases.assign(
            **{n: pd.Series(pd.NaT, index=cases.index) for n, c in unread.items() if c is None}
        ),
        policy,
        as_of=at,  # type: ignore[arg-type]
        events=events,
        cases_columns=CaseColumns(
            case_id=case_col,
            opened_at=opened_at_col,
            priority=priority_col,
            first_response_at=first_response_at_col or "first_response_at",
            resolved_at=resolved_at_col or "resolved_at",
        ),
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
    if not segments and freq is None:
        decided = int(work["breached"].sum() + work["met"].sum())
        return math.nan if decided == 0 else float(work["breached"].sum()) / decided
    rows = cases.loc[counted].assign(**{opened_at_col: as_utc(cases[opened_at_col], opened_at_col)})
    keys = _keys_frame(rows, at_col=opened_at_col, freq=freq, by=segments)
    table = _sum_by(keys, work)
    decided_counts = (table["breached"] + table["met"]).astype("float64")
    rate = table["breached"].astype("float64").div(decided_counts.where(decided_counts > 0))
    table.insert(len(keys.columns), "breach_rate", rate)
    return table


def backlog(
    cases: pd.DataFrame,
    *,
    at: object,
    events: pd.DataFrame | None = None,
    case_col: str = "case_id",
    opened_at_col: str = "opened_at",
    first_response_at_col: str = "first_response_at",
    resolved_at_col: str = "resolved_at",
    closed_at_col: str = "closed_at",
    entity_col: str = "entity_id",
    at_col: str = "at",
    dest_col: str = "dest",
    kind_col: str = "kind",
    kind: str | None = "case",
    stop_states: Sequence[str] = DEFAULT_STOP_STATES,
    by: str | Sequence[str] | None = ("status", "priority"),
) -> int | pd.DataFrame:
    """
    Open cases as of ``at`` (opened by then and not resolved or closed), by status and priority.

    The status as of ``at`` is the destination of the case's last status
    change at or before ``at`` in ``events`` (``"new"`` if none). Without
    ``events`` it is derived from the timestamps: closed, else resolved, else
    ``in_progress`` once answered, else ``new`` (so ``waiting_on_customer``
    cannot be seen, and a case reopened after ``resolved_at`` counts as
    resolved). ``by`` may name ``"status"`` (that status as of ``at``, not
    the frame's current ``status`` column) and any column of ``cases``.

    Returns:
        The number of open cases (``by=None``), or a DataFrame with the keys,
        ``open_cases``, ``median_age_hours`` and ``max_age_hours`` (elapsed
        time since opening, at ``at``), one row per key combination present.

    Raises:
        MissingColumnError: if a named column is absent.
        DataError: for malformed timestamps or missing segments.

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
        >>> backlog(cases, at="2026-11-23T11:00Z")
                status priority  open_cases  median_age_hours  max_age_hours
        0  in_progress     high           1               2.0            2.0
        1          new      low           1               1.0            1.0
        >>> backlog(cases, at="2026-11-24T12:00Z", by=None)
        2
    """
    segments = as_sequence(by)
    moment = utc_timestamp(at, name="at")
    require_columns(
        cases, [opened_at_col, *[s for s in segments if s != "status"]], frame_name="cases"
    )
    opened = as_utc(cases[opened_at_col], opened_at_col)
    if events is None:
        require_columns(
            cases, [first_response_at_col, resolved_at_col, closed_at_col], frame_name="cases"
        )
        marks = [
            (closed_at_col, "closed"),
            (resolved_at_col, "resolved"),
            (first_response_at_col, "in_progress"),
        ]
        status = pd.Series("new", index=cases.index, dtype=object)
        for column, name in reversed(marks):  # later marks override earlier ones
            reached = (as_utc(cases[column], column, allow_missing=True) <= moment).to_numpy()
            status[reached] = name
    else:
        require_columns(cases, [case_col], frame_name="cases")
        require_columns(events, [entity_col, at_col, dest_col], frame_name="events")
        log = events if kind is None or kind_col not in events else events[events[kind_col] == kind]
        times = as_utc(log[at_col], at_col)
        log = pd.DataFrame({"id": log[entity_col].to_numpy(), "at": times, "dest": log[dest_col]})
        seen = log.loc[(times <= moment).to_numpy()].sort_values("at", kind="stable")
        last: pd.Series = seen.drop_duplicates("id", keep="last").set_index("id")["dest"]
        status = cases[case_col].map(last).fillna("new").astype(object)
    is_open = (opened <= moment).to_numpy() & ~status.isin(list(stop_states)).to_numpy()
    age = (moment - opened).to_numpy(dtype="timedelta64[ns]").view(np.int64) / _HOUR_NS
    if not segments:
        return int(is_open.sum())
    rows = cases.loc[is_open].assign(status=status[is_open].astype(str))
    keys = _keys_frame(rows, at_col=opened_at_col, freq=None, by=segments)
    work = pd.DataFrame({"age": age[is_open]}, index=rows.index)
    grouped = pd.concat([keys, work], axis=1).groupby(list(keys.columns), sort=True, observed=True)
    return grouped.agg(
        open_cases=("age", "size"),
        median_age_hours=("age", "median"),
        max_age_hours=("age", "max"),
    ).reset_index()
