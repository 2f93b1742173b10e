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
