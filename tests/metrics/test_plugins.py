"""The entry-point discovery and the registry class shared by the metric and scorer registries."""

from __future__ import annotations

from importlib import metadata

import pytest

from crmlifecycle import _plugins
from crmlifecycle._registry import Registry
from crmlifecycle.errors import PluginError
from crmlifecycle.metrics import Metric
from crmlifecycle.metrics import _registry as metric_registry
from crmlifecycle.metrics._builtin import BUILTIN_METRICS
from crmlifecycle.scoring import _registry as scorer_registry

GROUP = "crmlifecycle.test_only_group"


def test_discover_lists_a_group_once_and_keeps_every_claim_of_a_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = metadata.EntryPoint(name="dup", value="math:pi", group=GROUP)
    second = metadata.EntryPoint(name="dup", value="math:e", group=GROUP)
    other = metadata.EntryPoint(name="other", value="math:tau", group=GROUP)
    calls: list[str] = []

    def listing(*, group: str) -> list[metadata.EntryPoint]:
        calls.append(group)
        return [first, second, other]

    monkeypatch.setattr(metadata, "entry_points", listing)
    _plugins.discover.cache_clear()
    try:
        points = _plugins.discover(GROUP)
        assert dict(points) == {"dup": (first, second), "other": (other,)}
        assert _plugins.discover(GROUP) is points
        assert calls == [GROUP]  # listed once per process
        with pytest.raises(TypeError):
            points["new"] = (other,)  # type: ignore[index]  # callers cannot change the cache
    finally:
        _plugins.discover.cache_clear()


def test_load_wraps_any_failure_in_a_plugin_error() -> None:
    assert _plugins.load(metadata.EntryPoint(name="p", value="math:pi", group=GROUP), plugin="p")
    missing = metadata.EntryPoint(name="p", value="crmlifecycle_no_such_module:X", group=GROUP)
    with pytest.raises(PluginError, match=r"plugin 'p': importing .* Hint: reinstall") as info:
        _plugins.load(missing, plugin="p")
    assert info.value.plugin == "p"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    no_attribute = metadata.EntryPoint(name="q", value="math:no_such_name", group=GROUP)
    with pytest.raises(PluginError, match="AttributeError"):
        _plugins.load(no_attribute, plugin="q")


def test_both_registries_are_the_one_registry_class() -> None:
    assert isinstance(metric_registry._METRICS, Registry)
    assert isinstance(scorer_registry._SCORERS, Registry)
    metric_names = set(_plugins.discover(metric_registry.ENTRY_POINT_GROUP))
    assert metric_names <= set(metric_registry.available_metrics())
    scorer_names = set(_plugins.discover(scorer_registry.ENTRY_POINT_GROUP))
    assert scorer_names <= set(scorer_registry.available_scorers())


def _metrics(**points: str) -> Registry[Metric]:
    """A metric registry whose plugins are ``name=value [value ...]`` entry points."""
    listing = {
        name: tuple(
            metadata.EntryPoint(name=name, value=value, group=GROUP) for value in values.split()
        )
        for name, values in points.items()
    }
    return Registry[Metric](
        kind="metric",
        group=GROUP,
        builtins=lambda: {m.name: m for m in BUILTIN_METRICS},
        validate=metric_registry._validate,
        discover=lambda _group: listing,
    )


def test_a_broken_metric_plugin_is_a_plugin_error() -> None:
    registry = _metrics(broken_metric="crmlifecycle_no_such_module:Metric")
    with pytest.raises(PluginError, match="plugin 'broken_metric': importing") as info:
        registry.get("broken_metric")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_a_plugin_that_shadows_a_builtin_is_an_error_naming_both_packages() -> None:
    registry = _metrics(win_rate="crmlifecycle_example_metric:RepeatPurchaseRate")
    with pytest.raises(PluginError, match="built-in metric of crmlifecycle") as info:
        registry.get("win_rate")
    assert info.value.plugin == "win_rate"
    assert "an unknown package" in str(info.value)  # the entry point's distribution
    assert "win_rate" in registry.names()


def test_two_plugins_with_one_name_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _metrics(twice="math:pi math:e")
    packages = iter(["pkg-one", "pkg-two"])
    names = {"math:pi": next(packages), "math:e": next(packages)}
    monkeypatch.setattr("crmlifecycle._registry.package_of", lambda point: names[point.value])
    with pytest.raises(PluginError, match="pkg-one and pkg-two both publish a metric"):
        registry.get("twice")


def test_a_plugin_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _metrics(repeat_purchase_rate="crmlifecycle_example_metric:RepeatPurchaseRate")
    pytest.importorskip(
        "crmlifecycle_example_metric",
        reason="the example plugin is not installed "
        "(pip install plugins/crmlifecycle-example-metric)",
    )
    loads: list[str] = []
    real_load = _plugins.load

    def counting(point: metadata.EntryPoint, *, plugin: str) -> object:
        loads.append(plugin)
        return real_load(point, plugin=plugin)

    monkeypatch.setattr("crmlifecycle._registry.load", counting)
    first = registry.get("repeat_purchase_rate")
    assert registry.get("repeat_purchase_rate") is first
    assert loads == ["repeat_purchase_rate"]
