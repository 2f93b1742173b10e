"""Every whitelisted function, hand-computed, on records and on frames, missing values included."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from crmlifecycle.errors import RuleTypeError
from crmlifecycle.rules import Condition
from crmlifecycle.rules._functions import FUNCTIONS

AT = datetime(2026, 3, 31, tzinfo=UTC)
INF = float("inf")


def both(text: str, rows: Sequence[object], frame: pd.DataFrame | None = None) -> list[bool]:
    """Evaluate on each row and on the frame of the rows; the engines must agree."""
    cond = Condition.parse(text)
    one_by_one = [cond.evaluate(r, as_of=AT) for r in rows]
    vector = cond.evaluate_frame(pd.DataFrame(rows) if frame is None else frame, as_of=AT)
    assert one_by_one == vector.tolist(), text
    return one_by_one


def test_every_function_has_a_test_here() -> None:
    tested = {
        *("is_missing", "coalesce", "abs", "round", "floor", "ceil", "min", "max"),
        *("lower", "upper", "strip", "length", "startswith", "endswith", "contains"),
        *("now", "today", "days_since", "days_until", "hours_since"),
        *("days", "weeks", "hours", "minutes", "year", "month", "day", "weekday", "hour"),
    }
    assert set(FUNCTIONS) == tested


# -- numbers ---------------------------------------------------------------------------
def test_abs_round_floor_ceil() -> None:
    rows = [{"x": -2.5}, {"x": 3.5}, {"x": 0.5}, {"x": None}]
    # abs: 2.5, 3.5, 0.5; round halves to even: -2, 4, 0; floor: -3, 3, 0; ceil: -2, 4, 1
    assert both("abs(x) == 2.5", rows) == [True, False, False, False]
    assert both("round(x) == -2 or round(x) == 4 or round(x) == 0", rows) == [
        True,
        True,
        True,
        False,
    ]
    assert both("floor(x) == -3 or floor(x) == 3", rows) == [True, True, False, False]
    assert both("ceil(x) == 1", rows) == [False, False, True, False]
    assert both("is_missing(abs(x)) and is_missing(round(x))", rows) == [False] * 3 + [True]


def test_rounding_an_infinity_keeps_it() -> None:
    rows = [{"x": INF}, {"x": -INF}]
    assert both("round(x) > 1e308 and floor(x) > 1e308 and ceil(x) > 1e308", rows) == [
        True,
        False,
    ]
    assert both("round(x) < -1e308", rows) == [False, True]


def test_min_and_max_are_missing_when_any_argument_is() -> None:
    rows = [{"x": 3, "y": -1.5}, {"x": 3, "y": None}]
    # min(3, -1.5, 2) = -1.5; max(3, -1.5, 2) = 3
    assert both("min(x, y, 2) == -1.5 and max(x, y, 2) == 3", rows) == [True, False]
    assert both("is_missing(min(x, y)) or is_missing(max(y, x))", rows) == [False, True]


# -- text ---------------------------------------------------------------------------------
def test_case_mapping_is_python_s_own_on_both_engines() -> None:
    rows = [{"s": "straße"}, {"s": "İ"}, {"s": None}]
    # "ß".upper() is "SS"; "İ".lower() is "i" plus a combining dot: 2 characters
    assert both("upper(s) == 'STRASSE'", rows) == [True, False, False]
    assert both("length(lower(s)) == 2", rows) == [False, True, False]
    assert both("is_missing(upper(s))", rows) == [False, False, True]


def test_strip_and_length() -> None:
    rows = [{"s": "  a b\t"}, {"s": ""}, {"s": None}]
    # "  a b\t" has 6 characters; stripped "a b" has 3
    assert both("length(s) == 6 and length(strip(s)) == 3", rows) == [True, False, False]
    assert both("length(s) == 0", rows) == [False, True, False]


def test_prefix_suffix_and_part_tests_are_missing_for_missing_text() -> None:
    rows = [{"s": "webinar-2026"}, {"s": "Webinar"}, {"s": None}]
    assert both("startswith(s, 'web')", rows) == [True, False, False]
    assert both("endswith(s, '2026')", rows) == [True, False, False]
    # "." is a plain character, not a pattern
    assert both("contains(s, 'inar')", rows) == [True, True, False]
    assert both("contains(s, '.')", rows) == [False, False, False]
    assert both("not startswith(s, 'web')", rows) == [False, True, False]


def test_the_text_part_must_be_a_literal() -> None:
    with pytest.raises(RuleTypeError, match="must be a text literal") as info:
        Condition.parse("contains(s, t)")
    assert info.value.position == 12


# -- missing values ------------------------------------------------------------------------
def test_is_missing_and_coalesce() -> None:
    rows: list[dict[str, object]] = [
        {"a": 1.5, "b": 2, "s": "x"},
        {"a": None, "b": 3, "s": None},
    ]
    assert both("is_missing(a)", rows) == [False, True]
    # coalesce(1.5, 2) = 1.5; coalesce(missing, 3) = 3
    assert both("coalesce(a, b) == 1.5 or coalesce(a, b) == 3", rows) == [True, True]
    assert both("coalesce(s, 'zz') == 'zz'", rows) == [False, True]
    # a literal first argument is never missing: the columns are not read
    assert both("coalesce(7, a) == 7", rows) == [True, True]
    # a missing literal-free argument is skipped: coalesce(missing, missing, 9) = 9
    assert both("coalesce(a, min(a, b), 9) == 9", rows) == [False, True]


def test_coalesce_of_datetimes() -> None:
    rows: list[dict[str, object]] = [{"t": datetime(2026, 1, 1, tzinfo=UTC)}, {"t": None}]
    assert both("coalesce(t, now()) == now()", rows) == [False, True]


def test_coalesce_of_all_missing_columns_is_a_missing_condition() -> None:
    # two all-missing columns have no known type: the value is missing (false), on both engines
    rows = [{"a": None, "b": None}] * 2
    assert both("coalesce(a, b)", rows) == [False, False]
    assert both("not coalesce(a, b)", rows) == [False, False]
    assert both("is_missing(coalesce(a, b))", rows) == [True, True]


def test_coalesce_of_mixed_types_is_an_error_on_both_engines() -> None:
    cond = Condition.parse("coalesce(a, b) == 1")
    with pytest.raises(RuleTypeError, match=r"arguments mix number and string\. Hint:"):
        cond.evaluate({"a": 1, "b": "x"})
    with pytest.raises(RuleTypeError, match=r"arguments mix number and string\. Hint:"):
        cond.evaluate_frame(pd.DataFrame({"a": [1], "b": ["x"]}))


def test_wrong_argument_types_at_run_time() -> None:
    cond = Condition.parse("x > 0 or lower(x) == 'a'")
    with pytest.raises(RuleTypeError, match=r"lower\(\) expects string, got number") as info:
        cond.evaluate({"x": -1})
    assert info.value.position == 9
    with pytest.raises(RuleTypeError, match=r"lower\(\) expects string for argument 1") as info:
        cond.evaluate_frame(pd.DataFrame({"x": [-1]}))
    assert info.value.position == 15


# -- time ---------------------------------------------------------------------------------------
def test_time_since_and_until() -> None:
    t = datetime(2026, 3, 29, 12, tzinfo=UTC)
    rows: list[dict[str, object]] = [{"t": t}, {"t": None}]
    # AT - t = 1 day 12 hours = 1.5 days = 36 hours
    assert both("days_since(t) == 1.5 and hours_since(t) == 36", rows) == [True, False]
    assert both("days_until(t) == -1.5", rows) == [True, False]
    assert both("is_missing(days_since(t))", rows) == [False, True]


def test_now_and_today() -> None:
    at = datetime(2026, 3, 31, 18, 45, tzinfo=UTC)
    cond = Condition.parse("now() - t == hours(18) + minutes(45) and today() == t")
    row = {"t": datetime(2026, 3, 31, tzinfo=UTC)}
    assert cond.evaluate(row, as_of=at)
    assert cond.evaluate_frame(pd.DataFrame([row]), as_of=at).tolist() == [True]


def test_a_series_of_evaluation_times_gives_each_row_its_own_at() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    ats = [datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 3, 11, 18, tzinfo=UTC)]
    frame = pd.DataFrame({"t": [t, t]}, index=["a", "b"])
    at_series = pd.Series(ats, index=[10, 11])  # aligned by position, not by label
    # 1 day 6 h = 1.25 days; 10 days 18 h = 10.75 days
    checks = {
        "days_since(t) == 1.25 or days_since(t) == 10.75": [True, True],
        "days_until(t) == -1.25": [True, False],
        "hours_since(t) == 258": [False, True],  # 10.75 * 24 = 258
        "now() - t == hours(30)": [True, False],
        "today() == date('2026-03-11')": [False, True],
        # every argument a literal, but at varies by row: 2 March 06:00 - 1 March = 1.25 days
        "days_since(date('2026-03-01')) == 1.25": [True, False],
        "hour(now()) == 18": [False, True],
    }
    for text, expected in checks.items():
        cond = Condition.parse(text)
        assert cond.evaluate_frame(frame, as_of=at_series).tolist() == expected, text
        assert [cond.evaluate({"t": t}, as_of=a) for a in ats] == expected, text


def test_durations_from_numbers() -> None:
    rows = [{"n": 1.5}, {"n": None}]
    # 1.5 days = 36 h; 1.5 weeks = 10.5 days = 252 h; 1.5 h = 90 min; 1.5 min = 90 s
    assert both("days(n) == hours(36) and weeks(n) == hours(252)", rows) == [True, False]
    assert both("hours(n) == minutes(90) and minutes(n) * 40 == hours(1)", rows) == [True, False]
    assert both("is_missing(days(n))", rows) == [False, True]


def test_date_parts_are_read_in_utc() -> None:
    # 1 April 2026 01:30 at +02:00 is 31 March 2026 23:30 UTC, a Tuesday (weekday 1)
    t = datetime(2026, 4, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    rows: list[dict[str, object]] = [{"t": t}, {"t": None}]
    assert both("year(t) == 2026 and month(t) == 3 and day(t) == 31", rows) == [True, False]
    assert both("weekday(t) == 1 and hour(t) == 23", rows) == [True, False]
    assert both("is_missing(hour(t))", rows) == [False, True]


def test_functions_of_all_missing_columns_are_missing() -> None:
    # an all-missing object column has no type; any function of it but is_missing is missing
    rows = [{"n": None, "x": 2.0}]
    assert both("is_missing(abs(n)) and is_missing(-abs(n))", rows) == [True]
    assert both("is_missing(min(x, abs(n)))", rows) == [True]
    assert both("min(x, abs(n)) == 2", rows) == [False]
    assert both("abs(n) + 1 > 0 or x > 1", rows) == [True]
