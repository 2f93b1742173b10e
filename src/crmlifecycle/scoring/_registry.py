"""
The scorer registry: scorer classes by name (built-in, registered in code, from plugins).

A registered scorer is a *class* that implements :class:`~crmlifecycle.scoring.Scorer`,
including its configuration as plain data (``from_dict`` reads what ``to_dict`` writes), and
whose ``name`` is the name it is registered under, so ``to_dict()["scorer"]``
always names a type :func:`build_scorer` can find again. Other installed packages
publish scorer classes in the ``crmlifecycle.scorers`` entry-point group. The
registry is the library's one registry class (shared with the metrics): entry
points are listed once per process, a plugin is imported when its name is first
asked for, every class is validated when registered or loaded, and a name belongs
to one owner (a plugin or a registration that reuses a built-in's name is an
error naming both).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from crmlifecycle._config import load_text
from crmlifecycle._registry import Registry
from crmlifecycle.errors import (
    CrmError,
    PluginError,
    SpecError,
    ValidationError,
    did_you_mean,
    short_repr,
)
from crmlifecycle.scoring._protocol import Scorer

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_scorers",
    "build_scorer",
    "get_scorer",
    "register_scorer",
]

#: The entry-point group other packages register scorer classes in.
ENTRY_POINT_GROUP: Final = "crmlifecycle.scorers"

#: The keyword ``score`` and ``score_frame`` take the scoring time by.
TIME_KEYWORD: Final = "as_of"

_REQUIRED_METHODS: Final = ("from_dict", "to_dict", "score", "score_frame")


def _builtins() -> dict[str, type[Scorer]]:
    from crmlifecycle.scoring._points import PointsScorer
    from crmlifecycle.scoring._predictive import NaiveBayesScorer
    from crmlifecycle.scoring._rfm import RfmScorer

    return {"points": PointsScorer, "rfm": RfmScorer, "naive_bayes": NaiveBayesScorer}


def _check_time_keyword(name: str, method: Callable[..., object], label: str) -> None:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    has_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    if TIME_KEYWORD not in signature.parameters and not has_kwargs:
        raise PluginError(
            f"{label}{signature} does not accept the keyword argument {TIME_KEYWORD!r}. "
            f"Hint: the protocol is score(record, *, {TIME_KEYWORD}) and "
            f"score_frame(frame, *, {TIME_KEYWORD}).",
            plugin=name,
        )


def _validate_class(name: str, candidate: object) -> type[Scorer]:
    """Check a scorer class (a plugin's or a registration's) before it is used."""
    if not inspect.isclass(candidate):
        raise PluginError(
            f"expected a scorer class, got {type(candidate).__name__}. "
            "Hint: register (or point the entry point at) the class that implements "
            "crmlifecycle.scoring.Scorer.",
            plugin=name,
        )
    label = candidate.__qualname__
    for method in _REQUIRED_METHODS:
        if not callable(getattr(candidate, method, None)):
            raise PluginError(
                f"class {label} has no method {method}(). Hint: implement from_dict(data), "
                f"to_dict(), score(record, *, {TIME_KEYWORD}) and "
                f"score_frame(frame, *, {TIME_KEYWORD}) (see crmlifecycle.scoring.Scorer).",
                plugin=name,
            )
    for method in ("score", "score_frame"):
        _check_time_keyword(name, getattr(candidate, method), f"{label}.{method}")
    declared: object = getattr(candidate, "name", None)
    if declared != name:
        raise PluginError(
            f"class {label} is named {short_repr(declared)} but registered as {short_repr(name)}. "
            "Hint: make the class attribute name and the registered (entry-point) name the same.",
            plugin=name,
        )
    scorer_class: Any = candidate  # checked member by member above
    return cast("type[Scorer]", scorer_class)


#: The scorer classes by name: built-ins, registrations in code, ``crmlifecycle.scorers`` plugins.
_SCORERS: Final = Registry[type[Scorer]](
    kind="scorer", group=ENTRY_POINT_GROUP, builtins=_builtins, validate=_validate_class
)


def register_scorer(scorer: type[Scorer], *, replace: bool = False) -> None:
    """
    Register a scorer class in this process, under its own ``name``.

    Args:
        scorer: a class implementing :class:`~crmlifecycle.scoring.Scorer` (validated first).
        replace: replace an earlier registration of the same name made in code.

    Raises:
        PluginError: the class is not a valid scorer, or its name belongs to a built-in
            scorer, an installed plugin or (without ``replace``) an earlier registration.

    Examples:
        >>> from crmlifecycle.scoring import RfmScorer
        >>> class MonthlyRfm(RfmScorer):
        ...     name = "monthly_rfm"
        >>> register_scorer(MonthlyRfm, replace=True)
        >>> "monthly_rfm" in available_scorers()
        True
        >>> register_scorer(RfmScorer)
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin 'rfm': a registration in code registers ...
        >>> register_scorer(object())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin '': a scorer needs a non-empty string name ...
    """
    name: object = getattr(scorer, "name", None)
    _SCORERS.register(scorer, name=name if isinstance(name, str) else "", replace=replace)


def available_scorers() -> list[str]:
    """
    Return the names of the built-in scorers (in the library's order), then the others sorted.

    Examples:
        >>> available_scorers()[:3]
        ['points', 'rfm', 'naive_bayes']
    """
    return _SCORERS.names()


def get_scorer(name: str) -> type[Scorer]:
    """
    Return the scorer class registered as ``name`` (built-in, registered in code, or plugin).

    Args:
        name: the scorer's registered name (``"points"``, ``"rfm"``, ``"naive_bayes"``...).

    Raises:
        ValidationError: no scorer has that name (with a did-you-mean).
        PluginError: the plugin cannot be imported or is not a valid scorer class,
            or its name is claimed twice (by a built-in and a plugin, or by two plugins).

    Examples:
        >>> get_scorer("rfm").from_dict({"monetary": "mean"}).monetary
        'mean'
        >>> get_scorer("rmf")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'name' must be a registered scorer (did you mean ...
    """
    return _SCORERS.get(name)


def build_scorer(config: Mapping[str, Any] | str) -> Scorer:
    r"""
    Build whichever scorer a configuration names in its ``scorer`` key.

    ``config`` is plain data (a parsed document, or what a scorer's ``to_dict``
    returns) or its JSON or YAML text. The ``scorer`` key picks the class from
    the registry (:func:`get_scorer`), whose ``from_dict`` reads the rest. When
    the type is known in advance, call that class's ``from_dict``/``from_text``
    directly.

    Args:
        config: the configuration as plain data or as JSON or YAML text; its ``scorer`` key
            names the registered scorer type.

    Raises:
        SpecError: the configuration has no ``scorer`` key, names an unknown
            scorer (with a did-you-mean) or is invalid for that scorer.
        PluginError: the named plugin cannot be loaded or does not build a Scorer.

    Examples:
        >>> build_scorer({"scorer": "rfm", "monetary": "sum"}).name
        'rfm'
        >>> build_scorer("scorer: rfm\nmonetary: mean").to_dict()["monetary"]
        'mean'
        >>> build_scorer({"scorer": "rmf"})
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: scorer: unknown scorer 'rmf' (did you mean 'rfm'?). ...
    """
    document: Any = (
        load_text(config, what="a scorer configuration") if isinstance(config, str) else config
    )
    if not isinstance(document, Mapping) or not isinstance(document.get("scorer"), str):
        raise SpecError(
            "a scorer configuration needs a 'scorer' key naming the scorer type. "
            f"Hint: e.g. {{scorer: points, ...}}; available are {available_scorers()}.",
            path="scorer",
        )
    name: str = document["scorer"]
    try:
        scorer_class = get_scorer(name)
    except ValidationError:
        names = available_scorers()
        raise SpecError(
            f"unknown scorer {short_repr(name)}{did_you_mean(name, names)}. Hint: available "
            f"are {names}.",
            path="scorer",
        ) from None
    try:
        scorer: object = scorer_class.from_dict(document)
    except TypeError as err:  # a plugin's from_dict passing unknown keys on to its __init__
        if isinstance(err, CrmError):
            raise
        raise SpecError(
            f"scorer {short_repr(name)} rejected its configuration ({err}). "
            "Hint: check the keys against the scorer's documentation.",
            path="scorer",
        ) from err
    if not isinstance(scorer, Scorer):
        missing = [m for m in ("name", *_REQUIRED_METHODS) if not hasattr(scorer, m)]
        raise PluginError(
            f"its from_dict returned {type(scorer).__name__}, which is not a Scorer "
            f"(missing {missing}). Hint: see crmlifecycle.scoring.Scorer.",
            plugin=name,
        )
    return scorer
