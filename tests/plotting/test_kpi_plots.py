from __future__ import annotations

import pathlib
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from crmlifecycle.errors import (
    CrmError,
    DataError,
    MissingColumnError,
    MissingDependencyError,
    ValidationError,
)
from crmlifecycle.plotting import (
    plot_clv_distribution,
    plot_cohort_retention,
    plot_funnel,
    plot_mrr_movements,
    plot_predicted_vs_actual,
)


def _axes() -> Axes:
    return Figure(figsize=(6, 4)).subplots()


def _save(ax: Axes, path: pathlib.Path) -> pathlib.Path:
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    figure.savefig(path, dpi=60)
    return path


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _image(ax: Axes) -> np.ma.MaskedArray[Any, Any]:
    array = ax.images[0].get_array()
    assert isinstance(array, np.ma.MaskedArray)
    return array


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


# -- funnel ------------------------------------------------------------------------------------


def test_funnel_bars_are_the_counts_centred_in_stage_order(tmp_path: pathlib.Path) -> None:
    counts = pd.Series([5000, 2100, 900, 120], index=["open", "contacted", "qualified", "won"])
    ax = plot_funnel(counts, ax=_axes())
    widths = [float(p.get_width()) for p in _bars(ax)]
    lefts = [float(p.get_x()) for p in _bars(ax)]
    assert widths == [5000.0, 2100.0, 900.0, 120.0]
    assert lefts == [-2500.0, -1050.0, -450.0, -60.0]  # centred: left = -count / 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["open", "contacted", "qualified", "won"]
    texts = _texts(ax)
    # 2100/5000 = 42.0%; 900/2100 = 42.857% -> 42.9%, 900/5000 = 18.0%;
    # 120/900 = 13.3%, 120/5000 = 2.4%
    assert "42.0% of previous · 42.0% of top" in texts
    assert "42.9% of previous · 18.0% of top" in texts
    assert "13.3% of previous · 2.4% of top" in texts
    assert {"5,000", "2,100", "900", "120"} <= set(texts)
    png = _save(ax, tmp_path / "funnel.png")
    assert png.stat().st_size > 5_000


def test_funnel_from_the_funnel_table() -> None:
    table = pd.DataFrame({"state": ["lead", "deal", "won"], "reached": [10, 4, 1], "other": 0})
    ax = plot_funnel(table, ax=_axes(), title="Deals")
    assert [float(p.get_width()) for p in _bars(ax)] == [10.0, 4.0, 1.0]
    assert ax.get_title() == "Deals"
    assert "40.0% of previous · 40.0% of top" in _texts(ax)  # 4/10
    assert "25.0% of previous · 10.0% of top" in _texts(ax)  # 1/4, 1/10


def test_funnel_rate_after_an_empty_stage_is_undefined_not_zero() -> None:
    ax = plot_funnel(pd.Series([0, 0], index=["a", "b"]), ax=_axes())
    assert "– of previous · – of top" in _texts(ax)


@pytest.mark.parametrize(
    ("funnel", "error"),
    [
        (pd.Series([10, -1], index=["a", "b"]), DataError),
        (pd.Series([10.0, np.nan], index=["a", "b"]), DataError),
        (pd.Series([], dtype="float64"), DataError),
        (pd.Series(["10", "5"], index=["a", "b"]), DataError),
        (pd.DataFrame({"stage": ["a"], "cnt": [1]}), MissingColumnError),
        (pd.DataFrame({"stage": [], "reached": []}), DataError),
    ],
)
def test_funnel_rejects_bad_input(funnel: pd.Series | pd.DataFrame, error: type[Exception]) -> None:
    with pytest.raises(error, match="Hint:"):
        plot_funnel(funnel, ax=_axes())


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8))
def test_funnel_widths_equal_counts(counts: list[int]) -> None:
    series = pd.Series(counts, index=[f"s{i}" for i in range(len(counts))])
    ax = plot_funnel(series, ax=_axes())
    assert [float(p.get_width()) for p in _bars(ax)] == [float(c) for c in counts]


def test_without_ax_a_new_pyplot_figure_is_made(tmp_path: pathlib.Path) -> None:
    import matplotlib.pyplot as plt

    ax = plot_funnel(pd.Series([3, 1], index=["a", "b"]))
    assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    assert _save(ax, tmp_path / "new.png").stat().st_size > 1_000


def test_ax_must_be_an_axes() -> None:
    with pytest.raises(ValidationError, match="'ax' must be a matplotlib Axes"):
        plot_funnel(pd.Series([1], index=["a"]), ax="axes")  # type: ignore[arg-type]


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'crmlifecycle\[plot\]'") as info:
        plot_funnel(pd.Series([1], index=["a"]))
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, CrmError)
    assert (info.value.package, info.value.extra) == ("matplotlib", "plot")


# -- cohort heat map ---------------------------------------------------------------------------


def test_cohort_heat_map_holds_the_matrix_and_leaves_unknown_cells_blank(
    tmp_path: pathlib.Path,
) -> None:
    from crmlifecycle.metrics import cohort_retention

    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d"],
            "at": pd.to_datetime(
                [
                    "2026-01-05",
                    "2026-02-07",
                    "2026-01-20",
                    "2026-03-02",
                    "2026-02-11",
                    "2026-02-12",
                ],
                utc=True,
            ),
        }
    )
    # January cohort {a, b}: Feb a (1/2), Mar b (1/2); February cohort {c, d}: Mar none (0/2)
    matrix = cohort_retention(orders)
    ax = plot_cohort_retention(matrix, ax=_axes())
    array = _image(ax)
    assert array.filled(-1.0).tolist() == [[1.0, 0.5, 0.5], [1.0, 0.0, -1.0]]
    assert array.mask.tolist() == [[False, False, False], [False, False, True]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2026-01", "2026-02"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert _texts(ax) == ["100", "50", "50", "100", "0"]  # percentages; the unknown cell is blank
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert _save(ax, tmp_path / "cohort.png").stat().st_size > 5_000


def test_cohort_heat_map_of_counts_with_missing_cells() -> None:
    counts = pd.DataFrame({0: [4, 5], 1: [2, pd.NA]}, dtype="Int64")
    ax = plot_cohort_retention(counts, ax=_axes())
    array = _image(ax)
    assert array.filled(-1.0).tolist() == [[4.0, 2.0], [5.0, -1.0]]
    assert ax.images[0].get_clim() == (0.0, 5.0)  # counts: coloured up to the largest cell
    assert _texts(ax) == ["4", "2", "5"]


def test_cohort_annotations_can_be_switched_off() -> None:
    ax = plot_cohort_retention(pd.DataFrame([[1.0, 0.3]]), annotate=False, ax=_axes())
    assert len(ax.texts) == 0


@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(st.floats(min_value=0, max_value=1), st.none()), min_size=n, max_size=n
            ),
            min_size=1,
            max_size=6,
        )
    )
)
def test_cohort_image_equals_the_matrix(rows: list[list[float | None]]) -> None:
    matrix = pd.DataFrame(rows, dtype="float64")
    ax = plot_cohort_retention(matrix, annotate=False, ax=_axes())
    array = _image(ax)
    expected = matrix.to_numpy()
    np.testing.assert_array_equal(array.mask, np.isnan(expected))
    np.testing.assert_array_equal(array.filled(np.nan), expected)


@pytest.mark.parametrize(
    "matrix",
    [
        pd.DataFrame(),
        pd.DataFrame({0: ["a"]}),
        pd.DataFrame({0: [-0.1]}),
        pd.DataFrame({0: [np.inf]}),
    ],
)
def test_cohort_heat_map_rejects_bad_matrices(matrix: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="Hint:"):
        plot_cohort_retention(matrix, ax=_axes())


def test_cohort_heat_map_rejects_a_non_frame() -> None:
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        plot_cohort_retention([[1.0]], ax=_axes())  # type: ignore[arg-type]


# -- MRR movements -----------------------------------------------------------------------------


def _heights(ax: Axes) -> dict[str, list[float]]:
    return {
        str(c.get_label()): [float(p.get_height()) + 0.0 for p in c]
        for c in ax.containers
        if isinstance(c, BarContainer)
    }


def test_mrr_movements_stack_gains_up_losses_down(tmp_path: pathlib.Path) -> None:
    from crmlifecycle.metrics._revenue import mrr_movements

    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "period": pd.to_datetime(
                ["2026-01-01", "2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01"], utc=True
            ),
            "mrr": [100.0, 150.0, 200.0, 50.0, 80.0],
        }
    )
    # January: all new (100 + 200 + 80 = 380); February: a +50 expansion, b -150 contraction,
    # c -80 churned; net change 50 - 150 - 80 = -180 (= 200 - 380)
    ax = plot_mrr_movements(mrr_movements(subs, end="2026-03-01"), ax=_axes())
    assert _heights(ax) == {
        "new": [380.0, 0.0],
        "reactivated": [0.0, 0.0],
        "expansion": [0.0, 50.0],
        "contraction": [0.0, -150.0],
        "churned": [0.0, -80.0],
    }
    assert ax.lines[0].get_ydata().tolist() == [380.0, -180.0]  # type: ignore[union-attr]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-02"]
    bottom, top = ax.get_ylim()
    assert bottom < -230.0  # the stacked losses (-150 - 80) are inside the range
    assert top > 380.0
    assert _save(ax, tmp_path / "mrr.png").stat().st_size > 5_000


def test_mrr_movements_by_segment_are_summed_per_period() -> None:
    moves = pd.DataFrame(
        {
            "period": pd.PeriodIndex(["2026-01", "2026-01", "2026-02"], freq="M"),
            "channel": ["web", "events", "web"],
            "new": [10.0, 5.0, 0.0],
            "reactivated": [0.0, 0.0, 2.0],
            "expansion": [0.0, 0.0, 3.0],
            "contraction": [0.0, 0.0, 1.0],
            "churned": [0.0, 0.0, 4.0],
        }
    )
    ax = plot_mrr_movements(moves, ax=_axes())
    assert _heights(ax)["new"] == [15.0, 0.0]  # 10 + 5 in January
    # net: January 15; February 2 + 3 - 1 - 4 = 0
    assert ax.lines[0].get_ydata().tolist() == [15.0, 0.0]  # type: ignore[union-attr]


def test_mrr_movements_reject_negative_losses() -> None:
    moves = pd.DataFrame(
        {
            "period": pd.PeriodIndex(["2026-01"], freq="M"),
            "new": [1.0],
            "reactivated": [0.0],
            "expansion": [0.0],
            "contraction": [0.0],
            "churned": [-4.0],
        }
    )
    with pytest.raises(DataError, match="'churned' has negative amounts"):
        plot_mrr_movements(moves, ax=_axes())


def test_mrr_movements_name_a_missing_column() -> None:
    with pytest.raises(MissingColumnError, match="churned"):
        plot_mrr_movements(pd.DataFrame({"period": [1], "new": [1.0]}), ax=_axes())


# -- CLV distribution --------------------------------------------------------------------------


def test_clv_histogram_counts_and_markers(tmp_path: pathlib.Path) -> None:
    values = pd.Series([10.0, 20.0, 20.0, 90.0], name="clv")
    ax = plot_clv_distribution(values, bins=4, ax=_axes())
    # range 10..90 in 4 bins of 20: [10, 30) holds 10, 20, 20; [70, 90] holds 90
    assert [float(p.get_height()) for p in _bars(ax)] == [3.0, 0.0, 0.0, 1.0]
    legend = ax.get_legend()
    assert legend is not None
    # mean (10 + 20 + 20 + 90) / 4 = 35; median (20 + 20) / 2 = 20
    assert [t.get_text() for t in legend.get_texts()] == ["mean 35.00", "median 20.00"]
    assert ax.get_title() == "Customer lifetime value (4 customers)"
    assert _save(ax, tmp_path / "clv.png").stat().st_size > 5_000


def test_clv_upper_quantile_counts_the_customers_it_leaves_out() -> None:
    values = np.arange(1.0, 101.0)  # 1..100; the 0.9 quantile (linear) is 90.1
    ax = plot_clv_distribution(values, upper_quantile=0.9, bins=10, ax=_axes())
    assert sum(float(p.get_height()) for p in _bars(ax)) == 90.0  # 1..90 drawn
    legend = ax.get_legend()
    assert legend is not None
    assert "10 customers above 90.10 not shown" in [t.get_text() for t in legend.get_texts()]


def test_clv_from_a_frame_column() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "value": [5.0, 7.0]})
    ax = plot_clv_distribution(frame, column="value", bins=2, ax=_axes())
    assert [float(p.get_height()) for p in _bars(ax)] == [1.0, 1.0]


def test_clv_of_identical_values_still_draws() -> None:
    ax = plot_clv_distribution([3.0, 3.0], bins=2, ax=_axes())
    assert sum(float(p.get_height()) for p in _bars(ax)) == 2.0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"clv": [1.0, np.nan]}, DataError),
        ({"clv": [1.0, np.inf]}, DataError),
        ({"clv": []}, DataError),
        ({"clv": ["a"]}, DataError),
        ({"clv": [1.0], "bins": 0}, ValidationError),
        ({"clv": [1.0], "bins": True}, ValidationError),
        ({"clv": [1.0], "upper_quantile": 0.0}, ValidationError),
        ({"clv": [1.0], "upper_quantile": 1.5}, ValidationError),
    ],
)
def test_clv_rejects_bad_input(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error, match="Hint:"):
        plot_clv_distribution(ax=_axes(), **kwargs)  # type: ignore[arg-type]


# -- predicted vs actual -----------------------------------------------------------------------


def test_predicted_vs_actual_groups_by_calibration_frequency(tmp_path: pathlib.Path) -> None:
    per_customer = pd.DataFrame(
        {
            "frequency": [0, 0, 1, 3, 9],
            "actual": [0.0, 1.0, 2.0, 4.0, 6.0],
            "predicted": [0.2, 0.4, 1.5, 3.0, 5.0],
        }
    )
    ax = plot_predicted_vs_actual(per_customer, max_frequency=3, ax=_axes())
    # group 0: actual (0 + 1) / 2 = 0.5, predicted (0.2 + 0.4) / 2 = 0.3; group 1: 2.0 / 1.5;
    # group 3+ holds frequencies 3 and 9: actual (4 + 6) / 2 = 5, predicted (3 + 5) / 2 = 4
    actual, predicted = ax.lines[0], ax.lines[1]
    assert actual.get_ydata().tolist() == [0.5, 2.0, 5.0]  # type: ignore[union-attr]
    assert np.allclose(predicted.get_ydata(), [0.3, 1.5, 4.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "3+"]
    assert actual.get_label() == "actual"
    assert predicted.get_label() == "predicted"
    assert _save(ax, tmp_path / "holdout.png").stat().st_size > 5_000


def test_predicted_vs_actual_from_a_holdout_evaluation() -> None:
    from crmlifecycle.metrics.clv import evaluate_holdout

    class Constant:
        """A stand-in model expecting 0.5 purchases per holdout unit for everyone."""

        def conditional_expected_purchases(
            self,
            t: object,
            frequency: object,
            recency: object,
            T: object,  # noqa: N803
        ) -> np.ndarray:
            del frequency, recency, T  # the same expectation whatever the history
            return 0.5 * np.asarray(t, dtype="float64")

    frame = pd.DataFrame(
        {
            "frequency": [0, 2, 2],
            "recency": [0.0, 20.0, 30.0],
            "T": [38.0, 38.0, 38.0],
            "frequency_holdout": [0, 1, 3],
            "duration_holdout": [2.0, 2.0, 4.0],
        }
    )
    evaluation = evaluate_holdout(Constant(), frame)
    ax = plot_predicted_vs_actual(evaluation, ax=_axes())
    # frequency 0: actual 0, predicted 0.5 * 2 = 1; frequency 2: actual (1 + 3) / 2 = 2,
    # predicted (0.5 * 2 + 0.5 * 4) / 2 = 1.5
    assert ax.lines[0].get_ydata().tolist() == [0.0, 2.0]  # type: ignore[union-attr]
    assert ax.lines[1].get_ydata().tolist() == [1.0, 1.5]  # type: ignore[union-attr]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "2"]


def test_predicted_vs_actual_from_a_grouped_frame() -> None:
    grouped = pd.DataFrame(
        {"actual": [0.1, 0.9], "predicted": [0.2, 0.8]},
        index=pd.Index([0, 7], name="frequency"),
    )
    ax = plot_predicted_vs_actual(grouped, ax=_axes())
    assert ax.lines[0].get_ydata().tolist() == [0.1, 0.9]  # type: ignore[union-attr]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "7+"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "error"),
    [
        (pd.DataFrame({"actual": [1.0], "predicted": [1.0]}), {}, DataError),
        (pd.DataFrame({"frequency": [1.5], "actual": [1.0], "predicted": [1.0]}), {}, DataError),
        (pd.DataFrame({"frequency": [-1], "actual": [1.0], "predicted": [1.0]}), {}, DataError),
        (pd.DataFrame({"frequency": [1], "actual": [np.nan], "predicted": [1.0]}), {}, DataError),
        (pd.DataFrame({"frequency": [1], "actual": [1.0]}), {}, MissingColumnError),
        (
            pd.DataFrame({"frequency": [1], "actual": [1.0], "predicted": [1.0]}),
            {"max_frequency": 0},
            ValidationError,
        ),
    ],
)
def test_predicted_vs_actual_rejects_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, int], error: type[Exception]
) -> None:
    with pytest.raises(error, match="Hint:"):
        plot_predicted_vs_actual(frame, ax=_axes(), max_frequency=kwargs.get("max_frequency", 7))
