"""How the frame engine reads columns: dtypes, object columns, all-missing columns, field paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from crmlifecycle.errors import DataError, RuleTypeError, UnknownFieldError
from crmlifecycle.rules import Condition

AT = datetime(2026, 3, 31, tzinfo=UTC)


def on_frame(text: str, frame: pd.DataFrame) -> list[bool]:
    """Evaluate on the frame and on each of its rows; the engines must agree."""
    cond = Condition.parse(text)
    vector = cond.evaluate_frame(frame, as_of=AT).tolist()
    assert [cond.evaluate(r, as_of=AT) for r in frame.to_dict("records")] == vector, text
    return vector


def test_categorical_columns_read_as_their_categories() -> None:
    frame = pd.DataFrame({"c": pd.Categorical(["a", "b", None])})
    assert on_frame("c == 'a'", frame) == [True, False, False]
    assert on_frame("c in ['b']", frame) == [False, True, False]
    numbers = pd.DataFrame({"c": pd.Categorical([1.5, 3.0, None])})
    assert on_frame("c > 2", numbers) == [False, True, False]
    # no categories at all: an all-missing column
    empty = pd.DataFrame({"c": pd.Categorical([None, None], categories=[])})
    assert on_frame("is_missing(c)", empty) == [True, True]
    assert on_frame("not (c == 'a')", empty) == [False, False]  # not missing is missing


@pytest.mark.parametrize("dtype", ["int32", "float32", "Int64", "UInt8", "Float64"])
def test_other_numeric_dtypes_read_as_float64(dtype: str) -> None:
    frame = pd.DataFrame({"n": pd.Series([1, 3], dtype=dtype)})
    # 1 / 2 = 0.5 and 3 / 2 = 1.5 in float64, whatever the column's integer type
    assert on_frame("n / 2 == 0.5 or n / 2 == 1.5", frame) == [True, True]
    assert on_frame("n > 2", frame) == [False, True]


def test_nullable_numbers_are_missing_where_na() -> None:
    frame = pd.DataFrame({"n": pd.Series([1, None], dtype="Int64")})
    assert on_frame("n != 5", frame) == [True, False]


def test_object_columns_of_numbers() -> None:
    frame = pd.DataFrame({"o": pd.Series([1, 2.5, None], dtype=object)})
    assert on_frame("o > 1", frame) == [False, True, False]
    decimals = pd.DataFrame({"o": pd.Series([Decimal("1.5"), None], dtype=object)})
    assert on_frame("o == 1.5", decimals) == [True, False]


def test_an_object_column_mixing_numbers_and_text_is_a_type_error() -> None:
    frame = pd.DataFrame({"o": pd.Series([1, "a"], dtype=object)})
    with pytest.raises(RuleTypeError, match="column 'o' mixes numbers with other values"):
        Condition.parse("o > 1").evaluate_frame(frame)


def test_a_column_of_unreadable_values_is_a_type_error() -> None:
    frame = pd.DataFrame({"o": pd.Series([b"x", b"y"], dtype=object)})
    with pytest.raises(RuleTypeError, match=r"column 'o' .*pandas infers 'bytes'.*Hint:"):
        Condition.parse("o == 1").evaluate_frame(frame)
    # the record engine refuses the same value when it meets it
    with pytest.raises(RuleTypeError, match="cannot compare bytes with number"):
        Condition.parse("o == 1").evaluate({"o": b"x"})


def test_boolean_columns_numpy_and_nullable() -> None:
    plain = pd.DataFrame({"b": [True, False]})
    assert on_frame("b", plain) == [True, False]
    assert on_frame("not b and b == false", plain) == [False, True]
    nullable = pd.DataFrame({"b": pd.Series([True, False, None], dtype="boolean")})
    assert on_frame("b", nullable) == [True, False, False]
    assert on_frame("not b", nullable) == [False, True, False]


def test_duration_columns() -> None:
    frame = pd.DataFrame({"d": pd.to_timedelta(["2h", "30min", None])})
    assert on_frame("d > hours(1)", frame) == [True, False, False]
    # 2 h + 30 min = 150 min; 30 min + 30 min = 60 min
    assert on_frame("d + minutes(30) == minutes(150)", frame) == [True, False, False]
    assert on_frame("-d == minutes(-30)", frame) == [False, True, False]


def test_naive_date_only_columns_are_utc_days() -> None:
    frame = pd.DataFrame({"t": pd.to_datetime(pd.Series(["2026-03-01", None]))})
    assert on_frame("t == date('2026-03-01')", frame) == [True, False]


def test_datetime_lists() -> None:
    frame = pd.DataFrame(
        {"t": pd.to_datetime(pd.Series(["2026-03-01", "2026-03-02", None]), utc=True)}
    )
    assert on_frame("t in [date('2026-03-01'), date('2026-03-05')]", frame) == [
        True,
        False,
        False,
    ]
    assert on_frame("t not in [date('2026-03-01')]", frame) == [False, True, False]


def test_all_missing_columns_make_every_use_missing() -> None:
    frame = pd.DataFrame({"n": [None, None], "x": [1.0, 3.0]})
    assert on_frame("n > x", frame) == [False, False]
    assert on_frame("n in [1, 2] or n not in [1, 2]", frame) == [False, False]
    assert on_frame("n", frame) == [False, False]  # an all-missing column as a condition
    assert on_frame("n or x > 2", frame) == [False, True]  # missing or true = true
    assert on_frame("not (n and x > 2)", frame) == [True, False]  # missing and false = false
    assert on_frame("is_missing(n + x) and is_missing(n + n) and is_missing(-n)", frame) == [
        True,
        True,
    ]


def test_conditions_used_as_values() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, None], "n": [None] * 3})
    # every operand a literal
    assert on_frame("(not (1 > 2)) == true", frame) == [True] * 3
    assert on_frame("(true and 1 > 2) == false", frame) == [True] * 3
    assert on_frame("(false or 1 > 2) == false and (false or 2 > 1)", frame) == [True] * 3
    # a literal next to a column: x > 1 is false, true, missing
    assert on_frame("(x > 1 and true) == true", frame) == [False, True, False]
    assert on_frame("(x > 1 or false) == false", frame) == [True, False, False]
    # (x > 1 or missing): missing, true, missing; compared with true
    assert on_frame("(x > 1 or n > 0) == true", frame) == [False, True, False]
    assert on_frame("(x > 1 and n > 0) != true", frame) == [True, False, False]
    assert on_frame("(1 in [1, 2]) == (x in [1])", frame) == [True, False, False]
    assert on_frame("(not (x > 1)) == true", frame) == [True, False, False]
    # a comparison with a missing operand is missing, as a value too
    assert on_frame("is_missing(x > n) and is_missing(n < x)", frame) == [True] * 3
    assert on_frame("is_missing(x > 1)", frame) == [False, False, True]


def test_literal_only_conditions() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert on_frame("1 < 2", frame) == [True, True]
    assert on_frame("not (1 < 2)", frame) == [False, False]
    assert on_frame("'a' in ['a', 'b'] and 3 not in [1]", frame) == [True, True]
    assert on_frame("true", frame) == [True, True]
    assert on_frame("not false and not true", frame) == [False, False]


# -- field paths ----------------------------------------------------------------------------
def test_dotted_paths_read_dotted_then_underscored_columns() -> None:
    dotted = pd.DataFrame({"account.industry": ["saas"], "account_industry": ["retail"]})
    assert Condition.parse("account.industry == 'saas'").evaluate_frame(dotted).tolist() == [True]
    flat = pd.DataFrame({"account_industry": ["retail"]})
    assert Condition.parse("account.industry == 'retail'").evaluate_frame(flat).tolist() == [True]


def test_amount_of_a_numeric_column_reads_the_column() -> None:
    frame = pd.DataFrame({"budget": [20000.0, None]})
    assert on_frame("budget > 10000", frame) == [True, False]
    assert Condition.parse("budget.amount > 10000").evaluate_frame(frame).tolist() == [True, False]


def test_a_field_of_a_text_column_is_a_type_error_on_both_engines() -> None:
    cond = Condition.parse("x > 1 and a.amount > 1")
    with pytest.raises(RuleTypeError, match=r"column 'a' is string, which has no field 'amount'"):
        cond.evaluate_frame(pd.DataFrame({"x": [2], "a": ["text"]}))
    with pytest.raises(RuleTypeError, match=r"cannot read field 'amount' of a string") as info:
        cond.evaluate({"x": 2, "a": "text"})
    assert info.value.position == 10
    # and a number column has no other field than amount
    with pytest.raises(RuleTypeError, match="column 'a' is number, which has no field 'currency'"):
        Condition.parse("a.currency == 'EUR'").evaluate_frame(pd.DataFrame({"a": [1.0]}))


def test_a_field_of_an_all_missing_column_is_missing() -> None:
    frame = pd.DataFrame({"account": [None, None], "x": [1, 2]})
    assert on_frame("account.industry == 'saas' or x > 1", frame) == [False, True]
    assert on_frame("is_missing(account.industry)", frame) == [True, True]


def test_unknown_columns_name_the_field_and_its_position() -> None:
    frame = pd.DataFrame({"score": [1], "source": ["a"]})
    with pytest.raises(UnknownFieldError, match="did you mean 'score'") as info:
        Condition.parse("source == 'a' and scroe > 1").evaluate_frame(frame)
    assert info.value.field == "scroe"
    assert info.value.position == 18
    with pytest.raises(UnknownFieldError, match=r"unknown field 'account\.industry'"):
        Condition.parse("account.industry == 'a'").evaluate_frame(frame)


def test_duplicate_column_names_are_a_data_error() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["x", "x"])
    with pytest.raises(DataError, match="column 'x' appears 2 times"):
        Condition.parse("x > 1").evaluate_frame(frame)


def test_a_column_read_twice_is_read_once_and_stays_consistent() -> None:
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-03-30"], utc=True)})
    # t is normalised once and used on both sides: t - t = 0
    assert on_frame("t - t == days(0) and t <= t + hours(1)", frame) == [True]


def test_numpy_timedelta_and_datetime_values_in_records() -> None:
    # a nanosecond timedelta64 is a duration, not a number of nanoseconds
    cond = Condition.parse("d == hours(2) and t == date('2026-03-01')")
    row = {"d": np.timedelta64(7_200_000_000_000, "ns"), "t": np.datetime64("2026-03-01")}
    assert cond.evaluate(row)
    assert not cond.evaluate({"d": np.timedelta64("NaT"), "t": np.datetime64("2026-03-01")})
    frame = pd.DataFrame({"d": [timedelta(hours=2)], "t": pd.to_datetime(["2026-03-01"])})
    assert cond.evaluate_frame(frame).tolist() == [True]
