"""
Issue 13's identity, kind and timeline classes, as a battery of cases.

- **Kind.** A record stepped, edited, assigned, merged, created, checked or
  replayed through the lifecycle of another kind of record is refused
  (``ValidationError`` naming ``<argument>.kind``): every pair of a standard
  record and a standard lifecycle of another kind, through every entry point.
- **Logs of one record.** ``replay`` and ``state_at`` refuse events of another
  kind or entity and unsorted logs (``EventLogError``), never answer from them.
- **Ids.** One rule for an id column (missing, ``None``, NaN, ``pd.NA``, empty or
  blank text is no id): ``fire_frame`` (also refusing an id listed twice),
  ``replay_frame``, the stage readers and every metric reading customer ids
  refuse such rows with a ``DataError`` naming the column and the rows.
- **Timelines.** Nothing happens before a record exists: no negative duration
  from any stage or cycle KPI; business time refuses an end before its start.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle import Case, Customer, Lead, Money, Opportunity
from crmlifecycle._event_rows import stage_rows
from crmlifecycle._ids import missing_ids
from crmlifecycle.errors import DataError, EventLogError, ValidationError
from crmlifecycle.events import Created, Transitioned, event_from_json, event_to_json
from crmlifecycle.metrics import (
    arpu,
    average_order_value,
    cac,
    churn_rate,
    churn_rate_partial,
    cohort_retention,
    cohort_retention_partial,
    deal_stages,
    first_response_time,
    gross_revenue_retention,
    net_revenue_retention,
    new_customers,
    new_customers_partial,
    order_based_clv,
    resolution_time,
    retention_rate,
    sales_cycle_length,
    stage_spells,
    stage_velocity,
    time_in_stage,
)
from crmlifecycle.rules._actions import FireTrigger
from crmlifecycle.sla import BusinessCalendar
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Guard,
    Hook,
    Lifecycle,
    Stage,
    StepFrameColumns,
    StepInfo,
    TransitionDef,
    convert_lead,
    events_from_frame,
    events_to_frame,
    fire_frame,
    lint_spec,
    replay_frame,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


# -- kind ---------------------------------------------------------------------------------------

RECORDS: dict[str, Callable[[str], Any]] = {
    "lead": lambda i: Lead(id=i, created_at=T0),
    "opportunity": lambda i: Opportunity(id=i, name="Acme", amount=Money(1, "EUR"), created_at=T0),
    "customer": lambda i: Customer(id=i, created_at=T0),
    "case": lambda i: Case(id=i, customer_id="C-1", subject="Help", created_at=T0),
}
LIFECYCLES: dict[str, Lifecycle] = {
    "lead": LEAD_STATUS,
    "opportunity": OPPORTUNITY_PIPELINE,
    "customer": CUSTOMER_LIFECYCLE,
    "case": CASE_STATUS,
}
OPERATIONS: dict[str, tuple[str, Callable[[Lifecycle, Any, Any], object]]] = {
    "fire": ("entity", lambda lc, r, _o: lc.fire(r, lc.trigger_names[0], at=day(1))),
    "edit": ("entity", lambda lc, r, _o: lc.edit(r, at=day(1), custom={"a": 1})),
    "assign": ("entity", lambda lc, r, _o: lc.assign(r, "ana", at=day(1))),
    "merge": ("survivor", lambda lc, r, o: lc.merge(r, o, at=day(1))),
    "create": ("entity", lambda lc, r, _o: lc.create(r)),
    "check": ("entity", lambda lc, r, _o: lc.check(r)),
    "can_fire": ("entity", lambda lc, r, _o: lc.can_fire(r, lc.trigger_names[0])),
    "triggers": ("entity", lambda lc, r, _o: lc.triggers(r)),
    "replay": ("initial", lambda lc, r, _o: lc.replay(r, [])),
    "rule fire action": (
        "entity",
        lambda lc, r, _o: FireTrigger(rule="r", entity_id=r.id, trigger=lc.trigger_names[0]).apply(
            lc, r, at=day(1)
        ),
    ),
}
MISMATCHED = [(r, lc) for r, lc in itertools.product(RECORDS, LIFECYCLES) if r != lc]


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(
    ("record", "lifecycle"), MISMATCHED, ids=[f"{r}-via-{lc}" for r, lc in MISMATCHED]
)
def test_a_record_of_another_kind_is_refused(operation: str, record: str, lifecycle: str) -> None:
    argument, call = OPERATIONS[operation]
    lc = LIFECYCLES[lifecycle]
    with pytest.raises(ValidationError) as info:
        call(lc, RECORDS[record]("X-1"), RECORDS[record]("X-2"))
    assert (info.value.field, info.value.value) == (f"{argument}.kind", record)
    assert repr(lc.kind) in str(info.value)
    assert "'X-1'" in str(info.value)
    assert "Hint:" in str(info.value)


def test_a_customer_through_the_lead_status_is_refused_even_with_a_lead_state() -> None:
    # the state check alone would let it through: the kind check does not
    odd = Lifecycle("lead", ["reach", "open"], [], kind="lead")
    with pytest.raises(ValidationError, match=r"'entity\.kind' must be 'lead'"):
        odd.check(Customer(id="K-1", created_at=T0))


@pytest.mark.parametrize("record", list(RECORDS))
def test_a_record_of_the_lifecycles_kind_still_steps(record: str) -> None:
    lc = LIFECYCLES[record]
    entity = RECORDS[record]("X-1")
    lc.check(entity)
    assert lc.replay(entity, []) == entity
    assert lc.create(entity).kind == record


@pytest.mark.parametrize(
    ("lead", "lifecycles", "value"),
    [
        (RECORDS["customer"]("K-1"), {}, "customer"),
        (
            Lead(id="L-1", created_at=T0, state="qualified"),
            {"lead_status": OPPORTUNITY_PIPELINE},
            "lead",
        ),
        (
            Lead(id="L-1", created_at=T0, state="qualified"),
            {"pipeline": LEAD_STATUS},
            "opportunity",
        ),
    ],
    ids=["a customer", "lead status of deals", "pipeline of leads"],
)
def test_convert_lead_refuses_records_and_lifecycles_of_other_kinds(
    lead: Any, lifecycles: dict[str, Any], value: str
) -> None:
    with pytest.raises(ValidationError) as info:
        convert_lead(
            lead,
            at=day(1),
            new_opportunity_id="O-1",
            name="Acme",
            amount=Money(1, "EUR"),
            **lifecycles,
        )
    assert (info.value.field, info.value.value) == ("entity.kind", value)


def test_a_host_record_class_without_a_kind_is_not_checked() -> None:
    import attrs

    @attrs.frozen
    class Ticket:
        id: str
        state: str = "a"
        state_since: datetime = T0

    lc = Lifecycle("ticket", ["a", "b"], [], kind="ticket")
    lc.check(Ticket(id="T-1"))


# -- logs of one record: replay and state_at ----------------------------------------------------

LEAD = Lead(id="L-1", created_at=T0)
ONE = LEAD_STATUS.fire(LEAD, "contact", at=day(1))
TWO = LEAD_STATUS.fire(ONE.entity, "qualify", at=day(2))
OTHER = LEAD_STATUS.fire(Lead(id="L-2", created_at=T0), "contact", at=day(1)).event
CUSTOMER_EVENT = CUSTOMER_LIFECYCLE.fire(
    Customer(id="L-1", created_at=T0), "acquire", at=day(1)
).event
BARE_OPEN = Transitioned(
    kind="lead", entity_id="L-1", trigger="x", source="open", dest="open", at=day(1)
)
BARE_CONTACT = Transitioned(
    kind="lead", entity_id="L-1", trigger="contact", source="open", dest="contacted", at=day(3)
)

BAD_LOGS: dict[str, tuple[list[Any], str]] = {
    "another entity": ([ONE.event, OTHER], "is for entity_id 'L-2'"),
    "another entity first": ([OTHER], "is for entity_id 'L-2'"),  # replay knows the record
    "another kind, same id": ([CUSTOMER_EVENT], "is of kind 'customer'"),
    "unsorted with sequences": ([TWO.event, ONE.event], "sequence"),
    "unsorted without sequences": ([BARE_CONTACT, BARE_OPEN], "before the event it follows"),
    "a Created event not first": ([ONE.event, Created.of(LEAD)], "Created"),
}


@pytest.mark.parametrize("log", [k for k in BAD_LOGS if k != "another entity first"])
def test_state_at_refuses_a_log_that_is_not_one_records_history(log: str) -> None:
    events, message = BAD_LOGS[log]
    with pytest.raises(EventLogError, match=message):
        LEAD_STATUS.state_at(events, as_of=day(5), initial="open")


@pytest.mark.parametrize("log", [k for k in BAD_LOGS if k != "unsorted without sequences"])
def test_replay_refuses_the_same_logs(log: str) -> None:
    events, _message = BAD_LOGS[log]
    with pytest.raises(EventLogError):
        LEAD_STATUS.replay(LEAD, events)


def test_state_at_reads_a_sorted_log_right() -> None:
    # the case: unsorted input gave 'open' where 'contacted' is right
    assert LEAD_STATUS.state_at([BARE_OPEN, BARE_CONTACT], as_of=day(5)) == "contacted"
    assert LEAD_STATUS.state_at([ONE.event, TWO.event], as_of=day(1)) == "contacted"
    assert LEAD_STATUS.state_at([ONE.event, TWO.event], as_of=day(5)) == "qualified"


# -- ids: one rule for every id column -----------------------------------------------------------

NO_IDS: dict[str, object] = {
    "None": None,
    "NaN": np.nan,
    "pd.NA": pd.NA,
    "empty": "",
    "blank": "   ",
}


def _leads(first: object) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": [first, "L-2"], "state": ["open", "open"]})


@pytest.mark.parametrize("value", list(NO_IDS.values()), ids=list(NO_IDS))
def test_fire_frame_refuses_rows_without_an_id(value: object) -> None:
    with pytest.raises(DataError, match="missing lead ids") as info:
        LEAD_STATUS.fire_frame(_leads(value), "contact", at=day(1))
    assert (info.value.column, list(info.value.rows)) == ("lead_id", [0])


def test_fire_frame_refuses_an_id_listed_twice() -> None:
    # two rows of one record would give two events for it at one instant
    with pytest.raises(DataError, match="must be unique") as info:
        LEAD_STATUS.fire_frame(_leads("L-2"), "contact", at=day(1))
    assert (info.value.column, list(info.value.rows)) == ("lead_id", [0, 1])


def test_fire_frame_steps_a_repeated_id_once_at_most() -> None:
    # the repeat matters where it would write two events; a refused row writes none
    frame = pd.DataFrame({"lead_id": ["L-1", "L-1"], "state": ["open", "qualified"]})
    step = LEAD_STATUS.fire_frame(frame, "contact", at=day(1))
    assert step.accepted.tolist() == [True, False]
    assert step.events["entity_id"].tolist() == ["L-1"]


@pytest.mark.parametrize("ids", [[1, 2], ["L-1", 2], [1.5, "L-2"]], ids=["ints", "mixed", "float"])
def test_fire_frame_refuses_ids_that_are_not_text(ids: list[object]) -> None:
    # events carry text ids: the step's events must read back (events_from_frame)
    frame = pd.DataFrame({"lead_id": ids, "state": ["open", "open"]})
    with pytest.raises(DataError, match="not text") as info:
        LEAD_STATUS.fire_frame(frame, "contact", at=day(1))
    assert info.value.column == "lead_id"


def test_fire_frame_refuses_a_kind_column_of_another_kind() -> None:
    frame = _leads("L-1").assign(kind=["lead", "customer"])
    with pytest.raises(DataError, match="another kind than 'lead'") as info:
        LEAD_STATUS.fire_frame(frame, "contact", at=day(1))
    assert (info.value.column, list(info.value.rows)) == ("kind", [1])


def test_fire_frame_with_good_ids_gives_one_event_per_record() -> None:
    step = LEAD_STATUS.fire_frame(_leads("L-1"), "contact", at=day(1))
    assert step.events["entity_id"].tolist() == ["L-1", "L-2"]


def _log(first: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": "lead",
            "entity_id": [first, "L-2"],
            "trigger": "contact",
            "source": "open",
            "dest": "contacted",
            "at": pd.to_datetime(["2026-01-02", "2026-01-02"], utc=True),
        }
    )


@pytest.mark.parametrize("value", list(NO_IDS.values()), ids=list(NO_IDS))
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(LEAD_STATUS.replay_frame, id="replay_frame"),
        pytest.param(lambda log: LEAD_STATUS.replay_frame(log, check=False), id="unchecked"),
        pytest.param(stage_rows, id="stage_rows"),
        pytest.param(lambda log: time_in_stage(log, lifecycle=LEAD_STATUS), id="time_in_stage"),
        pytest.param(lambda log: stage_spells(log, kind="lead"), id="stage_spells"),
    ],
)
def test_event_log_readers_refuse_rows_without_an_entity_id(
    reader: Callable[[pd.DataFrame], object], value: object
) -> None:
    with pytest.raises(DataError, match="missing entity ids") as info:
        reader(_log(value))
    assert (info.value.column, list(info.value.rows)) == ("entity_id", [0])


def _customers(first: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [first, "b", "c"],
            "acquired_at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-01-04"], utc=True),
            "churned_at": pd.Series(pd.to_datetime(["2026-02-02", "NaT", "NaT"], utc=True)),
        }
    )


def _orders(first: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": [first, "b", "b"],
            "at": pd.to_datetime(["2026-01-05", "2026-02-05", "2026-03-05"], utc=True),
            "amount": [10.0, 20.0, 30.0],
        }
    )


def _revenue(first: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [first, "b", "b"],
            "period": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01"], utc=True),
            "mrr": [10.0, 20.0, 20.0],
        }
    )


SPEND = pd.DataFrame(
    {"channel": ["ads"], "period": pd.to_datetime(["2026-01-01"], utc=True), "spend": [100.0]}
)
START, END = "2026-01-01", "2026-03-01"
CUSTOMER_READERS: dict[str, Callable[[object], object]] = {
    "churn_rate": lambda v: churn_rate(_customers(v), start=START, end=END),
    "churn_rate_partial": lambda v: churn_rate_partial(_customers(v)),
    "retention_rate": lambda v: retention_rate(_customers(v), start=START, end=END),
    "new_customers": lambda v: new_customers(_customers(v), start=START, end=END),
    "new_customers_partial": lambda v: new_customers_partial(_customers(v)),
    "cac": lambda v: cac(SPEND, _customers(v)),
    "cohort_retention": lambda v: cohort_retention(_orders(v)),
    "cohort_retention_partial": lambda v: cohort_retention_partial(_orders(v)),
    "order_based_clv": lambda v: order_based_clv(_orders(v), gross_margin=0.5, lifespan_years=2),
    "average_order_value": lambda v: average_order_value(_orders(v)),
    "arpu": lambda v: arpu(_revenue(v)),
    "net_revenue_retention": lambda v: net_revenue_retention(
        _revenue(v), start="2026-01-01", end="2026-02-01"
    ),
    "gross_revenue_retention": lambda v: gross_revenue_retention(
        _revenue(v), start="2026-01-01", end="2026-02-01"
    ),
}


@pytest.mark.parametrize("value", list(NO_IDS.values()), ids=list(NO_IDS))
@pytest.mark.parametrize("metric", list(CUSTOMER_READERS))
def test_every_metric_reading_customer_ids_refuses_rows_without_one(
    metric: str, value: object
) -> None:
    with pytest.raises(DataError, match="missing") as info:
        CUSTOMER_READERS[metric](value)
    assert info.value.column == "customer_id"
    assert list(info.value.rows) == [0]


@pytest.mark.parametrize("metric", list(CUSTOMER_READERS))
def test_the_same_metrics_answer_with_every_id_present(metric: str) -> None:
    CUSTOMER_READERS[metric]("a")


def test_churn_rate_counts_only_customers_with_ids() -> None:
    # a, b, c acquired in January; a churns in February: 1 of the 3 present on Feb 1
    assert churn_rate(_customers("a"), start="2026-02-01", end="2026-03-01") == pytest.approx(1 / 3)
    assert new_customers(_customers("a"), start=START, end=END) == 3


# -- timelines ----------------------------------------------------------------------------------

EVENTS = pd.DataFrame(
    {
        "kind": "opportunity",
        "entity_id": ["O-1", "O-1"],
        "trigger": ["qualify", "win"],
        "source": ["prospecting", "qualification"],
        "dest": ["qualification", "won"],
        "at": pd.to_datetime(["2026-01-10", "2026-01-20"], utc=True),
    }
)


def _deals(created: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["O-1"],
            "state": ["won"],
            "amount": [100.0],
            "created_at": pd.to_datetime([created], utc=True),
        }
    )


def _created(created: str) -> pd.Series:
    return _deals(created).set_index("opportunity_id")["created_at"]


TIMELINE_READERS: dict[str, Callable[[str], object]] = {
    "sales_cycle_length": lambda c: sales_cycle_length(_deals(c), EVENTS),
    "time_in_stage": lambda c: time_in_stage(EVENTS, created=_created(c)),
    "stage_velocity": lambda c: stage_velocity(EVENTS, created=_created(c)),
    "stage_spells": lambda c: stage_spells(EVENTS, created=_created(c)),
    "deal_stages": lambda c: deal_stages(_deals(c), EVENTS),
}


@pytest.mark.parametrize(
    "created", ["2026-01-15", "2026-02-01"], ids=["after its first event", "after its win"]
)
@pytest.mark.parametrize("reader", list(TIMELINE_READERS))
def test_a_deal_created_after_its_events_is_refused(reader: str, created: str) -> None:
    with pytest.raises(DataError, match="before it existed") as info:
        TIMELINE_READERS[reader](created)
    assert "'O-1'" in str(info.value)


@pytest.mark.parametrize("reader", list(TIMELINE_READERS))
def test_a_deal_created_before_its_events_has_no_negative_duration(reader: str) -> None:
    out = TIMELINE_READERS[reader]("2026-01-01")
    if isinstance(out, pd.DataFrame):
        numbers = out.select_dtypes("number")
        assert not (numbers < 0).any().any()
    else:
        assert out == pytest.approx(19.0)  # sales cycle: Jan 1 to the win on Jan 20


@pytest.mark.parametrize("metric", [first_response_time, resolution_time])
def test_service_times_refuse_an_answer_before_the_case_opened(metric: Any) -> None:
    cases = pd.DataFrame(
        {
            "case_id": ["C-1", "C-2"],
            "opened_at": pd.to_datetime(["2026-01-05T09:00Z", "2026-01-05T09:00Z"]),
            "first_response_at": pd.to_datetime(["2026-01-05T10:00Z", "2026-01-04T10:00Z"]),
            "resolved_at": pd.to_datetime(["2026-01-05T11:00Z", "2026-01-04T11:00Z"]),
        }
    )
    for calendar in (None, BusinessCalendar()):
        with pytest.raises(DataError, match="is before opened_at") as info:
            metric(cases, calendar=calendar)
        assert list(info.value.rows) == [1]


# -- business time: an end before its start ------------------------------------------------------

CAL = BusinessCalendar()
MONDAY = pd.Timestamp("2026-01-05T09:00Z")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (MONDAY + pd.Timedelta(days=2), MONDAY),
        (MONDAY + pd.Timedelta(seconds=1), MONDAY),
        ("2026-01-07", "2026-01-05"),
        (MONDAY + pd.Timedelta(days=5), MONDAY + pd.Timedelta(days=4)),  # a weekend: zero work
    ],
    ids=["two days", "one second", "date text", "within a weekend"],
)
def test_business_time_refuses_an_end_before_its_start(start: Any, end: Any) -> None:
    with pytest.raises(ValidationError, match="'end' must be at or after start") as info:
        CAL.business_time_between(start, end)
    assert info.value.field == "end"


def test_business_time_refuses_reversed_rows_of_a_series() -> None:
    starts = pd.Series([MONDAY, MONDAY + pd.Timedelta(days=1), pd.NaT], index=["a", "b", "c"])
    with pytest.raises(DataError, match="is before start") as info:
        CAL.business_time_between(starts, MONDAY + pd.Timedelta(hours=2))
    assert (info.value.column, list(info.value.rows)) == ("end", ["b"])
    with pytest.raises(DataError, match="is before start"):
        CAL.business_ns_between(
            np.array([MONDAY.value + 1], dtype=np.int64), np.array([MONDAY.value], dtype=np.int64)
        )


def test_business_time_of_an_empty_or_forward_window() -> None:
    assert CAL.business_time_between(MONDAY, MONDAY) == pd.Timedelta(0)
    assert CAL.business_time_between(MONDAY, MONDAY + pd.Timedelta(hours=2)) == pd.Timedelta(
        hours=2
    )
    out = CAL.business_time_between(pd.Series([MONDAY, pd.NaT]), MONDAY + pd.Timedelta(hours=1))
    assert out.iloc[0] == pd.Timedelta(hours=1)
    assert pd.isna(out.iloc[1])


# -- the id rule, as a property -------------------------------------------------------------------

_GOOD = st.text(alphabet="abcXYZ-_019", min_size=1, max_size=6)
_BAD = st.sampled_from([None, np.nan, pd.NA, "", " ", "\t\n"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_GOOD, _BAD), min_size=1, max_size=30))
def test_every_id_reader_names_exactly_the_rows_without_an_id(ids: list[object]) -> None:
    bad = [i for i, v in enumerate(ids) if not (isinstance(v, str) and v.strip())]
    stamps = pd.to_datetime(["2026-01-05"] * len(ids), utc=True)
    customers = pd.DataFrame({"customer_id": pd.Series(ids, dtype=object), "acquired_at": stamps})
    readers: list[tuple[str, Callable[[], object]]] = [
        ("customer_id", lambda: new_customers_partial(customers)),
        (
            "customer_id",
            lambda: cohort_retention_partial(customers.rename(columns={"acquired_at": "at"})),
        ),
    ]
    log = _log("L-1").iloc[[0] * len(ids)].assign(entity_id=pd.Series(ids, dtype=object).to_numpy())
    readers.append(("entity_id", lambda: stage_rows(log.reset_index(drop=True))))
    if not bad:  # the answers with every id present are checked above
        return
    for column, read in readers:
        with pytest.raises(DataError) as info:
            read()
        assert info.value.column == column
        assert list(info.value.rows) == bad[:20]


# -- probabilities kept by a bulk step ------------------------------------------------------------


def _pipeline_deals(probability: list[object], manual: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [f"O-{i}" for i in range(len(probability))],
            "state": ["proposal"] * len(probability),
            "probability": probability,
            "probability_manual": manual,
        }
    )


@pytest.mark.parametrize(
    ("probability", "bad_rows"),
    [([500, 40], [0]), ([40, -1], [1]), ([101, np.nan], [0, 1]), ([np.inf, 20], [0])],
    ids=["500", "negative", "101 and NaN", "inf"],
)
def test_fire_frame_refuses_a_hand_set_probability_off_its_scale(
    probability: list[object], bad_rows: list[int]
) -> None:
    # a record refuses these (Opportunity.probability is 0 to 100): a step must not keep them
    with pytest.raises(DataError) as info:
        OPPORTUNITY_PIPELINE.fire_frame(
            _pipeline_deals(probability, [True, True]), "negotiate", at=day(1)
        )
    assert info.value.column == "probability"
    assert list(info.value.rows) == bad_rows


def test_fire_frame_keeps_a_hand_set_probability_and_replaces_a_default_one() -> None:
    # not set by hand: the stage's default replaces even a value off the scale
    deals = _pipeline_deals([35, 500], [True, False])
    step = OPPORTUNITY_PIPELINE.fire_frame(deals, "negotiate", at=day(1))
    negotiation = OPPORTUNITY_PIPELINE.stage("negotiation").probability
    assert step.frame["probability"].tolist() == [35, negotiation]


# -- "not before" compares instants, never wall clocks -------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
FOLD_FIRST = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # 00:30 UTC (summer time)
FOLD_SECOND = FOLD_FIRST.replace(fold=1)  # 01:30 UTC: an hour later, the same wall clock


def _lead_since(since: datetime) -> Lead:
    return Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=UTC), state_since=since)


def _replay_two_steps(since: datetime, at: datetime) -> object:
    """Replay a log whose second step happens at ``at``, after a first step at ``since``."""
    lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    first = LEAD_STATUS.fire(lead, "contact", at=since)
    second = LEAD_STATUS.fire(first.entity, "qualify", at=since)
    log: list[Any] = [LEAD_STATUS.create(lead), first.event, attrs.evolve(second.event, at=at)]
    return LEAD_STATUS.replay(Lead, log)


def _frame_since(since: datetime, at: datetime) -> object:
    frame = pd.DataFrame(
        {"lead_id": ["L-1"], "state": ["open"], "state_since": pd.Series([since], dtype=object)}
    )
    step = LEAD_STATUS.fire_frame(frame, "contact", at=at)
    if step.frame["state"].iloc[0] != "contacted":  # a bulk step refuses the row, not the call
        raise ValidationError.for_field("at", at, "not before state_since", hint="")
    return step


NOT_BEFORE: dict[str, Callable[[datetime, datetime], object]] = {
    "fire": lambda since, at: LEAD_STATUS.fire(_lead_since(since), "contact", at=at),
    "edit": lambda since, at: LEAD_STATUS.edit(_lead_since(since), at=at, custom={"a": 1}),
    "assign": lambda since, at: LEAD_STATUS.assign(_lead_since(since), "ana", at=at),
    "merge": lambda since, at: LEAD_STATUS.merge(
        _lead_since(since), Lead(id="L-2", created_at=datetime(2026, 1, 1, tzinfo=UTC)), at=at
    ),
    "replay order": _replay_two_steps,
    "fire_frame": _frame_since,
}


@pytest.mark.parametrize("operation", list(NOT_BEFORE))
def test_a_step_an_hour_earlier_in_a_fold_is_refused(operation: str) -> None:
    # 02:30 (fold=0) is 00:30 UTC, an hour before 02:30 (fold=1); Python's < sees equal clocks
    with pytest.raises(ValidationError if operation != "replay order" else EventLogError):
        NOT_BEFORE[operation](FOLD_SECOND, FOLD_FIRST)
    NOT_BEFORE[operation](FOLD_FIRST, FOLD_SECOND)  # an hour later: fine


# a wall clock around Berlin's autumn change, and which side of the fold it means
_BERLIN_TIMES = st.builds(
    lambda clock, fold: clock.replace(tzinfo=BERLIN, fold=fold),
    st.datetimes(min_value=datetime(2026, 10, 25, 1, 0), max_value=datetime(2026, 10, 25, 4, 0)),
    st.integers(min_value=0, max_value=1),
)


@settings(max_examples=60, deadline=None)
@given(operation=st.sampled_from(list(NOT_BEFORE)), since=_BERLIN_TIMES, at=_BERLIN_TIMES)
def test_not_before_compares_instants_in_a_daylight_saving_zone(
    operation: str, since: datetime, at: datetime
) -> None:
    earlier = at.astimezone(UTC) < since.astimezone(UTC)
    if earlier:
        with pytest.raises((ValidationError, EventLogError)):
            NOT_BEFORE[operation](since, at)
    else:
        NOT_BEFORE[operation](since, at)


@settings(max_examples=60, deadline=None)
@given(times=st.lists(_BERLIN_TIMES, min_size=4, max_size=4))
def test_steps_in_a_daylight_saving_zone_replay_to_the_live_record(times: list[datetime]) -> None:
    # a zoneinfo time in a fold never equals a time in another zone (PEP 495): the record and
    # its events must hold the same value, or the replay of the events is not the record
    first, second, third, fourth = sorted(times, key=lambda t: t.astimezone(UTC))
    lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    events: list[Any] = [LEAD_STATUS.create(lead)]
    live = lead
    for step in (
        lambda r: LEAD_STATUS.fire(r, "contact", at=first),
        lambda r: LEAD_STATUS.edit(r, at=second, score=10),
        lambda r: LEAD_STATUS.assign(r, "ana", at=third),
        lambda r: LEAD_STATUS.fire(r, "qualify", at=fourth),
    ):
        done = step(live)
        live = done.entity
        events.append(done.event)
    assert LEAD_STATUS.replay(Lead, events) == live
    assert LEAD_STATUS.replay(Lead, [event_from_json(event_to_json(e)) for e in events]) == live


# -- wrong-typed arguments of the stages API ------------------------------------------------------

_LEAD = Lead(id="L-1", created_at=T0)
_LEADS = pd.DataFrame({"lead_id": ["L-1"], "state": ["open"]})
_LOG = events_to_frame([LEAD_STATUS.create(_LEAD)])
_QUALIFIED = LEAD_STATUS.fire(LEAD_STATUS.fire(_LEAD, "contact", at=T0).entity, "qualify", at=T0)


def _guard() -> Guard:
    return Guard(name="g", func=lambda _e, _i: True)


def _hook() -> Hook:
    return Hook(name="h", func=lambda _e, _i: None)


# argument -> a call passing the wrong value ``w`` there; the error names the argument
WRONG_TYPED: dict[str, tuple[str, Callable[[Any], object]]] = {
    "TransitionDef.trigger": ("trigger", lambda w: TransitionDef(trigger=w, source="a")),
    "TransitionDef.source": ("source", lambda w: TransitionDef(trigger="t", source=w)),
    "TransitionDef.source item": (
        "source[1]",
        lambda w: TransitionDef(trigger="t", source=["a", w]),
    ),
    "TransitionDef.dest": ("dest", lambda w: TransitionDef(trigger="t", source="a", dest=w)),
    "TransitionDef.conditions": (
        "conditions",
        lambda w: TransitionDef(trigger="t", source="a", dest="b", conditions=w),
    ),
    "TransitionDef.conditions item": (
        "conditions[1]",
        lambda w: TransitionDef(trigger="t", source="a", dest="b", conditions=[_guard(), w]),
    ),
    "TransitionDef.unless": (
        "unless",
        lambda w: TransitionDef(trigger="t", source="a", dest="b", unless=w),
    ),
    "TransitionDef.before": (
        "before",
        lambda w: TransitionDef(trigger="t", source="a", dest="b", before=w),
    ),
    "TransitionDef.after item": (
        "after[0]",
        lambda w: TransitionDef(trigger="t", source="a", dest="b", after=(w,)),
    ),
    "TransitionDef.internal": (
        "internal",
        lambda w: TransitionDef(trigger="t", source="a", internal=w),
    ),
    "TransitionDef.to_last_open": (
        "to_last_open",
        lambda w: TransitionDef(trigger="t", source="a", to_last_open=w),
    ),
    "Stage.name": ("name", lambda w: Stage(name=w, order=0)),
    "Stage.order": ("order", lambda w: Stage(name="a", order=w)),
    "Stage.type": ("type", lambda w: Stage(name="a", order=0, type=w)),
    "Stage.probability": ("probability", lambda w: Stage(name="a", order=0, probability=w)),
    "Stage.forecast": ("forecast", lambda w: Stage(name="a", order=0, forecast=w)),
    "Stage.description": ("description", lambda w: Stage(name="a", order=0, description=w)),
    "Guard.name": ("name", lambda w: Guard(name=w, func=lambda _e, _i: True)),
    "Guard.func": ("func", lambda w: Guard(name="g", func=w)),
    "Guard.frame": ("frame", lambda w: Guard(name="g", frame=w)),
    "Guard.condition": ("condition", lambda w: Guard(name="g", condition=w)),
    "Hook.name": ("name", lambda w: Hook(name=w, func=lambda _e, _i: None)),
    "Hook.func": ("func", lambda w: Hook(name="h", func=w)),
    "Hook.frame": ("frame", lambda w: Hook(name="h", func=lambda _e, _i: None, frame=w)),
    "StepInfo.trigger": ("trigger", lambda w: StepInfo(trigger=w, source="a", dest="b", at=T0)),
    "StepInfo.source": ("source", lambda w: StepInfo(trigger="t", source=w, dest="b", at=T0)),
    "StepInfo.dest": ("dest", lambda w: StepInfo(trigger="t", source="a", dest=w, at=T0)),
    "StepInfo.at": ("at", lambda w: StepInfo(trigger="t", source="a", dest="b", at=w)),
    "StepInfo.context": (
        "context",
        lambda w: StepInfo(trigger="t", source="a", dest="b", at=T0, context=w),
    ),
    "Lifecycle.states": ("states", lambda w: Lifecycle("x", w, [])),
    "Lifecycle.transitions": ("transitions", lambda w: Lifecycle("x", ["a"], w)),
    "Lifecycle.fields": ("fields", lambda w: Lifecycle("x", ["a"], [], fields=w)),
    "fire_frame lifecycle": ("lifecycle", lambda w: fire_frame(w, _LEADS, "contact", at=T0)),
    "fire_frame trigger": ("trigger", lambda w: LEAD_STATUS.fire_frame(_LEADS, w, at=T0)),
    "fire_frame entities_columns": (
        "entities_columns",
        lambda w: fire_frame(LEAD_STATUS, _LEADS, "contact", at=T0, entities_columns=w),
    ),
    "replay_frame events_columns": (
        "events_columns",
        lambda w: replay_frame(LEAD_STATUS, _LOG, events_columns=w),
    ),
    "replay_frame check": ("check", lambda w: replay_frame(LEAD_STATUS, _LOG, check=w)),
    "replay_frame trust": ("trust", lambda w: LEAD_STATUS.replay_frame(_LOG, trust=w)),
    "events_to_frame events_columns": (
        "events_columns",
        lambda w: events_to_frame([], events_columns=w),
    ),
    "events_from_frame events_columns": (
        "events_columns",
        lambda w: events_from_frame(_LOG, events_columns=w),
    ),
    "convert_lead lead_status": (
        "lead_status",
        lambda w: convert_lead(_QUALIFIED.entity, at=T0, new_opportunity_id="O-1", lead_status=w),
    ),
    "convert_lead pipeline": (
        "pipeline",
        lambda w: convert_lead(_QUALIFIED.entity, at=T0, new_opportunity_id="O-1", pipeline=w),
    ),
    "lint_spec hooks": ("hooks", lambda w: lint_spec(LEAD_STATUS.to_dict(), hooks=w)),
    "fire entity": ("entity", lambda w: LEAD_STATUS.fire(w, "contact", at=T0)),
    "edit entity": ("entity", lambda w: LEAD_STATUS.edit(w, at=T0, custom={"a": 1})),
    "assign entity": ("entity", lambda w: LEAD_STATUS.assign(w, "ana", at=T0)),
    "merge survivor": ("survivor", lambda w: LEAD_STATUS.merge(w, _LEAD, at=T0)),
    "merge duplicate": ("duplicate", lambda w: LEAD_STATUS.merge(_LEAD, w, at=T0)),
    "create entity": ("entity", LEAD_STATUS.create),
    "check entity": ("entity", LEAD_STATUS.check),
    "can_fire entity": ("entity", lambda w: LEAD_STATUS.can_fire(w, "contact")),
    "can_fire trigger": ("trigger", lambda w: LEAD_STATUS.can_fire(_LEAD, w)),
    "triggers entity": ("entity", LEAD_STATUS.triggers),
    "replay initial": ("initial", lambda w: LEAD_STATUS.replay(w, [])),
    "replay events": ("events", lambda w: LEAD_STATUS.replay(Lead, w)),
    "state_at events": ("events", lambda w: LEAD_STATUS.state_at(w, as_of=T0)),
    "state_at events item": ("events[0]", lambda w: LEAD_STATUS.state_at([w], as_of=T0)),
    "replay events item": ("events[0]", lambda w: LEAD_STATUS.replay(Lead, [w])),
}
# ``list`` and ``str`` are right for some arguments (a list of sources, a state name): each
# argument gets the wrong values of its own type
_NOT_TEXT = [object(), 5, 2.5, b"x", True]
_NOT_A_LIST = [object(), 5, b"x", {"a": 1}]
_WRONG_FOR: dict[str, list[object]] = {
    "TransitionDef.source": [object(), 5, 2.5, True],
    "TransitionDef.conditions": _NOT_A_LIST,
    "TransitionDef.unless": _NOT_A_LIST,
    "TransitionDef.before": _NOT_A_LIST,
    "Lifecycle.states": _NOT_A_LIST,
    "Lifecycle.transitions": _NOT_A_LIST,
    "Lifecycle.fields": _NOT_A_LIST,
    "StepInfo.context": [object(), 5, "x", ["a"]],
    "Stage.order": [object(), "1", 2.5, True],
    "Stage.probability": [object(), "50", 50.5, True],
    "replay events": [object(), 5, "x", {"a": 1}, _LOG],
    "state_at events": [object(), 5, "x", {"a": 1}, _LOG],
    "TransitionDef.internal": [object(), 1, "yes", None],
    "TransitionDef.to_last_open": [object(), 1, "yes", None],
    "replay_frame check": [object(), 1, "yes", None],
    "replay_frame trust": [object(), 1, "yes", None],
    "lint_spec hooks": [object(), 5, "x", ["h"]],
}
_CASES = [
    (name, wrong)
    for name in WRONG_TYPED
    for wrong in _WRONG_FOR.get(name, [*_NOT_TEXT, ["x"], {"x": 1}])
]


@pytest.mark.parametrize(
    ("name", "wrong"), _CASES, ids=[f"{n}={type(w).__name__}" for n, w in _CASES]
)
def test_a_wrong_typed_argument_is_a_validation_error_naming_it(name: str, wrong: object) -> None:
    field, call = WRONG_TYPED[name]
    with pytest.raises(ValidationError) as info:
        call(wrong)
    assert info.value.field == field
    assert "Hint:" in str(info.value)


# -- one id rule whatever the column's storage ----------------------------------------------------

_TEXT_STORAGES: list[Any] = [
    object,
    "string[python]",
    "string[pyarrow]",
    pd.StringDtype("pyarrow", np.nan),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000\u200bab-", max_size=4),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_an_id_is_blank_by_the_same_rule_in_every_text_storage(ids: list[str | None]) -> None:
    # Python's str.isspace is the rule (a zero-width space is not blank); the Arrow path
    # reads the buffers with pyarrow.compute, the object path cell by cell
    expected = [v is None or not v.strip() for v in ids]
    for storage in _TEXT_STORAGES:
        assert missing_ids(pd.Series(ids, dtype=storage)).tolist() == expected, storage


@pytest.mark.parametrize("storage", _TEXT_STORAGES[1:], ids=str)
@pytest.mark.parametrize("value", ["", " ", "\u3000\t", None], ids=repr)
def test_fire_frame_refuses_a_blank_id_in_a_text_column(storage: Any, value: object) -> None:
    frame = pd.DataFrame(
        {"lead_id": pd.Series(["L-1", value], dtype=storage), "state": ["open", "open"]}
    )
    with pytest.raises(DataError) as info:
        LEAD_STATUS.fire_frame(frame, "contact", at=day(1))
    assert (info.value.column, list(info.value.rows)) == ("lead_id", [1])


def test_a_conversion_step_names_the_rows_without_an_opportunity_id() -> None:
    # the link column is context; only the rows entering the won stage need a value
    frame = pd.DataFrame(
        {
            "lead_id": ["L-1", "L-2", "L-3"],
            "state": ["qualified", "qualified", "qualified"],
            "opportunity_id": pd.Series(["O-1", " ", None], dtype="string[pyarrow]"),
        }
    )
    step = LEAD_STATUS.fire_frame(
        frame, "convert", at=day(1), entities_columns=StepFrameColumns(context="opportunity_id")
    )
    assert step.accepted.tolist() == [True, False, False]
    assert step.reason.iloc[1:].tolist() == ["entering a won stage needs an opportunity_id"] * 2
