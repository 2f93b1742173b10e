"""
The configuration core: read JSON or YAML text, check a mapping's keys, the trio protocol.

Every configurable type of the library (lifecycles, rule sets, scorers, SLA
policies) reads and writes its configuration the same way:

* ``from_dict(data)`` builds it from plain data (a parsed document);
* ``from_text(text)`` parses JSON or YAML text with :func:`load_text` and
  calls ``from_dict``;
* ``to_dict()`` returns plain data that ``from_dict`` reads back to an equal object.

:class:`Configurable` spells the trio out for type checkers. Configuration is
untrusted text: :func:`load_text` parses it into plain data only (YAML through
the bounded, alias-free loader of :mod:`crmlifecycle._yaml`), and
:func:`check_keys` is the one key checker every loader uses, so an unknown key,
a missing key or a wrong container reads the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Final, Protocol, Self, runtime_checkable

from crmlifecycle._yaml import MAX_YAML_CHARS, MAX_YAML_DEPTH, load_yaml
from crmlifecycle.errors import SpecError, did_you_mean

__all__ = ["MAX_TEXT_CHARS", "MAX_TEXT_DEPTH", "Configurable", "check_keys", "load_text"]

#: The largest configuration text :func:`load_text` parses, in characters.
MAX_TEXT_CHARS: Final = MAX_YAML_CHARS
#: The deepest nesting of lists and mappings :func:`load_text` accepts.
MAX_TEXT_DEPTH: Final = MAX_YAML_DEPTH


@runtime_checkable
class Configurable(Protocol):
    """
    A type whose configuration is plain data: ``from_dict``, ``from_text``, ``to_dict``.

    ``type(x).from_dict(x.to_dict()) == x`` holds for every configurable object ``x``
    (the round-trip law the tests check). ``from_dict`` and ``from_text`` may take
    extra keyword-only options (a rule set's ``schema``, a lifecycle's ``hooks``).

    Examples:
        >>> from crmlifecycle.rules import RuleSet
        >>> isinstance(RuleSet.from_text("rules: []"), Configurable)
        True
    """

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], /) -> Self:
        """Build the object from plain data."""
        ...  # pragma: no cover - a protocol

    @classmethod
    def from_text(cls, text: str, /) -> Self:
        """Build the object from JSON or YAML text."""
        ...  # pragma: no cover - a protocol

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data that ``from_dict`` reads back."""
        ...  # pragma: no cover - a protocol


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def check_keys(
    mapping: object,
    *,
    required: Collection[str] = (),
    optional: Collection[str] = (),
    path: str = "",
) -> Mapping[str, Any]:
    """
    Check that ``mapping`` is a mapping with all ``required`` keys and else only ``optional`` ones.

    The one key checker of every configuration loader: one wording for a wrong
    container, an unknown key (with a did-you-mean) and a missing required key.

    Args:
        mapping: the value read from the document (anything: it is untrusted).
        required: keys that must be present.
        optional: keys that may be present.
        path: where ``mapping`` sits in the document (``"rules[2].when"``), ``""`` at the top.

    Returns:
        ``mapping``, typed as a mapping of settings.

    Raises:
        SpecError: ``path`` names the place (``rules[2].when.kidn``).

    Examples:
        >>> check_keys({"points": 3}, required=["points"], optional=["when"], path="fit[0]")
        {'points': 3}
        >>> check_keys({"pionts": 3}, optional=["points", "when"], path="fit[0]")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: fit[0].pionts: unknown key 'pionts' (did you mean ...
        >>> check_keys({}, required=["name"], path="states[0]")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: states[0].name: missing required key 'name'. Hint: ...
        >>> check_keys(["a"], optional=["name"], path="states[0]")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: states[0]: expected a mapping (got list). Hint: ...
    """
    allowed = list(dict.fromkeys([*required, *optional]))
    if not isinstance(mapping, Mapping):
        raise SpecError(
            f"expected a mapping (got {type(mapping).__name__}). "
            f"Hint: write it as key: value pairs with keys from {sorted(allowed)}.",
            path=path,
        )
    for key in mapping:
        if key not in allowed:
            raise SpecError(
                f"unknown key {key!r}{did_you_mean(str(key), allowed)}. "
                f"Hint: the keys allowed here are {sorted(allowed)}.",
                path=_join(path, key),
            )
    for key in required:
        if key not in mapping:
            raise SpecError(
                f"missing required key {key!r}. Hint: add {key}: ... here.",
                path=_join(path, key),
            )
    return mapping


def _depth_exceeds(document: object, limit: int) -> bool:
    """Whether ``document`` nests lists and mappings deeper than ``limit`` (iteratively)."""
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep(what: str) -> SpecError:
    return SpecError(
        f"JSON in {what} nested deeper than {MAX_TEXT_DEPTH} levels. "
        "Hint: configuration is never this deep; flatten the document."
    )


def load_text(text: str, *, what: str = "the document") -> Any:
    r"""
    Parse configuration text, JSON or YAML, into plain data.

    Text that starts with ``{`` or ``[`` (after blank space) is JSON; anything
    else is YAML, read by the bounded loader (safe tags only, no anchors or aliases, at most
    :data:`MAX_TEXT_CHARS` characters and :data:`MAX_TEXT_DEPTH` levels).

    Args:
        text: the document.
        what: what the document is, for error messages (``"a rule set"``).

    Returns:
        The parsed document (usually a dict).

    Raises:
        SpecError: the text is empty, too large, too deep, or not valid JSON/YAML
            (the message gives the line and column).
        MissingDependencyError: YAML text without pyyaml installed (the ``yaml`` extra).

    Examples:
        >>> load_text('{"rules": []}')
        {'rules': []}
        >>> load_text("rules: []\nversion: 1")
        {'rules': [], 'version': 1}
        >>> load_text('{"rules": [}', what="a rule set")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: invalid JSON at line 1, column 12 of a rule set: ...
    """
    if not isinstance(text, str):
        raise SpecError(
            f"{what} must be text (got {type(text).__name__}). "
            "Hint: pass the JSON or YAML as a string; use from_dict for parsed data."
        )
    if len(text) > MAX_TEXT_CHARS:
        raise SpecError(
            f"{what} has {len(text):,} characters, more than {MAX_TEXT_CHARS:,}. "
            "Hint: configuration this large is a mistake or an attack; split it."
        )
    stripped = text.strip()
    if not stripped:
        raise SpecError(f"{what} is empty. Hint: write the configuration as JSON or YAML.")
    if stripped[0] not in "{[":
        return load_yaml(text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError(
            f"invalid JSON at line {err.lineno}, column {err.colno} of {what}: {err.msg}. "
            "Hint: check quotes, commas and brackets."
        ) from err
    except RecursionError as err:
        raise _too_deep(what) from err
    if _depth_exceeds(document, MAX_TEXT_DEPTH):
        raise _too_deep(what)
    return document
