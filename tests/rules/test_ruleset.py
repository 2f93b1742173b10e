"""Automation rules: loading with error paths, ordering and conflicts, the frame form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.entities import Lead
from crmlifecycle.errors import DataError, MissingColumnError, SpecError, UnknownFieldError
from crmlifecycle.events import Transitioned
from crmlifecycle.rules import CreateTask, FireTrigger, Notify, RuleSet, SetField
from crmlifecycle.schema import EntityColumns, EventLogColumns

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)

DOC: dict[str, Any] = {
    "rules": [
        {
            "name": "log-every-contact",
            "when": {"kind": "lead", "trigger": "contact"},
            "then": [{"notify": {"to": "log", "message": "contacted"}}],
        },
        {
            "name": "hot-webinar-lead",
            "priority": 10,
            "when": {"kind": "lead", "dest": ["contacted"]},
            "if": "score >= 70 and channel == 'webinar'",
            "then": [
                {"fire": "qualify"},
                {"set": {"field": "owner", "value": "key-accounts"}},
                {"task": {"title": "Call back", "due": "days(2)", "assignee": "sales"}},
            ],
            "stop": True,
        },
        {
            "name": "warm-lead",
            "priority": 5,
            "when": {"kind": "lead"},
            "if": "score >= 40",
            "then": [{"fire": "nurture"}, {"set": {"field": "owner", "value": "inside-sales"}}],
        },
        {
            "name": "second-owner",
            "priority": 1,
            "if": "event.source == 'open'",
            "then": [{"set": {"field": "owner", "value": "ignored"}}, {"fire": "ignored"}],
        },
    ]
}


def event(
    entity_id: str = "L-1", trigger: str = "contact", dest: str = "contacted"
) -> Transitioned:
    return Transitioned(
        kind="lead", entity_id=entity_id, trigger=trigger, source="open", dest=dest, at=T0
    )


def test_stop_processing_and_priority() -> None:
    rules = RuleSet.from_dict(DOC)
    assert [r.name for r in rules.rules] == [
        "hot-webinar-lead",
        "warm-lead",
        "second-owner",
        "log-every-contact",
    ]
    actions = rules.evaluate(event(), {"score": 80, "channel": "webinar"})
    assert actions == [
        FireTrigger(rule="hot-webinar-lead", entity_id="L-1", trigger="qualify"),
        SetField(rule="hot-webinar-lead", entity_id="L-1", field="owner", value="key-accounts"),
        CreateTask(
            rule="hot-webinar-lead",
            entity_id="L-1",
            title="Call back",
            due_at=T0 + timedelta(days=2),
            assignee="sales",
        ),
    ]


def test_conflicts_first_fire_and_first_set_win() -> None:
    rules = RuleSet.from_dict(DOC)
    actions = rules.evaluate(event(), {"score": 50, "channel": "email"})
    assert actions == [
        FireTrigger(rule="warm-lead", entity_id="L-1", trigger="nurture"),
        SetField(rule="warm-lead", entity_id="L-1", field="owner", value="inside-sales"),
        Notify(rule="log-every-contact", entity_id="L-1", to="log", message="contacted"),
    ]


def test_entities_and_mapping_events_are_accepted() -> None:
    lead = Lead(id="L-9", created_at=T0, channel="webinar", score=90.0)
    mapping = {
        "kind": "lead",
        "entity_id": "L-9",
        "trigger": "contact",
        "source": "open",
        "dest": "contacted",
        "at": T0,
    }
    rules = RuleSet.from_dict(DOC)
    assert [a.action for a in rules.evaluate(mapping, lead)] == ["fire", "set", "task"]
    assert rules.evaluate(event(trigger="other", dest="other"), lead) == [
        FireTrigger(rule="warm-lead", entity_id="L-1", trigger="nurture"),
        SetField(rule="warm-lead", entity_id="L-1", field="owner", value="inside-sales"),
    ]


def test_json_and_yaml_load_the_same_rules() -> None:
    from_json = RuleSet.from_text(json.dumps(DOC))
    yaml_text = """
rules:
  - name: hot
    when: {kind: lead, dest: contacted}
    if: >
      score >= 70
      and channel == 'webinar'
    then:
      - fire: qualify
"""
    from_yaml = RuleSet.from_text(yaml_text)
    assert from_json.evaluate(event(), {"score": 80, "channel": "webinar"})[0].action == "fire"
    assert from_yaml.evaluate(event(), {"score": 80, "channel": "webinar"}) == [
        FireTrigger(rule="hot", entity_id="L-1", trigger="qualify")
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"rules": [{"name": "a", "then": []}] * 2}, "rules[1].name: duplicate rule name"),
        ({"rules": [{"name": "a", "then": [], "iff": "x"}]}, "rules[0].iff: unknown key 'iff'"),
        ({"rules": [{"name": "a", "then": [{"fire": ""}]}]}, "rules[0].then[0].fire"),
        ({"rules": [{"name": "a", "then": [{"fir": "x"}]}]}, "did you mean 'fire'"),
        (
            {"rules": [{"name": "a", "then": [{"task": {"title": "t", "due": "now()"}}]}]},
            "rules[0].then[0].task.due",
        ),
        (
            {"rules": [{"name": "a", "then": [{"set": {"field": "f", "value": [1]}}]}]},
            "rules[0].then[0].set.value",
        ),
        ({"rules": [{"name": "a", "if": "x >", "then": []}]}, "rules[0].if: invalid syntax"),
        ({"rules": [{"name": "a", "if": "__import__('os')", "then": []}]}, "rules[0].if"),
        ({"rules": [{"name": "a", "when": {"kind": 3}, "then": []}]}, "rules[0].when.kind"),
        ({"rules": [{"name": "a", "priority": "high", "then": []}]}, "rules[0].priority"),
        ({"rule": []}, "did you mean 'rules'"),
    ],
)
def test_every_error_names_its_path(document: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RuleSet.from_dict(document)


def test_binding_to_a_schema_at_load_time() -> None:
    doc = {
        "rules": [{"name": "a", "then": []}] * 3 + [{"name": "d", "if": "scroe > 1", "then": []}]
    }
    doc["rules"] = [dict(r, name=f"r{i}") for i, r in enumerate(doc["rules"])]
    with pytest.raises(SpecError) as info:
        RuleSet.from_dict(doc, schema=Lead)
    assert str(info.value).startswith("rules[3].if: unknown field 'scroe' (did you mean 'score'?)")
    assert info.value.path == "rules[3].if"
    ok = {"rules": [{"name": "a", "if": "event.dest == 'x' and score > 1", "then": []}]}
    RuleSet.from_dict(ok, schema=Lead)
    RuleSet.from_dict(ok, schemas={"lead": Lead})


def test_missing_entity_field_is_an_error_in_record_form() -> None:
    with pytest.raises(UnknownFieldError):
        RuleSet.from_dict(DOC).evaluate(event(), {"channel": "webinar"})


# -- the frame form agrees with the record form -----------------------------------------
LEADS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 100)),
        st.one_of(st.none(), st.sampled_from(["webinar", "email", "social"])),
        st.sampled_from(["contact", "other"]),
        st.sampled_from(["contacted", "open"]),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=60, deadline=None)
@given(LEADS)
def test_frame_form_matches_record_form(
    rows: list[tuple[int | None, str | None, str, str]],
) -> None:
    rules = RuleSet.from_dict(DOC)
    ids = [f"L-{i}" for i in range(len(rows))]
    channels = [c for _, c, *_ in rows]
    # as read_csv reads it: a column with no value at all is all-NaN float64
    blank = all(c is None for c in channels)
    entities = pd.DataFrame(
        {
            "lead_id": ids,
            "score": pd.Series([s for s, *_ in rows], dtype="float64"),
            "channel": pd.Series(channels, dtype="float64" if blank else "str"),
        }
    )
    events = pd.DataFrame(
        {
            "kind": "lead",
            "entity_id": ids,
            "trigger": [t for *_, t, _ in rows],
            "source": "open",
            "dest": [d for *_, d in rows],
            "at": [T0 + timedelta(hours=i) for i in range(len(rows))],
        },
        index=[f"e{i}" for i in range(len(rows))],
    )
    frame = rules.evaluate_frame(events, entities)
    expected = []
    for label, ev, ent in zip(
        events.index, events.to_dict("records"), entities.to_dict("records"), strict=True
    ):
        for action in rules.evaluate(ev, ent):
            expected.append(  # noqa: PERF401 - clearer as a loop
                (
                    label,
                    action.entity_id,
                    action.rule,
                    action.action,
                    getattr(action, "trigger", None),
                    getattr(action, "field", None),
                    getattr(action, "due_at", None),
                )
            )
    got = [
        (
            r["event"],
            r["entity_id"],
            r["rule"],
            r["action"],
            None if pd.isna(r["trigger"]) else r["trigger"],
            None if pd.isna(r["field"]) else r["field"],
            None if pd.isna(r["due_at"]) else r["due_at"].to_pydatetime(),
        )
        for r in frame.to_dict("records")
    ]
    assert got == expected


def test_frame_form_columns_and_empty_result() -> None:
    rules = RuleSet.from_dict({"rules": [{"name": "none", "if": "1 > 2", "then": [{"fire": "x"}]}]})
    events = pd.DataFrame({"kind": ["lead"], "entity_id": ["L-1"], "at": [T0]})
    result = rules.evaluate_frame(events)
    assert list(result.columns) == [
        "event",
        "entity_id",
        "rule",
        "action",
        "trigger",
        "field",
        "value",
        "title",
        "due_at",
        "assignee",
        "to",
        "message",
    ]
    assert result.empty


def test_frame_form_reads_renamed_columns_through_the_spec_records() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {
                    "name": "hot",
                    "when": {"kind": "deal", "dest": "proposal"},
                    "if": "amount > 100 and event.dest == 'proposal'",
                    "then": [{"fire": "review"}, {"task": {"title": "call", "due": "days(1)"}}],
                }
            ]
        }
    )
    events = pd.DataFrame(
        {
            "kind": ["deal", "deal"],
            "deal_id": ["D-1", "D-2"],
            "to_stage": ["proposal", "proposal"],
            "changed_at": [T0, T0 + timedelta(hours=1)],
        }
    )
    deals = pd.DataFrame({"opportunity_id": ["D-1", "D-2"], "amount": [500.0, 50.0]})
    result = rules.evaluate_frame(
        events,
        deals,
        events_columns=EventLogColumns(entity_id="deal_id", dest="to_stage", at="changed_at"),
        entities_columns=EntityColumns(id="opportunity_id"),
    )
    # only D-1 (amount 500 > 100) matches: one fire, one task due a day after its event
    assert result[["event", "entity_id", "action"]].to_numpy().tolist() == [
        [0, "D-1", "fire"],
        [0, "D-1", "task"],
    ]
    assert result["due_at"].iloc[1] == pd.Timestamp(T0 + timedelta(days=1))
    with pytest.raises(MissingColumnError, match="deal_id"):
        rules.evaluate_frame(
            events.drop(columns="deal_id"),
            events_columns=EventLogColumns(entity_id="deal_id", dest="to_stage", at="changed_at"),
        )
    clash = events.assign(dest="won")
    with pytest.raises(DataError, match="dest"):
        rules.evaluate_frame(
            clash,
            events_columns=EventLogColumns(entity_id="deal_id", dest="to_stage", at="changed_at"),
        )
