"""
Analytics read the lifecycle, and the library's own event-log frame, as is (issue 12, laws 2 and 3).

Over random valid walks of many records (``event_sequences(..., created=True)``,
with manual edits mixed in), every stage-reading KPI gives on the event-log
frame (``events_to_frame``: created, transitioned and fields_changed rows with
the envelope columns) the numbers it gives on the plain transition rows plus
the entities frame; renaming every stage of the pipeline changes no number; a
state the lifecycle does not know is a ``DataError`` naming it; an entity
without events is counted at its initial stage.

The hand-worked examples of each rule are in ``test_pipeline.py`` (renamed
stages, unknown states in a mixed log), ``test_funnel_population.py``
(entities without events) and ``tests/sla/test_engine.py`` (renamed case
states); this module proves them as laws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlifecycle import Money, Opportunity
from crmlifecycle.errors import DataError
from crmlifecycle.events import Created, Event, FieldsChanged, Transitioned
from crmlifecycle.metrics import (
    average_deal_size,
    backlog,
    conversion_rate,
    forecast,
    funnel,
    sales_cycle_length,
    stage_velocity,
    time_in_stage,
    weighted_pipeline,
    win_rate,
)
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.sla import SlaPolicy, case_sla, sla_status
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
    events_to_frame,
)
from crmlifecycle.testing import event_sequences

CONTRACT = list(EventLogColumns().names().values())
LAWS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# --- the data: walks of many records -------------------------------------------------------


@st.composite
def worlds(draw: st.DrawFn, lifecycle: Lifecycle) -> tuple[list[Any], list[Event]]:
    """Records of ``lifecycle`` and their events (Created first), edits mixed in."""
    walks = draw(
        st.lists(
            event_sequences(lifecycle, created=True, max_steps=6),
            min_size=1,
            max_size=6,
            unique_by=lambda walk: walk[0].id,
        )
    )
    events: list[Event] = []
    for _, walk in walks:
        for event in walk:
            events.append(event)
            if draw(st.integers(0, 3)) == 0:  # a manual edit right after: no stage change
                events.append(
                    FieldsChanged(
                        kind=event.kind,
                        entity_id=event.entity_id,
                        at=event.at,
                        changes={"owner": [None, "ann"]},
                    )
                )
    return [initial for initial, _ in walks], events


def last_states(records: list[Any], events: list[Event]) -> dict[str, str]:
    """Each record's state after its events: the dest of its last transition."""
    state = {r.id: r.state for r in records}
    for event in events:
        if isinstance(event, Transitioned):
            state[event.entity_id] = event.dest
    return state


def entities_of(kind: str, records: list[Any], events: list[Event]) -> pd.DataFrame:
    """The entities frame: id, creation time, state now, and (deals) the amount."""
    state = last_states(records, events)
    frame = pd.DataFrame(
        {
            f"{kind}_id": [r.id for r in records],
            "created_at": pd.to_datetime([r.created_at for r in records], utc=True),
            "state": [state[r.id] for r in records],
        }
    )
    if kind == "opportunity":
        frame["amount"] = [float(r.amount.amount) for r in records]
    return frame


def plain_rows(log: pd.DataFrame) -> pd.DataFrame:
    """The plain transition log of an event-log frame: its transitioned rows, contract columns."""
    rows = log.loc[log["event"] == "transitioned", CONTRACT].reset_index(drop=True)
    return rows.astype({"source": object, "dest": object})


def created_of(entities: pd.DataFrame, kind: str) -> pd.Series:
    return pd.Series(entities["created_at"].to_numpy(), index=entities[f"{kind}_id"].to_numpy())


def moments(events: list[Event]) -> st.SearchStrategy[datetime | None]:
    """``None`` (every event) or a moment between the first and the last event."""
    first, last = min(e.at for e in events), max(e.at for e in events)
    span = int((last - first).total_seconds())
    return st.one_of(
        st.none(),
        st.integers(0, span).map(lambda s: first + timedelta(seconds=s)),
    )


# --- the KPIs that read stages -------------------------------------------------------------

Kpi = Callable[..., Any]


def _funnel_kpis(lifecycle: Lifecycle) -> dict[str, Kpi]:
    """The spell KPIs: each takes (log, lifecycle, names, **options) -> number or table."""
    first = lifecycle.initial
    won = next(s.name for s in lifecycle.stages if s.won)

    def conversion(log: pd.DataFrame, lc: Lifecycle, names: dict[str, str], **o: Any) -> Any:
        return conversion_rate(log, from_stage=names[first], to_stage=names[won], lifecycle=lc, **o)

    def plain(kpi: Kpi) -> Kpi:
        def call(log: pd.DataFrame, lc: Lifecycle, _names: dict[str, str], **o: Any) -> Any:
            return kpi(log, lifecycle=lc, **o)

        return call

    return {
        "funnel": plain(funnel),
        "conversion": conversion,
        "time_in_stage": plain(time_in_stage),
        "velocity": plain(stage_velocity),
    }


DEAL_KPIS: dict[str, Kpi] = {
    "win_rate": win_rate,
    "average_deal_size": average_deal_size,
    "sales_cycle_length": sales_cycle_length,
    "weighted_pipeline": weighted_pipeline,
    "forecast": forecast,
}


def same(a: Any, b: Any, names: dict[str, str] | None = None) -> None:
    """Equal numbers (NaN equals NaN) or equal tables (``state`` mapped by ``names``)."""
    if isinstance(a, pd.DataFrame):
        if names is not None and "state" in a.columns:
            a = a.assign(state=a["state"].map(names))
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    else:
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b), (a, b)


IDENTITY_OPP = {s: s for s in OPPORTUNITY_PIPELINE.states}

# --- law (a): the event-log frame reads as the plain log plus the entities ------------------


@pytest.mark.parametrize("lifecycle", [OPPORTUNITY_PIPELINE, LEAD_STATUS], ids=lambda lc: lc.kind)
@LAWS
@given(data=st.data())
def test_the_event_log_frame_gives_the_numbers_of_the_plain_log_and_entities(
    lifecycle: Lifecycle, data: st.DataObject
) -> None:
    records, events = data.draw(worlds(lifecycle))
    as_of = data.draw(moments(events))
    kind = lifecycle.kind
    log = events_to_frame(events)
    entities = entities_of(kind, records, events)
    population = {"entities": entities, "created": created_of(entities, kind)}
    plain = plain_rows(log)
    names = {s: s for s in lifecycle.states}
    for name, kpi in _funnel_kpis(lifecycle).items():
        expected = kpi(plain, lifecycle, names, as_of=as_of, **population)
        # the frame alone counts every record (its created rows), and so with the entities
        same(kpi(log, lifecycle, names, as_of=as_of), expected)
        same(kpi(log, lifecycle, names, as_of=as_of, **population), expected)
        assert name  # (named for the failure report)
    if kind == "opportunity":
        for kpi in DEAL_KPIS.values():
            same(kpi(entities, log, as_of=as_of), kpi(entities, plain, as_of=as_of))


def _cases(records: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [r.id for r in records],
            "opened_at": pd.to_datetime([r.created_at for r in records], utc=True),
            "priority": [r.priority for r in records],
            "first_response_at": pd.Series([pd.NaT] * len(records), dtype="datetime64[ns, UTC]"),
        }
    )


POLICY = SlaPolicy(
    targets={p: {"first_response": "4h", "resolution": "16h"} for p in ("low", "normal", "high")}
    | {"urgent": {"first_response": "1h", "resolution": "8h"}}
)


@LAWS
@given(data=st.data())
def test_the_sla_engines_read_the_event_log_frame_as_the_plain_log(data: st.DataObject) -> None:
    records, events = data.draw(worlds(CASE_STATUS))
    as_of = data.draw(moments(events)) or max(e.at for e in events) + timedelta(days=1)
    log = events_to_frame(events)
    cases = _cases(records)
    expected = sla_status(cases, POLICY, as_of=as_of, events=plain_rows(log))
    pd.testing.assert_frame_equal(sla_status(cases, POLICY, as_of=as_of, events=log), expected)
    assert backlog(cases, as_of=as_of, events=log) == backlog(
        cases, as_of=as_of, events=plain_rows(log)
    )
    # case_sla reads one case's rows of the frame, or its events as objects, the same way
    for position, record in enumerate(records):
        mine = log.loc[log["entity_id"] == record.id]
        own = [e for e in events if e.entity_id == record.id]
        row = expected.iloc[position]
        for history in (mine, own):
            one = case_sla(
                POLICY,
                opened_at=record.created_at,
                priority=record.priority,
                as_of=as_of,
                history=history,
            )
            assert one.state == row["state"]
            assert one.resolution.elapsed == row["resolution_elapsed"]
            assert one.resolution.status == row["resolution_status"]
            assert one.first_response.status == row["first_response_status"]


# --- law (b): renaming every stage changes no number -----------------------------------------


def renamed(lifecycle: Lifecycle, names: dict[str, str]) -> Lifecycle:
    """The lifecycle with every state renamed by ``names`` (its spec, rewritten)."""
    spec = lifecycle.to_dict()
    spec["initial"] = names[spec["initial"]]
    for state in spec["states"]:
        state["name"] = names[state["name"]]
    for transition in spec["transitions"]:
        for end in ("source", "dest"):
            value = transition.get(end)
            if isinstance(value, list):
                transition[end] = [names[v] for v in value]
            elif isinstance(value, str) and value in names:
                transition[end] = names[value]
    return Lifecycle.from_dict(spec)


def renamed_log(log: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return log.assign(
        source=log["source"].astype(object).map(names),
        dest=log["dest"].astype(object).map(names),
    )


@pytest.mark.parametrize("lifecycle", [OPPORTUNITY_PIPELINE, LEAD_STATUS], ids=lambda lc: lc.kind)
@LAWS
@given(data=st.data())
def test_renaming_every_stage_changes_no_number(lifecycle: Lifecycle, data: st.DataObject) -> None:
    records, events = data.draw(worlds(lifecycle))
    as_of = data.draw(moments(events))
    names = {s: f"stage_{i}" for i, s in enumerate(lifecycle.states)}
    pipeline = renamed(lifecycle, names)
    log = events_to_frame(events)
    entities = entities_of(lifecycle.kind, records, events)
    log2, entities2 = renamed_log(log, names), entities.assign(state=entities["state"].map(names))
    identity = {s: s for s in lifecycle.states}
    for kpi in _funnel_kpis(lifecycle).values():
        before = kpi(log, lifecycle, identity, as_of=as_of)
        after = kpi(log2, pipeline, names, as_of=as_of)
        same(before, after, names)
    if lifecycle is not OPPORTUNITY_PIPELINE:
        return
    for kpi in DEAL_KPIS.values():
        before = kpi(entities, log, as_of=as_of)
        same(before, kpi(entities2, log2, as_of=as_of, lifecycle=pipeline), names)


@LAWS
@given(data=st.data())
def test_renaming_every_case_state_changes_no_sla_number(data: st.DataObject) -> None:
    records, events = data.draw(worlds(CASE_STATUS))
    as_of = max(e.at for e in events) + timedelta(hours=data.draw(st.integers(0, 72)))
    names = {s: f"step_{i}" for i, s in enumerate(CASE_STATUS.states)}
    tickets = renamed(CASE_STATUS, names)
    policy = SlaPolicy(targets=POLICY.to_dict()["targets"], lifecycle=tickets)
    log = events_to_frame(events)
    cases = _cases(records)
    before = sla_status(cases, POLICY, as_of=as_of, events=log)
    after = sla_status(
        cases, policy, as_of=as_of, events=renamed_log(log, names), kind=CASE_STATUS.kind
    )
    pd.testing.assert_frame_equal(after, before.assign(state=before["state"].map(names)))


# --- law (c): a state the lifecycle does not know is an error naming it ----------------------


def _deal_log_with(state: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One deal: created, qualified, then moved to ``state``, as an event-log frame."""
    deal = Opportunity(id="O-1", name="x", amount=Money(1000, "EUR"), created_at=T0)
    step = OPPORTUNITY_PIPELINE.fire(deal, "qualify", at=T0 + timedelta(days=1))
    odd = Transitioned(
        kind="opportunity",
        entity_id="O-1",
        trigger="park",
        source="qualification",
        dest=state,
        at=T0 + timedelta(days=2),
    )
    log = events_to_frame([Created.of(deal), step.event, odd])
    entities = pd.DataFrame(
        {"opportunity_id": ["O-1"], "created_at": [T0], "state": ["qualification"], "amount": 1e3}
    )
    return log, entities


def _on_log(kpi: Kpi) -> Callable[[pd.DataFrame, pd.DataFrame], Any]:
    def call(log: pd.DataFrame, _deals: pd.DataFrame) -> Any:
        return kpi(log, OPPORTUNITY_PIPELINE, IDENTITY_OPP)

    return call


def _on_deals(kpi: Kpi) -> Callable[[pd.DataFrame, pd.DataFrame], Any]:
    def call(log: pd.DataFrame, deals: pd.DataFrame) -> Any:
        return kpi(deals, log)

    return call


STAGE_KPIS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], Any]] = {
    **{name: _on_log(kpi) for name, kpi in _funnel_kpis(OPPORTUNITY_PIPELINE).items()},
    **{name: _on_deals(kpi) for name, kpi in DEAL_KPIS.items()},
}


@pytest.mark.parametrize("name", sorted(STAGE_KPIS))
def test_a_state_the_lifecycle_does_not_know_is_an_error_naming_it(name: str) -> None:
    log, deals = _deal_log_with("on_ice")
    with pytest.raises(DataError, match="on_ice") as info:
        STAGE_KPIS[name](log, deals)
    assert "Hint:" in str(info.value)
    # with the unknown row gone, the same data gives a number, not an error
    STAGE_KPIS[name](log.iloc[:2], deals)


def test_the_sla_engines_name_a_state_the_policy_lifecycle_does_not_know() -> None:
    opened = T0
    log = pd.DataFrame(
        {
            "event": ["created", "transitioned"],
            "kind": ["case", "case"],
            "entity_id": ["C-1", "C-1"],
            "source": [None, "new"],
            "dest": ["new", "on_ice"],
            "at": pd.to_datetime([opened, opened + timedelta(hours=1)], utc=True),
        }
    )
    cases = pd.DataFrame(
        {
            "case_id": ["C-1"],
            "opened_at": [opened],
            "priority": ["high"],
            "first_response_at": [pd.NaT],
        }
    )
    as_of = opened + timedelta(days=1)
    for call in (
        lambda: sla_status(cases, POLICY, as_of=as_of, events=log),
        lambda: case_sla(POLICY, opened_at=opened, priority="high", as_of=as_of, history=log),
        lambda: backlog(cases, as_of=as_of, events=log),
    ):
        with pytest.raises(DataError, match="on_ice") as info:
            call()
        assert "Hint:" in str(info.value)


# --- law (d): an entity with no events counts at its initial stage --------------------------


@LAWS
@given(data=st.data())
def test_an_entity_without_events_counts_at_its_initial_stage(data: st.DataObject) -> None:
    records, events = data.draw(worlds(OPPORTUNITY_PIPELINE))
    log = events_to_frame(events)
    plain = plain_rows(log)
    entities = entities_of("opportunity", records, events)
    # one more deal, created after every event, with no event at all
    late = max(e.at for e in events) + timedelta(days=1)
    silent = pd.DataFrame(
        {
            "opportunity_id": ["O-new"],
            "created_at": pd.to_datetime([late], utc=True),
            "state": ["prospecting"],
            "amount": 7.0,
        }
    )
    everyone = pd.concat([entities, silent], ignore_index=True)
    created = created_of(everyone, "opportunity")
    counts = funnel(plain, entities=everyone, created=created)
    before = funnel(plain, entities=entities, created=created_of(entities, "opportunity"))
    assert counts["reached"].tolist() == [before["reached"].iloc[0] + 1, *before["reached"][1:]]
    spells = time_in_stage(plain, entities=everyone, created=created)
    open_before = time_in_stage(
        plain, entities=entities, created=created_of(entities, "opportunity")
    )
    first = OPPORTUNITY_PIPELINE.initial
    after_open = int(spells.set_index("state")["open_spells"][first])
    assert after_open == int(open_before.set_index("state")["open_spells"][first]) + 1
    # the deal KPIs read the opportunities frame: its amount is in the open pipeline
    assert weighted_pipeline(everyone, plain) == pytest.approx(
        weighted_pipeline(entities, plain) + 7.0 * 0.10  # prospecting: 10 %
    )
    # the event-log frame's created row alone counts it too, without entities=
    with_row = pd.concat([log, events_to_frame([_created_row("O-new", late)])], ignore_index=True)
    assert funnel(with_row)["reached"].tolist() == counts["reached"].tolist()


def _created_row(entity_id: str, at: datetime) -> Created:
    return Created.of(Opportunity(id=entity_id, name="new", amount=Money(7, "EUR"), created_at=at))
