from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import yaml

from crmlifecycle.errors import DataError, SpecError
from crmlifecycle.scoring import (
    NaiveBayesScorer,
    PointsScorer,
    RfmScorer,
    Scorer,
    build_scorer,
    explain_frame,
)
from crmlifecycle.scoring._config import check_number, scorer_settings, thresholds

CONFIGURABLE = [PointsScorer, RfmScorer, NaiveBayesScorer]


@pytest.mark.parametrize("scorer_class", CONFIGURABLE, ids=lambda c: c.name)
def test_every_builtin_scorer_has_the_configuration_trio(scorer_class: type[Scorer]) -> None:
    for method in ("from_dict", "from_text", "to_dict"):
        assert callable(getattr(scorer_class, method))


@pytest.mark.parametrize(
    "scorer",
    [
        PointsScorer.bant(),
        PointsScorer(
            fit=[{"name": "big", "when": "employees >= 200", "points": 20}],
            engagement=[{"kind": "demo", "points": 40, "half_life_days": 10, "category": "web"}],
            caps={"web": 50},
            grades={"A": 70, "B": 30},
            default_grade="C",
        ),
        RfmScorer(monetary="mean"),
        NaiveBayesScorer(features=["country", "budget"], numeric={"budget": [1000.0]}, alpha=0.5),
    ],
    ids=["bant", "points", "rfm", "naive_bayes"],
)
def test_to_dict_round_trips_through_dict_json_and_yaml(scorer: Any) -> None:
    config = scorer.to_dict()
    assert config["scorer"] == scorer.name
    for again in (
        type(scorer).from_dict(config),
        type(scorer).from_text(json.dumps(config)),
        type(scorer).from_text(yaml.safe_dump(config)),
        build_scorer(config),
        build_scorer(yaml.safe_dump(config)),
    ):
        assert type(again) is type(scorer)
        assert again.to_dict() == config


def test_a_config_of_another_type_is_refused() -> None:
    with pytest.raises(SpecError, match="for scorer 'points', not 'rfm'") as info:
        RfmScorer.from_dict({"scorer": "points"})
    assert info.value.path == "scorer"
    with pytest.raises(SpecError, match="for scorer 'rfm', not 'points'"):
        PointsScorer.from_text("scorer: rfm")


def test_scorer_settings_drop_the_type_and_check_keys() -> None:
    assert scorer_settings({"scorer": "x", "a": 1}, scorer="x", optional=["a"]) == {"a": 1}
    assert scorer_settings({"a": 1}, scorer="x", required=["a"]) == {"a": 1}
    with pytest.raises(SpecError, match="missing required key 'a'") as info:
        scorer_settings({}, scorer="x", required=["a"])
    assert info.value.path == "a"
    with pytest.raises(SpecError, match=r"expected a mapping \(got list\)"):
        scorer_settings([], scorer="x")


def test_text_errors_are_spec_errors_with_a_position() -> None:
    with pytest.raises(SpecError, match="invalid JSON at line 1, column 2"):
        RfmScorer.from_text("{monetary: mean")
    with pytest.raises(SpecError, match="invalid YAML at line 1"):
        RfmScorer.from_text("monetary: [mean")
    with pytest.raises(SpecError, match="invalid YAML"):
        RfmScorer.from_text("!!python/object/apply:os.system ['true']")


def test_numbers_and_thresholds() -> None:
    with pytest.raises(SpecError, match="finite"):
        check_number(float("inf"), path="x")
    with pytest.raises(SpecError, match=">= 0"):
        check_number(-1, path="caps.email", minimum=0)
    with pytest.raises(SpecError, match="> 0"):
        check_number(value=True, path="half_life_days", positive=True)
    with pytest.raises(SpecError, match="same minimum") as info:
        thresholds({"A": 50, "B": 50}, path="grades")
    assert info.value.path == "grades"
    with pytest.raises(SpecError) as bad:
        thresholds({"A": "high"}, path="grades")
    assert bad.value.path == "grades.A"


def test_explain_frame() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "at": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True),
            "amount": [5.0, 1.0],
        }
    )
    scored = RfmScorer().score_frame(orders, as_of=pd.Timestamp("2026-03-01", tz="UTC"))
    # two customers: the better one has 1 of 2 below -> 1 + floor(5 * 1 / 2) = 3, the other 1
    # a: r 1, f 1 (tie), m 3; b: r 3, f 1, m 1 -> the largest first, ties in column order
    assert explain_frame(scored, top=2).tolist() == [
        "+3 monetary; +1 recency",
        "+3 recency; +1 frequency",
    ]
    with pytest.raises(DataError, match="contrib"):
        explain_frame(orders)
    with pytest.raises(DataError, match="top"):
        explain_frame(scored, top=0)
