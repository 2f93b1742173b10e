"""
Business calendars: working hours per weekday, holidays, and a time zone.

A :class:`BusinessCalendar` turns wall-clock working hours into exact instants.
Internally it lays out every working interval of a span of years as UTC
nanosecond integers (``starts``, ``ends``) with the cumulative business time
before each interval, so that "business time up to ``t``" is one
``numpy.searchsorted`` and adding business time is its inverse. Scalars and
whole Series go through the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final, final, overload
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import as_utc, utc_nanoseconds, utc_timestamp
from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.sla._durations import read_duration, read_durations
from crmlifecycle.sla._hours import (
    DAY_NAMES,
    DAY_S,
    OFFICE_HOURS,
    Hours,
    clock,
    holiday_dates,
    tz_name,
    working_hours,
)

__all__ = ["BusinessCalendar"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
#: A moment: an aware datetime (or pandas Timestamp), a date (a UTC day) or ISO text.
Instant = datetime | date | str
#: A business duration: a timedelta (or pandas Timedelta) or text such as ``"4h"``.
Duration = timedelta | str

NAT: Final = np.iinfo(np.int64).min
_NS: Final = 1_000_000_000
_FIRST_YEAR: Final = 1700
_LAST_YEAR: Final = 2250


# --------------------------------------------------------------------------- the table


@final
@attrs.frozen
class _Table:
    """
    Working intervals (UTC ns, sorted, disjoint, non-empty) and business time before each.

    Business positions (``before``, ``after``, :meth:`position`) are unsigned 64-bit
    nanoseconds from the table's origin: a table covers at most about 550 years, less
    than the 584 years a ``uint64`` holds, so they never wrap (an ``int64`` would past
    292 years of round-the-clock working time).
    """

    starts: I64
    ends: I64
    before: U64  # cumulative business ns before each interval

    @property
    def after(self) -> U64:
        result: U64 = self.before + (self.ends - self.starts).astype(np.uint64)
        return result

    def position(self, t: I64) -> U64:
        """Business ns from the table's origin up to each instant ``t`` (no NaT)."""
        i = np.searchsorted(self.starts, t, side="right") - 1
        clipped = np.clip(i, 0, None)
        inside = np.clip(t - self.starts[clipped], 0, self.ends[clipped] - self.starts[clipped])
        result: U64 = np.where(i >= 0, self.before[clipped] + inside.astype(np.uint64), 0).astype(
            np.uint64
        )
        return result

    def instant(self, target: U64) -> I64:
        """Earliest instant whose position is ``target`` (targets within the table)."""
        j = np.searchsorted(self.after, target, side="left")
        result: I64 = self.starts[j] + (target - self.before[j]).astype(np.int64)
        return result


def _year_of(ns: int) -> int:
    return int(np.datetime64(ns, "ns").astype("datetime64[Y]").astype(np.int64)) + 1970


I64_MAX: Final = int(np.iinfo(np.int64).max)
_NS_PER_YEAR: Final = 365.2425 * DAY_S * _NS


def too_much_business_time(total_ns: int, where: str) -> DataError:
    """
    The error for business time beyond a duration's range (``int64`` ns, about 292 years).

    Business time is returned as a pandas ``Timedelta`` (or ``timedelta64[ns]``): a span
    longer than it holds is refused, never wrapped to a negative or wrong duration.
    """
    years = total_ns / _NS_PER_YEAR
    return DataError(
        f"the business time {where} is about {years:,.0f} years, more than a duration holds "
        "(about 292 years, the range of a pandas Timedelta). Hint: check the timestamps and "
        "the calendar's working hours."
    )


def business_ns(spent: U64, start: I64, end: I64) -> I64:
    """Exact business ns (unsigned) as ``int64``, or :func:`too_much_business_time`."""
    too_long = spent > np.uint64(I64_MAX)
    if bool(too_long.any()):
        k = int(np.flatnonzero(too_long)[0])
        since, until = pd.Timestamp(int(start[k]), tz="UTC"), pd.Timestamp(int(end[k]), tz="UTC")
        raise too_much_business_time(int(spent[k]), f"from {since} to {until}")
    result: I64 = spent.astype(np.int64)
    return result


# --------------------------------------------------------------------------- the calendar


def _coerce_instants(value: object, name: str) -> tuple[I64, pd.Index | None]:
    if isinstance(value, pd.Series):
        utc = as_utc(value, name, allow_missing=True)
        return utc_nanoseconds(utc), utc.index
    return np.array([utc_timestamp(value, name=name).as_unit("ns").value], dtype=np.int64), None


_DURATION: Final = "a non-negative duration (timedelta or text such as '4h', '90min')"
_DURATION_HINT: Final = "write a duration with a unit, e.g. '4h', '1h30min' or '2d' (24 hours)."


def _coerce_durations(value: object, name: str) -> tuple[I64, pd.Index | None]:
    if isinstance(value, pd.Series):
        deltas = read_durations(value, name, expected=_DURATION, hint=_DURATION_HINT)
        array: I64 = deltas.to_numpy(dtype="timedelta64[ns]").view(np.int64)
        bad = (array < 0) & (array != NAT)
        if bool(bad.any()):
            rows = list(value.index[bad][:20])
            raise DataError.malformed(
                name, "has negative durations", rows=rows, hint="business time only moves forward."
            )
        return array, value.index
    return np.array([_duration_ns(value, name)], dtype=np.int64), None


def _duration_ns(value: object, name: str) -> int:
    delta = read_duration(value, name, expected=_DURATION, hint=_DURATION_HINT)
    if delta.value < 0:
        raise ValidationError.for_field(name, value, _DURATION, hint=_DURATION_HINT)
    return int(delta.value)


def _ns_array(value: object, name: str, like: I64 | None = None) -> I64:
    """An argument of the array core: a 1-D array of int64 nanoseconds (``like``'s length)."""
    ok = isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "i"
    if not ok or (like is not None and len(value) != len(like)):  # type: ignore[arg-type]
        size = "" if like is None else f" of length {len(like)}"
        raise ValidationError.for_field(
            name,
            value,
            f"a 1-D numpy array of int64 nanoseconds{size}",
            hint="use business_time_between/add_business_time for timestamps and durations.",
        )
    result: I64 = np.asarray(value, dtype=np.int64)
    return result


def _refuse_reversed(start: I64, end: I64, index: pd.Index | None) -> None:
    """
    Refuse a pair whose ``end`` is before its ``start`` (business time only moves forward).

    The window rule of the library: ``start`` after ``end`` is an error, never a negative
    or zero answer. One pair of moments is a :class:`ValidationError` naming ``end``; a
    Series a :class:`DataError` naming ``end`` and the rows. Missing values are not checked.
    """
    reversed_ = (end < start) & (start != NAT) & (end != NAT)
    if not bool(reversed_.any()):
        return
    first = int(np.flatnonzero(reversed_)[0])
    when = pd.Timestamp(int(end[first]), tz="UTC")
    since = pd.Timestamp(int(start[first]), tz="UTC")
    if index is None:
        raise ValidationError.for_field(
            "end",
            when,
            f"at or after start ({since})",
            hint="pass the earlier moment as start; business time only moves forward.",
        )
    raise DataError.malformed(
        "end",
        f"is before start (e.g. {when} before {since})",
        rows=list(index[reversed_][:20]),
        hint="check the two timestamps of those rows; business time only moves forward.",
    )


def _index_of(*indexes: pd.Index | None) -> pd.Index | None:
    present = [ix for ix in indexes if ix is not None]
    if len(present) == 2 and not present[0].equals(present[1]):  # noqa: PLR2004
        raise DataError(
            "the two Series have different indexes. "
            "Hint: align them first, e.g. pass two columns of the same DataFrame."
        )
    return present[0] if present else None


@final
@attrs.frozen(repr=False)
class BusinessCalendar:
    """
    Working hours per weekday, holidays and a time zone; exact business-time arithmetic.

    Working hours are wall-clock intervals in ``tz`` (``"24:00"`` may end a
    day). A holiday removes a whole local day. Business time is real elapsed
    time inside working intervals, so it is exact across nights, weekends,
    holidays and daylight-saving changes. An interval runs from the first
    time the clock shows its start to the last time it shows its end, so a
    repeated autumn hour inside working hours counts twice; wall times
    skipped in spring do not exist (an interval starting or ending in the gap
    starts or ends when the gap ends). All results are in UTC.

    Args:
        tz: an IANA zone name (``zoneinfo``), default ``"UTC"``.
        hours: a mapping of weekday (``0``-``6``, ``"mon"``, ``"monday"`` or a
            range ``"mon-fri"``) to intervals (``"09:00-17:00"``,
            ``"09:00-12:00,13:00-17:00"``, a list of those, or ``(time, time)``
            pairs); days not named are closed. Default Monday–Friday 09:00–17:00.
        holidays: local dates (``datetime.date`` or ``"YYYY-MM-DD"``) with no work.

    Examples:
        >>> cal = BusinessCalendar(tz="Europe/Berlin", hours={"mon-fri": "09:00-17:00"},
        ...                        holidays=["2026-12-25"])
        >>> cal.add_business_time("2026-11-20T16:00+01:00", "4h")  # Friday 16:00
        Timestamp('2026-11-23 11:00:00+0000', tz='UTC')
        >>> cal.business_time_between("2026-11-20T16:00+01:00", "2026-11-23T12:00+01:00")
        Timedelta('0 days 04:00:00')

    .. versionadded:: 0.1
    """

    tz: str = attrs.field(default="UTC", converter=tz_name)
    hours: Hours = attrs.field(default=OFFICE_HOURS, converter=working_hours)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=holiday_dates)
    _years: dict[int, tuple[I64, I64]] = attrs.field(factory=dict, init=False, eq=False, hash=False)

    # ------------------------------------------------------------------ config round trip

    def to_dict(self) -> dict[str, Any]:
        """
        Return the calendar as plain data (the input of :meth:`from_dict`).

        Examples:
            >>> BusinessCalendar(hours={"mon-fri": "08:00-12:00, 13:00-17:00"}).to_dict()
            {'tz': 'UTC', 'hours': {'mon': '08:00-12:00,13:00-17:00', ...}, 'holidays': []}
        """
        hours = {
            DAY_NAMES[d]: ",".join(f"{clock(lo)}-{clock(hi)}" for lo, hi in day)
            for d, day in enumerate(self.hours)
            if day
        }
        return {
            "tz": self.tz,
            "hours": hours,
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """
        Build a calendar from plain data (``tz``, ``hours``, ``holidays``; all optional).

        Args:
            data: the calendar as plain data, e.g. a parsed JSON or YAML document.

        Raises:
            SpecError: naming the offending key, for anything the constructor rejects.

        Examples:
            >>> BusinessCalendar.from_dict({"tz": "Europe/Paris",
            ...                             "hours": {"mon-sat": "10:00-19:00"}})
            BusinessCalendar(tz='Europe/Paris', hours={'mon': '10:00-19:00', ...}, holidays=[])
        """
        from crmlifecycle.sla._policy import build_from_spec

        return build_from_spec(cls, data, keys=("tz", "hours", "holidays"), path="calendar")

    @classmethod
    def from_text(cls, text: str) -> BusinessCalendar:
        """
        Build a calendar from JSON or YAML text (see :meth:`from_dict`).

        Args:
            text: the calendar as JSON or YAML text.

        Examples:
            >>> BusinessCalendar.from_text('{"tz": "Europe/Paris"}').tz
            'Europe/Paris'
        """
        from crmlifecycle._config import load_text

        return cls.from_dict(load_text(text, what="a business calendar"))

    def __repr__(self) -> str:
        data = self.to_dict()
        return (
            f"BusinessCalendar(tz={data['tz']!r}, hours={data['hours']!r}, "
            f"holidays={data['holidays']!r})"
        )

    # ------------------------------------------------------------------ the interval table

    def _year(self, year: int) -> tuple[I64, I64]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        day_numbers = days.astype(np.int64)
        weekday = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday
        counts = np.array([len(d) for d in self.hours], dtype=np.int64)[weekday]
        if self.holidays:
            counts[np.isin(days, np.array(sorted(self.holidays), dtype="datetime64[D]"))] = 0
        flat_lo = np.array([lo for day in self.hours for lo, _ in day], dtype=np.int64)
        flat_hi = np.array([hi for day in self.hours for _, hi in day], dtype=np.int64)
        first = np.concatenate(([0], np.cumsum([len(d) for d in self.hours])[:-1])).astype(np.int64)
        day_rep = np.repeat(day_numbers, counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        slot = first[np.repeat(weekday, counts)] + within
        base = day_rep * (DAY_S * _NS)
        starts = self._to_utc(base + flat_lo[slot] * _NS, later=False)
        ends = self._to_utc(base + flat_hi[slot] * _NS, later=True)
        self._years[year] = (starts, ends)
        return starts, ends

    def _to_utc(self, local: I64, *, later: bool) -> I64:
        """Local wall times (ns) to UTC ns: gaps shift forward; repeats take the first/last."""
        if self.tz == "UTC" or local.size == 0:
            return local
        index = pd.DatetimeIndex(local.view("datetime64[ns]"))
        aware = index.tz_localize(self.tz, ambiguous="NaT", nonexistent="shift_forward")
        utc: I64 = aware.tz_convert("UTC").tz_localize(None).to_numpy().view(np.int64).copy()
        zone = ZoneInfo(self.tz)
        for k in np.flatnonzero(utc == NAT):  # repeated wall times only: a few per DST change
            wall = pd.Timestamp(int(local[k])).to_pydatetime().replace(tzinfo=zone, fold=int(later))
            offset = wall.utcoffset() or timedelta(0)
            utc[k] = int(local[k]) - int(offset.total_seconds()) * _NS
        return utc

    def _table(self, low: int, high: int) -> _Table:
        first, last = _year_of(low) - 1, _year_of(high) + 1
        if first < _FIRST_YEAR or last > _LAST_YEAR:
            raise DataError(
                f"business time is only computed for years {_FIRST_YEAR + 1}-{_LAST_YEAR - 1} "
                f"(got instants in {first + 1}-{last - 1}). Hint: check the timestamps."
            )
        parts = [self._year(y) for y in range(first, last + 1)]
        starts = np.concatenate([p[0] for p in parts])
        ends = np.concatenate([p[1] for p in parts])
        # a repeated wall time may make neighbours overlap; clip so intervals stay disjoint
        previous_end = np.concatenate(([np.iinfo(np.int64).min], np.maximum.accumulate(ends)[:-1]))
        starts = np.maximum(starts, previous_end)
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        lengths = (ends - starts).astype(np.uint64)
        before = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.uint64)
        return _Table(starts=starts, ends=ends, before=before)

    def _table_for(self, *arrays: I64, extra: int = 0) -> _Table:
        present = [a[a != NAT] for a in arrays]
        values = np.concatenate(present) if present else np.array([], dtype=np.int64)
        if values.size == 0:
            return _Table(
                starts=np.array([0], dtype=np.int64),
                ends=np.array([1], dtype=np.int64),
                before=np.array([0], dtype=np.uint64),
            )
        low, high = int(values.min()), int(values.max())
        table = self._table(low, high)
        if extra:
            # widen until the table holds `extra` business ns after `high`
            years = 1
            while int(table.after[-1]) - int(table.position(np.array([high]))[0]) < extra:
                years *= 2
                horizon = high + years * 366 * DAY_S * _NS
                if years > _LAST_YEAR - _FIRST_YEAR or horizon > _max_ns():
                    raise DataError(
                        f"adding {pd.Timedelta(extra, unit='ns')} of business time runs past "
                        f"the year {_LAST_YEAR - 2}. Hint: check the durations and the "
                        "calendar's working hours and holidays."
                    )
                table = self._table(low, horizon)
        return table

    # ------------------------------------------------------------------ vectorised core

    def business_ns_between(self, start_ns: I64, end_ns: I64) -> I64:
        """
        Business nanoseconds from ``start_ns`` to ``end_ns`` (int64 UTC ns arrays; NaT propagates).

        This is the array core used by the frame functions; most callers want
        :meth:`business_time_between`.

        Args:
            start_ns: the starts, as int64 nanoseconds since the epoch (UTC).
            end_ns: the ends, likewise.

        Raises:
            DataError: an end before its start (naming ``end`` and the positions), or
                business time longer than an int64 of nanoseconds holds (about 292 years).
            ValidationError: an argument that is not a 1-D int64 array (of equal lengths).

        Examples:
            >>> import numpy as np
            >>> cal = BusinessCalendar()
            >>> start = np.array([pd.Timestamp("2026-11-20T16:00Z").value])  # a Friday
            >>> end = np.array([pd.Timestamp("2026-11-23T10:00Z").value])
            >>> int(cal.business_ns_between(start, end)[0]) // 3_600_000_000_000
            2
        """
        start_ns = _ns_array(start_ns, "start_ns")
        end_ns = _ns_array(end_ns, "end_ns", like=start_ns)
        _refuse_reversed(start_ns, end_ns, pd.RangeIndex(len(start_ns)))
        missing = (start_ns == NAT) | (end_ns == NAT)
        table = self._table_for(start_ns, end_ns)
        s, e = np.where(missing, 0, start_ns), np.where(missing, 0, end_ns)
        spent = table.position(e) - table.position(s)  # exact: e >= s, both unsigned
        result: I64 = np.where(missing, NAT, business_ns(spent, start_ns, end_ns))
        return result

    def add_business_ns(self, start_ns: I64, duration: I64) -> I64:
        """
        The earliest instant at or after ``start_ns`` with ``duration`` business ns since it.

        Array core of :meth:`add_business_time` (int64 UTC ns; NaT propagates).

        Args:
            start_ns: the starts, as int64 nanoseconds since the epoch (UTC).
            duration: the business durations to add, in int64 nanoseconds.

        Raises:
            ValidationError: an argument that is not a 1-D int64 array (of equal lengths), or a
                negative duration.
            DataError: a due time past the years the calendar computes.

        Examples:
            >>> import numpy as np
            >>> cal = BusinessCalendar()
            >>> start = np.array([pd.Timestamp("2026-11-20T16:00Z").value])
            >>> due = cal.add_business_ns(start, np.array([4 * 3_600_000_000_000]))
            >>> pd.Timestamp(int(due[0]), tz="UTC")
            Timestamp('2026-11-23 12:00:00+0000', tz='UTC')
        """
        start_ns = _ns_array(start_ns, "start_ns")
        duration = _ns_array(duration, "duration", like=start_ns)
        if bool(((duration < 0) & (duration != NAT)).any()):
            raise ValidationError.for_field(
                "duration",
                int(duration[(duration < 0) & (duration != NAT)][0]),
                "non-negative nanoseconds",
                hint="business time only moves forward.",
            )
        missing = (start_ns == NAT) | (duration == NAT)
        s = np.where(missing, 0, start_ns)
        d = np.where(missing, 0, duration)
        extra = int(d.max()) if d.size else 0
        table = self._table_for(start_ns, extra=extra)
        target = table.position(s) + d.astype(np.uint64)  # within the table: never wraps
        result: I64 = np.where(missing, NAT, np.maximum(s, table.instant(target)))
        return result

    # ------------------------------------------------------------------ public API

    @overload
    def business_time_between(self, start: pd.Series, end: Instant | pd.Series) -> pd.Series: ...
    @overload
    def business_time_between(self, start: Instant, end: pd.Series) -> pd.Series: ...
    @overload
    def business_time_between(self, start: Instant, end: Instant) -> pd.Timedelta: ...

    def business_time_between(
        self, start: Instant | pd.Series, end: Instant | pd.Series
    ) -> pd.Timedelta | pd.Series:
        """
        Business time from ``start`` to ``end`` (never negative: a reversed pair is refused).

        Scalars (aware datetimes, ISO text, date-only values read as UTC days)
        give a ``Timedelta``; a Series for either argument gives a Series of
        ``timedelta64[ns]`` on its index, with ``NaT`` where an input is missing.
        ``start`` equal to ``end`` gives zero; ``end`` before ``start`` is an error,
        as a reversed ``start``/``end`` window is everywhere in the library.

        Args:
            start: one moment or a Series of moments.
            end: one moment or a Series of moments, element-wise with ``start``.

        Raises:
            DataError: for naive timestamps with a time of day (the shared time rule), a
                Series in which a row's ``end`` is before its ``start`` (naming ``end``
                and the rows), or business time longer than a ``Timedelta`` holds (about
                292 years).
            ValidationError: one ``end`` before one ``start`` (naming ``end``).

        Examples:
            >>> cal = BusinessCalendar(tz="Europe/Berlin")
            >>> cal.business_time_between("2026-11-20T15:00+01:00", "2026-11-24T10:00+01:00")
            Timedelta('0 days 11:00:00')
            >>> opened = pd.Series(pd.to_datetime(["2026-11-20T15:00+01:00", None], utc=True))
            >>> cal.business_time_between(opened, "2026-11-23T09:30+01:00").tolist()
            [Timedelta('0 days 02:30:00'), NaT]
        """
        a, a_index = _coerce_instants(start, "start")
        b, b_index = _coerce_instants(end, "end")
        index = _index_of(a_index, b_index)
        a, b = np.broadcast_arrays(a, b)
        _refuse_reversed(np.asarray(a), np.asarray(b), index)
        values = self.business_ns_between(np.asarray(a), np.asarray(b))
        if index is None:
            return pd.Timedelta(int(values[0]), unit="ns")
        return pd.Series(values.view("timedelta64[ns]"), index=index, name="business_time")

    @overload
    def add_business_time(self, start: pd.Series, duration: Duration | pd.Series) -> pd.Series: ...
    @overload
    def add_business_time(self, start: Instant, duration: pd.Series) -> pd.Series: ...
    @overload
    def add_business_time(self, start: Instant, duration: Duration) -> pd.Timestamp: ...

    def add_business_time(
        self, start: Instant | pd.Series, duration: Duration | pd.Series
    ) -> pd.Timestamp | pd.Series:
        """
        The earliest instant at or after ``start`` that is ``duration`` of business time later.

        A due time that completes exactly at the end of a working day is that
        end (Friday 17:00), not the next morning. ``duration`` is a
        non-negative ``timedelta`` or text such as ``"4h"`` or ``"1h30min"``
        (``"1d"`` means 24 business hours, not one working day). Either
        argument may be a Series (result on its index, ``NaT`` propagates).

        Args:
            start: one moment or a Series of moments.
            duration: the business time to add: a duration (``timedelta``, ``Timedelta`` or text
                such as ``'4h'``) or a Series of them.

        Raises:
            ValidationError: for a negative or unreadable duration.
            DataError: for naive timestamps with a time of day, a Series of durations holding
                one that is not a duration (naming ``duration`` and the row), or a due time
                past the years the calendar computes.

        Examples:
            >>> cal = BusinessCalendar(tz="Europe/Berlin", holidays=["2026-12-24", "2026-12-25"])
            >>> cal.add_business_time("2026-12-23T15:00+01:00", "4h")  # Wed -> Mon 28th 11:00
            Timestamp('2026-12-28 10:00:00+0000', tz='UTC')
        """
        s, s_index = _coerce_instants(start, "start")
        d, d_index = _coerce_durations(duration, "duration")
        index = _index_of(s_index, d_index)
        s, d = np.broadcast_arrays(s, d)
        values = self.add_business_ns(np.asarray(s), np.asarray(d))
        if index is None:
            return pd.Timestamp(int(values[0]), unit="ns", tz="UTC")
        utc = pd.Series(values.view("datetime64[ns]"), index=index, name="due")
        return utc.dt.tz_localize("UTC")


def _max_ns() -> int:
    return int(pd.Timestamp(f"{_LAST_YEAR - 2}-12-31").value)
