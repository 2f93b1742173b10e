"""The entry-point discovery shared by the metric and scorer registries."""

from __future__ import annotations

from importlib import metadata

import pytest

from crmlifecycle import _plugins
from crmlifecycle.errors import PluginError
from crmlifecycle.metrics import _registry as metric_registry
from crmlifecycle.scoring import _registry as scorer_registry

GROUP = "crmlifecycle.test_only_group"


def test_discover_lists_a_group_once_and_the_first_name_wins(
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
        assert dict(points) == {"dup": first, "other": other}
        assert _plugins.discover(GROUP) is points
        assert calls == [GROUP]  # listed once per process
        with pytest.raises(TypeError):
            points["new"] = other  # type: ignore[index]  # callers cannot change the cache
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


def test_both_registries_discover_through_the_shared_module() -> None:
    metric_names = set(_plugins.discover(metric_registry.ENTRY_POINT_GROUP))
    assert metric_names <= set(metric_registry.available_metrics())
    scorer_names = set(_plugins.discover(scorer_registry.ENTRY_POINT_GROUP))
    # a plugin cannot shadow a built-in scorer; every other name is available
    assert scorer_names - {"naive_bayes", "points", "rfm"} <= set(
        scorer_registry.available_scorers()
    )


def test_a_broken_metric_plugin_is_a_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = metadata.EntryPoint(
        name="broken_metric", value="crmlifecycle_no_such_module:Metric", group=GROUP
    )
    monkeypatch.setattr(metric_registry, "_entry_points", lambda: {"broken_metric": broken})
    metric_registry._load_plugin.cache_clear()
    try:
        with pytest.raises(PluginError, match="plugin 'broken_metric': importing") as info:
            metric_registry.get_metric("broken_metric")
        assert isinstance(info.value.__cause__, ModuleNotFoundError)
    finally:
        metric_registry._load_plugin.cache_clear()
