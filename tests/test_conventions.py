"""
The API conventions (docs/api-conventions.md) held by tests over the whole public surface.

Every public package's ``__all__`` is exactly its public names; every parameter of a public
callable is documented in its ``Args:`` (a record's in its ``Attributes:``); columns are
passed as spec records, never as flat ``*_col`` keywords; a time argument is called ``at``,
``as_of``, ``start`` or ``end`` and typed ``Instant`` when it is a moment one looks from.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
from collections.abc import Callable, Iterator

import pytest

PUBLIC_MODULES = (
    "crmlifecycle",
    "crmlifecycle.datasets",
    "crmlifecycle.errors",
    "crmlifecycle.metrics",
    "crmlifecycle.metrics.clv",
    "crmlifecycle.plotting",
    "crmlifecycle.rules",
    "crmlifecycle.schema",
    "crmlifecycle.scoring",
    "crmlifecycle.sla",
    "crmlifecycle.stages",
    "crmlifecycle.synth",
    "crmlifecycle.testing",
    "crmlifecycle.typing",
    "crmlifecycle.values",
)


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _defined_names(module: types.ModuleType) -> list[str]:
    """Public names the module defines, or (a package) re-exports from its private modules."""
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            private_child = node.module.startswith(f"{module.__name__}._")
            if module.__file__ is not None and module.__file__.endswith("__init__.py"):
                private_child = private_child or node.module.startswith(f"{module.__name__}.")
            if private_child:
                names.update(alias.asname or alias.name for alias in node.names)
    return sorted(n for n in names if not n.startswith("_"))


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_exactly_the_public_names(name: str) -> None:
    module = _module(name)
    exported = list(module.__all__)  # ruff (RUF022) keeps it sorted
    missing = [n for n in _defined_names(module) if n not in exported]
    assert missing == [], f"{name} has public names not in __all__"
    absent = [n for n in exported if not hasattr(module, n)]
    assert absent == [], f"{name}.__all__ names what the module does not have"


def _public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    seen: set[int] = set()
    for module_name in PUBLIC_MODULES:
        module = _module(module_name)
        for name in module.__all__:
            target = getattr(module, name)
            if id(target) in seen:
                continue
            seen.add(id(target))
            if inspect.isclass(target):
                if target.__module__.startswith("crmlifecycle"):
                    yield f"{module_name}.{name}", target
                    for attr, member in vars(target).items():
                        func = (
                            member.__func__
                            if isinstance(member, classmethod | staticmethod)
                            else member
                        )
                        if not attr.startswith("_") and inspect.isfunction(func):
                            yield f"{module_name}.{name}.{attr}", func
            elif inspect.isfunction(target):
                yield f"{module_name}.{name}", target


def _parameters(target: Callable[..., object]) -> list[str]:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.name not in {"self", "cls"} and p.kind not in {p.VAR_POSITIONAL, p.VAR_KEYWORD}
    ]


def _variadic(target: Callable[..., object]) -> set[str]:
    """Names of the ``*args``/``**kwargs`` parameters, which an ``Args:`` may document too."""
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in {p.VAR_POSITIONAL, p.VAR_KEYWORD}}


def _documented(doc: str) -> set[str]:
    """Names listed in the docstring's ``Args:`` and ``Attributes:`` sections (Google style)."""
    names: set[str] = set()
    sections = re.finditer(
        r"^(\s*)(?:Args|Attributes):\n(.*?)(?=^\1\S|\Z)", doc, flags=re.MULTILINE | re.DOTALL
    )
    for section in sections:
        indent = len(section.group(1))
        entry = re.compile(
            rf"^\s{{{indent + 2},{indent + 8}}}\*{{0,2}}(\w+)(?: \(.*?\))?:", re.MULTILINE
        )
        names.update(entry.findall(section.group(2)))
    return names


def test_every_parameter_of_a_public_callable_is_documented() -> None:
    undocumented = {}
    for qualname, target in _public_callables():
        doc = inspect.getdoc(target) or ""
        public = [p for p in _parameters(target) if not p.startswith("_")]  # `_x`: internal
        missing = [p for p in public if p not in _documented(doc)]
        if missing:
            undocumented[qualname] = missing
    assert undocumented == {}


def test_a_documented_parameter_exists() -> None:
    stale = {}
    for qualname, target in _public_callables():
        params = set(_parameters(target))
        doc = inspect.getdoc(target) or ""
        extra = sorted(_documented(doc) - params - _variadic(target))
        if params and extra:
            stale[qualname] = extra
    assert stale == {}


def test_columns_are_passed_as_spec_records() -> None:
    flat = sorted(
        f"{qualname}({p})"
        for qualname, target in _public_callables()
        for p in _parameters(target)
        if p.endswith("_col")
    )
    assert flat == []


_OLD_TIME_WORDS = {"observation_end", "calibration_end", "closed_since", "cutoff_date"}
_TIME_WORDS = _OLD_TIME_WORDS | {
    "now",
    "date",
    "cutoff",
    "cut_off",
    "at_time",
    "time",
    "as_at",
    "asof",
}


def test_time_arguments_use_the_four_words() -> None:
    odd = sorted(
        f"{qualname}({p})"
        for qualname, target in _public_callables()
        for p in _parameters(target)
        if p in _TIME_WORDS
    )
    assert odd == []


def test_a_moment_to_look_from_is_typed_instant() -> None:
    untyped = []
    for qualname, target in _public_callables():
        if inspect.isclass(target) and hasattr(target, "__attrs_attrs__"):
            continue  # a record's fields are typed by what they hold (datetime), not looked from
        try:
            parameters = inspect.signature(target).parameters
        except (TypeError, ValueError):
            continue
        for name in ("as_of", "start", "end"):
            parameter = parameters.get(name)
            if parameter is not None and "Instant" not in str(parameter.annotation):
                untyped.append(f"{qualname}({name}: {parameter.annotation})")
    assert untyped == []


def test_every_time_parameter_is_a_moment_a_window_bound_or_a_record_timestamp() -> None:
    """Times are `at`, `as_of`, `start`, `end`, or a record's `<something>_at` column value."""
    odd = []
    for qualname, target in _public_callables():
        if qualname.startswith("crmlifecycle.testing.") or (
            inspect.isclass(target) and hasattr(target, "__attrs_attrs__")
        ):
            continue  # Hypothesis bounds; records' fields are named by the data contract
        try:
            parameters = inspect.signature(target).parameters
        except (TypeError, ValueError):
            continue
        for name, parameter in parameters.items():
            annotation = str(parameter.annotation)
            timed = any(word in annotation for word in ("Instant", "datetime", "Timestamp"))
            if timed and name not in {"at", "as_of", "start", "end"} and not name.endswith("_at"):
                odd.append(f"{qualname}({name}: {annotation})")
    assert odd == []


def test_at_is_only_when_something_happens() -> None:
    """`at` names when a step (or an order, an event) happens, never a moment looked from."""
    elsewhere = sorted(
        qualname
        for qualname, target in _public_callables()
        if "at" in _parameters(target)
        and not qualname.startswith("crmlifecycle.stages.")
        and not qualname.startswith("crmlifecycle.rules.LifecycleLike.")  # a lifecycle's
        and not qualname.endswith((".apply", ".apply_actions"))  # a rule's steps, through it
        and not qualname.endswith("Period.contains")  # whether what happens `at` falls in it
        and not (inspect.isclass(target) and hasattr(target, "__attrs_attrs__"))
    )
    assert elsewhere == []


def test_column_records_and_look_from_moments_are_keyword_only() -> None:
    positional: list[str] = []
    for qualname, target in _public_callables():
        try:
            parameters = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):
            continue
        positional.extend(
            f"{qualname}({p.name})"
            for p in parameters
            if (p.name.endswith("_columns") or p.name == "as_of") and p.kind is not p.KEYWORD_ONLY
        )
    assert positional == []
