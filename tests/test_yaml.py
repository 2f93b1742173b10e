from __future__ import annotations

import time
from typing import Any

import pytest

from crmlifecycle._yaml import MAX_YAML_CHARS, load_yaml, short_repr
from crmlifecycle.errors import SpecError
from crmlifecycle.rules import RuleSet
from crmlifecycle.scoring import build_scorer
from crmlifecycle.sla import SlaPolicy
from crmlifecycle.stages import Lifecycle


def alias_bomb(links: int) -> str:
    """A 'billion laughs' document: each link doubles the expanded size."""
    chain = ["&a0 [x, x]"] + [f"&a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, links)]
    return "states:\n  - name: open\n    description: [" + ", ".join(chain) + "]\n"


@pytest.mark.parametrize(
    "loader",
    [
        load_yaml,
        Lifecycle.from_text,
        RuleSet.from_text,
        build_scorer,
        SlaPolicy.from_text,
    ],
    ids=["load_yaml", "Lifecycle.from_text", "RuleSet.from_text", "build_scorer", "SlaPolicy"],
)
def test_alias_bombs_are_refused_quickly(loader: Any) -> None:
    started = time.perf_counter()
    with pytest.raises(SpecError, match="anchors and aliases are not allowed"):
        loader(alias_bomb(40))  # 2**40 leaves if it were expanded
    assert time.perf_counter() - started < 1.0


def test_plain_yaml_still_loads() -> None:
    assert load_yaml("a: [1, 2]\nb: {c: true}") == {"a": [1, 2], "b": {"c": True}}


def test_python_tags_are_refused() -> None:
    with pytest.raises(SpecError, match="invalid YAML"):
        load_yaml("!!python/object/apply:os.system ['echo hi']")


def test_oversized_documents_are_refused() -> None:
    with pytest.raises(SpecError, match="more than"):
        load_yaml("a: " + "x" * MAX_YAML_CHARS)


def test_short_repr_is_bounded() -> None:
    # 10,000 strings of 10,000 characters: the repr stays a few hundred characters
    assert len(short_repr(["y" * 10_000] * 10_000)) < 500


@pytest.mark.parametrize(
    "loader",
    [load_yaml, Lifecycle.from_text, RuleSet.from_text, build_scorer, SlaPolicy.from_text],
    ids=["load_yaml", "Lifecycle.from_text", "RuleSet.from_text", "build_scorer", "SlaPolicy"],
)
def test_deep_nesting_is_a_spec_error_not_a_recursion_error(loader: Any) -> None:
    # 5,000 nested lists are 10 KB of text; PyYAML's composer would recurse once per level
    with pytest.raises(SpecError, match="nested deeper than"):
        loader("a: " + "[" * 5000 + "]" * 5000)


def test_nesting_up_to_the_limit_loads() -> None:
    assert load_yaml("[" * 50 + "]" * 50) is not None


@pytest.mark.parametrize(
    "loader",
    [load_yaml, Lifecycle.from_text, RuleSet.from_text, build_scorer, SlaPolicy.from_text],
    ids=["load_yaml", "Lifecycle.from_text", "RuleSet.from_text", "build_scorer", "SlaPolicy"],
)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nname: b\n", r"the key 'name' appears twice .*\(line 2, column 1\)"),
        ("x: 1\n<<: {name: b}\n", r"merge keys \(<<\) are not allowed \(line 2, column 1\)"),
    ],
    ids=["duplicate key", "merge key"],
)
def test_repeated_and_merge_keys_are_refused_by_every_loader(
    loader: Any, text: str, message: str
) -> None:
    # PyYAML would keep the last 'name' (or fold the merged mapping in) silently
    with pytest.raises(SpecError, match=message):
        loader(text)
