"""
Bulk steps' fast paths: column storages, per-row triggers, internal steps, the events frame.

``fire_frame`` codes state and trigger columns by the cheapest route for their
storage (categorical, Arrow strings, anything else). Every route must give the
same codes as a plain Python lookup, and a bulk step must give, row by row, what
``fire`` gives: accepted or not, the new state and fields, and the same events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Case, Lead
from crmlifecycle.errors import DataError, InvalidTransition, ValidationError
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    Lifecycle,
    TransitionDef,
    events_from_frame,
)
from crmlifecycle.stages._event_log import ENVELOPE
from crmlifecycle.stages._frame_tables import BY_GUARDS, Refusal, codes_of, frame_tables

pa = pytest.importorskip("pyarrow")

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = pd.Timestamp("2026-03-01", tz="UTC")
NAMES = pd.Index(["open", "contacted", "qualified"])


def _storages(values: list[str | None]) -> dict[str, pd.Series]:
    """The same values in every storage a state or trigger column may come in."""
    return {
        "object": pd.Series(values, dtype=object),
        "python": pd.Series(values, dtype=pd.StringDtype("python")),
        "pyarrow": pd.Series(values, dtype=pd.StringDtype("pyarrow")),
        "arrow_large": pd.Series(values, dtype=pd.ArrowDtype(pa.large_string())),
        "arrow_string": pd.Series(values, dtype=pd.ArrowDtype(pa.string())),
        "category": pd.Series(values, dtype="category"),
        # categories in another order, with an unused one: codes must be remapped
        "category_ordered_extra": pd.Series(
            pd.Categorical(
                values,
                categories=sorted({v for v in values if v is not None} | {"zzz"}, reverse=True),
                ordered=True,
            )
        ),
    }


VALUES = st.lists(
    st.one_of(st.sampled_from([*NAMES, "won", "Open", ""]), st.none()), min_size=0, max_size=30
)


@given(VALUES)
def test_every_storage_codes_like_a_python_lookup(values: list[str | None]) -> None:
    # the reference: position in NAMES, -1 for missing or unknown (exact, case-sensitive)
    positions = {name: i for i, name in enumerate(NAMES)}
    expected = [positions.get(v, -1) if v is not None else -1 for v in values]
    for name, series in _storages(values).items():
        codes = codes_of(series, NAMES)
        assert codes.tolist() == expected, name


def test_non_string_values_are_not_states() -> None:
    assert codes_of(pd.Series([1, 2]), NAMES).tolist() == [-1, -1]
    assert codes_of(pd.Series([1.5, np.nan]), NAMES).tolist() == [-1, -1]
    assert codes_of(pd.Series([], dtype=object), NAMES).tolist() == []


@pytest.mark.parametrize("storage", list(_storages([])))
def test_fire_frame_gives_the_same_result_for_every_storage(storage: str) -> None:
    states = ["open", "contacted", "open", "qualified", "unqualified"]
    ids = [f"L-{i}" for i in range(len(states))]
    reference = pd.DataFrame({"lead_id": pd.Series(ids, dtype=object), "state": states})
    frame = pd.DataFrame(
        {"lead_id": _storages(ids)[storage], "state": _storages(states)[storage]}  # type: ignore[arg-type]
    )
    ours = LEAD_STATUS.fire_frame(frame, "contact", at=AT)
    expected = LEAD_STATUS.fire_frame(reference, "contact", at=AT)
    # open -> contacted for L-0 and L-2; the others are not allowed
    assert ours.state.tolist() == [
        "contacted",
        "contacted",
        "contacted",
        "qualified",
        "unqualified",
    ]
    pd.testing.assert_series_equal(ours.state, expected.state)
    pd.testing.assert_series_equal(ours.accepted, expected.accepted)
    pd.testing.assert_series_equal(ours.reason, expected.reason)
    events = ours.events.astype(object)
    assert events.to_dict("records") == expected.events.astype(object).to_dict("records")
    assert events["entity_id"].tolist() == ["L-0", "L-2"]


def test_missing_states_are_loud_in_every_storage() -> None:
    for storage, column in _storages(["open", None]).items():
        frame = pd.DataFrame({"lead_id": ["a", "b"], "state": column})
        with pytest.raises(DataError, match="not states of this lifecycle") as info:
            LEAD_STATUS.fire_frame(frame, "contact", at=AT)
        assert info.value.rows == (1,), storage


def test_events_frame_dtypes() -> None:
    frame = pd.DataFrame(
        {"lead_id": pd.Series(["L-1", "L-2"], dtype="string[pyarrow]"), "state": ["open", "open"]}
    )
    events = LEAD_STATUS.fire_frame(frame, "contact", at="2026-03-01").events
    contract = ["kind", "entity_id", "trigger", "source", "dest", "at"]
    assert list(events.columns) == ["event", *contract, *ENVELOPE]
    for column in ("event", "kind", "trigger", "source", "dest", "lifecycle"):
        assert isinstance(events[column].dtype, pd.CategoricalDtype)
    assert list(events["source"].cat.categories) == list(LEAD_STATUS.states)
    assert events["entity_id"].dtype == frame["lead_id"].dtype  # the ids keep their storage
    assert str(events["at"].dt.tz) == "UTC"
    assert events["at"].tolist() == [AT, AT]
    empty = LEAD_STATUS.fire_frame(frame.iloc[:0], "contact", at=AT)
    assert len(empty.events) == 0
    assert list(empty.events.columns) == list(events.columns)


def test_the_tables_are_built_once_per_lifecycle() -> None:
    lead_status = LEAD_STATUS._compiled
    assert frame_tables(lead_status) is frame_tables(lead_status)
    tables = frame_tables(CASE_STATUS._compiled)
    # escalate is internal with a hook: decided per pair, not in the dense table
    t, s = CASE_STATUS.trigger_names.index("escalate"), CASE_STATUS.states.index("new")
    assert tables.dest[t, s] == BY_GUARDS
    assert (t, s) in tables.guarded


def test_the_refusal_reasons_are_numbered_in_the_order_the_reason_column_lists_them() -> None:
    assert [int(r) for r in Refusal] == [0, 1, 2, 3, 4]
    assert [r.message for r in Refusal] == [
        "not allowed from this state",
        "unknown trigger",
        "at is before the last change",
        "missing lost_reason",
        "merged into another record",
    ]
    frame = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "state": ["open", "qualified", "open", "open"],
            "state_since": pd.to_datetime(
                ["2026-01-01", "2026-01-01", "2026-04-01", "2026-01-01"], utc=True
            ),
            "trigger": pd.Series(["contact", "contact", "contact", "sing"], dtype=object),
        }
    )
    step = LEAD_STATUS.fire_frame(frame, at=AT)
    # the reason column's categories are the messages, in code order
    assert list(step.reason.cat.categories) == [r.message for r in Refusal]
    assert step.reason.cat.codes.tolist() == [
        -1,
        Refusal.NOT_ALLOWED,
        Refusal.TOO_EARLY,
        Refusal.UNKNOWN_TRIGGER,
    ]


PING = Lifecycle(
    "thing",
    ["a", "b"],
    [
        TransitionDef(trigger="go", source="a", dest="b"),
        TransitionDef(trigger="ping", source=("a", "b"), internal=True),
    ],
    kind="lead",  # it steps Lead records
)


def test_internal_steps_without_hooks_keep_state_and_state_since() -> None:
    frame = pd.DataFrame(
        {
            "lead_id": ["x", "y"],
            "state": ["a", "b"],
            "state_since": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True),
        }
    )
    step = PING.fire_frame(frame, "ping", at=AT)
    assert step.accepted.tolist() == [True, True]
    assert step.frame["state"].tolist() == ["a", "b"]
    assert step.frame["state_since"].tolist() == frame["state_since"].tolist()
    assert step.events[["source", "dest"]].astype(str).to_numpy().tolist() == [
        ["a", "a"],
        ["b", "b"],
    ]
    # the single-record step agrees: same state, same state_since, dest == source
    lead = Lead(id="x", created_at=T0, state="a")
    single = PING.fire(lead, "ping", at=AT.to_pydatetime())
    expected = attrs.evolve(lead, version=1, updated_at=AT.to_pydatetime())
    assert (single.entity, single.event.dest) == (expected, "a")


CASE_TRIGGERS = st.one_of(st.sampled_from([*CASE_STATUS.trigger_names, "sing"]), st.none())
CASE_ROWS = st.lists(
    st.tuples(
        st.sampled_from(CASE_STATUS.states),
        st.sampled_from(["low", "normal", "high", "urgent"]),
        CASE_TRIGGERS,
        st.integers(0, 80),
    ),
    min_size=1,
    max_size=25,
)


def _single(case: Case, trigger: str | None) -> tuple[str | None, Any]:
    """fire's answer for one row: (refusal reason or None, step or the unchanged case)."""
    if trigger is None:
        return "no step", case
    try:
        return None, CASE_STATUS.fire(case, trigger, at=AT.to_pydatetime())
    except InvalidTransition:
        unknown = trigger not in CASE_STATUS.trigger_names
        return ("unknown trigger" if unknown else "not allowed from this state"), case
    except ValidationError:  # state_since after `at` (checked after the trigger is allowed)
        return "at is before the last change", case


@given(CASE_ROWS, st.sampled_from(["object", "pyarrow", "category"]))
def test_per_row_triggers_agree_with_fire_row_by_row(
    rows: list[tuple[str, str, str | None, int]], storage: str
) -> None:
    cases = [
        Case(
            id=f"S-{i}",
            customer_id="K-1",
            subject="x",
            created_at=T0,
            state=state,
            state_since=T0 + timedelta(days=days),
            priority=priority,
        )
        for i, (state, priority, _, days) in enumerate(rows)
    ]
    triggers = [r[2] for r in rows]
    frame = pd.DataFrame(
        {
            "case_id": [c.id for c in cases],
            "state": _storages([c.state for c in cases])[storage],
            "state_since": [c.state_since for c in cases],
            "priority": [c.priority for c in cases],
            "resolved_at": pd.Series([pd.NaT] * len(cases), dtype="datetime64[ns, UTC]"),
            "trigger": _storages(triggers)[storage],
        }
    )
    step = CASE_STATUS.fire_frame(frame, at=AT)
    out = step.frame
    expected_events = []
    for i, (case, trigger) in enumerate(zip(cases, triggers, strict=True)):
        why, result = _single(case, trigger)
        accepted = why is None
        assert bool(step.accepted.iloc[i]) == accepted
        if accepted or why == "no step":
            assert pd.isna(step.reason.iloc[i])
        else:
            assert step.reason.iloc[i] == why
        entity = result.entity if accepted else case
        assert (out["state"].iloc[i], out["priority"].iloc[i]) == (entity.state, entity.priority)
        assert out["state_since"].iloc[i] == entity.state_since
        resolved = out["resolved_at"].iloc[i]
        assert (None if pd.isna(resolved) else resolved) == entity.resolved_at
        if accepted:
            e = result.event
            # the frame has no version column: the events carry no sequence
            expected_events.append(attrs.evolve(e, sequence=None, event_id=None))
    assert events_from_frame(step.events) == expected_events
