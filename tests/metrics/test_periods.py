from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle._frames import to_periods
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import compare_periods, ordinals_to_periods, period_ordinals

FREQS = ["D", "W", "M", "ME", "MS", "Q", "QE", "Y"]


@given(
    st.lists(st.integers(-2_000_000_000, 4_000_000_000), min_size=1, max_size=30),
    st.sampled_from(FREQS),
)
def test_period_ordinals_match_pandas_periods(seconds: list[int], freq: str) -> None:
    stamps = pd.Series(pd.to_datetime(np.array(seconds, dtype="int64"), unit="s", utc=True))
    stamps = stamps.astype("datetime64[ns, UTC]")
    expected = pd.PeriodIndex(to_periods(stamps, freq))
    ours = ordinals_to_periods(period_ordinals(stamps, freq), freq)
    assert ours.tolist() == expected.tolist()


def test_month_and_quarter_boundaries_are_utc() -> None:
    # 23:30 UTC on 31 March is still March and Q1, whatever the local zone was
    stamps = pd.Series(pd.to_datetime(["2026-03-31 23:30", "2026-04-01 00:00"], utc=True))
    assert ordinals_to_periods(period_ordinals(stamps, "M"), "M").astype(str).tolist() == [
        "2026-03",
        "2026-04",
    ]
    assert ordinals_to_periods(period_ordinals(stamps, "Q"), "Q").astype(str).tolist() == [
        "2026Q1",
        "2026Q2",
    ]


def test_compare_periods() -> None:
    compare_periods("M", "Q")
    compare_periods("M", "M")
    with pytest.raises(DataError, match="coarse"):
        compare_periods("M", "D")
    with pytest.raises(DataError, match="unsupported"):
        compare_periods("M", "H")


def test_period_grid_fills_every_segment_and_period() -> None:
    from crmlifecycle.metrics._common import period_grid

    partial = pd.DataFrame(
        {"channel": ["ads", "web"], "_ordinal": [672, 674], "n": [3, 5], "m": [1.5, 2.0]}
    )
    grid = period_grid(partial, ["channel"], 672, 674, values=["n", "m"])
    # 2 segments x 3 periods (672..674); absent pairs hold 0
    assert grid.sort_values(["channel", "_ordinal"]).to_numpy().tolist() == [
        ["ads", 672, 3, 1.5],
        ["ads", 673, 0, 0.0],
        ["ads", 674, 0, 0.0],
        ["web", 672, 0, 0.0],
        ["web", 673, 0, 0.0],
        ["web", 674, 5, 2.0],
    ]
    whole = period_grid(partial.drop(columns="channel"), [], 671, 672, values=["n", "m"])
    assert whole["_ordinal"].tolist() == [671, 672]
    assert whole["n"].tolist() == [0, 3]
