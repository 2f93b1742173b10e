"""Tests of the prediction plumbing the history models share (conversion, broadcasting)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError
from crmlifecycle.metrics.clv import BGBBModel, BGNBDModel, ParetoNBDModel
from crmlifecycle.metrics.clv._base import as_float_arrays, numeric_columns

BGNBD = BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
PARETO = ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
BGBB = BGBBModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


def test_as_float_arrays_broadcasts_and_names_the_bad_argument() -> None:
    x, big_t = as_float_arrays(frequency=[0, 2], T=38.86)
    assert x.tolist() == [0.0, 2.0]
    assert big_t.tolist() == [38.86, 38.86]
    with pytest.raises(DataError, match=r"^T holds negative values") as info:
        as_float_arrays(frequency=[0, 2], T=-1.0)
    assert info.value.column == "T"
    with pytest.raises(DataError, match=r"^recency holds NaN"):
        as_float_arrays(recency=[np.nan])


def test_numeric_columns_reads_in_the_order_given() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [3.5, 4.5]})
    b, a = numeric_columns(frame, "b", "a")
    assert b.tolist() == [3.5, 4.5]
    assert a.tolist() == [1, 2]
    with pytest.raises(DataError, match="'a'"):
        numeric_columns(frame.assign(a=[-1, 2]), "a")


@st.composite
def _history(draw: st.DrawFn) -> tuple[int, int, int]:
    """A valid (x, t_x, T): no repeat purchase at t_x = 0, else 0 < x <= t_x <= T."""
    big_t = draw(st.integers(1, 6))
    t_x = draw(st.integers(0, big_t))
    x = draw(st.integers(1, t_x)) if t_x else 0
    return x, t_x, big_t


# built valid rather than filtered, so that Hypothesis never gives up on filtering
histories = st.lists(_history(), min_size=1, max_size=8)


@given(histories, st.integers(1, 10))
def test_vector_calls_equal_scalar_calls(rows: list[tuple[int, int, int]], horizon: int) -> None:
    # every history is a valid one for all three models (whole numbers, x <= t_x <= T)
    x, t_x, big_t = (list(column) for column in zip(*rows, strict=True))
    for model in (BGNBD, PARETO, BGBB):
        alive = model.probability_alive(x, t_x, big_t)
        expected = model.conditional_expected_purchases(horizon, x, t_x, big_t)
        for i, (xi, ti, bi) in enumerate(rows):
            assert alive[i] == pytest.approx(float(model.probability_alive(xi, ti, bi)))
            single = model.conditional_expected_purchases(horizon, xi, ti, bi)
            assert expected[i] == pytest.approx(float(single))


def test_predict_assembles_the_two_predictions_on_the_summary_index() -> None:
    summary = pd.DataFrame(
        {"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86, 38.86]}, index=["a", "b"]
    )
    predicted = BGNBD.predict(summary, horizon=39)
    assert list(predicted.index) == ["a", "b"]
    assert list(predicted.columns) == ["probability_alive", "expected_purchases"]
    # customer (2, 30.43, 38.86) of Fader, Hardie & Lee (2005): E[X(39)] = 1.226 (published);
    # P(alive) = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    #          = 1 / (1 + 0.793/3.426 * (43.274/34.844)^2.243) = 1 / (1 + 0.2315 * 1.6258) = 0.727
    assert predicted.loc["b", "probability_alive"] == pytest.approx(0.73, abs=0.005)
    assert predicted.loc["b", "expected_purchases"] == pytest.approx(1.226, abs=0.0005)
    assert predicted.loc["a", "probability_alive"] == 1.0


def test_each_model_applies_its_own_history_rules() -> None:
    # a fractional recency is fine in continuous time but not for discrete opportunities
    assert float(BGNBD.probability_alive(1, 2.5, 3)) > 0
    with pytest.raises(DataError, match="whole numbers of opportunities"):
        BGBB.probability_alive(1, 2.5, 3)
    with pytest.raises(DataError, match="recency is larger than T"):
        PARETO.conditional_expected_purchases(1, 1, 4, 3)
    with pytest.raises(DataError, match="n_star holds negative values"):
        BGBB.conditional_expected_purchases(-1, 1, 2, 3)
