from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError, ValidationError
from crmlifecycle.metrics.clv import (
    calibration_holdout,
    rfm_combine,
    rfm_partial,
    rfm_summary,
    unit_positions,
)
from crmlifecycle.schema import OrderColumns


def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
            "at": pd.to_datetime(
                [
                    "2026-01-01 09:00",
                    "2026-01-01 17:00",  # same day: one occasion of 10 + 20
                    "2026-01-15 08:00",
                    "2026-02-01 12:00",
                    "2026-01-10 10:00",
                    "2026-01-20 10:00",
                    "2026-03-01 10:00",  # after the end: ignored
                ],
                utc=True,
            ),
            "amount": [10.0, 20.0, 40.0, 60.0, 5.0, 7.0, 99.0],
        }
    )


def test_hand_computed_daily_summary() -> None:
    result = rfm_summary(orders(), monetary_value=True, as_of="2026-02-05", time_unit="D")
    # a: occasions on Jan 1 (30), Jan 15 (40), Feb 1 (60) -> frequency 2,
    #    recency = Feb 1 - Jan 1 = 31 days, T = Feb 5 - Jan 1 = 35 days, monetary (40+60)/2 = 50
    # b: one occasion Jan 10 -> T = 26; c: Jan 20 -> T = 16 (its March order is later)
    expected = pd.DataFrame(
        {
            "frequency": [2, 0, 0],
            "recency": [31.0, 0.0, 0.0],
            "T": [35.0, 26.0, 16.0],
            "monetary_value": [50.0, 0.0, 0.0],
        },
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(result, expected)
    assert result.attrs["time_unit"] == "D"


def test_weekly_and_monthly_units() -> None:
    weekly = rfm_summary(orders(), as_of="2026-02-05", time_unit="W")
    assert weekly.loc["a", "recency"] == pytest.approx(31 / 7)
    monthly = rfm_summary(orders(), as_of="2026-02-05", time_unit="M")
    # Jan 1 -> Feb 1 is one calendar month; Feb 5 is 4/28 of the way into February
    assert monthly.loc["a", "recency"] == pytest.approx(1.0)
    assert monthly.loc["a", "T"] == pytest.approx(1 + 4 / 28)
    # Jan 10 -> Feb 5: (31 - 9) / 31 of January plus 4 / 28 of February
    assert monthly.loc["b", "T"] == pytest.approx(22 / 31 + 4 / 28)


def test_yearly_occasions_give_bgbb_histories() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["d"] * 4,
            "at": ["1995-03-01", "1996-05-01", "1996-09-01", "1999-01-01"],
        }
    )
    result = rfm_summary(frame, as_of="2001-12-31", time_unit="Y", occasion="Y")
    # occasions 1995 (first), 1996, 1999 -> 2 repeats, last in year 4 of 6
    assert result.to_numpy().tolist() == [[2.0, 4.0, 6.0]]


def test_weekly_occasions_start_on_monday() -> None:
    frame = pd.DataFrame({"customer_id": ["e", "e"], "at": ["2026-01-05", "2026-01-11"]})
    # Monday 5 and Sunday 11 January 2026 are the same ISO week: one occasion
    result = rfm_summary(frame, as_of="2026-01-20", time_unit="W", occasion="W")
    assert result.loc["e", "frequency"] == 0


def test_unit_positions_months_are_calendar_months() -> None:
    days = (pd.to_datetime(["2024-02-01", "2024-03-01", "2024-02-15"]) - pd.Timestamp(0)).days
    months = unit_positions(days.to_numpy(), "M")
    assert months[1] - months[0] == pytest.approx(1.0)
    assert months[2] - months[0] == pytest.approx(14 / 29)  # leap-year February
    quarters = unit_positions(days.to_numpy(), "Q")
    assert quarters[1] - quarters[0] == pytest.approx(1 / 3)


def test_input_is_not_mutated() -> None:
    frame = orders()
    before = frame.copy()
    rfm_summary(frame, monetary_value=True, as_of="2026-02-05")
    calibration_holdout(frame, monetary_value=True, as_of="2026-01-20", end="2026-03-05")
    pd.testing.assert_frame_equal(frame, before)


def test_calibration_holdout_with_and_without_amounts() -> None:
    result = calibration_holdout(
        orders(), monetary_value=True, as_of="2026-01-20", end="2026-03-05"
    )
    # a: calibration occasions Jan 1, Jan 15; holdout Feb 1 (60)
    # b: no holdout purchase; c: first Jan 20 (calibration), holdout Mar 1 (99)
    assert result["frequency_holdout"].tolist() == [1, 0, 1]
    assert result["monetary_value_holdout"].tolist() == [60.0, 0.0, 99.0]
    assert result["duration_holdout"].iloc[0] == pytest.approx(44.0)  # Jan 20 -> Mar 5
    bare = calibration_holdout(orders(), as_of="2026-01-20", end="2026-03-05")
    assert "monetary_value_holdout" not in bare.columns
    assert bare["frequency_holdout"].tolist() == [1, 0, 1]


def test_errors_name_the_problem() -> None:
    with pytest.raises(MissingColumnError, match="amount"):
        rfm_summary(
            orders(),
            orders_columns=OrderColumns(amount="amount_eur"),
            monetary_value=True,
            as_of="2026-02-05",
        )
    naive = orders().assign(at=lambda f: f["at"].dt.tz_localize(None))
    with pytest.raises(DataError, match="naive"):
        rfm_summary(naive, as_of="2026-02-05")
    negative = orders().assign(amount=lambda f: -f["amount"])
    with pytest.raises(DataError, match="negative"):
        rfm_summary(negative, monetary_value=True, as_of="2026-02-05")
    with pytest.raises(ValidationError, match="'time_unit' must be one of"):
        rfm_summary(orders(), as_of="2026-02-05", time_unit="fortnight")
    with pytest.raises(DataError, match="after as_of"):
        calibration_holdout(orders(), as_of="2026-02-05", end="2026-01-05")
    missing_id = orders().astype({"customer_id": object})
    missing_id.loc[0, "customer_id"] = None
    with pytest.raises(DataError, match="missing customer ids"):
        rfm_summary(missing_id, as_of="2026-02-05")
    with pytest.raises(DataError, match="more than one partial"):
        rfm_combine([rfm_summary(orders(), as_of="2026-02-05")] * 2)


def naive_summary(frame: pd.DataFrame, end: str) -> pd.DataFrame:
    """Straightforward per-customer reference: per-day totals, offsets from the first day."""
    day = frame["at"].dt.floor("D")
    kept = frame[day <= pd.Timestamp(end, tz="UTC")].assign(day=day)
    daily = kept.groupby(["customer_id", "day"])["amount"].sum().reset_index()
    rows = {}
    for customer, group in daily.groupby("customer_id"):
        first, last = group["day"].min(), group["day"].max()
        repeats = group[group["day"] > first]["amount"]
        rows[customer] = {
            "frequency": len(group) - 1,
            "recency": (last - first).days * 1.0,
            "T": (pd.Timestamp(end, tz="UTC") - first).days * 1.0,
            "monetary_value": float(repeats.mean()) if len(repeats) else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("customer_id")


order_logs = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.integers(min_value=0, max_value=60 * 24 * 40),  # minutes into 40 days
        st.floats(min_value=0, max_value=100, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


def _frame(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta([r[1] for r in rows], unit="min"),
            "amount": [r[2] for r in rows],
        }
    )


@given(order_logs, st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=99))
def test_any_split_by_customer_gives_the_same_summary(
    rows: list[tuple[str, int, float]], buckets: int, salt: int
) -> None:
    frame = _frame(rows)
    end = "2026-02-05"
    whole = rfm_summary(frame, monetary_value=True, as_of=end)
    bucket = frame["customer_id"].map(lambda c: (ord(c[0]) * 7 + salt) % buckets)
    parts = [rfm_partial(part, monetary_value=True, as_of=end) for _, part in frame.groupby(bucket)]
    pd.testing.assert_frame_equal(rfm_combine(parts), whole)


@given(order_logs)
def test_matches_a_naive_reference(rows: list[tuple[str, int, float]]) -> None:
    frame = _frame(rows)
    ours = rfm_summary(frame, monetary_value=True, as_of="2026-01-30")
    reference = naive_summary(frame, "2026-01-30").sort_index()
    if reference.empty:
        assert ours.empty
        return
    pd.testing.assert_frame_equal(ours, reference, check_dtype=False, check_index_type=False)


@given(order_logs)
def test_invariants(rows: list[tuple[str, int, float]]) -> None:
    result = rfm_summary(_frame(rows), monetary_value=True, as_of="2026-02-05", time_unit="M")
    assert (result["recency"] <= result["T"]).all()
    assert (result["recency"] >= 0).all()
    assert ((result["frequency"] == 0) == (result["recency"] == 0)).all()
    assert np.isfinite(result.to_numpy(dtype=float)).all()


def test_renamed_order_columns_are_read_through_the_spec() -> None:
    renamed = orders().rename(columns={"customer_id": "buyer", "at": "placed", "amount": "total"})
    cols = OrderColumns(customer_id="buyer", at="placed", amount="total")
    ours = rfm_summary(renamed, orders_columns=cols, monetary_value=True, as_of="2026-02-05")
    expected = rfm_summary(orders(), monetary_value=True, as_of="2026-02-05")
    pd.testing.assert_frame_equal(ours.rename_axis("customer_id"), expected)
    assert ours.index.name == "buyer"
    holdout = calibration_holdout(
        renamed, orders_columns=cols, as_of="2026-01-20", end="2026-03-05"
    )
    base = calibration_holdout(orders(), as_of="2026-01-20", end="2026-03-05")
    assert holdout["frequency_holdout"].tolist() == base["frequency_holdout"].tolist()
