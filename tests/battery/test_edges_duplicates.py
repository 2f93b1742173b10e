"""Issue 13: a state both paused and stopped, and a case counted twice, are refused."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlifecycle.errors import DataError, SpecError, ValidationError
from crmlifecycle.metrics import backlog, sla_breach_rate
from crmlifecycle.sla import SlaPolicy, sla_status

POLICY = SlaPolicy(targets={"normal": {"first_response": "4h", "resolution": "2 days"}})


def test_a_state_cannot_both_pause_and_stop_the_clocks() -> None:
    with pytest.raises(ValidationError, match="pause_states") as info:
        SlaPolicy(
            targets={"normal": {"first_response": "4h"}},
            pause_states=("waiting_on_customer", "resolved"),
            stop_states=("resolved", "closed"),
        )
    assert info.value.value == "resolved"
    with pytest.raises(SpecError, match=r"pause_states.*resolved"):  # a document: SpecError
        SlaPolicy.from_dict(
            {
                "targets": {"normal": {"first_response": "4h"}},
                "pause_states": ["resolved"],
                "stop_states": ["resolved"],
            }
        )


def _cases(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "case_id": ids,
            "opened_at": pd.to_datetime(["2026-11-23T09:00Z"] * n),
            "priority": "normal",
            "first_response_at": pd.Series([pd.NaT] * n, dtype="datetime64[ns, UTC]"),
            "resolved_at": pd.Series([pd.NaT] * n, dtype="datetime64[ns, UTC]"),
            "closed_at": pd.Series([pd.NaT] * n, dtype="datetime64[ns, UTC]"),
        }
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda cases: sla_status(cases, POLICY, as_of="2026-11-24"),
        lambda cases: sla_breach_rate(cases, POLICY, as_of="2026-11-24"),
        lambda cases: backlog(cases, as_of="2026-11-24"),
    ],
    ids=["sla_status", "sla_breach_rate", "backlog"],
)
def test_a_case_listed_twice_is_refused_not_counted_twice(call: object) -> None:
    assert callable(call)
    call(_cases(["C1", "C2"]))  # distinct ids: fine
    with pytest.raises(DataError, match=r"(duplicated case ids|repeats)") as info:
        call(_cases(["C1", "C2", "C1"]))
    assert info.value.column == "case_id"
