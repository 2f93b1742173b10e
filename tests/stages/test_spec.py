"""Specs: round trips, validation paths, hostile documents, lint findings, Mermaid output."""

from __future__ import annotations

import builtins
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from crmlifecycle import Lead
from crmlifecycle.errors import GuardRejected, RuleError, SpecError
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STANDARD_SPECS,
    Guard,
    Hook,
    Lifecycle,
    TransitionDef,
    lint_spec,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STANDARD = [CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE, CASE_STATUS]


@pytest.mark.parametrize("lifecycle", STANDARD, ids=lambda lc: lc.name)
def test_standard_specs_round_trip_through_dict_json_and_yaml(lifecycle: Lifecycle) -> None:
    spec = lifecycle.to_dict()
    assert Lifecycle.from_dict(spec).to_dict() == spec
    assert Lifecycle.from_text(json.dumps(spec)).to_dict() == spec
    assert Lifecycle.from_text(yaml.safe_dump(spec)).to_dict() == spec
    assert lifecycle.lint() == ()


def test_to_dict_is_the_shipped_spec_normalised() -> None:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    assert spec["states"][2] == {
        "name": "proposal",
        "type": "ongoing",
        "probability": 50,
        "forecast": "best_case",
    }
    assert spec["transitions"][-1] == {"trigger": "reopen", "source": "lost", "to_last_open": True}
    assert set(STANDARD_SPECS) == {"case", "customer", "lead", "opportunity"}


YAML_SPEC = """
name: enterprise_deal
kind: opportunity
states:
  - {name: discovery, type: open, probability: 5, forecast: pipeline}
  - {name: pilot, type: ongoing, probability: 40, forecast: best_case}
  - {name: signed, type: won, probability: 100, forecast: closed}
  - {name: dropped, type: lost, probability: 0, forecast: omitted}
transitions:
  - trigger: start_pilot
    source: discovery
    dest: pilot
    when: "amount >= 50000 or owner == 'vip'"
  - {trigger: sign, source: pilot, dest: signed, after: notify}
  - {trigger: drop, source: [discovery, pilot], dest: dropped}
  - {trigger: revive, source: dropped, to_last_open: true}
"""


def test_custom_yaml_spec_with_condition_guard_and_registered_hook() -> None:
    calls: list[str] = []

    def notify(entity: Any, info: Any) -> None:
        calls.append(f"{entity.id}:{info.trigger}")

    lc = Lifecycle.from_text(YAML_SPEC, hooks={"notify": notify})
    assert lc.kind == "opportunity"
    assert lc.lint() == ()
    spec = lc.to_dict()
    assert spec["transitions"][0]["when"] == "amount >= 50000 or owner == 'vip'"
    assert spec["transitions"][1]["after"] == "notify"
    assert Lifecycle.from_dict(spec, hooks={"notify": notify}).to_dict() == spec
    with pytest.raises(SpecError, match="unknown hook 'notify'"):
        Lifecycle.from_dict(spec)


def test_a_python_guard_cannot_be_written_to_a_spec() -> None:
    lc = Lifecycle(
        "t",
        ["a", "b"],
        [
            TransitionDef(
                trigger="go",
                source="a",
                dest="b",
                conditions=(Guard.of(lambda _e, _i: True, name="yes"),),
            )
        ],
    )
    with pytest.raises(SpecError, match="Python callable") as info:
        lc.to_dict()
    assert info.value.path == "transitions[0].when"


def _base(**transition: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "kind": "lead",  # it steps Lead records
        "states": ["a", "b"],
        "transitions": [{"trigger": "go", "source": "a", "dest": "b", **transition}],
    }


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ({"states": ["a"]}, "name", "missing required key 'name'"),
        ({"name": "t", "states": "a"}, "states", "must be a list"),
        ({"name": "t", "states": []}, "states", "at least one state"),
        ({"name": "t", "states": ["a", "a"]}, "states[1].name", "duplicate state"),
        ({"name": "t", "states": ["a b"]}, "states[0].name", "identifier"),
        ({"name": "t", "states": [{"name": "a", "type": "done"}]}, "states[0].type", "status type"),
        (
            {"name": "t", "states": [{"name": "a", "probability": 150}]},
            "states[0].probability",
            "0 to 100",
        ),
        (
            {"name": "t", "states": [{"name": "a", "forecast": "maybe"}]},
            "states[0].forecast",
            "forecast category",
        ),
        ({"name": "t", "states": [{"nam": "a"}]}, "states[0].nam", "did you mean 'name'"),
        ({"name": "t", "states": ["a"], "initial": "z"}, "initial", "unknown state 'z'"),
        (_base(dest="c"), "transitions[0].dest", "unknown state 'c'"),
        (_base(source=["a", "q"]), "transitions[0].source[1]", "unknown state 'q'"),
        (_base(internal=True), "transitions[0].dest", "exactly one of"),
        (_base(trigger="go now"), "transitions[0].trigger", "identifier"),
        (_base(internal="yes"), "transitions[0].internal", "true or false"),
        (_base(when=7), "transitions[0].when", "string or a list"),
        (_base(when="score >>= 3"), "transitions[0].when[0]", "invalid condition"),
    ],
)
def test_spec_errors_name_the_path(spec: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        Lifecycle.from_dict(spec)
    assert info.value.path == path


def test_bad_text_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="invalid JSON at line 1"):
        Lifecycle.from_text('{"name": }')
    with pytest.raises(SpecError, match="invalid YAML"):
        Lifecycle.from_text("name: [unclosed")
    with pytest.raises(SpecError, match="a mapping"):
        Lifecycle.from_text("- just\n- a list\n")


def test_from_dict_takes_a_mapping_and_from_text_takes_text() -> None:
    text = '{"name": "t", "states": ["a"], "transitions": []}'
    with pytest.raises(SpecError, match=r"Lifecycle\.from_text"):
        Lifecycle.from_dict(text)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"Lifecycle\.from_dict"):
        Lifecycle.from_text({"name": "t", "states": ["a"]})  # type: ignore[arg-type]
    assert Lifecycle.from_text(text).to_dict() == Lifecycle.from_dict(json.loads(text)).to_dict()


HOSTILE_NAMES = ["os.system", "builtins.print", "os.path.isdir", "subprocess.call", "__import__"]


def _spy(monkeypatch: pytest.MonkeyPatch, calls: list[object]) -> None:
    def record(*args: object, **_kwargs: object) -> bool:
        calls.append(args)
        return True

    monkeypatch.setattr(builtins, "print", record)
    monkeypatch.setattr(os.path, "isdir", record)
    monkeypatch.setattr(os, "system", record)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_hook_names_are_refused_and_never_imported(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    _spy(monkeypatch, calls)
    modules_before = set(sys.modules)
    for key in ("before", "after"):
        with pytest.raises(SpecError, match="unknown hook") as info:
            Lifecycle.from_dict(_base(**{key: name}))
        assert info.value.path == f"transitions[0].{key}[0]"
    assert calls == []
    assert set(sys.modules) - modules_before == set()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_conditions_are_refused(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    _spy(monkeypatch, calls)
    for text in (name, f"{name}('.')", f"{name}()"):
        refused: SpecError | None = None
        try:
            lc = Lifecycle.from_dict(_base(when=text))
        except SpecError as err:
            refused = err
        if refused is not None:
            assert isinstance(refused.__cause__, RuleError)
            continue
        # a bare dotted name can only parse as a field path: it reads a field, never calls
        lead = Lead(id="L-1", created_at=T0, state="a")
        with pytest.raises((GuardRejected, KeyError, RuleError)):
            lc.fire(lead, "go", at=T0)
    # the transitions-library keys that take callable names are refused outright
    for key in ("conditions", "prepare"):
        spec = _base()
        spec["transitions"][0][key] = [name]
        with pytest.raises(SpecError, match="not supported in specs"):
            Lifecycle.from_dict(spec)
    assert calls == []


def test_hooks_registered_in_code_may_be_hook_objects_or_callables() -> None:
    hook = Hook.of(lambda _e, _i: {"score": 5.0}, name="five")
    lc = Lifecycle.from_dict(_base(after="five"), hooks={"five": hook})
    lead = Lead(id="L-1", created_at=T0, state="a")
    assert lc.fire(lead, "go", at=T0).entity.score == 5.0
    with pytest.raises(SpecError, match="must be a Hook or a callable"):
        Lifecycle.from_dict(_base(), hooks={"x": 3})  # type: ignore[dict-item]


def _codes(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in lint_spec(spec)]


def test_lint_finds_crafted_problems() -> None:
    spec = {
        "name": "bad",
        "states": [
            {"name": "new", "type": "open", "probability": 30},
            {"name": "talk", "probability": 20},
            {"name": "stuck"},
            {"name": "island"},
            {"name": "won", "type": "won", "probability": 90},
            {"name": "lost", "type": "lost", "probability": 0},
        ],
        "transitions": [
            {"trigger": "talk_more", "source": "new", "dest": "talk"},
            {"trigger": "talk_more", "source": "new", "dest": "stuck"},
            {"trigger": "close", "source": "talk", "dest": "won"},
            {"trigger": "close", "source": "talk", "dest": "won"},
            {"trigger": "drift", "source": "island", "dest": "lost"},
            {"trigger": "won", "source": "talk", "dest": "lost"},
        ],
    }
    assert _codes(spec) == [
        ("dead_end", "states[2]"),
        ("unreachable_state", "states[3]"),
        ("shadowed_transition", "transitions[1]"),
        ("duplicate_transition", "transitions[3]"),
        ("name_clash", "transitions[5].trigger"),
        ("trigger_never_fires", "transitions"),
        ("probability_order", "states[1].probability"),
        ("probability_closed", "states[4].probability"),
    ]
    findings = lint_spec(spec)
    assert all(f.severity == "warning" for f in findings)
    assert str(findings[0]).startswith("warning: states[2]: state 'stuck'")


def test_lint_reports_load_errors_as_findings() -> None:
    dup = {"name": "t", "states": ["a", "b", "a"], "transitions": []}
    assert [(f.code, f.path, f.severity) for f in lint_spec(dup)] == [
        ("duplicate_state", "states[2].name", "error")
    ]
    assert _codes(_base(dest="zz")) == [("invalid", "transitions[0].dest")]
    assert _codes('{"name": ') == [("invalid", "")]  # type: ignore[arg-type]


def test_mermaid_output_is_exact() -> None:
    lc = Lifecycle.from_dict(
        {
            "name": "t",
            "states": ["a", {"name": "b", "type": "won"}, {"name": "c", "type": "lost"}],
            "transitions": [
                {"trigger": "go", "source": "a", "dest": "b", "when": "x > 1"},
                {"trigger": "drop", "source": "a", "dest": "c"},
                {"trigger": "ping", "source": "a", "internal": True},
                {"trigger": "back", "source": "c", "to_last_open": True},
            ],
        }
    )
    assert lc.to_mermaid() == (
        "stateDiagram-v2\n"
        "    [*] --> a\n"
        "    a --> b: go [guarded]\n"
        "    a --> c: drop\n"
        "    a --> a: ping (internal)\n"
        "    c --> a: back [back to last open stage]\n"
        "    b --> [*]\n"
        "    class b won\n"
        "    class c lost\n"
        "    classDef won fill:#d4edda\n"
        "    classDef lost fill:#f8d7da\n"
    )


def test_mermaid_of_every_standard_lifecycle_names_every_state_and_trigger() -> None:
    for lc in STANDARD:
        text = lc.to_mermaid()
        assert text.startswith(f"stateDiagram-v2\n    [*] --> {lc.initial}\n")
        for state in lc.states:
            assert f" {state} " in text or f" {state}\n" in text
        for trigger in lc.trigger_names:
            assert f": {trigger}" in text


def test_lifecycles_with_guards_compare_by_definition() -> None:
    spec: dict[str, Any] = {
        "name": "deal",
        "states": [{"name": "open", "type": "open"}, {"name": "signed", "type": "won"}],
        "transitions": [
            {"trigger": "sign", "source": "open", "dest": "signed", "when": "amount > 1000"}
        ],
    }
    first = Lifecycle.from_dict(spec)
    assert first == Lifecycle.from_dict(spec)  # guards are values: same text, same guard
    assert first == Lifecycle.from_text(json.dumps(first.to_dict()))
    other = json.loads(json.dumps(spec))
    other["transitions"][0]["when"] = "amount > 2000"
    assert first != Lifecycle.from_dict(other)
    for spec_of_standard in STANDARD_SPECS.values():
        assert Lifecycle.from_dict(spec_of_standard) == Lifecycle.from_dict(spec_of_standard)
