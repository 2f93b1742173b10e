"""The rule language's typed node tree, its value types and its safety limits."""

from __future__ import annotations

import enum
from typing import Final, TypeAlias, final

import attrs

__all__ = [
    "LIMITS",
    "And",
    "Arith",
    "Call",
    "Compare",
    "Const",
    "Field",
    "InList",
    "Limits",
    "Neg",
    "Node",
    "Not",
    "Or",
    "ValueType",
]


@final
@attrs.frozen(kw_only=True)
class Limits:
    """
    The bounds every condition must respect, so a hostile rule cannot exhaust memory or CPU.

    Attributes:
        max_length: characters of condition text.
        max_nesting: depth of brackets ``(``, ``[``, ``{`` in the text.
        max_depth: depth of the parsed expression tree.
        max_nodes: number of nodes in the parsed expression tree.
        max_string: characters in one string literal.
        max_list: elements in one list literal.
        max_number: magnitude of an integer literal.
        max_exponent: magnitude of the (literal) exponent of ``**``.
    """

    max_length: int = 10_000
    max_nesting: int = 32
    max_depth: int = 64
    max_nodes: int = 1_000
    max_string: int = 1_000
    max_list: int = 1_000
    max_number: int = 10**15
    max_exponent: int = 64


#: The limits in force.
LIMITS: Final = Limits()


class ValueType(enum.Enum):
    """The value types of the rule language."""

    NUMBER = "number"
    STRING = "string"
    BOOL = "bool"
    DATETIME = "datetime"
    DURATION = "duration"
    ANY = "any"  # not known before evaluation (an unbound field)
    NULL = "null"  # a frame column holding only missing values

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Const:
    """A literal value (already in its canonical Python form)."""

    value: object
    type: ValueType
    pos: int


@attrs.frozen
class Field:
    """A field path such as ``score`` or ``account.industry``."""

    path: tuple[str, ...]
    pos: int

    @property
    def name(self) -> str:
        """The path written with dots."""
        return ".".join(self.path)


@attrs.frozen
class Compare:
    """A binary comparison (chained comparisons are split into an ``And`` of these)."""

    op: str
    left: Node
    right: Node
    pos: int


@attrs.frozen
class InList:
    """``x in [...]`` / ``x not in [...]`` against a list of literals."""

    operand: Node
    values: tuple[object, ...]
    elem_type: ValueType
    negate: bool
    pos: int


@attrs.frozen
class And:
    """Kleene conjunction of two or more conditions."""

    children: tuple[Node, ...]
    pos: int


@attrs.frozen
class Or:
    """Kleene disjunction of two or more conditions."""

    children: tuple[Node, ...]
    pos: int


@attrs.frozen
class Not:
    """Kleene negation."""

    child: Node
    pos: int


@attrs.frozen
class Arith:
    """A binary arithmetic operation: ``+ - * / // % **``."""

    op: str
    left: Node
    right: Node
    pos: int


@attrs.frozen
class Neg:
    """Unary minus."""

    operand: Node
    pos: int


@attrs.frozen
class Call:
    """A call of a whitelisted function."""

    name: str
    args: tuple[Node, ...]
    pos: int


Node: TypeAlias = Const | Field | Compare | InList | And | Or | Not | Arith | Neg | Call
