# mypy: disable-error-code="arg-type, list-item, call-overload"
"""
Bad input at the door, third sweep: each class of untyped error or silent accept, as cases.

Every case calls a public entry point with a value of the wrong kind or out of its domain and
expects a typed ``CrmError`` naming the argument (or field), with a ``Hint:``:

- an instant argument (``as_of``, ``start``, ``end``) outside the years 1677-2262;
- the rules package's constructors and ``apply_actions`` given something else than rules,
  actions, names or flags;
- arguments that must be names (stages, segments ``by=``, kinds, ``how``, ``statistic``)
  given a frame, a list or a number, and a ``by`` naming a column the KPI reads as data;
- number arguments of the CLV package that are not numbers, or integers no float holds;
- the plotting functions given something else than the table they draw;
- ranged number fields given a ``Decimal`` whose exponent no document holds;
- messages showing a user value in more than about 80 characters.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmlifecycle import Lead
from crmlifecycle._frames import utc_timestamp
from crmlifecycle._validators import in_range
from crmlifecycle.errors import CrmError, DataError, SpecError, ValidationError, short_repr
from crmlifecycle.metrics import (
    arpu,
    cac,
    combine_cohort_retention,
    conversion_rate,
    funnel,
    mrr_movements,
    net_revenue_retention,
    nps,
    sales_cycle_length,
    time_in_stage,
)
from crmlifecycle.metrics.clv import (
    customer_lifetime_value,
    rfm_summary,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_sbg,
)
from crmlifecycle.plotting import (
    plot_clv_distribution,
    plot_cohort_retention,
    plot_predicted_vs_actual,
)
from crmlifecycle.rules import EventPattern, Rule, RuleSet, apply_actions
from crmlifecycle.scoring import PointsScorer, RfmScorer
from crmlifecycle.stages import LEAD_STATUS

T0 = datetime(2026, 1, 5, tzinfo=UTC)
LEAD = Lead(id="L-1", created_at=T0)
FRAME = pd.DataFrame({"a": [1]})

EVENTS = pd.DataFrame(
    {
        "kind": "opportunity",
        "entity_id": ["o1", "o1", "o2"],
        "trigger": ["create", "qualify", "create"],
        "source": [None, "prospecting", None],
        "dest": ["prospecting", "qualification", "prospecting"],
        "at": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-02"], utc=True),
    }
)
REVENUE = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b"],
        "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-01"], utc=True),
        "mrr": [100.0, 120.0, 50.0],
    }
)
ORDERS = pd.DataFrame(
    {
        "order_id": ["1", "2", "3"],
        "customer_id": ["a", "a", None],
        "at": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-03"], utc=True),
        "amount": [10.0, 20.0, 5.0],
    }
)
DEALS = pd.DataFrame(
    {
        "opportunity_id": ["o1"],
        "created_at": pd.to_datetime(["2026-01-01"], utc=True),
        "closed_at": pd.to_datetime(["2026-01-10"], utc=True),
        "state": ["closed_won"],
        "amount": [100.0],
    }
)
FEEDBACK = pd.DataFrame({"kind": "nps", "score": [10, 3]})
SPEND = pd.DataFrame({"period": ["2026-01"], "spend": [100.0], "channel": ["ads"]})
CUSTOMERS = pd.DataFrame(
    {"customer_id": ["a"], "acquired_at": pd.to_datetime(["2026-01-05"], utc=True)}
)
HOLDOUT = pd.DataFrame({"frequency": [0, 1], "actual": [0.0, 1.0], "predicted": [0.1, 0.9]})
MATRIX = pd.DataFrame([[1.0, 0.5]], index=["2026-01"])


def _pattern() -> EventPattern:
    return EventPattern()


CASES: list[tuple[str, Callable[[], object], type[CrmError], str]] = [
    # 1. instants outside the nanosecond range
    (
        "as-of-9999",
        lambda: utc_timestamp("9999-01-01T00:00Z", name="as_of"),
        ValidationError,
        "'as_of'",
    ),
    ("as-of-1000", lambda: utc_timestamp("1000-01-01", name="as_of"), ValidationError, "1677"),
    (
        "as-of-date-9999",
        lambda: utc_timestamp(date(9999, 1, 1), name="as_of"),
        ValidationError,
        "'as_of'",
    ),
    (
        "as-of-datetime-1000",
        lambda: utc_timestamp(datetime(1000, 1, 1, tzinfo=UTC), name="as_of"),
        ValidationError,
        "'as_of'",
    ),
    (
        "as-of-datetime64",
        lambda: utc_timestamp(np.datetime64("9999-01-01"), name="as_of"),
        ValidationError,
        "'as_of'",
    ),
    (
        "metric-end-9999",
        lambda: net_revenue_retention(REVENUE, start="2026-01-01", end="9999-01-01"),
        ValidationError,
        "'end'",
    ),
    (
        "conversion-as-of-1000",
        lambda: conversion_rate(
            EVENTS, from_stage="prospecting", to_stage="qualification", as_of="1000-01-01"
        ),
        ValidationError,
        "'as_of'",
    ),
    # 2. the rules package
    ("ruleset-int", lambda: RuleSet(rules=5), ValidationError, "'rules'"),
    ("ruleset-text", lambda: RuleSet("abc"), ValidationError, "'rules'"),
    ("ruleset-items", lambda: RuleSet([1]), ValidationError, "'rules[0]'"),
    (
        "apply-actions-text",
        lambda: apply_actions("abc", LEAD, LEAD_STATUS, at=T0),
        ValidationError,
        "'actions'",
    ),
    (
        "apply-actions-items",
        lambda: apply_actions([{"fire": "x"}], LEAD, LEAD_STATUS, at=T0),
        ValidationError,
        "'actions[0]'",
    ),
    (
        "apply-actions-actor",
        lambda: apply_actions([], LEAD, LEAD_STATUS, at=T0, actor=5),
        ValidationError,
        "'actor'",
    ),
    (
        "rule-name",
        lambda: Rule(name=5, when=_pattern(), condition=None, actions=()),
        ValidationError,
        "'name'",
    ),
    (
        "rule-when",
        lambda: Rule(name="r", when=5, condition=None, actions=()),
        ValidationError,
        "'when'",
    ),
    (
        "rule-condition",
        lambda: Rule(name="r", when=_pattern(), condition="x > 1", actions=()),
        ValidationError,
        "'condition'",
    ),
    (
        "rule-actions",
        lambda: Rule(name="r", when=_pattern(), condition=None, actions=5),
        ValidationError,
        "'actions'",
    ),
    (
        "rule-priority",
        lambda: Rule(name="r", when=_pattern(), condition=None, actions=(), priority="1"),
        ValidationError,
        "'priority'",
    ),
    (
        "rule-stop",
        lambda: Rule(name="r", when=_pattern(), condition=None, actions=(), stop=1),
        ValidationError,
        "'stop'",
    ),
    ("pattern-text", lambda: EventPattern(trigger="abc"), ValidationError, "'trigger'"),
    ("pattern-items", lambda: EventPattern(dest=frozenset({1})), ValidationError, "'dest[0]'"),
    # 3. names at the door, and a by= naming a column read as data
    (
        "conversion-from-stage-frame",
        lambda: conversion_rate(EVENTS, from_stage=FRAME, to_stage="qualification"),
        ValidationError,
        "'from_stage'",
    ),
    (
        "conversion-to-stage-list",
        lambda: conversion_rate(EVENTS, from_stage="prospecting", to_stage=["x"]),
        ValidationError,
        "'to_stage'",
    ),
    ("funnel-kind-frame", lambda: funnel(EVENTS, kind=FRAME), ValidationError, "'kind'"),
    ("funnel-by-frame", lambda: funnel(EVENTS, by=FRAME), ValidationError, "'by'"),
    ("funnel-by-item", lambda: funnel(EVENTS, by=["kind", 5]), ValidationError, "'by[1]'"),
    ("funnel-by-id", lambda: funnel(EVENTS, by="entity_id"), ValidationError, "'by'"),
    ("time-in-stage-by-id", lambda: time_in_stage(EVENTS, by="entity_id"), ValidationError, "'by'"),
    (
        "nrr-by-id",
        lambda: net_revenue_retention(
            REVENUE, start="2026-01-01", end="2026-02-01", by="customer_id"
        ),
        ValidationError,
        "'by'",
    ),
    ("arpu-by-id", lambda: arpu(REVENUE, by="customer_id"), ValidationError, "'by'"),
    ("mrr-by-period", lambda: mrr_movements(REVENUE, by="period"), ValidationError, "'by'"),
    ("mrr-how-frame", lambda: mrr_movements(REVENUE, how=FRAME), ValidationError, "'how'"),
    (
        "sales-cycle-statistic-list",
        lambda: sales_cycle_length(DEALS, EVENTS, statistic=["mean"]),
        ValidationError,
        "'statistic'",
    ),
    ("nps-kind-list", lambda: nps(FEEDBACK, kind=["nps"]), ValidationError, "'kind'"),
    (
        "cac-paid-only",
        lambda: cac(SPEND, CUSTOMERS, paid_only=FRAME),
        ValidationError,
        "'paid_only'",
    ),
    (
        "combine-cohort-rates",
        lambda: combine_cohort_retention([], rates="yes"),
        ValidationError,
        "'rates'",
    ),
    ("rfm-monetary-frame", lambda: RfmScorer(monetary=FRAME), SpecError, "monetary"),
    ("rfm-segments-int", lambda: RfmScorer(segments=5), SpecError, "segments"),
    ("points-caps-list", lambda: PointsScorer(caps=["x"]), SpecError, "caps"),
    ("points-grades-text", lambda: PointsScorer(grades="A"), SpecError, "grades"),
    # 4. numbers of the CLV package
    (
        "clv-horizon-text",
        lambda: customer_lifetime_value(None, 1.0, None, horizon="x", discount_rate=0.0),
        ValidationError,
        "'horizon'",
    ),
    (
        "clv-horizon-huge-int",
        lambda: customer_lifetime_value(None, 1.0, None, horizon=10**400, discount_rate=0.0),
        ValidationError,
        "'horizon'",
    ),
    (
        "simulate-n-huge",
        lambda: simulate_bgnbd(2**100, r=1.0, alpha=1.0, a=1.0, b=1.0, T=10.0, seed=1),
        ValidationError,
        "n must be at most",
    ),
    (
        "simulate-param-huge-int",
        lambda: simulate_bgnbd(3, r=2**1100, alpha=1.0, a=1.0, b=1.0, T=10.0, seed=1),
        ValidationError,
        "'r'",
    ),
    (
        "simulate-param-text",
        lambda: simulate_sbg(3, alpha="1", beta=1.0, periods=3, seed=1),
        ValidationError,
        "'alpha'",
    ),
    (
        "simulate-T-text",
        lambda: simulate_pareto_nbd(3, r=1.0, alpha=1.0, s=1.0, beta=1.0, T="x", seed=1),
        ValidationError,
        "'T'",
    ),
    (
        "simulate-rates-too-large-to-draw",
        lambda: simulate_bgnbd(3, r=1e300, alpha=1.0, a=1.0, b=1.0, T=10.0, seed=1),
        DataError,
        "too large to draw",
    ),
    (
        "simulate-frequency-text",
        lambda: simulate_gamma_gamma(["x"], p=1.0, q=1.0, gamma=1.0, seed=1),
        ValidationError,
        "'frequency'",
    ),
    # 5. plotting
    ("plot-holdout-int", lambda: plot_predicted_vs_actual(5), ValidationError, "'evaluation'"),
    (
        "plot-holdout-list",
        lambda: plot_predicted_vs_actual([HOLDOUT]),
        ValidationError,
        "'evaluation'",
    ),
    (
        "plot-clv-bins-huge",
        lambda: plot_clv_distribution([1.0, 2.0], bins=2**100),
        ValidationError,
        "'bins'",
    ),
    (
        "plot-clv-quantile-text",
        lambda: plot_clv_distribution([1.0, 2.0], upper_quantile="0.9"),
        ValidationError,
        "'upper_quantile'",
    ),
    (
        "plot-cohort-cmap",
        lambda: plot_cohort_retention(MATRIX, cmap="Bluez"),
        ValidationError,
        "'cmap'",
    ),
    (
        "plot-cohort-rates",
        lambda: plot_cohort_retention(MATRIX, rates="yes"),
        ValidationError,
        "'rates'",
    ),
    # 7. a Decimal no document holds
    (
        "lead-score-tiny-exponent",
        lambda: Lead(id="L", created_at=T0, score=Decimal("1E-5000")),
        ValidationError,
        "'score'",
    ),
    (
        "lead-score-zero-exponent",
        lambda: Lead(id="L", created_at=T0, score=Decimal("0E-2000")),
        ValidationError,
        "'score'",
    ),
    # 9. one id rule for the RFM summary and scorer
    (
        "rfm-summary-blank-id",
        lambda: rfm_summary(ORDERS.fillna({"customer_id": " "}), as_of="2026-03-01"),
        DataError,
        "customer_id",
    ),
    (
        "rfm-summary-missing-id",
        lambda: rfm_summary(ORDERS, as_of="2026-03-01"),
        DataError,
        "missing",
    ),
    (
        "rfm-scorer-blank-id",
        lambda: RfmScorer().fit(ORDERS.fillna({"customer_id": ""}), as_of="2026-03-01"),
        DataError,
        "customer_id",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_at_the_door_is_a_typed_error_naming_it(
    call: Callable[[], object], error: type[CrmError], words: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert words in message
    assert "Hint:" in message


# -- 6. small NumPy floats compare with their bounds without a warning -----------------------------
@pytest.mark.parametrize("value", [np.float16(5), np.float32(5), np.float16(-5), np.float32(3e38)])
def test_numpy_floats_compare_with_large_bounds_without_warnings(value: Any) -> None:
    check = in_range(-1e9, 1e9)
    attribute: Any = type("A", (), {"name": "score"})()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "overflow encountered in cast" fails the test
        if abs(float(value)) <= 1e9:
            check(None, attribute, value)
        else:
            with pytest.raises(ValidationError):
                check(None, attribute, value)


def test_a_lead_score_of_a_small_numpy_float_is_stored_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lead = Lead(id="L", created_at=T0, score=np.float16(70))
    assert lead.score == 70.0


def test_a_decimal_inside_the_exponent_bound_is_still_a_score() -> None:
    assert Lead(id="L", created_at=T0, score=Decimal("1E-999")).score == Decimal("1E-999")


def test_an_instant_inside_the_range_is_read() -> None:
    assert utc_timestamp("2262-04-10", name="as_of") == pd.Timestamp("2262-04-10", tz="UTC")
    assert utc_timestamp("1677-09-22", name="as_of") == pd.Timestamp("1677-09-22", tz="UTC")


# -- 8. no message shows a value in more than about 80 characters ---------------------------------
_HUGE = 10**400

LONG: list[tuple[str, Callable[[], object]]] = [
    ("points-fit-points", lambda: PointsScorer(fit=[{"when": "score > 1", "points": _HUGE}])),
    ("points-grade", lambda: PointsScorer(grades={"A": _HUGE})),
    (
        "points-half-life",
        lambda: PointsScorer(engagement=[{"kind": "x", "points": 1, "half_life_days": -_HUGE}]),
    ),
    ("rfm-monetary-long", lambda: RfmScorer(monetary="x" * 500)),
    (
        "ruleset-priority",
        lambda: RuleSet.from_dict({"rules": [{"name": "r", "then": [], "priority": "x" * 500}]}),
    ),
    (
        "clv-margin",
        lambda: customer_lifetime_value(
            None, 1.0, None, horizon=1, discount_rate=0.0, margin=-_HUGE
        ),
    ),
    (
        "funnel-stage",
        lambda: conversion_rate(EVENTS, from_stage="x" * 500, to_stage="qualification"),
    ),
]


@pytest.mark.parametrize("call", [c[1] for c in LONG], ids=[c[0] for c in LONG])
def test_a_long_value_is_shortened_in_every_message(call: Callable[[], object]) -> None:
    with pytest.raises(CrmError) as caught:
        call()
    message = str(caught.value)
    assert len(message) < 400, message
    assert "characters)" in message or "digits" in message


def test_short_repr_is_the_one_shortener() -> None:
    assert short_repr("x" * 10) == repr("x" * 10)
    shown = short_repr(_HUGE)
    assert len(shown) <= 80
    assert shown.endswith("(401 characters)")


# -- found by a newcomer reading only the docs ---------------------------------------------------


@pytest.mark.parametrize("horizon", ["39", None, float("nan"), 0, -1, float("inf")])
def test_predict_checks_its_horizon_at_the_door(horizon: object) -> None:
    from crmlifecycle.datasets import load_cdnow_summary
    from crmlifecycle.metrics.clv import BGNBDModel

    summary = load_cdnow_summary().head(300)
    model = BGNBDModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ValidationError, match="'horizon'"):
        model.predict(summary, horizon=horizon)


@pytest.mark.parametrize("unit", ["weeks", 5, "H", ""])
def test_rfm_time_units_are_checked_by_name(unit: object) -> None:
    from crmlifecycle.metrics.clv import rfm_summary

    orders = pd.DataFrame(
        {"customer_id": ["a", "a"], "at": pd.to_datetime(["2026-01-01", "2026-01-09"], utc=True)}
    )
    with pytest.raises(ValidationError, match=r"'time_unit'.*'D', 'W'"):
        rfm_summary(orders, as_of="2026-02-01", time_unit=unit)


def test_event_json_that_does_not_parse_says_so_with_one_hint() -> None:
    from crmlifecycle.events import event_from_json

    with pytest.raises(ValidationError, match="valid JSON") as caught:
        event_from_json("{not json")
    assert str(caught.value).count("Hint:") == 1
