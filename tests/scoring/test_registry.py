from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any, Self

import pandas as pd
import pytest

from crmlifecycle._registry import Registry
from crmlifecycle.errors import PluginError, SpecError, ValidationError
from crmlifecycle.scoring import (
    ENTRY_POINT_GROUP,
    NaiveBayesScorer,
    PointsScorer,
    RfmScorer,
    ScoreCard,
    Scorer,
    _registry,
    available_scorers,
    build_scorer,
    get_scorer,
    register_scorer,
)
from crmlifecycle.typing import Instant

AT = pd.Timestamp("2026-01-01", tz="UTC")
EXAMPLE_PLUGIN = "crmlifecycle-example-scorer"


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_example_plugin = pytest.mark.skipif(
    not _installed(EXAMPLE_PLUGIN),
    reason=f"the example plugin is not installed (pip install plugins/{EXAMPLE_PLUGIN})",
)


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Registry[type[Scorer]](
        kind="scorer",
        group=ENTRY_POINT_GROUP,
        builtins=_registry._builtins,
        validate=_registry._validate_class,
    )
    # patch the namespace the public functions read (the doctest run may import the module again)
    monkeypatch.setitem(register_scorer.__globals__, "_SCORERS", fresh)


class _Good:
    name = "good"

    def __init__(self, *, bonus: float = 1.0) -> None:
        self.bonus = bonus

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(**{k: v for k, v in data.items() if k != "scorer"})

    def to_dict(self) -> dict[str, Any]:
        return {"scorer": self.name, "bonus": self.bonus}

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        del record, as_of
        return ScoreCard(total=self.bonus)

    def score_frame(self, frame: pd.DataFrame, *, as_of: Instant) -> pd.DataFrame:
        del as_of
        return pd.DataFrame({"score": self.bonus, "grade": None, "label": None}, index=frame.index)


class _NoAt(_Good):
    name = "no_at"

    def score(self, record: object) -> ScoreCard:  # type: ignore[override]
        del record
        return ScoreCard(total=0.0)


class _NoFrame:
    name = "no_frame"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        del data
        return cls()

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        del record, as_of
        return ScoreCard(total=0.0)


def test_builtins_are_registered_by_name_in_the_library_order() -> None:
    assert available_scorers()[:3] == ["points", "rfm", "naive_bayes"]
    assert get_scorer("rfm") is RfmScorer
    assert get_scorer("points") is PointsScorer
    assert get_scorer("naive_bayes") is NaiveBayesScorer
    for name in ("rfm", "points"):
        assert isinstance(get_scorer(name).from_dict({}), Scorer)


def test_register_and_get_a_scorer_class() -> None:
    register_scorer(_Good)
    assert "good" in available_scorers()
    assert get_scorer("good") is _Good
    scorer = build_scorer({"scorer": "good", "bonus": 3.0})
    assert scorer.score({}, as_of=AT).total == 3.0
    with pytest.raises(PluginError, match="an earlier registration in code took") as info:
        register_scorer(_Good)
    assert info.value.plugin == "good"
    register_scorer(_Good, replace=True)


def test_a_registration_never_shadows_a_builtin() -> None:
    class Shadow(_Good):
        name = "rfm"

    for replace in (False, True):
        with pytest.raises(PluginError, match="built-in scorer of crmlifecycle") as info:
            register_scorer(Shadow, replace=replace)
        assert info.value.plugin == "rfm"
        assert "a registration in code" in str(info.value)
    assert get_scorer("rfm") is RfmScorer


def test_registration_validates_and_names_the_plugin() -> None:
    with pytest.raises(PluginError, match="non-empty string name") as info:
        register_scorer(42)  # type: ignore[arg-type]
    assert info.value.plugin == ""
    with pytest.raises(PluginError, match=r"has no method to_dict\(\)"):
        register_scorer(_NoFrame)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"_NoAt.score\(self, record.*'as_of'"):
        register_scorer(_NoAt)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="expected a scorer class"):
        register_scorer(_Good())  # type: ignore[arg-type]


def test_the_registered_name_is_the_class_name_attribute() -> None:
    with pytest.raises(PluginError, match="named 'good' but registered as 'other'"):
        _registry._validate_class("other", _Good)


def test_from_dict_results_are_checked() -> None:
    class Liar(_Good):
        name = "liar"

        @classmethod
        def from_dict(cls, data: Mapping[str, Any]) -> Self:
            del data
            return object()  # type: ignore[return-value]

    register_scorer(Liar)
    with pytest.raises(PluginError, match=r"plugin 'liar'.*not a Scorer"):
        build_scorer({"scorer": "liar"})


def test_unknown_names_and_bad_configs() -> None:
    with pytest.raises(ValidationError, match="did you mean 'points'"):
        get_scorer("ponts")
    with pytest.raises(SpecError, match="did you mean 'points'") as unknown:
        build_scorer({"scorer": "ponts"})
    assert unknown.value.path == "scorer"
    with pytest.raises(SpecError, match="'scorer' key") as untyped:
        build_scorer({"monetary": "sum"})
    assert untyped.value.path == "scorer"
    with pytest.raises(SpecError, match="'scorer' key"):
        build_scorer(["rfm"])  # type: ignore[arg-type]
    register_scorer(_Good)
    with pytest.raises(SpecError, match="scorer 'good' rejected its configuration") as bad:
        build_scorer({"scorer": "good", "malus": 1})
    assert bad.value.path == "scorer"
    assert isinstance(bad.value.__cause__, TypeError)
    with pytest.raises(SpecError, match="unknown key 'fitt'") as points:
        build_scorer({"scorer": "points", "fitt": []})
    assert points.value.path == "fitt"


def test_build_scorer_reads_text_too() -> None:
    assert build_scorer("scorer: rfm\nmonetary: mean").to_dict()["monetary"] == "mean"
    assert build_scorer('{"scorer": "rfm", "monetary": "mean"}').to_dict()["monetary"] == "mean"
    with pytest.raises(SpecError, match="invalid JSON at line 1, column 2 of a scorer config"):
        build_scorer("{scorer: rfm")


@needs_example_plugin
def test_example_plugin_is_discovered_after_installation() -> None:
    assert "email_domain" in metadata.entry_points(group=ENTRY_POINT_GROUP).names
    assert "email_domain" in available_scorers()
    scorer = build_scorer({"scorer": "email_domain", "company_points": 7})
    assert isinstance(scorer, Scorer)
    assert type(scorer).__module__ == "crmlifecycle_example_scorer"
    leads = pd.DataFrame({"email": ["ada@acme.io", "bob@gmail.com", None]})
    # company domain 7, free-mail -5 (the plugin default), no address 0
    assert scorer.score_frame(leads, as_of=AT)["score"].tolist() == [7.0, -5.0, 0.0]
    assert scorer.score({"email": "eve@GMAIL.com"}, as_of=AT).total == -5.0
    assert build_scorer(scorer.to_dict()).to_dict() == scorer.to_dict()


@needs_example_plugin
def test_a_registration_never_shadows_an_installed_plugin() -> None:
    class Shadow(_Good):
        name = "email_domain"

    with pytest.raises(PluginError, match=f"installed package {EXAMPLE_PLUGIN}"):
        register_scorer(Shadow)


@needs_example_plugin
def test_discovery_is_lazy() -> None:
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


def _fake_points(**points: str) -> dict[str, tuple[metadata.EntryPoint, ...]]:
    return {
        name: tuple(
            metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
            for value in values.split()
        )
        for name, values in points.items()
    }


def test_a_broken_plugin_raises_an_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    points = _fake_points(
        broken_scorer="crmlifecycle_no_such_module:Scorer",
        not_a_scorer="crmlifecycle.scoring:ENTRY_POINT_GROUP",
    )
    registry = Registry[type[Scorer]](
        kind="scorer",
        group=ENTRY_POINT_GROUP,
        builtins=_registry._builtins,
        validate=_registry._validate_class,
        discover=lambda _group: points,
    )
    monkeypatch.setitem(register_scorer.__globals__, "_SCORERS", registry)
    assert {"broken_scorer", "not_a_scorer"} <= set(available_scorers())
    with pytest.raises(PluginError, match="plugin 'broken_scorer': importing") as info:
        get_scorer("broken_scorer")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    with pytest.raises(PluginError, match="plugin 'not_a_scorer': expected a scorer class"):
        get_scorer("not_a_scorer")
