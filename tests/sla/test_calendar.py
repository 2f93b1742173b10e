from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, SpecError, ValidationError
from crmlifecycle.sla import BusinessCalendar

BERLIN = BusinessCalendar(tz="Europe/Berlin", hours={"mon-fri": "09:00-17:00"})
UTC_OFFICE = BusinessCalendar()  # Mon-Fri 09:00-17:00 UTC
ALWAYS_BERLIN = BusinessCalendar(tz="Europe/Berlin", hours={"mon-sun": "00:00-24:00"})


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


class TestHandComputed:
    def test_friday_afternoon_four_hours_is_monday_noon(self) -> None:
        # 2026-11-20 is a Friday. 16:00-17:00 Friday = 1h, then Monday 09:00-12:00 = 3h; 1 + 3 = 4h.
        due = BERLIN.add_business_time("2026-11-20T16:00+01:00", "4h")
        assert due == ts("2026-11-23T12:00+01:00")
        assert UTC_OFFICE.add_business_time("2026-11-20T16:00Z", timedelta(hours=4)) == ts(
            "2026-11-23T12:00Z"
        )

    def test_due_exactly_at_closing_time_is_that_closing_time(self) -> None:
        # 16:00 + 1h = 17:00 the same day, not Monday 09:00
        assert UTC_OFFICE.add_business_time("2026-11-20T16:00Z", "1h") == ts("2026-11-20T17:00Z")

    def test_start_outside_hours_counts_from_the_next_opening(self) -> None:
        # Saturday 10:00 + 2h: nothing until Monday 09:00, so Monday 11:00
        assert UTC_OFFICE.add_business_time("2026-11-21T10:00Z", "2h") == ts("2026-11-23T11:00Z")
        # zero duration leaves the instant unchanged, even out of hours
        assert UTC_OFFICE.add_business_time("2026-11-21T10:00Z", "0h") == ts("2026-11-21T10:00Z")

    def test_across_holidays(self) -> None:
        # Wed 2026-12-23 15:00 + 4h with 24th and 25th off: Wed 15-17 = 2h, Thu/Fri holidays,
        # weekend, Mon 28th 09-11 = 2h -> Mon 28th 11:00 local (10:00 UTC)
        cal = BusinessCalendar(tz="Europe/Berlin", holidays=["2026-12-24", date(2026, 12, 25)])
        assert cal.add_business_time("2026-12-23T15:00+01:00", "4h") == ts("2026-12-28T10:00Z")
        # business time over the same stretch: 2h + 2h
        assert cal.business_time_between(
            "2026-12-23T15:00+01:00", "2026-12-28T11:00+01:00"
        ) == pd.Timedelta(hours=4)

    def test_across_spring_dst_change_in_office_hours(self) -> None:
        # Fri 2026-03-27 16:00 CET (15:00Z); clocks go forward on Sunday the 29th.
        # Fri 16-17 CET = 1h, Mon 30th 09-12 CEST = 3h -> Mon 12:00 CEST = 10:00Z.
        # In UTC that is 67 h after the start, one hour less than the 68 h of a normal weekend.
        due = BERLIN.add_business_time("2026-03-27T16:00+01:00", "4h")
        assert due == ts("2026-03-30T10:00Z")
        assert due - ts("2026-03-27T15:00Z") == pd.Timedelta(hours=67)

    def test_around_the_clock_calendar_keeps_real_hours_across_dst(self) -> None:
        # Sat 2026-03-28 12:00 CET + 24h: the 29th has 23 hours, so Sun 13:00 CEST (11:00Z)
        assert ALWAYS_BERLIN.add_business_time("2026-03-28T12:00+01:00", "24h") == ts(
            "2026-03-29T11:00Z"
        )
        # Sat 2026-10-24 12:00 CEST + 24h: the 25th has 25 hours, so Sun 11:00 CET (10:00Z)
        assert ALWAYS_BERLIN.add_business_time("2026-10-24T12:00+02:00", "24h") == ts(
            "2026-10-25T10:00Z"
        )
        spring = ALWAYS_BERLIN.business_time_between(
            "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00"
        )
        autumn = ALWAYS_BERLIN.business_time_between(
            "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"
        )
        assert (spring, autumn) == (pd.Timedelta(hours=23), pd.Timedelta(hours=25))

    def test_working_hours_inside_the_dst_gap_and_the_repeated_hour(self) -> None:
        night = BusinessCalendar(tz="Europe/Berlin", hours={"sun": "01:00-04:00"})
        # spring: 02:00-03:00 does not exist -> 01:00-02:00 CET + 03:00-04:00 CEST = 2h
        assert night.business_time_between(
            "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00"
        ) == pd.Timedelta(hours=2)
        # autumn: 02:00-03:00 happens twice -> 01:00 CEST to 04:00 CET = 4h of real time
        assert night.business_time_between(
            "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"
        ) == pd.Timedelta(hours=4)

    def test_working_hours_on_ambiguous_and_skipped_wall_times(self) -> None:
        # autumn 2026-10-25: 02:00-03:00 happens twice. An interval runs from the first time its
        # start shows to the last time its end shows: 01:00 CEST (23:00Z) -> the second 02:30
        # (CET, 01:30Z); 02:45 first shows at 00:45Z (CEST), so the second interval, up to
        # 03:30 CET (02:30Z), overlaps the first: together 23:00Z -> 02:30Z = 3h30.
        cal = BusinessCalendar(tz="Europe/Berlin", hours={"sun": ["01:00-02:30", "02:45-03:30"]})
        autumn = cal.business_time_between("2026-10-24T22:00Z", "2026-10-25T12:00Z")
        assert autumn == pd.Timedelta(hours=3, minutes=30)
        # spring 2026-03-29: 02:00-03:00 does not exist. 01:00 CET (00:00Z) -> 02:30 shifted to
        # 03:00 CEST (01:00Z) = 1h; 02:45 -> 03:00 CEST (01:00Z) to 03:30 CEST (01:30Z) = 30 min
        spring = cal.business_time_between("2026-03-28T22:00Z", "2026-03-29T12:00Z")
        assert spring == pd.Timedelta(hours=1, minutes=30)

    def test_split_day_and_a_reversed_pair_refused(self) -> None:
        cal = BusinessCalendar(hours={"mon-fri": ["08:00-12:00", "13:00-17:00"]})
        # Mon 2026-11-23 11:00 -> 14:00: 11-12 and 13-14 = 2h (the lunch hour does not count)
        assert cal.business_time_between("2026-11-23T11:00Z", "2026-11-23T14:00Z") == pd.Timedelta(
            hours=2
        )
        # end before start is a reversed window: refused, never a negative duration
        with pytest.raises(ValidationError, match="'end' must be at or after start") as info:
            cal.business_time_between("2026-11-23T14:00Z", "2026-11-23T11:00Z")
        assert info.value.field == "end"
        # 11:30 + 1h = 11:30-12:00 (30 min) then 13:00-13:30 -> 13:30
        assert cal.add_business_time("2026-11-23T11:30Z", "1h") == ts("2026-11-23T13:30Z")

    def test_long_durations_extend_the_table(self) -> None:
        # 2000 business hours of 40 per week = 50 weeks; Mon 2026-01-05 09:00 + 50 weeks
        # = Mon 2026-12-21 09:00, and the last hour ends Fri 2026-12-18 17:00.
        due = UTC_OFFICE.add_business_time("2026-01-05T09:00Z", "2000h")
        assert due == ts("2026-12-18T17:00Z")

    def test_naive_date_is_a_utc_day(self) -> None:
        assert UTC_OFFICE.business_time_between(date(2026, 11, 23), "2026-11-24") == pd.Timedelta(
            hours=8
        )


class TestSeries:
    def test_series_in_series_out_with_nat(self) -> None:
        starts = pd.Series(
            [ts("2026-11-20T16:00Z"), pd.NaT, ts("2026-11-23T09:00Z")], index=["a", "b", "c"]
        )
        due = UTC_OFFICE.add_business_time(starts, "4h")
        assert due.index.tolist() == ["a", "b", "c"]
        assert str(due.dtype) == "datetime64[ns, UTC]"
        assert due["a"] == ts("2026-11-23T12:00Z")
        assert pd.isna(due["b"])
        assert due["c"] == ts("2026-11-23T13:00Z")
        spent = UTC_OFFICE.business_time_between(starts, due)
        assert spent.tolist()[0] == pd.Timedelta(hours=4)
        assert pd.isna(spent["b"])

    def test_durations_as_series(self) -> None:
        durations = pd.Series(pd.to_timedelta(["1h", "9h"]))
        due = UTC_OFFICE.add_business_time("2026-11-20T16:00Z", durations)
        # 1h -> Fri 17:00; 9h -> 1h Friday + 8h Monday -> Mon 17:00
        assert due.tolist() == [ts("2026-11-20T17:00Z"), ts("2026-11-23T17:00Z")]

    def test_misaligned_series_are_an_error(self) -> None:
        a = pd.Series(pd.to_datetime(["2026-11-20T16:00Z"]), index=[1])
        b = pd.Series(pd.to_datetime(["2026-11-21T16:00Z"]), index=[2])
        with pytest.raises(DataError, match="different indexes"):
            UTC_OFFICE.business_time_between(a, b)

    def test_negative_duration_series_is_an_error(self) -> None:
        with pytest.raises(DataError, match="negative durations"):
            UTC_OFFICE.add_business_time("2026-11-20T16:00Z", pd.Series(pd.to_timedelta(["-1h"])))

    def test_input_is_not_mutated(self) -> None:
        starts = pd.Series(pd.to_datetime(["2026-11-20T16:00+01:00"]))
        before = starts.copy()
        UTC_OFFICE.add_business_time(starts, "1h")
        pd.testing.assert_series_equal(starts, before)


class TestValidation:
    def test_unknown_zone_suggests_a_name(self) -> None:
        with pytest.raises(ValidationError, match="Europe/Berlin") as info:
            BusinessCalendar(tz="Europe/Berln")
        assert info.value.field == "tz"

    @pytest.mark.parametrize(
        "hours",
        [
            {"mon": "17:00-09:00"},
            {"mon": "9-17"},
            {"mon": "09:00-25:00"},
            {"mon": "24:00-24:00"},
            {"funday": "09:00-17:00"},
            {"fri-mon": "09:00-17:00"},
            {},
            {"mon": None},
            "09:00-17:00",
            {"mon": 5.5},
            {"mon": [(time(9, tzinfo=UTC), time(17))]},
            {"mon": [(0, 90_000)]},
            {"mon": [("09:00", "12:00", "17:00")]},
            {1.5: "09:00-17:00"},
        ],
    )
    def test_bad_hours(self, hours: object) -> None:
        with pytest.raises(ValidationError) as info:
            BusinessCalendar(hours=hours)
        assert info.value.field == "hours"
        assert "Hint:" in str(info.value)

    def test_hours_forms_are_equivalent(self) -> None:
        by_name = BusinessCalendar(hours={"monday": "09:00-12:00,12:00-17:00", "tue": "9:00-17:00"})
        by_pair = BusinessCalendar(hours={0: (time(9), time(17)), 1: [("09:00", "17:00")]})
        by_list = BusinessCalendar(hours=[["09:00-17:00"], "09:00-17:00", "", "", None, (), []])
        assert by_name == by_pair == by_list
        assert by_name.to_dict()["hours"] == {"mon": "09:00-17:00", "tue": "09:00-17:00"}

    def test_zoneinfo_objects_and_no_holidays(self) -> None:
        cal = BusinessCalendar(tz=ZoneInfo("Europe/Paris"), holidays=None)
        assert (cal.tz, cal.holidays) == ("Europe/Paris", frozenset())

    def test_holidays_must_be_dates(self) -> None:
        with pytest.raises(ValidationError, match="not datetimes"):
            BusinessCalendar(holidays=[datetime(2026, 12, 25, tzinfo=UTC)])
        with pytest.raises(ValidationError):
            BusinessCalendar(holidays=["25.12.2026"])
        with pytest.raises(ValidationError):
            BusinessCalendar(holidays="2026-12-25")

    @pytest.mark.parametrize("bad", ["-1h", "soon", 4, None, "NaT"])
    def test_bad_durations(self, bad: object) -> None:
        with pytest.raises(ValidationError) as info:
            UTC_OFFICE.add_business_time("2026-11-20T16:00Z", bad)  # type: ignore[call-overload]
        assert info.value.field == "duration"

    def test_naive_time_of_day_is_refused(self) -> None:
        with pytest.raises(DataError, match="naive"):
            UTC_OFFICE.add_business_time(datetime(2026, 11, 20, 16), "1h")

    def test_far_future_is_refused(self) -> None:
        with pytest.raises(DataError, match="runs past the year"):
            UTC_OFFICE.add_business_time("2026-11-20T16:00Z", "600000h")  # 288 years of 40h weeks

    def test_round_trip_and_spec_errors(self) -> None:
        cal = BusinessCalendar(
            tz="America/New_York",
            hours={"mon-thu": "08:30-12:00,13:00-17:30", "fri": "08:30-15:00:30"},
            holidays=["2026-11-26"],
        )
        assert BusinessCalendar.from_dict(cal.to_dict()) == cal
        assert hash(BusinessCalendar.from_dict(cal.to_dict())) == hash(cal)
        with pytest.raises(SpecError) as info:
            BusinessCalendar.from_dict({"tz": "UTC", "hours": {"mon": "x"}})
        assert info.value.path == "calendar.hours"
        with pytest.raises(SpecError, match="did you mean 'holidays'"):
            BusinessCalendar.from_dict({"holiday": []})


# --------------------------------------------------------------------------- properties

CALENDARS = [
    UTC_OFFICE,
    BERLIN,
    ALWAYS_BERLIN,
    BusinessCalendar(
        tz="America/New_York",
        hours={"mon-fri": "08:00-12:00,13:00-18:00", "sat": "10:00-14:00"},
        holidays=["2026-11-26", "2026-12-25", "2027-01-01"],
    ),
]
instants = st.integers(
    min_value=int(pd.Timestamp("2026-01-01T00:00Z").value) // 60_000_000_000,
    max_value=int(pd.Timestamp("2027-12-31T00:00Z").value) // 60_000_000_000,
).map(lambda minutes: pd.Timestamp(minutes * 60_000_000_000 + 17, tz="UTC"))
durations = st.integers(min_value=0, max_value=400 * 3600).map(lambda s: pd.Timedelta(seconds=s))
calendars = st.sampled_from(CALENDARS)


def reference_between(cal: BusinessCalendar, a: pd.Timestamp, b: pd.Timestamp) -> pd.Timedelta:
    """Sum the overlap of [a, b] with each working interval, one local day at a time."""
    zone = ZoneInfo(cal.tz)
    day = a.tz_convert(zone).date() - timedelta(days=1)
    last = b.tz_convert(zone).date() + timedelta(days=1)
    total = pd.Timedelta(0)
    while day <= last:
        if day not in cal.holidays:
            for low, high in cal.hours[day.weekday()]:
                midnight = datetime(day.year, day.month, day.day)
                start = (midnight + timedelta(seconds=low)).replace(tzinfo=zone)
                end = (midnight + timedelta(seconds=high)).replace(tzinfo=zone, fold=1)
                lo = max(pd.Timestamp(start), a)
                hi = min(pd.Timestamp(end), b)
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


@given(calendars, instants, instants)
def test_between_matches_a_day_by_day_reference(
    cal: BusinessCalendar, a: pd.Timestamp, b: pd.Timestamp
) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.business_time_between(a, b) == reference_between(cal, a, b)


@given(calendars, instants, durations)
def test_business_time_up_to_the_due_time_is_the_duration(
    cal: BusinessCalendar, start: pd.Timestamp, duration: pd.Timedelta
) -> None:
    due = cal.add_business_time(start, duration)
    assert due >= start
    assert cal.business_time_between(start, due) == duration
    if duration > pd.Timedelta(0):  # and it is the earliest such instant
        assert cal.business_time_between(start, due - pd.Timedelta(1, "ns")) < duration


@given(calendars, instants, instants, durations, durations)
def test_due_time_is_monotone_in_start_and_target(
    cal: BusinessCalendar,
    s1: pd.Timestamp,
    s2: pd.Timestamp,
    d1: pd.Timedelta,
    d2: pd.Timedelta,
) -> None:
    s1, s2 = min(s1, s2), max(s1, s2)
    d1, d2 = min(d1, d2), max(d1, d2)
    assert cal.add_business_time(s1, d1) <= cal.add_business_time(s2, d1)
    assert cal.add_business_time(s1, d1) <= cal.add_business_time(s1, d2)


@given(calendars, st.lists(st.tuples(instants, durations), min_size=1, max_size=8))
def test_series_form_equals_scalar_form(
    cal: BusinessCalendar, rows: list[tuple[pd.Timestamp, pd.Timedelta]]
) -> None:
    starts = pd.Series([r[0] for r in rows])
    spans = pd.Series([r[1] for r in rows])
    due = cal.add_business_time(starts, spans)
    assert due.tolist() == [cal.add_business_time(s, d) for s, d in rows]
    between = cal.business_time_between(starts, due)
    assert between.tolist() == spans.tolist()


def test_array_core_propagates_nat() -> None:
    nat = np.iinfo(np.int64).min
    start = np.array([nat, int(ts("2026-11-20T16:00Z").value)])
    out = UTC_OFFICE.business_ns_between(start, start)
    assert out.tolist() == [nat, 0]
    assert UTC_OFFICE.add_business_ns(start, np.array([0, nat])).tolist() == [nat, nat]
