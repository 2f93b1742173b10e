"""
The durations battery: spans between instants, SLA durations, time-zone names, demo sizes.

- A span between two valid instants (1677-2262) is more nanoseconds than an ``int64``
  holds when it passes about 292 years: every duration the SLA package and the support
  KPIs compute is right (checked against Python's exact ``datetime`` arithmetic) or, where
  the result is a ``Timedelta`` that cannot hold it, a typed ``DataError`` — never wrapped.
- SLA durations are read by one reader without pandas' deprecated unit spellings
  (``"2d"`` warned ``Pandas4Warning``, which the test configuration makes an error).
- Every time-zone name argument goes through one check: ``ValidationError`` naming it.
- ``generate`` and the demo check their arguments before printing anything.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import synth
from crmlifecycle._zones import check_tz_name
from crmlifecycle.cli import EXIT_USER_ERROR, main
from crmlifecycle.errors import CrmError, DataError, SpecError, ValidationError
from crmlifecycle.metrics import backlog, first_response_time
from crmlifecycle.sla import BusinessCalendar, SlaPolicy, SlaTarget, case_sla, sla_status

HOUR = 3_600.0
ROUND_THE_CLOCK = BusinessCalendar(hours={"mon-sun": "00:00-24:00"})  # business time = elapsed
#: the instants a pandas timestamp holds, as Python datetimes
EARLIEST = datetime(1677, 9, 22, tzinfo=UTC)
LATEST = datetime(2262, 4, 11, tzinfo=UTC)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def exact_hours(later: datetime, earlier: datetime) -> float:
    """The span in hours from Python's exact (unbounded) datetime arithmetic."""
    return (later - earlier) / timedelta(hours=1)


def cases_frame(opened: list[datetime], responded: list[datetime | None]) -> pd.DataFrame:
    n = len(opened)
    return pd.DataFrame(
        {
            "case_id": [f"C{k}" for k in range(n)],
            "priority": ["p"] * n,
            "opened_at": pd.to_datetime(opened, utc=True),
            "first_response_at": pd.to_datetime(pd.Series(responded, dtype=object), utc=True),
            "resolved_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
            "closed_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
        }
    )


# --- spans between instants: right, or refused when no Timedelta holds them -------------------

instants = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None)
).map(lambda d: d.replace(tzinfo=UTC))


@given(a=instants, b=instants)
def test_backlog_age_is_the_exact_span(a: datetime, b: datetime) -> None:
    opened, as_of = min(a, b), max(a, b)
    table = backlog(cases_frame([opened], [None]), as_of=as_of, by="priority")
    age = float(table["max_age_hours"].iloc[0])
    assert age == pytest.approx(exact_hours(as_of, opened), rel=1e-12, abs=1e-9)


@given(a=instants, b=instants)
def test_response_time_is_the_exact_span(a: datetime, b: datetime) -> None:
    opened, responded = min(a, b), max(a, b)
    table = first_response_time(cases_frame([opened], [responded]))
    hours = float(table["mean_hours"].iloc[0])
    assert hours == pytest.approx(exact_hours(responded, opened), rel=1e-12, abs=1e-9)


#: the years a business calendar computes (documented: 1701-2249)
calendar_instants = st.datetimes(
    min_value=datetime(1701, 1, 2),
    max_value=datetime(2249, 12, 30),
).map(lambda d: d.replace(tzinfo=UTC))
TIMEDELTA_MAX_HOURS = pd.Timedelta.max / pd.Timedelta(hours=1)


@given(a=calendar_instants, b=calendar_instants)
def test_business_time_round_the_clock_is_the_exact_span_or_refused(
    a: datetime, b: datetime
) -> None:
    start, end = min(a, b), max(a, b)
    exact = exact_hours(end, start)
    if exact >= TIMEDELTA_MAX_HOURS:
        with pytest.raises(DataError, match="more than a duration holds"):
            ROUND_THE_CLOCK.business_time_between(start, end)
        return
    spent = ROUND_THE_CLOCK.business_time_between(start, end) / pd.Timedelta(hours=1)
    assert spent == pytest.approx(exact, rel=1e-12, abs=1e-9)


SPANS: dict[str, tuple[Callable[[], float], float]] = {
    # 1678-01-01 to 2261-12-01: 213,270 days (Python's datetime arithmetic), in hours
    "backlog age 1678 as of 2261": (
        lambda: float(
            backlog(
                cases_frame([datetime(1678, 1, 1, tzinfo=UTC)], [None]),
                as_of="2261-12-01T00:00Z",
                by="priority",
            )["max_age_hours"].iloc[0]
        ),
        213_270 * 24.0,
    ),
    "response time 1678 to 2261": (
        lambda: float(
            first_response_time(
                cases_frame([datetime(1678, 1, 1, tzinfo=UTC)], [datetime(2261, 12, 1, tzinfo=UTC)])
            )["mean_hours"].iloc[0]
        ),
        213_270 * 24.0,
    ),
    # 1702-01-01 to 1990-01-01: 105,190 days, all business time on a 24/7 calendar
    "24/7 business time 1702 to 1990": (
        lambda: (
            ROUND_THE_CLOCK.business_time_between("1702-01-01T00:00Z", "1990-01-01T00:00Z")
            / pd.Timedelta(hours=1)
        ),
        105_190 * 24.0,
    ),
    # the same span once an hour (the 1990 end) passes the table's int64 wrap point
    "24/7 add one hour to 1702 and 2200 together": (
        lambda: float(
            (
                ROUND_THE_CLOCK.add_business_time(
                    pd.Series([utc("1702-01-01"), utc("2200-01-01")]), "1h"
                )
                - pd.Series([utc("1702-01-01"), utc("2200-01-01")])
            ).max()
            / pd.Timedelta(hours=1)
        ),
        1.0,
    ),
}


@pytest.mark.parametrize("case", sorted(SPANS))
def test_long_spans_are_exact(case: str) -> None:
    compute, hours = SPANS[case]
    assert compute() == pytest.approx(hours, rel=1e-12)


POLICY = SlaPolicy(
    targets={"p": {"first_response": "1h", "resolution": "4h"}}, calendar=ROUND_THE_CLOCK
)
TOO_LONG: dict[str, Callable[[], object]] = {
    "business_time_between 1702 to 2248": lambda: ROUND_THE_CLOCK.business_time_between(
        "1702-01-01T00:00Z", "2248-01-01T00:00Z"
    ),
    "business_time_between of Series": lambda: ROUND_THE_CLOCK.business_time_between(
        pd.Series([utc("1702-01-01"), utc("2000-01-01")]),
        pd.Series([utc("2248-01-01"), utc("2001-01-01")]),
    ),
    "business_ns_between": lambda: ROUND_THE_CLOCK.business_ns_between(
        np.array([utc("1702-01-01").value]), np.array([utc("2248-01-01").value])
    ),
    "case_sla elapsed": lambda: case_sla(
        POLICY, opened_at="1702-01-01T00:00Z", priority="p", as_of="2248-01-01T00:00Z"
    ),
    "sla_status elapsed": lambda: sla_status(
        cases_frame([datetime(1702, 1, 1, tzinfo=UTC)], [None]),
        POLICY,
        as_of="2248-01-01T00:00Z",
    ),
    "first_response_time on a 24/7 calendar": lambda: first_response_time(
        cases_frame([datetime(1702, 1, 1, tzinfo=UTC)], [datetime(2248, 1, 1, tzinfo=UTC)]),
        calendar=ROUND_THE_CLOCK,
    ),
}


@pytest.mark.parametrize("case", sorted(TOO_LONG))
def test_business_time_past_a_timedelta_is_refused_not_wrapped(case: str) -> None:
    with pytest.raises(DataError, match="more than a duration holds"):
        TOO_LONG[case]()


def test_sla_elapsed_just_under_the_limit_is_exact() -> None:
    # 1702-01-01 to 1990-01-01: 105,190 days of round-the-clock business time
    answer = case_sla(
        POLICY, opened_at="1702-01-01T00:00Z", priority="p", as_of="1990-01-01T00:00Z"
    )
    table = sla_status(
        cases_frame([datetime(1702, 1, 1, tzinfo=UTC)], [None]), POLICY, as_of="1990-01-01T00:00Z"
    )
    assert answer.resolution.elapsed == pd.Timedelta(days=105_190)
    assert table["resolution_elapsed"].iloc[0] == pd.Timedelta(days=105_190)


# --- SLA durations: one reader, no deprecated pandas spelling ---------------------------------

SPELLINGS: dict[str, pd.Timedelta] = {
    "2d": pd.Timedelta(days=2),
    "2D": pd.Timedelta(days=2),
    "4h": pd.Timedelta(hours=4),
    "4H": pd.Timedelta(hours=4),
    "10S": pd.Timedelta(seconds=10),
    "1w": pd.Timedelta(days=7),
    "90min": pd.Timedelta(minutes=90),
    "1h30min": pd.Timedelta(minutes=90),
    "2d4h": pd.Timedelta(hours=52),
    "1.5h": pd.Timedelta(minutes=90),
    "2 days 3 hours": pd.Timedelta(hours=51),
    "500ms": pd.Timedelta(milliseconds=500),
    "PT4H": pd.Timedelta(hours=4),
    "P1DT2H": pd.Timedelta(hours=26),
    "01:30:00": pd.Timedelta(minutes=90),
    "1 day 02:00:00": pd.Timedelta(hours=26),
}


@pytest.mark.parametrize("text", sorted(SPELLINGS))
def test_every_documented_duration_spelling_reads_without_a_warning(text: str) -> None:
    expected = SPELLINGS[text]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' FutureWarning/Pandas4Warning included
        assert SlaTarget(first_response=text).first_response == expected
        policy = SlaPolicy.from_dict({"targets": {"p": {"resolution": text}}})
        assert policy.target("p").resolution == expected
        start = utc("2026-01-05T00:00")  # a Monday
        assert ROUND_THE_CLOCK.add_business_time(start, text) == start + expected
        due = ROUND_THE_CLOCK.add_business_time(pd.Series([start, start]), pd.Series([text, None]))
        assert due.iloc[0] == start + expected
        assert pd.isna(due.iloc[1])


NOT_DURATIONS: list[Any] = [
    "5M",  # months: no fixed duration
    "abc",
    "3",  # no unit
    "",
    "nan",
    "NaT",
    "1e3s",
    "2h-30min",
    "9" * 30 + "d",  # beyond a Timedelta
    "1" * 300 + "h",
    3,
    2.5,
    True,
    pd.NaT,
    np.timedelta64(1, "h"),
    [],
    {"hours": 1},
    b"4h",
]


@pytest.mark.parametrize("value", NOT_DURATIONS, ids=repr)
def test_what_is_not_a_duration_is_refused_naming_the_field(value: Any) -> None:
    with pytest.raises(ValidationError) as err:
        SlaTarget(first_response=value)
    assert err.value.field == "first_response"
    with pytest.raises(SpecError) as spec_err:
        SlaPolicy.from_dict({"targets": {"p": {"resolution": value}}})
    assert "resolution" in str(spec_err.value)
    with pytest.raises(ValidationError) as add_err:
        ROUND_THE_CLOCK.add_business_time("2026-01-05T00:00Z", value)
    assert add_err.value.field == "duration"


@pytest.mark.parametrize("value", [3, "abc", "5M", 1.5], ids=repr)
def test_a_series_of_non_durations_is_refused_naming_the_column_and_row(value: Any) -> None:
    start = pd.Series([utc("2026-01-05T00:00")] * 2)
    with pytest.raises(DataError) as err:
        ROUND_THE_CLOCK.add_business_time(start, pd.Series(["1h", value], dtype=object))
    assert err.value.column == "duration"
    assert list(err.value.rows) == [1]


# --- time-zone names: one check, ValidationError naming the argument ---------------------------

NOT_ZONES: list[Any] = [
    "x" * 5000,  # zoneinfo: OSError (file name too long)
    "Europe",  # a directory of the zone database
    "zone.tab",  # a data file of the zone database
    "localtime",  # this machine's zone, not a name
    "posixrules",
    "../UTC",
    "/etc/localtime",
    "UTC\n",
    "utc",
    "Europe/Berln",
    "a\x00b",
    "",
    5,
    None,
    b"UTC",
    ["UTC"],
]


@pytest.mark.parametrize("value", NOT_ZONES, ids=lambda v: repr(v)[:20])
def test_a_calendar_refuses_what_is_not_an_iana_zone(value: Any) -> None:
    with pytest.raises(ValidationError) as err:
        BusinessCalendar(tz=value)
    assert err.value.field == "tz"
    with pytest.raises(SpecError, match=r"calendar\.tz"):
        BusinessCalendar.from_dict({"tz": value})
    with pytest.raises(ValidationError) as named:
        check_tz_name(value, "report.tz")
    assert named.value.field == "report.tz"


@pytest.mark.parametrize(
    "value", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "EST5EDT"]
)
def test_iana_zones_are_accepted(value: str) -> None:
    assert BusinessCalendar(tz=value).tz == value
    assert BusinessCalendar(tz=ZoneInfo(value)).tz == value


# --- the sla package's public API with wrong-typed arguments ----------------------------------

CAL = BusinessCalendar()
POLICY_OFFICE = SlaPolicy(targets={"p": {"first_response": "1h", "resolution": "4h"}})
WRONG: list[Any] = [
    None,
    5,
    2.5,
    float("nan"),
    True,
    b"x",
    [],
    ["a"],
    {},
    {"a": 1},
    object(),
    pd.NaT,
    np.datetime64("NaT"),
    pd.DataFrame(),
    "x" * 5000,
    "",
    "\x00",
    10**400,
    1j,
    (1, 2),
    set(),
    np.int64(3),
    time(9),
]
OPEN = "2026-01-05T10:00Z"
LATER = "2026-01-06T10:00Z"
SLA_CALLS: dict[str, Callable[[Any], object]] = {
    "BusinessCalendar(tz=)": lambda v: BusinessCalendar(tz=v),
    "BusinessCalendar(hours=)": lambda v: BusinessCalendar(hours=v),
    "BusinessCalendar(holidays=)": lambda v: BusinessCalendar(holidays=v),
    "BusinessCalendar.from_dict": BusinessCalendar.from_dict,
    "BusinessCalendar.from_text": BusinessCalendar.from_text,
    "business_time_between(start=)": lambda v: CAL.business_time_between(v, OPEN),
    "business_time_between(end=)": lambda v: CAL.business_time_between(OPEN, v),
    "add_business_time(start=)": lambda v: CAL.add_business_time(v, "1h"),
    "add_business_time(duration=)": lambda v: CAL.add_business_time(OPEN, v),
    "business_ns_between": lambda v: CAL.business_ns_between(v, v),
    "add_business_ns": lambda v: CAL.add_business_ns(v, v),
    "SlaTarget(first_response=)": lambda v: SlaTarget(first_response=v),
    "SlaPolicy(targets=)": lambda v: SlaPolicy(targets=v),
    "SlaPolicy(calendar=)": lambda v: SlaPolicy(targets={}, calendar=v),
    "SlaPolicy(lifecycle=)": lambda v: SlaPolicy(targets={}, lifecycle=v),
    "SlaPolicy(pause_states=)": lambda v: SlaPolicy(targets={}, pause_states=v),
    "SlaPolicy(initial_state=)": lambda v: SlaPolicy(targets={}, initial_state=v),
    "SlaPolicy.from_dict": SlaPolicy.from_dict,
    "SlaPolicy.from_text": SlaPolicy.from_text,
    "SlaPolicy.target": POLICY_OFFICE.target,
    "case_sla(policy=)": lambda v: case_sla(v, opened_at=OPEN, priority="p", as_of=LATER),
    "case_sla(opened_at=)": lambda v: case_sla(
        POLICY_OFFICE, opened_at=v, priority="p", as_of=LATER
    ),
    "case_sla(priority=)": lambda v: case_sla(
        POLICY_OFFICE, opened_at=OPEN, priority=v, as_of=LATER
    ),
    "case_sla(as_of=)": lambda v: case_sla(POLICY_OFFICE, opened_at=OPEN, priority="p", as_of=v),
    "case_sla(history=)": lambda v: case_sla(
        POLICY_OFFICE, opened_at=OPEN, priority="p", as_of=LATER, history=v
    ),
    "case_sla(first_response_at=)": lambda v: case_sla(
        POLICY_OFFICE, opened_at=OPEN, priority="p", as_of=LATER, first_response_at=v
    ),
    "sla_status(cases=)": lambda v: sla_status(v, POLICY_OFFICE, as_of=LATER),
    "sla_status(policy=)": lambda v: sla_status(
        cases_frame([datetime(2026, 1, 5, tzinfo=UTC)], [None]), v, as_of=LATER
    ),
    "sla_status(as_of=)": lambda v: sla_status(
        cases_frame([datetime(2026, 1, 5, tzinfo=UTC)], [None]), POLICY_OFFICE, as_of=v
    ),
    "sla_status(events=)": lambda v: sla_status(
        cases_frame([datetime(2026, 1, 5, tzinfo=UTC)], [None]),
        POLICY_OFFICE,
        as_of=LATER,
        events=v,
    ),
    "sla_status(kind=)": lambda v: sla_status(
        cases_frame([datetime(2026, 1, 5, tzinfo=UTC)], [None]), POLICY_OFFICE, as_of=LATER, kind=v
    ),
}


@pytest.mark.parametrize("call", sorted(SLA_CALLS))
def test_the_sla_api_refuses_wrong_types_with_typed_errors(call: str) -> None:
    for value in WRONG:  # refused typed or accepted; an untyped exception fails the test
        with contextlib.suppress(CrmError):
            SLA_CALLS[call](value)


# --- generate and the demo check their arguments before any output ----------------------------

BAD_WORLDS: dict[str, dict[str, Any]] = {
    "negative leads": {"n_leads": -5},
    "no leads": {"n_leads": 0},
    "text leads": {"n_leads": "5"},
    "negative seed": {"seed": -1},
    "reversed window": {"start": "2026-01-01", "end": "2024-01-01"},
    "progress not a bool": {"progress": "yes", "n_leads": 10},
    "params not WorldParams": {"params": {"p": 1}},
}


@pytest.mark.parametrize("case", sorted(BAD_WORLDS))
def test_generate_refuses_before_printing(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CrmError):
        synth.generate(**BAD_WORLDS[case])
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("arguments", [["--leads", "-5"], ["--leads", "0"], ["--seed", "-1"]])
def test_the_demo_refuses_in_one_line_before_any_output(
    arguments: list[str], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    assert main(["demo", *arguments, "--out", str(folder)]) == EXIT_USER_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert not folder.exists()  # nothing written either
