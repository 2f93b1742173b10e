"""The configuration core: load_text, check_keys, and the trio on every configurable type."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from crmlifecycle._config import MAX_TEXT_CHARS, MAX_TEXT_DEPTH, Configurable, check_keys, load_text
from crmlifecycle.errors import SpecError
from crmlifecycle.rules import RuleSet
from crmlifecycle.scoring import NaiveBayesScorer, PointsScorer, RfmScorer
from crmlifecycle.sla import SlaPolicy


def test_json_and_yaml_read_the_same_document() -> None:
    document = {"rules": [{"name": "a", "then": [{"fire": "x"}]}], "version": 1}
    assert load_text(json.dumps(document)) == document
    assert load_text(json.dumps(document, indent=2)) == document
    assert load_text(yaml.safe_dump(document)) == document
    assert load_text("\n\n  [1, 2]") == [1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1,}', "invalid JSON at line 1, column 9 of the document"),
        ('\n\n{"a": }', "invalid JSON at line 3, column 7 of the document"),
        ("[1, 2", "invalid JSON at line 1, column 6"),
        ("a: [1\nb: 2", "invalid YAML at line 2, column 2"),
        ("", "the document is empty"),
        ("   \n", "the document is empty"),
        ("a: &x 1\nb: *x", "anchors and aliases are not allowed"),
        ("[" * (MAX_TEXT_DEPTH + 1) + "]" * (MAX_TEXT_DEPTH + 1), "nested deeper than"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ("a: " + "x" * MAX_TEXT_CHARS, "more than 1,000,000"),
        ('{"a": ' + "1" * MAX_TEXT_CHARS + "}", "more than 1,000,000"),
    ],
    ids=[
        "json-trailing-comma",
        "json-line-3",
        "json-unclosed",
        "yaml-unclosed",
        "empty",
        "blank",
        "yaml-alias",
        "json-depth",
        "json-recursion",
        "yaml-size",
        "json-size",
    ],
)
def test_bad_text_is_a_spec_error_with_a_position(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_text(text)


def test_the_json_depth_limit_is_the_yaml_one() -> None:
    at_limit = "[" * MAX_TEXT_DEPTH + "]" * MAX_TEXT_DEPTH
    assert load_text(at_limit) is not None
    assert load_text(at_limit.replace("[]", "[1]")) is not None


def test_what_names_the_document_and_text_is_required() -> None:
    with pytest.raises(SpecError, match="of a rule set"):
        load_text("{", what="a rule set")
    with pytest.raises(SpecError, match="a rule set must be text"):
        load_text({"rules": []}, what="a rule set")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mapping", "kwargs", "path", "message"),
    [
        (
            {"nam": 1},
            {"optional": ["name"]},
            "nam",
            "unknown key 'nam' \\(did you mean 'name'\\?\\)",
        ),
        ({"zzz": 1}, {"optional": ["name"]}, "zzz", "unknown key 'zzz'. Hint: the keys allowed"),
        ({}, {"required": ["name"]}, "name", "missing required key 'name'. Hint: add name:"),
        ([1], {"optional": ["name"]}, "", "expected a mapping \\(got list\\)"),
        (None, {"path": "rules[0].when"}, "rules[0].when", "expected a mapping \\(got NoneType\\)"),
        ({"a": 1}, {"path": "x[0]"}, "x[0].a", "unknown key 'a'"),
        ({1: "a"}, {"optional": ["a"], "path": "p"}, "p.1", "unknown key 1"),
    ],
)
def test_check_keys_has_one_wording(
    mapping: object, kwargs: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as info:
        check_keys(mapping, **kwargs)
    assert info.value.path == path
    assert "Hint:" in str(info.value)


def test_check_keys_reports_unknown_keys_before_missing_ones() -> None:
    with pytest.raises(SpecError, match="unknown key 'nme'") as info:
        check_keys({"nme": "a"}, required=["name"])
    assert info.value.path == "nme"


def test_check_keys_returns_the_mapping() -> None:
    data = {"name": "a", "type": "open"}
    assert check_keys(data, required=["name"], optional=["type"]) is data


RULES = {
    "rules": [
        {
            "name": "hot",
            "when": {"kind": "lead", "dest": ["contacted", "qualified"]},
            "if": "score >= 70 and source == 'webinar'",
            "then": [
                {"fire": "qualify"},
                {"set": {"field": "owner", "value": "inside-sales"}},
                {"task": {"title": "Call back", "due": "days(2)", "assignee": "ada"}},
                {"task": {"title": "Later", "due": "weeks(1) + hours(2)"}},
                {"notify": {"to": "sales", "message": "Hot lead"}},
            ],
            "priority": 10,
            "stop": True,
        },
        {"name": "any", "then": [{"set": {"field": "seen", "value": True}}]},
    ]
}


@pytest.mark.parametrize(
    "configured",
    [
        RuleSet.from_dict(RULES),
        RuleSet.from_dict({"rules": []}),
        PointsScorer.bant(),
        RfmScorer(),
        NaiveBayesScorer(features=["country"]),
        SlaPolicy.from_dict(
            {
                "calendar": {"tz": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}},
                "targets": {"urgent": {"first_response": "1h", "resolution": "4h"}, "low": {}},
                "pause_states": ["waiting_on_customer", "on_hold"],
            }
        ),
    ],
    ids=["rules", "no-rules", "points", "rfm", "naive_bayes", "sla"],
)
def test_every_configurable_type_round_trips(configured: Any) -> None:
    assert isinstance(configured, Configurable)
    data = configured.to_dict()
    cls = type(configured)
    for again in (
        cls.from_dict(data),
        cls.from_text(json.dumps(data)),
        cls.from_text(yaml.safe_dump(data)),
    ):
        assert again.to_dict() == data
        if isinstance(configured, RuleSet | SlaPolicy):
            assert again == configured


def test_rule_set_to_dict_writes_the_document_back() -> None:
    data = RuleSet.from_dict(RULES).to_dict()
    hot = data["rules"][0]
    assert hot["when"] == {"kind": "lead", "dest": ["contacted", "qualified"]}
    # weeks(1) + hours(2) = 170 hours, the largest unit that divides it
    assert hot["then"][3] == {"task": {"title": "Later", "due": "hours(170)"}}
    assert data["rules"][1] == {"name": "any", "then": [{"set": {"field": "seen", "value": True}}]}
