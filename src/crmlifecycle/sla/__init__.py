"""
Service-level agreements for support cases.

A :class:`BusinessCalendar` (working hours per weekday, holidays, a time zone)
does exact business-time arithmetic; an :class:`SlaPolicy` holds per-priority
first-response and resolution targets on such a calendar; :func:`case_sla`
answers one case's due times, time left and breach as of any moment
(``as_of=``) from its status history (the clocks pause while the case waits on
the customer), and :func:`sla_status` gives the same answers for a whole frame
of cases (its columns named by ``cases_columns=CaseColumns()`` and
``events_columns=EventLogColumns()``). Which states pause and stop the clocks
comes from the case lifecycle's stage types (``on_hold``; ``won``/``lost``),
so a policy for a custom case pipeline just takes ``lifecycle=``.

Examples:
    >>> from crmlifecycle.sla import BusinessCalendar
    >>> cal = BusinessCalendar(tz="UTC", hours={"mon-fri": "09:00-17:00"})
    >>> cal.add_business_time("2026-11-20T16:00Z", "4h")  # Friday 16:00 -> Monday 12:00
    Timestamp('2026-11-23 12:00:00+0000', tz='UTC')
"""

from __future__ import annotations

from crmlifecycle.sla._calendar import BusinessCalendar
from crmlifecycle.sla._case import CLOCK_STATUSES, CaseSla, SlaClock, case_sla
from crmlifecycle.sla._frame import SLA_COLUMNS, sla_status
from crmlifecycle.sla._policy import (
    DEFAULT_PAUSE_STATES,
    DEFAULT_STOP_STATES,
    SlaPolicy,
    SlaTarget,
    pause_states_of,
    stop_states_of,
)

__all__ = [
    "CLOCK_STATUSES",
    "DEFAULT_PAUSE_STATES",
    "DEFAULT_STOP_STATES",
    "SLA_COLUMNS",
    "BusinessCalendar",
    "CaseSla",
    "SlaClock",
    "SlaPolicy",
    "SlaTarget",
    "case_sla",
    "pause_states_of",
    "sla_status",
    "stop_states_of",
]
