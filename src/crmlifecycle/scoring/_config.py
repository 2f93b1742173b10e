"""
Reading scorer configurations: the checks every scorer's ``from_dict`` shares.

Configurations are untrusted plain data (parsed by
:func:`crmlifecycle._config.load_text`); their keys are checked with the
library's one key checker (:func:`crmlifecycle._config.check_keys`) and their
values here; nothing in them is imported, evaluated or looked up by name
outside the scorer registry.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from crmlifecycle._config import check_keys
from crmlifecycle._finite import finite_float
from crmlifecycle.errors import SpecError, short_repr

#: The largest magnitude of a rule's points, a cap or a grade/label threshold (the range of
#: ``Lead.score``): totals of bounded points stay finite however many rules and interactions add up.
MAX_POINTS: Final = 10**9

__all__ = [
    "MAX_POINTS",
    "as_list",
    "check_number",
    "check_text",
    "scorer_settings",
    "thresholds",
]


def scorer_settings(
    data: object,
    *,
    scorer: str,
    required: Collection[str] = (),
    optional: Collection[str] = (),
) -> dict[str, Any]:
    """
    Check a scorer's configuration and return its settings (without the ``scorer`` key).

    The ``scorer`` key is optional; when present it must name ``scorer``.

    Raises:
        SpecError: an unknown or missing key, or a configuration of another scorer type.

    Examples:
        >>> scorer_settings({"scorer": "rfm", "monetary": "sum"}, scorer="rfm",
        ...                 optional=["monetary"])
        {'monetary': 'sum'}
        >>> scorer_settings({"scorer": "points"}, scorer="rfm")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: scorer: this configuration is for scorer 'points', not ...
    """
    config = check_keys(data, required=required, optional=["scorer", *optional])
    named = config.get("scorer", scorer)
    if named != scorer:
        raise SpecError(
            f"this configuration is for scorer {short_repr(named)}, not {scorer!r}. Hint: build it "
            "with build_scorer(...), which picks the scorer its 'scorer' key names.",
            path="scorer",
        )
    return {key: value for key, value in config.items() if key != "scorer"}


def check_number(
    value: object,
    *,
    path: str,
    minimum: float | None = None,
    positive: bool = False,
    bound: float | None = None,
) -> float:
    """
    Return ``value`` as a finite float, or raise :class:`SpecError` naming ``path``.

    ``bound`` (when given) is the largest magnitude allowed (``-bound <= value <= bound``).
    An integer too large for a float is refused, never an ``OverflowError``.

    Examples:
        >>> check_number(14, path="half_life_days", positive=True)
        14.0
        >>> check_number(-1, path="half_life_days", positive=True)
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: half_life_days: must be a number > 0 (got -1). Hint: ...
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    converted = finite_float(value) if ok else None
    if ok and converted is None and not (isinstance(value, float) and math.isnan(value)):
        raise SpecError(
            f"must be a finite number (got {short_repr(value)}). Hint: use a number.", path=path
        )
    number = math.nan if converted is None else converted
    if positive and not number > 0:
        raise SpecError(
            f"must be a number > 0 (got {short_repr(value)}). Hint: use a positive number.",
            path=path,
        )
    if minimum is not None and not number >= minimum:
        raise SpecError(
            f"must be a number >= {minimum:g} (got {short_repr(value)}). Hint: use a number "
            f">= {minimum:g}.",
            path=path,
        )
    if not math.isfinite(number):
        raise SpecError(
            f"must be a finite number (got {short_repr(value)}). Hint: use a number.", path=path
        )
    if bound is not None and abs(number) > bound:
        raise SpecError(
            f"must be a number from {-bound:g} to {bound:g} (got {short_repr(value)}). "
            "Hint: scale the points down; scores are bounded like Lead.score.",
            path=path,
        )
    return number


def check_text(value: object, *, path: str) -> str:
    """
    Return ``value`` if it is a non-empty string, else raise :class:`SpecError`.

    Examples:
        >>> check_text("A", path="grades")
        'A'
    """
    if not isinstance(value, str) or not value.strip():
        raise SpecError(
            f"must be a non-empty string (got {short_repr(value)}). Hint: give it a name.",
            path=path,
        )
    return value


def thresholds(value: object, *, path: str) -> tuple[tuple[str, float], ...]:
    """
    Read a ``{name: minimum score}`` mapping, sorted from the highest minimum down.

    Examples:
        >>> thresholds({"B": 50, "A": 80}, path="grades")
        (('A', 80.0), ('B', 50.0))
    """
    mapping = check_keys(value, optional=value if isinstance(value, Mapping) else (), path=path)
    pairs = [
        (check_text(name, path=path), check_number(low, path=f"{path}.{name}", bound=MAX_POINTS))
        for name, low in mapping.items()
    ]
    lows = [low for _, low in pairs]
    if len(set(lows)) != len(lows):
        raise SpecError(
            f"two names share the same minimum ({lows}). Hint: give each a distinct minimum.",
            path=path,
        )
    return tuple(sorted(pairs, key=lambda p: -p[1]))


def as_list(value: object, *, path: str) -> Sequence[Any]:
    """
    Return ``value`` if it is a list or tuple, else raise :class:`SpecError`.

    Examples:
        >>> as_list([1], path="fit")
        [1]
    """
    if not isinstance(value, list | tuple):
        raise SpecError(
            f"expected a list, got {type(value).__name__}. Hint: write it as [ ... ].", path=path
        )
    return value
