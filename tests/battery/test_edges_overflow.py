"""
Issue 13, probabilities and overflow: every probability is checked on its scale, and no KPI,
score or model output is ever a silent infinity (or a NaN born of one).

The battery is parametrised by case. The registry sweep runs every metric of
``available_metrics()`` on a small synthetic world whose money columns are pushed to the edges
(amounts near the largest float, tiny amounts, zeros) or whose frames are cut to one row, so a
metric added later is swept too. Time spans across the whole timestamp range, scorer
configurations and RFM summaries complete the battery.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle import metrics
from crmlifecycle._finite import (
    FLOAT_MAX,
    check_probabilities,
    check_probability,
    ensure_finite,
)
from crmlifecycle.errors import CrmError, DataError, SpecError, ValidationError
from crmlifecycle.metrics import available_metrics, compute_kpis, get_metric
from crmlifecycle.metrics._events import stage_probabilities
from crmlifecycle.metrics.clv import rfm_summary
from crmlifecycle.scoring import (
    Contribution,
    NaiveBayesScorer,
    PointsScorer,
    RfmScorer,
    ScoreCard,
    brier_score,
    calibration_table,
    roc_auc,
)
from crmlifecycle.sla import BusinessCalendar, SlaPolicy
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle, Stage

HUGE = 1e308  # finite, but two of them overflow a float
AS_OF = pd.Timestamp("2026-02-01", tz="UTC")


def utc(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True))


# -- probabilities: one rule, two documented scales -------------------------------------------

BAD_PROBABILITIES = [
    pytest.param(500, id="500"),
    pytest.param(-50, id="-50"),
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="inf"),
    pytest.param(True, id="bool"),
    pytest.param("50", id="text"),
    pytest.param(10**400, id="int-beyond-float"),
]


@pytest.mark.parametrize("value", BAD_PROBABILITIES)
@pytest.mark.parametrize("scale", ["percent", "fraction"])
def test_one_probability_outside_its_scale_is_refused(value: object, scale: Any) -> None:
    with pytest.raises(ValidationError, match="'p' must be a probability in") as info:
        check_probability(value, "p", scale=scale)
    assert info.value.field == "p"


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [(0, "percent", 0.0), (100, "percent", 100.0), (np.float64(0.25), "fraction", 0.25)],
)
def test_probabilities_on_the_edges_of_their_scale_pass(
    value: object, scale: Any, expected: float
) -> None:
    assert check_probability(value, "p", scale=scale) == expected


@pytest.mark.parametrize("bad", [1.5, -0.1, math.nan, math.inf])
def test_a_probability_column_names_the_column_and_rows(bad: float) -> None:
    with pytest.raises(DataError, match=r"'probability' must hold probabilities in \[0, 1\]") as e:
        check_probabilities(pd.Series([0.2, bad, 0.3]), "probability", scale="fraction")
    assert e.value.column == "probability"
    assert e.value.rows == (1,)


def _pipeline_with(probability: object) -> dict[str, Any]:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    for state in spec["states"]:
        if isinstance(state, dict) and state.get("name") == "proposal":
            state["probability"] = probability
    return spec


@pytest.mark.parametrize("probability", [500, -50, math.nan, 50.5, True, "50", math.inf])
def test_stage_probabilities_of_a_spec_are_refused_at_load(probability: object) -> None:
    with pytest.raises(SpecError, match="probability") as info:
        Lifecycle.from_dict(_pipeline_with(probability))
    assert info.value.path.endswith(".probability")


@pytest.mark.parametrize("probability", [500, -50])
def test_stage_probabilities_of_built_stages_are_refused(probability: int) -> None:
    stages = [
        Stage(name=s.name, order=s.order, type=s.type, forecast=s.forecast, probability=probability)
        if s.name == "proposal"
        else s
        for s in OPPORTUNITY_PIPELINE.stages
    ]
    with pytest.raises(SpecError, match="probability"):
        Lifecycle(
            "pipeline",
            stages,
            OPPORTUNITY_PIPELINE.transitions,
            initial=OPPORTUNITY_PIPELINE.initial,
        )


@pytest.mark.parametrize("probability", [500, -50, math.nan])
def test_the_pipeline_metrics_check_the_probabilities_they_read(probability: object) -> None:
    # a lifecycle-like object that skipped every check (its stages plain namespaces: a
    # Stage itself refuses a NaN, and a Lifecycle any of them) still cannot weight a deal
    stage = types.SimpleNamespace(name="x", order=0, probability=probability)
    fake = types.SimpleNamespace(stages=[stage])
    with pytest.raises(ValidationError, match=r"x\.probability"):
        stage_probabilities(fake)  # type: ignore[arg-type]


EVALUATIONS: list[Callable[[list[int], list[float]], object]] = [
    brier_score,
    roc_auc,
    calibration_table,
]


@pytest.mark.parametrize("measure", EVALUATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [5.0, -1.0, math.nan, math.inf], ids=str)
def test_evaluation_measures_refuse_probabilities_off_the_scale(
    measure: Callable[[list[int], list[float]], object], bad: float
) -> None:
    with pytest.raises(DataError, match="probability") as info:
        measure([1, 0, 1], [0.5, bad, 0.9])
    assert info.value.rows == (1,)


def test_naive_bayes_probabilities_stay_finite_with_lopsided_counts() -> None:
    model = {
        "as_of": "2026-01-01T00:00:00+00:00",
        "won": 10**12,
        "lost": 1,
        "features": {"c": {"edges": None, "counts": {"x": [10**12, 0], "y": [0, 1]}}},
    }
    scorer = NaiveBayesScorer(features=["c"], alpha=1e-9, model=model)
    scored = scorer.score_frame(pd.DataFrame({"c": ["x", "y"]}), as_of=AS_OF)
    probability = scored["probability"].to_numpy()
    assert np.isfinite(probability).all()
    assert ((probability >= 0) & (probability <= 1)).all()
    assert np.isfinite(scored["score"].to_numpy()).all()


# -- overflow: scalar ratios --------------------------------------------------------------------

OVERFLOWING: list[Any] = [
    pytest.param(lambda: metrics.ltv_to_cac(HUGE, 1e-10), "ltv_to_cac", id="ltv_to_cac-tiny-cac"),
    pytest.param(
        lambda: metrics.historic_clv(HUGE, gross_margin=1.0, churn_rate=1e-300),
        "historic_clv",
        id="historic_clv-tiny-churn",
    ),
    pytest.param(
        lambda: metrics.cac_payback_months(HUGE, arpu=1e-300, gross_margin=1e-10),
        "cac_payback_months",
        id="cac_payback-tiny-profit",
    ),
]


@pytest.mark.parametrize(("call", "name"), OVERFLOWING)
def test_a_ratio_that_overflows_raises_naming_itself(call: Callable[[], float], name: str) -> None:
    with pytest.raises(DataError, match=f"{name} overflows.*Hint:"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: metrics.ltv_to_cac(10**400, 1.0), id="ltv-int-beyond-float"),
        pytest.param(lambda: metrics.ltv_to_cac(1.0, 10**400), id="cac-int-beyond-float"),
        pytest.param(
            lambda: metrics.historic_clv(10**400, gross_margin=0.5, churn_rate=0.1),
            id="arpu-int-beyond-float",
        ),
        pytest.param(
            lambda: metrics.cac_payback_months(1.0, arpu=10**400, gross_margin=0.5),
            id="payback-arpu-int-beyond-float",
        ),
        pytest.param(
            lambda: metrics.historic_clv(1.0, gross_margin=10**400, churn_rate=0.1),
            id="margin-int-beyond-float",
        ),
    ],
)
def test_integers_beyond_a_float_are_a_typed_error(call: Callable[[], float]) -> None:
    with pytest.raises(ValidationError):
        call()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda: metrics.ltv_to_cac(1e300, 1e-5), 1e305, id="ltv_to_cac-huge-finite"),
        pytest.param(
            lambda: metrics.historic_clv(1e300, gross_margin=0.5, churn_rate=1e-5),
            5e304,
            id="historic_clv-huge-finite",
        ),
        pytest.param(
            lambda: metrics.cac_payback_months(1e300, arpu=1e-5, gross_margin=1.0),
            1e305,
            id="payback-huge-finite",
        ),
    ],
)
def test_huge_but_finite_ratios_are_right(call: Callable[[], float], expected: float) -> None:
    assert call() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: metrics.ltv_to_cac(1800.0, 0.0), id="ltv_to_cac-zero-cac"),
        pytest.param(
            lambda: metrics.historic_clv(100.0, gross_margin=0.8, churn_rate=0.0),
            id="historic_clv-zero-churn",
        ),
        pytest.param(
            lambda: metrics.cac_payback_months(600.0, arpu=0.0, gross_margin=0.8),
            id="payback-zero-arpu",
        ),
        pytest.param(
            lambda: metrics.cac_payback_months(600.0, arpu=100.0, gross_margin=0.0),
            id="payback-zero-margin",
        ),
    ],
)
def test_a_zero_denominator_gives_the_documented_nan(call: Callable[[], float]) -> None:
    assert math.isnan(call())


# -- overflow: KPIs over frames ------------------------------------------------------------------


def _orders(amounts: list[float]) -> pd.DataFrame:
    n = len(amounts)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
            "at": utc(*["2026-01-05"] * n),
            "amount": amounts,
        }
    )


def _deals(amounts: list[float], state: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"d{i}" for i in range(len(amounts))]
    deals = pd.DataFrame(
        {
            "opportunity_id": ids,
            "state": [state] * len(ids),
            "amount": amounts,
            "created_at": utc(*["2026-01-01"] * len(ids)),
        }
    )
    events = pd.DataFrame(
        {
            "entity_id": ids,
            "source": ["prospecting"] * len(ids),
            "dest": [state] * len(ids),
            "at": utc(*["2026-01-10"] * len(ids)),
        }
    )
    return deals, events


def _spend(amounts: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    spend = pd.DataFrame(
        {
            "channel": ["ads"] * len(amounts),
            "paid": [True] * len(amounts),
            "period": utc(*[f"2026-0{i + 1}-01" for i in range(len(amounts))]),
            "spend": amounts,
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["a"], "channel": ["ads"], "acquired_at": utc("2026-01-05")}
    )
    return spend, customers


def _revenue(amounts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(amounts))],
            "period": utc(*["2026-01-01"] * len(amounts)),
            "mrr": amounts,
        }
    )


FRAME_KPIS: list[Any] = [
    pytest.param(lambda a: metrics.average_order_value(_orders(a)), id="average_order_value"),
    pytest.param(
        lambda a: metrics.average_order_value(_orders(a), freq="M"), id="average_order_value-M"
    ),
    pytest.param(
        lambda a: metrics.average_order_value(_orders(a), by="customer_id"),
        id="average_order_value-by",
    ),
    pytest.param(
        lambda a: metrics.order_based_clv(
            _orders(a), gross_margin=1.0, lifespan_years=1, start="2026-01-01", end="2027-01-01"
        ),
        id="order_based_clv",
    ),
    pytest.param(
        lambda a: metrics.weighted_pipeline(*_deals(a, "negotiation")), id="weighted_pipeline"
    ),
    pytest.param(lambda a: metrics.forecast(*_deals(a, "negotiation")), id="forecast"),
    pytest.param(lambda a: metrics.average_deal_size(*_deals(a, "won")), id="average_deal_size"),
    pytest.param(
        lambda a: metrics.average_deal_size(*_deals(a, "won"), freq="M"),
        id="average_deal_size-M",
    ),
    pytest.param(lambda a: metrics.cac(*_spend(a)), id="cac"),
    pytest.param(lambda a: metrics.cac(*_spend(a), freq="Y"), id="cac-Y"),
    pytest.param(lambda a: metrics.arpu(_revenue(a)), id="arpu"),
    pytest.param(lambda a: metrics.mrr_movements(_revenue(a)), id="mrr_movements"),
]


@pytest.mark.parametrize("kpi", FRAME_KPIS)
def test_sums_of_huge_amounts_raise_naming_the_column(kpi: Callable[[list[float]], Any]) -> None:
    with pytest.raises(DataError, match=r"overflows.*Hint:") as info:
        kpi([HUGE, HUGE])
    assert info.value.column in {"amount", "spend", "mrr"}


def _finite_or_documented(value: object) -> None:
    if isinstance(value, pd.DataFrame):
        numeric = value.select_dtypes("number").to_numpy(dtype="float64")
        assert not np.isinf(numeric).any()
    else:
        assert isinstance(value, float | int)
        assert not math.isinf(value)


@pytest.mark.parametrize("kpi", FRAME_KPIS)
@pytest.mark.parametrize(
    "amounts",
    [
        pytest.param([HUGE], id="one-huge-row"),
        pytest.param([1e307, 1e307], id="two-large-rows"),
        pytest.param([0.0, 0.0], id="all-zero"),
        pytest.param([5e-324, 5e-324], id="tiniest-floats"),
    ],
)
def test_extreme_but_summable_amounts_give_finite_kpis(
    kpi: Callable[[list[float]], Any], amounts: list[float]
) -> None:
    _finite_or_documented(kpi(amounts))


def test_the_average_of_huge_amounts_is_right() -> None:
    assert metrics.average_order_value(_orders([HUGE])) == HUGE
    assert metrics.average_order_value(_orders([8e307, 6e307])) == pytest.approx(7e307)


# -- the registry sweep: every metric, extreme money columns -------------------------------------

_MONEY = {
    "orders": "amount",
    "spend": "spend",
    "subscriptions": "mrr",
    "opportunities": "amount",
    "leads": "budget",
}
_POLICY = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "8h"},
        "high": {"first_response": "4h", "resolution": "48h"},
        "normal": {"first_response": "8h", "resolution": "96h"},
        "low": {},
    },
    calendar=BusinessCalendar(tz="UTC", hours={"mon-sun": "00:00-24:00"}),
)


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    from crmlifecycle.synth import generate

    frames = generate(seed=3, n_leads=80, start="2025-01-01", end="2026-01-01").frames()
    return dict(frames)


def _variant(frames: dict[str, pd.DataFrame], kind: str) -> dict[str, pd.DataFrame]:
    if kind == "one-row":  # every frame cut to its first row
        return {name: frame.head(1) for name, frame in frames.items()}
    out = dict(frames)
    for frame, column in _MONEY.items():
        table = frames[frame].copy()
        present = table[column].notna()
        fill = {"huge": HUGE, "zero": 0.0, "tiny": 5e-324}[kind]
        table.loc[present, column] = fill
        out[frame] = table
    return out


_OPTIONS: dict[str, Any] = {"gross_margin": 0.8, "sla_policy": _POLICY}
_BASELINES: dict[str, object] = {}


def _run(frames: dict[str, pd.DataFrame], name: str) -> object:
    options = {
        k: v for k, v in _OPTIONS.items() if k in getattr(get_metric(name), "needs_options", ())
    }
    report = compute_kpis(frames, names=[name], **options)
    assert name not in report.skipped, report.skipped
    return report[name]


def _outcome(frames: dict[str, pd.DataFrame], name: str) -> object:
    """The metric's value, or the typed error it raised (a refusal naming the overflow)."""
    try:
        return _run(frames, name)
    except CrmError as err:
        return err


def _nans(value: object) -> int:
    if isinstance(value, pd.DataFrame):
        return int(value.select_dtypes("number").isna().to_numpy().sum())
    return int(isinstance(value, float) and math.isnan(value))


@pytest.mark.parametrize("name", available_metrics())
@pytest.mark.parametrize("kind", ["huge", "zero", "tiny", "one-row"])
def test_every_registered_metric_is_finite_or_a_typed_error(
    world: dict[str, pd.DataFrame], name: str, kind: str
) -> None:
    value = _outcome(_variant(world, kind), name)
    if isinstance(value, CrmError):  # a typed refusal naming what overflowed is allowed
        assert "Hint:" in str(value)
        return
    _finite_or_documented(value)
    if kind == "huge":  # the same data, larger amounts: nothing newly undefined
        if name not in _BASELINES:
            _BASELINES[name] = _run(world, name)
        assert _nans(value) <= _nans(_BASELINES[name])


def test_the_registry_guard_catches_a_plugged_in_metric_that_overflows() -> None:
    from crmlifecycle.metrics import FunctionMetric

    metric = FunctionMetric(
        name="overflowing",
        description="doubles a huge amount",
        requires={"orders": ["amount"]},
        function=lambda f: float(f["orders"]["amount"].to_numpy().sum()) * 10.0,
    )
    orders = _orders([HUGE])
    with pytest.raises(DataError, match=r"overflowing overflows.*'orders'"):
        ensure_finite(metric.compute({"orders": orders}), name=metric.name, inputs=["orders"])


# -- scores: bounded points, never inf or NaN ---------------------------------------------------


@pytest.mark.parametrize(
    ("config", "path"),
    [
        pytest.param({"fit": [{"when": "x > 0", "points": HUGE}]}, "fit[0].points", id="fit-huge"),
        pytest.param(
            {"fit": [{"when": "x > 0", "points": 10**400}]}, "fit[0].points", id="fit-int-huge"
        ),
        pytest.param(
            {"fit": [{"when": "x > 0", "points": -1e10}]}, "fit[0].points", id="fit-below-bound"
        ),
        pytest.param(
            {"engagement": [{"kind": "k", "points": HUGE}]},
            "engagement[0].points",
            id="engagement-huge",
        ),
        pytest.param(
            {"engagement": [{"kind": "k", "points": 1, "category": "c"}], "caps": {"c": 1e300}},
            "caps.c",
            id="cap-huge",
        ),
        pytest.param({"grades": {"A": 1e300}}, "grades.A", id="grade-threshold-huge"),
        pytest.param({"labels": {"SQL": -1e300}}, "labels.SQL", id="label-threshold-huge"),
    ],
)
def test_points_outside_the_score_domain_are_refused(config: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as info:
        PointsScorer.from_dict(config)
    assert info.value.path == path


def test_points_at_the_bound_add_up_to_a_finite_total() -> None:
    fit = [{"name": f"r{i}", "when": "x > 0", "points": 10**9} for i in range(50)]
    engagement = [{"kind": "k", "points": -(10**9)}]
    scorer = PointsScorer(fit=fit, engagement=engagement)
    many = [{"kind": "k", "at": AS_OF - pd.Timedelta(days=1)}] * 200
    card = scorer.score({"x": 1}, as_of=AS_OF, interactions=many)
    assert card.total == pytest.approx(50 * 10**9 - 200 * 10**9)
    leads = pd.DataFrame({"lead_id": ["a"], "x": [1]})
    clicks = pd.DataFrame(
        {"lead_id": ["a"] * 200, "kind": ["k"] * 200, "at": [many[0]["at"]] * 200}
    )
    scored = scorer.score_frame(leads, as_of=AS_OF, interactions=clicks)
    assert scored["score"].tolist() == [pytest.approx(card.total)]


# -- RFM: never a negative recency, frequency or monetary value ----------------------------------


def _rfm_orders(amounts: list[float]) -> pd.DataFrame:
    n = len(amounts)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i % 3}" for i in range(n)],
            "at": utc(*[f"2026-01-{i + 1:02d}" for i in range(n)]),
            "amount": amounts,
        }
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recency_days", -1),
        ("frequency", -2),
        ("monetary", -3.5),
        ("monetary", math.nan),
        ("frequency", math.inf),
        pytest.param("monetary", 10**400, id="monetary-int-beyond-float"),
        ("recency_days", True),
    ],
)
def test_rfm_score_refuses_impossible_summaries(field: str, value: object) -> None:
    scorer = RfmScorer(
        edges={"recency": [-40, -30, -20, -10], "frequency": [1, 2, 3, 4], "monetary": [1, 2, 3, 4]}
    )
    record = {"recency_days": 5, "frequency": 2, "monetary": 10.0, field: value}
    with pytest.raises(ValidationError) as info:
        scorer.score(record, as_of=AS_OF)
    assert info.value.field == field


def test_rfm_score_refuses_a_last_order_after_as_of() -> None:
    scorer = RfmScorer(
        edges={"recency": [-40, -30, -20, -10], "frequency": [1, 2, 3, 4], "monetary": [1, 2, 3, 4]}
    )
    record = {"last_order_at": AS_OF + pd.Timedelta(days=3), "frequency": 2, "monetary": 10.0}
    with pytest.raises(ValidationError) as info:
        scorer.score(record, as_of=AS_OF)
    assert info.value.field == "recency_days"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda o: RfmScorer().score_frame(o, as_of=AS_OF), id="score_frame"),
        pytest.param(lambda o: RfmScorer().fit(o, as_of=AS_OF), id="fit"),
        pytest.param(lambda o: RfmScorer().summarize(o, as_of=AS_OF), id="summarize"),
        pytest.param(lambda o: rfm_summary(o, as_of=AS_OF, monetary_value=True), id="rfm_summary"),
    ],
)
def test_rfm_refuses_negative_amounts_naming_column_and_rows(call: Callable[[Any], Any]) -> None:
    orders = _rfm_orders([10.0, -50.0, 20.0, 30.0]).assign(order_id=["1", "2", "3", "4"])
    with pytest.raises(DataError, match="negative") as info:
        call(orders)
    assert info.value.column == "amount"
    assert info.value.rows == (1,)


def test_rfm_monetary_sums_that_overflow_raise() -> None:
    with pytest.raises(DataError, match="overflows") as info:
        RfmScorer().score_frame(_rfm_orders([HUGE] * 4), as_of=AS_OF)
    assert info.value.column == "amount"


@pytest.mark.parametrize(
    "edge", [10**400, HUGE * 10, math.nan, True], ids=["int-beyond-float", "inf", "nan", "bool"]
)
def test_rfm_edges_beyond_a_float_are_a_spec_error(edge: object) -> None:
    with pytest.raises(SpecError, match=r"edges\.monetary"):
        RfmScorer.from_dict(
            {
                "edges": {
                    "recency": [-4, -3, -2, -1],
                    "frequency": [1, 2, 3, 4],
                    "monetary": [1, 2, 3, edge],
                }
            }
        )


def test_rfm_single_customer_scores_are_finite() -> None:
    scored = RfmScorer().score_frame(_rfm_orders([HUGE]), as_of=AS_OF)
    assert np.isfinite(scored[["recency_days", "monetary", "score"]].to_numpy(dtype=float)).all()


# -- spans of time: 1678 to 2261 is more nanoseconds than an int64 holds -------------------------

EARLIEST, LATEST = "1678-01-01", "2261-12-01"
SPAN_DAYS = 213_270  # date(2261, 12, 1) - date(1678, 1, 1)


def _span_deal() -> tuple[pd.DataFrame, pd.DataFrame]:
    deals = pd.DataFrame(
        {
            "opportunity_id": ["d1"],
            "state": ["won"],
            "amount": [1.0],
            "created_at": utc(EARLIEST),
        }
    )
    events = pd.DataFrame(
        {"entity_id": ["d1"], "source": ["prospecting"], "dest": ["won"], "at": utc(LATEST)}
    )
    return deals, events


SPANS: list[Any] = [
    pytest.param(
        lambda: metrics.sales_cycle_length(*_span_deal()), SPAN_DAYS, id="sales_cycle_length"
    ),
    pytest.param(
        lambda: (
            metrics.time_in_stage(
                _span_deal()[1], created=pd.Series(utc(EARLIEST).array, index=["d1"])
            )
            .set_index("state")
            .loc["prospecting", "max_days"]
        ),
        SPAN_DAYS,
        id="time_in_stage",
    ),
    pytest.param(
        lambda: metrics.first_response_time(
            pd.DataFrame({"opened_at": utc(EARLIEST), "first_response_at": utc(LATEST)})
        )["mean_hours"].iloc[0],
        SPAN_DAYS * 24,
        id="first_response_time",
    ),
    pytest.param(
        lambda: (
            RfmScorer()
            .summarize(_rfm_orders([1.0]).assign(at=utc(EARLIEST)), as_of=LATEST)["recency_days"]
            .iloc[0]
        ),
        SPAN_DAYS,
        id="rfm-recency",
    ),
    pytest.param(
        lambda: next(
            c.value
            for c in RfmScorer(
                edges={
                    "recency": [-4, -3, -2, -1],
                    "frequency": [1, 2, 3, 4],
                    "monetary": [1, 2, 3, 4],
                }
            )
            .score({"last_order_at": EARLIEST, "frequency": 1, "monetary": 1.0}, as_of=LATEST)
            .contributions
            if c.rule == "recency"
        ),
        SPAN_DAYS,
        id="rfm-score-recency",
    ),
    pytest.param(
        lambda: metrics.order_based_clv(
            _orders([365.25, 365.25]),
            gross_margin=1.0,
            lifespan_years=1,
            start=EARLIEST,
            end=LATEST,
        ),
        # AOV 365.25 x (2 orders / 2 customers / (SPAN_DAYS / 365.25) years) x 1 x 1
        365.25 * 365.25 / SPAN_DAYS,
        id="order_based_clv-window",
    ),
]


@pytest.mark.parametrize(("call", "expected"), SPANS)
def test_spans_across_the_whole_timestamp_range_are_right(
    call: Callable[[], float], expected: float
) -> None:
    assert float(call()) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("method", ["score", "score_frame"])
def test_points_decay_an_interaction_from_the_far_past_to_zero(method: str) -> None:
    scorer = PointsScorer(engagement=[{"kind": "k", "points": 5, "half_life_days": 1e6}])
    # 213,270 days at a half-life of 1e6 days: 5 * 2 ** -0.21327
    expected = 5 * 2 ** (-SPAN_DAYS / 1e6)
    clicks = pd.DataFrame({"lead_id": ["a"], "kind": ["k"], "at": utc(EARLIEST)})
    if method == "score":
        total = scorer.score({}, as_of=LATEST, interactions=clicks).total
    else:
        leads = pd.DataFrame({"lead_id": ["a"]})
        total = scorer.score_frame(leads, as_of=LATEST, interactions=clicks)["score"].iloc[0]
    assert total == pytest.approx(expected, rel=1e-9)


# -- money over money: a tiny starting MRR does not make a ratio infinite -----------------------


def _expanding(first: str, second: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": ["a", "a"], "period": utc(first, second), "mrr": [5e-324, 1e300]}
    )


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: metrics.net_revenue_retention(
                _expanding("2025-01-01", "2026-01-01"), start="2025-01-01", end="2026-01-01"
            ),
            id="nrr",
        ),
        pytest.param(
            lambda: metrics.net_revenue_retention(
                _expanding("2025-01-01", "2026-01-01").assign(plan="pro"),
                start="2025-01-01",
                end="2026-01-01",
                by="plan",
            ),
            id="nrr-by",
        ),
        pytest.param(
            lambda: metrics.mrr_movements(_expanding("2026-01-01", "2026-02-01")),
            id="mrr_movements-net-churn",
        ),
    ],
)
def test_a_ratio_over_a_tiny_starting_mrr_raises_naming_its_terms(call: Callable[[], Any]) -> None:
    with pytest.raises(DataError, match=r"overflows.*starting_mrr"):
        call()


def test_gross_retention_over_a_tiny_start_is_still_defined() -> None:
    # retained MRR is capped at the starting MRR, so GRR stays in [0, 1]
    grr = metrics.gross_revenue_retention(
        _expanding("2025-01-01", "2026-01-01"), start="2025-01-01", end="2026-01-01"
    )
    assert grr == 1.0


# -- a scorer's output record: finite totals and points, probabilities in [0, 1] -----------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        pytest.param(lambda: ScoreCard(total=math.inf), "total", id="total-inf"),
        pytest.param(lambda: ScoreCard(total=math.nan), "total", id="total-nan"),
        pytest.param(lambda: ScoreCard(total=50.0, probability=5.0), "probability", id="p-5"),
        pytest.param(lambda: ScoreCard(total=50.0, probability=-0.1), "probability", id="p-neg"),
        pytest.param(
            lambda: ScoreCard(total=50.0, probability=math.nan), "probability", id="p-nan"
        ),
        pytest.param(lambda: Contribution(rule="r", points=-math.inf), "points", id="points-inf"),
    ],
)
def test_score_records_refuse_non_finite_values(build: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.field == field


# -- a saved predictive model: counts are finite numbers >= 0 ------------------------------------


@pytest.mark.parametrize(
    ("counts", "path"),
    [
        pytest.param({"x": [math.nan, 0]}, "model.features.c.counts.x[0]", id="nan"),
        pytest.param({"x": [1, -5]}, "model.features.c.counts.x[1]", id="negative"),
        pytest.param({"x": [math.inf, 0]}, "model.features.c.counts.x[0]", id="inf"),
        pytest.param({"x": [10**400, 0]}, "model.features.c.counts.x[0]", id="int-beyond-float"),
        pytest.param({"x": [1, 2, 3]}, "model.features.c.counts.x", id="not-a-pair"),
        pytest.param({"x": "12"}, "model.features.c.counts.x", id="text"),
    ],
)
def test_naive_bayes_model_counts_are_checked_at_load(counts: object, path: str) -> None:
    model = {
        "as_of": "2026-01-01T00:00:00+00:00",
        "won": 2,
        "lost": 2,
        "features": {"c": {"edges": None, "counts": counts}},
    }
    with pytest.raises(SpecError) as info:
        NaiveBayesScorer(features=["c"], model=model)
    assert info.value.path == path


# -- properties: over the whole float range, a right finite number, NaN where undefined, or a
# -- typed error ---------------------------------------------------------------------------------


def _value_or_error(call: Callable[[], float]) -> float | DataError:
    try:
        return call()
    except DataError as err:
        return err


_NON_NEGATIVE = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)
_FRACTION = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=150, deadline=None)
@given(ltv=_NON_NEGATIVE, cac=_NON_NEGATIVE, arpu=_NON_NEGATIVE, margin=_FRACTION, churn=_FRACTION)
def test_unit_economics_are_finite_nan_or_refused(
    ltv: float, cac: float, arpu: float, margin: float, churn: float
) -> None:
    calls: list[tuple[Callable[[], float], bool]] = [
        (lambda: metrics.ltv_to_cac(ltv, cac), cac == 0),
        (lambda: metrics.historic_clv(arpu, gross_margin=margin, churn_rate=churn), churn == 0),
        (
            lambda: metrics.cac_payback_months(cac, arpu=arpu, gross_margin=margin),
            arpu * margin == 0,
        ),
    ]
    for call, undefined in calls:
        value = _value_or_error(call)
        if isinstance(value, DataError):
            assert "overflows" in str(value)
        else:
            assert math.isnan(value) if undefined else math.isfinite(value)


@settings(max_examples=100, deadline=None)
@given(amounts=st.lists(_NON_NEGATIVE, min_size=1, max_size=6))
def test_average_order_value_is_the_mean_or_refused(amounts: list[float]) -> None:
    value = _value_or_error(lambda: metrics.average_order_value(_orders(amounts)))
    if isinstance(value, DataError):
        assert value.column == "amount"
        # refused only when the total overflows (summed in eighths: six of them cannot overflow)
        assert math.fsum(a / 8 for a in amounts) > FLOAT_MAX / 8 * (1 - 1e-12)
    else:
        eighths = math.fsum(a / 8 for a in amounts)  # exact enough near the top of the range
        total = math.fsum(amounts) if eighths < FLOAT_MAX / 16 else eighths * 8
        mean = total / len(amounts)
        assert value == pytest.approx(mean, rel=1e-9)


def test_convert_churn_rate_refuses_periods_beyond_a_float() -> None:
    with pytest.raises(ValidationError) as info:
        metrics.convert_churn_rate(0.5, periods=10**400)
    assert info.value.field == "periods"


@pytest.mark.parametrize(
    ("value", "key"),
    [(10**400, "> 20"), (-(10**400), "<= 10"), (20, "(10, 20]"), (math.inf, "> 20")],
    ids=["int-beyond-float", "negative-int-beyond-float", "on-an-edge", "inf"],
)
def test_naive_bayes_bins_a_number_of_any_size_exactly(value: object, key: str) -> None:
    model = {
        "as_of": "2026-01-01T00:00:00+00:00",
        "won": 2,
        "lost": 2,
        "features": {
            "c": {
                "edges": [10, 20],
                "counts": {"<= 10": [0, 2], "(10, 20]": [1, 0], "> 20": [1, 0]},
            }
        },
    }
    scorer = NaiveBayesScorer(features=["c"], numeric={"c": [10, 20]}, model=model)
    card = scorer.score({"c": value}, as_of=AS_OF)
    assert card.contributions[-1].note == key
    assert card.probability is not None
    assert 0.0 <= card.probability <= 1.0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda f: metrics.csat(f, scale=(0, 10**400), threshold=10**399), id="csat-int-huge"
        ),
        pytest.param(lambda f: metrics.ces(f, kind="csat", scale=(0, 10**7)), id="ces-wide"),
        pytest.param(lambda f: metrics.csat(f, scale=(-(10**7), 5)), id="csat-wide-low"),
    ],
)
def test_survey_scales_are_bounded(call: Callable[[pd.DataFrame], object]) -> None:
    feedback = pd.DataFrame(
        {"kind": ["csat", "csat"], "score": [1.0, 5.0], "at": utc("2026-01-01", "2026-01-02")}
    )
    with pytest.raises(ValidationError) as info:
        call(feedback)
    assert info.value.field == "scale"


@pytest.mark.parametrize(
    ("options", "path"),
    [
        pytest.param({"budget_min": 10**400}, "budget_min", id="budget-int-huge"),
        pytest.param({"budget_min": math.nan}, "budget_min", id="budget-nan"),
        pytest.param({"points": 10**400}, "points", id="points-int-huge"),
        pytest.param({"points": math.inf}, "points", id="points-inf"),
        pytest.param({"points": 5e8}, "grades.A", id="thresholds-beyond-bound"),
    ],
)
def test_the_bant_preset_checks_its_numbers(options: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as info:
        PointsScorer.bant(**options)
    assert info.value.path == path


@pytest.mark.parametrize(
    "bins",
    [0, 1001, 10**9, 10**400, 2.5, True],
    ids=["0", "1001", "1e9", "int-beyond-float", "2.5", "bool"],
)
def test_calibration_bins_are_bounded(bins: object) -> None:
    with pytest.raises(DataError, match="bins"):
        calibration_table([1, 0], [0.2, 0.3], bins=bins)  # type: ignore[arg-type]
