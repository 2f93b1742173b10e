# mypy: disable-error-code="arg-type, call-overload, dict-item, list-item"
"""
Frames at the edges: the shape and dtypes of a DataFrame never escape as a bare pandas error.

Four batteries, each parametrised by case:

- every public reader of a frame (the KPIs of ``crmlifecycle.metrics`` found by their
  parameter names, so the next KPI is covered too, and the frame functions of the other
  packages) refuses a frame with a repeated column label or MultiIndex columns with a
  ``DataError`` naming the label (one rule: ``_frames.require_columns``);
- the same readers give the same answer when the frame's columns are nullable
  (``convert_dtypes``), pyarrow-backed or categorical as with numpy dtypes;
- a missing value (``pd.NA``) in a nullable kind column is a row of no kind, as ``None`` is;
- every ``combine_*`` step refuses what is not a non-empty list of its own partials, naming
  the argument or the item (one rule: ``_frames.partial_frames``).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmlifecycle import synth
from crmlifecycle._frames import equals, partial_frames, require_columns
from crmlifecycle.errors import CrmError, DataError, MissingColumnError, ValidationError
from crmlifecycle.metrics import (
    backlog,
    cac,
    churn_rate_partial,
    cohort_retention_partial,
    combine_churn_rate,
    combine_cohort_retention,
    combine_mrr_movements,
    combine_new_customers,
    csat,
    mrr_movements_partial,
    new_customers_partial,
)
from crmlifecycle.metrics.clv import (
    BGNBDModel,
    calibration_holdout,
    rfm_combine,
    rfm_partial,
    rfm_summary,
)
from crmlifecycle.rules import Condition, RuleSet
from crmlifecycle.schema import EntityColumns, OrderColumns
from crmlifecycle.scoring import NaiveBayesScorer, PointsScorer, RfmScorer, explain_frame
from crmlifecycle.sla import SlaPolicy, sla_status
from crmlifecycle.stages import (
    CASE_STATUS,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    StepFrameColumns,
    events_from_frame,
)

AS_OF = pd.Timestamp("2026-01-01", tz="UTC")
DATA = synth.generate(seed=3, n_leads=80).frames()
DATA["leads_to_step"] = DATA["leads"].assign(trigger="contact")
DATA["summary"] = rfm_summary(DATA["orders"], as_of=AS_OF)
POLICY = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "4h"},
        "high": {"first_response": "2h", "resolution": "8h"},
        "normal": {"first_response": "4h", "resolution": "16h"},
        "low": {},
    }
)
SCORER = PointsScorer(
    fit=[
        {"name": "software", "when": "industry == 'software'", "points": 30},
        {"name": "big", "when": "company_size > 100 and budget > 1000", "points": 10},
    ],
    engagement=[{"kind": "demo_request", "points": 40, "half_life_days": 10}],
)

RULES = RuleSet.from_dict(
    {
        "rules": [
            {
                "name": "soft",
                "when": {"kind": "lead", "dest": ["contacted", "qualified"]},
                "if": "industry == 'software' and company_size > 10",
                "then": [{"fire": "qualify"}, {"set": {"field": "company", "value": "x"}}],
            },
            {
                "name": "late",
                "when": {"trigger": "contact"},
                "if": "days_since(created_at) > 30",
                "then": [{"task": {"title": "call", "due": "days(1)"}}],
            },
        ]
    }
)

DATA["scored"] = SCORER.score_frame(DATA["leads"], as_of=AS_OF, interactions=DATA["interactions"])
DATA["orders_renamed"] = DATA["orders"].rename(columns={"amount": "total"})

Reader = Callable[..., object]

#: The frame readers of the other packages: (name, function of the frames, frame names).
OTHER_READERS: list[tuple[str, Reader, tuple[str, ...]]] = [
    (
        "PointsScorer.score_frame",
        lambda leads, interactions: SCORER.score_frame(
            leads, as_of=AS_OF, interactions=interactions
        ),
        ("leads", "interactions"),
    ),
    (
        "RfmScorer.score_frame",
        lambda orders: RfmScorer().fit(orders, as_of=AS_OF).score_frame(orders, as_of=AS_OF),
        ("orders",),
    ),
    (
        "Lifecycle.fire_frame",
        lambda leads: (
            LEAD_STATUS.fire_frame(
                leads, at=AS_OF, entities_columns=StepFrameColumns(id="lead_id")
            ).frame
        ),
        ("leads_to_step",),
    ),
    ("replay_frame(lead)", lambda ev: LEAD_STATUS.replay_frame(ev, as_of=AS_OF), ("lead_events",)),
    (
        "replay_frame(opportunity)",
        lambda ev: OPPORTUNITY_PIPELINE.replay_frame(ev, as_of=AS_OF),
        ("opportunity_events",),
    ),
    ("replay_frame(case)", lambda ev: CASE_STATUS.replay_frame(ev, as_of=AS_OF), ("case_events",)),
    (
        "events_from_frame",
        lambda ev: [e.to_dict() for e in events_from_frame(ev)],
        ("case_events",),
    ),
    ("sla_status", lambda cases: sla_status(cases, POLICY, as_of=AS_OF), ("cases",)),
    (
        "sla_status(events)",
        lambda cases, ev: sla_status(cases, POLICY, as_of=AS_OF, events=ev),
        ("cases", "case_events"),
    ),
    (
        "backlog(events)",  # a categorical dest lacks the initial state 'new'
        lambda cases, ev: backlog(cases, as_of=AS_OF, events=ev, by="state"),
        ("cases", "case_events"),
    ),
    (
        "NaiveBayesScorer",
        lambda deals: (
            NaiveBayesScorer(features=["owner"])
            .fit(deals, as_of=AS_OF)
            .score_frame(deals, as_of=AS_OF)
        ),
        ("opportunities",),
    ),
    (
        "RuleSet.evaluate_frame",
        lambda events, leads: RULES.evaluate_frame(
            events, leads, entities_columns=EntityColumns(id="lead_id"), as_of=AS_OF
        ),
        ("lead_events", "leads"),
    ),
    ("explain_frame", lambda scored: explain_frame(scored).tolist(), ("scored",)),
    (
        "ColumnSpec.to_contract",
        lambda orders: OrderColumns(amount="total").to_contract(orders, frame_name="orders"),
        ("orders_renamed",),
    ),
    ("rfm_summary", lambda orders: rfm_summary(orders, as_of=AS_OF), ("orders",)),
    (
        "calibration_holdout",
        lambda orders: calibration_holdout(orders, as_of="2025-06-01", end=AS_OF),
        ("orders",),
    ),
    ("BGNBDModel.fit", lambda summary: BGNBDModel().fit(summary).params_, ("summary",)),
    (
        "Condition.evaluate_frame",
        lambda leads: (
            Condition.parse("industry == 'software' and company_size > 10")
            .evaluate_frame(leads)
            .tolist()
        ),
        ("leads",),
    ),
]

#: KPI parameter name -> the frame of the synthetic data set it reads.
_KPI_FRAMES = {
    "events": "opportunity_events",
    "orders": "orders",
    "activity": "orders",
    "customers": "customers",
    "spend": "spend",
    "opportunities": "opportunities",
    "subscriptions": "subscriptions",
    "cases": "cases",
    "feedback": "feedback",
    "leads": "leads",
}
_KPI_OPTIONS: dict[str, dict[str, Any]] = {
    "conversion_rate": {"from_stage": "qualification", "to_stage": "won"},
    "churn_rate": {"start": "2025-01-01", "end": "2025-07-01"},
    "retention_rate": {"start": "2025-01-01", "end": "2025-07-01"},
    "gross_revenue_retention": {"start": "2025-01-01", "end": "2025-07-01"},
    "net_revenue_retention": {"start": "2025-01-01", "end": "2025-07-01"},
    "sla_breach_rate": {"policy": POLICY},
    "order_based_clv": {"gross_margin": 0.5, "lifespan_years": 3.0},
}


def _kpi_readers() -> list[tuple[str, Reader, tuple[str, ...]]]:
    """Every KPI of ``crmlifecycle.metrics`` whose required arguments are all frames."""
    from crmlifecycle import metrics

    found: list[tuple[str, Reader, tuple[str, ...]]] = []
    for name in metrics.__all__:
        func = getattr(metrics, name)
        if not inspect.isfunction(func) or name.startswith("combine_"):
            continue
        signature = inspect.signature(func)
        options = dict(_KPI_OPTIONS.get(name, {}))
        if "as_of" in signature.parameters:
            options["as_of"] = AS_OF
        required = [p.name for p in signature.parameters.values() if p.default is p.empty]
        positional = [p for p in required if p in _KPI_FRAMES]
        if not positional or any(p not in _KPI_FRAMES and p not in options for p in required):
            continue

        def call(*frames: pd.DataFrame, _f: Any = func, _o: Any = options) -> object:
            return _f(*frames, **_o)

        found.append((f"metrics.{name}", call, tuple(_KPI_FRAMES[p] for p in positional)))
    return found


READERS = _kpi_readers() + OTHER_READERS


def _outcome(func: Reader, frames: list[pd.DataFrame]) -> tuple[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", func(*frames)
        except CrmError as err:
            return "error", type(err).__name__


def _same(left: object, right: object) -> bool:
    if isinstance(left, pd.DataFrame) and isinstance(right, pd.DataFrame):
        pd.testing.assert_frame_equal(
            left.reset_index(drop=True),
            right.reset_index(drop=True),
            check_dtype=False,
            check_categorical=False,
            check_index_type=False,
            check_column_type=False,
        )
        return True
    if isinstance(left, pd.Series) and isinstance(right, pd.Series):
        pd.testing.assert_series_equal(
            left, right, check_dtype=False, check_categorical=False, check_index_type=False
        )
        return True
    return bool(left == right) or (left != left and right != right)  # noqa: PLR0124 - NaN


def test_the_sweep_finds_the_readers() -> None:
    names = {name for name, _, _ in READERS}
    assert {"metrics.backlog", "metrics.funnel", "metrics.cac", "metrics.csat"} <= names
    assert len(names) >= 40


# -- labels ---------------------------------------------------------------------------------------
def _repeated(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[:, [0]]], axis=1)


def _repeated_renamed(frame: pd.DataFrame) -> pd.DataFrame:
    copy = frame.copy()
    copy.columns = [*frame.columns[:-1], frame.columns[1]]
    return copy


def _multi(frame: pd.DataFrame) -> pd.DataFrame:
    copy = frame.copy()
    copy.columns = pd.MultiIndex.from_tuples([(c, "x") for c in frame.columns])
    return copy


LABELS = {"repeated": _repeated, "repeated-renamed": _repeated_renamed, "multiindex": _multi}
LABEL_CASES = [
    (f"{name}-{label}-{frames[i]}", func, frames, i, label)
    for name, func, frames in READERS
    for label in LABELS
    for i in range(len(frames))
]


@pytest.mark.parametrize(
    ("func", "frames", "position", "label"),
    [c[1:] for c in LABEL_CASES],
    ids=[c[0] for c in LABEL_CASES],
)
def test_repeated_and_multiindex_columns_are_a_data_error(
    func: Reader, frames: tuple[str, ...], position: int, label: str
) -> None:
    given = [DATA[f] for f in frames]
    given[position] = LABELS[label](given[position])
    with pytest.raises(DataError, match=r"appears 2 times|MultiIndex columns") as info:
        func(*given)
    assert info.value.column is not None
    assert "Hint:" in str(info.value)


def test_the_label_rule_names_the_label() -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["id", "amount", "id"])
    with pytest.raises(DataError, match="column 'id' appears 2 times in the orders frame"):
        require_columns(frame, ["amount"], frame_name="orders")
    with pytest.raises(DataError, match="a column name must be text"):
        require_columns(pd.DataFrame({"a": [1]}), [0], frame_name="orders")


# -- dtypes ---------------------------------------------------------------------------------------
def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    copy = frame.copy()
    for column in copy.columns:
        if pd.api.types.is_string_dtype(copy[column].dtype):
            copy[column] = copy[column].astype("category")
    return copy


DTYPES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "nullable": lambda f: f.convert_dtypes(),
    "pyarrow": lambda f: f.convert_dtypes(dtype_backend="pyarrow"),
    "categorical": _categorical,
}
DTYPE_CASES = [
    (f"{name}-{dtype}", func, frames, dtype) for name, func, frames in READERS for dtype in DTYPES
]


@pytest.mark.parametrize(
    ("func", "frames", "dtype"), [c[1:] for c in DTYPE_CASES], ids=[c[0] for c in DTYPE_CASES]
)
def test_nullable_pyarrow_and_categorical_columns_give_the_same_answer(
    func: Reader, frames: tuple[str, ...], dtype: str
) -> None:
    plain = [DATA[f] for f in frames]
    expected = _outcome(func, plain)
    kind, value = _outcome(func, [DTYPES[dtype](f) for f in plain])
    assert kind == expected[0], value
    assert _same(expected[1], value)


# -- a missing kind -------------------------------------------------------------------------------
def _kind_missing(frame: pd.DataFrame, *, nullable: bool) -> pd.DataFrame:
    copy = frame.copy()
    copy["kind"] = copy["kind"].astype(object)
    copy.loc[copy.index[0], "kind"] = None
    return copy.convert_dtypes() if nullable else copy


MISSING_KIND: list[tuple[str, Callable[[pd.DataFrame], object], str]] = [
    ("csat", csat, "feedback"),
    (
        "sla_status",
        lambda f: sla_status(DATA["cases"], POLICY, as_of=AS_OF, events=f),
        "case_events",
    ),
    ("backlog", lambda f: backlog(DATA["cases"], as_of=AS_OF, events=f), "case_events"),
    ("replay_frame", lambda f: CASE_STATUS.replay_frame(f, as_of=AS_OF), "case_events"),
]


@pytest.mark.parametrize(
    ("func", "frame"), [c[1:] for c in MISSING_KIND], ids=[c[0] for c in MISSING_KIND]
)
def test_a_missing_kind_is_read_alike_in_nullable_and_object_columns(
    func: Callable[[pd.DataFrame], object], frame: str
) -> None:
    plain = _outcome(func, [_kind_missing(DATA[frame], nullable=False)])
    nullable = _outcome(func, [_kind_missing(DATA[frame], nullable=True)])
    assert plain[0] == nullable[0]
    assert _same(plain[1], nullable[1])


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["lead", None, "case"], dtype=object),
        pd.Series(["lead", pd.NA, "case"], dtype="string"),
        pd.Series(["lead", None, "case"], dtype="category"),
        pd.Series(["lead", None, "case"], dtype="string[pyarrow]"),
    ],
    ids=["object", "string", "category", "pyarrow"],
)
def test_equals_treats_a_missing_cell_as_not_equal(series: pd.Series) -> None:
    assert equals(series, "lead").tolist() == [True, False, False]
    assert equals(series, "new").tolist() == [False, False, False]  # not a category


def test_pyarrow_timestamps_follow_the_time_rule() -> None:
    orders = DATA["orders"]
    arrow = orders.assign(at=orders["at"].astype("timestamp[us, tz=Europe/Berlin][pyarrow]"))
    assert _same(rfm_summary(orders, as_of=AS_OF), rfm_summary(arrow, as_of=AS_OF))


# -- combine steps --------------------------------------------------------------------------------
PARTIALS = {
    "churn": churn_rate_partial(DATA["customers"]),
    "cohort": cohort_retention_partial(DATA["orders"]),
    "mrr": mrr_movements_partial(DATA["subscriptions"]),
    "new": new_customers_partial(DATA["customers"], freq="M"),
    "rfm": rfm_partial(DATA["orders"], as_of=AS_OF),
}
COMBINE: dict[str, Callable[[object], object]] = {
    "churn": combine_churn_rate,
    "cohort": combine_cohort_retention,
    "mrr": combine_mrr_movements,
    "new": lambda p: combine_new_customers(p, freq="M"),
    "rfm": rfm_combine,
}


def _bad_partials(kind: str) -> dict[str, tuple[object, type[CrmError], str]]:
    own = PARTIALS[kind]
    other = PARTIALS["rfm" if kind != "rfm" else "churn"]
    numbers = own.copy()
    value = next(c for c in numbers.columns if c.startswith(("new", "customers", "acq", "T")))
    numbers[value] = numbers[value].astype(str)
    return {
        "empty": ([], ValidationError, "'partials' must be at least one frame"),
        "none": (None, ValidationError, "'partials'"),
        "int": (5, ValidationError, "'partials'"),
        "text": ("partials", ValidationError, "'partials'"),
        "one-frame": (own, ValidationError, "wrap a single frame"),
        "mapping": ({"a": own}, ValidationError, "'partials'"),
        "ints": ([1, 2], ValidationError, "'partials[0]'"),
        "none-item": ([own, None], ValidationError, "'partials[1]'"),
        "other-kind": ([own, other], MissingColumnError, "partials[1]"),
        "only-other-kind": ([other], MissingColumnError, "partials[0]"),
        "other-columns": ([own, own.assign(extra=1)], DataError, "partials[1] has other columns"),
        "text-counts": ([numbers], DataError, "partials[0]: column"),
    }


COMBINE_CASES = [
    (f"{kind}-{case}", kind, *spec)
    for kind in COMBINE
    for case, spec in _bad_partials(kind).items()
]


@pytest.mark.parametrize(
    ("kind", "partials", "error", "words"),
    [c[1:] for c in COMBINE_CASES],
    ids=[c[0] for c in COMBINE_CASES],
)
def test_combine_steps_refuse_what_is_not_a_list_of_their_partials(
    kind: str, partials: object, error: type[CrmError], words: str
) -> None:
    with pytest.raises(error) as info:
        COMBINE[kind](partials)
    assert words in str(info.value)
    assert "Hint:" in str(info.value)


@pytest.mark.parametrize("kind", list(COMBINE))
def test_combine_steps_accept_any_iterable_of_partials_and_empty_partials(kind: str) -> None:
    own = PARTIALS[kind]
    expected = COMBINE[kind]([own])
    assert _same(expected, COMBINE[kind](p for p in (own, own.iloc[:0])))


def test_partial_frames_returns_the_frames() -> None:
    one = pd.DataFrame({"n": np.array([1, 2])})
    assert partial_frames((one,), ["n"], values=["n"], producer="count") == [one]


# -- a missing flag -------------------------------------------------------------------------------
def test_a_missing_manual_flag_is_read_alike_in_nullable_and_object_columns() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": ["O-1", "O-2", "O-3"],
            "state": ["prospecting", "qualification", "proposal"],
            "probability": [10, 20, 50],
            "trigger": ["qualify", "propose", "negotiate"],
            "probability_manual": [None, True, False],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    columns = StepFrameColumns(id="opportunity_id")
    plain = OPPORTUNITY_PIPELINE.fire_frame(deals, at=AS_OF, entities_columns=columns).frame
    nullable = OPPORTUNITY_PIPELINE.fire_frame(
        deals.convert_dtypes(), at=AS_OF, entities_columns=columns
    ).frame
    assert _same(plain, nullable)
    assert nullable["probability"].tolist() == [20, 20, 80]  # O-2's probability is manual


@pytest.mark.parametrize("dtype", ["boolean", "bool[pyarrow]"])
def test_a_missing_paid_flag_is_a_data_error_naming_the_column(dtype: str) -> None:
    spend = DATA["spend"].astype({"paid": dtype})
    spend.loc[spend.index[2], "paid"] = None
    with pytest.raises(
        DataError, match=r"column 'paid' has missing true/false values in rows \[2\]"
    ):
        cac(spend, DATA["customers"], paid_only=True)
    assert cac(DATA["spend"].astype({"paid": dtype}), DATA["customers"], paid_only=True) == cac(
        DATA["spend"], DATA["customers"], paid_only=True
    )
