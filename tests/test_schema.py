"""The data contract: one spec record per frame, derived schema, renames."""

from __future__ import annotations

import attrs
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.schema import FRAME_COLUMNS, SCHEMA, EventLogColumns, OrderColumns


@pytest.mark.parametrize("name", list(FRAME_COLUMNS))
def test_every_default_column_name_is_the_field_name(name: str) -> None:
    spec = FRAME_COLUMNS[name]()
    assert spec.names() == {column: column for column in SCHEMA[name]}


def test_stateful_frames_call_their_state_column_state() -> None:
    for name in ("leads", "opportunities", "customers", "cases"):
        assert "state" in SCHEMA[name]
        assert "state_since" in SCHEMA[name]
    every_column = {column for columns in SCHEMA.values() for column in columns}
    assert every_column.isdisjoint({"status", "status_since", "stage", "stage_since"})


def test_event_logs_share_one_spec() -> None:
    logs = [n for n in FRAME_COLUMNS if n.endswith("_events")]
    assert logs == ["lead_events", "opportunity_events", "customer_events", "case_events"]
    assert {FRAME_COLUMNS[n] for n in logs} == {EventLogColumns}
    assert list(SCHEMA["case_events"]) == ["kind", "entity_id", "trigger", "source", "dest", "at"]


@given(st.text(min_size=1).filter(str.strip))
def test_one_rename_changes_one_column(name: str) -> None:
    cols = OrderColumns(customer_id=name)
    assert cols.customer_id == name
    assert cols.names() == {**OrderColumns().names(), "customer_id": name}


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_a_column_name_must_be_a_non_empty_string(bad: object) -> None:
    with pytest.raises(ValidationError, match="'amount' must be a non-empty string"):
        OrderColumns(amount=bad)  # type: ignore[arg-type]


def test_specs_are_frozen_and_keyword_only() -> None:
    cols = EventLogColumns()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cols.at = "when"  # type: ignore[misc]
    with pytest.raises(TypeError):
        EventLogColumns("kind")  # type: ignore[call-arg]


def test_to_contract_renames_a_copy_and_refuses_two_columns_for_one() -> None:
    export = pd.DataFrame({"cust": ["a"], "when": ["2026-01-05"], "amount": [9.5], "x": [1]})
    spec = OrderColumns(customer_id="cust", at="when")
    renamed = spec.to_contract(export, frame_name="orders")
    assert renamed.columns.tolist() == ["customer_id", "at", "amount", "x"]
    assert export.columns.tolist() == ["cust", "when", "amount", "x"]
    with pytest.raises(DataError, match="'at' is a column in the orders frame"):
        spec.to_contract(export.assign(at="2026-01-06"), frame_name="orders")
