"""
The SLA of one support case as of a given moment, from its status history.

This is the readable reference form of the engine (a walk over the case's
status segments); :func:`crmlifecycle.sla.sla_status` computes the same
answers for a whole frame of cases with array arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, final

import attrs
import pandas as pd

from crmlifecycle._event_rows import EVENT_TAG, STAGE_EVENTS, stage_rows
from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import DataError
from crmlifecycle.events import Created, FieldsChanged
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.sla._calendar import I64_MAX, too_much_business_time
from crmlifecycle.sla._policy import SlaPolicy, check_log_states

__all__ = ["CLOCK_STATUSES", "CaseSla", "SlaClock", "case_sla"]

#: What an SLA clock can report: no target for the priority, the case not yet
#: opened at the moment looked from, the clock running or paused within target, the
#: target met (clock stopped in time) or breached.
CLOCK_STATUSES: Final = ("none", "not_opened", "running", "paused", "met", "breached")


@final
@attrs.frozen(kw_only=True)
class SlaClock:
    """
    One SLA clock (first response or resolution) of one case at one moment.

    Attributes:
        target: the business-time target (``None``: the priority has none).
        elapsed: business time counted so far (paused and stopped time excluded).
        left: ``target - elapsed`` (negative once over; ``None`` without a target).
        due: when the target is or was reached: the crossing instant if it
            lies in the past, else the projection from ``as_of`` if the clock is
            running; ``None`` when paused or stopped short of it.
        breached: the due instant passed before the clock stopped (or before
            ``as_of``, if still open).
        status: one of :data:`CLOCK_STATUSES`.

    Examples:
        >>> SlaClock(target=None, elapsed=pd.Timedelta(0), left=None, due=None,
        ...          breached=False, status="none").status
        'none'

    .. versionadded:: 0.1
    """

    target: pd.Timedelta | None
    elapsed: pd.Timedelta
    left: pd.Timedelta | None
    due: pd.Timestamp | None
    breached: bool
    status: str


@final
@attrs.frozen(kw_only=True)
class CaseSla:
    """
    The SLA answer for one case: its state and both clocks as of the moment ``as_of``.

    Attributes:
        as_of: the moment looked from (UTC).
        priority: the priority whose targets applied.
        state: the case's state at ``as_of`` (``""`` if it was not yet opened).
        first_response: the first-response :class:`SlaClock`.
        resolution: the resolution :class:`SlaClock`.

    Examples:
        >>> from crmlifecycle.sla import SlaPolicy
        >>> policy = SlaPolicy(targets={"high": {"resolution": "8h"}})
        >>> case_sla(policy, opened_at="2026-11-23T09:00Z", priority="high",
        ...          as_of="2026-11-23T10:00Z").state
        'new'

    .. versionadded:: 0.1
    """

    as_of: pd.Timestamp
    priority: str
    state: str
    first_response: SlaClock
    resolution: SlaClock


_Segment = tuple[pd.Timestamp, pd.Timestamp, str]


def _optional_time(value: object, name: str) -> pd.Timestamp | None:
    if value is None or value is pd.NaT:
        return None
    return utc_timestamp(value, name=name)


def _history_points(history: object, columns: EventLogColumns) -> list[tuple[pd.Timestamp, str]]:
    at_key, dest_key = columns.at, columns.dest
    if isinstance(history, pd.DataFrame):
        require_columns(history, [at_key, dest_key], frame_name="history")
        history = stage_rows(history)  # the event-log frame's fields_changed rows: no state
        times = as_utc(history[at_key], at_key)
        states = history[dest_key]
        if bool(states.isna().any()):
            raise DataError.malformed(
                dest_key,
                "has missing states in the history",
                rows=list(history.index[states.isna().to_numpy()][:20]),
                hint="every status change needs its destination state.",
            )
        return list(zip(times, states.astype(str), strict=True))
    if not isinstance(history, Iterable):
        raise DataError(
            f"history must be a DataFrame or an iterable of events, got {type(history).__name__}. "
            "Hint: pass the case's rows of the case event log (columns at, dest)."
        )
    points = []
    for item in history:
        if isinstance(item, FieldsChanged) or (
            isinstance(item, Mapping) and item.get(EVENT_TAG, "transitioned") not in STAGE_EVENTS
        ):
            continue  # changes fields, not the state
        if isinstance(item, Created):  # the case entering the state it was created in
            if "state" not in item.data:
                continue  # an announcement without the record names no state
            points.append((utc_timestamp(item.at, name="history at"), str(item.data["state"])))
            continue
        if isinstance(item, Mapping):
            at, dest = item.get(at_key), item.get(dest_key)
        else:
            at, dest = getattr(item, at_key, None), getattr(item, dest_key, None)
        if at is None or not isinstance(dest, str):
            raise DataError(
                f"history event {item!r} has no {at_key!r} and {dest_key!r}. "
                f"Hint: pass Transitioned events or mappings with {at_key!r} and {dest_key!r} "
                "keys (named by history_columns)."
            )
        points.append((utc_timestamp(at, name="history at"), dest))
    return points


def _segments(
    policy: SlaPolicy,
    *,
    opened: pd.Timestamp,
    as_of: pd.Timestamp,
    history: object,
    history_columns: EventLogColumns,
    resolved: pd.Timestamp | None,
) -> list[_Segment]:
    if history is None:
        points = [(resolved, policy.stop_states[0])] if resolved is not None else []
    else:
        points = _history_points(history, history_columns)
        check_log_states(policy, (state for _, state in points), history_columns.dest)
    early = [t for t, _ in points if t < opened]
    if early:
        raise DataError(
            f"a status change at {early[0].isoformat()} precedes the case's opening "
            f"({opened.isoformat()}). Hint: check opened_at and the event log's timestamps."
        )
    ordered = sorted(((t, d) for t, d in points if t <= as_of), key=lambda p: p[0])
    timeline = [(opened, policy.initial_state), *ordered]
    ends = [t for t, _ in timeline[1:]] + [as_of]
    return [(start, end, state) for (start, state), end in zip(timeline, ends, strict=True)]


def _running_time(
    policy: SlaPolicy,
    target: pd.Timedelta,
    segments: list[_Segment],
    responded: pd.Timestamp | None,
) -> tuple[int, pd.Timestamp | None]:
    """Business ns the clock ran (a Python int: a sum never wraps) and when it hit ``target``."""
    calendar = policy.calendar
    goal, spent = int(target.value), 0
    due: pd.Timestamp | None = None
    for start, end, state in segments:
        if state in policy.pause_states or state in policy.stop_states:
            continue
        stop = end if responded is None else min(end, responded)
        if stop <= start:
            continue
        length = int(calendar.business_time_between(start, stop).value)
        if due is None and spent < goal <= spent + length:
            due = calendar.add_business_time(start, pd.Timedelta(goal - spent, unit="ns"))
        spent += length
    if spent > I64_MAX:  # more than a Timedelta holds
        raise too_much_business_time(spent, f"from {segments[0][0]} to {segments[-1][1]}")
    return spent, due


def _clock(
    policy: SlaPolicy,
    target: pd.Timedelta | None,
    segments: list[_Segment],
    as_of: pd.Timestamp,
    responded: pd.Timestamp | None,
) -> SlaClock:
    if target is None:
        return SlaClock(
            target=None, elapsed=pd.Timedelta(0), left=None, due=None, breached=False, status="none"
        )
    calendar = policy.calendar
    spent, due = _running_time(policy, target, segments, responded)
    elapsed = pd.Timedelta(spent, unit="ns")
    last_start, _, state = segments[-1]
    stops = [t for t in (responded,) if t is not None and t <= as_of]
    if state in policy.stop_states:
        stops.append(last_start)
    paused = state in policy.pause_states
    if not stops and not paused and due is None:
        due = calendar.add_business_time(as_of, target - elapsed)
    end_of_clock = min(stops) if stops else as_of
    breached = due is not None and due < end_of_clock
    if breached:
        status = "breached"
    elif stops:
        status = "met"
    else:
        status = "paused" if paused else "running"
    return SlaClock(
        target=target,
        elapsed=elapsed,
        left=target - elapsed,
        due=due,
        breached=breached,
        status=status,
    )


def _not_opened(target: pd.Timedelta | None) -> SlaClock:
    return SlaClock(
        target=target,
        elapsed=pd.Timedelta(0),
        left=target,
        due=None,
        breached=False,
        status="not_opened" if target is not None else "none",
    )


def case_sla(
    policy: SlaPolicy,
    *,
    opened_at: Instant,
    priority: str,
    as_of: Instant,
    history: object = None,
    history_columns: EventLogColumns = EventLogColumns(),
    first_response_at: Instant | None = None,
    resolved_at: Instant | None = None,
) -> CaseSla:
    """
    Answer the SLA of one case as of the moment ``as_of``: due times, time left, breach.

    The case is in ``policy.initial_state`` from ``opened_at`` until its first
    status change; ``history`` lists the changes (the case's rows of the case
    event log as a DataFrame, ``Transitioned`` events, or mappings, each with
    the event's ``at`` and ``dest``); changes after ``as_of`` are ignored.
    Both clocks count business time only while the case is in neither a pause
    nor a stop state; the first-response clock also stops at
    ``first_response_at``. Without a ``history`` the clock never pauses and
    the resolution clock stops at ``resolved_at``.

    A clock is *breached* when its due instant is earlier than the moment it
    stopped (or than ``as_of`` while it still runs or is paused): a case due on
    Friday at 17:00 that is still open on Saturday is breached. Targets follow
    the priority given; a case escalated to a higher priority is measured
    against the new priority's target from its opening (as Zendesk does).

    Args:
        policy: the targets, calendar and pause/stop states.
        opened_at: when the case was opened.
        priority: the case's priority (a key of ``policy.targets``).
        as_of: the moment the clocks are read from.
        history: the case's status changes, or ``None``: its rows of the case event
            log (a plain transition log, or the event-log frame of
            :func:`~crmlifecycle.stages.events_to_frame`, whose ``created`` row is
            the case entering its initial state and whose ``fields_changed`` rows
            are skipped), or its events (``Transitioned``, ``Created``;
            ``FieldsChanged`` are skipped) or mappings.
        history_columns: which columns (or mapping keys, or attributes) of
            ``history`` hold the event's time (``at``) and new state (``dest``).
        first_response_at: when the case was first answered (``None``: not yet).
        resolved_at: when the case was resolved, read only without ``history``.

    Raises:
        ValidationError: ``policy`` is not an :class:`SlaPolicy`, ``priority`` is not text,
            or the policy has no entry for ``priority``.
        DataError: for naive timestamps with a time of day, a status change
            before ``opened_at``, or a state the policy's lifecycle does not know.

    Examples:
        >>> from crmlifecycle.sla import BusinessCalendar, SlaPolicy
        >>> office = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
        >>> policy = SlaPolicy(targets={"normal": {"first_response": "4h", "resolution": "16h"}},
        ...                    calendar=office)
        >>> result = case_sla(policy, opened_at="2026-11-20T16:00Z", priority="normal",
        ...                   as_of="2026-11-23T10:00Z")  # Friday 16:00 -> Monday 10:00
        >>> result.first_response.due, result.first_response.left
        (Timestamp('2026-11-23 12:00:00+0000', tz='UTC'), Timedelta('0 days 02:00:00'))
        >>> history = [{"at": "2026-11-23T09:30Z", "dest": "in_progress"},
        ...            {"at": "2026-11-23T09:45Z", "dest": "waiting_on_customer"}]
        >>> paused = case_sla(policy, opened_at="2026-11-20T16:00Z", priority="normal",
        ...                   as_of="2026-11-24T10:00Z", history=history)
        >>> paused.state, paused.resolution.status, paused.resolution.elapsed
        ('waiting_on_customer', 'paused', Timedelta('0 days 01:45:00'))
    """
    check_arg("policy", policy, SlaPolicy, "an SlaPolicy")
    check_arg("priority", priority, str, "a priority name (text)")
    check_arg("history_columns", history_columns, EventLogColumns, "an EventLogColumns(...) record")
    opened = utc_timestamp(opened_at, name="opened_at")
    moment = utc_timestamp(as_of, name="as_of")
    target = policy.target(priority)
    responded = _optional_time(first_response_at, "first_response_at")
    resolved = _optional_time(resolved_at, "resolved_at")
    if responded is not None and responded < opened:
        raise DataError(
            f"first_response_at ({responded.isoformat()}) is before opened_at "
            f"({opened.isoformat()}). Hint: check the two timestamps."
        )
    if opened > moment:
        return CaseSla(
            as_of=moment,
            priority=priority,
            state="",
            first_response=_not_opened(target.first_response),
            resolution=_not_opened(target.resolution),
        )
    segments = _segments(
        policy,
        opened=opened,
        as_of=moment,
        history=history,
        history_columns=history_columns,
        resolved=resolved,
    )
    return CaseSla(
        as_of=moment,
        priority=priority,
        state=segments[-1][2],
        first_response=_clock(policy, target.first_response, segments, moment, responded),
        resolution=_clock(policy, target.resolution, segments, moment, None),
    )
