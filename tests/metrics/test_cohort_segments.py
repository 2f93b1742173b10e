"""Cohort retention per segment (``by=``): hand-computed matrices, errors and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError
from crmlifecycle.metrics import (
    cohort_retention,
    cohort_retention_partial,
    combine_cohort_retention,
)


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def split_by(frame: pd.DataFrame, column: str, assignment: list[int]) -> list[pd.DataFrame]:
    """Split frame into partitions that each hold all rows of some customers."""
    ids = sorted(frame[column].unique())
    labels = frame[column].map(dict(zip(ids, assignment, strict=False)))
    return [frame.loc[labels == b] for b in sorted(set(labels))]


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d", "e"],
            "channel": ["ads", "ads", "ads", "social", "social", "ads", "ads", "ads", "social"],
            "plan": ["pro", "pro", "pro", "pro", "pro", "basic", "pro", "pro", "basic"],
            "at": utc(
                "2026-01-05",
                "2026-01-25",
                "2026-02-07",
                "2026-01-20",
                "2026-03-02",
                "2026-02-11",
                "2026-02-12",
                "2026-03-30",
                "2026-01-15",
            ),
        }
    )


def cells(matrix: pd.DataFrame) -> list[list[float]]:
    values: list[list[float]] = matrix.to_numpy(dtype="float64", na_value=np.nan).tolist()
    return values


def test_segmented_counts_and_rates_by_hand(orders: pd.DataFrame) -> None:
    # ads:    a active Jan, Feb; c Feb; d Feb, Mar
    #         Jan cohort {a}: Jan 1, Feb 1 (a), Mar 0           -> rates 1, 1, 0
    #         Feb cohort {c, d}: Feb 2, Mar 1 (d), Apr unknown  -> rates 1, 1/2, NaN
    # social: b active Jan, Mar; e Jan
    #         Jan cohort {b, e}: Jan 2, Feb 0, Mar 1 (b)        -> rates 1, 0, 1/2
    # the last observed period is March for every segment (the data's last activity)
    counts = cohort_retention(orders, by="channel", rates=False)
    assert counts.index.names == ["channel", "cohort"]
    assert counts.index.tolist() == [
        ("ads", pd.Period("2026-01", "M")),
        ("ads", pd.Period("2026-02", "M")),
        ("social", pd.Period("2026-01", "M")),
    ]
    assert str(counts.dtypes.iloc[0]) == "Int64"
    expected_counts = [[1, 1, 0], [2, 1, np.nan], [2, 0, 1]]
    np.testing.assert_array_equal(cells(counts), expected_counts)
    rates = cohort_retention(orders, by="channel")
    expected = pd.DataFrame(
        [[1.0, 1.0, 0.0], [1.0, 0.5, np.nan], [1.0, 0.0, 0.5]],
        index=counts.index,
        columns=pd.RangeIndex(3, name="period_number"),
    )
    pd.testing.assert_frame_equal(rates, expected)


def test_two_segment_columns(orders: pd.DataFrame) -> None:
    # (ads, basic): c, Feb cohort -> 1, 0, <NA>; (ads, pro): a Jan -> 1, 1, 0 and d Feb -> 1, 1
    # (social, basic): e Jan -> 1, 0, 0; (social, pro): b Jan -> 1, 0, 1
    counts = cohort_retention(orders, by=["channel", "plan"], rates=False)
    assert counts.index.names == ["channel", "plan", "cohort"]
    assert [key[:2] for key in counts.index] == [
        ("ads", "basic"),
        ("ads", "pro"),
        ("ads", "pro"),
        ("social", "basic"),
        ("social", "pro"),
    ]
    np.testing.assert_array_equal(
        cells(counts),
        [[1, 0, np.nan], [1, 1, 0], [1, 1, np.nan], [1, 0, 0], [1, 0, 1]],
    )


def test_segments_add_up_to_the_whole(orders: pd.DataFrame) -> None:
    # Jan cohort {a, b, e}: Jan 3, Feb 1 (a), Mar 1 (b); Feb cohort {c, d}: Feb 2, Mar 1 (d)
    whole = cohort_retention(orders, rates=False)
    np.testing.assert_array_equal(cells(whole), [[3, 1, 1], [2, 1, np.nan]])
    summed = cohort_retention(orders, by="channel", rates=False)
    pd.testing.assert_frame_equal(summed.groupby(level="cohort").sum(min_count=1), whole)


def test_partials_carry_the_segments_and_combine_without_by(orders: pd.DataFrame) -> None:
    partial = cohort_retention_partial(orders, by="channel")
    assert list(partial.columns) == ["channel", "_cohort", "period_number", "customers"]
    # customers add up to the distinct active (customer, month) pairs: a 2, b 2, c 1, d 2, e 1
    assert int(partial["customers"].sum()) == 8
    overall = combine_cohort_retention([partial])
    pd.testing.assert_frame_equal(overall, cohort_retention(orders))
    with pytest.raises(MissingColumnError, match="plan"):
        combine_cohort_retention([partial], by="plan")


def test_end_and_quarters_with_segments(orders: pd.DataFrame) -> None:
    # everything is in 2026Q1: one cohort per channel, ads {a, c, d} = 3, social {b, e} = 2
    quarterly = cohort_retention(orders, by="channel", freq="Q", rates=False)
    assert cells(quarterly) == [[3.0], [2.0]]
    # end 1 Mar: March is unobserved, so d's and b's March orders do not count
    cut = cohort_retention(orders, by="channel", end="2026-03-01", rates=False)
    np.testing.assert_array_equal(cells(cut), [[1, 1], [2, np.nan], [2, 0]])


def test_empty_activity_keeps_the_index_levels(orders: pd.DataFrame) -> None:
    empty = cohort_retention(orders.iloc[:0], by="channel")
    assert empty.shape == (0, 0)
    assert empty.index.names == ["channel", "cohort"]
    # an end before all activity leaves nothing observable
    assert cohort_retention(orders, end="2025-06-01").shape == (0, 0)


def test_a_segment_changing_within_a_customer_is_an_error(orders: pd.DataFrame) -> None:
    changed = orders.copy()
    changed.loc[2, "channel"] = "social"  # a's February order says social
    with pytest.raises(DataError, match=r"'channel' changes within customer 'a'") as info:
        cohort_retention(changed, by="channel")
    assert info.value.column == "channel"
    assert info.value.value == "a"
    assert "Hint:" in str(info.value)
    # only the column that changes is named
    with pytest.raises(DataError, match="'channel' changes"):
        cohort_retention(changed, by=["plan", "channel"])


def test_a_missing_segment_value_is_an_error(orders: pd.DataFrame) -> None:
    holes = orders.assign(channel=orders["channel"].where(orders.index != 4))
    with pytest.raises(DataError, match="segment") as info:
        cohort_retention(holes, by="channel")
    assert info.value.column == "channel"
    assert info.value.rows == (4,)
    with pytest.raises(MissingColumnError, match="region"):
        cohort_retention(orders, by="region")


def test_segments_do_not_mutate(orders: pd.DataFrame) -> None:
    before = orders.copy()
    cohort_retention(orders, by=["channel", "plan"])
    pd.testing.assert_frame_equal(orders, before)


@st.composite
def segmented_orders(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    days = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    who = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    # each customer's segment is drawn once: segments are constant per customer
    channel_of = draw(st.lists(st.sampled_from(["ads", "social", "web"]), min_size=10, max_size=10))
    base = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "customer_id": [f"c{w}" for w in who],
            "channel": [channel_of[w] for w in who],
            "at": [base + pd.Timedelta(days=d) for d in days],
        }
    ).astype({"at": "datetime64[ns, UTC]"})


@settings(max_examples=25)
@given(segmented_orders(), st.lists(st.integers(0, 3), min_size=10, max_size=10))
def test_segmented_split_then_combine_equals_whole(
    frame: pd.DataFrame, assignment: list[int]
) -> None:
    parts = split_by(frame, "customer_id", assignment)
    partials = [cohort_retention_partial(p, by="channel") for p in parts]
    combined = combine_cohort_retention(partials, by="channel")
    pd.testing.assert_frame_equal(combined, cohort_retention(frame, by="channel"))


@settings(max_examples=25)
@given(segmented_orders(), st.sampled_from(["M", "Q", "W"]))
def test_segment_counts_sum_to_the_unsegmented_counts(frame: pd.DataFrame, freq: str) -> None:
    whole = cohort_retention(frame, freq=freq, rates=False)
    segmented = cohort_retention(frame, freq=freq, by="channel", rates=False)
    pd.testing.assert_frame_equal(segmented.groupby(level="cohort").sum(min_count=1), whole)


@settings(max_examples=25)
@given(segmented_orders())
def test_each_segment_is_the_matrix_of_its_own_customers(frame: pd.DataFrame) -> None:
    segmented = cohort_retention(frame, by="channel", rates=False)
    for channel in frame["channel"].unique():
        alone = cohort_retention(frame.loc[frame["channel"] == channel], rates=False)
        ours = segmented.xs(channel, level="channel")
        assert isinstance(ours, pd.DataFrame)
        # the segment's own matrix may stop earlier (its last order); compare where it is known
        assert ours.index.equals(alone.index)
        shared = ours.iloc[:, : alone.shape[1]]
        known = alone.notna().to_numpy()
        np.testing.assert_array_equal(
            shared.to_numpy(dtype="float64", na_value=np.nan)[known],
            alone.to_numpy(dtype="float64", na_value=np.nan)[known],
        )


def test_categorical_segments_follow_the_category_order(orders: pd.DataFrame) -> None:
    # like groupby(observed=True): categories in their declared order, unused ones left out
    channel = pd.Categorical(orders["channel"], categories=["social", "referral", "ads"])
    counts = cohort_retention(orders.assign(channel=channel), by="channel", rates=False)
    assert [key[0] for key in counts.index] == ["social", "ads", "ads"]
    # social Jan {b, e}: 2, 0, 1 (b in March)
    np.testing.assert_array_equal(cells(counts)[0], [2, 0, 1])
