"""The public crmlifecycle.scoring API: the time and column vocabulary, documented parameters."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from crmlifecycle import scoring as package


def _public_callables() -> Iterator[tuple[str, Callable[..., Any], str]]:
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.isclass(obj):
            yield name, obj.__init__, obj.__doc__ or ""
            for attr, value in vars(obj).items():
                function = (
                    value.__func__ if isinstance(value, classmethod | staticmethod) else value
                )
                if not attr.startswith("_") and inspect.isfunction(function):
                    yield f"{name}.{attr}", function, function.__doc__ or ""
        elif inspect.isfunction(obj):
            yield name, obj, obj.__doc__ or ""


def _parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # pragma: no cover - C slots without a signature
        return []
    return [
        p
        for p in signature.parameters.values()
        if p.name not in {"self", "cls"} and p.kind not in {p.VAR_POSITIONAL, p.VAR_KEYWORD}
    ]


#: Result records that store the moment they were computed as of (not an input).
RECORDS = {"CaseSla", "Evaluation"}


def test_the_moment_looked_from_is_as_of_and_columns_come_in_one_record() -> None:
    found = []
    for label, function, _ in _public_callables():
        for parameter in _parameters(function):
            if parameter.name == "at" or parameter.name.endswith("_col"):
                found.append((label, parameter.name))
            if parameter.name == "as_of" and label not in RECORDS:
                assert "Instant" in str(parameter.annotation), label
                assert parameter.kind is parameter.KEYWORD_ONLY, label
            if parameter.name.endswith("_columns"):
                assert parameter.kind is parameter.KEYWORD_ONLY, label
    assert found == []


def test_functions_with_six_or_more_parameters_document_every_one() -> None:
    undocumented: list[tuple[str, str]] = []
    for label, function, doc in _public_callables():
        parameters = _parameters(function)
        if len(parameters) < 6:
            continue
        undocumented.extend(
            (label, parameter.name)
            for parameter in parameters
            if not re.search(rf"^\s+{parameter.name}:", doc, re.MULTILINE)
        )
    assert undocumented == []
