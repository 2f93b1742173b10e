"""The generator follows the data contract (crmlifecycle.schema) and the standard lifecycles."""

from __future__ import annotations

import copy
from typing import Final

import attrs
import pandas as pd
import pytest

from crmlifecycle import synth
from crmlifecycle.errors import DataError, SpecError
from crmlifecycle.schema import FRAME_COLUMNS, FRAME_NAMES, SCHEMA, ColumnKind, RevenueColumns
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STANDARD_SPECS,
    Lifecycle,
)
from crmlifecycle.synth import Dataset, generate
from crmlifecycle.synth._columns import assemble
from crmlifecycle.synth._events import follow, stage_mask, stage_of_type

#: the pandas dtype of each kind of the contract
DTYPE_OF_KIND: Final[dict[ColumnKind, str]] = {
    "str": "str",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "time": "datetime64[ns, UTC]",
}
LIFECYCLE_OF: Final = {
    "leads": LEAD_STATUS,
    "opportunities": OPPORTUNITY_PIPELINE,
    "customers": CUSTOMER_LIFECYCLE,
    "cases": CASE_STATUS,
}


@pytest.mark.parametrize("n_leads", [1, 40, 2_000])
def test_every_frame_has_exactly_the_contract_columns_and_kinds(n_leads: int) -> None:
    # one lead gives mostly empty frames: their dtypes must follow the contract too
    world = generate(seed=4, n_leads=n_leads)
    assert tuple(world.frames()) == FRAME_NAMES
    for name, frame in world.frames().items():
        assert list(frame.columns) == list(SCHEMA[name]), name
        for column, kind in SCHEMA[name].items():
            assert frame[column].dtype == DTYPE_OF_KIND[kind], (name, column, frame[column].dtype)


def test_dataset_fields_are_the_contract_frames() -> None:
    fields = [field.name for field in attrs.fields(Dataset)]
    assert fields == [*FRAME_NAMES, "start", "end"]
    assert set(FRAME_COLUMNS) == set(FRAME_NAMES)


def test_the_contract_lives_in_the_schema_module_only() -> None:
    assert not hasattr(synth, "SCHEMA")
    assert not hasattr(synth, "FRAME_NAMES")
    assert "SCHEMA" not in synth.__all__


def test_states_and_probabilities_come_from_the_lifecycles() -> None:
    world = generate(seed=8, n_leads=1_500)
    for name, lifecycle in LIFECYCLE_OF.items():
        frame = world.frames()[name]
        assert set(frame["state"]) <= set(lifecycle.states), name
        kind = lifecycle.kind
        log = world.frames()[f"{kind}_events"]
        assert set(log["trigger"]) <= set(lifecycle.trigger_names), name
    deals = world.opportunities
    stages = OPPORTUNITY_PIPELINE.stages_frame()
    assert deals["probability"].tolist() == deals["state"].map(stages["probability"]).tolist()
    closed = deals["state"].map(stages["closed"]).astype(bool)
    assert (deals["closed_at"].notna() == closed).all()


def test_assemble_orders_columns_and_refuses_strays() -> None:
    frame = assemble(RevenueColumns, {"mrr": [1.0], "period": [0], "customer_id": ["C1"]})
    assert frame.columns.tolist() == ["customer_id", "period", "mrr"]
    with pytest.raises(DataError, match=r"missing \['period'\], unknown \['plan'\]"):
        assemble(RevenueColumns, {"mrr": [1.0], "customer_id": ["C1"], "plan": ["x"]})


def _renamed(kind: str, old: str, new: str) -> Lifecycle:
    """A standard lifecycle with one state renamed (in its states and transitions)."""
    spec = copy.deepcopy(STANDARD_SPECS[kind])

    def swap(value: object) -> object:
        if isinstance(value, list):
            return [swap(v) for v in value]
        return new if value == old else value

    spec["initial"] = swap(spec["initial"])
    for state in spec["states"]:
        state["name"] = swap(state["name"])
    for transition in spec["transitions"]:
        for key in ("source", "dest"):
            if key in transition:
                transition[key] = swap(transition[key])
    return Lifecycle.from_dict(spec)


def test_walks_follow_a_renamed_stage() -> None:
    # renaming a stage in the lifecycle definition changes no code in the generator
    renamed = _renamed("opportunity", "won", "closed_won")
    walk = ["qualify", "propose", "lose", "reopen", "win"]
    steps = follow(renamed, walk)
    assert [renamed.states[dest] for _, dest in steps] == [
        "qualification",
        "proposal",
        "lost",
        "proposal",
        "closed_won",
    ]
    assert steps == follow(OPPORTUNITY_PIPELINE, walk)
    assert stage_of_type(renamed, "won") == stage_of_type(OPPORTUNITY_PIPELINE, "won") == 4


def test_follow_reads_internal_and_to_last_open_transitions() -> None:
    # escalate is internal: the case stays in progress
    steps = follow(CASE_STATUS, ["start", "escalate", "wait", "resume", "resolve", "close"])
    states = [CASE_STATUS.states[dest] for _, dest in steps]
    assert states == [
        "in_progress",
        "in_progress",
        "waiting_on_customer",
        "in_progress",
        "resolved",
        "closed",
    ]
    # reopen goes back to the stage the deal was lost from
    steps = follow(OPPORTUNITY_PIPELINE, ["qualify", "propose", "negotiate", "lose", "reopen"])
    assert OPPORTUNITY_PIPELINE.states[steps[-1][1]] == "negotiation"
    # a walk may start in another state
    steps = follow(LEAD_STATUS, ["recycle", "contact"], start="unqualified")
    assert [LEAD_STATUS.states[dest] for _, dest in steps] == ["open", "contacted"]


def test_follow_refuses_a_walk_the_lifecycle_does_not_allow() -> None:
    with pytest.raises(SpecError, match="trigger 'convert' is not allowed from state 'open'"):
        follow(LEAD_STATUS, ["convert"])


def test_stage_lookups_by_metadata() -> None:
    assert stage_mask(CASE_STATUS, lambda stage: stage.type == "on_hold").tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]
    assert CUSTOMER_LIFECYCLE.states[stage_of_type(CUSTOMER_LIFECYCLE, "lost")] == "churned"
    with pytest.raises(SpecError, match="has 3 states of type 'won'"):
        stage_of_type(CUSTOMER_LIFECYCLE, "won")


def test_generated_states_read_back_as_text(world: Dataset) -> None:
    # the state column holds the lifecycle's names, never codes
    assert pd.api.types.is_string_dtype(world.leads["state"])
    assert world.leads["state"].isin(LEAD_STATUS.states).all()
