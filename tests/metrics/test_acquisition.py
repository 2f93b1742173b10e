from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError, ValidationError
from crmlifecycle.metrics import (
    cac,
    cac_payback_months,
    combine_new_customers,
    ltv_to_cac,
    new_customers,
    new_customers_partial,
)
from crmlifecycle.schema import CustomerColumns, SpendColumns


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def buckets(n: int) -> st.SearchStrategy[list[int]]:
    """A random assignment of n customers to up to 4 buckets."""
    return st.lists(st.integers(0, 3), min_size=n, max_size=n)


def split_by(frame: pd.DataFrame, column: str, assignment: list[int]) -> list[pd.DataFrame]:
    """Split frame into partitions that each hold all rows of some customers."""
    ids = sorted(frame[column].unique())
    labels = frame[column].map(dict(zip(ids, assignment, strict=False)))
    return [frame.loc[labels == b] for b in sorted(set(labels))]


@pytest.fixture
def spend() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["ads", "ads", "ads", "social", "events"],
            "paid": [True, True, True, True, False],
            "period": utc("2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01", "2026-02-01"),
            "spend": [1000.0, 500.0, 900.0, 300.0, 200.0],
        }
    )


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "channel": ["ads", "ads", "organic", "social", "events", "ads"],
            "acquired_at": utc(
                "2026-01-10", "2026-02-03", "2026-01-20", "2026-01-30", "2026-02-14", "2026-05-02"
            ),
        }
    )


def test_blended_cac_is_all_spend_over_all_new_customers(
    spend: pd.DataFrame, customers: pd.DataFrame
) -> None:
    # (1000 + 500 + 900 + 300 + 200) / 6 customers = 2900 / 6
    assert cac(spend, customers) == pytest.approx(2900 / 6)


def test_paid_cac_uses_paid_spend_and_paid_channel_customers(
    spend: pd.DataFrame, customers: pd.DataFrame
) -> None:
    # paid spend: 1000 + 500 + 900 + 300 = 2700; paid channels {ads, social}: a, b, d, f = 4
    assert cac(spend, customers, paid_only=True) == pytest.approx(2700 / 4)
    # explicit paid channels: only ads spend (2400) and ads customers (a, b, f)
    assert cac(spend, customers, paid_only=True, paid_channels=["ads"]) == pytest.approx(800.0)


def test_cac_per_quarter_matches_spend_and_customers_of_the_quarter(
    spend: pd.DataFrame, customers: pd.DataFrame
) -> None:
    table = cac(spend, customers, freq="Q")
    # Q1: 1000 + 500 + 300 + 200 = 2000 over a..e = 5 -> 400; Q2: 900 over f -> 900
    assert table["period"].astype(str).tolist() == ["2026Q1", "2026Q2"]
    assert table["spend"].tolist() == [2000.0, 900.0]
    assert table["new_customers"].tolist() == [5, 1]
    assert table["cac"].tolist() == [400.0, 900.0]


def test_cac_is_nan_where_nobody_was_acquired_and_zero_without_spend(
    spend: pd.DataFrame, customers: pd.DataFrame
) -> None:
    table = cac(spend, customers, freq="M", by="channel")
    row = {
        (str(p), str(c)): float(v)
        for p, c, v in zip(table["period"], table["channel"], table["cac"], strict=True)
    }
    # April ads: 900 spend, no customer -> undefined
    assert math.isnan(row["2026-04", "ads"])
    # organic in January: 1 customer, no spend -> 0
    assert row["2026-01", "organic"] == 0.0
    # May ads: customer f without spend in May -> 0 (no lag is modelled)
    assert row["2026-05", "ads"] == 0.0


def test_cac_window(spend: pd.DataFrame, customers: pd.DataFrame) -> None:
    # January only: 1000 + 300 spend over a, c, d
    assert cac(spend, customers, start="2026-01-01", end="2026-02-01") == pytest.approx(1300 / 3)


def test_cac_rejects_bad_input(spend: pd.DataFrame, customers: pd.DataFrame) -> None:
    negative = spend.assign(spend=[1000.0, -5.0, 900.0, 300.0, 200.0])
    with pytest.raises(DataError, match="negative"):
        cac(negative, customers)
    missing = spend.assign(spend=[1000.0, np.nan, 900.0, 300.0, 200.0])
    with pytest.raises(DataError, match="missing"):
        cac(missing, customers)
    duplicated = pd.concat([customers, customers.iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match="unique"):
        cac(spend, duplicated)
    naive = customers.assign(acquired_at=pd.to_datetime(["2026-01-10 10:00"] * 6))
    with pytest.raises(DataError, match="naive"):
        cac(spend, naive)
    with pytest.raises(DataError, match="freq='W'"):
        cac(spend, customers, freq="W")
    with pytest.raises(MissingColumnError, match="spend"):
        cac(spend.drop(columns=["spend"]), customers)
    with pytest.raises(DataError, match="boolean"):
        cac(spend.assign(paid="yes"), customers, paid_only=True)


def test_cac_accepts_date_only_naive_timestamps(
    spend: pd.DataFrame, customers: pd.DataFrame
) -> None:
    naive = customers.assign(acquired_at=customers["acquired_at"].dt.tz_localize(None))
    assert cac(spend, naive) == cac(spend, customers)


def test_cac_does_not_mutate_inputs(spend: pd.DataFrame, customers: pd.DataFrame) -> None:
    before_spend, before_customers = spend.copy(), customers.copy()
    cac(spend, customers, freq="M", by="channel", paid_only=True)
    pd.testing.assert_frame_equal(spend, before_spend)
    pd.testing.assert_frame_equal(customers, before_customers)


@given(st.floats(0.01, 1000.0))
def test_cac_scales_with_spend(factor: float) -> None:
    spend = pd.DataFrame(
        {"channel": ["x"], "paid": [True], "period": utc("2026-01-01"), "spend": [120.0]}
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "channel": ["x", "x"],
            "acquired_at": utc("2026-01-02", "2026-01-03"),
        }
    )
    scaled = spend.assign(spend=spend["spend"] * factor)
    assert cac(scaled, customers) == pytest.approx(factor * 60.0)


def test_new_customers_per_period_and_segment(customers: pd.DataFrame) -> None:
    assert new_customers(customers) == 6
    table = new_customers(customers, freq="M", by="channel")
    jan = table.loc[table["period"] == pd.Period("2026-01", "M")]
    assert dict(zip(jan["channel"], jan["new_customers"], strict=True)) == {
        "ads": 1,
        "organic": 1,
        "social": 1,
    }


@given(buckets(6))
def test_new_customers_split_then_combine_equals_whole(assignment: list[int]) -> None:
    customers = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "channel": ["ads", "ads", "organic", "social", "events", "ads"],
            "acquired_at": utc(
                "2026-01-10", "2026-02-03", "2026-01-20", "2026-01-30", "2026-02-14", "2026-05-02"
            ),
        }
    )
    parts = split_by(customers, "customer_id", assignment)
    partials = [new_customers_partial(p, freq="M", by="channel") for p in parts]
    combined = combine_new_customers(partials, freq="M")
    whole = new_customers(customers, freq="M", by="channel")
    combined = combined[whole.columns].sort_values(["period", "channel"], ignore_index=True)
    pd.testing.assert_frame_equal(combined, whole)


def test_ltv_to_cac_and_payback() -> None:
    assert ltv_to_cac(1800.0, 600.0) == 3.0
    assert math.isnan(ltv_to_cac(1800.0, 0.0))
    # a NaN input is an undefined KPI upstream, not a number: an error naming it, not a NaN
    with pytest.raises(ValidationError, match=r"'ltv' must be a finite number.*Hint: .*NaN"):
        ltv_to_cac(math.nan, 10.0)
    with pytest.raises(ValidationError, match="'cac' must be"):
        ltv_to_cac(1800.0, math.nan)
    with pytest.raises(ValidationError, match="'cac' must be"):
        cac_payback_months(math.nan, arpu=100.0, gross_margin=0.8)
    with pytest.raises(ValidationError, match="'arpu' must be"):
        cac_payback_months(600.0, arpu=math.nan, gross_margin=0.8)
    # 600 / (100 * 0.8) = 7.5 months
    assert cac_payback_months(600.0, arpu=100.0, gross_margin=0.8) == 7.5
    assert math.isnan(cac_payback_months(600.0, arpu=0.0, gross_margin=0.8))
    with pytest.raises(ValidationError, match="gross_margin"):
        cac_payback_months(600.0, arpu=100.0, gross_margin=80)
    with pytest.raises(ValidationError, match="ltv"):
        ltv_to_cac(-1.0, 5.0)


def test_cac_window_must_not_cut_a_spend_period() -> None:
    spend = pd.DataFrame(
        {"period": utc("2026-01-01", "2026-02-01"), "spend": [1000.0, 1000.0]},
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "acquired_at": utc("2026-01-20", "2026-01-25", "2026-02-03", "2026-02-20"),
        }
    )
    # A window from Jan 15 to Feb 15 would compare February's spend (1000) with
    # customers from January 20, January 25 and February 3 (1000 / 3 = 333.33): wrong.
    with pytest.raises(DataError, match=r"start='2026-01-15'.*'M' period") as info:
        cac(spend, customers, start="2026-01-15", end="2026-02-15")
    assert "Hint:" in str(info.value)
    with pytest.raises(DataError, match=r"end='2026-02-15'"):
        cac(spend, customers, start="2026-01-01", end="2026-02-15")
    # whole months: January 1000 / 2 customers, both months 2000 / 4
    assert cac(spend, customers, start="2026-01-01", end="2026-02-01") == 500.0
    assert cac(spend, customers, start="2026-01-01", end="2026-03-01") == 500.0
    # a quarterly spend frame accepts quarter boundaries only
    with pytest.raises(DataError, match="'Q' period"):
        cac(spend, customers, spend_freq="Q", start="2026-02-01")
    assert cac(spend, customers, spend_freq="Q", start="2026-01-01") == 500.0  # 2000 / 4


def test_cac_spend_rows_dated_inside_their_period() -> None:
    # a spend row stamped mid-month still belongs to its month (by period, not by instant)
    spend = pd.DataFrame({"period": utc("2026-01-31", "2026-02-15"), "spend": [900.0, 600.0]})
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "acquired_at": utc("2026-01-02", "2026-01-05", "2026-02-02"),
        }
    )
    # February only: 600 / 1 customer
    assert cac(spend, customers, start="2026-02-01", end="2026-03-01") == 600.0
    # January only: 900 / 2
    assert cac(spend, customers, start="2026-01-01", end="2026-02-01") == 450.0


def test_renamed_columns_are_read_through_the_specs() -> None:
    # an export with its own names: rename only the columns that differ
    customers = pd.DataFrame(
        {
            "cid": ["a", "b", "c"],
            "joined": utc("2025-12-01", "2025-12-05", "2026-01-10"),
            "source": ["ads", "organic", "ads"],
        }
    )
    people = CustomerColumns(customer_id="cid", acquired_at="joined", channel="source")
    assert new_customers(customers, customers_columns=people) == 3
    spend = pd.DataFrame(
        {
            "month": utc("2025-12-01", "2026-01-01"),
            "cost": [300.0, 300.0],
            "medium": ["ads", "ads"],
            "is_paid": [True, True],
        }
    )
    money = SpendColumns(period="month", spend="cost", channel="medium", paid="is_paid")
    assert cac(spend, customers, spend_columns=money, customers_columns=people) == 200.0  # 600 / 3
    # paid CAC: 600 of paid spend / the 2 customers from the paid channel "ads"
    paid = cac(spend, customers, spend_columns=money, customers_columns=people, paid_only=True)
    assert paid == 300.0
    with pytest.raises(MissingColumnError, match="customer_id"):
        new_customers(customers)


def test_empty_by_is_refused(spend: pd.DataFrame) -> None:
    customers = pd.DataFrame({"customer_id": ["a"], "acquired_at": utc("2026-01-05")})
    with pytest.raises(ValidationError, match="by"):
        new_customers(customers, by=[])
    with pytest.raises(ValidationError, match="by"):
        cac(spend, customers, by=[])
