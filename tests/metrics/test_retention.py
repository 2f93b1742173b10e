from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics import (
    churn_rate,
    churn_rate_partial,
    cohort_retention,
    cohort_retention_partial,
    combine_churn_rate,
    combine_cohort_retention,
    convert_churn_rate,
    retention_rate,
)
from crmlifecycle.schema import CustomerColumns, OrderColumns


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def split_by(frame: pd.DataFrame, column: str, assignment: list[int]) -> list[pd.DataFrame]:
    """Split frame into partitions that each hold all rows of some customers."""
    ids = sorted(frame[column].unique())
    labels = frame[column].map(dict(zip(ids, assignment, strict=False)))
    return [frame.loc[labels == b] for b in sorted(set(labels))]


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "plan": ["pro", "pro", "basic", "basic", "pro", "basic"],
            "acquired_at": utc(
                "2025-11-03", "2025-12-01", "2025-12-15", "2026-01-10", "2026-01-12", "2026-02-02"
            ),
            "churned_at": utc(None, "2026-01-20", "2026-02-11", "2026-01-25", None, None),
        }
    )


def test_churn_rate_excludes_customers_acquired_in_the_period(customers: pd.DataFrame) -> None:
    # January: present at 1 Jan = a, b, c (3); lost in January among them = b (1).
    # d was acquired and lost in January: excluded from both; e is new: excluded.
    assert churn_rate(customers, start="2026-01-01", end="2026-02-01") == pytest.approx(1 / 3)
    assert retention_rate(customers, start="2026-01-01", end="2026-02-01") == pytest.approx(2 / 3)


def test_monthly_churn_table(customers: pd.DataFrame) -> None:
    table = churn_rate(customers, freq="M")
    assert table["period"].astype(str).tolist() == ["2025-11", "2025-12", "2026-01", "2026-02"]
    # Nov: nobody at start. Dec: a (1). Jan: a, b, c (3). Feb: a, c, e (3) -> c lost.
    assert table["customers_start"].tolist() == [0, 1, 3, 3]
    assert table["new_customers"].tolist() == [1, 2, 2, 1]
    assert table["churned"].tolist() == [0, 0, 1, 1]
    assert table["churned_new"].tolist() == [0, 0, 1, 0]
    # end of Feb: a, e, f
    assert table["customers_end"].tolist() == [1, 3, 3, 3]
    assert math.isnan(table["churn_rate"].iloc[0])  # zero denominator: undefined
    assert table["churn_rate"].iloc[1:].tolist() == pytest.approx([0.0, 1 / 3, 1 / 3])


def test_churn_rate_by_segment_and_quarter(customers: pd.DataFrame) -> None:
    table = churn_rate(customers, freq="Q", by="plan")
    q1 = table.loc[table["period"] == pd.Period("2026Q1", "Q")].set_index("plan")
    # at 1 Jan: pro = a, b; basic = c. In Q1 pro loses b, basic loses c (d is new in Q1)
    assert q1.loc["pro", "customers_start"] == 2
    assert q1.loc["pro", "churn_rate"] == 0.5
    assert q1.loc["basic", "churn_rate"] == 1.0
    window = churn_rate(customers, start="2026-01-01", end="2026-04-01", by="plan")
    assert window.set_index("plan")["churn_rate"].to_dict() == {"basic": 1.0, "pro": 0.5}


def test_churn_rate_end_extends_the_grid(customers: pd.DataFrame) -> None:
    table = churn_rate(customers, freq="M", start="2026-02-01", end="2026-05-01")
    assert table["period"].astype(str).tolist() == ["2026-02", "2026-03", "2026-04"]
    assert table["customers_start"].tolist() == [3, 3, 3]  # a, e, f from March on


def test_churn_rate_bad_input(customers: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="start= and end="):
        churn_rate(customers)
    backwards = customers.assign(churned_at=utc(None, "2025-01-01", None, None, None, None))
    with pytest.raises(DataError, match="before"):
        churn_rate(backwards, freq="M")
    with pytest.raises(DataError, match="unique"):
        churn_rate(pd.concat([customers, customers]), freq="M")
    with pytest.raises(ValidationError, match="after start="):
        churn_rate(customers, start="2026-02-01", end="2026-01-01")


def test_convert_churn_rate_compounds() -> None:
    # 1 - 0.98 ** 12 = 0.21528
    assert convert_churn_rate(0.02, from_freq="M", to_freq="Y") == pytest.approx(0.21528328)
    assert convert_churn_rate(0.02, from_freq="M", to_freq="Q") == pytest.approx(1 - 0.98**3)
    annual = convert_churn_rate(0.3, from_freq="Y", to_freq="M")
    assert convert_churn_rate(annual, periods=12) == pytest.approx(0.3)
    with pytest.raises(ValidationError):
        convert_churn_rate(1.5, periods=12)
    with pytest.raises(ValidationError, match="periods"):
        convert_churn_rate(0.1, from_freq="W", to_freq="Y")


@given(st.floats(0.0, 1.0), st.floats(0.1, 24.0))
def test_converted_rate_stays_a_rate(rate: float, periods: float) -> None:
    converted = convert_churn_rate(rate, periods=periods)
    assert 0.0 <= converted <= 1.0
    # a longer period never has a lower churn rate
    assert (converted >= rate) == (periods >= 1) or converted == pytest.approx(rate)


@given(st.floats(0.0, 0.5), st.floats(0.1, 24.0))
def test_converted_rate_round_trips(rate: float, periods: float) -> None:
    # (away from 1, where 1 - (1 - r) ** n loses all digits of r to rounding)
    converted = convert_churn_rate(rate, periods=periods)
    assert convert_churn_rate(converted, periods=1 / periods) == pytest.approx(rate, abs=1e-9)


@st.composite
def customer_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    acquired = draw(st.lists(st.integers(0, 365), min_size=n, max_size=n))
    tenure = draw(st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=n, max_size=n))
    base = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "segment": draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n)),
            "acquired_at": pd.to_datetime(
                [base + pd.Timedelta(days=a) for a in acquired], utc=True
            ),
            "churned_at": pd.to_datetime(
                pd.Series(
                    [
                        None if t is None else base + pd.Timedelta(days=a + t)
                        for a, t in zip(acquired, tenure, strict=True)
                    ],
                    dtype=object,
                ),
                utc=True,
            ),
        }
    ).astype({"churned_at": "datetime64[ns, UTC]", "acquired_at": "datetime64[ns, UTC]"})


@settings(max_examples=25)
@given(customer_frames(), st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_churn_split_then_combine_equals_whole(frame: pd.DataFrame, assignment: list[int]) -> None:
    whole = churn_rate(frame, freq="M", by="segment")
    parts = split_by(frame, "customer_id", assignment)
    partials = [churn_rate_partial(p, freq="M", by="segment") for p in parts]
    combined = combine_churn_rate(partials, freq="M", by="segment")
    pd.testing.assert_frame_equal(combined, whole)


@settings(max_examples=25)
@given(customer_frames())
def test_churn_rates_are_bounded_and_match_a_naive_count(frame: pd.DataFrame) -> None:
    table = churn_rate(frame, freq="Q")
    rates = table["churn_rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    for _, row in table.iterrows():
        start = row["period"].start_time.tz_localize("UTC")
        end = (row["period"] + 1).start_time.tz_localize("UTC")
        present = (frame["acquired_at"] < start) & (
            frame["churned_at"].isna() | (frame["churned_at"] >= start)
        )
        lost = present & (frame["churned_at"] < end)
        assert row["customers_start"] == present.sum()
        assert row["churned"] == lost.sum()


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
            "at": utc(
                "2026-01-05",
                "2026-01-25",
                "2026-02-07",
                "2026-01-20",
                "2026-03-02",
                "2026-02-11",
                "2026-02-12",
                "2026-03-30",
            ),
        }
    )


def test_cohort_retention_hand_computed(orders: pd.DataFrame) -> None:
    # Jan cohort {a, b}: Feb a -> 1/2, Mar b -> 1/2. Feb cohort {c, d}: Mar d -> 1/2.
    matrix = cohort_retention(orders)
    expected = pd.DataFrame(
        [[1.0, 0.5, 0.5], [1.0, 0.5, np.nan]],
        index=pd.PeriodIndex(["2026-01", "2026-02"], freq="M", name="cohort"),
        columns=pd.RangeIndex(3, name="period_number"),
    )
    pd.testing.assert_frame_equal(matrix, expected)
    counts = cohort_retention(orders, rates=False)
    assert str(counts.dtypes.iloc[0]) == "Int64"
    cells = counts.to_numpy(dtype="float64", na_value=np.nan)
    assert cells[0].tolist() == [2, 1, 1]
    assert cells[1, 0] == 2
    assert np.isnan(cells[1, 2])  # not observable yet: missing, not 0


def test_cohort_retention_quarterly_and_end(orders: pd.DataFrame) -> None:
    quarterly = cohort_retention(orders, freq="Q")
    assert quarterly.shape == (1, 1)  # everything in 2026Q1
    extended = cohort_retention(orders, end="2026-05-01", rates=False)
    # April is observed (before end) and nobody ordered: 0, not missing
    assert extended.to_numpy(dtype="float64", na_value=np.nan)[0, 3] == 0


def test_cohort_retention_empty_and_bad_input(orders: pd.DataFrame) -> None:
    empty = cohort_retention(orders.iloc[:0])
    assert empty.shape == (0, 0)
    ids = pd.Series(["a", None, "a", "b", "b", "c", "d", "d"], dtype=object)
    with pytest.raises(DataError, match="missing customer ids"):
        cohort_retention(orders.assign(customer_id=ids))
    with pytest.raises(DataError, match="naive"):
        cohort_retention(orders.assign(at=pd.to_datetime(["2026-01-05 10:00"] * 8)))


def test_cohort_retention_does_not_mutate(orders: pd.DataFrame) -> None:
    before = orders.copy()
    cohort_retention(orders)
    pd.testing.assert_frame_equal(orders, before)


@st.composite
def order_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    days = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    who = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    base = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {"customer_id": [f"c{w}" for w in who], "at": [base + pd.Timedelta(days=d) for d in days]}
    ).astype({"at": "datetime64[ns, UTC]"})


def _naive_cohort_counts(frame: pd.DataFrame, freq: str) -> dict[tuple[str, int], int]:
    period = frame["at"].dt.tz_localize(None).dt.to_period(freq)
    active = pd.DataFrame({"c": frame["customer_id"], "p": period}).drop_duplicates()
    first = active.groupby("c")["p"].transform("min")
    age = [(p - f).n for p, f in zip(active["p"], first, strict=True)]
    keyed = pd.DataFrame({"cohort": first.astype(str), "k": age})
    sizes = keyed.groupby(["cohort", "k"]).size().reset_index(name="n")
    return {
        (str(c), int(k)): int(n)
        for c, k, n in zip(sizes["cohort"], sizes["k"], sizes["n"], strict=True)
    }


@settings(max_examples=25)
@given(order_frames(), st.sampled_from(["M", "Q", "W"]))
def test_cohort_counts_match_a_naive_reference(frame: pd.DataFrame, freq: str) -> None:
    counts = cohort_retention(frame, freq=freq, rates=False)
    cells = counts.to_numpy(dtype="float64", na_value=np.nan)
    ours = {
        (str(counts.index[i]), k): int(cells[i, k])
        for i in range(cells.shape[0])
        for k in range(cells.shape[1])
        if cells[i, k] > 0
    }
    assert ours == _naive_cohort_counts(frame, freq)


@settings(max_examples=25)
@given(order_frames(), st.lists(st.integers(0, 3), min_size=10, max_size=10))
def test_cohort_split_then_combine_equals_whole(frame: pd.DataFrame, assignment: list[int]) -> None:
    parts = split_by(frame, "customer_id", assignment)
    combined = combine_cohort_retention([cohort_retention_partial(p) for p in parts])
    pd.testing.assert_frame_equal(combined, cohort_retention(frame))


@settings(max_examples=25)
@given(order_frames())
def test_cohort_rates_are_bounded_and_start_at_one(frame: pd.DataFrame) -> None:
    matrix = cohort_retention(frame)
    values = matrix.to_numpy()
    observed = values[~np.isnan(values)]
    assert ((observed >= 0) & (observed <= 1)).all()
    assert (matrix[0] == 1.0).all()


@settings(max_examples=25)
@given(order_frames())
def test_an_unrelated_customer_does_not_change_other_cohorts(frame: pd.DataFrame) -> None:
    before = cohort_retention(frame)
    newcomer = pd.DataFrame(
        {"customer_id": ["zz", "zz"], "at": pd.to_datetime(["2024-06-01", "2024-08-01"], utc=True)}
    ).astype({"at": "datetime64[ns, UTC]"})
    after = cohort_retention(pd.concat([frame, newcomer], ignore_index=True))
    # the newcomer's cohort (2024-06) is earlier than all others: their rows are unchanged
    shared = after.loc[before.index, before.columns]
    pd.testing.assert_frame_equal(shared, before)


def test_renamed_columns_are_read_through_the_spec() -> None:
    customers = pd.DataFrame(
        {
            "cid": ["a", "b", "c"],
            "joined": utc("2025-12-01", "2025-12-05", "2026-01-10"),
            "left": utc(None, "2026-01-20", None),
        }
    )
    cols = CustomerColumns(customer_id="cid", acquired_at="joined", churned_at="left")
    # January: a and b present at the start, b lost (c is new in January): 1 / 2
    rate = churn_rate(customers, customers_columns=cols, start="2026-01-01", end="2026-02-01")
    assert rate == 0.5
    kept = retention_rate(customers, customers_columns=cols, start="2026-01-01", end="2026-02-01")
    assert kept == 0.5
    monthly = churn_rate(customers, customers_columns=cols, freq="M")
    assert monthly["churn_rate"].tolist()[-1] == 0.5
    # cohorts from an activity frame with its own names
    logins = pd.DataFrame(
        {"user": ["a", "a", "b"], "seen": utc("2026-01-02", "2026-02-03", "2026-01-09")}
    )
    matrix = cohort_retention(logins, activity_columns=OrderColumns(customer_id="user", at="seen"))
    assert matrix.to_numpy().tolist() == [[1.0, 0.5]]  # January cohort {a, b}: a back in February


def test_empty_by_is_refused(customers: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="by"):
        churn_rate(customers, start="2026-01-01", end="2026-02-01", by=[])
    with pytest.raises(ValidationError, match="by"):
        retention_rate(customers, freq="M", by=())
