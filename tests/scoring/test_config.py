from __future__ import annotations

import pathlib

import pandas as pd
import pytest

from crmlifecycle.errors import DataError, SpecError
from crmlifecycle.scoring import (
    RfmScorer,
    dump_scorer,
    explain_frame,
    load_scorer,
    scorer_from_config,
)
from crmlifecycle.scoring._config import check_number, dumps, loads, thresholds


def test_scorer_from_config_needs_a_type() -> None:
    with pytest.raises(SpecError, match="'scorer' key") as info:
        scorer_from_config({"monetary": "sum"})
    assert info.value.path == "scorer"
    with pytest.raises(SpecError, match="'scorer' key"):
        scorer_from_config(["rfm"])  # type: ignore[arg-type]


def test_load_from_files(tmp_path: pathlib.Path) -> None:
    as_json = tmp_path / "rfm.json"
    as_json.write_text(dump_scorer(RfmScorer(monetary="mean")), encoding="utf-8")
    as_yaml = tmp_path / "rfm.yml"
    as_yaml.write_text("scorer: rfm\nmonetary: mean\n", encoding="utf-8")
    assert load_scorer(as_json).to_config() == load_scorer(as_yaml).to_config()


def test_parse_errors_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="JSON"):
        loads("{scorer: rfm")
    with pytest.raises(SpecError, match="YAML"):
        loads("scorer: [rfm", fmt="yaml")
    with pytest.raises(SpecError, match="format"):
        loads("{}", fmt="toml")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="format"):
        dumps({}, fmt="toml")  # type: ignore[arg-type]


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(SpecError, match="YAML"):
        loads("!!python/object/apply:os.system ['true']", fmt="yaml")


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
