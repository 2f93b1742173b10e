"""
The scorer registry: built-in scorers by name, and scorers from other packages.

Other installed packages publish scorers in the ``crmlifecycle.scorers``
entry-point group; the object an entry point names is a *factory* (usually the
scorer class) called with the configuration as keyword arguments. Entry points
are listed lazily, once per process (``functools.cache``), and a plugin is
imported only when its name is first asked for. Each factory is validated when
it is registered or loaded, and a bad one raises :class:`PluginError` naming the
plugin.
"""

from __future__ import annotations

import functools
import inspect
import pathlib
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any, Final

from crmlifecycle._plugins import discover, load
from crmlifecycle.errors import PluginError, SpecError, did_you_mean
from crmlifecycle.scoring._config import Format, dumps, loads
from crmlifecycle.scoring._protocol import Scorer

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_scorers",
    "dump_scorer",
    "get_scorer",
    "load_scorer",
    "register_scorer",
    "scorer_from_config",
]

#: The entry-point group other packages register scorers in.
ENTRY_POINT_GROUP: Final = "crmlifecycle.scorers"

ScorerFactory = Callable[..., Scorer]

_REQUIRED_METHODS: Final = ("score", "score_frame", "to_config")
_registered: dict[str, ScorerFactory] = {}


def _builtins() -> dict[str, ScorerFactory]:
    from crmlifecycle.scoring._points import PointsScorer
    from crmlifecycle.scoring._predictive import NaiveBayesScorer
    from crmlifecycle.scoring._rfm import RfmScorer

    def points(**config: Any) -> Scorer:  # noqa: ANN401 - configs are plain data
        return PointsScorer.from_config(config)

    def rfm(**config: Any) -> Scorer:  # noqa: ANN401 - configs are plain data
        return RfmScorer.from_config(config)

    def naive_bayes(**config: Any) -> Scorer:  # noqa: ANN401 - configs are plain data
        return NaiveBayesScorer.from_config(config)

    return {"naive_bayes": naive_bayes, "points": points, "rfm": rfm}


_BUILTIN_NAMES: Final = frozenset({"naive_bayes", "points", "rfm"})


def _validate_factory(name: str, factory: object) -> ScorerFactory:
    """Check a factory (a class or a callable) before it is registered."""
    candidate: Any = factory  # untrusted: whatever a plugin's entry point names
    if not callable(candidate):
        raise PluginError(
            f"expected a scorer class or factory callable, got {type(factory).__name__}. "
            "Hint: point the entry point at the scorer class.",
            plugin=name,
        )
    if inspect.isclass(candidate):
        for method in _REQUIRED_METHODS:
            if not callable(getattr(candidate, method, None)):
                raise PluginError(
                    f"class {candidate.__qualname__} has no method {method}(). "
                    "Hint: implement score(record, *, as_of), score_frame(frame, *, as_of) and "
                    "to_config() (see crmlifecycle.scoring.Scorer).",
                    plugin=name,
                )
        for method in ("score", "score_frame"):
            label = f"{candidate.__qualname__}.{method}"
            _check_at_keyword(name, getattr(candidate, method), label)
    validated: ScorerFactory = candidate
    return validated


def _check_at_keyword(name: str, method: Callable[..., object], label: str) -> None:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    as_of = signature.parameters.get("as_of")
    has_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    if as_of is None and not has_kwargs:
        raise PluginError(
            f"{label}{signature} does not accept the keyword argument 'as_of'. "
            "Hint: the protocol is score(record, *, as_of) and score_frame(frame, *, as_of).",
            plugin=name,
        )


def _check_instance(name: str, scorer: object) -> Scorer:
    if not isinstance(scorer, Scorer):
        missing = [m for m in ("name", *_REQUIRED_METHODS) if not hasattr(scorer, m)]
        raise PluginError(
            f"its factory returned {type(scorer).__name__}, which is not a Scorer "
            f"(missing {missing}). Hint: see crmlifecycle.scoring.Scorer.",
            plugin=name,
        )
    for method in ("score", "score_frame"):
        _check_at_keyword(name, getattr(scorer, method), f"{type(scorer).__qualname__}.{method}")
    return scorer


def register_scorer(name: str, factory: ScorerFactory, *, replace: bool = False) -> None:
    """
    Register a scorer factory (usually the class) under ``name``, in this process.

    Args:
        name: the name :func:`get_scorer` will know it by.
        factory: called with the configuration as keyword arguments; must return a
            :class:`~crmlifecycle.scoring.Scorer`.
        replace: allow replacing an earlier registration of the same name.

    Raises:
        PluginError: the factory is not a valid scorer, or the name is taken.

    Examples:
        >>> from crmlifecycle.scoring import RfmScorer
        >>> register_scorer("my_rfm", RfmScorer, replace=True)
        >>> "my_rfm" in available_scorers()
        True
        >>> register_scorer("bad", object())
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin 'bad': expected a scorer class or factory ...
    """
    if not name:
        raise PluginError("a scorer needs a non-empty name. Hint: pass a string.", plugin=str(name))
    if not replace and (name in _registered or name in _BUILTIN_NAMES):
        raise PluginError(
            "this name is already registered. Hint: choose another name or pass replace=True.",
            plugin=name,
        )
    _registered[name] = _validate_factory(name, factory)


@functools.cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    """List the entry points of the group once per process (nothing is imported yet)."""
    # a plugin cannot shadow a built-in scorer; it stays reachable by module
    points = discover(ENTRY_POINT_GROUP)
    return {name: point for name, point in points.items() if name not in _BUILTIN_NAMES}


@functools.cache
def _load_plugin(name: str) -> ScorerFactory:
    """Import and validate one plugin (once); errors name the plugin and its package."""
    return _validate_factory(name, load(_entry_points()[name], plugin=name))


def available_scorers() -> list[str]:
    """
    Return the sorted names of the built-in, registered and installed scorers.

    Examples:
        >>> {"naive_bayes", "points", "rfm"} <= set(available_scorers())
        True
    """
    return sorted(_BUILTIN_NAMES | set(_registered) | set(_entry_points()))


def get_scorer(name: str, **config: Any) -> Scorer:  # noqa: ANN401 - configs are plain data
    """
    Build the scorer registered as ``name`` with its configuration.

    Built-ins come first, then scorers registered with :func:`register_scorer`, then
    scorers installed by other packages (``crmlifecycle.scorers`` entry points).

    Raises:
        SpecError: no scorer has that name (with a did-you-mean).
        PluginError: the plugin cannot be imported or does not give a Scorer.

    Examples:
        >>> get_scorer("rfm", monetary="mean").to_config()["monetary"]
        'mean'
        >>> get_scorer("rmf")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: scorer: unknown scorer 'rmf' (did you mean 'rfm'?). ...
    """
    if name in _BUILTIN_NAMES:
        return _builtins()[name](**config)
    if name in _registered:
        factory = _registered[name]
    elif name in _entry_points():
        factory = _load_plugin(name)
    else:
        names = available_scorers()
        raise SpecError(
            f"unknown scorer {name!r}{did_you_mean(name, names)}. Hint: available are {names}.",
            path="scorer",
        )
    try:
        scorer = factory(**config)
    except TypeError as err:
        if isinstance(err, PluginError):
            raise
        raise SpecError(
            f"scorer {name!r} rejected its configuration ({err}). "
            "Hint: check the keys against the scorer's documentation.",
            path=name,
        ) from err
    return _check_instance(name, scorer)


def scorer_from_config(config: Mapping[str, Any]) -> Scorer:
    """
    Build a scorer from a plain dict whose ``scorer`` key names the type.

    Examples:
        >>> scorer_from_config({"scorer": "rfm", "monetary": "sum"}).name
        'rfm'
    """
    document: Any = config  # parsed from untrusted text: may be anything
    if not isinstance(document, Mapping) or not isinstance(document.get("scorer"), str):
        raise SpecError(
            "a scorer configuration needs a 'scorer' key naming the scorer type. "
            f"Hint: e.g. {{scorer: points, ...}}; available are {available_scorers()}.",
            path="scorer",
        )
    settings = {k: v for k, v in config.items() if k != "scorer"}
    return get_scorer(config["scorer"], **settings)


def load_scorer(source: str | pathlib.Path, *, fmt: Format | None = None) -> Scorer:
    r"""
    Build a scorer from JSON or YAML text, or from a ``.json``/``.yaml``/``.yml`` file.

    Examples:
        >>> load_scorer('{"scorer": "rfm"}').name
        'rfm'
        >>> load_scorer("scorer: rfm\nmonetary: mean", fmt="yaml").to_config()["monetary"]
        'mean'
    """
    if isinstance(source, pathlib.Path):
        text = source.read_text(encoding="utf-8")
        fmt = fmt or ("yaml" if source.suffix.lower() in {".yaml", ".yml"} else "json")
    else:
        text = source
    return scorer_from_config(loads(text, fmt=fmt or "json"))


def dump_scorer(scorer: Scorer, *, fmt: Format = "json") -> str:
    """
    Write a scorer's configuration as JSON (default) or YAML text.

    Examples:
        >>> from crmlifecycle.scoring import RfmScorer
        >>> text = dump_scorer(RfmScorer(), fmt="yaml")
        >>> load_scorer(text, fmt="yaml").to_config() == RfmScorer().to_config()
        True
    """
    return dumps(scorer.to_config(), fmt=fmt)
