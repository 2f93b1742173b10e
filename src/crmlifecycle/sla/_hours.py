"""
Parsing of a business calendar's configuration: time zone, working hours, holidays.

The converters here turn the friendly forms users write (``"mon-fri"``,
``"09:00-12:00,13:00-17:00"``, ``(time, time)`` pairs, ``"YYYY-MM-DD"``) into
the normalised values a :class:`~crmlifecycle.sla.BusinessCalendar` stores:
per weekday, a tuple of sorted, merged ``(start, end)`` seconds after local
midnight; and a frozenset of local dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Final

from crmlifecycle._zones import check_tz_name
from crmlifecycle.errors import ValidationError, did_you_mean

__all__ = [
    "DAY_NAMES",
    "DAY_S",
    "OFFICE_HOURS",
    "Hours",
    "clock",
    "holiday_dates",
    "tz_name",
    "working_hours",
]

Hours = tuple[tuple[tuple[int, int], ...], ...]

DAY_S: Final = 86_400
DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_HOURS_EXPECTED: Final = (
    "working hours per weekday, e.g. {'mon-fri': '09:00-17:00'} "
    "or a 7-item sequence (Monday first) of interval lists"
)


def tz_name(value: object) -> str:
    """A calendar's ``tz``: the library's one time-zone name check (:func:`check_tz_name`)."""
    return check_tz_name(value, "tz")


def _seconds(value: object, *, end: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):  # seconds after midnight
        if not 0 <= value < DAY_S + int(end):
            raise ValidationError.for_field("hours", value, "seconds after midnight (0-86400)")
        return value
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError.for_field(
                "hours", value, "a wall-clock time without a zone (the calendar's tz applies)"
            )
        return value.hour * 3600 + value.minute * 60 + value.second
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError.for_field("hours", value, "a time of day such as '09:00'")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    total = hour * 3600 + minute * 60 + second
    if minute > 59 or second > 59 or total > DAY_S or (total == DAY_S and not end):  # noqa: PLR2004
        raise ValidationError.for_field(
            "hours", value, "a time from 00:00 to 23:59:59 (24:00 only as an end)"
        )
    return total


def _interval(value: object) -> tuple[int, int]:
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) != 2:  # noqa: PLR2004
            raise ValidationError.for_field("hours", value, "an interval such as '09:00-17:00'")
        start, end = parts
    elif isinstance(value, Sequence) and len(value) == 2:  # noqa: PLR2004
        start, end = value
    else:
        raise ValidationError.for_field("hours", value, "an interval such as '09:00-17:00'")
    low, high = _seconds(start, end=False), _seconds(end, end=True)
    if high <= low:
        raise ValidationError.for_field(
            "hours",
            value,
            "an interval that ends after it starts",
            hint="split a night shift in two, e.g. 'mon': '22:00-24:00', 'tue': '00:00-06:00'.",
        )
    return low, high


def _day(value: object) -> tuple[tuple[int, int], ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, Sequence) and len(value) == 2 and not isinstance(value[0], Sequence):  # noqa: PLR2004
        items = [value]  # one (time, time) pair
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ValidationError.for_field("hours", value, _HOURS_EXPECTED)
    merged: list[tuple[int, int]] = []
    for low, high in sorted(_interval(item) for item in items):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _weekdays(key: object) -> list[int]:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:  # noqa: PLR2004
        return [key]
    if not isinstance(key, str):
        raise ValidationError.for_field("hours", key, "a weekday 0-6 or a name such as 'mon'")
    names = [p.strip().lower() for p in key.split("-")]

    def index(name: str) -> int:
        for table in (DAY_NAMES, _FULL_NAMES):
            if name in table:
                return table.index(name)
        raise ValidationError.for_field(
            "hours",
            key,
            "a weekday name such as 'mon' or a range such as 'mon-fri'"
            + did_you_mean(name, DAY_NAMES),
        )

    if len(names) == 1:
        return [index(names[0])]
    if len(names) == 2:  # noqa: PLR2004
        first, last = index(names[0]), index(names[1])
        if last >= first:
            return list(range(first, last + 1))
    raise ValidationError.for_field("hours", key, "a weekday range such as 'mon-fri'")


def working_hours(value: object) -> Hours:
    days: list[tuple[tuple[int, int], ...]] = [()] * 7
    if isinstance(value, Mapping):
        for key, spec in value.items():
            for weekday in _weekdays(key):
                days[weekday] = _day(spec)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:  # noqa: PLR2004
        days = [_day(spec) for spec in value]
    else:
        raise ValidationError.for_field("hours", value, _HOURS_EXPECTED)
    if not any(days):
        raise ValidationError.for_field("hours", value, "at least one working interval in the week")
    return tuple(days)


def holiday_dates(value: object) -> frozenset[date]:
    if value is None:
        return frozenset()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError.for_field("holidays", value, "an iterable of dates")
    result: set[date] = set()
    for item in value:
        if isinstance(item, datetime) or not isinstance(item, date | str):
            raise ValidationError.for_field(
                "holidays",
                item,
                "a date (datetime.date or 'YYYY-MM-DD')",
                hint="holidays are whole local days; pass dates, not datetimes.",
            )
        try:
            result.add(date.fromisoformat(item) if isinstance(item, str) else item)
        except ValueError as err:
            raise ValidationError.for_field("holidays", item, "an ISO date 'YYYY-MM-DD'") from err
    return frozenset(result)


def clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


OFFICE_HOURS: Final[Hours] = working_hours({"mon-fri": "09:00-17:00"})
