"""Hand-computed examples of the language on records and frames, and binding to schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from crmlifecycle import Money
from crmlifecycle.entities import Lead, Opportunity
from crmlifecycle.errors import (
    DataError,
    RuleSyntaxError,
    RuleTypeError,
    SpecError,
    UnknownFieldError,
    ValidationError,
)
from crmlifecycle.rules import Condition

AT = datetime(2026, 3, 31, tzinfo=UTC)


def both(text: str, rows: Sequence[Mapping[str, object]], at: datetime = AT) -> list[bool]:
    """Evaluate on each row and on the frame of the rows; they must agree."""
    cond = Condition.parse(text)
    one_by_one = [cond.evaluate(r, as_of=at) for r in rows]
    frame = cond.evaluate_frame(pd.DataFrame(rows), as_of=at).tolist()
    assert one_by_one == frame
    return one_by_one


def test_issue_examples() -> None:
    rows = [
        # 75 >= 70, 'webinar' in list, (31 - 1) = 30 days <= 30
        {"score": 75, "source": "webinar", "created_at": datetime(2026, 3, 1, tzinfo=UTC)},
        # 31 March - 28 February = 31 days > 30
        {"score": 75, "source": "referral", "created_at": datetime(2026, 2, 28, tzinfo=UTC)},
        {"score": 69, "source": "webinar", "created_at": datetime(2026, 3, 30, tzinfo=UTC)},
    ]
    text = "score >= 70 and source in ['webinar', 'referral'] and days_since(created_at) <= 30"
    assert both(text, rows) == [True, False, False]


def test_chained_comparison_is_a_conjunction() -> None:
    # 1 < 5 <= 5 true; 1 < 7 <= 5 false; 1 < 1 false
    assert both("1 < x <= 5", [{"x": 5}, {"x": 7}, {"x": 1}]) == [True, False, False]


def test_arithmetic_is_float64_and_division_by_zero_is_missing() -> None:
    rows = [{"a": 7, "b": 2}, {"a": 7, "b": 0}, {"a": -7, "b": 2}]
    # 7 / 2 = 3.5; 7 // 2 = 3; 7 % 2 = 1; -7 // 2 = -4 (floor); -7 % 2 = 1 (sign of divisor)
    assert both("a / b == 3.5", rows) == [True, False, False]
    assert both("a // b == 3 or a // b == -4", rows) == [True, False, True]
    assert both("a % b == 1", rows) == [True, False, True]
    # a / 0 is missing: neither the condition nor its negation holds
    assert both("not (a / b > 0)", rows) == [False, False, True]
    # 2 ** 3 = 8; the exponent is a literal
    assert both("b ** 3 == 8", rows) == [True, False, True]


def test_missing_values_follow_kleene_logic() -> None:
    rows: list[dict[str, object]] = [
        {"x": None, "y": 1},
        {"x": float("nan"), "y": 0},
        {"x": pd.NA, "y": 1},
    ]
    # x > 0 is missing; missing or true = true; missing and true = missing -> false
    assert both("x > 0 or y == 1", rows) == [True, False, True]
    assert both("x > 0 and y == 1", rows) == [False, False, False]
    assert both("not (x > 0)", rows) == [False, False, False]
    assert both("x != 3", rows) == [False, False, False]
    assert both("is_missing(x)", rows) == [True, True, True]
    assert both("coalesce(x, y) == 1", rows) == [True, False, True]
    assert both("x not in [1, 2]", rows) == [False, False, False]


def test_dates_and_durations() -> None:
    created = datetime(2026, 3, 29, 12, tzinfo=UTC)
    rows = [{"created_at": created, "closed_at": created + timedelta(hours=36)}]
    # 31 March 00:00 - 29 March 12:00 = 1.5 days = 36 hours
    assert both("days_since(created_at) == 1.5", rows) == [True]
    assert both("hours_since(created_at) == 36", rows) == [True]
    assert both("days_until(closed_at) == 0", rows) == [True]  # closes exactly at AT
    assert both("closed_at - created_at == hours(36)", rows) == [True]
    assert both("(closed_at - created_at) / days(1) == 1.5", rows) == [True]
    assert both("created_at + days(2) > now()", rows) == [True]
    assert both("created_at >= date('2026-03-29') and today() == date('2026-03-31')", rows) == [
        True
    ]
    assert both("month(created_at) == 3 and weekday(created_at) == 6", rows) == [True]  # Sunday


def test_text_functions() -> None:
    rows: list[dict[str, object]] = [{"s": " Web Inar "}, {"s": None}]
    assert both("lower(strip(s)) == 'web inar'", rows) == [True, False]
    assert both("length(s) == 10 and contains(s, 'Inar')", rows) == [True, False]
    assert both("startswith(strip(s), 'Web') and not endswith(s, 'x')", rows) == [True, False]


def test_number_functions() -> None:
    rows = [{"x": -2.5}, {"x": 3.5}]
    # round halves to even: round(-2.5) = -2, round(3.5) = 4
    assert both("round(x) == -2 or round(x) == 4", rows) == [True, True]
    assert both("abs(x) == 2.5 and floor(x) == -3 and ceil(x) == -2", rows) == [True, False]
    assert both("min(x, 0) == x and max(x, 1, 2) == 2", rows) == [True, False]


def test_entities_money_and_nested_paths() -> None:
    lead = Lead(
        id="L-1",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        channel="webinar",
        budget=Money(20000, "EUR"),
        score=80.0,
    )
    assert Condition.parse("budget.amount > 10000 and score >= 70").evaluate(lead)
    assert not Condition.parse("not is_missing(budget) and industry == 'saas'").evaluate(lead)
    record = {"account": {"industry": "saas"}, "budget": None}
    assert Condition.parse("account.industry == 'saas' and is_missing(budget)").evaluate(record)
    # frames: a dotted path reads the column "a.b", then "a_b"; x.amount reads a numeric x
    frame = pd.DataFrame({"account_industry": ["saas"], "amount": [20000.0]})
    cond = Condition.parse("account.industry == 'saas' and amount.amount > 10000")
    assert cond.evaluate_frame(frame).tolist() == [True]


def test_decimal_and_date_values_are_read_as_numbers_and_utc_days() -> None:
    record = {"x": Decimal("0.1"), "d": date(2026, 3, 1)}
    assert Condition.parse("x == 0.1 and d == date('2026-03-01')").evaluate(record)


def test_naive_datetime_with_time_is_an_error_in_both_engines() -> None:
    naive = datetime(2026, 3, 1, 10, 30)
    cond = Condition.parse("t > date('2026-01-01')")
    with pytest.raises(DataError):
        cond.evaluate({"t": naive})
    with pytest.raises(DataError):
        cond.evaluate_frame(pd.DataFrame({"t": [naive]}))


def test_as_of_must_be_aware_unless_it_is_a_day() -> None:
    cond = Condition.parse("now() > date('2026-01-01')")
    with pytest.raises(ValidationError, match="'as_of' must be") as info:
        cond.evaluate({}, as_of=datetime(2026, 1, 2, 9))
    assert info.value.field == "as_of"
    with pytest.raises(ValidationError, match="'as_of' must be"):
        cond.evaluate_frame(pd.DataFrame(index=[0]), as_of=datetime(2026, 1, 2, 9))
    # a naive midnight, a date and date-only text are that UTC day (the Instant rule)
    for day in (datetime(2026, 1, 2), date(2026, 1, 2), "2026-01-02"):
        assert cond.evaluate({}, as_of=day)
        assert cond.evaluate_frame(pd.DataFrame(index=[0]), as_of=day).tolist() == [True]


def test_unknown_fields_are_reported_with_a_hint_and_position() -> None:
    cond = Condition.parse("score > 1 and scroe > 2")
    with pytest.raises(UnknownFieldError) as info:
        cond.bind({"score": int})
    assert info.value.field == "scroe"
    assert info.value.position == 14
    assert "did you mean 'score'" in str(info.value)
    with pytest.raises(UnknownFieldError, match="did you mean 'score'"):
        cond.evaluate({"score": 3})
    with pytest.raises(UnknownFieldError, match="did you mean 'score'"):
        cond.evaluate_frame(pd.DataFrame({"score": [3]}))
    with pytest.raises(UnknownFieldError, match=r"did you mean 'budget\.amount'"):
        Condition.parse("budget.amout > 1").bind(Lead)


def test_type_mismatches_are_reported_before_evaluation() -> None:
    with pytest.raises(RuleTypeError, match="cannot compare string with number"):
        Condition.parse("channel > 3").bind(Lead)
    with pytest.raises(RuleTypeError, match="record, not a value"):
        Condition.parse("amount > 3").bind(Opportunity)
    with pytest.raises(RuleTypeError) as info:
        Condition.parse("x > 1 and 'a' < 1")
    assert info.value.position == 10
    with pytest.raises(RuleTypeError, match="cannot compare string with number"):
        Condition.parse("s > 1").evaluate_frame(pd.DataFrame({"s": ["a"]}))
    with pytest.raises(RuleTypeError, match="cannot compare"):
        Condition.parse("s > 1").evaluate({"s": "a"})
    with pytest.raises(RuleTypeError, match="not a condition"):
        Condition.parse("score and x").bind({"score": int, "x": bool})
    bound = Condition.parse("created_at > date('2026-01-01')").bind({"created_at": "datetime"})
    assert bound.schema is not None
    assert str(bound.schema["created_at"]) == "datetime"


def test_bad_schemas_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="unknown type name"):
        Condition.parse("x > 1").bind({"x": "nmber"})
    with pytest.raises(SpecError):
        Condition.parse("x > 1").bind(42)


def test_the_frame_is_not_modified() -> None:
    frame = pd.DataFrame({"s": ["A", None], "t": [datetime(2026, 3, 1), None], "n": [1, None]})
    before = frame.copy()
    Condition.parse("lower(s) == 'a' and t < now() and n > 0").evaluate_frame(frame, as_of=AT)
    pd.testing.assert_frame_equal(frame, before)


def test_fields_and_text() -> None:
    cond = Condition.parse("score >= 70 and account.industry == 'saas'")
    assert cond.fields == frozenset({"score", "account"})
    assert cond.text == "score >= 70 and account.industry == 'saas'"
    assert cond == Condition.parse(cond.text)
    assert repr(cond).startswith("Condition(")


def test_syntax_errors_have_positions() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        Condition.parse("score >= ")
    assert info.value.position is not None
    with pytest.raises(RuleSyntaxError, match="is_missing"):
        Condition.parse("x is None")
    with pytest.raises(RuleSyntaxError, match="null"):
        Condition.parse("x == None")


def test_multiline_text_parses() -> None:
    cond = Condition.parse("score >= 70\n  and source == 'webinar'")
    assert cond.evaluate({"score": 80, "source": "webinar"})
