"""Invariants of generated worlds: schema, references, ordering, valid lifecycle walks."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.schema import FRAME_NAMES, SCHEMA
from crmlifecycle.synth import Dataset, WorldParams, generate

OPEN_STAGES: Final = ("prospecting", "qualification", "proposal", "negotiation")
# the standard lifecycles' transitions (the contract shared by the whole library)
ALLOWED: Final[dict[str, set[tuple[str, str, str]]]] = {
    "lead": {
        ("contact", "open", "contacted"),
        ("qualify", "contacted", "qualified"),
        ("disqualify", "open", "unqualified"),
        ("disqualify", "contacted", "unqualified"),
        ("recycle", "unqualified", "open"),
        ("convert", "qualified", "converted"),
    },
    "opportunity": {
        ("qualify", "prospecting", "qualification"),
        ("propose", "qualification", "proposal"),
        ("negotiate", "proposal", "negotiation"),
        *(("win", stage, "won") for stage in OPEN_STAGES),
        *(("lose", stage, "lost") for stage in OPEN_STAGES),
        *(("reopen", "lost", stage) for stage in OPEN_STAGES),
    },
    "customer": {
        ("acquire", "reach", "acquisition"),
        ("convert", "acquisition", "conversion"),
        ("retain", "conversion", "retention"),
        ("promote", "retention", "loyalty"),
        *(("churn", s, "churned") for s in ("acquisition", "conversion", "retention", "loyalty")),
        ("win_back", "churned", "conversion"),
    },
    "case": {
        ("start", "new", "in_progress"),
        ("wait", "in_progress", "waiting_on_customer"),
        ("resume", "waiting_on_customer", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("resolve", "waiting_on_customer", "resolved"),
        ("reopen", "resolved", "in_progress"),
        ("close", "resolved", "closed"),
        *(("escalate", s, s) for s in ("new", "in_progress", "waiting_on_customer")),
    },
}
INITIAL: Final = {"lead": "open", "opportunity": "prospecting", "customer": "reach", "case": "new"}
# (event frame, entity frame, id column, created column); the state is in state/state_since
LOGS: Final = (
    ("lead_events", "leads", "lead_id", "created_at"),
    ("opportunity_events", "opportunities", "opportunity_id", "created_at"),
    ("customer_events", "customers", "customer_id", None),
    ("case_events", "cases", "case_id", "opened_at"),
)
DTYPES: Final = {
    "str": "str",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "time": "datetime64[ns, UTC]",
}


def check_schema(data: Dataset) -> None:
    assert tuple(data.frames()) == FRAME_NAMES
    for name, frame in data.frames().items():
        assert list(frame.columns) == list(SCHEMA[name]), name
        for column, kind in SCHEMA[name].items():
            assert frame[column].dtype == DTYPES[kind], (name, column, frame[column].dtype)
        assert frame.index.equals(pd.RangeIndex(len(frame))), name


def check_ids_unique(data: Dataset) -> None:
    for name, column in (
        ("campaigns", "campaign_id"),
        ("leads", "lead_id"),
        ("interactions", "interaction_id"),
        ("opportunities", "opportunity_id"),
        ("customers", "customer_id"),
        ("orders", "order_id"),
        ("cases", "case_id"),
        ("feedback", "feedback_id"),
    ):
        assert data.frames()[name][column].is_unique, name
    assert data.customers["opportunity_id"].is_unique
    assert data.opportunities["lead_id"].is_unique
    assert not data.subscriptions.duplicated(["customer_id", "period"]).any()
    assert not data.spend.duplicated(["campaign_id", "period"]).any()


def is_subset(child: pd.Series, parent: pd.Series) -> bool:
    return bool(child.isin(parent).all())


def check_references(data: Dataset) -> None:
    assert is_subset(data.spend["campaign_id"], data.campaigns["campaign_id"])
    assert is_subset(data.leads["campaign_id"], data.campaigns["campaign_id"])
    assert is_subset(data.interactions["lead_id"], data.leads["lead_id"])
    assert is_subset(data.opportunities["lead_id"], data.leads["lead_id"])
    assert is_subset(data.customers["opportunity_id"], data.opportunities["opportunity_id"])
    for name in ("orders", "subscriptions", "cases", "feedback"):
        assert is_subset(data.frames()[name]["customer_id"], data.customers["customer_id"]), name
    # channel and paid agree with the campaign, lead and customer they belong to
    campaigns = data.campaigns.set_index("campaign_id")
    for frame in (data.leads, data.spend):
        assert frame["campaign_id"].map(campaigns["channel"]).equals(frame["channel"])
    assert data.spend["campaign_id"].map(campaigns["paid"]).equals(data.spend["paid"])
    leads = data.leads.set_index("lead_id")
    customers = data.customers
    assert customers["lead_id"].map(leads["channel"]).equals(customers["channel"])
    # every opportunity comes from a converted lead, every customer from a won opportunity
    assert set(data.opportunities["lead_id"]) == set(leads.index[leads["state"] == "converted"])
    opportunities = data.opportunities.set_index("opportunity_id")
    won = customers["opportunity_id"]
    assert (won.map(opportunities["state"]) == "won").all()
    assert won.map(opportunities["lead_id"]).equals(customers["lead_id"])
    assert won.map(opportunities["account_id"]).equals(customers["account_id"])
    assert len(customers) == int((opportunities["state"] == "won").sum())
    for log, entities, id_column, *_ in LOGS:
        assert is_subset(data.frames()[log]["entity_id"], data.frames()[entities][id_column])


def check_times(data: Dataset) -> None:
    start, end = data.start, data.end
    for name, frame in data.frames().items():
        for column, kind in SCHEMA[name].items():
            if kind == "time" and column not in {"period", "end"}:
                present = frame[column].dropna()
                assert ((present >= start) & (present < end)).all(), (name, column)
    assert (data.campaigns["start"] < data.campaigns["end"]).all()
    assert (data.campaigns["end"] <= end).all()
    for frame, column in ((data.spend, "period"), (data.subscriptions, "period")):
        period = frame[column]
        assert (period == period.dt.floor("D")).all()
        assert (period.dt.day == 1).all()
        assert (period < end).all()
    # a lead converts before its opportunity opens, a deal is won when its customer is acquired
    leads = data.leads.set_index("lead_id")
    opportunities = data.opportunities.set_index("opportunity_id")
    opened = data.opportunities["created_at"].to_numpy()
    assert (leads.loc[data.opportunities["lead_id"], "created_at"].to_numpy() <= opened).all()
    assert (leads.loc[data.opportunities["lead_id"], "state_since"].to_numpy() == opened).all()
    won = opportunities.loc[data.customers["opportunity_id"]]
    assert (won["closed_at"].to_numpy() == data.customers["acquired_at"].to_numpy()).all()
    # orders between acquisition and churn; the first one at acquisition
    customers = data.customers.set_index("customer_id")
    acquired = customers.loc[data.orders["customer_id"], "acquired_at"].to_numpy()
    assert (data.orders["at"].to_numpy() >= acquired).all()
    first_order = data.orders.groupby("customer_id")["at"].min()
    assert first_order.reindex(customers.index).equals(customers["acquired_at"].rename("at"))
    churned = customers.loc[data.orders["customer_id"], "churned_at"].to_numpy()
    assert not (data.orders["at"].to_numpy() > churned).any()
    # orders of a customer are listed in time order
    same = data.orders["customer_id"].eq(data.orders["customer_id"].shift())
    assert data.orders["customer_id"][~same].is_unique
    assert (data.orders["at"][same] >= data.orders["at"].shift()[same]).all()
    # cases: opened <= first response <= resolved <= closed (where they happened)
    cases = data.cases
    for earlier, later in (
        ("opened_at", "first_response_at"),
        ("first_response_at", "resolved_at"),
        ("resolved_at", "closed_at"),
    ):
        both = cases[earlier].notna() & cases[later].notna()
        assert (cases.loc[both, earlier] <= cases.loc[both, later]).all()
    assert (
        cases["opened_at"] >= customers.loc[cases["customer_id"], "acquired_at"].to_numpy()
    ).all()


def check_logs(data: Dataset) -> None:
    state, since = "state", "state_since"
    for log_name, entity_name, id_column, created in LOGS:
        log = data.frames()[log_name]
        entities = data.frames()[entity_name]
        kind = log_name.removesuffix("_events")
        assert (log["kind"] == kind).all()
        triples = set(map(tuple, log[["trigger", "source", "dest"]].drop_duplicates().to_numpy()))
        assert triples <= ALLOWED[kind], triples - ALLOWED[kind]
        same = log["entity_id"].eq(log["entity_id"].shift())
        # rows of an entity are contiguous and chained: source = previous dest
        assert log["entity_id"][~same].is_unique
        assert (log["source"][same] == log["dest"].shift()[same]).all()
        assert (log["source"][~same] == INITIAL[kind]).all()
        assert (log["at"][same] >= log["at"].shift()[same]).all()
        last = log[~log["entity_id"].eq(log["entity_id"].shift(-1))].set_index("entity_id")
        current = entities.set_index(id_column)
        with_events = current.loc[last.index]
        assert (with_events[state].to_numpy() == last["dest"].to_numpy()).all()
        assert (with_events[since].to_numpy() == last["at"].to_numpy()).all()
        without = current.drop(index=last.index)
        assert (without[state] == INITIAL[kind]).all()
        if created is not None:
            assert (without[since] == without[created]).all()
            first = log[~same].set_index("entity_id")["at"]
            assert (first >= current.loc[first.index, created]).all()
    # a reopened deal goes back to the stage it was lost from
    opp = data.opportunity_events
    reopen = opp["trigger"] == "reopen"
    assert (opp["dest"][reopen] == opp["source"].shift()[reopen]).all()
    assert (opp["trigger"].shift()[reopen] == "lose").all()


def check_entities(data: Dataset) -> None:
    opp = data.opportunities
    expected = opp["state"].map(
        dict(zip((*OPEN_STAGES, "won", "lost"), (10, 20, 50, 80, 100, 0), strict=True))
    )
    assert (opp["probability"] == expected).all()
    closed = opp["state"].isin(["won", "lost"])
    assert (opp["closed_at"].notna() == closed).all()
    assert (opp.loc[closed, "closed_at"] == opp.loc[closed, "state_since"]).all()
    assert (opp["lost_reason"].notna() == (opp["state"] == "lost")).all()
    assert (opp["amount"] > 0).all()
    customers = data.customers
    assert (customers["churned_at"].notna() == (customers["state"] == "churned")).all()
    assert (data.orders["amount"] > 0).all()
    assert (data.subscriptions["mrr"] > 0).all()
    assert (data.spend["spend"] >= 0).all()
    assert (data.spend.loc[~data.spend["paid"], "spend"] == 0).all()
    leads = data.leads
    assert (leads["company_size"] >= 1).all()
    assert (leads["budget"].dropna() > 0).all()
    assert leads["email"].str.fullmatch(r"[a-z0-9]+@example\.com").all()
    feedback = data.feedback
    for kind, low, high in (("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)):
        scores = feedback.loc[feedback["kind"] == kind, "score"]
        assert scores.between(low, high).all(), kind
    assert set(data.cases["priority"]) <= {"low", "normal", "high", "urgent"}
    # subscriptions stop after churn: no month after the churn month
    churned = customers.dropna(subset=["churned_at"]).set_index("customer_id")["churned_at"]
    subs = data.subscriptions[data.subscriptions["customer_id"].isin(churned.index)]
    churn_month = churned.loc[subs["customer_id"]].dt.tz_localize(None).dt.to_period("M")
    assert (
        subs["period"].dt.tz_localize(None).dt.to_period("M").to_numpy() <= churn_month.to_numpy()
    ).all()


def check_world(data: Dataset) -> None:
    check_schema(data)
    check_ids_unique(data)
    check_references(data)
    check_times(data)
    check_logs(data)
    check_entities(data)


def test_default_sized_world_is_coherent(world: Dataset) -> None:
    check_world(world)
    # enough of everything for the analytics to have something to chew on
    for name in FRAME_NAMES:
        assert len(world.frames()[name]) > 0, name
    for kind in ("lead", "opportunity", "customer", "case"):
        seen = set(
            map(tuple, world.frames()[f"{kind}_events"][["trigger", "source", "dest"]].to_numpy())
        )
        # every trigger of the lifecycle occurs at least once
        assert {t for t, _, _ in seen} == {t for t, _, _ in ALLOWED[kind]}, kind


def test_bigger_world_is_coherent(big_world: Dataset) -> None:
    check_world(big_world)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n_leads=st.integers(1, 400),
    years=st.floats(0.05, 3.0),
)
def test_any_small_world_is_coherent(seed: int, n_leads: int, years: float) -> None:
    start = pd.Timestamp("2023-03-15", tz="UTC")
    end = start + pd.Timedelta(days=round(365 * years))
    check_world(generate(seed=seed, n_leads=n_leads, start=start, end=end))


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_extreme_parameters_stay_coherent(seed: int) -> None:
    params = WorldParams(
        contact_rate=1.0,
        qualify_logit=5.0,
        convert_rate=1.0,
        win_logit=5.0,
        reopen_rate=1.0,
        dropout_a=0.5,
        dropout_b=0.5,
        win_back_rate=1.0,
        churn_lag_days=0.0,
        loyalty_orders=1,
        escalation_rate=1.0,
        case_reopen_rate=1.0,
        waiting_rate=1.0,
        cases_per_year=20.0,
        expansion_rate=0.5,
        contraction_rate=0.5,
    )
    check_world(generate(seed=seed, n_leads=150, params=params))


def test_same_seed_same_world_other_seed_other_world() -> None:
    one = generate(seed=42, n_leads=500)
    two = generate(seed=42, n_leads=500)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(one.frames()[name], two.frames()[name])
    other = generate(seed=43, n_leads=500)
    assert not other.leads.equals(one.leads)
    assert not other.orders.equals(one.orders)


def test_window_is_respected() -> None:
    data = generate(seed=1, n_leads=200, start="2025-02-01", end="2025-05-01")
    assert data.start == pd.Timestamp("2025-02-01", tz="UTC")
    assert data.end == pd.Timestamp("2025-05-01", tz="UTC")
    check_world(data)
    assert data.subscriptions["period"].min() >= pd.Timestamp("2025-02-01", tz="UTC")
    assert data.subscriptions["period"].max() <= pd.Timestamp("2025-04-01", tz="UTC")


def test_no_contact_means_no_contact_events() -> None:
    data = generate(seed=3, n_leads=300, params=WorldParams(contact_rate=0.0))
    assert set(data.lead_events["trigger"]) <= {"disqualify"}
    assert set(data.leads["state"]) <= {"open", "unqualified"}
    assert data.opportunities.empty
    assert data.customers.empty
    assert data.orders.empty
    check_world(data)


def test_repr_names_sizes(world: Dataset) -> None:
    text = repr(world)
    assert text.startswith("Dataset(2024-01-01..2026-01-01: campaigns=")
    assert "leads=3000" in text


def test_frames_are_new_dicts_of_the_same_frames(world: Dataset) -> None:
    frames = world.frames()
    frames.clear()
    assert world.frames()["leads"] is world.leads


def test_dataset_checks_its_frames(world: Dataset) -> None:
    from crmlifecycle.errors import DataError, MissingColumnError

    frames = world.frames()
    with pytest.raises(MissingColumnError) as info:
        Dataset(
            **{**frames, "orders": frames["orders"].drop(columns=["amount"])},
            start=world.start,
            end=world.end,
        )
    assert info.value.missing == ("amount",)
    with pytest.raises(DataError, match=r"Dataset\.leads must be a pandas DataFrame"):
        Dataset(**{**frames, "leads": [1, 2]}, start=world.start, end=world.end)  # type: ignore[arg-type]


def test_numbers_sanity(world: Dataset) -> None:
    # the funnel narrows at every step, with default rates of the documented size
    n_leads = len(world.leads)
    n_opportunities = len(world.opportunities)
    n_customers = len(world.customers)
    assert 0.15 * n_leads < n_opportunities < 0.45 * n_leads
    closed = world.opportunities["state"].isin(["won", "lost"]).sum()
    assert 0.15 * closed < n_customers < 0.5 * closed
    # every customer has at least its first order
    assert world.orders["customer_id"].nunique() == n_customers
    assert np.isclose(world.orders["amount"].mean(), 150.0, rtol=0.25)
