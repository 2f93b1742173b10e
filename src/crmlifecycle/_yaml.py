"""
The YAML half of the configuration loader: plain data, bounded, no aliases.

Loaders do not call this module directly: :func:`crmlifecycle._config.load_text`
reads JSON or YAML and sends YAML here. Configuration is untrusted text.
``yaml.safe_load`` already refuses Python tags, but it keeps anchors and aliases, so a 500-byte
document can describe a value whose ``repr`` (in an error message) or traversal
is gigabytes long ("billion laughs"). Specs, rule sets and scorer configs never
need aliases, so the loader refuses them, and documents are capped in size.
"""

from __future__ import annotations

import functools
import math
import reprlib
from typing import Any, Final

from crmlifecycle.errors import MissingDependencyError, SpecError

#: The largest YAML document we parse, in characters.
MAX_YAML_CHARS: Final = 1_000_000
#: The deepest nesting of lists and mappings we parse (PyYAML's composer recurses per level).
MAX_YAML_DEPTH: Final = 100
#: The most characters a number in a document (JSON or YAML) may be written in.
MAX_NUMBER_DIGITS: Final = 40

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = 6
_SHORT.maxdict = 6
_SHORT.maxlevel = 3


def short_repr(value: object) -> str:
    """
    A bounded ``repr`` for error messages about configuration values.

    Examples:
        >>> short_repr(list(range(100)))
        '[0, 1, 2, 3, 4, 5, ...]'
    """
    return _SHORT.repr(value)


@functools.cache
def _loader() -> Any:
    try:
        import yaml
    except ImportError as err:
        raise MissingDependencyError(
            package="pyyaml", extra="yaml", feature="reading YAML configuration"
        ) from err

    class NoAliasSafeLoader(yaml.SafeLoader):
        """``SafeLoader`` that refuses anchors and aliases, and nesting past ``MAX_YAML_DEPTH``."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SpecError(
                    f"YAML anchors and aliases are not allowed (line {mark.line + 1}, "
                    f"column {mark.column + 1}). Hint: write the value out in full."
                )
            if self.depth >= MAX_YAML_DEPTH:
                raise SpecError(
                    f"YAML nested deeper than {MAX_YAML_DEPTH} levels (line {mark.line + 1}, "
                    f"column {mark.column + 1}). Hint: configuration is never this deep; "
                    "flatten the document."
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_bounded_int(self, node: Any) -> Any:
            _check_number(node, "has more than {MAX_NUMBER_DIGITS} digits")
            return self.construct_yaml_int(node)

        def construct_bounded_float(self, node: Any) -> Any:
            _check_number(node, "has more than {MAX_NUMBER_DIGITS} digits")
            value = self.construct_yaml_float(node)
            if not math.isfinite(value):
                _refuse_number(node, "is not finite")
            return value

    NoAliasSafeLoader.add_constructor(
        "tag:yaml.org,2002:int", NoAliasSafeLoader.construct_bounded_int
    )
    NoAliasSafeLoader.add_constructor(
        "tag:yaml.org,2002:float", NoAliasSafeLoader.construct_bounded_float
    )
    return NoAliasSafeLoader


def _refuse_number(node: Any, reason: str) -> None:
    mark = node.start_mark
    literal = str(node.value)
    shown = literal if len(literal) <= 20 else f"{literal[:20]}..."  # noqa: PLR2004
    raise SpecError(
        f"the number {shown} at line {mark.line + 1}, column {mark.column + 1} of the YAML "
        f"document {reason.format(MAX_NUMBER_DIGITS=MAX_NUMBER_DIGITS)}. Hint: numbers in a "
        f"document are finite with at most {MAX_NUMBER_DIGITS} characters; "
        "write large or exact values as text."
    )


def _check_number(node: Any, reason: str) -> None:
    if len(str(node.value).lstrip("+-")) > MAX_NUMBER_DIGITS:
        _refuse_number(node, reason)


def load_yaml(text: str) -> Any:
    r"""
    Parse YAML configuration text into plain data (safe tags only, no aliases, bounded size).

    Numbers are bounded as in JSON: at most ``MAX_NUMBER_DIGITS`` characters, finite
    (``.inf`` and ``.nan`` are refused).

    Raises:
        SpecError: invalid YAML, anchors or aliases, a document over ``MAX_YAML_CHARS``,
            or an unbounded number.
        MissingDependencyError: pyyaml is not installed (the ``yaml`` extra).

    Examples:
        >>> load_yaml("states: [open, won]")
        {'states': ['open', 'won']}
        >>> load_yaml("a: &x [1]\nb: *x")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: YAML anchors and aliases are not allowed ...
    """
    if len(text) > MAX_YAML_CHARS:
        raise SpecError(
            f"the YAML document has {len(text):,} characters, more than {MAX_YAML_CHARS:,}. "
            "Hint: configuration this large is a mistake or an attack; split it."
        )
    loader = _loader()
    import yaml

    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = " ".join(str(getattr(err, "problem", None) or err).split())
        raise SpecError(
            f"invalid YAML{where}: {reason}. Hint: check the indentation and quoting."
        ) from err
