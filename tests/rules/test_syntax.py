"""The parser's less travelled paths: literals, lists, calls, limits, positions across lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import RuleError, RuleSyntaxError, UnknownFieldError, UnsafeRule
from crmlifecycle.rules import Condition, Limits
from crmlifecycle.rules._functions import FUNCTION_NAMES
from crmlifecycle.rules._nodes import Const, InList, ValueType
from crmlifecycle.rules._syntax import parse


def test_python_and_lowercase_boolean_literals() -> None:
    assert Condition.parse("b == True and c == false").evaluate({"b": True, "c": False})
    assert parse("True", set(FUNCTION_NAMES)) == Const(value=True, type=ValueType.BOOL, pos=0)
    assert parse("false", set(FUNCTION_NAMES)) == Const(value=False, type=ValueType.BOOL, pos=0)


def test_unary_plus_is_the_operand_itself() -> None:
    assert Condition.parse("+x == 3 and +(-x) == -3").evaluate({"x": 3})


@pytest.mark.parametrize("null", ["null", "None", "nil", "NULL"])
def test_there_is_no_null_literal(null: str) -> None:
    with pytest.raises(RuleSyntaxError, match=r"is_missing\(x\)") as info:
        Condition.parse(f"x == {null}")
    assert info.value.position == 5


def test_quotes_escaped_inside_text_do_not_end_it() -> None:
    # the bracket scan must not take the escaped quote as the end of the text: "(" stays text
    cond = Condition.parse(r"s == 'it\'s (' or s == " + '"say \\"hi\\" ["')
    assert cond.evaluate({"s": "it's ("})
    assert cond.evaluate({"s": 'say "hi" ['})
    assert not cond.evaluate({"s": "x"})


@pytest.mark.parametrize(
    ("text", "error", "message", "position"),
    [
        ("x > 1) or (y", RuleSyntaxError, "unbalanced '\\)'", 5),
        ("x in y", RuleSyntaxError, "'in' needs a list of literals", 5),
        ("x in 'abc'", RuleSyntaxError, "contains", 5),
        ("x in [1, 'a']", RuleSyntaxError, "list mixes number, string values", 5),
        ("x in [1, y]", RuleSyntaxError, "list elements must be literals", 9),
        ("days(n=2) > x", RuleSyntaxError, "keyword arguments are not supported", 7),
        ("(1).real == 1", UnsafeRule, r"only field paths \(a\.b\.c\) may use dots", 0),
        ("lower(s).x == 'a'", UnsafeRule, "only field paths", 0),
        ("x, y", RuleSyntaxError, "a list may only follow 'in'", 0),
        ("lower == 1", RuleSyntaxError, "'lower' is a function", 0),
        ("date(x) > y", RuleSyntaxError, r"date\(\) takes one text literal", 0),
        ("date('2026-13-01') > y", RuleSyntaxError, "not an ISO 8601 date", 0),
        ("date('2026-03-01T10:00:00+00:00') > y", RuleSyntaxError, "calendar date only", 0),
        ("datetime('2026-03-01T10:00:00') > y", RuleSyntaxError, "no time zone", 0),
        ("x ** 65 > 1", UnsafeRule, "exponent 65 exceeds the limit of 64", 5),
        ("x ** true > 1", UnsafeRule, "must be a number literal", 5),
        ("x > 1.5e400", UnsafeRule, "not finite", 4),
        ("fetch(x) > 1", UnsafeRule, "unknown function 'fetch'", 0),
        ("lowr(x) == 'a'", UnsafeRule, "did you mean 'lower'", 0),
    ],
)
def test_syntax_errors_name_the_problem_and_its_position(
    text: str, error: type[RuleError], message: str, position: int
) -> None:
    with pytest.raises(error, match=message) as info:
        Condition.parse(text)
    assert info.value.position == position
    assert info.value.text == text


def test_a_datetime_literal_at_midnight_needs_no_zone() -> None:
    cond = Condition.parse("t == datetime('2026-03-01T00:00:00')")
    assert cond.evaluate({"t": datetime(2026, 3, 1, tzinfo=UTC)})


def test_the_list_length_limit() -> None:
    # with the default limits the node limit (1,000) is met first; a smaller list limit shows
    # the list check itself
    limits = Limits(max_list=3)
    node = parse("x in [1, 2, 3]", set(FUNCTION_NAMES), limits)
    assert isinstance(node, InList)
    assert node.values == (1, 2, 3)
    with pytest.raises(UnsafeRule, match="the list has 4 elements; the limit is 3") as info:
        parse("x in [1, 2, 3, 4]", set(FUNCTION_NAMES), limits)
    assert info.value.position == 5


def test_an_empty_list_matches_nothing() -> None:
    assert not Condition.parse("x in []").evaluate({"x": 1})
    assert Condition.parse("x not in []").evaluate({"x": 1})


def test_a_condition_must_be_text() -> None:
    with pytest.raises(RuleSyntaxError, match="a condition must be text"):
        Condition.parse(70)  # type: ignore[arg-type]
    with pytest.raises(RuleSyntaxError, match="the condition is empty"):
        Condition.parse("  \n ")


@pytest.mark.parametrize("brk", ["\u2028", "\x0c", "\x0b", "\x1c", "\x85"])
def test_positions_count_only_python_s_line_breaks(brk: str) -> None:
    # str.splitlines() breaks at these characters, Python's tokenizer does not
    text = f"s == '{brk}' and scroe > 1"
    with pytest.raises(UnknownFieldError) as info:
        Condition.parse(text).bind({"s": str, "score": int})
    assert info.value.position == text.index("scroe")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_positions_across_lines(newline: str) -> None:
    text = f"s == 'a'{newline}  and scroe > 1"
    with pytest.raises(UnknownFieldError) as info:
        Condition.parse(text).bind({"s": str, "score": int})
    assert info.value.position == text.index("scroe")


def test_positions_count_characters_not_bytes() -> None:
    # 'é' is 2 bytes in UTF-8; Python's column offsets count bytes
    text = "s == 'ééé' and scroe > 1"
    with pytest.raises(UnknownFieldError) as info:
        Condition.parse(text).bind({"s": str, "score": int})
    assert info.value.position == 15


BREAKS = st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x0c", "\x85", " ", "é", "'", "x"])


@settings(max_examples=200, deadline=None)
@given(st.lists(BREAKS, max_size=8).map("".join), st.lists(BREAKS, max_size=8).map("".join))
def test_any_position_lies_inside_the_text(before: str, after: str) -> None:
    text = f"{before}s > 1 and{after} scroe > 1"
    # scroe is never inside a text literal: parsing or binding fails, at a position in the text
    with pytest.raises(RuleError) as info:
        Condition.parse(text).bind({"s": int, "score": int})
    err = info.value
    assert err.position is not None
    assert 0 <= err.position < len(text)
    if isinstance(err, UnknownFieldError) and err.field == "scroe":
        assert text[err.position : err.position + 5] == "scroe"
