"""
Engine 1: compile a condition to nested closures that evaluate one record.

Conditions are compiled in two *modes*: ``boolean(node, True)`` returns a
closure that is true exactly when the node's three-valued (Kleene) value is
true, ``boolean(node, False)`` one that is true exactly when it is false. A
missing value makes both false, so the top-level rule "missing counts as false"
and ``not`` need no three-valued objects at run time, and every node of the
tree is evaluated at most once per record (evaluation time is linear in the
size of the condition). ``value(node)`` compiles a node to a closure returning
its canonical value (``None`` when missing).

The common leaves (``field <op> literal`` and ``field in [...]``) get specialised
closures with a fast path for plain ``int``/``float``/``str`` values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, final

import attrs

from crmlifecycle.errors import RuleTypeError, UnknownFieldError, short_repr
from crmlifecycle.rules._functions import FUNCTIONS
from crmlifecycle.rules._nodes import (
    And,
    Arith,
    Call,
    Compare,
    Const,
    Field,
    InList,
    Neg,
    Node,
    Not,
    Or,
    ValueType,
)
from crmlifecycle.rules._runtime import (
    COMPARE,
    arith,
    compare,
    describe,
    duration_from_micros,
    kind_of,
    micros,
    norm,
    type_error,
)

__all__ = ["BoolFn", "EntityView", "RecordCompiler", "ValueFn"]

ValueFn = Callable[[Any, datetime], object]
BoolFn = Callable[[Any, datetime], bool]

#: The operator that is true exactly when ``op`` is false (for non-missing values).
NEGATED: Final = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIPPED: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _attrs_fields(cls: type) -> frozenset[str]:
    return frozenset(a.name for a in attrs.fields(cls) if not a.name.startswith("_"))


_FIELDS_CACHE: dict[type, frozenset[str]] = {}


def entity_fields(cls: type) -> frozenset[str]:
    """The readable (attrs) field names of an entity class, cached."""
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        names = _FIELDS_CACHE.setdefault(cls, _attrs_fields(cls))
    return names


@final
class EntityView(Mapping[str, object]):
    """A read-only mapping over an attrs instance's *fields* (never other attributes)."""

    __slots__ = ("_names", "_obj")

    def __init__(self, obj: object) -> None:
        self._obj = obj
        self._names = entity_fields(type(obj))

    def __getitem__(self, name: str) -> object:
        if name in self._names:
            return getattr(self._obj, name)
        raise KeyError(name)

    def __iter__(self) -> Any:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)


def child(value: object, name: str, path: str, text: str, pos: int) -> object:
    """Read field ``name`` of a nested value: a mapping key or an attrs field."""
    if norm(value) is None:
        return None
    if isinstance(value, Mapping):
        if name in value:
            return value[name]
        prefix = path.rsplit(".", 1)[0] + "."
        raise UnknownFieldError(path, [prefix + str(k) for k in value], text=text, position=pos)
    if attrs.has(type(value)):
        names = entity_fields(type(value))
        if name in names:
            return getattr(value, name)
        prefix = path.rsplit(".", 1)[0] + "."
        raise UnknownFieldError(path, [prefix + n for n in names], text=text, position=pos)
    raise RuleTypeError(
        f"cannot read field {short_repr(name)} of a {describe(value)} value (in "
        f"{short_repr(path)}). "
        "Hint: only records (mappings, entities, Money) have fields.",
        text=text,
        position=pos,
    )


@final
class RecordCompiler:
    """Compile rule-language nodes into record closures."""

    def __init__(self, text: str) -> None:
        self.text = text

    # -- reading fields ---------------------------------------------------------------
    def read(self, node: Field) -> ValueFn:
        path = node.path
        key = path[0]
        if len(path) == 1:

            def read_one(r: Any, _as_of: datetime) -> object:
                v = r[key]
                cls = v.__class__
                if cls is str or cls is int:
                    return v
                return norm(v)

            return read_one
        flats = (".".join(path), "_".join(path))
        text, pos = self.text, node.pos
        names = [(name, ".".join(path[: i + 2])) for i, name in enumerate(path[1:])]

        def read_path(r: Any, _as_of: datetime) -> object:
            if key not in r:
                for flat in flats:
                    if flat in r:
                        return norm(r[flat])
            v = r[key]
            for name, where in names:
                v = child(v, name, where, text, pos)
            return norm(v)

        return read_path

    # -- values ---------------------------------------------------------------------
    def value(self, node: Node) -> ValueFn:
        """Compile ``node`` to a closure returning its canonical value or ``None``."""
        if isinstance(node, Const):
            constant = node.value
            return lambda _r, _as_of: constant
        if isinstance(node, Field):
            return self.read(node)
        if isinstance(node, Compare | InList | And | Or | Not):
            return self.kleene(node)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Neg):
            return self.neg(node)
        return self.call(node)

    def arith(self, node: Arith) -> ValueFn:
        left, right = self.value(node.left), self.value(node.right)
        op, text, pos = node.op, self.text, node.pos

        def run(r: Any, as_of: datetime) -> object:
            a = left(r, as_of)
            if a is None:
                return None
            b = right(r, as_of)
            if b is None:
                return None
            return arith(op, a, b, text, pos)

        return run

    def neg(self, node: Neg) -> ValueFn:
        operand = self.value(node.operand)
        text, pos = self.text, node.pos

        def run(r: Any, as_of: datetime) -> object:
            a = operand(r, as_of)
            kind = None if a is None else kind_of(a)
            if a is None:
                return None
            if kind is ValueType.NUMBER:
                return -float(a)  # type: ignore[arg-type]
            if kind is ValueType.DURATION:
                return duration_from_micros(-micros(a), text, pos)  # type: ignore[arg-type]
            raise type_error(
                f"cannot negate a {describe(a)} value. Hint: only numbers and durations "
                "can be negated.",
                text,
                pos,
            )

        return run

    def call(self, node: Call) -> ValueFn:
        func = FUNCTIONS[node.name]
        args = tuple(self.value(a) for a in node.args)
        text, pos, scalar, null_ok = self.text, node.pos, func.scalar, func.null_ok
        expected = [func.params[0] if func.variadic else p for p in func.params]
        expected = expected * len(args) if func.variadic else expected

        def run(r: Any, as_of: datetime) -> object:
            values = [f(r, as_of) for f in args]
            kinds = set()
            for value, want in zip(values, expected, strict=True):
                if value is None:
                    if not null_ok:
                        return None
                    continue
                kind = kind_of(value)
                if want is not ValueType.ANY and kind is not want:
                    raise type_error(
                        f"{func.name}() expects {want}, got {describe(value)}. "
                        "Hint: see the function table in docs/rules.md.",
                        text,
                        pos,
                    )
                kinds.add(kind)
            if func.returns is ValueType.ANY and len(kinds) > 1:
                mixed = " and ".join(sorted(str(k) for k in kinds))
                raise type_error(
                    f"{func.name}() arguments mix {mixed}. Hint: give every argument one type.",
                    text,
                    pos,
                )
            return scalar(values, as_of, text, pos)

        return run

    def kleene(self, node: Compare | InList | And | Or | Not) -> ValueFn:  # noqa: C901
        """Three-valued value of a condition node: ``True``, ``False`` or ``None``."""
        if isinstance(node, Not):
            inner = self.truth_value(node.child)
            return lambda r, as_of: None if (v := inner(r, as_of)) is None else not v
        if isinstance(node, And | Or):
            children = tuple(self.truth_value(c) for c in node.children)
            stop = not isinstance(node, And)  # the value that decides: False for and, True for or

            def combine(r: Any, as_of: datetime) -> object:
                result: bool | None = not stop
                for c in children:
                    v = c(r, as_of)
                    if v is stop:
                        return stop
                    if v is None:
                        result = None
                return result

            return combine
        text, pos = self.text, node.pos
        if isinstance(node, InList):
            check = self.membership(node, member=not node.negate)
            operand = self.value(node.operand)
            return lambda r, as_of: None if (v := operand(r, as_of)) is None else check(v)
        lf, rf, op = self.value(node.left), self.value(node.right), node.op

        def run(r: Any, as_of: datetime) -> object:
            a = lf(r, as_of)
            if a is None:
                return None
            b = rf(r, as_of)
            if b is None:
                return None
            return compare(op, a, b, text, pos)

        return run

    def truth_value(self, node: Node) -> ValueFn:
        """Kleene value of a node used as a condition, checking it is true/false."""
        inner = self.value(node)
        text, pos = self.text, node.pos

        def run(r: Any, as_of: datetime) -> object:
            v = inner(r, as_of)
            if v is None or v is True or v is False:
                return v
            raise type_error(
                f"{describe(v)} value used as a condition. Hint: compare it, e.g. x > 0.",
                text,
                pos,
            )

        return run

    # -- conditions -------------------------------------------------------------------
    def boolean(self, node: Node, *, want: bool) -> BoolFn:  # noqa: C901, PLR0911 - per node type
        """Compile ``node`` to a closure true exactly when its Kleene value is ``want``."""
        if isinstance(node, And | Or):
            all_of = isinstance(node, And) == want
            if all_of:
                return self.conjunction(node.children, want=want)
            return _any(tuple(self.boolean(c, want=want) for c in node.children))
        if isinstance(node, Not):
            return self.boolean(node.child, want=not want)
        if isinstance(node, Compare):
            leaf = self._leaf_parts(node, want=want)
            if leaf is not None:
                return self.leaf(*leaf)
            return self.compare(node.op if want else NEGATED[node.op], node)
        if isinstance(node, InList):
            return self.in_list(node, member=want != node.negate)
        if isinstance(node, Const) and node.type is ValueType.BOOL:
            constant = node.value is want
            return lambda _r, _as_of: constant
        inner = self.value(node)
        text, pos = self.text, node.pos

        def truth(r: Any, as_of: datetime) -> bool:
            v = inner(r, as_of)
            if v is None:
                return False
            if v.__class__ is bool:
                return v is want
            raise type_error(
                f"{describe(v)} value used as a condition. Hint: compare it, e.g. x > 0.",
                text,
                pos,
            )

        return truth

    def compare(self, op: str, node: Compare) -> BoolFn:
        left, right = node.left, node.right
        lf, rf = self.value(left), self.value(right)
        text, pos = self.text, node.pos

        def run(r: Any, as_of: datetime) -> bool:
            a = lf(r, as_of)
            if a is None:
                return False
            b = rf(r, as_of)
            if b is None:
                return False
            return compare(op, a, b, text, pos)

        return run

    def leaf(  # noqa: C901 - specialised fast paths, one per value family
        self, op: str, key: str, const: Const, pos: int, then: BoolFn | None = None
    ) -> BoolFn:
        """
        ``field <op> literal`` with a fast path for plain numbers and text.

        With ``then``, the leaf is fused with the rest of a conjunction: it returns
        ``then(r, as_of)`` when it holds (one call frame fewer per clause).
        """
        c = const.value
        py = COMPARE[op]
        text = self.text
        rest: BoolFn = then if then is not None else (lambda _r, _as_of: True)

        def slow(v: object) -> bool:
            v = norm(v)
            return False if v is None else compare(op, v, c, text, pos)

        if const.type is ValueType.STRING:
            if then is None:

                def text_leaf(r: Any, _as_of: datetime) -> bool:
                    v = r[key]
                    if v.__class__ is str:
                        return py(v, c)
                    return slow(v)

                return text_leaf

            def text_chain(r: Any, as_of: datetime) -> bool:
                v = r[key]
                if v.__class__ is str:
                    return py(v, c) and rest(r, as_of)
                return slow(v) and rest(r, as_of)

            return text_chain

        def number_slow(v: object) -> bool:
            if v.__class__ is float and v != v:  # noqa: PLR0124 - NaN is missing
                return False
            return slow(v)

        if then is None:

            def number_leaf(r: Any, _as_of: datetime) -> bool:
                v = r[key]
                cls = v.__class__
                if cls is int or (cls is float and op != "!="):
                    return py(v, c)  # NaN compares false, as a missing value must
                return number_slow(v)

            return number_leaf

        def number_chain(r: Any, as_of: datetime) -> bool:
            v = r[key]
            cls = v.__class__
            if cls is int or (cls is float and op != "!="):
                return py(v, c) and rest(r, as_of)
            return number_slow(v) and rest(r, as_of)

        return number_chain

    def conjunction(self, children: tuple[Node, ...], *, want: bool) -> BoolFn:
        """Compile ``all(children)``, fusing leading ``field <op> literal`` leaves."""
        fns: BoolFn | None = None
        for child in reversed(children):
            leaf = self._leaf_parts(child, want=want)
            if leaf is None:
                compiled = self.boolean(child, want=want)
                fns = compiled if fns is None else _all((compiled, fns))
            else:
                fns = self.leaf(*leaf, then=fns)
        assert fns is not None  # noqa: S101 - a conjunction has children
        return fns

    def _leaf_parts(self, node: Node, *, want: bool) -> tuple[str, str, Const, int] | None:
        if not isinstance(node, Compare):
            return None
        op = node.op if want else NEGATED[node.op]
        left, right = node.left, node.right
        if isinstance(left, Const) and isinstance(right, Field):
            left, right, op = right, left, _FLIPPED[op]
        if (
            isinstance(left, Field)
            and len(left.path) == 1
            and isinstance(right, Const)
            and right.type in {ValueType.NUMBER, ValueType.STRING}
        ):
            return op, left.path[0], right, node.pos
        return None

    def membership(self, node: InList, *, member: bool) -> Callable[[object], bool]:
        """Test a canonical value against the list (missing counts as false)."""
        values = frozenset(node.values)
        elem = node.elem_type
        text, pos = self.text, node.pos

        def check(v: object) -> bool:
            if v is None:
                return False
            if elem is not ValueType.ANY and kind_of(v) is not elem:
                raise type_error(
                    f"cannot look for a {describe(v)} value in a list of {elem} values. "
                    "Hint: use a list of the field's type.",
                    text,
                    pos,
                )
            return (v in values) is member

        return check

    def in_list(self, node: InList, *, member: bool) -> BoolFn:
        values = frozenset(node.values)
        slow = self.membership(node, member=member)
        operand = self.value(node.operand)
        if (
            node.elem_type is ValueType.STRING
            and isinstance(node.operand, Field)
            and len(node.operand.path) == 1
        ):
            key = node.operand.path[0]

            def text_in(r: Any, _as_of: datetime) -> bool:
                v = r[key]
                if v.__class__ is str:
                    return (v in values) is member
                return slow(norm(v))

            return text_in
        return lambda r, as_of: slow(operand(r, as_of))


def _all(children: tuple[BoolFn, ...]) -> BoolFn:
    if len(children) == 2:  # noqa: PLR2004 - the common case, unrolled
        a, b = children
        return lambda r, as_of: a(r, as_of) and b(r, as_of)
    if len(children) == 3:  # noqa: PLR2004
        a, b, c = children
        return lambda r, as_of: a(r, as_of) and b(r, as_of) and c(r, as_of)
    return lambda r, as_of: all(f(r, as_of) for f in children)


def _any(children: tuple[BoolFn, ...]) -> BoolFn:
    if len(children) == 2:  # noqa: PLR2004 - the common case, unrolled
        a, b = children
        return lambda r, as_of: a(r, as_of) or b(r, as_of)
    if len(children) == 3:  # noqa: PLR2004
        a, b, c = children
        return lambda r, as_of: a(r, as_of) or b(r, as_of) or c(r, as_of)
    return lambda r, as_of: any(f(r, as_of) for f in children)
