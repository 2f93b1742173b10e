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
import math
import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any, Final, Protocol, Self, runtime_checkable

from crmlifecycle._yaml import (
    MAX_NUMBER_DIGITS,
    MAX_YAML_CHARS,
    MAX_YAML_DEPTH,
    load_yaml,
    short_repr,
)
from crmlifecycle.errors import SpecError, did_you_mean

__all__ = [
    "MAX_NUMBER_DIGITS",
    "MAX_TEXT_CHARS",
    "MAX_TEXT_DEPTH",
    "Configurable",
    "check_keys",
    "load_json",
    "load_text",
]

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


_JSON_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET: Final = re.compile(r"[\[\]{}]")


def _json_too_deep(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests brackets deeper than ``limit``, scanned before parsing."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _too_deep(what: str) -> SpecError:
    return SpecError(
        f"JSON in {what} nested deeper than {MAX_TEXT_DEPTH} levels. "
        "Hint: configuration is never this deep; flatten the document."
    )


def _where(text: str, literal: str) -> str:
    index = text.find(literal)
    if index < 0:  # pragma: no cover - the parser only hands over literals of the text
        return ""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f" at line {line}, column {column}"


def _bad_number(text: str, literal: str, what: str, reason: str) -> SpecError:
    shown = literal if len(literal) <= 20 else f"{literal[:20]}..."  # noqa: PLR2004
    return SpecError(
        f"the number {shown}{_where(text, literal)} of {what} {reason}. "
        f"Hint: numbers in a document are finite with at most {MAX_NUMBER_DIGITS} characters; "
        "write large or exact values as text."
    )


class _UniqueKeys:
    """The JSON parser's object hook: a mapping naming a key twice is refused."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _duplicate_key(key, self.what)
            out[key] = value
        return out


def _duplicate_key(key: object, what: str) -> SpecError:
    return SpecError(
        f"the key {short_repr(key)} appears twice in one mapping of {what}. "
        "Hint: a parser would keep only the last one silently; write each key once."
    )


def _plain(value: object, path: str, depth: int = 0) -> Any:
    """
    YAML data in JSON's data model: text keys, and a date or time as its ISO 8601 text.

    YAML's safe tags make values JSON cannot (``!!binary`` bytes, ``!!set`` sets,
    ``!!omap``/``!!pairs`` lists of tuples, unquoted dates and timestamps, ``null``
    or date keys), so the same document would read differently as JSON and as YAML.
    Integer keys are kept (``{1: ...}`` is the natural way to write a table by number).
    """
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            where = _join(path, key)
            if isinstance(key, date):
                key = key.isoformat()  # noqa: PLW2901 - the key as JSON would have it
            elif not isinstance(key, str | int) or isinstance(key, bool):
                raise SpecError(
                    f"a key of {short_repr(key)} ({type(key).__name__}) is not text. "
                    "Hint: quote the key.",
                    path=path,
                )
            out[key] = _plain(item, where, depth + 1)
        return out
    if isinstance(value, list):
        return [_plain(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, date):  # datetime too: YAML's unquoted dates and timestamps
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    raise SpecError(
        f"a {type(value).__name__} value ({short_repr(value)}) is not plain data. "
        "Hint: configuration is text, numbers, booleans, lists and mappings; drop the YAML tag.",
        path=path,
    )


def _check_text(text: object, what: str) -> None:
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


def load_json(text: str, *, what: str = "the document") -> Any:
    r"""
    Parse JSON text with the document bounds: size, depth and numbers.

    The one JSON reader of configuration, events and JSON cells of frames. The
    text has at most :data:`MAX_TEXT_CHARS` characters; brackets nest at most
    :data:`MAX_TEXT_DEPTH` levels (checked by a scan before the parser recurses);
    every number is written in at most :data:`MAX_NUMBER_DIGITS` characters and is
    finite (``NaN``, ``Infinity`` and ``1e999`` are refused); an object names each key
    once.

    Args:
        text: the JSON text.
        what: what the document is, for error messages (``"an event"``).

    Returns:
        The parsed document.

    Raises:
        SpecError: the text is not text, too large, too deep, holds an unbounded
            number or a key twice in one object, or is not valid JSON (the message gives
            the line and column).

    Examples:
        >>> load_json('{"points": 3, "weight": 0.5}')
        {'points': 3, 'weight': 0.5}
        >>> load_json('{"points": NaN}', what="a scorer")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: the number NaN at line 1, column 12 of a scorer is not ...
    """
    _check_text(text, what)
    if _json_too_deep(text, MAX_TEXT_DEPTH):
        raise _too_deep(what)

    def parse_int(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS:
            raise _bad_number(text, literal, what, f"has more than {MAX_NUMBER_DIGITS} digits")
        return int(literal)

    def parse_float(literal: str) -> float:
        if len(literal) > MAX_NUMBER_DIGITS:
            raise _bad_number(text, literal, what, f"has more than {MAX_NUMBER_DIGITS} digits")
        value = float(literal)
        if not math.isfinite(value):
            raise _bad_number(text, literal, what, "is not finite")
        return value

    def parse_constant(literal: str) -> float:
        raise _bad_number(text, literal, what, "is not finite")

    try:
        return json.loads(
            text,
            parse_int=parse_int,
            parse_float=parse_float,
            parse_constant=parse_constant,
            object_pairs_hook=_UniqueKeys(what),
        )
    except json.JSONDecodeError as err:
        raise SpecError(
            f"invalid JSON at line {err.lineno}, column {err.colno} of {what}: {err.msg}. "
            "Hint: check quotes, commas and brackets."
        ) from err
    except RecursionError as err:  # pragma: no cover - the scan refuses deep text first
        raise _too_deep(what) from err


def load_text(text: str, *, what: str = "the document") -> Any:
    r"""
    Parse configuration text, JSON or YAML, into plain data.

    Text that starts with ``{`` or ``[`` (after blank space) is JSON; anything
    else is YAML, read by the bounded loader (safe tags only, no anchors or aliases, at most
    :data:`MAX_TEXT_CHARS` characters and :data:`MAX_TEXT_DEPTH` levels). YAML gives
    JSON's data model: an unquoted date or timestamp becomes its ISO 8601 text, and a
    value JSON cannot hold (``!!binary``, ``!!set``, ``!!omap``) or a key that is not
    text or an integer (``~``, ``true``) is refused. A JSON object naming a key twice is
    refused (a parser would keep the last one silently).

    Args:
        text: the document.
        what: what the document is, for error messages (``"a rule set"``).

    Returns:
        The parsed document (usually a dict).

    Raises:
        SpecError: the text is empty, too large, too deep, not valid JSON/YAML (the
            message gives the line and column), names a key twice in one mapping (JSON
            or YAML), uses YAML merge keys (``<<``), or holds YAML data JSON cannot
            (bytes, sets, pairs, a key that is not text).
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
    _check_text(text, what)
    stripped = text.strip()
    if not stripped:
        raise SpecError(f"{what} is empty. Hint: write the configuration as JSON or YAML.")
    if stripped[0] not in "{[":
        return _plain(load_yaml(text), "")
    return load_json(text, what=what)
