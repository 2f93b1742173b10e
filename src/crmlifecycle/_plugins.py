"""
Entry-point discovery and loading behind :class:`crmlifecycle._registry.Registry`.

Installed packages publish plugins in an entry-point group
(``crmlifecycle.scorers``, ``crmlifecycle.metrics``). A group is listed lazily,
once per process (``functools.cache``), without importing anything; every entry
point of a name is kept, so the registry can refuse a name two packages claim.
A plugin is imported only when it is first asked for, and a failing import is a
:class:`~crmlifecycle.errors.PluginError` naming the plugin and the package that
installed it. What a loaded object must be (a scorer class, a metric) is checked
by the registry that asked for it.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from importlib import metadata

from crmlifecycle.errors import PluginError

__all__ = ["discover", "load", "package_of"]


@functools.cache
def discover(group: str) -> Mapping[str, tuple[metadata.EntryPoint, ...]]:
    """
    Return the entry points of ``group`` by name, listed once per process; nothing is imported.

    A name two installed packages use maps to both entry points (in listing order).

    Examples:
        >>> points = discover("crmlifecycle.no_such_group")
        >>> dict(points)
        {}
        >>> discover("crmlifecycle.no_such_group") is points
        True
    """
    found: dict[str, tuple[metadata.EntryPoint, ...]] = {}
    for point in metadata.entry_points(group=group):
        found[point.name] = (*found.get(point.name, ()), point)
    return types.MappingProxyType(found)


def package_of(point: metadata.EntryPoint) -> str:
    """
    Return the name of the distribution that installed ``point``.

    Examples:
        >>> from importlib import metadata
        >>> package_of(metadata.EntryPoint(name="x", value="m:f", group="g"))
        'an unknown package'
    """
    return point.dist.name if point.dist is not None else "an unknown package"


def load(point: metadata.EntryPoint, *, plugin: str) -> object:
    """
    Import the object ``point`` names; any failure is a :class:`PluginError` naming ``plugin``.

    Examples:
        >>> from importlib import metadata
        >>> load(metadata.EntryPoint(name="x", value="math:pi", group="g"), plugin="x")
        3.141592653589793
        >>> load(metadata.EntryPoint(name="x", value="no_such_mod:f", group="g"), plugin="x")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin 'x': importing 'no_such_mod:f' from ...
    """
    try:
        loaded: object = point.load()
    except Exception as err:
        package = package_of(point)
        raise PluginError(
            f"importing {point.value!r} from {package} failed ({type(err).__name__}: {err}). "
            f"Hint: reinstall or uninstall {package}.",
            plugin=plugin,
        ) from err
    return loaded
