from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from typing import Any

import pandas as pd
import pytest

from crmlifecycle.errors import PluginError, SpecError
from crmlifecycle.scoring import (
    ENTRY_POINT_GROUP,
    NaiveBayesScorer,
    PointsScorer,
    RfmScorer,
    ScoreCard,
    Scorer,
    _registry,
    available_scorers,
    get_scorer,
    register_scorer,
)
from crmlifecycle.typing import Instant

AT = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.fixture(autouse=True)
def _fresh_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_registered", {})


class _Good:
    name = "good"

    def __init__(self, *, bonus: float = 1.0) -> None:
        self.bonus = bonus

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        del record, as_of
        return ScoreCard(total=self.bonus)

    def score_frame(self, frame: pd.DataFrame, *, as_of: Instant) -> pd.DataFrame:
        del as_of
        return pd.DataFrame({"score": self.bonus, "grade": None, "label": None}, index=frame.index)

    def to_config(self) -> dict[str, Any]:
        return {"scorer": self.name, "bonus": self.bonus}


class _NoAt:
    name = "no_at"

    def score(self, record: object) -> ScoreCard:
        del record
        return ScoreCard(total=0.0)

    def score_frame(self, frame: pd.DataFrame, *, as_of: Instant) -> pd.DataFrame:
        del as_of
        return frame

    def to_config(self) -> dict[str, Any]:
        return {}


class _NoFrame:
    name = "no_frame"

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        del record, as_of
        return ScoreCard(total=0.0)


def test_builtins_are_registered_by_name() -> None:
    assert {"naive_bayes", "points", "rfm"} <= set(available_scorers())
    assert isinstance(get_scorer("rfm"), RfmScorer)
    assert isinstance(get_scorer("points"), PointsScorer)
    assert isinstance(get_scorer("naive_bayes", features=["industry"]), NaiveBayesScorer)
    for name in ("rfm", "points"):
        assert isinstance(get_scorer(name), Scorer)


def test_register_and_get_a_scorer() -> None:
    register_scorer("good", _Good)
    assert "good" in available_scorers()
    scorer = get_scorer("good", bonus=3.0)
    assert scorer.score({}, as_of=AT).total == 3.0
    with pytest.raises(PluginError, match="already registered") as info:
        register_scorer("good", _Good)
    assert info.value.plugin == "good"
    register_scorer("good", _Good, replace=True)
    with pytest.raises(PluginError, match="already registered"):
        register_scorer("rfm", _Good)


def test_registration_validates_and_names_the_plugin() -> None:
    with pytest.raises(PluginError, match="plugin 'x': expected a scorer class") as info:
        register_scorer("x", 42)  # type: ignore[arg-type]
    assert info.value.plugin == "x"
    with pytest.raises(PluginError, match=r"has no method score_frame\(\)"):
        register_scorer("no_frame", _NoFrame)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"_NoAt.score\(self, record.*'as_of'"):
        register_scorer("no_at", _NoAt)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="non-empty name"):
        register_scorer("", _Good)


def test_factory_results_are_checked() -> None:
    def factory(**config: object) -> Scorer:
        del config
        return object()  # type: ignore[return-value]

    register_scorer("liar", factory)
    with pytest.raises(PluginError, match=r"plugin 'liar'.*not a Scorer"):
        get_scorer("liar")


def test_unknown_names_and_bad_configs() -> None:
    with pytest.raises(SpecError, match="did you mean 'points'"):
        get_scorer("ponts")
    register_scorer("good", _Good)
    with pytest.raises(SpecError, match="rejected its configuration") as info:
        get_scorer("good", malus=1)
    assert info.value.path == "good"
    with pytest.raises(SpecError, match="unknown field 'fitt'") as points:
        get_scorer("points", fitt=[])
    assert points.value.path == "points.fitt"


def test_example_plugin_is_discovered_after_installation() -> None:
    points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    assert "email_domain" in points.names, "pip install plugins/crmlifecycle-example-scorer"
    assert "email_domain" in available_scorers()
    scorer = get_scorer("email_domain", company_points=7)
    assert isinstance(scorer, Scorer)
    assert type(scorer).__module__ == "crmlifecycle_example_scorer"
    leads = pd.DataFrame({"email": ["ada@acme.io", "bob@gmail.com", None]})
    # company domain 7, free-mail -5 (the plugin default), no address 0
    assert scorer.score_frame(leads, as_of=AT)["score"].tolist() == [7.0, -5.0, 0.0]
    assert scorer.score({"email": "eve@GMAIL.com"}, as_of=AT).total == -5.0
    assert _registry._entry_points()["email_domain"].dist is not None


def test_discovery_is_lazy_and_cached() -> None:
    code = (
        "import sys\n"
        "from crmlifecycle.scoring import available_scorers, get_scorer\n"
        "names = available_scorers()\n"
        "print('email_domain' in names, 'crmlifecycle_example_scorer' in sys.modules)\n"
        "get_scorer('email_domain')\n"
        "print('crmlifecycle_example_scorer' in sys.modules)\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "False", "True"]
    _registry._entry_points()
    before = _registry._entry_points.cache_info().hits
    available_scorers()
    assert _registry._entry_points.cache_info().hits == before + 1


def test_a_broken_plugin_raises_an_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = metadata.EntryPoint(
        name="broken_scorer", value="crmlifecycle_no_such_module:Scorer", group=ENTRY_POINT_GROUP
    )
    not_a_scorer = metadata.EntryPoint(
        name="not_a_scorer", value="crmlifecycle.scoring:ENTRY_POINT_GROUP", group=ENTRY_POINT_GROUP
    )
    points = {"broken_scorer": broken, "not_a_scorer": not_a_scorer}
    monkeypatch.setattr(_registry, "_entry_points", lambda: points)
    _registry._load_plugin.cache_clear()
    try:
        assert {"broken_scorer", "not_a_scorer"} <= set(available_scorers())
        with pytest.raises(PluginError, match="plugin 'broken_scorer': importing") as info:
            get_scorer("broken_scorer")
        assert isinstance(info.value.__cause__, ModuleNotFoundError)
        with pytest.raises(PluginError, match="plugin 'not_a_scorer': expected a scorer class"):
            get_scorer("not_a_scorer")
    finally:
        _registry._load_plugin.cache_clear()
