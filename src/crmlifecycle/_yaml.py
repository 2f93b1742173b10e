"""
The YAML half of the configuration loader: plain data, bounded, no aliases.

Loaders do not call this module directly: :func:`crmlifecycle._config.load_text`
reads JSON or YAML and sends YAML here. Configuration is untrusted text.
``yaml.safe_load`` already refuses Python tags, but it keeps anchors and aliases, so a 500-byte
document can describe a value whose ``repr`` (in an error message) or traversal
is gigabytes long ("billion laughs"). Specs, rule sets and scorer configs never
need aliases, so the loader refuses them, and documents are capped in size.

When PyYAML was built with libyaml, a document is read by its C loader, about four
times faster: the alias, depth and number rules are checked on libyaml's event stream
before it composes anything, and a document it cannot read plainly goes to the
pure-Python loader, whose refusal (and message) is the one raised. Both loaders give
the same value and the same error on every document. A mapping naming a key twice,
or holding a merge key (``<<``), is refused by both (PyYAML would keep the last key,
or fold the merged mapping in, silently).
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


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as err:
        raise MissingDependencyError(
            package="pyyaml", extra="yaml", feature="reading YAML configuration"
        ) from err
    return yaml


def _bounded_int(loader: Any, node: Any) -> Any:
    _check_number(node, "has more than {MAX_NUMBER_DIGITS} digits")
    return loader.construct_yaml_int(node)


def _bounded_float(loader: Any, node: Any) -> Any:
    _check_number(node, "has more than {MAX_NUMBER_DIGITS} digits")
    value = loader.construct_yaml_float(node)
    if not math.isfinite(value):
        _refuse_number(node, "is not finite")
    return value


_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


def _unique_mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
    """
    Construct a mapping that names each key once and has no merge key (``<<``).

    PyYAML keeps the last of a repeated key silently and folds a ``<<`` mapping
    into its parent; both would make a document mean something its text does not
    say plainly (and JSON refuses a repeated key), so both are refused.
    """
    yaml = _yaml()
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        mark = key_node.start_mark
        where = f"(line {mark.line + 1}, column {mark.column + 1})"
        if key_node.tag == _MERGE_TAG:
            raise SpecError(
                f"YAML merge keys (<<) are not allowed {where}. "
                "Hint: write the merged keys out in full (quote '<<' for a key named so)."
            )
        key = loader.construct_object(key_node, deep=deep)
        try:
            repeated = key in mapping
        except TypeError as err:  # a list or mapping as a key: PyYAML's own refusal
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", mark
            ) from err
        if repeated:
            raise SpecError(
                f"the key {short_repr(key)} appears twice in one mapping of the YAML document "
                f"{where}. Hint: a parser would keep only the last one silently; "
                "write each key once."
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _bound_numbers(loader: Any) -> Any:
    """
    Give a loader class the rules both loaders share.

    The bounded number constructors, and mappings that name each key once without
    merge keys (construction runs in Python in both loaders: libyaml only parses
    and composes).
    """
    loader.add_constructor("tag:yaml.org,2002:int", _bounded_int)
    loader.add_constructor("tag:yaml.org,2002:float", _bounded_float)
    loader.construct_mapping = _unique_mapping
    return loader


@functools.cache
def _loader() -> Any:
    """The pure-Python loader: it refuses anchors, aliases and deep nesting as it composes."""
    _yaml()  # the dependency check
    import yaml

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

    return _bound_numbers(NoAliasSafeLoader)


@functools.cache
def _c_loader() -> Any:
    """
    The loader on libyaml (PyYAML's ``CSafeLoader``), or ``None`` when PyYAML was built without it.

    libyaml composes the whole document in C, so the alias and depth rules cannot be
    checked while it composes: :func:`_plain` checks them on the event stream first
    (libyaml's parser keeps its own stack: an event stream never recurses).
    """
    yaml = _yaml()
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:  # pragma: no cover - PyYAML without libyaml
        return None
    return _bound_numbers(type("NoAliasCSafeLoader", (base,), {}))


def _plain(text: str, loader: Any) -> bool:
    """Whether the document has no anchor or alias and no node deeper than ``MAX_YAML_DEPTH``."""
    yaml = _yaml()
    starts, ends = yaml.CollectionStartEvent, yaml.CollectionEndEvent
    nodes = (yaml.ScalarEvent, starts, yaml.AliasEvent)
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, nodes):
            if depth >= MAX_YAML_DEPTH or isinstance(event, yaml.AliasEvent) or event.anchor:
                return False
            if isinstance(event, starts):
                depth += 1
        elif isinstance(event, ends):
            depth -= 1
    return True


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
    (``.inf`` and ``.nan`` are refused). A mapping names each key once, as in JSON,
    and has no merge key (``<<``).

    Raises:
        SpecError: invalid YAML, anchors or aliases, a document over ``MAX_YAML_CHARS``,
            an unbounded number, a key twice in one mapping, or a merge key (the
            message gives the line and column).
        MissingDependencyError: pyyaml is not installed (the ``yaml`` extra).

    Examples:
        >>> load_yaml("states: [open, won]")
        {'states': ['open', 'won']}
        >>> load_yaml("a: &x [1]\nb: *x")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: YAML anchors and aliases are not allowed ...
        >>> load_yaml("stage: open\nstage: won")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: the key 'stage' appears twice in one mapping of the YAML ...
    """
    if len(text) > MAX_YAML_CHARS:
        raise SpecError(
            f"the YAML document has {len(text):,} characters, more than {MAX_YAML_CHARS:,}. "
            "Hint: configuration this large is a mistake or an attack; split it."
        )
    yaml = _yaml()
    fast = _c_loader()
    if fast is not None:
        # libyaml reads a plain document in a fraction of the pure-Python loader's time;
        # a document it cannot read plainly (an alias, too deep, a syntax or number
        # error) goes to the pure-Python loader, whose refusal is the one every caller sees
        try:
            if _plain(text, fast):
                return yaml.load(text, Loader=fast)
        except (yaml.YAMLError, SpecError):
            pass
    return _load_python(text)


def _load_python(text: str) -> Any:
    """Parse with the pure-Python loader (the reference: every refusal's message comes from it)."""
    yaml = _yaml()
    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = " ".join(str(getattr(err, "problem", None) or err).split())
        raise SpecError(
            f"invalid YAML{where}: {reason}. Hint: check the indentation and quoting."
        ) from err
