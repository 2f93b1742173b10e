"""The configuration core: load_text, check_keys, and the trio on every configurable type."""

from __future__ import annotations

import json
import keyword
import pathlib
import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import crmlifecycle
from crmlifecycle._config import MAX_TEXT_CHARS, MAX_TEXT_DEPTH, Configurable, check_keys, load_text
from crmlifecycle.errors import SpecError
from crmlifecycle.rules import RuleSet
from crmlifecycle.scoring import NaiveBayesScorer, PointsScorer, RfmScorer
from crmlifecycle.sla import SlaPolicy
from crmlifecycle.stages import CASE_STATUS, LEAD_STATUS, OPPORTUNITY_PIPELINE, Lifecycle


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
                "pause_states": ["waiting_on_customer", "new"],
            }
        ),
        SlaPolicy.from_dict(
            {
                "targets": {"high": {"first_response": "1500ms"}},
                "lifecycle": {
                    "name": "ticket",
                    "states": [
                        {"name": "open", "type": "open"},
                        {"name": "parked", "type": "on_hold"},
                        {"name": "done", "type": "won"},
                    ],
                    "transitions": [
                        {"trigger": "park", "source": "open", "dest": "parked"},
                        {"trigger": "finish", "source": ["open", "parked"], "dest": "done"},
                    ],
                },
            }
        ),
        Lifecycle.from_dict(LEAD_STATUS.to_dict()),
        OPPORTUNITY_PIPELINE,
    ],
    ids=[
        "rules",
        "no-rules",
        "points",
        "rfm",
        "naive_bayes",
        "sla",
        "sla-custom-lifecycle",
        "lifecycle",
        "pipeline",
    ],
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
        if isinstance(configured, RuleSet | SlaPolicy | Lifecycle):
            assert again == configured


def test_rule_set_to_dict_writes_the_document_back() -> None:
    data = RuleSet.from_dict(RULES).to_dict()
    hot = data["rules"][0]
    assert hot["when"] == {"kind": "lead", "dest": ["contacted", "qualified"]}
    # weeks(1) + hours(2) = 170 hours, the largest unit that divides it
    assert hot["then"][3] == {"task": {"title": "Later", "due": "hours(170)"}}
    assert data["rules"][1] == {"name": "any", "then": [{"set": {"field": "seen", "value": True}}]}


# -- round-trip properties ----------------------------------------------------------------------

_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
# a set action names a public field: an identifier, not a keyword, not an edit argument
# (at, actor, context, entity: docs/rules.md)
_EDIT_ARGUMENTS = {"at", "actor", "context", "entity"}
_field_names = _names.filter(lambda n: not keyword.iskeyword(n) and n not in _EDIT_ARGUMENTS)
_texts = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .,:!?'-]{0,20}", fullmatch=True)
_one_or_more = _names | st.lists(_names, min_size=1, max_size=3, unique=True)
_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _texts
_dues = st.builds(
    "{}({})".format, st.sampled_from(["minutes", "hours", "days", "weeks"]), st.integers(0, 500)
)
_actions = st.one_of(
    st.builds(lambda trigger: {"fire": trigger}, _names),
    st.builds(lambda f, v: {"set": {"field": f, "value": v}}, _field_names, _scalars),
    st.builds(
        lambda title, due, who: {
            "task": {"title": title, "due": due} | ({"assignee": who} if who else {})
        },
        _texts,
        _dues,
        st.none() | _names,
    ),
    st.builds(lambda to, msg: {"notify": {"to": to, "message": msg}}, _names, _texts),
)
_conditions = st.sampled_from(
    ["score >= 70", "channel == 'webinar'", "score > 1 and channel != 'x'", "not flagged"]
)


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for name in draw(st.lists(_names, max_size=4, unique=True)):
        rule: dict[str, Any] = {"name": name}
        when = draw(
            st.dictionaries(st.sampled_from(["kind", "trigger", "source", "dest"]), _one_or_more)
        )
        if when:
            rule["when"] = when
        if draw(st.booleans()):
            rule["if"] = draw(_conditions)
        rule["then"] = draw(st.lists(_actions, max_size=4))
        if priority := draw(st.integers(-5, 5)):
            rule["priority"] = priority
        if draw(st.booleans()):
            rule["stop"] = True
        rules.append(rule)
    return {"rules": rules}


@given(rule_documents())
def test_rule_sets_round_trip(document: dict[str, Any]) -> None:
    rules = RuleSet.from_dict(document)
    data = rules.to_dict()
    assert RuleSet.from_dict(data) == rules
    assert RuleSet.from_text(json.dumps(data)) == rules
    assert RuleSet.from_text(yaml.safe_dump(data)) == rules
    assert RuleSet.from_dict(data).to_dict() == data


_durations = st.none() | st.builds(
    "{}{}".format, st.integers(1, 200), st.sampled_from(["min", "h"])
)


@st.composite
def sla_documents(draw: st.DrawFn) -> dict[str, Any]:
    targets = draw(
        st.dictionaries(
            _names,
            st.fixed_dictionaries(
                {}, optional={"first_response": _durations, "resolution": _durations}
            ),
            min_size=1,
            max_size=4,
        )
    )
    document: dict[str, Any] = {"targets": targets}
    if draw(st.booleans()):
        document["calendar"] = {
            "tz": draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"])),
            "hours": {"mon-fri": "09:00-17:00"},
        }
    states = st.sampled_from(CASE_STATUS.states)  # a policy names states of its lifecycle
    # a state pauses or stops the clocks, not both: disjoint candidates, each also disjoint
    # from the other's defaults (pause: waiting_on_customer; stop: resolved, closed)
    pausing = st.sampled_from(["new", "waiting_on_customer"])
    stopping = st.sampled_from(["in_progress", "resolved", "closed"])
    if draw(st.booleans()):
        document["pause_states"] = draw(st.lists(pausing, max_size=2, unique=True))
    if draw(st.booleans()):
        document["stop_states"] = draw(st.lists(stopping, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):  # a case cannot open in a state that stops its clocks
        stops = document.get("stop_states", ["resolved", "closed"])
        document["initial_state"] = draw(states.filter(lambda s: s not in stops))
    return document


@given(sla_documents())
def test_sla_policies_round_trip(document: dict[str, Any]) -> None:
    policy = SlaPolicy.from_dict(document)
    data = policy.to_dict()
    assert SlaPolicy.from_dict(data) == policy
    assert SlaPolicy.from_text(json.dumps(data)) == policy
    assert SlaPolicy.from_text(yaml.safe_dump(data)) == policy


_points = st.integers(-100, 100).map(float)


@st.composite
def points_documents(draw: st.DrawFn) -> dict[str, Any]:
    fit = [
        {"name": name, "when": draw(_conditions), "points": draw(_points)}
        for name in draw(st.lists(_names, max_size=3, unique=True))
    ]
    engagement = []
    for kind in draw(st.lists(_names, max_size=3, unique=True)):
        rule: dict[str, Any] = {"kind": kind, "points": draw(_points)}
        if draw(st.booleans()):
            rule["half_life_days"] = float(draw(st.integers(1, 60)))
        if draw(st.booleans()):
            rule["category"] = draw(st.sampled_from(["email", "web"]))
        engagement.append(rule)
    categories = sorted({r.get("category", r["kind"]) for r in engagement})
    caps = (
        draw(st.dictionaries(st.sampled_from(categories), _points.map(abs))) if categories else {}
    )
    lows = draw(st.lists(st.integers(0, 100), min_size=1, max_size=3, unique=True))
    grades = dict(zip("ABC", map(float, lows), strict=False))
    return {
        "scorer": "points",
        "fit": fit,
        "engagement": engagement,
        "caps": caps,
        "grades": grades,
    }


@given(points_documents())
def test_points_scorers_round_trip(document: dict[str, Any]) -> None:
    data = PointsScorer.from_dict(document).to_dict()
    assert PointsScorer.from_dict(data).to_dict() == data
    assert PointsScorer.from_text(json.dumps(data)).to_dict() == data
    assert PointsScorer.from_text(yaml.safe_dump(data)).to_dict() == data


# -- one checker, one loader ----------------------------------------------------------------------

SOURCE = pathlib.Path(crmlifecycle.__file__).parent


def test_key_errors_are_worded_only_by_check_keys() -> None:
    # the four loaders (specs, rule sets, scorers, SLA policies) once each had their own wording
    worded = re.compile(
        r"""f?["'](unknown key|missing (required )?(key|field)|allowed (keys|fields))"""
    )
    offenders = [
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if path.name != "_config.py" and worded.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_configuration_text_is_parsed_only_by_the_bounded_loader() -> None:
    # YAML only through _yaml (behind load_text); JSON elsewhere only for events and manifests
    allowed_json = {
        "_config.py",
        "events.py",
        "stages/_event_log.py",
        "_event_rows.py",  # an event-log frame's changes cells stored as JSON text
        "cli/_common.py",
        "synth/_io.py",
    }
    yaml_readers, json_readers = [], []
    for path in SOURCE.rglob("*.py"):
        name = str(path.relative_to(SOURCE))
        text = path.read_text(encoding="utf-8")
        if name != "_yaml.py" and re.search(r"yaml\.(safe_)?load\b|yaml\.load\(", text):
            yaml_readers.append(name)
        if name not in allowed_json and "json.loads(" in text:
            json_readers.append(name)
    assert (yaml_readers, json_readers) == ([], [])
