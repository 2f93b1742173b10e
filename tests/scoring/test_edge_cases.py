from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmlifecycle.errors import DataError, SpecError, ValidationError
from crmlifecycle.scoring import MISSING, NaiveBayesScorer, RfmScorer, build_scorer
from crmlifecycle.scoring._config import check_text
from crmlifecycle.scoring._rfm import rfm_edges
from crmlifecycle.values import Money

AS_OF = pd.Timestamp("2026-02-01", tz="UTC")
BEFORE = pd.Timestamp("2026-01-15", tz="UTC")


def _budget_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "budget": [500.0, 20_000.0, 800.0, 50_000.0],
            "state": ["lost", "won", "lost", "won"],
            "closed_at": [BEFORE] * 4,
        }
    )


def test_binned_fields_read_money_and_reject_text_on_records() -> None:
    nb = NaiveBayesScorer(features=["budget"], numeric={"budget": [1000.0]}, alpha=1.0)
    nb.fit(_budget_history(), as_of=AS_OF)
    # K = 2 bins: > 1000 is won 2, lost 0 -> P = 3/4 vs 1/4 -> ratio log 3, prior log(2/2) = 0
    card = nb.score({"budget": Money("5000", "EUR")}, as_of=AS_OF)
    assert card.contributions[1].note == "> 1000"
    assert card.probability == pytest.approx(0.75)
    with pytest.raises(ValidationError, match="'budget' must be a number"):
        nb.score({"budget": "lots"}, as_of=AS_OF)
    assert "fitted as of 2026-02-01" in repr(nb)


def test_all_missing_numeric_field_and_stage_config_roundtrip() -> None:
    history = _budget_history().assign(budget=np.nan, reached=["a", "b", "a", "b"])
    nb = NaiveBayesScorer(
        features=["budget"], numeric={"budget": 3}, stage="reached", stages=["a", "b"], alpha=1.0
    )
    nb.fit(history, as_of=AS_OF)
    assert nb.model_ is not None
    assert nb.model_["features"]["budget"] == {"edges": [], "counts": {MISSING: [2, 2]}}
    again = build_scorer(nb.to_dict())
    frame = pd.DataFrame({"budget": [np.nan], "reached": ["b"]})
    pd.testing.assert_frame_equal(
        again.score_frame(frame, as_of=AS_OF), nb.score_frame(frame, as_of=AS_OF)
    )
    # both lost records stopped at a: lost reaching b = 0 -> P(b|lost) = (0 + 1) / (2 + 1),
    # P(b|won) = 1 -> ratio -log(1/3) = log 3
    assert nb.score({"budget": None, "reached": "b"}, as_of=AS_OF).contributions[
        -1
    ].points == pytest.approx(math.log(3))


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"features": []}, "features"),
        ({"features": ["x"], "unseen": "warn"}, "unseen"),
        ({"features": ["x"], "stage": "s"}, "stages"),
        ({"features": ["x"], "numeric": {"x": 0}}, "numeric.x"),
        ({"features": "x"}, "features"),
        ({"features": ["x"], "grades": {"A": 2.0, "B": "x"}}, "grades.B"),
    ],
)
def test_naive_bayes_spec_errors(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(SpecError) as info:
        NaiveBayesScorer(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_saved_model_is_checked() -> None:
    model = {"as_of": "2026-01-01T00:00:00+00:00", "won": 2, "lost": 0, "features": {}}
    with pytest.raises(SpecError) as info:
        NaiveBayesScorer(features=["c"], model=model)
    assert info.value.path == "model.lost"
    with pytest.raises(SpecError) as missing:
        NaiveBayesScorer(features=["c"], model={**model, "lost": 1})
    assert missing.value.path == "model.features.c"


def test_rfm_edge_cases() -> None:
    with pytest.raises(DataError, match="no customers"):
        rfm_edges(np.array([]))
    orders = pd.DataFrame(
        {
            "customer_id": pd.Series(["a", None], dtype=object),
            "at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "amount": [1.0, 2.0],
        }
    )
    with pytest.raises(DataError, match="missing customer ids"):
        RfmScorer().score_frame(orders, as_of=AS_OF)
    assert repr(RfmScorer()) == "RfmScorer(monetary='sum', segments=11, not fitted)"
    bad_edges: list[object] = [[1, 2, 3, "4"], [4, 3, 2, 1], [1, 2, 3, math.inf], "1234"]
    for bad in bad_edges:
        edges = {"recency": bad, "frequency": [1, 2, 3, 4], "monetary": [1, 2, 3, 4]}
        with pytest.raises(SpecError) as info:
            RfmScorer(edges=edges)  # type: ignore[arg-type]
        assert info.value.path == "edges.recency"


def test_config_helpers() -> None:
    with pytest.raises(SpecError, match="non-empty string"):
        check_text("  ", path="fit[0].name")
