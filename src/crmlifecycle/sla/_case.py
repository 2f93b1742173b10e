"""
The SLA of one support case at a given moment, from its status history.

This is the readable reference form of the engine (a walk over the case's
status segments); :func:`crmlifecycle.sla.sla_status` computes the same
answers for a whole frame of cases with array arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, final

import attrs
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.sla._policy import SlaPolicy

__all__ = ["CLOCK_STATUSES", "CaseSla", "SlaClock", "case_sla"]

#: What an SLA clock can report: no target for the priority, the case not yet
#: opened at the moment asked, the clock running or paused within target, the
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
            lies in the past, else the projection from the moment asked if the
            clock is running; ``None`` when paused or stopped short of it.
        breached: the due instant passed before the clock stopped (or before
            the moment asked, if still open).
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
    The SLA answer for one case: its state and both clocks at the moment ``at``.

    Attributes:
        at: the moment asked (UTC).
        priority: the priority whose targets applied.
        state: the case's state at ``at`` (``""`` if it was not yet opened).
        first_response: the first-response :class:`SlaClock`.
        resolution: the resolution :class:`SlaClock`.

    Examples:
        >>> from crmlifecycle.sla import SlaPolicy
        >>> policy = SlaPolicy(targets={"high": {"resolution": "8h"}})
        >>> case_sla(policy, opened_at="2026-11-23T09:00Z", priority="high",
        ...          at="2026-11-23T10:00Z").state
        'new'

    .. versionadded:: 0.1
    """

    at: pd.Timestamp
    priority: str
    state: str
    first_response: SlaClock
    resolution: SlaClock


_Segment = tuple[pd.Timestamp, pd.Timestamp, str]


def _optional_time(value: object, name: str) -> pd.Timestamp | None:
    if value is None or value is pd.NaT:
        return None
    return utc_timestamp(value, name=name)


def _history_points(history: object) -> list[tuple[pd.Timestamp, str]]:
    if isinstance(history, pd.DataFrame):
        require_columns(history, ["at", "dest"], frame_name="history")
        times = as_utc(history["at"], "at")
        return list(zip(times, history["dest"].astype(str), strict=True))
    if not isinstance(history, Iterable):
        raise DataError(
            f"history must be a DataFrame or an iterable of events, got {type(history).__name__}. "
            "Hint: pass the case's rows of the case event log (columns at, dest)."
        )
    points = []
    for item in history:
        at = item.get("at") if isinstance(item, Mapping) else getattr(item, "at", None)
        dest = item.get("dest") if isinstance(item, Mapping) else getattr(item, "dest", None)
        if at is None or not isinstance(dest, str):
            raise DataError(
                f"history event {item!r} has no 'at' and 'dest'. "
                "Hint: pass Transitioned events or mappings with 'at' and 'dest' keys."
            )
        points.append((utc_timestamp(at, name="history at"), dest))
    return points


def _segments(
    policy: SlaPolicy,
    opened: pd.Timestamp,
    at: pd.Timestamp,
    history: object,
    resolved: pd.Timestamp | None,
) -> list[_Segment]:
    if history is None:
        points = [(resolved, policy.stop_states[0])] if resolved is not None else []
    else:
        points = _history_points(history)
    early = [t for t, _ in points if t < opened]
    if early:
        raise DataError(
            f"a status change at {early[0].isoformat()} precedes the case's opening "
            f"({opened.isoformat()}). Hint: check opened_at and the event log's timestamps."
        )
    ordered = sorted(((t, d) for t, d in points if t <= at), key=lambda p: p[0])
    timeline = [(opened, policy.initial_state), *ordered]
    ends = [t for t, _ in timeline[1:]] + [at]
    return [(start, end, state) for (start, state), end in zip(timeline, ends, strict=True)]


def _clock(
    policy: SlaPolicy,
    target: pd.Timedelta | None,
    segments: list[_Segment],
    at: pd.Timestamp,
    responded: pd.Timestamp | None,
) -> SlaClock:
    if target is None:
        return SlaClock(
            target=None, elapsed=pd.Timedelta(0), left=None, due=None, breached=False, status="none"
        )
    calendar = policy.calendar
    elapsed = pd.Timedelta(0)
    due: pd.Timestamp | None = None
    for start, end, state in segments:
        if state in policy.pause_states or state in policy.stop_states:
            continue
        stop = end if responded is None else min(end, responded)
        if stop <= start:
            continue
        length = calendar.business_time_between(start, stop)
        if due is None and elapsed < target <= elapsed + length:
            due = calendar.add_business_time(start, target - elapsed)
        elapsed += length
    last_start, _, state = segments[-1]
    stops = [t for t in (responded,) if t is not None and t <= at]
    if state in policy.stop_states:
        stops.append(last_start)
    paused = state in policy.pause_states
    if not stops and not paused and due is None:
        due = calendar.add_business_time(at, target - elapsed)
    end_of_clock = min(stops) if stops else at
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
    opened_at: object,
    priority: str,
    at: object,
    history: object = None,
    first_response_at: object = None,
    resolved_at: object = None,
) -> CaseSla:
    """
    Answer the SLA of one case at the moment ``at``: due times, time left, breach.

    The case is in ``policy.initial_state`` from ``opened_at`` until its first
    status change; ``history`` lists the changes (the case's rows of the case
    event log as a DataFrame with ``at`` and ``dest``, ``Transitioned`` events,
    or mappings with ``at`` and ``dest``); changes after ``at`` are ignored.
    Both clocks count business time only while the case is in neither a pause
    nor a stop state; the first-response clock also stops at
    ``first_response_at``. Without a ``history`` the clock never pauses and
    the resolution clock stops at ``resolved_at``.

    A clock is *breached* when its due instant is earlier than the moment it
    stopped (or than ``at`` while it still runs or is paused): a case due on
    Friday at 17:00 that is still open on Saturday is breached. Targets follow
    the priority given; a case escalated to a higher priority is measured
    against the new priority's target from its opening (as Zendesk does).

    Raises:
        ValidationError: if the policy has no entry for ``priority``.
        DataError: for naive timestamps with a time of day, or a status change
            before ``opened_at``.

    Examples:
        >>> from crmlifecycle.sla import BusinessCalendar, SlaPolicy
        >>> office = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
        >>> policy = SlaPolicy(targets={"normal": {"first_response": "4h", "resolution": "16h"}},
        ...                    calendar=office)
        >>> result = case_sla(policy, opened_at="2026-11-20T16:00Z", priority="normal",
        ...                   at="2026-11-23T10:00Z")  # Friday 16:00 -> Monday 10:00
        >>> result.first_response.due, result.first_response.left
        (Timestamp('2026-11-23 12:00:00+0000', tz='UTC'), Timedelta('0 days 02:00:00'))
        >>> history = [{"at": "2026-11-23T09:30Z", "dest": "in_progress"},
        ...            {"at": "2026-11-23T09:45Z", "dest": "waiting_on_customer"}]
        >>> paused = case_sla(policy, opened_at="2026-11-20T16:00Z", priority="normal",
        ...                   at="2026-11-24T10:00Z", history=history)
        >>> paused.state, paused.resolution.status, paused.resolution.elapsed
        ('waiting_on_customer', 'paused', Timedelta('0 days 01:45:00'))
    """
    opened = utc_timestamp(opened_at, name="opened_at")
    moment = utc_timestamp(at, name="at")
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
            at=moment,
            priority=priority,
            state="",
            first_response=_not_opened(target.first_response),
            resolution=_not_opened(target.resolution),
        )
    segments = _segments(policy, opened, moment, history, resolved)
    return CaseSla(
        at=moment,
        priority=priority,
        state=segments[-1][2],
        first_response=_clock(policy, target.first_response, segments, moment, responded),
        resolution=_clock(policy, target.resolution, segments, moment, None),
    )
