"""
The SLA engine over a frame of cases: the same answers as :func:`case_sla`, vectorised.

Each case's status history becomes a run of segments (opening, then one per
status change, the last one ending at ``as_of``, the moment looked from). The
business time of every segment is a difference of two ``searchsorted`` lookups in the calendar's
interval table; per-case totals and running totals come from
``numpy.add.reduceat`` and ``cumsum`` over the sorted segments; the crossing of a
target is found by comparing those running totals with the target. No Python
loop runs per case.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._event_rows import stage_rows
from crmlifecycle._frames import as_utc, equals, require_columns, utc_nanoseconds, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import DataError, did_you_mean
from crmlifecycle.schema import CaseColumns, EventLogColumns
from crmlifecycle.sla._calendar import I64, NAT, BusinessCalendar, business_ns
from crmlifecycle.sla._policy import SlaPolicy, check_log_states

__all__ = ["SLA_COLUMNS", "sla_status"]

#: The columns :func:`sla_status` returns, in order.
SLA_COLUMNS: Final = (
    "state",
    "first_response_due",
    "first_response_elapsed",
    "first_response_left",
    "first_response_breached",
    "first_response_status",
    "resolution_due",
    "resolution_elapsed",
    "resolution_left",
    "resolution_breached",
    "resolution_status",
)

_RUNNING, _PAUSED, _STOPPED = 0, 1, 2
Bools = npt.NDArray[np.bool_]


def _bad_rows(index: pd.Index, mask: Bools) -> list[object]:
    return list(index[mask][:20])


def _targets(cases: pd.DataFrame, policy: SlaPolicy, priority_col: str) -> tuple[I64, I64]:
    codes, uniques = pd.factorize(cases[priority_col])
    missing = codes < 0
    if bool(missing.any()):
        raise DataError.malformed(
            priority_col,
            "has missing priorities",
            rows=_bad_rows(cases.index, missing),
            hint="fill them, e.g. with 'normal', before asking for SLAs.",
        )
    names = [str(u) for u in uniques]
    known = list(policy.targets)
    unknown = sorted(set(names) - set(known))
    if unknown:
        bad = ~np.isin(np.asarray(names, dtype=object)[codes], known)
        raise DataError.malformed(
            priority_col,
            f"has priorities the SLA policy does not list ({unknown}; it lists {known})"
            f"{did_you_mean(unknown[0], known)}",
            rows=_bad_rows(cases.index, bad),
            value=unknown[0],
            hint="add them to the policy's targets (a priority with no targets, e.g. "
            "low: {}, has no SLA) or map them.",
        )

    def ns(value: pd.Timedelta | None) -> int:
        return -1 if value is None else int(value.value)

    first = np.array([ns(policy.targets[p].first_response) for p in names], dtype=np.int64)
    resolution = np.array([ns(policy.targets[p].resolution) for p in names], dtype=np.int64)
    return first[codes], resolution[codes]


@attrs.frozen
class _Timeline:
    """Status segments of the opened cases, sorted by case then time."""

    pos: I64  # row position of the case in the cases frame
    start: I64
    end: I64
    category: I64  # _RUNNING, _PAUSED or _STOPPED
    state: I64  # code into `names`
    names: npt.NDArray[np.object_]
    group_starts: I64
    group_ends: I64


def _events_points(
    events: pd.DataFrame,
    cases: pd.DataFrame,
    opened: I64,
    as_of_ns: int,
    *,
    case_col: str,
    entity_col: str,
    at_col: str,
    dest_col: str,
    kind_col: str,
    kind: str | None,
    policy: SlaPolicy,
) -> tuple[I64, I64, I64, list[str]]:
    require_columns(cases, [case_col], frame_name="cases")
    require_columns(events, [entity_col, at_col, dest_col], frame_name="events")
    ids = _unique_ids(cases, case_col)
    if kind is not None and kind_col in events.columns:
        events = events.loc[equals(events[kind_col], kind)]
    events = stage_rows(events, entity_id=entity_col, kind=kind_col)  # no fields_changed rows
    pos = ids.get_indexer(events[entity_col])
    mine = pos >= 0
    events, pos = events.loc[mine], pos[mine].astype(np.int64)
    times = utc_nanoseconds(as_utc(events[at_col], at_col))
    dest = events[dest_col]
    if bool(dest.isna().any()):
        raise DataError.malformed(
            dest_col,
            "has missing states",
            rows=_bad_rows(events.index, dest.isna().to_numpy()),
            hint="every status change needs its destination state.",
        )
    early = times < opened[pos]
    if bool(early.any()):
        raise DataError.malformed(
            at_col,
            f"has status changes before their case's {case_col} was opened",
            rows=_bad_rows(events.index, early),
            hint="check the cases' opened_at and the event log's timestamps.",
        )
    keep = times <= as_of_ns
    codes, uniques = pd.factorize(dest)
    check_log_states(policy, uniques, dest_col)
    return pos[keep], times[keep], codes[keep].astype(np.int64), [str(u) for u in uniques]


def _timeline(
    policy: SlaPolicy,
    opened: I64,
    as_of_ns: int,
    *,
    pos: I64,
    times: I64,
    codes: I64,
    names: list[str],
) -> _Timeline:
    alive = np.flatnonzero(opened <= as_of_ns).astype(np.int64)
    all_names = np.array([*names, policy.initial_state], dtype=object)
    all_pos = np.concatenate([alive, pos])
    all_t = np.concatenate([opened[alive], times])
    all_state = np.concatenate([np.full(alive.size, len(names), dtype=np.int64), codes])
    order = np.lexsort((np.arange(all_pos.size), all_t, all_pos))
    all_pos, all_t, all_state = all_pos[order], all_t[order], all_state[order]
    same_next = np.append(all_pos[1:] == all_pos[:-1], False)
    end = np.where(same_next, np.append(all_t[1:], as_of_ns), as_of_ns)
    category_of = np.array(
        [
            _PAUSED
            if name in policy.pause_states
            else _STOPPED
            if name in policy.stop_states
            else _RUNNING
            for name in all_names  # one entry per distinct state name
        ],
        dtype=np.int64,
    )
    category = category_of[all_state]
    first = (
        np.flatnonzero(np.insert(all_pos[1:] != all_pos[:-1], 0, True)) if all_pos.size else alive
    )
    last = np.append(first[1:] - 1, all_pos.size - 1) if all_pos.size else alive
    return _Timeline(
        pos=all_pos,
        start=all_t,
        end=end,
        category=category,
        state=all_state,
        names=all_names,
        group_starts=first.astype(np.int64),
        group_ends=last.astype(np.int64),
    )


def _clock(
    calendar: BusinessCalendar,
    line: _Timeline,
    *,
    target: I64,
    responded: I64,
    n: int,
    as_of_ns: int,
) -> dict[str, npt.NDArray[np.generic]]:
    """Elapsed, left, due, breached and status of one clock, per case (length ``n``)."""
    cut = responded[line.pos]
    has_cut = cut != NAT
    end = np.where(has_cut, np.minimum(line.end, cut), line.end)
    start = np.minimum(line.start, end)
    running = (line.category == _RUNNING) & (end > start)
    length = np.zeros(line.pos.size, dtype=np.int64)
    length[running] = calendar.business_ns_between(start[running], end[running])
    elapsed = np.zeros(n, dtype=np.int64)
    opened = line.pos[line.group_starts]
    if line.group_starts.size:  # unsigned: a case's total never wraps; past int64 it is refused
        totals_ns = np.add.reduceat(length.astype(np.uint64), line.group_starts)
        elapsed[opened] = business_ns(
            totals_ns, line.start[line.group_starts], line.end[line.group_ends]
        )
    sizes = np.diff(np.append(line.group_starts, line.pos.size))
    unsigned = length.astype(np.uint64)  # sums over all cases: modulo 2**64, differences exact
    totals = np.cumsum(unsigned)
    offset = np.repeat(totals[line.group_starts] - unsigned[line.group_starts], sizes)
    before = (totals - unsigned - offset).astype(np.int64)  # at most the case's elapsed
    goal = target[line.pos]
    cross = (goal > 0) & (length > 0) & (before < goal) & (goal <= before + length)
    due = np.full(n, NAT, dtype=np.int64)
    due[line.pos[cross]] = calendar.add_business_ns(start[cross], goal[cross] - before[cross])

    alive = np.zeros(n, dtype=bool)
    alive[opened] = True
    last_category = np.full(n, _RUNNING, dtype=np.int64)
    last_category[opened] = line.category[line.group_ends]
    last_start = np.full(n, NAT, dtype=np.int64)
    last_start[opened] = line.start[line.group_ends]

    has_target = target > 0
    responded_now = (responded != NAT) & (responded <= as_of_ns)
    by_state = alive & (last_category == _STOPPED)
    stopped = responded_now | by_state
    stop_at = np.where(
        responded_now & by_state,
        np.minimum(responded, last_start),
        np.where(responded_now, responded, last_start),
    )
    paused = last_category == _PAUSED
    project = alive & has_target & ~stopped & ~paused & (due == NAT)
    if bool(project.any()):
        due[project] = calendar.add_business_ns(
            np.full(int(project.sum()), as_of_ns, dtype=np.int64),
            target[project] - elapsed[project],
        )
    due[~(alive & has_target)] = NAT
    elapsed[~has_target] = 0
    breached = (due != NAT) & (due < np.where(stopped, stop_at, as_of_ns))
    status = np.select(
        [~has_target, ~alive, breached, stopped, paused],
        ["none", "not_opened", "breached", "met", "paused"],
        default="running",
    ).astype(object)
    left = np.where(has_target, target - elapsed, NAT)
    return {"due": due, "elapsed": elapsed, "left": left, "breached": breached, "status": status}


def _unique_ids(cases: pd.DataFrame, case_col: str) -> Any:
    """The case ids (a ``pd.Index``), refused when one is repeated (a case counted twice)."""
    ids = pd.Index(cases[case_col])
    if ids.has_duplicates:
        dup = np.asarray(ids.duplicated())
        raise DataError.malformed(
            case_col,
            "has duplicated case ids",
            rows=_bad_rows(cases.index, dup),
            value=ids[dup][0],
            hint="keep one row per case.",
        )
    return ids


def sla_status(
    cases: pd.DataFrame,
    policy: SlaPolicy,
    *,
    as_of: Instant,
    events: pd.DataFrame | None = None,
    cases_columns: CaseColumns = CaseColumns(),
    events_columns: EventLogColumns = EventLogColumns(),
    kind: str | None = None,
) -> pd.DataFrame:
    """
    SLA state of every case as of the moment ``as_of``: due times, time left, breach.

    The vectorised form of :func:`case_sla`, row for row the same answers.
    ``events`` is the case event log (rows of another ``kind`` are ignored, as
    are events of cases not in ``cases``). Without ``events`` the clocks never
    pause and the resolution clock stops at the cases' ``resolved_at``. A
    missing ``first_response_at`` value means no response yet (a frame without
    response times holds a column of ``NaT``).

    Args:
        cases: one row per case: ``case_id``, ``opened_at``, ``priority``,
            ``first_response_at`` and, without ``events``, ``resolved_at``.
        policy: the targets, calendar and pause/stop states.
        as_of: the moment the clocks are read from.
        events: the case event log (``kind``, ``entity_id``, ``dest``, ``at``), or ``None``;
            the event-log frame of :func:`~crmlifecycle.stages.events_to_frame` reads
            as is (its ``fields_changed`` rows are skipped).
        cases_columns: which columns of ``cases`` hold the case fields.
        events_columns: which columns of ``events`` hold the event-log fields.
        kind: the ``kind`` of the case rows of ``events`` (default: the kind of the
            policy's lifecycle, ``case`` for the standard one).

    Returns:
        A DataFrame on the index of ``cases`` with the columns of
        :data:`SLA_COLUMNS`: ``state`` (at ``as_of``; ``""`` if not yet opened),
        and per clock (``first_response_*``, ``resolution_*``) ``due`` (UTC,
        ``NaT`` when paused, stopped short of the target, or no target),
        ``elapsed`` and ``left`` (business time; ``left`` is negative once
        over, ``NaT`` without a target), ``breached`` (bool) and ``status``
        (one of :data:`CLOCK_STATUSES`).

    Raises:
        ValidationError: ``policy`` is not an :class:`SlaPolicy`.
        MissingColumnError: if a named column is absent.
        DataError: for malformed timestamps, missing or unlisted priorities,
            duplicated case ids, status changes before a case's opening, or
            states the policy's lifecycle does not know.

    Examples:
        >>> from crmlifecycle.sla import BusinessCalendar, SlaPolicy
        >>> policy = SlaPolicy(targets={"normal": {"first_response": "4h"}},
        ...                    calendar=BusinessCalendar(hours={"mon-fri": "09:00-17:00"}))
        >>> cases = pd.DataFrame({
        ...     "case_id": ["C1", "C2"],
        ...     "opened_at": pd.to_datetime(["2026-11-20T16:00Z", "2026-11-23T09:00Z"]),
        ...     "priority": ["normal", "normal"],
        ...     "first_response_at": pd.to_datetime([None, "2026-11-23T14:00Z"], utc=True),
        ...     "resolved_at": pd.NaT,
        ... })
        >>> out = sla_status(cases, policy, as_of="2026-11-23T15:00Z")
        >>> out[["first_response_due", "first_response_status"]]
                 first_response_due first_response_status
        0 2026-11-23 12:00:00+00:00              breached
        1 2026-11-23 13:00:00+00:00              breached
    """
    check_arg("policy", policy, SlaPolicy, "an SlaPolicy")
    check_arg("cases_columns", cases_columns, CaseColumns, "a CaseColumns(...) record")
    check_arg("events_columns", events_columns, EventLogColumns, "an EventLogColumns(...) record")
    cols = cases_columns
    opened_at_col, priority_col = cols.opened_at, cols.priority
    first_response_at_col, resolved_at_col = cols.first_response_at, cols.resolved_at
    columns = [opened_at_col, priority_col, first_response_at_col]
    columns += [resolved_at_col] if events is None else []
    require_columns(cases, columns, frame_name="cases")
    if cols.case_id in cases.columns:  # a case counted twice would count twice in every KPI
        _unique_ids(cases, cols.case_id)
    n = len(cases)
    as_of_ns = int(utc_timestamp(as_of, name="as_of").as_unit("ns").value)
    opened = utc_nanoseconds(as_utc(cases[opened_at_col], opened_at_col))
    first_target, resolution_target = _targets(cases, policy, priority_col)
    responded = utc_nanoseconds(
        as_utc(cases[first_response_at_col], first_response_at_col, allow_missing=True)
    )
    early = (responded != NAT) & (responded < opened)
    if bool(early.any()):
        raise DataError.malformed(
            first_response_at_col,
            f"is before {opened_at_col}",
            rows=_bad_rows(cases.index, early),
            hint="check the two timestamps of those cases.",
        )
    if events is not None:
        pos, times, codes, names = _events_points(
            events,
            cases,
            opened,
            as_of_ns,
            case_col=cols.case_id,
            entity_col=events_columns.entity_id,
            at_col=events_columns.at,
            dest_col=events_columns.dest,
            kind_col=events_columns.kind,
            kind=policy.lifecycle.kind if kind is None else kind,
            policy=policy,
        )
    else:
        resolved = utc_nanoseconds(
            as_utc(cases[resolved_at_col], resolved_at_col, allow_missing=True)
        )
        early = (resolved != NAT) & (resolved < opened)
        if bool(early.any()):
            raise DataError.malformed(
                resolved_at_col,
                f"is before {opened_at_col}",
                rows=_bad_rows(cases.index, early),
                hint="check the two timestamps of those cases.",
            )
        done = np.flatnonzero((resolved != NAT) & (resolved <= as_of_ns)).astype(np.int64)
        pos, times = done, resolved[done]
        codes, names = np.zeros(done.size, dtype=np.int64), [policy.stop_states[0]]
    line = _timeline(policy, opened, as_of_ns, pos=pos, times=times, codes=codes, names=names)
    state = np.full(n, "", dtype=object)
    state[line.pos[line.group_ends]] = line.names[line.state[line.group_ends]]
    calendar = policy.calendar
    first = _clock(calendar, line, target=first_target, responded=responded, n=n, as_of_ns=as_of_ns)
    never = np.full(n, NAT, dtype=np.int64)
    resolution = _clock(
        calendar, line, target=resolution_target, responded=never, n=n, as_of_ns=as_of_ns
    )
    data: dict[str, object] = {"state": pd.Series(state, index=cases.index).astype(str)}
    for name, clock in (("first_response", first), ("resolution", resolution)):
        due = pd.Series(clock["due"].view("datetime64[ns]"), index=cases.index)
        data[f"{name}_due"] = due.dt.tz_localize("UTC")
        data[f"{name}_elapsed"] = clock["elapsed"].view("timedelta64[ns]")
        data[f"{name}_left"] = clock["left"].view("timedelta64[ns]")
        data[f"{name}_breached"] = clock["breached"].astype(bool)
        data[f"{name}_status"] = pd.Series(clock["status"], index=cases.index).astype(str)
    return pd.DataFrame(data, index=cases.index, columns=list(SLA_COLUMNS))
