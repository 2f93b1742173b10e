from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics import (
    arpu,
    combine_mrr_movements,
    gross_revenue_retention,
    mrr_movements,
    mrr_movements_partial,
    net_revenue_retention,
)
from crmlifecycle.schema import RevenueColumns


def utc(*stamps: str) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def split_by(frame: pd.DataFrame, column: str, assignment: list[int]) -> list[pd.DataFrame]:
    """Split frame into partitions that each hold all rows of some customers."""
    ids = sorted(frame[column].unique())
    labels = frame[column].map(dict(zip(ids, assignment, strict=False)))
    return [frame.loc[labels == b] for b in sorted(set(labels))]


@pytest.fixture
def subs() -> pd.DataFrame:
    rows = [
        ("a", "2026-01-01", 100.0),
        ("a", "2026-02-01", 150.0),
        ("a", "2026-03-01", 150.0),
        ("b", "2026-01-01", 200.0),
        ("b", "2026-02-01", 50.0),
        ("c", "2026-01-01", 80.0),
        ("c", "2026-03-01", 90.0),
        ("d", "2026-02-01", 60.0),
        ("d", "2026-03-01", 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "period", "mrr"])
    frame["period"] = pd.to_datetime(frame["period"], utc=True)
    frame["plan"] = frame["customer_id"].map({"a": "pro", "b": "pro", "c": "basic", "d": "basic"})
    return frame


def test_mrr_movements_hand_computed(subs: pd.DataFrame) -> None:
    table = mrr_movements(subs)
    assert table["period"].astype(str).tolist() == ["2026-01", "2026-02", "2026-03"]
    # Jan: new a 100, b 200, c 80 = 380.
    # Feb: start 380; a +50 expansion; b 200->50 contraction 150; c 80 churned; d new 60.
    #      end = 150 + 50 + 60 = 260 = 380 + 60 + 50 - 150 - 80
    # Mar: start 260; a flat; b 50 churned; c back 90 (reactivated); d 60 -> 0 churned.
    #      end = 150 + 90 = 240 = 260 + 90 - 50 - 60
    assert table["starting_mrr"].tolist() == [0.0, 380.0, 260.0]
    assert table["new"].tolist() == [380.0, 60.0, 0.0]
    assert table["expansion"].tolist() == [0.0, 50.0, 0.0]
    assert table["contraction"].tolist() == [0.0, 150.0, 0.0]
    assert table["churned"].tolist() == [0.0, 80.0, 110.0]
    assert table["reactivated"].tolist() == [0.0, 0.0, 90.0]
    assert table["ending_mrr"].tolist() == [380.0, 260.0, 240.0]
    assert table["customers_start"].tolist() == [0, 3, 3]
    assert table["customers_end"].tolist() == [3, 3, 2]
    # Feb GRR = (min(150,100) + min(50,200) + 0) / 380 = 150 / 380
    # Feb NRR = (150 + 50 + 0) / 380 = 200 / 380 (d is new: excluded)
    assert table["grr"].iloc[1] == pytest.approx(150 / 380)
    assert table["nrr"].iloc[1] == pytest.approx(200 / 380)
    assert table["gross_revenue_churn"].iloc[1] == pytest.approx(230 / 380)
    assert table["net_revenue_churn"].iloc[1] == pytest.approx(180 / 380)
    assert math.isnan(table["grr"].iloc[0])  # no revenue at the start: undefined


def test_net_revenue_churn_can_be_negative() -> None:
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "period": utc("2026-01-01", "2026-02-01"),
            "mrr": [100.0, 130.0],
        }
    )
    feb = mrr_movements(subs).iloc[1]
    assert float(feb["net_revenue_churn"]) == pytest.approx(-0.3)
    assert float(feb["nrr"]) == pytest.approx(1.3)
    assert float(feb["grr"]) == 1.0  # capped at the starting revenue


def test_quarterly_mrr_reads_the_last_month(subs: pd.DataFrame) -> None:
    later = pd.DataFrame(
        {
            "customer_id": ["a", "e"],
            "period": utc("2026-06-01", "2026-05-01"),
            "mrr": [200.0, 70.0],
            "plan": ["pro", "basic"],
        }
    )
    table = mrr_movements(pd.concat([subs, later], ignore_index=True), freq="Q")
    # Q1 snapshot (March): a 150, c 90 = 240. Q2 snapshot (June): a 200 (e left in June).
    assert table["ending_mrr"].tolist() == [240.0, 200.0]
    assert table.iloc[1]["expansion"] == 50.0
    assert table.iloc[1]["churned"] == 90.0
    summed = mrr_movements(subs, freq="Q", how="sum")
    assert summed["ending_mrr"].tolist() == [380.0 + 260.0 + 240.0]


def test_grr_and_nrr_between_two_dates(subs: pd.DataFrame) -> None:
    # Jan -> Mar cohort {a: 100, b: 200, c: 80} = 380; March: a 150, b 0, c 90
    # GRR: capped revenue 100 + 0 + 80 over 380. NRR: 150 + 0 + 90 over 380.
    assert gross_revenue_retention(subs, start="2026-01-01", end="2026-03-01") == pytest.approx(
        180 / 380
    )
    assert net_revenue_retention(subs, start="2026-01-15", end="2026-03-31") == pytest.approx(
        240 / 380
    )
    by_plan = net_revenue_retention(subs, start="2026-01-01", end="2026-03-01", by="plan")
    assert by_plan.set_index("plan")["nrr"].to_dict() == pytest.approx(
        {"basic": 90 / 80, "pro": 150 / 300}
    )
    monthly = gross_revenue_retention(subs, freq="M")
    assert list(monthly.columns) == ["period", "starting_mrr", "retained_mrr", "grr"]


def test_revenue_bad_input(subs: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="unique"):
        mrr_movements(pd.concat([subs, subs.iloc[:1]], ignore_index=True))
    with pytest.raises(DataError, match="negative"):
        mrr_movements(subs.assign(mrr=-subs["mrr"]))
    with pytest.raises(DataError, match="constant per customer"):
        mrr_movements(subs.assign(plan=["x", "y", "x", "x", "x", "y", "y", "y", "y"]), by="plan")
    with pytest.raises(DataError, match="start= and end="):
        net_revenue_retention(subs)
    with pytest.raises(DataError, match="freq='W'"):
        mrr_movements(subs, freq="W")
    with pytest.raises(DataError, match="how="):
        mrr_movements(subs, freq="Q", how="mean")


def test_arpu(subs: pd.DataFrame) -> None:
    # revenue 100+150+150+200+50+80+90+60 = 880 over 8 paying customer-months (d's 0 excluded)
    assert arpu(subs) == pytest.approx(110.0)
    quarterly = arpu(subs, freq="Q", by="plan")
    # basic: 80 + 90 + 60 = 230 over 3 customer-months
    assert quarterly.set_index("plan").loc["basic", "arpu"] == pytest.approx(230 / 3)
    assert math.isnan(arpu(subs.iloc[:0]))


@st.composite
def revenue_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 7), st.integers(0, 14), st.sampled_from([0.0, 10.0, 25.5, 40.0])
            ),
            min_size=1,
            max_size=40,
            unique_by=lambda r: (r[0], r[1]),
        )
    )
    frame = pd.DataFrame(rows, columns=["c", "month", "mrr"])
    months = frame["month"].to_numpy()
    periods = pd.to_datetime(
        pd.DataFrame({"year": 2025 + months // 12, "month": months % 12 + 1, "day": 1}), utc=True
    )
    return pd.DataFrame(
        {
            "customer_id": "c" + frame["c"].astype(str),
            "period": periods,
            "mrr": frame["mrr"],
            "segment": (frame["c"] % 2).map({0: "even", 1: "odd"}),
        }
    )


@settings(max_examples=25)
@given(revenue_frames(), st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_mrr_split_then_combine_equals_whole(frame: pd.DataFrame, assignment: list[int]) -> None:
    whole = mrr_movements(frame, by="segment")
    parts = split_by(frame, "customer_id", assignment)
    combined = combine_mrr_movements(
        [mrr_movements_partial(p, by="segment") for p in parts], by="segment"
    )
    pd.testing.assert_frame_equal(combined, whole)


@settings(max_examples=25)
@given(revenue_frames())
def test_mrr_movements_reconcile_and_grr_is_bounded(frame: pd.DataFrame) -> None:
    table = mrr_movements(frame)
    flows = (
        table["starting_mrr"]
        + table["new"]
        + table["reactivated"]
        + table["expansion"]
        - table["contraction"]
        - table["churned"]
    )
    assert flows.to_numpy() == pytest.approx(table["ending_mrr"].to_numpy())
    assert (
        table["starting_mrr"].iloc[1:].to_numpy() == table["ending_mrr"].iloc[:-1].to_numpy()
    ).all()
    grr = table["grr"].dropna()
    assert ((grr >= 0) & (grr <= 1 + 1e-12)).all()
    assert (table["nrr"].dropna() >= table["grr"].dropna() - 1e-12).all()


@settings(max_examples=25)
@given(revenue_frames(), st.floats(0.1, 100.0))
def test_revenue_ratios_are_scale_invariant(frame: pd.DataFrame, factor: float) -> None:
    base = mrr_movements(frame)
    scaled = mrr_movements(frame.assign(mrr=frame["mrr"] * factor))
    for column in ("grr", "nrr", "gross_revenue_churn", "net_revenue_churn"):
        assert scaled[column].to_numpy() == pytest.approx(base[column].to_numpy(), nan_ok=True)


def test_renamed_columns_are_read_through_the_spec() -> None:
    revenue = pd.DataFrame(
        {
            "account": ["a", "a", "b", "c"],
            "month": utc("2025-01-01", "2026-01-01", "2025-01-01", "2026-01-01"),
            "monthly_revenue": [100.0, 300.0, 100.0, 50.0],
        }
    )
    cols = RevenueColumns(customer_id="account", period="month", mrr="monthly_revenue")
    window = {"start": "2025-01-01", "end": "2026-01-01"}
    # start cohort {a, b}: GRR min(300, 100) + 0 = 100 of 200; NRR 300 of 200 (c is new)
    assert gross_revenue_retention(revenue, revenue_columns=cols, **window) == 0.5
    assert net_revenue_retention(revenue, revenue_columns=cols, **window) == 1.5
    assert arpu(revenue, revenue_columns=cols) == 137.5  # 550 / 4 customer-months
    moves = mrr_movements(revenue, revenue_columns=cols, end="2025-03-01")
    assert moves["churned"].tolist() == [0.0, 200.0]  # a and b stop paying in February 2025


def test_empty_by_is_refused(subs: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="by"):
        arpu(subs, by=[])
    with pytest.raises(ValidationError, match="by"):
        gross_revenue_retention(subs, start="2026-01-01", end="2026-02-01", by=[])
