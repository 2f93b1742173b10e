"""
Reading and writing scorer configurations (plain dicts, JSON, YAML).

Configurations are untrusted text: they are parsed with ``json.loads`` or
``yaml.safe_load`` into plain data and checked key by key; nothing in them is
imported, evaluated or looked up by name outside the scorer registry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from crmlifecycle.errors import MissingDependencyError, SpecError, did_you_mean

__all__ = [
    "Format",
    "as_list",
    "check_keys",
    "check_number",
    "check_text",
    "dumps",
    "loads",
    "thresholds",
]

Format = Literal["json", "yaml"]


def check_keys(
    config: object,
    *,
    path: str,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> Mapping[str, Any]:
    """
    Check that ``config`` is a mapping with only ``allowed`` keys and all ``required`` ones.

    Examples:
        >>> check_keys({"points": 3}, path="fit[0]", allowed=["points", "when"])
        {'points': 3}
        >>> check_keys({"pionts": 3}, path="fit[0]", allowed=["points", "when"])
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: fit[0].pionts: unknown field 'pionts' (did you mean ...

    Raises:
        SpecError: naming the path of the unknown or missing field.
    """
    if not isinstance(config, Mapping):
        raise SpecError(
            f"expected a mapping of settings, got {type(config).__name__}. "
            f"Hint: write it as {{key: value}} with keys from {sorted(allowed)}.",
            path=path,
        )
    for key in config:
        if key not in allowed:
            raise SpecError(
                f"unknown field {key!r}{did_you_mean(str(key), allowed)}. "
                f"Hint: allowed fields are {sorted(allowed)}.",
                path=f"{path}.{key}" if path else str(key),
            )
    for key in required:
        if key not in config:
            raise SpecError(
                f"missing required field {key!r}. Hint: add {key}: ... to the configuration.",
                path=f"{path}.{key}" if path else key,
            )
    return config


def check_number(
    value: object,
    *,
    path: str,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    """
    Return ``value`` as a finite float, or raise :class:`SpecError` naming ``path``.

    Examples:
        >>> check_number(14, path="half_life_days", positive=True)
        14.0
        >>> check_number(-1, path="half_life_days", positive=True)
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: half_life_days: must be a number > 0 (got -1). Hint: ...
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    if positive and not number > 0:
        raise SpecError(
            f"must be a number > 0 (got {value!r}). Hint: use a positive number.", path=path
        )
    if minimum is not None and not number >= minimum:
        raise SpecError(
            f"must be a number >= {minimum:g} (got {value!r}). Hint: use a number >= {minimum:g}.",
            path=path,
        )
    if not math.isfinite(number):
        raise SpecError(f"must be a finite number (got {value!r}). Hint: use a number.", path=path)
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
            f"must be a non-empty string (got {value!r}). Hint: give it a name.", path=path
        )
    return value


def thresholds(value: object, *, path: str) -> tuple[tuple[str, float], ...]:
    """
    Read a ``{name: minimum score}`` mapping, sorted from the highest minimum down.

    Examples:
        >>> thresholds({"B": 50, "A": 80}, path="grades")
        (('A', 80.0), ('B', 50.0))
    """
    mapping = check_keys(value, path=path, allowed=value if isinstance(value, Mapping) else ())
    pairs = [
        (check_text(name, path=path), check_number(low, path=f"{path}.{name}"))
        for name, low in mapping.items()
    ]
    lows = [low for _, low in pairs]
    if len(set(lows)) != len(lows):
        raise SpecError(
            f"two names share the same minimum ({lows}). Hint: give each a distinct minimum.",
            path=path,
        )
    return tuple(sorted(pairs, key=lambda p: -p[1]))


def dumps(config: Mapping[str, Any], *, fmt: Format = "json") -> str:
    """
    Serialise a configuration dict as JSON (default) or YAML.

    Examples:
        >>> print(dumps({"scorer": "rfm", "monetary": "sum"}))
        {
          "scorer": "rfm",
          "monetary": "sum"
        }
    """
    if fmt == "json":
        return json.dumps(config, indent=2, allow_nan=False)
    if fmt == "yaml":
        yaml = _yaml()
        text: str = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
        return text
    raise SpecError(f"unknown format {fmt!r}. Hint: use 'json' or 'yaml'.", path="format")


def loads(text: str, *, fmt: Format = "json") -> Any:  # noqa: ANN401 - parsed documents are any
    """
    Parse JSON or YAML text into plain data (YAML with ``safe_load`` only).

    Examples:
        >>> loads('{"scorer": "rfm"}')
        {'scorer': 'rfm'}
        >>> loads("scorer: rfm", fmt="yaml")
        {'scorer': 'rfm'}
    """
    if fmt == "json":
        try:
            return json.loads(text)
        except ValueError as err:
            raise SpecError(f"cannot parse the JSON text ({err}). Hint: check its syntax.") from err
    if fmt == "yaml":
        from crmlifecycle._yaml import load_yaml

        return load_yaml(text)
    raise SpecError(f"unknown format {fmt!r}. Hint: use 'json' or 'yaml'.", path="format")


def _yaml() -> Any:  # noqa: ANN401 - the yaml module
    try:
        import yaml
    except ImportError as err:  # pragma: no cover - pyyaml is installed in the test environment
        raise MissingDependencyError(
            package="yaml", extra="yaml", feature="reading and writing YAML scorer configs"
        ) from err
    return yaml


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
