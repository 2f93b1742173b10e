"""Hand-computed arithmetic on numbers, durations and datetimes, on records and on frames."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pandas as pd
import pytest

from crmlifecycle.errors import CrmError, DataError, RuleTypeError
from crmlifecycle.rules import Condition

AT = datetime(2026, 3, 31, tzinfo=UTC)
INF = float("inf")
E = TypeVar("E", bound=CrmError)


def both(text: str, rows: Sequence[object]) -> list[bool]:
    """Evaluate on each row and on the frame of the rows; the engines must agree."""
    cond = Condition.parse(text)
    one_by_one = [cond.evaluate(r, as_of=AT) for r in rows]
    frame = cond.evaluate_frame(pd.DataFrame(rows), as_of=AT).tolist()
    assert one_by_one == frame, text
    return one_by_one


def both_raise(text: str, rows: Sequence[object], error: type[E]) -> tuple[E, E]:
    """Both engines raise ``error``; return the two errors."""
    cond = Condition.parse(text)
    with pytest.raises(error) as on_record:
        [cond.evaluate(row, as_of=AT) for row in rows]
    with pytest.raises(error) as on_frame:
        cond.evaluate_frame(pd.DataFrame(rows), as_of=AT)
    return on_record.value, on_frame.value


# -- numbers ---------------------------------------------------------------------------
def test_the_seven_number_operators() -> None:
    rows = [{"x": 7, "y": -2}]
    assert both("x + y == 5 and x - y == 9 and x * y == -14", rows) == [True]
    # 7 / -2 = -3.5; floor(-3.5) = -4; 7 % -2 = 7 - (-2)(-4) = -1 (the sign of the divisor)
    assert both("x / y == -3.5 and x // y == -4 and x % y == -1", rows) == [True]
    # 7 ** 2 = 49; (-2) ** -1 = -0.5
    assert both("x ** 2 == 49 and y ** -1 == -0.5", rows) == [True]


def test_division_by_zero_and_zero_to_a_negative_power_are_missing() -> None:
    rows = [{"x": 0.0}, {"x": 2.0}]
    assert both("is_missing(1 / x)", rows) == [True, False]
    assert both("is_missing(1 // x) and is_missing(1 % x)", rows) == [True, False]
    # 0 ** -1 would be 1/0; 2 ** -1 = 0.5
    assert both("is_missing(x ** -1)", rows) == [True, False]
    assert both("x ** -1 == 0.5", rows) == [False, True]


def test_powers_that_overflow_are_signed_infinities() -> None:
    # (1e10) ** 64 = 1e640 > max float: +inf; (-1e10) ** 63: odd power of a negative: -inf;
    # (-1e10) ** 64: even power: +inf
    rows = [{"x": 1e10}, {"x": -1e10}]
    assert both("x ** 64 > 1e308", rows) == [True, True]
    assert both("x ** 63 < -1e308", rows) == [False, True]
    assert both("x ** 63 > 1e308", rows) == [True, False]


def test_not_a_number_results_are_missing() -> None:
    # (-4) ** 0.5 has no real value; inf - inf and inf // 1 are NaN
    assert both("is_missing(x ** 0.5)", [{"x": -4.0}, {"x": 4.0}]) == [True, False]
    assert both("x ** 0.5 == 2", [{"x": -4.0}, {"x": 4.0}]) == [False, True]
    assert both("is_missing(x - x) and is_missing(x // 1)", [{"x": INF}, {"x": 1.0}]) == [
        True,
        False,
    ]
    # but 5 % inf = 5 (Python and numpy agree)
    assert both("5 % x == 5", [{"x": INF}]) == [True]


def test_negation() -> None:
    rows: list[dict[str, object]] = [{"x": 7, "d": timedelta(hours=30)}, {"x": None, "d": None}]
    assert both("-x == -7 and -d == hours(-30)", rows) == [True, False]
    assert both("is_missing(-x) and is_missing(-d)", rows) == [False, True]
    # a negated literal expression is folded on neither engine: -(1 + 2) = -3
    assert both("-(1 + 2) == -3 and -days(2) == days(-2)", rows) == [True, True]


def test_negating_text_is_a_type_error_at_its_position() -> None:
    # the record engine decides "x > 0 or ..." on x alone, so only x = 0 reaches -s
    on_record, on_frame = both_raise("x > 0 or -s > 0", [{"x": 0, "s": "a"}], RuleTypeError)
    for err in (on_record, on_frame):
        assert err.position == 9
        assert "cannot negate a string value. Hint:" in str(err)


def test_text_cannot_be_added_on_either_engine() -> None:
    on_record, on_frame = both_raise("a + b == 'xy'", [{"a": "x", "b": "y"}], RuleTypeError)
    for err in (on_record, on_frame):
        assert "cannot apply + to string and string" in str(err)
        assert err.position == 0


def test_mixed_operands_are_type_errors() -> None:
    row = {"t": AT, "n": 1}
    both_raise("t - n > t", [row], RuleTypeError)
    both_raise("n - t > n", [row], RuleTypeError)
    on_record, on_frame = both_raise("d * d > d", [{"d": timedelta(1)}], RuleTypeError)
    assert "cannot apply * to duration and duration" in str(on_record)
    assert "cannot apply * to duration and duration" in str(on_frame)
    on_record, _ = both_raise("n == t", [row], RuleTypeError)
    assert "cannot compare number with datetime using ==" in str(on_record)
    on_record, on_frame = both_raise("a < b", [{"a": True, "b": False}], RuleTypeError)
    assert "cannot be ordered with <" in str(on_record)
    assert "cannot be ordered with <" in str(on_frame)


# -- durations ---------------------------------------------------------------------------
def test_duration_arithmetic() -> None:
    rows: list[dict[str, object]] = [{"d": timedelta(days=1, hours=6)}, {"d": None}]
    # d = 30 h: 30 + 6 = 36 h; 30 - 24 = 6 h; 2 * 30 = 60 h; 30 h / 4 = 7.5 h = 450 min
    assert both("d + hours(6) == hours(36) and d - days(1) == hours(6)", rows) == [True, False]
    assert both("d * 2 == hours(60) and 2 * d == hours(60)", rows) == [True, False]
    assert both("d / 4 == minutes(450) and d / hours(10) == 3", rows) == [True, False]
    assert both("is_missing(d / 0) and is_missing(d / days(0))", rows) == [True, True]


def test_durations_round_to_whole_microseconds_half_to_even() -> None:
    # 3 us / 2 = 1.5 -> 2; 5 us / 2 = 2.5 -> 2 (to even); 7 us / 2 = 3.5 -> 4
    rows = [
        {"d": timedelta(microseconds=3), "e": timedelta(microseconds=2)},
        {"d": timedelta(microseconds=5), "e": timedelta(microseconds=2)},
        {"d": timedelta(microseconds=7), "e": timedelta(microseconds=4)},
    ]
    assert both("d / 2 == e", rows) == [True, True, True]
    # 1 minute / 7 = 60,000,000 / 7 = 8,571,428.57 us -> 8,571,429 us
    assert both("minutes(1) / 7 == e", [{"e": timedelta(microseconds=8_571_429)}]) == [True]


def test_nanoseconds_are_floored_before_duration_arithmetic() -> None:
    rows = [{"d": pd.Timedelta(nanoseconds=1999), "e": timedelta(microseconds=1)}]
    # 1,999 ns is 1 whole microsecond; the raw values still differ
    assert both("d * 1 == e and d != e", rows) == [True]


def test_a_duration_from_a_number_that_is_not_a_number_is_missing() -> None:
    # 0 days * inf = NaN microseconds: missing on both engines (it once raised on records)
    rows = [{"x": INF}, {"x": 1.0}]
    assert both("is_missing(days(0) * x)", rows) == [True, False]
    assert both("days(0) * x == days(0)", rows) == [False, True]


def test_durations_beyond_100000_days_are_data_errors() -> None:
    on_record, on_frame = both_raise("days(1) * x > days(0)", [{"x": 1e6}], DataError)
    assert "100000 days" in str(on_record)
    assert "100000 days" in str(on_frame)
    both_raise("days(x) > days(0)", [{"x": INF}], DataError)
    both_raise("d + d > days(0)", [{"d": timedelta(days=60_000)}], DataError)


# -- datetimes ---------------------------------------------------------------------------
def test_datetime_arithmetic() -> None:
    t = datetime(2026, 3, 29, 12, tzinfo=UTC)
    rows: list[dict[str, object]] = [{"t": t, "u": AT}, {"t": None, "u": AT}]
    # 31 March 00:00 - 29 March 12:00 = 36 hours
    assert both("u - t == hours(36) and t - u == hours(-36)", rows) == [True, False]
    assert both("t + days(2) == datetime('2026-03-31T12:00:00+00:00')", rows) == [True, False]
    assert both("days(2) + t == datetime('2026-03-31T12:00:00Z')", rows) == [True, False]
    assert both("t - hours(12) == date('2026-03-29')", rows) == [True, False]
    # a literal on the left: 1 March + 30 days = 31 March
    assert both("date('2026-03-01') + days(30) == u", rows) == [True, True]
    assert both("u - date('2026-03-01') == weeks(4) + days(2)", rows) == [True, True]


def test_datetimes_past_2262_are_data_errors() -> None:
    rows = [{"t": datetime(2200, 1, 1, tzinfo=UTC), "x": 30_000}]
    # 2200-01-01 + 30,000 days is in 2282, past pandas' last day (2262-04-11)
    on_record, on_frame = both_raise("t + days(x) > t", rows, DataError)
    assert "outside the supported range" in str(on_record)
    assert "outside the supported range" in str(on_frame)


def test_a_datetime_past_python_s_range_is_a_data_error_on_records() -> None:
    # a record may hold year 9990 (a frame cannot); + 10,000 days passes year 9999
    cond = Condition.parse("t + days(10000) > t")
    with pytest.raises(DataError, match="outside the supported range"):
        cond.evaluate({"t": datetime(9990, 1, 1, tzinfo=UTC)})
