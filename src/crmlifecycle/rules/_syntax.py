"""
The rule language's syntax: safety limits, the typed node tree, and the parser.

The text is checked for length and bracket nesting *before* Python's own parser
sees it (deep nesting can crash a parser), parsed with ``ast.parse(mode="eval")``
(which only builds a tree and never runs anything), bounded in size and depth,
and then translated node by node against an allowlist into the small tree of
:class:`Node` classes below. Anything not on the allowlist raises
:class:`~crmlifecycle.errors.UnsafeRule` or
:class:`~crmlifecycle.errors.RuleSyntaxError` with its position in the text.
"""

from __future__ import annotations

import ast
import io
import warnings
from datetime import UTC, datetime
from typing import Final, final

from crmlifecycle.errors import RuleSyntaxError, UnsafeRule, did_you_mean, short_repr
from crmlifecycle.rules._nodes import (
    LIMITS,
    And,
    Arith,
    Call,
    Compare,
    Const,
    Field,
    InList,
    Limits,
    Neg,
    Node,
    Not,
    Or,
    ValueType,
)

__all__ = ["DATE_CONSTRUCTORS", "parse"]


_COMPARE_OPS: Final = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_ARITH_OPS: Final = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_TRUE: Final = frozenset({"True", "true"})
_FALSE: Final = frozenset({"False", "false"})
_NULL: Final = frozenset({"None", "null", "nil", "NULL"})
_FORBIDDEN: Final[dict[type[ast.AST], str]] = {
    ast.Lambda: "lambda expressions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Subscript: "subscripts (x[...])",
    ast.Starred: "starred arguments",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.IfExp: "conditional expressions (a if c else b)",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.Dict: "dict literals",
    ast.Set: "set literals",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}

#: Literal-only constructors folded at parse time.
DATE_CONSTRUCTORS: Final = frozenset({"date", "datetime"})


def _scan(text: str, limits: Limits) -> None:  # noqa: C901 - one small state machine
    """Reject over-long text and deep bracket nesting before parsing."""
    if len(text) > limits.max_length:
        raise UnsafeRule(
            f"condition is {len(text)} characters long; the limit is {limits.max_length}. "
            "Hint: split it into several rules.",
            text=text[: limits.max_length],
            position=limits.max_length - 1,
        )
    depth = 0
    quote = ""
    escaped = False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
            if depth > limits.max_nesting:
                raise UnsafeRule(
                    f"brackets are nested more than {limits.max_nesting} deep. "
                    "Hint: simplify the condition.",
                    text=text,
                    position=index,
                )
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise RuleSyntaxError(
                    f"unbalanced {char!r}. Hint: check the brackets.", text=text, position=index
                )


class _Positions:
    """Translate ``ast`` (line, UTF-8 byte column) positions into character offsets."""

    def __init__(self, text: str) -> None:
        # lines as Python's tokenizer counts them (\n, \r\n, \r), not str.splitlines(),
        # which also breaks at form feeds, U+2028 and others that Python keeps in a line
        self.lines = io.StringIO(text, newline="").readlines() or [""]
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def of(self, node: ast.AST) -> int:
        # the text is parsed wrapped as "(\n" + text + "\n)", so line 2 is its first line
        return self.at(getattr(node, "lineno", 2) - 1, getattr(node, "col_offset", 0))

    def at(self, lineno: int, col: int) -> int:
        """Character offset of 1-based ``lineno`` and UTF-8 byte column ``col``, clamped."""
        if lineno < 1:  # the opening bracket wrapped around the text
            return 0
        line = self.lines[lineno - 1]  # no node of the text lies on the closing bracket's line
        prefix = line.encode("utf-8")[:col].decode("utf-8", errors="ignore")
        return min(self.starts[lineno - 1] + len(prefix), max(self.starts[-1] - 1, 0))


def _python_parse(text: str, positions: _Positions) -> ast.expr:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # wrapping in brackets allows line breaks (YAML block text) and leading blanks
            tree = ast.parse("(\n" + text + "\n)", mode="eval")
    except SyntaxError as err:
        line = (err.lineno or 2) - 1
        offset = max((err.offset or 1) - 1, 0)  # a character offset within the line
        if 1 <= line <= len(positions.lines):
            position = min(positions.starts[line - 1] + offset, max(len(text) - 1, 0))
        else:
            position = max(len(text) - 1, 0)
        raise RuleSyntaxError(
            f"invalid syntax: {err.msg}. Hint: see the grammar in docs/rules.md.",
            text=text,
            position=position,
        ) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        raise UnsafeRule(
            f"the condition cannot be parsed safely ({type(err).__name__}). "
            "Hint: simplify it; remove NUL characters.",
            text=text,
            position=0,
        ) from None
    return tree.body


def _check_size(body: ast.expr, text: str, positions: _Positions, limits: Limits) -> None:
    """Bound the tree's node count and depth without recursion."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise UnsafeRule(
                f"the condition has more than {limits.max_nodes} parts. "
                "Hint: split it into several rules.",
                text=text,
                position=positions.of(node),
            )
        if depth > limits.max_depth:
            raise UnsafeRule(
                f"the condition is nested more than {limits.max_depth} levels deep. "
                "Hint: simplify it.",
                text=text,
                position=positions.of(node),
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


@final
class _Translator:
    """Translate an allowlisted Python expression tree into rule-language nodes."""

    def __init__(
        self, text: str, positions: _Positions, limits: Limits, functions: set[str]
    ) -> None:
        self.text = text
        self.positions = positions
        self.limits = limits
        self.functions = functions

    def pos(self, node: ast.AST) -> int:
        return self.positions.of(node)

    def unsafe(self, message: str, node: ast.AST) -> UnsafeRule:
        return UnsafeRule(message, text=self.text, position=self.pos(node))

    def syntax(self, message: str, node: ast.AST) -> RuleSyntaxError:
        return RuleSyntaxError(message, text=self.text, position=self.pos(node))

    def expr(self, node: ast.AST) -> Node:  # noqa: PLR0911 - one branch per node type
        if isinstance(node, ast.BoolOp):
            children = tuple(self.expr(v) for v in node.values)
            if isinstance(node.op, ast.And):
                return And(children, self.pos(node))
            return Or(children, self.pos(node))
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name | ast.Attribute):
            return self.name(node)
        if isinstance(node, ast.List | ast.Tuple):
            raise self.syntax(
                "a list may only follow 'in' or 'not in'. Hint: write x in ['a', 'b'].", node
            )
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        raise self.unsafe(f"{what} are not allowed in a condition. Hint: see docs/rules.md.", node)

    def unary(self, node: ast.UnaryOp) -> Node:
        operand = self.expr(node.operand)
        if isinstance(node.op, ast.Not):
            return Not(operand, self.pos(node))
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            if isinstance(operand, Const) and operand.type is ValueType.NUMBER:
                number = operand.value
                assert isinstance(number, int | float)  # noqa: S101 - NUMBER constants are numbers
                return Const(-number, ValueType.NUMBER, self.pos(node))
            return Neg(operand, self.pos(node))
        raise self.unsafe("bitwise operators are not allowed. Hint: use and / or / not.", node)

    def binop(self, node: ast.BinOp) -> Node:
        op = _ARITH_OPS.get(type(node.op))
        if op is None:
            raise self.unsafe(
                "bitwise and matrix operators are not allowed. Hint: use and / or / not.", node
            )
        left = self.expr(node.left)
        right = self.expr(node.right)
        if op == "**":
            exponent = right.value if isinstance(right, Const) else None
            if not isinstance(exponent, int | float) or isinstance(exponent, bool):
                raise self.unsafe(
                    "the exponent of ** must be a number literal. Hint: write x ** 2.",
                    node.right,
                )
            if abs(exponent) > self.limits.max_exponent:
                raise self.unsafe(
                    f"the exponent {exponent} exceeds the limit of {self.limits.max_exponent}.",
                    node.right,
                )
        return Arith(op, left, right, self.pos(node))

    def compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left_ast: ast.expr = node.left
        left = self.expr(left_ast)
        for op_node, right_ast in zip(node.ops, node.comparators, strict=True):
            pos = self.pos(left_ast)
            if isinstance(op_node, ast.In | ast.NotIn):
                right: Node = self.in_list(left, right_ast, isinstance(op_node, ast.NotIn), pos)
                parts.append(right)
                left_ast = right_ast
                continue
            op = _COMPARE_OPS.get(type(op_node))
            if op is None:
                raise self.syntax(
                    "'is' / 'is not' are not part of the language. "
                    "Hint: use == / != to compare values, is_missing(x) to test for a "
                    "missing value.",
                    right_ast,
                )
            right = self.expr(right_ast)
            parts.append(Compare(op, left, right, pos))
            left, left_ast = right, right_ast
        if len(parts) == 1:
            return parts[0]
        return And(tuple(parts), self.pos(node))

    def in_list(self, operand: Node, node: ast.expr, negate: bool, pos: int) -> InList:
        if not isinstance(node, ast.List | ast.Tuple):
            raise self.syntax(
                "'in' needs a list of literals on its right. "
                "Hint: write x in ['a', 'b']; use contains(text, 'part') for text.",
                node,
            )
        if len(node.elts) > self.limits.max_list:
            raise self.unsafe(
                f"the list has {len(node.elts)} elements; the limit is {self.limits.max_list}.",
                node,
            )
        values: list[object] = []
        types: set[ValueType] = set()
        for element in node.elts:
            item = self.expr(element)
            if not isinstance(item, Const):
                raise self.syntax(
                    "list elements must be literals (numbers, text, true/false, date(...)). "
                    "Hint: compare fields with == and 'or' instead.",
                    element,
                )
            values.append(item.value)
            types.add(item.type)
        if len(types) > 1:
            raise self.syntax(
                f"list mixes {', '.join(sorted(t.value for t in types))} values. "
                "Hint: use one type per list.",
                node,
            )
        elem_type = types.pop() if types else ValueType.ANY
        return InList(operand, tuple(values), elem_type, negate, pos)

    def call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.unsafe(
                "only the built-in functions of the language can be called; "
                "methods and computed callables cannot. Hint: write lower(x), not x.lower().",
                node.func,
            )
        name = node.func.id
        if name.startswith("_"):
            raise self.unsafe(
                f"{short_repr(name)}: names starting with '_' are never readable or callable. "
                "Hint: only the functions listed in docs/rules.md can be called.",
                node.func,
            )
        if name not in self.functions:
            raise self.unsafe(
                f"unknown function {short_repr(name)}{did_you_mean(name, self.functions)}. "
                f"Hint: the functions are {', '.join(sorted(self.functions))}.",
                node.func,
            )
        if node.keywords:
            raise self.syntax(
                "keyword arguments are not supported. Hint: pass arguments by position.",
                node.keywords[0].value,
            )
        args = tuple(self.expr(a) for a in node.args)
        if name in DATE_CONSTRUCTORS:
            return self.date_literal(name, args, node)
        return Call(name, args, self.pos(node))

    def date_literal(self, name: str, args: tuple[Node, ...], node: ast.Call) -> Const:
        if len(args) != 1 or not isinstance(args[0], Const) or args[0].type is not ValueType.STRING:
            raise self.syntax(
                f"{name}() takes one text literal. Hint: write {name}('2026-03-01').", node
            )
        raw = args[0].value
        assert isinstance(raw, str)  # noqa: S101 - a STRING constant holds a str
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise self.syntax(
                f"{short_repr(raw)} is not an ISO 8601 date. Hint: write {name}('2026-03-01').",
                node,
            ) from None
        if parsed.tzinfo is None:
            if name == "datetime" and parsed != parsed.replace(hour=0, minute=0, second=0):
                raise self.syntax(
                    f"{short_repr(raw)} has a time of day but no time zone. "
                    "Hint: add one, e.g. '2026-03-01T09:00:00+00:00' or 'Z'.",
                    node,
                )
            parsed = parsed.replace(tzinfo=UTC)
        elif name == "date":
            raise self.syntax(
                f"date() takes a calendar date only (got {short_repr(raw)}). Hint: use datetime().",
                node,
            )
        return Const(parsed.astimezone(UTC), ValueType.DATETIME, self.pos(node))

    def constant(self, node: ast.Constant) -> Const:
        value = node.value
        pos = self.pos(node)
        if isinstance(value, bool):
            return Const(value, ValueType.BOOL, pos)
        if isinstance(value, int):
            if abs(value) > self.limits.max_number:
                raise self.unsafe(
                    f"number literal exceeds the limit of {self.limits.max_number}.", node
                )
            return Const(value, ValueType.NUMBER, pos)
        if isinstance(value, float):
            if value != value or abs(value) == float("inf"):  # noqa: PLR0124 - NaN test
                raise self.unsafe("number literal is not finite.", node)
            return Const(value, ValueType.NUMBER, pos)
        if isinstance(value, str):
            if len(value) > self.limits.max_string:
                raise self.unsafe(
                    f"text literal exceeds the limit of {self.limits.max_string} characters.",
                    node,
                )
            return Const(value, ValueType.STRING, pos)
        if value is None:
            raise self.syntax(_NO_NULL, node)
        raise self.unsafe(f"{type(value).__name__} literals are not allowed.", node)

    def name(self, node: ast.Name | ast.Attribute) -> Node:
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise self.unsafe(
                "only field paths (a.b.c) may use dots. Hint: fields are read from the data, "
                "never from Python objects.",
                node,
            )
        parts.append(current.id)
        parts.reverse()
        for part in parts:
            if part.startswith("_"):
                raise self.unsafe(
                    f"{short_repr(part)}: names starting with '_' are never readable. "
                    "Hint: fields are read from the data, never from Python internals.",
                    node,
                )
        if len(parts) == 1:
            if parts[0] in _TRUE:
                return Const(value=True, type=ValueType.BOOL, pos=self.pos(node))
            if parts[0] in _FALSE:
                return Const(value=False, type=ValueType.BOOL, pos=self.pos(node))
            if parts[0] in _NULL:
                raise self.syntax(_NO_NULL, node)
            if parts[0] in self.functions:
                raise self.syntax(
                    f"{short_repr(parts[0])} is a function. Hint: call it, e.g. {parts[0]}(...).",
                    node,
                )
        return Field(tuple(parts), self.pos(node))


_NO_NULL: Final = (
    "there is no null literal. Hint: test for a missing value with is_missing(x), "
    "supply a default with coalesce(x, default)."
)


def parse(text: str, functions: set[str], limits: Limits = LIMITS) -> Node:
    """
    Parse ``text`` into a rule-language tree (never executing anything).

    Raises:
        RuleSyntaxError: the text is not valid in the language.
        UnsafeRule: the text uses a forbidden construct or exceeds a limit.
    """
    if not isinstance(text, str):
        raise RuleSyntaxError(
            f"a condition must be text (got {type(text).__name__}). "
            'Hint: write it as a string such as "score >= 70".'
        )
    _scan(text, limits)
    if not text.strip():
        raise RuleSyntaxError("the condition is empty. Hint: write e.g. score >= 70.")
    positions = _Positions(text)
    body = _python_parse(text, positions)
    _check_size(body, text, positions, limits)
    return _Translator(text, positions, limits, functions).expr(body)
