"""
``fire_frame`` agrees with ``fire`` on the envelope: the law and its hand-worked rules.

Law: for random records and per-row triggers, ``events_from_frame(step.events)``
equals the events ``fire`` gives for the accepted rows (the envelope included),
and the stepped frame's state, ``state_since``, ``version`` and stage-effect
columns equal the fired records'.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlifecycle import Lead
from crmlifecycle.errors import CrmError, DataError, ValidationError
from crmlifecycle.events import EVENT_SCHEMA_VERSION, Created, Transitioned
from crmlifecycle.metrics import funnel
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    StepFrameColumns,
    events_from_frame,
    events_to_frame,
)
from crmlifecycle.stages._event_log import ENVELOPE
from crmlifecycle.stages._step import EFFECT_FIELDS
from crmlifecycle.testing import cases, leads, opportunities

AT = datetime(2031, 1, 1, tzinfo=UTC)  # after every drawn state_since
T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: Per lifecycle: the record strategy, the context column (an input of a stage effect),
#: and the hooked fields the frame carries.
KINDS: dict[str, tuple[Lifecycle, Any, str | None, tuple[str, ...]]] = {
    "lead": (LEAD_STATUS, leads(), "opportunity_id", ()),
    "opportunity": (OPPORTUNITY_PIPELINE, opportunities(), "lost_reason", ()),
    "case": (CASE_STATUS, cases(), None, ("priority", "resolved_at")),
}


def _value(value: Any) -> Any:
    """A frame cell as the record holds it (missing -> None, timestamps -> datetimes)."""
    if value is None or (not isinstance(value, str | bool) and bool(pd.isna(value))):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, list[Any], list[str | None], list[Any], str | None]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    lifecycle, records, context, _ = KINDS[kind]
    drawn = draw(st.lists(records, min_size=1, max_size=6))
    rows = [
        attrs.evolve(r, id=f"X-{i}", version=draw(st.integers(min_value=0, max_value=50)))
        for i, r in enumerate(drawn)
    ]
    # mostly a trigger allowed from the row's state, sometimes any trigger or none
    triggers = [
        draw(
            st.one_of(
                st.none(),
                st.sampled_from(lifecycle.trigger_names),
                *[st.sampled_from(list(lifecycle.triggers(r)))] * 3 * bool(lifecycle.triggers(r)),
            )
        )
        for r in rows
    ]
    given_context = [
        getattr(r, context) or draw(st.sampled_from([None, "price", "O-9"]))
        if context is not None
        else None
        for r in rows
    ]
    actor = draw(st.sampled_from([None, "u-7", "rule:assign"]))
    return kind, rows, triggers, given_context, actor


def _frame(
    kind: str, rows: list[Any], triggers: list[str | None], given: list[Any]
) -> pd.DataFrame:
    _, _, context, hooked = KINDS[kind]
    fields = attrs.fields_dict(type(rows[0]))
    data: dict[str, Any] = {
        f"{kind}_id": [r.id for r in rows],
        "state": [r.state for r in rows],
        "state_since": pd.to_datetime([r.state_since for r in rows], utc=True),
        "version": [r.version for r in rows],
        "trigger": triggers,
    }
    for name in sorted((EFFECT_FIELDS | set(hooked)) & set(fields)):
        values = [getattr(r, name) for r in rows]
        data[name] = (
            pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[ns, UTC]")
            if name in ("closed_at", "resolved_at")
            else pd.Series(values, dtype=object if name != "probability" else "int64")
        )
    if context is not None:
        data[context] = pd.Series(given, dtype=object)
    return pd.DataFrame(data)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(batches())
def test_fire_frame_agrees_with_fire_on_events_and_records(
    batch: tuple[str, list[Any], list[str | None], list[Any], str | None],
) -> None:
    kind, rows, triggers, given_context, actor = batch
    lifecycle, _, context, hooked = KINDS[kind]
    frame = _frame(kind, rows, triggers, given_context)
    step = lifecycle.fire_frame(
        frame,
        at=AT,
        actor=actor,
        entities_columns=StepFrameColumns(context=() if context is None else context),
    )
    out = step.frame
    expected = []
    for i, (record, trigger) in enumerate(zip(rows, triggers, strict=True)):
        # a missing cell is no context (None is not passed on), as for the single step
        extra = {} if context is None or given_context[i] is None else {context: given_context[i]}
        fired = None
        if trigger is not None:
            try:
                fired = lifecycle.fire(record, trigger, at=AT, actor=actor, **extra)
            except CrmError:
                fired = None
        assert bool(step.accepted.iloc[i]) == (fired is not None), (record, trigger)
        if fired is None:
            assert int(out["version"].iloc[i]) == record.version  # refused: unchanged
            continue
        expected.append(fired.event)
        new = fired.entity
        assert out["state"].iloc[i] == new.state
        assert out["state_since"].iloc[i] == new.state_since
        assert int(out["version"].iloc[i]) == new.version == record.version + 1
        for name in (EFFECT_FIELDS | set(hooked)) & set(attrs.fields_dict(type(new))):
            held = getattr(record, name)
            if name == context and held != given_context[i] and getattr(new, name) == held:
                continue  # the column held the step's context, which this step did not store
            assert _value(out[name].iloc[i]) == getattr(new, name), name
    assert events_from_frame(step.events) == expected


def test_a_version_column_numbers_the_events_as_fire_does() -> None:
    leads_frame = pd.DataFrame(
        {"lead_id": ["L-1", "L-2"], "state": ["open", "qualified"], "version": [0, 4]}
    )
    step = LEAD_STATUS.fire_frame(leads_frame, "contact", at=AT, actor="u-7")
    # L-1 moves (0 -> 1); L-2 may not be contacted: its version stays 4
    assert step.frame["version"].tolist() == [1, 4]
    row = step.events.astype(object).iloc[0].to_dict()
    assert {name: row[name] for name in ENVELOPE} == {
        "event_id": "lead/L-1/1",
        "sequence": 1,
        "actor": "u-7",
        "lifecycle": "lead",
        "lifecycle_version": LEAD_STATUS.version,
        "schema_version": EVENT_SCHEMA_VERSION,
    }
    single = LEAD_STATUS.fire(Lead(id="L-1", created_at=T0), "contact", at=AT, actor="u-7")
    assert events_from_frame(step.events) == [single.event]


def test_without_a_version_column_the_sequence_is_missing() -> None:
    step = LEAD_STATUS.fire_frame(
        pd.DataFrame({"lead_id": ["L-1"], "state": ["open"]}), "contact", at=AT
    )
    assert list(step.events.columns) == [
        "event",
        "kind",
        "entity_id",
        "trigger",
        "source",
        "dest",
        "at",
        *ENVELOPE,
    ]
    assert pd.isna(step.events["sequence"].iloc[0])
    assert step.events["event_id"].iloc[0] is None
    assert "version" not in step.changes
    (event,) = events_from_frame(step.events)
    assert isinstance(event, Transitioned)
    assert (event.sequence, event.event_id, event.lifecycle) == (None, None, "lead")


def test_the_events_concatenate_with_a_stored_event_log_frame() -> None:
    lead = Lead(id="L-1", created_at=T0)
    stored = events_to_frame([Created.of(lead)])
    step = LEAD_STATUS.fire_frame(
        pd.DataFrame({"lead_id": ["L-1"], "state": ["open"], "version": [0]}), "contact", at=AT
    )
    log = pd.concat([stored, step.events], ignore_index=True)
    fired = LEAD_STATUS.fire(lead, "contact", at=AT)
    assert events_from_frame(log) == [Created.of(lead), fired.event]
    assert LEAD_STATUS.replay(Lead, events_from_frame(log)) == fired.entity


def test_a_merged_record_is_refused_as_fire_refuses_it() -> None:
    frame = pd.DataFrame(
        {"lead_id": ["L-1", "L-2"], "state": ["open", "open"], "merged_into": [None, "L-1"]}
    )
    step = LEAD_STATUS.fire_frame(frame, "contact", at=AT)
    assert step.accepted.tolist() == [True, False]
    assert step.reason.iloc[1] == "merged into another record"
    with pytest.raises(ValidationError, match="merged"):
        LEAD_STATUS.fire(Lead(id="L-2", created_at=T0, merged_into="L-1"), "contact", at=AT)


@pytest.mark.parametrize("bad", [[None], [-1], [1.5], ["two"]])
def test_a_bad_version_column_is_a_data_error_naming_it(bad: list[Any]) -> None:
    frame = pd.DataFrame({"lead_id": ["L-1"], "state": ["open"], "version": pd.Series(bad)})
    with pytest.raises(DataError, match="'version'") as info:
        LEAD_STATUS.fire_frame(frame, "contact", at=AT)
    assert "Hint:" in str(info.value)


def test_a_blank_actor_is_refused() -> None:
    frame = pd.DataFrame({"lead_id": ["L-1"], "state": ["open"]})
    with pytest.raises(ValidationError, match="actor"):
        LEAD_STATUS.fire_frame(frame, "contact", at=AT, actor=" ")


def test_bulk_steps_appended_to_a_stored_log_feed_replay_and_the_metrics() -> None:
    leads = [Lead(id=f"L-{i}", created_at=T0) for i in range(3)]
    stored = events_to_frame([Created.of(lead) for lead in leads])
    frame = pd.DataFrame({"lead_id": [r.id for r in leads], "state": "open", "version": 0})
    contacted = LEAD_STATUS.fire_frame(frame, "contact", at="2026-01-05", actor="bulk")
    qualified = LEAD_STATUS.fire_frame(contacted.frame.iloc[:2], "qualify", at="2026-01-07")
    log = pd.concat([stored, contacted.events, qualified.events], ignore_index=True)
    # three leads created, all three contacted, L-0 and L-1 qualified, none converted
    assert funnel(log, lifecycle=LEAD_STATUS)["reached"].tolist() == [3, 3, 2, 0]
    assert LEAD_STATUS.replay_frame(log)["state"].to_dict() == {
        "L-0": "qualified",
        "L-1": "qualified",
        "L-2": "contacted",
    }
    rebuilt = LEAD_STATUS.replay(Lead, [e for e in events_from_frame(log) if e.entity_id == "L-0"])
    assert (rebuilt.state, rebuilt.version) == ("qualified", 2)
    assert qualified.frame["version"].tolist() == [2, 2]
