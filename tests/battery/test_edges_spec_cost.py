"""
The cost of big lifecycle specs, without timing anything.

Building and linting a lifecycle must cost in proportion to its states and
transitions: the test counts the Python function calls made while building a
chain of ``n`` and of ``2n`` states (a count does not depend on the machine's
load) and checks that doubling the spec about doubles the work; a per-state
scan of every trigger (the cost issue 13 found: 8 s for 5,000 states) makes it
four times. YAML documents are read by libyaml when PyYAML has it, with the
same refusals as the pure-Python loader: both loaders give the same value or
the same error on every document below.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from crmlifecycle import _yaml
from crmlifecycle._yaml import MAX_YAML_DEPTH, load_yaml
from crmlifecycle.errors import SpecError
from crmlifecycle.stages import Lifecycle, lint_spec


def _chain(n: int, *, closed: bool = True) -> dict[str, Any]:
    """A spec of ``n`` states in a chain, a ``"*"`` reset and, from every state, a lose step."""
    states: list[Any] = [f"s{i}" for i in range(n)]
    if closed:
        states.append({"name": "lost", "type": "lost"})
    transitions: list[dict[str, Any]] = [
        {"trigger": f"t{i}", "source": f"s{i}", "dest": f"s{i + 1}"} for i in range(n - 1)
    ]
    transitions.append({"trigger": "reset", "source": "*", "dest": "s0"})
    if closed:
        transitions.append({"trigger": "lose", "source": "*", "dest": "lost"})
        transitions.append({"trigger": "reopen", "source": "lost", "to_last_open": True})
    return {"name": "big", "kind": "lead", "states": states, "transitions": transitions}


def _calls(work: Callable[[], object]) -> int:
    """How many Python and built-in function calls ``work()`` makes (a count, not a time)."""
    count = 0

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event in {"call", "c_call"}:
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    "work",
    [
        pytest.param(Lifecycle.from_dict, id="build"),
        pytest.param(lint_spec, id="lint"),
        pytest.param(lambda spec: Lifecycle.from_dict(spec).to_dict(), id="build+to_dict"),
    ],
)
@pytest.mark.parametrize("closed", [True, False], ids=["to_last_open", "chain"])
def test_building_a_spec_costs_in_proportion_to_its_size(
    work: Callable[[dict[str, Any]], object], closed: bool
) -> None:
    small, large = _chain(300, closed=closed), _chain(600, closed=closed)
    work(small)  # warm the caches (imports, compiled conditions) out of the count
    ratio = _calls(lambda: work(large)) / _calls(lambda: work(small))
    # linear work doubles (a constant part makes it a little less); quadratic work quadruples
    assert 1.5 < ratio < 2.4, ratio


def test_allowed_triggers_keep_declaration_order() -> None:
    lc = Lifecycle.from_dict(_chain(4))
    assert lc.triggers(_record("s1")) == ("t1", "reset", "lose")
    assert lc.triggers(_record("lost")) == ("reset", "lose", "reopen")  # "*" is every state


@pytest.mark.parametrize("name", ["lead", "opportunity", "customer", "case", "chain"])
def test_allowed_triggers_are_what_the_machine_says(name: str) -> None:
    from crmlifecycle.stages import STANDARD_SPECS
    from crmlifecycle.stages._compile import build_machine

    lc = Lifecycle.from_dict(_chain(6) if name == "chain" else STANDARD_SPECS[name])
    compiled = lc._compiled
    machine = build_machine(compiled.by_name, lc.transitions, lc.initial)
    for state in lc.states:
        assert compiled.allowed[state] == tuple(machine.get_triggers(state)), state


def _record(state: str) -> Any:
    from datetime import UTC, datetime

    from crmlifecycle import Lead

    return Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=UTC), state=state)


# -- the two YAML loaders agree ---------------------------------------------------------------

_DEEP_OK = "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH
_DEEP_LIST = "a: " + "[" * 5000 + "]" * 5000
_DEEP_SCALAR = "[" * MAX_YAML_DEPTH + "x" + "]" * MAX_YAML_DEPTH

DOCUMENTS: dict[str, str] = {
    "mapping": "name: lead\nstates: [open, won]\n",
    "block lists": "states:\n  - name: open\n  - name: won\n    type: won\n",
    "scalars": "a: 1\nb: 2.5\nc: true\nd: null\ne: '007'\nf: 2026-01-05\ng: -0.0\n",
    "unicode": "name: caf\u00e9\nnote: \u65e5\u672c\n",
    "empty": "",
    "comment only": "# nothing\n",
    "a bare scalar": "hello",
    "multi-line text": "text: |\n  line one\n  line two\n",
    "quoted merge key": "'<<': 1\nb: 2\n",
    "same key in two mappings": "a: {x: 1}\nb: {x: 1}\n",
    "merge key refused": "a:\n  <<: {x: 1}\n  y: 2\n",
    "merge key list refused": "a:\n  y: 2\n  <<: [{x: 1}, {z: 3}]\n",
    "duplicate keys refused": "a: 1\na: 2\n",
    "duplicate keys same value refused": "a: 1\nb: 0\na: 1\n",
    "duplicate flow keys refused": "a: {b: 1, b: 2}\n",
    "duplicate nested keys refused": "a:\n  - x: 1\n    x: 2\n",
    "duplicate equal int keys refused": "1: a\n0x1: b\n",
    "duplicate explicit keys refused": "? a\n: 1\n? a\n: 2\n",
    "duplicate set members refused": "a: !!set {x, x}\n",
    "depth at the limit": _DEEP_OK,
    "big int refused": "n: " + "9" * 41,
    "long float refused": "n: 1." + "1" * 45,
    "inf refused": "n: .inf",
    "nan refused": "n: .nan",
    "1e999 refused": "n: 1e999",
    "anchor refused": "a: &x 1\n",
    "alias refused": "a: &x [1]\nb: *x\n",
    "alias bomb refused": "a: [&a0 [x, x], &a1 [*a0, *a0], &a2 [*a1, *a1]]\n",
    "deep list refused": _DEEP_LIST,
    "deep scalar refused": _DEEP_SCALAR,
    "deep mapping refused": "a: " + "{b: " * 150 + "1" + "}" * 150,
    "python tag refused": "!!python/object/apply:os.system ['echo hi']",
    "unknown tag refused": "a: !custom 1\n",
    "two documents refused": "a: 1\n---\nb: 2\n",
    "bad indentation refused": "a:\n  b: 1\n c: 2\n",
    "unclosed flow refused": "a: [1, 2\n",
    "tab indentation refused": "a:\n\tb: 1\n",
    "mapping in a scalar refused": "a: b: c\n",
    "unclosed quote refused": "a: 'open\n",
    "control character refused": "a: \x07\n",
}


def _outcome(load: Callable[[str], Any], text: str) -> tuple[str, Any]:
    try:
        return "value", load(text)
    except SpecError as err:
        return "error", str(err)


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_the_c_and_python_loaders_agree(text: str) -> None:
    expected = _outcome(_yaml._load_python, text)
    assert _outcome(load_yaml, text) == expected
    # and the fast path really read the plain documents (no silent fall-back for them)
    if expected[0] == "value":
        fast = _yaml._c_loader()
        assert _yaml._plain(text, fast)
        assert yaml.load(text, Loader=fast) == expected[1]  # noqa: S506 - bounded CSafeLoader


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("alias refused", "anchors and aliases are not allowed (line 1, column 4)"),
        ("anchor refused", "anchors and aliases are not allowed"),
        ("deep list refused", f"nested deeper than {MAX_YAML_DEPTH} levels"),
        ("deep scalar refused", f"nested deeper than {MAX_YAML_DEPTH} levels"),
        ("big int refused", "more than 40 digits"),
        ("inf refused", "is not finite"),
        ("two documents refused", "invalid YAML"),
        ("merge key refused", "merge keys (<<) are not allowed (line 2, column 3)"),
        ("merge key list refused", "merge keys (<<) are not allowed (line 3, column 3)"),
        (
            "duplicate keys refused",
            "the key 'a' appears twice in one mapping of the YAML document (line 2, column 1)",
        ),
        ("duplicate keys same value refused", "the key 'a' appears twice"),
        (
            "duplicate flow keys refused",
            "the key 'b' appears twice in one mapping of the YAML document (line 1, column 11)",
        ),
        (
            "duplicate nested keys refused",
            "the key 'x' appears twice in one mapping of the YAML document (line 3, column 5)",
        ),
        ("duplicate equal int keys refused", "the key 1 appears twice"),
    ],
)
def test_refusals_keep_their_messages(name: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_yaml(DOCUMENTS[name])
    assert message in str(info.value)


def test_a_big_spec_reads_through_the_yaml_loader() -> None:
    text = "name: big\nkind: lead\nstates:\n" + "".join(f"- s{i}\n" for i in range(2000))
    text += "transitions:\n" + "".join(
        f"- {{trigger: t{i}, source: s{i}, dest: s{i + 1}}}\n" for i in range(1999)
    )
    lc = Lifecycle.from_text(text)
    assert len(lc.states) == 2000
    assert lc.triggers(_record("s5")) == ("t5",)
