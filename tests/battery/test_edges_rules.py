"""
Rules at the edges: the two engines agree on columns without type evidence and on instants
beyond nanoseconds, and a ``set`` action can name only a field a record can have.

Parametrised batteries:

- every all-missing column dtype (what ``read_csv`` gives for an empty column, and its nullable
  and object cousins) under every kind of operation: the frame engine answers what the record
  engine answers row by row (no ``RuleTypeError`` for ``x == 'software'``), and so do
  ``PointsScorer.score_frame`` and ``RuleSet.evaluate_frame``;
- ``object`` columns of Python instants outside 1677-2262: the same answer, or the same error,
  on both engines;
- ``set`` action fields: private, dunder, dotted, keyword and edit-argument names are refused
  when the rule set is loaded (``SpecError`` at ``rules[i].then[j].set.field``) and when the
  action is applied (``ValidationError`` naming ``field``); with a schema, a field it lacks
  is refused at load.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmlifecycle import Lead
from crmlifecycle.errors import CrmError, SpecError, ValidationError
from crmlifecycle.rules import Condition, RuleSet, SetField
from crmlifecycle.scoring import PointsScorer
from crmlifecycle.stages import LEAD_STATUS

AS_OF = datetime(2026, 3, 31, tzinfo=UTC)

#: An all-missing column as each dtype holds it.
ALL_MISSING = {
    "float64-nan": pd.Series([np.nan, np.nan], dtype="float64"),
    "object-none": pd.Series([None, None], dtype=object),
    "datetime-nat": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"),
    "naive-nat": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"),
    "timedelta-nat": pd.Series([pd.NaT, pd.NaT], dtype="timedelta64[ns]"),
    "boolean-na": pd.Series([pd.NA, pd.NA], dtype="boolean"),
    "Int64-na": pd.Series([pd.NA, pd.NA], dtype="Int64"),
    "Float64-na": pd.Series([pd.NA, pd.NA], dtype="Float64"),
    "string-na": pd.Series([pd.NA, pd.NA], dtype="string"),
    "str-nan": pd.Series([None, None], dtype="str"),
    "category-nan": pd.Series([None, None], dtype="category"),
    "pyarrow-null": pd.Series([None, None], dtype="string[pyarrow]"),
}
#: One expression per kind of operation a column can meet.
EXPRESSIONS = [
    "x == 'software'",
    "x != 'software'",
    "x > 3",
    "x",
    "not x",
    "x == true",
    "is_missing(x)",
    "x > date('2026-01-01')",
    "x in ['a', 'b']",
    "x not in [1, 2]",
    "days_since(x) > 3",
    "lower(x) == 'a'",
    "x + 1 > 2",
    "coalesce(x, 1) > 0",
    "length(x) > 1",
    "year(x) > 2000",
    "x - now() > days(1)",
    "x.amount > 5",
]


def _outcome(func: Any) -> tuple[str, object]:
    try:
        return "ok", func()
    except CrmError as err:
        return "error", type(err).__name__


def _both(text: str, frame: pd.DataFrame) -> tuple[tuple[str, object], tuple[str, object]]:
    cond = Condition.parse(text)
    rows = frame.to_dict("records")
    vector = _outcome(lambda: cond.evaluate_frame(frame, as_of=AS_OF).tolist())
    scalar = _outcome(lambda: [cond.evaluate(r, as_of=AS_OF) for r in rows])
    return vector, scalar


@pytest.mark.parametrize("text", EXPRESSIONS)
@pytest.mark.parametrize("dtype", list(ALL_MISSING))
def test_an_all_missing_column_compares_as_missing_values_do_on_records(
    dtype: str, text: str
) -> None:
    frame = pd.DataFrame({"x": ALL_MISSING[dtype]})
    vector, scalar = _both(text, frame)
    assert vector == scalar


@pytest.mark.parametrize("dtype", list(ALL_MISSING))
def test_a_frame_without_rows_has_no_type_evidence_either(dtype: str) -> None:
    frame = pd.DataFrame({"x": ALL_MISSING[dtype].iloc[:0]})
    assert Condition.parse("x == 'software'").evaluate_frame(frame).tolist() == []


def test_an_empty_csv_column_scores_like_missing_values() -> None:
    leads = pd.read_csv(io.StringIO("lead_id,industry,company_size\nL-1,,500\nL-2,,20\n"))
    scorer = PointsScorer(
        fit=[
            {"name": "software", "when": "industry == 'software'", "points": 30},
            {"name": "big", "when": "company_size >= 200", "points": 20},
        ]
    )
    scored = scorer.score_frame(leads, as_of=AS_OF)
    records = [scorer.score(r, as_of=AS_OF).total for r in leads.to_dict("records")]
    assert scored["score"].tolist() == records == [20.0, 0.0]


def test_rule_sets_read_an_all_missing_entity_column_like_records() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {"name": "soft", "if": "industry == 'software'", "then": [{"fire": "qualify"}]},
                {"name": "other", "if": "industry != 'software'", "then": [{"fire": "reject"}]},
            ]
        }
    )
    events = pd.DataFrame(
        {
            "kind": ["lead"],
            "entity_id": ["L-1"],
            "trigger": ["contact"],
            "source": ["open"],
            "dest": ["contacted"],
            "at": pd.to_datetime(["2026-03-01"], utc=True),
        }
    )
    leads = pd.DataFrame({"lead_id": ["L-1"], "industry": [np.nan]})
    table = rules.evaluate_frame(events, leads)
    event = events.iloc[0].to_dict()
    assert table.empty
    assert rules.evaluate(event, {"id": "L-1", "industry": np.nan}) == []


#: Instants and durations beyond what nanoseconds hold (years 1677-2262, about 292 years).
WIDE = {
    "year-1": pd.Series(
        [datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)], dtype=object
    ),
    "year-9999": pd.Series([datetime(9999, 12, 31, tzinfo=UTC), None], dtype=object),
    "naive-dates": pd.Series([date(1, 1, 1), date(9999, 1, 1)], dtype=object),
    "naive-year-1": pd.Series([datetime(1, 1, 1), datetime(2026, 1, 1)], dtype=object),
    "near-the-edge": pd.Series(
        [datetime(1677, 9, 21, tzinfo=UTC), datetime(2262, 4, 12, tzinfo=UTC)], dtype=object
    ),
    "microseconds-aware": pd.Series(
        [datetime(1, 1, 1, tzinfo=UTC), None], dtype="datetime64[us, UTC]"
    ),
    "microseconds-naive": pd.Series(
        [datetime(9999, 1, 1), datetime(2020, 1, 1)], dtype="datetime64[us]"
    ),
    "pyarrow-year-1": pd.Series(
        [datetime(1, 1, 1, tzinfo=UTC), None], dtype="timestamp[us, tz=UTC][pyarrow]"
    ),
    "durations-object": pd.Series([timedelta(days=999_999_999), timedelta(days=1)], dtype=object),
    "durations-microseconds": pd.Series([timedelta(days=200_000), None], dtype="timedelta64[us]"),
}


@pytest.mark.parametrize(
    "text", [*EXPRESSIONS, "x > days(2)", "x * 2 > days(1)", "now() + x > now()"]
)
@pytest.mark.parametrize("values", list(WIDE))
def test_values_beyond_nanoseconds_get_the_record_engines_answer(values: str, text: str) -> None:
    frame = pd.DataFrame({"x": WIDE[values]})
    vector, scalar = _both(text, frame)
    assert vector == scalar


def test_instants_beyond_nanoseconds_with_a_moment_per_row() -> None:
    frame = pd.DataFrame({"x": pd.Series([datetime(1, 1, 1, tzinfo=UTC)] * 2, dtype=object)})
    moments = pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True))
    result = Condition.parse("days_since(x) > 3").evaluate_frame(frame, as_of=moments)
    assert result.tolist() == [True, True]


# -- set actions ----------------------------------------------------------------------------------
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEAD = Lead(id="L-1", created_at=T0)
#: Names that can never be the field of a set action, and the words of the refusal.
NOT_FIELDS = {
    "__class__": "public field name",
    "__dict__": "public field name",
    "_sequence": "public field name",
    "_x": "public field name",
    "a.b": "a field name",
    "1abc": "a field name",
    "class": "a field name",
    "with space": "a field name",
    "at": "the edit's own arguments",
    "actor": "the edit's own arguments",
    "context": "the edit's own arguments",
    "entity": "the edit's own arguments",
}


def _document(field: str) -> dict[str, Any]:
    action = {"set": {"field": field, "value": "v"}}
    return {"rules": [{"name": "r", "when": {"kind": "lead"}, "then": [{"fire": "x"}, action]}]}


@pytest.mark.parametrize(("field", "words"), list(NOT_FIELDS.items()), ids=list(NOT_FIELDS))
def test_a_set_of_a_name_that_is_no_field_is_refused_at_load(field: str, words: str) -> None:
    for schema in (None, Lead, {"company": str}):
        with pytest.raises(SpecError, match=r"rules\[0\]\.then\[1\]\.set\.field") as info:
            RuleSet.from_dict(_document(field), schema=schema)
        assert words in str(info.value)
        assert "Hint:" in str(info.value)


@pytest.mark.parametrize(("field", "words"), list(NOT_FIELDS.items()), ids=list(NOT_FIELDS))
def test_a_set_of_a_name_that_is_no_field_is_refused_at_apply(field: str, words: str) -> None:
    action = SetField(rule="r", entity_id="L-1", field=field, value="v")
    with pytest.raises(ValidationError, match="'field' must be") as info:
        action.apply(LEAD_STATUS, LEAD, at=T0)
    assert words in str(info.value)
    assert "rule 'r'" in str(info.value)


def test_a_set_of_a_field_the_schema_lacks_is_refused_at_load() -> None:
    with pytest.raises(SpecError, match=r"then\[1\]\.set\.field.*'compnay'.*did you mean") as info:
        RuleSet.from_dict(_document("compnay"), schemas={"lead": {"company": str, "score": float}})
    assert "Hint:" in str(info.value)
    RuleSet.from_dict(_document("company"), schemas={"lead": {"company": str}})


def test_a_record_with_custom_fields_checks_the_name_when_the_action_is_applied() -> None:
    # Lead has custom fields (its lifecycle declares them): the name is checked by the edit
    rules = RuleSet.from_dict(_document("tier"), schema=Lead)
    (spec,) = [s for s in rules.rules[0].actions if s.kind == "set"]
    with pytest.raises(ValidationError, match="'tier' must be a field of Lead"):
        SetField(rule="r", entity_id="L-1", field=spec.field, value="v").apply(
            LEAD_STATUS, LEAD, at=T0
        )


def test_a_set_of_a_public_field_still_applies() -> None:
    edited = SetField(rule="r", entity_id="L-1", field="company", value="Acme").apply(
        LEAD_STATUS, LEAD, at=T0
    )
    assert edited.entity.company == "Acme"
