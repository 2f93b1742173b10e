"""
One registry class behind the metric and scorer registries.

A :class:`Registry` holds the items of one kind (metrics, scorer classes) from
three sources: the library's built-ins, registrations made in code, and plugins
that installed packages publish in one entry-point group. Entry points are
listed once per process and a plugin is imported when its name is first asked
for, then kept. Every item is validated when it is registered or loaded.

One rule refuses duplicates: a name belongs to exactly one owner. A plugin or
a registration that reuses the name of a built-in, a registration that reuses a
plugin's name, and two installed packages publishing the same name are all a
:class:`~crmlifecycle.errors.PluginError` that names both owners; only
``replace=True`` lets code replace its own earlier registration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Final, Generic, TypeVar, final

from crmlifecycle._plugins import discover, load, package_of
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import PluginError, ValidationError, did_you_mean

__all__ = ["CODE_OWNER", "Registry"]

T = TypeVar("T")

#: How messages name an item registered in code (after "a" or "an earlier").
CODE_OWNER: Final = "registration in code"

Discover = Callable[[str], Mapping[str, Sequence[metadata.EntryPoint]]]
Validate = Callable[[str, object], T]


def _packages(points: Sequence[metadata.EntryPoint]) -> list[str]:
    """The distinct packages that publish ``points``, in listing order."""
    return list(dict.fromkeys(package_of(p) for p in points))


@final
class Registry(Generic[T]):
    """
    Built-in, registered and plugged-in items of one kind, by name.

    Args:
        kind: what the items are, for messages (``"metric"``, ``"scorer"``).
        group: the entry-point group plugins publish items in.
        builtins: returns the built-in items by name (called once, when first needed).
        validate: ``validate(name, obj)`` returns ``obj`` as an item or raises
            :class:`~crmlifecycle.errors.PluginError` naming the plugin.
        discover: lists a group's entry points by name (default: once per process).

    Examples:
        >>> def validate(name: str, obj: object) -> int:
        ...     if not isinstance(obj, int):
        ...         raise PluginError("not a number.", plugin=name)
        ...     return obj
        >>> numbers = Registry(kind="number", group="crmlifecycle.no_such_group",
        ...                    builtins=lambda: {"one": 1}, validate=validate)
        >>> numbers.register(2, name="two")
        >>> numbers.names(), numbers.get("two")
        (['one', 'two'], 2)
        >>> numbers.register(11, name="one")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin 'one': a registration in code registers a number ...
    """

    def __init__(
        self,
        *,
        kind: str,
        group: str,
        builtins: Callable[[], Mapping[str, T]],
        validate: Validate[T],
        discover: Discover = discover,
    ) -> None:
        self.kind = kind
        self.group = group
        self._builtins = builtins
        self._validate = validate
        self._discover = discover
        self._registered: dict[str, T] = {}
        self._loaded: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"<Registry of {self.kind}s, entry points {self.group!r}>"

    @functools.cached_property
    def builtins(self) -> Mapping[str, T]:
        """The built-in items by name, in the library's order."""
        return dict(self._builtins())

    def _points(self, name: str) -> list[metadata.EntryPoint]:
        points = self._discover(self.group).get(name, ())
        seen: dict[tuple[str, str], metadata.EntryPoint] = {}
        for point in points:  # one package listed twice on sys.path is one owner
            seen.setdefault((package_of(point), point.value), point)
        return list(seen.values())

    def register(self, item: object, *, name: str, replace: bool = False) -> None:
        """
        Validate ``item`` and register it under ``name`` in this process.

        Args:
            item: what to register (validated first).
            name: its name.
            replace: replace an earlier registration of ``name`` made in code.

        Raises:
            PluginError: the item is invalid, or the name belongs to a built-in,
                to an installed plugin, or (without ``replace``) to an earlier registration.
        """
        if not name:
            raise PluginError(
                f"a {self.kind} needs a non-empty string name (got {name!r}). "
                "Hint: give it a name attribute.",
                plugin=str(name),
            )
        validated = self._validate(name, item)
        points = self._points(name)
        if name in self.builtins:
            clash, hint = (
                f"the name of a built-in {self.kind} of crmlifecycle",
                "choose another name",
            )
        elif points:
            package = _packages(points)[0]
            clash = f"a name the installed package {package} publishes"
            hint = f"choose another name, or uninstall {package}"
        elif name in self._registered and not replace:
            clash = f"a name an earlier {CODE_OWNER} took"
            hint = "choose another name, or pass replace=True to replace your registration"
        else:
            self._registered[name] = validated
            return
        raise PluginError(
            f"a {CODE_OWNER} registers a {self.kind} under {name!r}, {clash}. Hint: {hint}.",
            plugin=name,
        )

    def names(self) -> list[str]:
        """Return the built-in names (in the library's order), then the others sorted."""
        others = (set(self._registered) | set(self._discover(self.group))) - set(self.builtins)
        return [*self.builtins, *sorted(others)]

    def get(self, name: str) -> T:
        """
        Return the item registered as ``name``.

        Raises:
            ValidationError: no item has that name (with a did-you-mean).
            PluginError: an installed package publishes a built-in's name, two
                packages publish the name, or the plugin fails to load or validate.
        """
        check_arg("name", name, str, f"a {self.kind} name (a str)")
        points = self._points(name)
        packages = _packages(points)
        if name in self.builtins:
            if points:
                raise PluginError(
                    f"the installed package {packages[0]} publishes a {self.kind} under the "
                    f"name of a built-in {self.kind} of crmlifecycle. Hint: uninstall "
                    f"{packages[0]} or rename its entry point in group {self.group!r}.",
                    plugin=name,
                )
            return self.builtins[name]
        if name in self._registered:
            return self._registered[name]
        if len(packages) > 1:
            raise PluginError(
                f"the installed packages {' and '.join(packages)} both publish a {self.kind} "
                f"under this name. Hint: uninstall one of them.",
                plugin=name,
            )
        if points:
            if name not in self._loaded:
                self._loaded[name] = self._validate(name, load(points[0], plugin=name))
            return self._loaded[name]
        names = self.names()
        raise ValidationError.for_field(
            "name",
            name,
            f"a registered {self.kind}{did_you_mean(str(name), names)}",
            hint=f"available {self.kind}s are {names}.",
        )
