"""How the record engine reads values: canonical forms, nested paths, entities, run-time errors."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import numpy as np
import pandas as pd
import pytest

from crmlifecycle import Money
from crmlifecycle.entities import Lead
from crmlifecycle.errors import DataError, RuleTypeError, UnknownFieldError, ValidationError
from crmlifecycle.rules import Condition
from crmlifecycle.rules._record import EntityView

AT = datetime(2026, 3, 31, tzinfo=UTC)
LEAD = Lead(id="L-1", created_at=AT, channel="webinar", budget=Money(25000, "EUR"), score=80.0)


class Tier(enum.StrEnum):
    GOLD = "gold"


class Count(enum.IntEnum):
    THREE = 3


class Ratio(float):
    """A float subclass, as some ORMs return."""


def test_values_are_read_in_canonical_form() -> None:
    cond = Condition.parse("x == 3 and y == 0.5 and s == 'gold'")
    assert cond.evaluate({"x": np.int16(3), "y": np.float32(0.5), "s": np.str_("gold")})
    assert cond.evaluate({"x": Count.THREE, "y": Ratio(0.5), "s": Tier.GOLD})
    assert cond.evaluate({"x": Decimal(3), "y": Decimal("0.5"), "s": "gold"})
    # a NaN of any kind is missing
    for nan in (np.float64("nan"), Decimal("NaN"), pd.NA, pd.NaT, None):
        assert Condition.parse("is_missing(x)").evaluate({"x": nan})


def test_text_subclasses_compare_as_text() -> None:
    assert Condition.parse("s in ['gold', 'silver']").evaluate({"s": Tier.GOLD})
    assert Condition.parse("lower(s) == 'gold' and length(s) == 4").evaluate({"s": Tier.GOLD})


def test_naive_datetimes_at_midnight_are_utc_days() -> None:
    cond = Condition.parse("t == date('2026-03-01')")
    assert cond.evaluate({"t": datetime(2026, 3, 1)})
    assert cond.evaluate({"t": pd.Timestamp("2026-03-01")})
    with pytest.raises(DataError, match="naive datetime with a time of day"):
        cond.evaluate({"t": pd.Timestamp("2026-03-01") + pd.Timedelta(nanoseconds=1)})


def test_nested_paths_in_mappings() -> None:
    cond = Condition.parse("account.industry == 'saas'")
    assert cond.evaluate({"account": {"industry": "saas"}})
    # a missing parent makes every field below it missing
    assert not cond.evaluate({"account": None})
    assert Condition.parse("is_missing(account.industry)").evaluate({"account": None})
    # a record may store the path flat, dotted or with underscores
    assert cond.evaluate({"account.industry": "saas"})
    assert cond.evaluate({"account_industry": "saas"})
    with pytest.raises(UnknownFieldError) as info:
        cond.evaluate({"industry": "saas"})
    assert info.value.field == "account"


def test_an_unknown_nested_key_names_the_full_path() -> None:
    cond = Condition.parse("x > 1 or account.industy == 'saas'")
    with pytest.raises(UnknownFieldError, match=r"did you mean 'account\.industry'") as info:
        cond.evaluate({"x": 0, "account": {"industry": "saas"}})
    assert info.value.field == "account.industy"
    assert info.value.position == 9


def test_nested_entities_expose_their_fields_only() -> None:
    assert Condition.parse("lead.budget.amount > 20000").evaluate({"lead": LEAD})
    with pytest.raises(UnknownFieldError, match=r"did you mean 'lead\.budget\.amount'"):
        Condition.parse("lead.budget.amout > 1").evaluate({"lead": LEAD})


def test_an_entity_is_a_mapping_of_its_fields() -> None:
    view = EntityView(LEAD)
    fields = sorted(a.name for a in attrs.fields(Lead) if not a.name.startswith("_"))
    assert list(view) == fields
    assert len(view) == len(fields)
    assert dict(view)["budget"] == Money(25000, "EUR")
    assert view["channel"] == "webinar"
    assert "id" in view
    assert "evolve" not in view


def test_an_unknown_field_of_an_entity_lists_its_fields() -> None:
    with pytest.raises(UnknownFieldError, match="did you mean 'score'") as info:
        Condition.parse("scroe > 1").evaluate(LEAD)
    assert info.value.field == "scroe"
    assert info.value.position == 0


def test_only_mappings_and_entities_are_records() -> None:
    with pytest.raises(RuleTypeError, match="cannot evaluate a condition on a list"):
        Condition.parse("x > 1").evaluate([1])


def test_a_missing_key_of_a_plain_dict_names_the_field() -> None:
    # the fast path for plain dicts translates the KeyError too
    with pytest.raises(UnknownFieldError, match="did you mean 'score'") as info:
        Condition.parse("score > 1 and scroe > 2").evaluate({"score": 3})
    assert info.value.position == 14


def test_text_leaves_fused_in_a_conjunction() -> None:
    cond = Condition.parse("s == 'a' and n > 1")
    rows: list[dict[str, object]] = [
        {"s": "a", "n": 2},
        {"s": "a", "n": 0},
        {"s": None, "n": 2},
        {"s": np.str_("a"), "n": 2},  # not a plain str: read through the slow path
    ]
    assert [cond.evaluate(r) for r in rows] == [True, False, False, True]
    assert [cond.evaluate(r) for r in rows] == cond.evaluate_frame(pd.DataFrame(rows)).tolist()


def test_wide_conjunctions_and_disjunctions() -> None:
    rows = [{"a": 1, "b": 1, "c": 1, "d": 1}, {"a": 1, "b": 1, "c": 1, "d": 0}]
    checks = {
        # leaves fused into one chain
        "a == 1 and b == 1 and c == 1 and d == 1": [True, False],
        # 4 and 3 alternatives
        "a == 0 or b == 0 or c == 0 or d == 0": [False, True],
        "a == 0 or b == 0 or d == 0": [False, True],
        # conjunctions of parts that are not leaves: 3 and 4 of them
        "a + 0 == 1 and b + 0 == 1 and d + 0 == 1": [True, False],
        "a + 0 == 1 and b + 0 == 1 and c + 0 == 1 and d + 0 == 1": [True, False],
        # negated: not (x or y or z or w) is a conjunction of the negations
        "not (a == 0 or b == 0 or c == 0 or d == 0)": [True, False],
    }
    for text, expected in checks.items():
        cond = Condition.parse(text)
        assert [cond.evaluate(r) for r in rows] == expected, text
        assert cond.evaluate_frame(pd.DataFrame(rows)).tolist() == expected, text


def test_list_membership_type_errors_at_run_time() -> None:
    cond = Condition.parse("x > 0 or s in ['a', 'b']")
    assert not cond.evaluate({"x": 0, "s": None})
    with pytest.raises(RuleTypeError, match="number value in a list of string values") as info:
        cond.evaluate({"x": 0, "s": 1})
    assert info.value.position == 9
    with pytest.raises(RuleTypeError, match="string value in a list of number values"):
        Condition.parse("(n in [1, 2]) == true").evaluate({"n": "a"})


def test_a_value_used_as_a_condition_is_a_type_error() -> None:
    with pytest.raises(RuleTypeError, match=r"number value used as a condition\. Hint:") as info:
        Condition.parse("(a and b) == true").evaluate({"a": 1, "b": True})
    assert info.value.position == 1
    with pytest.raises(RuleTypeError, match="string value used as a condition"):
        Condition.parse("a").evaluate({"a": "yes"})


def test_a_condition_that_reads_the_time_needs_as_of() -> None:
    cond = Condition.parse("now() > date('2026-01-01')")
    assert cond.uses_time
    with pytest.raises(ValidationError, match=r"'as_of' must be .*Hint: .*needs as_of=") as info:
        cond.evaluate({})
    assert info.value.field == "as_of"
    with pytest.raises(ValidationError, match="'as_of' must be"):
        cond.predicate()
    with pytest.raises(ValidationError, match="'as_of' must be"):
        cond.predicate(as_of="not a date")
    assert cond.evaluate({}, as_of=AT)
    assert cond.predicate(as_of="2026-03-01")({})
    plain = Condition.parse("x > 1")
    assert not plain.uses_time
    assert plain.evaluate({"x": 2})  # no time read, no as_of needed
    assert plain.predicate()({"x": 2})


def test_conditions_compare_and_hash_by_text() -> None:
    cond = Condition.parse("x > 1")
    assert cond != "x > 1"
    assert cond == Condition.parse("x > 1")
    assert len({cond, Condition.parse("x > 1"), Condition.parse("x > 2")}) == 2
    assert repr(cond.bind({"x": int})) == "Condition('x > 1', bound)"
