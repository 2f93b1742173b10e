"""Tests of the naive Bayes frequency helpers: keys, counts and log ratios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.scoring._frequency import (
    MISSING,
    bin_labels,
    log_ratios,
    outcome_counts,
    record_key,
    stage_counts,
    value_keys,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(
    st.lists(st.one_of(finite, st.just(math.nan)), min_size=1, max_size=30),
    st.lists(finite, max_size=5).map(lambda e: sorted(set(e))),
)
def test_record_and_vectorised_keys_agree(values: list[float], edges: list[float]) -> None:
    series = pd.Series(values, dtype="float64")
    vectorised = value_keys(series, "x", edges).tolist()
    assert vectorised == [record_key(v, edges) for v in values]


def test_bins_are_closed_on_the_right() -> None:
    # edges 2.5 and 7: (-inf, 2.5], (2.5, 7], (7, inf)
    assert bin_labels([2.5, 7.0]) == ["<= 2.5", "(2.5, 7]", "> 7"]
    keys = value_keys(pd.Series([2.5, 2.6, 7.0, 7.1, None]), "x", [2.5, 7.0]).tolist()
    assert keys == ["<= 2.5", "(2.5, 7]", "(2.5, 7]", "> 7", MISSING]
    assert bin_labels([]) == ["all"]


def test_outcome_counts_by_key_in_order_of_appearance() -> None:
    keys = pd.Series(["DE", "FR", "DE", "DE", "FR"])
    won = np.array([True, False, False, True, False])
    # DE: won rows 0 and 3, lost row 2; FR: lost rows 1 and 4
    assert outcome_counts(keys, won) == {"DE": [2, 1], "FR": [0, 2]}


def test_stage_counts_the_odoo_way() -> None:
    stages = ["new", "qualified", "proposal"]
    reached = np.array([2, 0, 1, 2], dtype=np.intp)
    won = np.array([True, False, False, False])
    # one won record counts everywhere; lost ones reached new (3), qualified (2), proposal (1)
    assert stage_counts(reached, won, stages) == {
        "new": [1, 3],
        "qualified": [1, 2],
        "proposal": [1, 1],
    }


def test_log_ratios_hand_computed() -> None:
    # N_won = 3, N_lost = 3, K = 2, alpha = 1:
    # x: P(x|won) = (2+1)/(3+2) = 0.6, P(x|lost) = (1+1)/(3+2) = 0.4 -> log 1.5
    # y: P(y|won) = (1+1)/5 = 0.4,    P(y|lost) = (2+1)/5 = 0.6     -> log(2/3)
    index, ratio = log_ratios({"x": [2, 1], "y": [1, 2]}, n_won=3, n_lost=3, alpha=1.0)
    assert list(index) == ["x", "y"]
    np.testing.assert_allclose(ratio, [math.log(1.5), math.log(2 / 3)])
