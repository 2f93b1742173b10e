"""Rule documents: every loading error with its path, events and entities of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from crmlifecycle.entities import Lead
from crmlifecycle.errors import DataError, SpecError
from crmlifecycle.rules import CreateTask, FireTrigger, Notify, RuleSet, SetField
from crmlifecycle.schema import EntityColumns

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "kind": "lead",
    "entity_id": "L-1",
    "trigger": "contact",
    "source": "open",
    "dest": "contacted",
    "at": T0,
}


def rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [{"name": "r", "then": [], **fields}]}


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        (rule(name=""), "rules[0].name", "must be non-empty text"),
        (rule(name=3), "rules[0].name", "must be non-empty text"),
        (
            rule(then=[{"task": {"title": "t", "due": 2}}]),
            "rules[0].then[0].task.due",
            "must be a duration such as",
        ),
        (
            rule(then=[{"task": {"title": "t", "due": "days(x)"}}]),
            "rules[0].then[0].task.due",
            "must be a constant duration",
        ),
        (
            rule(then=[{"task": {"title": "t", "due": "days(1000000)"}}]),
            "rules[0].then[0].task.due",
            "exceeds the limit of 100000 days",
        ),
        (
            rule(then=[{"task": {"title": "t", "due": "2"}}]),
            "rules[0].then[0].task.due",
            "must be a constant duration",
        ),
        (
            rule(then=[{"task": {"title": "t", "due": "days("}}]),
            "rules[0].then[0].task.due",
            "invalid syntax",
        ),
        (
            rule(then=[{"task": {"title": "t", "assignee": ""}}]),
            "rules[0].then[0].task.assignee",
            "must be non-empty text",
        ),
        (rule(then=["fire"]), "rules[0].then[0]", "each action is a mapping with one key"),
        (
            rule(then=[{"fire": "a", "set": {}}]),
            "rules[0].then[0]",
            "each action is a mapping with one key",
        ),
        (rule(then=[{"notify": "sales"}]), "rules[0].then[0].notify", "must be a mapping"),
        (
            rule(then=[{"set": {"field": "f"}}]),
            "rules[0].then[0].set.value",
            "missing required key 'value'",
        ),
        (
            rule(then=[{"notify": {"to": "a", "msg": "b"}}]),
            "rules[0].then[0].notify.msg",
            "unknown key 'msg' \\(did you mean 'message'\\?\\)",
        ),
        (rule(then="fire"), "rules[0].then", "must be a list of actions"),
        (rule(when=["lead"]), "rules[0].when", r"expected a mapping \(got list\)"),
        (rule(when={"kind": []}), "rules[0].when.kind", "non-empty list of names"),
        (rule(when={"dest": ["a", ""]}), "rules[0].when.dest", "non-empty list of names"),
        (rule(when={"stage": "a"}), "rules[0].when.stage", "unknown key 'stage'"),
        (rule(stop="yes"), "rules[0].stop", "must be true or false"),
        (rule(priority=True), "rules[0].priority", "must be a whole number"),
        ({"rules": ["r"]}, "rules[0]", r"expected a mapping \(got str\)"),
        ({"rules": "r"}, "rules", "must be a list of rules"),
        ({"rules": [{"name": "r"}]}, "rules[0].then", "missing required key 'then'"),
    ],
)
def test_every_loading_error_names_its_path(
    document: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as info:
        RuleSet.from_dict(document)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")


def test_a_document_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match=r"expected a mapping \(got list\)"):
        RuleSet.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="invalid JSON at line 1, column 2 of a rule set"):
        RuleSet.from_text("{rules: []")
    with pytest.raises(SpecError, match=r"expected a mapping \(got list\)"):
        RuleSet.from_text("- a\n- b")
    assert RuleSet.from_dict({"version": 1, "rules": []}).rules == ()


def test_actions_and_their_defaults() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {
                    "name": "all",
                    "then": [
                        {"task": {"title": "Now"}},
                        {"task": {"title": "Later", "due": "weeks(1) + hours(2)"}},
                        {"set": {"field": "flag", "value": None}},
                        {"notify": {"to": "ops", "message": "done"}},
                    ],
                }
            ]
        }
    )
    assert rules.evaluate(EVENT) == [
        CreateTask(rule="all", entity_id="L-1", title="Now", due_at=T0),  # due: days(0)
        CreateTask(rule="all", entity_id="L-1", title="Later", due_at=T0 + timedelta(hours=170)),
        SetField(rule="all", entity_id="L-1", field="flag", value=None),
        Notify(rule="all", entity_id="L-1", to="ops", message="done"),
    ]
    assert repr(rules) == "RuleSet(['all'])"


def test_an_explicit_evaluation_time_moves_due_dates_on_both_forms() -> None:
    rules = RuleSet.from_dict(
        {"rules": [{"name": "t", "then": [{"task": {"title": "x", "due": "days(2)"}}]}]}
    )
    at = datetime(2026, 4, 1, tzinfo=UTC)
    # 1 April + 2 days = 3 April, whatever the event's own time
    assert rules.evaluate(EVENT, as_of=at)[0] == CreateTask(
        rule="t", entity_id="L-1", title="x", due_at=datetime(2026, 4, 3, tzinfo=UTC)
    )
    frame = rules.evaluate_frame(pd.DataFrame([EVENT]), as_of=at)
    assert frame["due_at"].tolist() == [pd.Timestamp("2026-04-03", tz="UTC")]


def test_events_need_kind_entity_id_and_at() -> None:
    rules = RuleSet.from_dict({"rules": []})
    for key in ("kind", "entity_id", "at"):
        with pytest.raises(SpecError, match=f"the event has no '{key}'") as info:
            rules.evaluate({k: v for k, v in EVENT.items() if k != key})
        assert info.value.path == f"event.{key}"


def test_entities_are_mappings_attrs_entities_or_none() -> None:
    rules = RuleSet.from_dict(
        {"rules": [{"name": "r", "if": "event.dest == 'contacted'", "then": [{"fire": "go"}]}]}
    )
    assert rules.evaluate(EVENT) == [FireTrigger(rule="r", entity_id="L-1", trigger="go")]
    lead = Lead(id="L-1", created_at=T0, channel="webinar")
    assert len(rules.evaluate(EVENT, lead)) == 1
    with pytest.raises(SpecError, match="cannot read a list as an entity") as info:
        rules.evaluate(EVENT, [1])
    assert info.value.path == "entity"


def test_schemas_by_kind_bind_only_rules_of_that_kind() -> None:
    doc = {
        "rules": [
            {"name": "lead", "when": {"kind": "lead"}, "if": "score > 1", "then": []},
            {"name": "any", "if": "whatever > 1", "then": []},
        ]
    }
    loaded = RuleSet.from_dict(doc, schemas={"lead": Lead})
    assert loaded.rules[0].condition is not None
    assert loaded.rules[0].condition.schema is not None
    assert loaded.rules[1].condition is not None
    assert loaded.rules[1].condition.schema is None  # no single kind: left unbound
    bad = {"rules": [{"name": "lead", "when": {"kind": "lead"}, "if": "scroe > 1", "then": []}]}
    with pytest.raises(SpecError, match="did you mean 'score'") as info:
        RuleSet.from_dict(bad, schemas={"lead": Lead})
    assert info.value.path == "rules[0].if"
    # a schema for another kind leaves the rule unbound
    RuleSet.from_dict(bad, schemas={"customer": Lead})


def test_frame_form_refuses_duplicate_entities_and_clashing_columns() -> None:
    rules = RuleSet.from_dict({"rules": [{"name": "r", "then": [{"fire": "go"}]}]})
    events = pd.DataFrame([EVENT])
    with pytest.raises(DataError, match="duplicate entity ids"):
        rules.evaluate_frame(events, pd.DataFrame({"lead_id": ["L-1", "L-1"]}))
    with pytest.raises(DataError, match=r"clash with the event\.\* names"):
        rules.evaluate_frame(events, pd.DataFrame({"lead_id": ["L-1"], "event.kind": ["x"]}))


def test_frame_form_finds_the_entity_id_column_by_the_events_kind() -> None:
    rules = RuleSet.from_dict(
        {"rules": [{"name": "r", "if": "score >= 50", "then": [{"fire": "go"}]}]}
    )
    events = pd.DataFrame([EVENT])
    leads = pd.DataFrame({"lead_id": ["L-1"], "score": [80]})
    assert rules.evaluate_frame(events, leads)["action"].tolist() == ["fire"]
    renamed = leads.rename(columns={"lead_id": "key"})
    chosen = rules.evaluate_frame(events, renamed, entities_columns=EntityColumns(id="key"))
    assert chosen["action"].tolist() == ["fire"]
    mixed = pd.DataFrame([EVENT, {**EVENT, "kind": "opportunity", "entity_id": "O-1"}])
    with pytest.raises(DataError, match=r"2 kinds \(\['lead', 'opportunity'\]\)"):
        rules.evaluate_frame(mixed, leads)
