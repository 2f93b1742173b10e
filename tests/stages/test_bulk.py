"""Bulk steps (fire_frame) and frame replay, held to the single-record engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Case, Money, Opportunity
from crmlifecycle.errors import DataError, MissingColumnError
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Guard,
    Lifecycle,
    StepFrameColumns,
    TransitionDef,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = pd.Timestamp("2026-03-01", tz="UTC")
PIPE = OPPORTUNITY_PIPELINE


def test_single_trigger_step_hand_example() -> None:
    frame = pd.DataFrame(
        {
            "lead_id": ["L-1", "L-2", "L-3"],
            "state": ["open", "contacted", "open"],
            "state_since": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01"], utc=True),
        },
        index=[10, 11, 12],
    )
    original = frame.copy()
    step = LEAD_STATUS.fire_frame(frame, "contact", at="2026-03-01")
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame is untouched
    # L-1 moves; L-2 is not allowed (already contacted); L-3's state_since is after `at`
    assert step.state.tolist() == ["contacted", "contacted", "open"]
    assert step.accepted.tolist() == [True, False, False]
    assert step.reason.tolist()[1:] == [
        "not allowed from this state",
        "at is before the last change",
    ]
    assert pd.isna(step.reason.iloc[0])
    assert list(step.state.index) == [10, 11, 12]
    out = step.frame
    assert out["state_since"].tolist() == [AT, frame["state_since"][11], frame["state_since"][12]]
    assert list(step.events.columns) == [
        "event",
        "kind",
        "entity_id",
        "trigger",
        "source",
        "dest",
        "at",
        "event_id",
        "sequence",
        "actor",
        "lifecycle",
        "lifecycle_version",
        "schema_version",
    ]
    assert step.events.astype(object).to_dict("records") == [
        {
            "event": "transitioned",
            "kind": "lead",
            "entity_id": "L-1",
            "trigger": "contact",
            "source": "open",
            "dest": "contacted",
            "at": AT,
            "event_id": None,  # no version column: the rows' sequence is unknown
            "sequence": None,
            "actor": None,
            "lifecycle": "lead",
            "lifecycle_version": LEAD_STATUS.version,
            "schema_version": 2,
        }
    ]


def test_trigger_column_with_missing_and_unknown_triggers() -> None:
    frame = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2", "O-3", "O-4"],
            "state": ["proposal", "proposal", "won", "negotiation"],
            "trigger": pd.Series(["negotiate", None, "reopen", "sing"], dtype=object),
        }
    )
    step = PIPE.fire_frame(frame, at=AT)  # no trigger given: each row's, from `trigger`
    assert step.state.tolist() == ["negotiation", "proposal", "won", "negotiation"]
    assert step.accepted.tolist() == [True, False, False, False]
    reasons = step.reason.astype(object).where(step.reason.notna(), None).tolist()
    assert reasons == [None, None, "not allowed from this state", "unknown trigger"]
    # a renamed trigger column gives the same step; a given trigger ignores the column
    renamed = frame.rename(columns={"trigger": "next"})
    again = PIPE.fire_frame(renamed, at=AT, entities_columns=StepFrameColumns(trigger="next"))
    pd.testing.assert_series_equal(again.state, step.state)
    assert PIPE.fire_frame(frame, "win", at=AT).accepted.tolist() == [True, True, False, True]
    with pytest.raises(MissingColumnError, match="trigger"):
        PIPE.fire_frame(renamed, at=AT)


def test_probability_effects_in_bulk_match_the_invariants() -> None:
    frame = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2", "O-3"],
            "state": ["proposal", "proposal", "negotiation"],
            "probability": [50, 35, 80],
            "probability_manual": [False, True, True],
            "lost_reason": [None, None, None],
            "last_open_stage": [None, None, None],
            "closed_at": pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"),
        }
    )
    neg = PIPE.fire_frame(frame, "negotiate", at=AT).frame
    # O-1 takes the default 80; O-2 keeps its manual 35; O-3 is not allowed
    assert neg["probability"].tolist() == [80, 35, 80]
    win = PIPE.fire_frame(frame, "win", at=AT).frame
    assert win["probability"].tolist() == [100, 100, 100]
    assert win["probability_manual"].tolist() == [False, False, False]
    assert win["closed_at"].tolist() == [AT, AT, AT]
    given = frame.assign(lost_reason=pd.Series(["price", "", None], dtype=object))
    lose = PIPE.fire_frame(
        given, "lose", at=AT, entities_columns=StepFrameColumns(context="lost_reason")
    )
    # only O-1 has a reason: O-2 ("") and O-3 (None) are refused
    assert lose.accepted.tolist() == [True, False, False]
    assert lose.reason.tolist()[1:] == ["missing lost_reason", "missing lost_reason"]
    out = lose.frame
    assert list(out.loc[0, ["state", "probability", "lost_reason", "last_open_stage"]]) == [
        "lost",
        0,
        "price",
        "proposal",
    ]
    assert lose.events["context"].tolist() == [{"lost_reason": "price"}]
    reopened = PIPE.fire_frame(out, "reopen", at=AT + pd.Timedelta(days=1)).frame
    assert list(reopened.loc[0, ["state", "probability", "lost_reason"]]) == [
        "proposal",
        50,
        None,
    ]
    assert reopened["closed_at"].isna().tolist() == [True, True, True]


def test_vectorised_hooks_escalate_and_resolve() -> None:
    cases = pd.DataFrame(
        {
            "case_id": ["S-1", "S-2", "S-3"],
            "state": ["new", "in_progress", "closed"],
            "priority": ["low", "urgent", "high"],
        }
    )
    step = CASE_STATUS.fire_frame(cases, "escalate", at=AT)
    assert step.accepted.tolist() == [True, True, False]
    assert step.frame["priority"].tolist() == ["normal", "urgent", "high"]
    assert step.frame["state"].tolist() == ["new", "in_progress", "closed"]
    assert step.events["dest"].tolist() == ["new", "in_progress"]  # internal: dest == source
    resolved = CASE_STATUS.fire_frame(cases, "resolve", at=AT).frame
    assert resolved["resolved_at"].tolist()[1] == AT
    assert pd.isna(resolved["resolved_at"].tolist()[0])


def test_condition_guards_run_on_the_frame_engine_and_python_guards_need_a_frame_form() -> None:
    gate = Lifecycle(
        "lead",
        ["open", "hot", "cold"],
        [
            TransitionDef(
                trigger="route", source="open", dest="hot", conditions=(Guard.when("score >= 50"),)
            ),
            TransitionDef(trigger="route", source="open", dest="cold"),
        ],
    )
    frame = pd.DataFrame(
        {"lead_id": ["a", "b", "c"], "state": "open", "score": [70.0, 10.0, np.nan]}
    )
    step = gate.fire_frame(frame, "route", at=AT)
    assert step.state.tolist() == ["hot", "cold", "cold"]
    only = Lifecycle(
        "lead",
        ["open", "hot"],
        [
            TransitionDef(
                trigger="route", source="open", dest="hot", conditions=(Guard.when("score >= 50"),)
            )
        ],
    )
    refused = only.fire_frame(frame, "route", at=AT)
    assert refused.reason.tolist()[1:] == ["guard rejected: score >= 50"] * 2
    python = Lifecycle(
        "lead",
        ["open", "hot"],
        [
            TransitionDef(
                trigger="route",
                source="open",
                dest="hot",
                conditions=(Guard.of(lambda _e, _i: True),),
            )
        ],
    )
    with pytest.raises(DataError, match="without a vectorised form"):
        python.fire_frame(frame, "route", at=AT)
    vectorised = Lifecycle(
        "lead",
        ["open", "hot"],
        [
            TransitionDef(
                trigger="route",
                source="open",
                dest="hot",
                conditions=(
                    Guard.of(lambda e, _i: e.score > 5, frame=lambda f, _at: f["score"] > 5),
                ),
            )
        ],
    )
    assert vectorised.fire_frame(frame, "route", at=AT).accepted.tolist() == [True, True, False]


def test_frame_errors_are_loud() -> None:
    with pytest.raises(MissingColumnError, match="state"):
        LEAD_STATUS.fire_frame(pd.DataFrame({"lead_id": ["x"]}), "contact", at=AT)
    with pytest.raises(MissingColumnError, match="lead_id"):
        LEAD_STATUS.fire_frame(pd.DataFrame({"id": ["x"], "state": ["open"]}), "contact", at=AT)
    bad = pd.DataFrame({"lead_id": ["x", "y"], "state": ["open", "nurture"]})
    with pytest.raises(DataError, match="nurture"):
        LEAD_STATUS.fire_frame(bad, "contact", at=AT)
    good = pd.DataFrame({"lead_id": ["x"], "state": ["open"]})
    with pytest.raises(DataError, match="time of day"):
        LEAD_STATUS.fire_frame(good, "contact", at="2026-03-01 10:00")


STATES = st.sampled_from(PIPE.states)


@given(
    st.lists(
        st.tuples(STATES, st.integers(0, 100), st.booleans(), st.sampled_from(["price", None])),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(PIPE.trigger_names),
)
def test_fire_frame_agrees_with_fire_row_by_row(
    rows: list[tuple[str, int, bool, str | None]], trigger: str
) -> None:
    deals = [
        Opportunity(
            id=f"O-{i}",
            name="x",
            amount=Money(1, "EUR"),
            created_at=T0,
            state=state,
            probability=100 if state == "won" else 0 if state == "lost" else prob,
            probability_manual=manual and state not in {"won", "lost"},
            last_open_stage="proposal" if state == "lost" else None,
            lost_reason="old" if state == "lost" else None,
        )
        for i, (state, prob, manual, _) in enumerate(rows)
    ]
    frame = pd.DataFrame([attrs.asdict(d, recurse=False) for d in deals]).drop(columns=["amount"])
    frame["closed_at"] = pd.Series([pd.NaT] * len(deals), dtype="datetime64[ns, UTC]")
    frame["why"] = [r[3] for r in rows]
    step = (
        PIPE.fire_frame(frame, trigger, at=AT, entities_columns=StepFrameColumns(id="id"))
        if trigger != "lose"
        else PIPE.fire_frame(
            frame.drop(columns=["lost_reason"]).assign(lost_reason=frame["why"]),
            trigger,
            at=AT,
            entities_columns=StepFrameColumns(id="id", context=["lost_reason"]),
        )
    )
    out = step.frame
    for i, d in enumerate(deals):
        context = {"lost_reason": rows[i][3]} if trigger == "lose" and rows[i][3] else {}
        ok = PIPE.can_fire(d, trigger, at=AT.to_pydatetime(), **context)
        assert bool(step.accepted.iloc[i]) == ok
        expected = PIPE.fire(d, trigger, at=AT.to_pydatetime(), **context).entity if ok else d
        assert out["state"].iloc[i] == expected.state
        assert out["probability"].iloc[i] == expected.probability
        assert bool(out["probability_manual"].iloc[i]) == expected.probability_manual
        assert out["last_open_stage"].iloc[i] == expected.last_open_stage or (
            expected.last_open_stage is None and pd.isna(out["last_open_stage"].iloc[i])
        )
    assert len(step.events) == int(step.accepted.sum())


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": "case",
            "entity_id": ["S-2", "S-1", "S-1", "S-1", "S-2"],
            "trigger": ["start", "start", "escalate", "resolve", "wait"],
            "source": ["new", "new", "in_progress", "in_progress", "in_progress"],
            "dest": [
                "in_progress",
                "in_progress",
                "in_progress",
                "resolved",
                "waiting_on_customer",
            ],
            "at": pd.to_datetime(
                ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-05", "2026-01-04"], utc=True
            ),
        }
    )


def test_replay_frame_and_as_of_snapshots() -> None:
    log = _log()
    now = CASE_STATUS.replay_frame(log)
    assert now["state"].astype(str).to_dict() == {"S-1": "resolved", "S-2": "waiting_on_customer"}
    assert now["events"].tolist() == [3, 2]
    assert now.loc["S-1", "state_since"] == pd.Timestamp("2026-01-05", tz="UTC")
    snap = CASE_STATUS.replay_frame(log, as_of="2026-01-03")
    assert snap["state"].astype(str).to_dict() == {"S-1": "in_progress", "S-2": "in_progress"}
    early = CASE_STATUS.replay_frame(log, as_of="2026-01-01")
    assert list(early.index) == ["S-1"]


def test_replay_frame_checks_the_log() -> None:
    log = _log()
    undefined = log.copy()
    undefined.loc[3, "dest"] = "closed"
    with pytest.raises(DataError, match="does not define") as info:
        CASE_STATUS.replay_frame(undefined)
    assert info.value.rows == (3,)
    broken = log.copy()
    broken.loc[3, "source"] = "waiting_on_customer"  # defined, but S-1 was in_progress
    with pytest.raises(DataError, match="previous step's dest"):
        CASE_STATUS.replay_frame(broken)
    assert CASE_STATUS.replay_frame(broken, check=False).loc["S-1", "state"] == "resolved"
    with pytest.raises(DataError, match="other lifecycles"):
        CASE_STATUS.replay_frame(log.assign(kind="lead"))
    created = pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": ["case"],
                    "entity_id": ["S-3"],
                    "trigger": ["create"],
                    "source": pd.Series([None], dtype=object),
                    "dest": ["new"],
                    "at": [pd.Timestamp("2026-01-01", tz="UTC")],
                }
            ),
            log,
        ],
        ignore_index=True,
    )
    assert CASE_STATUS.replay_frame(created).loc["S-3", "state"] == "new"


def test_events_from_fire_frame_replay_to_the_same_states() -> None:
    cases = pd.DataFrame(
        {"case_id": [f"S-{i}" for i in range(6)], "state": "new", "priority": "low"}
    )
    first = CASE_STATUS.fire_frame(cases, "start", at=AT)
    nxt = first.frame.assign(
        trigger=pd.Series(["wait", "resolve", None, "escalate", "wait", "resolve"], dtype=object)
    )
    second = CASE_STATUS.fire_frame(nxt, at=AT + pd.Timedelta(days=1))
    log = pd.concat([first.events, second.events], ignore_index=True)
    replayed = CASE_STATUS.replay_frame(log)
    assert replayed["state"].astype(str).to_dict() == dict(
        zip(second.frame["case_id"], second.frame["state"].astype(str), strict=True)
    )


def test_synthetic_world_logs_agree_with_its_frames() -> None:
    from crmlifecycle import synth

    data = synth.generate(seed=7, n_leads=400)
    for lc, events, frame, id_col, state_col in [
        (
            OPPORTUNITY_PIPELINE,
            data.opportunity_events,
            data.opportunities,
            "opportunity_id",
            "state",
        ),
        (CASE_STATUS, data.case_events, data.cases, "case_id", "state"),
        (LEAD_STATUS, data.lead_events, data.leads, "lead_id", "state"),
    ]:
        replayed = lc.replay_frame(events)["state"].astype(str)
        current = frame.set_index(id_col)[state_col].astype(str)
        moved = current[current.index.isin(replayed.index)]
        assert (replayed.reindex(moved.index) == moved).all()
        never = current[~current.index.isin(replayed.index)]
        assert (never == lc.initial).all()


def test_case_entity_matches_bulk_escalation() -> None:
    case = Case(id="S-1", customer_id="K", subject="x", created_at=T0, priority="high")
    single = CASE_STATUS.fire(case, "escalate", at=T0 + timedelta(days=1)).entity
    bulk = CASE_STATUS.fire_frame(
        pd.DataFrame({"case_id": ["S-1"], "state": ["new"], "priority": ["high"]}),
        "escalate",
        at=AT,
    ).frame
    assert single.priority == bulk["priority"].iloc[0] == "urgent"


def test_fire_frame_with_a_trigger_numbered_past_127() -> None:
    # trigger codes were stored as int8: the 151st trigger of a lifecycle overflowed
    from crmlifecycle.stages import Lifecycle

    spec = {
        "name": "wide",
        "states": ["a", "b"],
        "transitions": [{"trigger": f"t{i}", "source": "a", "dest": "b"} for i in range(200)],
    }
    wide = Lifecycle.from_dict(spec)
    frame = pd.DataFrame({"wide_id": ["x", "y"], "state": ["a", "b"]})
    step = wide.fire_frame(frame, "t150", at="2026-03-01")
    assert step.accepted.tolist() == [True, False]
    assert step.events["trigger"].tolist() == ["t150"]
