"""
The shape of the public metrics API: the naming rules every public metric follows.

- A frame parameter ``X`` takes its column names as ONE keyword-only ``X_columns`` whose
  default is a column-spec record of :mod:`crmlifecycle.schema`; there are no flat ``*_col``
  keywords.
- Every time argument (``as_of``, ``start``, ``end``) is an ``Instant``; a metric looks from
  ``as_of`` (never ``at``).
- A KPI that is a number for the whole data and a table per period or segment has overloads,
  so a type checker knows which one a call returns.
"""

from __future__ import annotations

import inspect
import pathlib
import re
import types
import typing
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from crmlifecycle import metrics
from crmlifecycle._types import Instant
from crmlifecycle.metrics import deal_stages, win_rate
from crmlifecycle.schema import ColumnSpec, OpportunityColumns

#: Frame parameters whose record is not a contract frame's: ``entities`` holds one row per
#: entity with its id (named by ``entities_columns=EntityColumns(...)``) and the segment
#: columns named by ``by=``.
SEGMENT_FRAMES: frozenset[str] = frozenset({"entities"})

TIME_PARAMETERS = ("as_of", "start", "end")


def _public_functions() -> Iterator[tuple[str, Callable[..., object]]]:
    for name in metrics.__all__:
        target = getattr(metrics, name)
        if callable(target) and not inspect.isclass(target):
            yield name, target


def _is_frame(hint: object) -> bool:
    """Whether a resolved annotation is ``pd.DataFrame`` or ``pd.DataFrame | None``."""
    if hint is pd.DataFrame:
        return True
    is_union = typing.get_origin(hint) in (types.UnionType, typing.Union)
    return is_union and pd.DataFrame in typing.get_args(hint)


def test_every_frame_parameter_takes_one_columns_record() -> None:
    checked = []
    for name, function in _public_functions():
        hints = typing.get_type_hints(function)
        parameters = inspect.signature(function).parameters
        for parameter in parameters.values():
            if not _is_frame(hints.get(parameter.name)) or parameter.name in SEGMENT_FRAMES:
                continue
            columns = parameters.get(f"{parameter.name}_columns")
            assert columns is not None, f"{name}({parameter.name}) has no {parameter.name}_columns"
            assert columns.kind is columns.KEYWORD_ONLY, (name, columns.name)
            assert isinstance(columns.default, ColumnSpec), (name, columns.name)
            checked.append((name, parameter.name))
    assert len(checked) >= 15  # the rule is checked on every frame KPI, not on a few


def test_no_public_metric_takes_a_flat_column_keyword() -> None:
    flat = [
        (name, parameter)
        for name, function in _public_functions()
        for parameter in inspect.signature(function).parameters
        if parameter.endswith(("_col", "_cols"))
    ]
    assert flat == []


def test_every_time_argument_is_an_instant_named_by_the_vocabulary() -> None:
    seen = 0
    for name, function in _public_functions():
        hints = typing.get_type_hints(function)
        parameters = inspect.signature(function).parameters
        assert "at" not in parameters, f"{name} looks from at=; metrics look from as_of="
        for parameter in TIME_PARAMETERS:
            if parameter in parameters:
                assert hints[parameter] in (Instant, Instant | None), (name, parameter)
                seen += 1
    assert seen >= 10


def test_a_number_or_a_table_is_told_by_overloads() -> None:
    # a KPI returning float | DataFrame must say which one a call gets (freq=/by=)
    unions = []
    for name, function in _public_functions():
        returned = typing.get_type_hints(function)["return"]
        if pd.DataFrame in typing.get_args(returned) and len(typing.get_args(returned)) > 1:
            unions.append(name)
            assert typing.get_overloads(function), f"{name} returns a union without overloads"
    assert {"conversion_rate", "win_rate", "weighted_pipeline"} <= set(unions)


def _documented_arguments(function: Callable[..., object]) -> set[str]:
    """The names an ``Args:`` section of the docstring documents (Google style)."""
    doc = inspect.getdoc(function) or ""
    section = re.search(r"^Args:\n((?:    .*\n|\n)+)", doc + "\n", flags=re.MULTILINE)
    if section is None:
        return set()
    return set(re.findall(r"^    (\w+)(?: \(.*\))?:", section.group(1), flags=re.MULTILINE))


def test_every_argument_of_a_long_signature_is_documented() -> None:
    # six or more parameters: a reader needs an Args: section naming every one
    long = 0
    for name, function in _public_functions():
        parameters = set(inspect.signature(function).parameters)
        if len(parameters) < 6:
            continue
        long += 1
        assert parameters - _documented_arguments(function) == set(), name
    assert long >= 10


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def test_renamed_columns_are_read_through_the_columns_record() -> None:
    deals = pd.DataFrame(
        {"deal": ["o1"], "opened": utc("2026-01-01"), "state": ["won"], "amount": [1.0]}
    )
    events = pd.DataFrame(
        {"entity_id": ["o1"], "source": ["prospecting"], "dest": ["won"], "at": utc("2026-01-05")}
    )
    columns = OpportunityColumns(opportunity_id="deal", created_at="opened")
    stages = deal_stages(deals, events, opportunities_columns=columns)
    assert stages["state_since_as_of"].tolist() == [pd.Timestamp("2026-01-05", tz="UTC")]
    assert win_rate(deals, events, opportunities_columns=columns) == 1.0
    with pytest.raises(TypeError, match="opportunity_col"):
        deal_stages(deals, events, opportunity_col="deal")  # type: ignore[call-arg]


def test_modules_keep_to_the_size_guide() -> None:
    # house style: modules under about 500 lines; split along a seam when one grows past it
    folder = pathlib.Path(metrics.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 500} == {}


def test_split_modules_keep_the_public_names() -> None:
    moved = {
        "deal_stages",
        "forecast",
        "gross_revenue_retention",
        "net_revenue_retention",
        "stage_velocity",
        "time_in_stage",
        "weighted_pipeline",
    }
    assert moved <= set(metrics.__all__)
    assert metrics.__all__ == sorted(metrics.__all__, key=lambda n: (not n.isupper(), n))
