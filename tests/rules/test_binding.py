"""Binding conditions to entity classes, mappings and frames: field types and static errors."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import attrs
import pandas as pd
import pytest

from crmlifecycle import Money
from crmlifecycle.errors import RuleTypeError, SpecError, UnknownFieldError
from crmlifecycle.rules import Condition
from crmlifecycle.rules._check import schema_from
from crmlifecycle.rules._nodes import ValueType


@attrs.frozen
class Account:
    industry: str
    founded: date
    tier: Literal["gold", "silver"]
    mixed: Literal[1, "a"]
    tags: list[str]
    cycle: timedelta
    revenue: Money | None = None
    size: int | str = 0
    anything: object = None
    parent: Account | None = None
    _secret: int = 0


@attrs.frozen
class Unresolved:
    known: int
    unknown: NotDefinedAnywhere  # type: ignore[name-defined]  # noqa: F821 - the point of the test


def test_entity_classes_map_annotations_to_language_types() -> None:
    schema = schema_from(Account)
    assert schema["industry"] is ValueType.STRING
    assert schema["founded"] is ValueType.DATETIME
    assert schema["cycle"] is ValueType.DURATION
    assert schema["tier"] is ValueType.STRING  # a Literal of one type
    assert schema["mixed"] is ValueType.ANY  # a Literal of two types
    assert schema["tags"] is ValueType.ANY  # containers are not readable values
    assert schema["size"] is ValueType.ANY  # a union of two types
    assert schema["anything"] is ValueType.ANY
    assert schema["revenue"] == {
        "amount": ValueType.NUMBER,
        "currency": ValueType.STRING,
    }  # Optional[Money]
    assert "_secret" not in schema


def test_recursive_entity_types_stop_after_four_levels() -> None:
    schema = schema_from(Account)
    parent = schema["parent"]
    for _ in range(3):
        assert isinstance(parent, dict)
        assert parent["industry"] is ValueType.STRING
        parent = parent["parent"]
    assert isinstance(parent, dict)
    assert parent["parent"] is ValueType.ANY


def test_unresolvable_annotations_fall_back_to_their_text() -> None:
    # get_type_hints fails on the undefined name: each field's annotation text is read instead
    assert schema_from(Unresolved) == {"known": ValueType.NUMBER, "unknown": ValueType.ANY}


def test_binding_to_an_entity_class() -> None:
    Condition.parse("tier == 'gold' and founded < date('2020-01-01')").bind(Account)
    Condition.parse("revenue.amount > 1 and parent.parent.industry == 'saas'").bind(Account)
    with pytest.raises(RuleTypeError, match="cannot compare datetime with number") as info:
        Condition.parse("industry == 'a' and founded > 3").bind(Account)
    assert info.value.position == 20
    assert "date('2026-03-01')" in str(info.value)
    # a field of an ANY value is not checked
    Condition.parse("tags.first == 1").bind(Account)


def test_mapping_schemas() -> None:
    schema = {
        "score": "number",
        "account": {"industry": str, "size": "int"},
        "flag": ValueType.BOOL,
        "account_region": "text",
    }
    Condition.parse("score > 1 and account.industry == 'saas' and flag").bind(schema)
    # a flat key with underscores serves a dotted path
    Condition.parse("account.region == 'emea'").bind({"account_region": "text"})
    with pytest.raises(UnknownFieldError, match=r"did you mean 'account\.industry'") as info:
        Condition.parse("score > 1 and account.industy == 'x'").bind(schema)
    assert info.value.field == "account.industy"
    assert info.value.position == 14


def test_mapping_schema_errors_name_their_path() -> None:
    with pytest.raises(SpecError, match="unknown type name 'nmber'") as info:
        schema_from({"account": {"size": "nmber"}})
    assert info.value.path == "account.size"
    for bad in ("", "_private", 3):
        with pytest.raises(SpecError, match="schema field names must be non-empty text"):
            schema_from({bad: "number"})
    with pytest.raises(SpecError, match="cannot use a int as a schema"):
        schema_from(3)


def test_a_field_of_a_plain_value_is_a_type_error() -> None:
    with pytest.raises(RuleTypeError, match="field 'score' is number, which has no field 'x'"):
        Condition.parse("score.x > 1").bind({"score": int})
    # but a field of an unknown value is unknown, not an error
    Condition.parse("data.x > 1").bind({"data": "any"})


def test_a_record_is_not_a_value() -> None:
    with pytest.raises(
        RuleTypeError, match=r"Hint: read one of its fields, e\.g\. revenue\.amount"
    ):
        Condition.parse("revenue > 1").bind(Account)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("flag < true", "cannot be ordered with <", 0),
        ("score > 1 and score in ['a']", "cannot look for a number value in a list of string", 14),
        ("-name == 'a'", "cannot negate a string value", 0),
        ("min(score) > 1", r"min\(\) takes at least 2 arguments, got 1", 0),
        ("abs(score, score) > 1", r"abs\(\) takes 1 argument\(s\), got 2", 0),
        ("score > 1 and lower(score) == 'a'", r"lower\(\) expects string for argument 1", 20),
        ("coalesce(score, name) == 1", r"coalesce\(\) arguments mix number and string", 0),
        ("days(name) > days(1)", r"days\(\) expects number", 5),
        ("name + 1 > 2", "cannot apply \\+ to string and number", 0),
        ("score", "'score' is number, not a condition", 0),
        ("score + 1", "this is number, not a condition", 0),
        ("not name", "'name' is string, not a condition", 4),
    ],
)
def test_static_type_errors(text: str, message: str, position: int) -> None:
    schema = {"score": "number", "name": "string", "flag": "bool"}
    with pytest.raises(RuleTypeError, match=message) as info:
        Condition.parse(text).bind(schema)
    assert info.value.position == position
    assert "Hint:" in str(info.value)


def test_binding_to_a_frame_records_the_column_types() -> None:
    frame = pd.DataFrame(
        {
            "score": [1.5],
            "name": ["a"],
            "at": pd.to_datetime(["2026-03-01"], utc=True),
            "budget": [10.0],
        }
    )
    bound = Condition.parse("score > 1 and name == 'a' and at < now() and budget.amount > 1")
    schema = bound.bind(frame).schema
    assert schema == {
        "score": ValueType.NUMBER,
        "name": ValueType.STRING,
        "at": ValueType.DATETIME,
        "budget.amount": ValueType.NUMBER,
    }
    with pytest.raises(RuleTypeError, match="cannot compare string with number"):
        Condition.parse("name > 1").bind(frame)
    with pytest.raises(UnknownFieldError, match="did you mean 'score'"):
        Condition.parse("scroe > 1").bind(frame)


def test_a_literal_type_error_is_found_when_parsed() -> None:
    with pytest.raises(RuleTypeError, match="cannot compare string with datetime") as info:
        Condition.parse("x > 1 or 'a' < datetime('2026-03-01T00:00:00+00:00')")
    assert info.value.position == 9
