"""
Every public object pickles and deep-copies, and the copy is equal or behaves the same.

One case per public class (and per public constant that is an instance): the
battery round-trips it through ``pickle`` (every protocol from 2), ``copy.deepcopy``
and ``copy.copy``, then compares the copy with the original: by value (attrs
fields, frames, mappings), or by what it does (a lifecycle fires the same, a
condition evaluates the same, a scorer scores the same, a fitted model has the
same parameters). A discovery test walks the ``__all__`` of every public module:
a new public class without a case here fails it. Hypothesis properties round-trip
drawn records, events and spec-built lifecycles.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import math
import operator
import pickle
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlifecycle
from crmlifecycle import (
    Account,
    Campaign,
    Case,
    Contact,
    Customer,
    CustomFields,
    Feedback,
    Interaction,
    Lead,
    Money,
    Opportunity,
    Order,
    Period,
    Product,
    errors,
    schema,
    testing,
)
from crmlifecycle.datasets import load_cdnow_summary, load_donations
from crmlifecycle.events import Created, FieldsChanged, Transitioned, event_from_dict
from crmlifecycle.metrics import KpiReport, get_metric
from crmlifecycle.metrics.clv import (
    BGBBModel,
    BGNBDModel,
    GammaGammaModel,
    HoldoutColumns,
    HoldoutEvaluation,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
    SummaryColumns,
)
from crmlifecycle.rules import (
    AppliedActions,
    Condition,
    CreateTask,
    EventPattern,
    FireTrigger,
    Limits,
    Notify,
    RuleSet,
    SetField,
)
from crmlifecycle.scoring import (
    Contribution,
    Evaluation,
    NaiveBayesScorer,
    OutcomeColumns,
    PointsScorer,
    RfmScorer,
    ScoreCard,
)
from crmlifecycle.sla import BusinessCalendar, CaseSla, SlaPolicy, SlaTarget, case_sla
from crmlifecycle.stages import (
    BUILTIN_HOOKS,
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    CustomField,
    FrameStep,
    Guard,
    Lifecycle,
    LintFinding,
    Stage,
    StepFrameColumns,
    StepInfo,
    TransitionDef,
    convert_lead,
)
from crmlifecycle.synth import WorldParams, generate

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
AT = T0 + timedelta(days=3)
AS_OF = pd.Timestamp("2026-03-01", tz="UTC")
EUR = Money(Decimal(12000), "EUR")

#: Public classes that have no instances of their own (abstract bases; protocols are skipped).
NOT_INSTANTIABLE = {"ColumnSpec"}

#: Every public module (no ``_``-prefixed part) of the package: the discovery tests walk their
#: ``__all__``, so a new public module is walked too.
PUBLIC_MODULES = (
    "crmlifecycle",
    *sorted(
        info.name
        for info in pkgutil.walk_packages(crmlifecycle.__path__, "crmlifecycle.")
        if not any(part.startswith("_") for part in info.name.split("."))
        and info.name != "crmlifecycle.cli.__main__"
    ),
)

SPEC = {
    "name": "ticket",
    "kind": "case",  # it steps Case records
    "states": ["todo", "doing", {"name": "done", "type": "won"}],
    "fields": [
        {"name": "tier", "type": "str", "choices": ["gold", "silver"]},
        {"name": "seats", "type": "int"},
    ],
    "transitions": [
        {"trigger": "start", "source": "todo", "dest": "doing", "when": "custom.seats >= 10"},
        {
            "trigger": "finish",
            "source": "doing",
            "dest": "done",
            "unless": "custom.tier == 'silver'",
        },
    ],
}


def _spec_lifecycle() -> Lifecycle:
    return Lifecycle.from_dict(SPEC)


def _callable_lifecycle() -> Lifecycle:
    """Guards and hooks that are module-level callables: the lifecycle pickles with them."""
    always = Guard.of(operator.is_not, name="always")  # entity is not info: True
    return Lifecycle(
        "case_like",
        ["new", "resolved"],
        [
            TransitionDef(
                trigger="resolve",
                source="new",
                dest="resolved",
                conditions=(always,),
                after=(BUILTIN_HOOKS["stamp_resolution"],),
            )
        ],
        kind="case",
    )


def _lead(**changes: Any) -> Lead:
    fields: dict[str, Any] = {"id": "L-1", "created_at": T0, "email": "ada@example.com"}
    return Lead(**{**fields, "score": 72, **changes})


def _opportunity() -> Opportunity:
    return Opportunity(id="O-1", name="Renewal", amount=EUR, created_at=T0)


def _ticket() -> Case:
    return Case(
        id="T-1",
        customer_id="C-1",
        subject="Broken",
        created_at=T0,
        state="todo",
        custom={"tier": "gold", "seats": 12},
    )


def _frame_step() -> FrameStep:
    frame = pd.DataFrame(
        {
            "id": ["L-1", "L-2"],
            "state": ["open", "contacted"],
            "state_since": pd.to_datetime([T0, T0], utc=True),
        }
    )
    return LEAD_STATUS.fire_frame(
        frame, "contact", at=AT, entities_columns=StepFrameColumns(id="id")
    )


def _fitted(model: Any, data: pd.DataFrame, **kwargs: Any) -> Any:
    return model.fit(data, **kwargs)


def _cdnow() -> pd.DataFrame:
    return load_cdnow_summary().head(400)


def _sbg_data() -> pd.DataFrame:
    from crmlifecycle.datasets import load_retention_cohorts

    return load_retention_cohorts()


def _nb_scorer() -> NaiveBayesScorer:
    history = pd.DataFrame(
        {
            "industry": ["software", "software", "software", "retail", "retail", "retail"],
            "state": ["won", "won", "lost", "won", "lost", "lost"],
            "closed_at": pd.to_datetime(["2026-01-05"] * 6, utc=True),
        }
    )
    return NaiveBayesScorer(features=["industry"], alpha=1.0).fit(history, as_of=AS_OF)


def _rfm_scorer() -> RfmScorer:
    return RfmScorer(
        edges={
            "recency": [-40, -30, -20, -10],
            "frequency": [1, 2, 3, 4],
            "monetary": [10, 20, 30, 40],
        }
    )


def _points_scorer() -> PointsScorer:
    return PointsScorer(
        fit=[{"name": "software", "when": "industry == 'software'", "points": 30}],
        engagement=[{"kind": "demo_request", "points": 40, "half_life_days": 10}],
    )


def _policy() -> SlaPolicy:
    return SlaPolicy.from_dict(
        {
            "targets": {"urgent": {"first_response": "1h", "resolution": "4h"}},
            "calendar": {"tz": "Europe/Berlin", "holidays": ["2026-01-01"]},
        }
    )


def _case_sla() -> CaseSla:
    return case_sla(_policy(), opened_at=T0, priority="urgent", as_of=AT)


def _ruleset() -> RuleSet:
    return RuleSet.from_dict(
        {
            "rules": [
                {
                    "name": "hot-lead",
                    "when": {"kind": "lead", "dest": "contacted"},
                    "if": "score >= 70 and days_since(created_at) < 30",
                    "then": [{"fire": "qualify"}, {"task": {"title": "Call", "due": "days(2)"}}],
                }
            ]
        }
    )


# -- behaviour probes: what a copy must do the same ------------------------------------------


def _sample_for(lifecycle: Lifecycle) -> Any:
    samples: dict[str, Any] = {
        "lead": _lead(),
        "opportunity": _opportunity(),
        "customer": Customer(id="C-1", created_at=T0),
        "case": Case(id="K-1", customer_id="C-1", subject="Help", created_at=T0),
        "ticket": _ticket(),
        "case_like": Case(id="K-2", customer_id="C-1", subject="Help", created_at=T0, state="new"),
    }
    return samples[lifecycle.name]


def _first_trigger(lifecycle: Lifecycle) -> str:
    return {
        "lead": "contact",
        "opportunity": "qualify",
        "customer": "acquire",
        "case": "start",
        "ticket": "start",
        "case_like": "resolve",
    }[lifecycle.name]


def _lifecycle_probe(x: Lifecycle) -> Any:
    return (
        x.to_dict() if x.name != "case_like" else x.transitions,
        x.version,
        x.fire(_sample_for(x), _first_trigger(x), at=AT),
    )


def _evaluates(x: Condition) -> Any:
    return (x.text, x.schema, x.evaluate(_lead(), as_of=AT))


def _ruleset_probe(x: RuleSet) -> Any:
    event = {
        "kind": "lead",
        "entity_id": "L-1",
        "trigger": "contact",
        "source": "open",
        "dest": "contacted",
        "at": AT,
    }
    return (x.to_dict(), x.evaluate(event, {"score": 80, "created_at": T0}))


def _points_probe(x: PointsScorer) -> Any:
    interactions = [{"kind": "demo_request", "at": AS_OF - pd.Timedelta(days=10)}]
    return (
        x.to_dict(),
        x.score({"industry": "software"}, as_of=AS_OF, interactions=interactions),
    )


def _rfm_probe(x: RfmScorer) -> Any:
    return (
        x.to_dict(),
        x.score({"recency_days": 5, "frequency": 5, "monetary": 35}, as_of=AS_OF),
    )


def _nb_probe(x: NaiveBayesScorer) -> Any:
    return (x.to_dict(), x.score({"industry": "software"}, as_of=AS_OF))


def _clv_probe(x: Any) -> Any:
    return (type(x), dict(x.params_))


# -- the cases -------------------------------------------------------------------------------

Probe = Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


CASES: dict[str, tuple[Callable[[], Any], Probe]] = {
    # values and entities
    "Money": (lambda: EUR, _identity),
    "Period": (lambda: Period(T0, AT), _identity),
    "CustomFields": (lambda: CustomFields({"tier": "gold", "seats": 4}), _identity),
    "Account": (lambda: Account(id="A-1", name="Acme", created_at=T0), _identity),
    "Contact": (lambda: Contact(id="P-1", name="Ada", created_at=T0), _identity),
    "Lead": (lambda: _lead(custom={"tier": "gold"}), _identity),
    "Opportunity": (_opportunity, _identity),
    "Customer": (lambda: Customer(id="C-1", created_at=T0), _identity),
    "Case": (_ticket, _identity),
    "Campaign": (
        lambda: Campaign(id="M-1", name="Launch", channel="ads", spend=EUR, period=Period(T0, AT)),
        _identity,
    ),
    "Product": (lambda: Product(id="S-1", name="Seat", price=EUR), _identity),
    "Order": (lambda: Order(id="R-1", customer_id="C-1", at=T0, amount=EUR), _identity),
    "Interaction": (lambda: Interaction(id="I-1", kind="call", at=T0, lead_id="L-1"), _identity),
    "Feedback": (
        lambda: Feedback(id="F-1", customer_id="C-1", at=T0, kind="nps", score=9),
        _identity,
    ),
    # events: their context / data / changes mappings
    "Created": (
        lambda: Created(
            kind="lead", entity_id="L-1", at=T0, context={"source": "web"}, data={"score": 3}
        ),
        _identity,
    ),
    "Transitioned": (
        lambda: Transitioned(
            kind="lead",
            entity_id="L-1",
            trigger="contact",
            source="open",
            dest="contacted",
            at=AT,
            context={"by": "ada", "amount": EUR},
        ),
        _identity,
    ),
    "Transitioned(empty context)": (
        lambda: Transitioned(
            kind="lead", entity_id="L-1", trigger="t", source="a", dest="b", at=AT
        ),
        _identity,
    ),
    "FieldsChanged": (
        lambda: FieldsChanged(kind="lead", entity_id="L-1", at=AT, changes={"score": [None, 90]}),
        _identity,
    ),
    # lifecycles and their parts
    "LEAD_STATUS": (lambda: LEAD_STATUS, _lifecycle_probe),
    "OPPORTUNITY_PIPELINE": (lambda: OPPORTUNITY_PIPELINE, _lifecycle_probe),
    "CUSTOMER_LIFECYCLE": (lambda: CUSTOMER_LIFECYCLE, _lifecycle_probe),
    "CASE_STATUS": (lambda: CASE_STATUS, _lifecycle_probe),
    "Lifecycle": (_spec_lifecycle, _lifecycle_probe),
    "Lifecycle(callables)": (_callable_lifecycle, _lifecycle_probe),
    "Stage": (lambda: Stage(name="won", order=3, type="closed_won", probability=100), _identity),
    "CustomField": (lambda: CustomField(name="tier", type="str", choices=["a", "b"]), _identity),
    "Guard": (
        lambda: Guard.when("score >= 50"),
        lambda g: (g.name, g.check(_lead(), StepInfo(trigger="t", source="a", dest="b", at=AT))),
    ),
    "Hook": (lambda: BUILTIN_HOOKS["stamp_resolution"], _identity),
    "TransitionDef": (
        lambda: TransitionDef(
            trigger="qualify",
            source="contacted",
            dest="qualified",
            conditions=(Guard.when("score > 1"),),
        ),
        lambda t: (t.trigger, t.source, t.dest, [g.name for g in t.conditions]),
    ),
    "StepInfo": (
        lambda: StepInfo(trigger="t", source="a", dest="b", at=AT, context={"k": 1}),
        _identity,
    ),
    "StepFrameColumns": (lambda: StepFrameColumns(id="lead_id"), _identity),
    "LintFinding": (lambda: LintFinding(code="dead-end", message="m", path="states[1]"), _identity),
    # results
    "Step": (lambda: LEAD_STATUS.fire(_lead(), "contact", at=AT), _identity),
    "Edit": (lambda: LEAD_STATUS.edit(_lead(), at=AT, score=80), _identity),
    "Merge": (
        lambda: LEAD_STATUS.merge(_lead(), _lead(id="L-2"), at=AT),
        _identity,
    ),
    "Conversion": (
        lambda: convert_lead(
            _lead(state="qualified"), at=AT, new_opportunity_id="O-9", name="Deal", amount=EUR
        ),
        _identity,
    ),
    "FrameStep": (_frame_step, _identity),
    # rules
    "Condition": (
        lambda: Condition.parse("score >= 50 and days_since(created_at) < 30"),
        _evaluates,
    ),
    "Condition(bound)": (
        lambda: Condition.parse("budget.amount > 1000 or score >= 50").bind(Lead),
        _evaluates,
    ),
    "RuleSet": (_ruleset, _ruleset_probe),
    "Rule": (lambda: _ruleset().rules[0], lambda r: (r.name, r.when, r.condition, r.actions)),
    "EventPattern": (lambda: EventPattern(kind=frozenset({"lead"})), _identity),
    "Limits": (lambda: Limits(max_nodes=50), _identity),
    "CreateTask": (
        lambda: CreateTask(rule="r", entity_id="L-1", title="Call", due_at=AT),
        _identity,
    ),
    "FireTrigger": (lambda: FireTrigger(rule="r", entity_id="L-1", trigger="qualify"), _identity),
    "SetField": (lambda: SetField(rule="r", entity_id="L-1", field="score", value=3), _identity),
    "Notify": (lambda: Notify(rule="r", entity_id="L-1", to="ada", message="hi"), _identity),
    "AppliedActions": (
        lambda: AppliedActions(
            entity=_lead(),
            events=(LEAD_STATUS.fire(_lead(), "contact", at=AT).event,),
            pending=(CreateTask(rule="r", entity_id="L-1", title="Call", due_at=AT),),
        ),
        _identity,
    ),
    # scoring
    "PointsScorer": (_points_scorer, _points_probe),
    "RfmScorer": (_rfm_scorer, _rfm_probe),
    "NaiveBayesScorer": (_nb_scorer, _nb_probe),
    "ScoreCard": (
        lambda: ScoreCard(
            total=50.0, grade="B", contributions=(Contribution(rule="a", points=50),)
        ),
        _identity,
    ),
    "Contribution": (lambda: Contribution(rule="a", points=1.5, value="x"), _identity),
    "OutcomeColumns": (lambda: OutcomeColumns(state="stage"), _identity),
    "Evaluation": (
        lambda: Evaluation(
            auc=0.7,
            brier=0.2,
            base_brier=0.25,
            n=10,
            n_won=4,
            as_of=AS_OF,
            calibration=pd.DataFrame({"predicted": [0.2, 0.8], "observed": [0.25, 0.75]}),
        ),
        _identity,
    ),
    # SLA
    "SlaPolicy": (_policy, lambda p: (p.to_dict(), p.target("urgent"), p.calendar)),
    "SlaTarget": (lambda: SlaTarget(first_response="1h", resolution="4h"), _identity),
    "BusinessCalendar": (
        lambda: BusinessCalendar(tz="Europe/Berlin", holidays=["2026-01-01"]),
        _identity,
    ),
    "CaseSla": (_case_sla, _identity),
    "SlaClock": (lambda: _case_sla().first_response, _identity),
    # metrics and CLV
    "FunctionMetric": (lambda: get_metric("win_rate"), _identity),
    "KpiReport": (
        lambda: KpiReport(values={"win_rate": 0.25}, skipped={"nps": "no data"}),
        _identity,
    ),
    "BGNBDModel": (lambda: _fitted(BGNBDModel(), _cdnow()), _clv_probe),
    "ParetoNBDModel": (lambda: _fitted(ParetoNBDModel(), _cdnow()), _clv_probe),
    "BGBBModel": (
        lambda: _fitted(
            BGBBModel(),
            load_donations(),
            weighted=True,
        ),
        _clv_probe,
    ),
    "GammaGammaModel": (
        lambda: _fitted(GammaGammaModel(), _cdnow().query("frequency > 0")),
        _clv_probe,
    ),
    "ShiftedBetaGeometricModel": (
        lambda: _fitted(ShiftedBetaGeometricModel(), _sbg_data()),
        _clv_probe,
    ),
    "HoldoutEvaluation": (
        lambda: HoldoutEvaluation(
            pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [2.0]}), {"mae": 0.5}
        ),
        lambda h: (h.customers, h.by_frequency, h.metrics),
    ),
    "HoldoutColumns": (lambda: HoldoutColumns(T="age"), _identity),
    "SummaryColumns": (lambda: SummaryColumns(weight="w"), _identity),
    # synthetic data
    "WorldParams": (lambda: WorldParams(contact_rate=0.5), _identity),
    "Dataset": (lambda: generate(n_leads=30, seed=1), _identity),
}

# the column records of the data contract
for _name in schema.__all__:
    _spec = getattr(schema, _name)
    if inspect.isclass(_spec) and _name not in NOT_INSTANTIABLE:
        CASES.setdefault(_name, (_spec, _identity))


def _errors() -> Iterator[tuple[str, Callable[[], Any]]]:
    msg = "it went wrong. Hint: fix it."
    yield "CrmError", lambda: errors.CrmError(msg)
    yield "RuleError", lambda: errors.RuleError(msg)
    yield "UnsafeRule", lambda: _raised(lambda: Condition.parse("__import__('os')"))
    yield "RuleTypeError", lambda: _raised(lambda: Condition.parse("'a' < 1"))
    yield "ValidationError", lambda: errors.ValidationError.for_field("email", "x", "an email")
    yield "SpecError", lambda: errors.SpecError(msg, path="states[0]")
    yield "DataError", lambda: errors.DataError(msg, column="amount", rows=(3,), value=-1)
    yield "FitError", lambda: errors.FitError(msg, diagnostics={"iterations": 40})
    yield "PluginError", lambda: errors.PluginError(msg, plugin="acme")
    yield (
        "MissingDependencyError",
        lambda: errors.MissingDependencyError(package="plotly", extra="plot", feature="plots"),
    )
    yield (
        "EventLogError",
        lambda: errors.EventLogError(msg, entity_id="L-1", index=2, event_id="lead/L-1/2"),
    )
    yield (
        "LifecycleVersionError",
        lambda: errors.LifecycleVersionError(
            msg, entity_id="L-1", index=2, event_id=None, recorded="a" * 16, expected="b" * 16
        ),
    )
    yield (
        "InvalidTransition",
        lambda: errors.InvalidTransition(
            trigger="win", state="open", allowed=["contact"], kind="lead"
        ),
    )
    yield (
        "GuardRejected",
        lambda: errors.GuardRejected(trigger="win", state="open", guard="score > 1", kind="lead"),
    )
    yield "MissingColumnError", lambda: errors.MissingColumnError(["state"], ["id"])
    yield "CurrencyMismatchError", lambda: errors.CurrencyMismatchError("EUR", "USD")
    yield "RuleSyntaxError", lambda: errors.RuleSyntaxError("bad token", text="a >", position=2)
    yield "UnknownFieldError", lambda: _raised(lambda: Condition.parse("scroe > 1").bind(Lead))


def _raised(func: Callable[[], Any]) -> BaseException:
    try:
        func()
    except errors.CrmError as error:
        return error
    raise AssertionError("expected an error")  # pragma: no cover


# -- comparing a copy with its original -------------------------------------------------------


def _same(a: Any, b: Any) -> bool:  # noqa: PLR0911 - one branch per kind of value
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and type(b) is pd.DataFrame and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, pd.Series | pd.Index):
        return bool(a.equals(b)) and type(a) is type(b) and a.dtype == b.dtype
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, BaseException):
        return type(a) is type(b) and a.args == b.args and _same(vars(a), vars(b))
    if attrs.has(type(a)) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a))
        )
    if isinstance(a, Mapping):
        return (
            isinstance(b, Mapping)
            and type(a) is type(b)
            and list(a) == list(b)
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(a == b)


def _round_trips(value: Any) -> Iterator[tuple[str, Any]]:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        yield f"pickle protocol {protocol}", pickle.loads(pickle.dumps(value, protocol=protocol))  # noqa: S301 - our own bytes
    yield "deepcopy", copy.deepcopy(value)
    yield "copy", copy.copy(value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_public_object_pickles_and_copies(name: str) -> None:
    factory, probe = CASES[name]
    value = factory()
    if _class_named(name) is not None:  # the case builds the class it is named after
        assert type(value).__name__ == _class_named(name)
    expected = probe(value)
    for how, twin in _round_trips(value):
        assert type(twin) is type(value), how
        assert _same(probe(twin), expected), f"{name}: the {how} differs"


@pytest.mark.parametrize("name", [name for name, _ in _errors()])
def test_every_error_pickles_with_its_attributes(name: str) -> None:
    error = dict(_errors())[name]()
    assert type(error).__name__ == name
    for how, twin in _round_trips(error):
        assert _same(twin, error), how
        assert str(twin) == str(error), how


def test_event_mappings_stay_read_only_after_a_round_trip() -> None:
    event = Transitioned(
        kind="lead", entity_id="L-1", trigger="t", source="a", dest="b", at=AT, context={"k": 1}
    )
    for _how, twin in _round_trips(event):
        with pytest.raises(TypeError):
            twin.context["k"] = 2
        assert twin.context == {"k": 1}
        assert event_from_dict(twin.to_dict()) == event


def test_a_copied_lifecycle_steps_frames_the_same() -> None:
    original = _frame_step()
    twin = pickle.loads(pickle.dumps(OPPORTUNITY_PIPELINE))  # noqa: S301 - our own bytes
    deals = pd.DataFrame(
        {
            "id": ["O-1", "O-2"],
            "state": ["lost", "lost"],
            "last_open_stage": ["proposal", "qualification"],
        }
    )
    cols = StepFrameColumns(id="id")
    assert _same(
        twin.fire_frame(deals, "reopen", at=AT, entities_columns=cols).state,
        OPPORTUNITY_PIPELINE.fire_frame(deals, "reopen", at=AT, entities_columns=cols).state,
    )
    assert _same(original, copy.deepcopy(original))


def test_a_lambda_guard_makes_the_lifecycle_unpicklable_and_says_why() -> None:
    lifecycle = Lifecycle(
        "door",
        ["closed", "open"],
        [
            TransitionDef(
                trigger="open_door",
                source="closed",
                dest="open",
                conditions=(Guard.of(lambda _entity, _info: True, name="always"),),
            )
        ],
    )
    with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
        pickle.dumps(lifecycle)


def _public_classes() -> Iterator[tuple[str, type]]:
    seen: set[type] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if (
                inspect.isclass(value)
                and value not in seen
                and not getattr(value, "_is_protocol", False)  # typing.Protocol: no instances
            ):
                seen.add(value)
                yield name, value


def _public_instances() -> Iterator[tuple[str, object]]:
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value)):
                yield f"{module_name}.{name}", value


def _class_named(case: str) -> str | None:
    """The class a case builds: its name up to a ``(`` (``None`` for a CONSTANT's case)."""
    base = case.split("(", maxsplit=1)[0]
    return None if base.isupper() else base


def test_every_public_class_has_a_case() -> None:
    covered = {_class_named(name) for name in CASES} | {name for name, _ in _errors()}
    missing = [
        name
        for name, _ in _public_classes()
        if name not in NOT_INSTANTIABLE and name not in covered
    ]
    assert not missing, (
        f"public classes without a pickling case: {missing}. Add one to CASES (or to _errors) "
        "in this file: a factory and, if the class has no value equality, a probe of its "
        "behaviour."
    )


@pytest.mark.parametrize("name", [name for name, _ in _public_instances()])
def test_every_public_constant_pickles(name: str) -> None:
    value = dict(_public_instances())[name]
    for how, twin in _round_trips(value):
        assert twin == value, how


def test_the_package_exports_what_the_battery_walks() -> None:
    assert crmlifecycle.__all__  # the root package is the first module walked


_RECORDS = st.one_of(
    testing.leads(),
    testing.opportunities(),
    testing.customers(),
    testing.cases(),
    testing.accounts(),
    testing.contacts(),
    testing.orders(),
    testing.products(),
    testing.campaigns(),
    testing.interactions(),
    testing.feedback(),
    testing.transitioned_events(),
    testing.created_events(),
    testing.fields_changed_events(),
)


@settings(max_examples=40, deadline=None)
@given(_RECORDS)
def test_any_drawn_record_or_event_round_trips(value: Any) -> None:
    for how, twin in _round_trips(value):
        assert twin == value, how
        assert _same(twin, value), how


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["opportunity", "lead"]).flatmap(lambda kind: testing.lifecycles(kind=kind)))
def test_any_spec_built_lifecycle_round_trips(lifecycle: Lifecycle) -> None:
    for how, twin in _round_trips(lifecycle):
        assert twin == lifecycle, how
        assert twin.version == lifecycle.version, how
        assert twin.to_dict() == lifecycle.to_dict(), how
