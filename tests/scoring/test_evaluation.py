from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError
from crmlifecycle.scoring import brier_score, calibration_table, roc_auc


def test_auc_with_a_tie() -> None:
    # positives 0.5, 0.9; negatives 0.5, 0.1: pairs (0.5~0.5) 0.5, (0.5>0.1) 1, (0.9>0.5) 1,
    # (0.9>0.1) 1 -> 3.5 / 4
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.875


def test_auc_perfect_inverted_and_constant() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([1, 0, 1, 0], [0.3] * 4) == 0.5


def test_auc_published_example() -> None:
    # Hanley & McNeil (1982), Table 1: 109 CT images rated 1..5 by a radiologist;
    # normal (n=58): 33, 6, 6, 11, 2; abnormal (n=51): 3, 2, 2, 11, 33; published area 0.893.
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    y = np.r_[np.zeros(len(normal)), np.ones(len(abnormal))]
    p = np.r_[normal, abnormal] / 5
    assert roc_auc(y, p) == pytest.approx(0.893, abs=5e-4)


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=10)), min_size=2, max_size=40
    ).filter(lambda rows: 0 < sum(r[0] for r in rows) < len(rows))
)
def test_auc_matches_pairwise_count(rows: list[tuple[bool, int]]) -> None:
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] / 10 for r in rows])
    pos, neg = p[y], p[~y]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(y, p) == pytest.approx(wins / (len(pos) * len(neg)))


def test_brier_and_calibration_by_hand() -> None:
    # ((0.9 - 1)^2 + (0.2 - 0)^2 + (0.6 - 1)^2 + (0.6 - 0)^2) / 4 = (0.01+0.04+0.16+0.36)/4
    assert brier_score([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.6]) == pytest.approx(0.57 / 4)
    table = calibration_table([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.6], bins=5)
    # bins of 0.2: 0.2 -> [0.2, 0.4); 0.6, 0.6 -> [0.6, 0.8); 0.9 -> [0.8, 1.0]
    expected = pd.DataFrame(
        {
            "low": [0.2, 0.6, 0.8],
            "high": [0.4, 0.8, 1.0],
            "n": [1, 2, 1],
            "mean_predicted": [0.2, 0.6, 0.9],
            "observed_rate": [0.0, 0.5, 1.0],
        }
    )
    pd.testing.assert_frame_equal(table, expected)
    assert calibration_table([1], [1.0], bins=10)["low"].tolist() == [0.9]  # p = 1 in last bin


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="both outcomes"):
        roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(DataError, match="equally long"):
        brier_score([1, 0], [0.2])
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        brier_score([1, 0], [0.2, 1.5])
    with pytest.raises(DataError, match="0/1"):
        brier_score([2, 0], [0.2, 0.5])
    with pytest.raises(DataError, match="undefined"):
        brier_score([], [])
    with pytest.raises(DataError, match="bins"):
        calibration_table([1], [0.5], bins=0)
