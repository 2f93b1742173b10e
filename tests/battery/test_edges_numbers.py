"""
Numbers at the edges and deep or huge documents: every case a typed error or the right value.

The domain: an amount of ``Money`` is finite, ``|amount| < 10**15``, with at most 12
decimal places; a score is a finite number in its field's range; a number in a
document (JSON or YAML) is finite and written in at most ``MAX_NUMBER_DIGITS``
characters; a document has at most ``MAX_TEXT_CHARS`` characters and nests at most
``MAX_TEXT_DEPTH`` levels. Every reader goes through the one bounded loader.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle._config import (
    MAX_NUMBER_DIGITS,
    MAX_TEXT_CHARS,
    MAX_TEXT_DEPTH,
    load_json,
    load_text,
)
from crmlifecycle.cli import EXIT_PROBLEMS, EXIT_USER_ERROR, main
from crmlifecycle.entities import Lead
from crmlifecycle.errors import CrmError, SpecError, ValidationError
from crmlifecycle.events import Created, event_from_json, event_to_json
from crmlifecycle.rules import RuleSet
from crmlifecycle.scoring import NaiveBayesScorer, PointsScorer, RfmScorer
from crmlifecycle.sla import BusinessCalendar, SlaPolicy
from crmlifecycle.stages import Lifecycle, events_from_frame, lint_spec
from crmlifecycle.values import MAX_AMOUNT, MAX_AMOUNT_PLACES, Money, to_decimal

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# --- numbers: NumPy scalars ------------------------------------------------------------------

NUMPY_VALUES = [
    (np.float64(1.5), Decimal("1.5")),
    (np.float32(1.1), Decimal("1.1")),  # float32's own shortest text, not 1.100000023841858
    (np.float16(0.5), Decimal("0.5")),
    (np.longdouble("1.25"), Decimal("1.25")),
    (np.int8(-2), Decimal(-2)),
    (np.int16(300), Decimal(300)),
    (np.int32(7), Decimal(7)),
    (np.int64(3), Decimal(3)),
    (np.uint8(5), Decimal(5)),
    (np.uint64(2**63), Decimal(2**63)),
]


@pytest.mark.parametrize(("value", "expected"), NUMPY_VALUES, ids=repr)
def test_numpy_numbers_are_amounts(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected
    if abs(expected) < MAX_AMOUNT:
        assert Money(value, "EUR").amount == expected


@pytest.mark.parametrize(
    "value",
    [
        np.bool_(1),
        np.float64("nan"),
        np.float32("inf"),
        np.longdouble("-inf"),
        np.complex128(1 + 2j),
        np.datetime64("2026-01-01"),
    ],
    ids=repr,
)
def test_numpy_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(value, "EUR")
    assert info.value.field == "amount"


@pytest.mark.parametrize(
    ("score", "stored"),
    [(np.float64(2.5), 2.5), (np.float32(0.5), 0.5), (np.int64(4), 4), (Decimal("7.5"), 7.5)],
    ids=repr,
)
def test_scores_accept_numpy_and_decimal(score: Any, stored: float) -> None:
    assert Lead(id="L-1", created_at=T0, score=score).score == stored


# --- numbers: non-finite, huge exponents, huge integers, long text -----------------------------

NOT_AMOUNTS = {
    "decimal NaN": Decimal("NaN"),
    "decimal sNaN": Decimal("sNaN"),
    "decimal -Infinity": Decimal("-Infinity"),
    "float nan": float("nan"),
    "text Infinity": "Infinity",
    "huge exponent": "9e999999",
    "tiny exponent": "1e-999999",
    "1e30": "1e30",
    "just over the bound": str(MAX_AMOUNT),
    "just under minus the bound": str(-MAX_AMOUNT),
    "13 places": "0.0000000000001",
    "huge int": 10**5000,
    "long text": "1" * 200,
    "bool": True,
}


@pytest.mark.parametrize("value", NOT_AMOUNTS.values(), ids=NOT_AMOUNTS.keys())
def test_values_outside_the_domain_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(value, "EUR")
    assert info.value.field == "amount"
    assert "Hint:" in str(info.value)


def test_the_domain_edges_are_amounts() -> None:
    top = MAX_AMOUNT - Decimal(1).scaleb(-MAX_AMOUNT_PLACES)
    assert Money(top, "EUR").amount == Decimal("999999999999999.999999999999")
    assert Money(-top, "EUR").amount == -top
    # a float's repr tail past 12 places is rounded half to even
    assert Money(0.1 + 0.2, "EUR").amount == Decimal("0.300000000000")


NOT_SCORES = {
    "decimal NaN": Decimal("NaN"),
    "decimal sNaN": Decimal("sNaN"),
    "decimal Infinity": Decimal("Infinity"),
    "numpy nan": np.float64("nan"),
    "huge exponent": Decimal("9e999999"),
    "huge int": 10**5000,
    "bool": True,
    "numpy bool": np.bool_(0),
}


@pytest.mark.parametrize("score", NOT_SCORES.values(), ids=NOT_SCORES.keys())
def test_scores_outside_the_domain_are_refused(score: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Lead(id="L-1", created_at=T0, score=score)
    assert info.value.field == "score"


def _one() -> Money:
    return Money(1, "EUR")


ARITHMETIC = {
    "product overflows": lambda: _one() * Decimal("9e999999"),
    "product of text overflows": lambda: _one() * "9e999999",  # type: ignore[operator]
    "sum leaves the domain": lambda: Money("9e14", "EUR") + Money("9e14", "EUR"),
    "difference leaves the domain": lambda: Money("-9e14", "EUR") - Money("9e14", "EUR"),
    "quotient leaves the domain": lambda: _one() / Decimal("1e-999999"),
    "division by zero": lambda: _one() / 0,
    "ratio by zero": lambda: _one() / Money(0, "EUR"),
    "zero by zero": lambda: Money(0, "EUR") / Money(0, "EUR"),
    "rounding carries over the bound": lambda: Money("999999999999999.999", "EUR").rounded(),
    "NaN factor": lambda: _one() * Decimal("NaN"),
}


@pytest.mark.parametrize("compute", ARITHMETIC.values(), ids=ARITHMETIC.keys())
def test_arithmetic_leaving_the_domain_is_refused(compute: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        compute()


def test_arithmetic_keeps_twelve_places() -> None:
    # 10 / 3 = 3.333..., rounded half to even at the 12th place
    assert (Money(10, "EUR") / 3).amount == Decimal("3.333333333333")
    assert (Money(2, "EUR") / 3).amount == Decimal("0.666666666667")
    assert Money("1e14", "EUR").rounded().amount == Decimal("100000000000000.00")


in_domain = st.decimals(
    min_value=-(MAX_AMOUNT - 1), max_value=MAX_AMOUNT - 1, places=MAX_AMOUNT_PLACES
)
factors = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@given(in_domain, in_domain, factors)
def test_money_arithmetic_never_raises_a_foreign_error(a: Decimal, b: Decimal, k: Any) -> None:
    left, right = Money(a, "EUR"), Money(b, "EUR")
    operations: list[Callable[[], object]] = [
        lambda: left + right,
        lambda: left - right,
        lambda: -left,
        lambda: abs(left),
        lambda: left * k,
        lambda: k * left,
        lambda: left / k,
        lambda: left / right,
        left.rounded,
        lambda: left < right,
        lambda: Money.sum([left, right], currency="EUR"),
        lambda: str(left),
    ]
    for operation in operations:
        try:
            result = operation()
        except CrmError:
            continue
        if isinstance(result, Money):
            assert result.amount.is_finite()
            assert abs(result.amount) < MAX_AMOUNT


# --- documents: deep, huge, numbers inside --------------------------------------------------

DEEP = 100_000
DEEP_TEXTS = {
    "json lists": "[" * DEEP + "]" * DEEP,
    "json mappings": '{"a":' * DEEP + "1" + "}" * DEEP,
    "json inside a value": '{"rules": ' + "[" * DEEP + "]" * DEEP + "}",
    "json unclosed": "[" * DEEP,
    "yaml flow": "rules: " + "[" * DEEP,
    "yaml block": "".join(" " * i + "a:\n" for i in range(300)),
}
HUGE_NUMBER_TEXTS = {
    "json int": '{"rules": [], "x": ' + "9" * 5000 + "}",
    "json negative int": '{"x": -' + "9" * 5000 + "}",
    "json float": '{"x": 1.' + "5" * 5000 + "}",
    "json NaN": '{"x": NaN}',
    "json Infinity": '{"x": [-Infinity]}',
    "json 1e999": '{"x": 1e999}',
    "yaml int": "x: " + "9" * 5000,
    "yaml inf": "x: .inf",
    "yaml nan": "x: [.nan]",
    "yaml 1.0e+999": "x: 1.0e+999",  # YAML 1.1 reads 1e999 (no dot, no sign) as text
}
TOO_LONG = {"json": "[" + "1," * MAX_TEXT_CHARS + "1]", "yaml": "x: " + "a" * MAX_TEXT_CHARS}

CONFIG_READERS: dict[str, Callable[[str], object]] = {
    "load_text": load_text,
    "RuleSet.from_text": RuleSet.from_text,
    "Lifecycle.from_text": Lifecycle.from_text,
    "PointsScorer.from_text": PointsScorer.from_text,
    "RfmScorer.from_text": RfmScorer.from_text,
    "NaiveBayesScorer.from_text": NaiveBayesScorer.from_text,
    "SlaPolicy.from_text": SlaPolicy.from_text,
    "BusinessCalendar.from_text": BusinessCalendar.from_text,
}
BAD_DOCUMENTS = {**DEEP_TEXTS, **HUGE_NUMBER_TEXTS, **{f"long {k}": v for k, v in TOO_LONG.items()}}


@pytest.mark.parametrize("text", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
@pytest.mark.parametrize("read", CONFIG_READERS.values(), ids=CONFIG_READERS.keys())
def test_every_configuration_reader_refuses_unbounded_documents(
    read: Callable[[str], object], text: str
) -> None:
    with pytest.raises(SpecError):
        read(text)


@pytest.mark.parametrize("text", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_lint_spec_reports_unbounded_documents(text: str) -> None:
    (finding,) = lint_spec(text)
    assert finding.code == "invalid"


JSON_ONLY = {k: v for k, v in BAD_DOCUMENTS.items() if "yaml" not in k}


@pytest.mark.parametrize("text", JSON_ONLY.values(), ids=JSON_ONLY.keys())
def test_event_readers_refuse_unbounded_documents(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        event_from_json(text)
    assert info.value.field == "json"
    with pytest.raises(SpecError):
        load_json(text)


def test_event_log_cells_refuse_unbounded_json() -> None:
    frame = pd.DataFrame(
        {
            "entity_id": ["L-1"],
            "entity_kind": ["lead"],
            "event": ["created"],
            "at": [T0],
            "changes": ['{"a":' * DEEP + "1" + "}" * DEEP],
        }
    )
    with pytest.raises(CrmError):
        events_from_frame(frame)


@pytest.mark.parametrize(
    "text", [DEEP_TEXTS["json mappings"], HUGE_NUMBER_TEXTS["json int"], TOO_LONG["json"]]
)
def test_the_command_line_lint_reports_without_a_traceback(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(text, encoding="utf-8")
    assert main(["lint", str(path)]) in {EXIT_PROBLEMS, EXIT_USER_ERROR}
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = (captured.out + captured.err).strip().splitlines()
    assert lines[0].startswith(f"{path}: error: ")
    assert all(line.startswith(f"{path}: ") for line in lines)


def test_documents_at_the_bounds_are_read() -> None:
    assert load_text("[" * MAX_TEXT_DEPTH + "]" * MAX_TEXT_DEPTH) is not None
    assert load_text(json.dumps({"x": int("9" * MAX_NUMBER_DIGITS)}))["x"] == int(
        "9" * MAX_NUMBER_DIGITS
    )
    assert load_text("x: " + "9" * MAX_NUMBER_DIGITS)["x"] == int("9" * MAX_NUMBER_DIGITS)
    # brackets inside strings do not count as depth
    assert load_text(json.dumps({"x": "[" * 1000})) == {"x": "[" * 1000}


def test_the_error_names_where_the_number_is() -> None:
    with pytest.raises(SpecError, match=r"line 2, column 7 of a rule set"):
        RuleSet.from_text('{"rules": [],\n "x": ' + "9" * 100 + "}")


@pytest.mark.parametrize(
    "value",
    [10**MAX_NUMBER_DIGITS, -(10**5000), [1, 10**5000]],
    ids=["one past the bound", "5000 digits", "in a list"],
)
def test_event_context_refuses_huge_integers(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Created(kind="lead", entity_id="L-1", at=T0, context={"n": value})
    assert info.value.field.startswith("context.n")


@pytest.mark.parametrize("sign", [1, -1])
def test_event_context_keeps_integers_of_the_bound(sign: int) -> None:
    big = sign * (10**MAX_NUMBER_DIGITS - 1)
    event = Created(kind="lead", entity_id="L-1", at=T0, context={"n": big})
    assert event_from_json(event_to_json(event)).context["n"] == big
    assert load_text(f"n: {big}") == {"n": big}
