"""A record remembers its last change (updated_at): no step or edit goes before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle import Case, Lead
from crmlifecycle.errors import ValidationError
from crmlifecycle.stages import CASE_STATUS, LEAD_STATUS

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _case() -> Case:
    return Case(id="S-1", customer_id="K-1", subject="Cannot log in", created_at=T0)


def test_a_step_that_keeps_the_state_still_moves_the_last_change() -> None:
    started = CASE_STATUS.fire(_case(), "start", at=T0 + HOUR).entity
    escalated = CASE_STATUS.fire(started, "escalate", at=T0 + 3 * HOUR).entity
    # escalate is internal: the state and state_since stay, the last change moves
    assert (escalated.state, escalated.state_since) == ("in_progress", T0 + HOUR)
    assert escalated.updated_at == T0 + 3 * HOUR
    # so an edit or a step between the two is refused, naming the time it must follow
    with pytest.raises(ValidationError, match=r"last change \(2026-05-04T12:00:00\+00:00"):
        CASE_STATUS.edit(escalated, at=T0 + 2 * HOUR, subject="Login fails")
    with pytest.raises(ValidationError, match="last change"):
        CASE_STATUS.fire(escalated, "resolve", at=T0 + 2 * HOUR)
    with pytest.raises(ValidationError, match="last change"):
        CASE_STATUS.assign(escalated, "agent-1", at=T0 + 2 * HOUR)


def test_an_edit_moves_the_last_change_but_not_state_since() -> None:
    lead = Lead(id="L-1", created_at=T0)
    edited = LEAD_STATUS.edit(lead, at=T0 + 5 * HOUR, company="Acme").entity
    assert (edited.state_since, edited.updated_at) == (T0, T0 + 5 * HOUR)
    with pytest.raises(ValidationError, match="last change"):
        LEAD_STATUS.fire(edited, "contact", at=T0 + HOUR)
    stepped = LEAD_STATUS.fire(edited, "contact", at=T0 + 5 * HOUR).entity
    assert stepped.state_since == stepped.updated_at == T0 + 5 * HOUR


def test_updated_at_is_checked_on_construction() -> None:
    with pytest.raises(ValidationError, match="updated_at"):
        Lead(id="L-1", created_at=T0, updated_at=T0 - HOUR)
    with pytest.raises(ValidationError, match="updated_at"):
        Lead(id="L-1", created_at=T0, updated_at=datetime(2026, 5, 4, 9))  # naive
    assert Lead(id="L-1", created_at=T0).updated_at is None  # unchanged since state_since


def test_a_bulk_step_refuses_rows_before_their_last_change_and_stamps_the_others() -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["S-1", "S-2", "S-3"],
            "state": ["in_progress"] * 3,
            "state_since": pd.to_datetime([T0] * 3, utc=True),
            "updated_at": pd.Series([T0 + 3 * HOUR, T0, None], dtype="datetime64[ns, UTC]"),
            "priority": ["normal"] * 3,
        }
    )
    step = CASE_STATUS.fire_frame(frame, "resolve", at=T0 + 2 * HOUR)
    assert step.accepted.tolist() == [False, True, True]
    assert step.reason.iloc[0] == "at is before the last change"
    assert step.frame["updated_at"].tolist() == [
        pd.Timestamp(T0 + 3 * HOUR),
        pd.Timestamp(T0 + 2 * HOUR),
        pd.Timestamp(T0 + 2 * HOUR),
    ]


_ACTIONS = st.lists(
    st.tuples(st.sampled_from(["fire", "edit", "assign"]), st.integers(0, 48)),
    max_size=12,
)


@given(_ACTIONS, st.integers(0, 48))
def test_whatever_the_order_of_calls_an_accepted_history_replays(
    actions: list[tuple[str, int]], late: int
) -> None:
    """Calls at arbitrary times: what is accepted is in time order, so its log replays."""
    case: Any = _case()
    log: list[Any] = [CASE_STATUS.create(case)]
    refused: list[str | None] = []
    for n, (action, hours) in enumerate(actions):
        at = T0 + hours * HOUR
        try:
            if action == "fire":
                triggers = CASE_STATUS.triggers(case)
                if not triggers:
                    continue
                result: Any = CASE_STATUS.fire(case, triggers[n % len(triggers)], at=at)
            elif action == "edit":
                result = CASE_STATUS.edit(case, at=at, subject=f"subject {n}")
            else:
                result = CASE_STATUS.assign(case, f"agent-{n}", at=at)
        except ValidationError as err:
            refused.append(err.field)
            continue
        case = result.entity
        log.append(result.event)
    assert set(refused) <= {"at"}  # the only refusal here: a time before the last change
    assert [e.at for e in log] == sorted(e.at for e in log)
    assert CASE_STATUS.replay(Case, log) == case
    assert CASE_STATUS.state_at(log, as_of=T0 + late * HOUR) in CASE_STATUS.states
