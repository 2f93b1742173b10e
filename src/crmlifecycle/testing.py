"""
Hypothesis strategies for every entity, value object and event, and for frames of the data contract.

For crmlifecycle's own tests and for host applications' tests. Importing this
module needs the ``test`` extra (it imports ``hypothesis``); nothing else in the
package does. The entity strategies (:func:`leads`, :func:`opportunities`,
:func:`customers`, :func:`cases`) draw valid records of a lifecycle (the standard
one of the kind by default, any other with ``lifecycle=``): a state of that
lifecycle, with the fields its stage effects keep in step with the state.
:func:`event_sequences` draws an initial record and the events of a walk of a
lifecycle, which :meth:`~crmlifecycle.stages.Lifecycle.replay` rebuilds. The
frame strategies (:func:`event_log_frames`, :func:`order_frames`) name their
columns by a column-spec record of :mod:`crmlifecycle.schema` (the contract's
names by default) and give each column the dtype of its kind.

Examples:
    >>> from hypothesis import given
    >>> from crmlifecycle.testing import leads
    >>> @given(leads())
    ... def test_lead_state_since(lead):
    ...     assert lead.state_since >= lead.created_at
    >>> test_lead_state_since()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

import attrs
import pandas as pd
from hypothesis import strategies as st

from crmlifecycle._currencies import MINOR_UNITS
from crmlifecycle._validators import check_arg
from crmlifecycle.entities import (
    CASE_PRIORITIES,
    CASE_TYPES,
    FEEDBACK_SCALES,
    Account,
    Campaign,
    Case,
    Contact,
    Customer,
    Feedback,
    Interaction,
    Lead,
    Opportunity,
    Order,
    Product,
)
from crmlifecycle.errors import CrmError, ValidationError
from crmlifecycle.events import Created, Event, FieldsChanged, Transitioned
from crmlifecycle.schema import ColumnKind, ColumnSpec, EventLogColumns, OrderColumns
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STATUS_TYPES,
    CustomField,
    Lifecycle,
    Stage,
)
from crmlifecycle.values import Money, Period

if TYPE_CHECKING:
    from crmlifecycle.stages import Step

__all__ = [
    "accounts",
    "aware_datetimes",
    "campaigns",
    "cases",
    "contacts",
    "context_values",
    "created_events",
    "currencies",
    "custom_values",
    "customers",
    "emails",
    "event_log_frames",
    "event_sequences",
    "feedback",
    "field_declarations",
    "fields_changed_events",
    "ids",
    "interactions",
    "leads",
    "lifecycle_specs",
    "lifecycles",
    "money",
    "opportunities",
    "order_frames",
    "orders",
    "periods",
    "products",
    "transitioned_events",
]

_START = datetime(2000, 1, 1)  # noqa: DTZ001 - hypothesis wants naive bounds, zones are added
_END = datetime(2100, 1, 1)  # noqa: DTZ001
_NAMES = st.sampled_from(["reach", "open", "contacted", "qualified", "won", "lost", "new"])
_LOST_REASONS: Final = ("price", "timing", "competitor", "no_budget", "no_decision")


def ids() -> st.SearchStrategy[str]:
    """Non-empty host ids such as ``"L-1a2b"``."""
    return st.from_regex(r"\A[A-Z]{1,3}-[0-9a-z]{1,8}\Z")


def emails() -> st.SearchStrategy[str]:
    """Plausible e-mail addresses."""
    local = st.from_regex(r"\A[a-z][a-z0-9._+-]{0,15}\Z")
    domain = st.from_regex(r"\A[a-z][a-z0-9-]{0,15}\.[a-z]{2,6}\Z")
    return st.builds(lambda a, b: f"{a}@{b}", local, domain)


def aware_datetimes(
    *, min_value: datetime = _START, max_value: datetime = _END
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes (UTC and fixed offsets from -12h to +14h, minute-aligned).

    Args:
        min_value: the earliest datetime drawn (naive; a zone is attached).
        max_value: the latest datetime drawn (naive; a zone is attached).

    """
    offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
        lambda m: timezone(timedelta(minutes=m))
    )
    zones = st.one_of(st.just(UTC), offsets)
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=zones)


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes the library knows."""
    return st.sampled_from(sorted(MINOR_UNITS))


def money(
    *, currency: str | None = None, min_value: int = 0, max_value: int = 10**9
) -> st.SearchStrategy[Money]:
    """Money amounts with two decimal places in ``currency`` (or a random one).

    Args:
        currency: the ISO currency code (``None``: a random one of the known currencies).
        min_value: the smallest amount drawn.
        max_value: the largest amount drawn.

    Raises:
        ValidationError: ``currency`` is not a currency code, or a bound is not an integer.

    """
    if currency is not None:
        Money.zero(currency)  # the code is checked now, not when a test first draws
    for name, bound in (("min_value", min_value), ("max_value", max_value)):
        check_arg(name, bound, int, "an integer amount")
    amounts = st.decimals(
        min_value=min_value, max_value=max_value, places=2, allow_nan=False, allow_infinity=False
    )
    codes = st.just(currency) if currency is not None else currencies()
    return st.builds(Money, amounts, codes)


def periods() -> st.SearchStrategy[Period]:
    """Non-empty half-open periods."""
    return st.builds(
        lambda start, days: Period(start, start + timedelta(days=days)),
        aware_datetimes(max_value=datetime(2090, 1, 1)),  # noqa: DTZ001
        st.integers(min_value=1, max_value=3650),
    )


def _text() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=20).filter(lambda s: s.strip() != "")


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _created_and_since(draw: st.DrawFn) -> tuple[datetime, datetime]:
    created = draw(aware_datetimes(max_value=datetime(2090, 1, 1)))  # noqa: DTZ001
    since = created + timedelta(seconds=draw(st.integers(min_value=0, max_value=10**8)))
    return created, since


def contacts() -> st.SearchStrategy[Contact]:
    """Valid :class:`~crmlifecycle.entities.Contact` entities."""
    return st.builds(
        Contact,
        id=ids(),
        name=_text(),
        created_at=aware_datetimes(),
        email=_optional(emails()),
        phone=_optional(_text()),
        job_title=_optional(_text()),
        account_id=_optional(ids()),
    )


def accounts() -> st.SearchStrategy[Account]:
    """Valid :class:`~crmlifecycle.entities.Account` entities."""
    return st.builds(
        Account,
        id=ids(),
        name=_text(),
        created_at=aware_datetimes(),
        industry=_optional(_text()),
        employees=_optional(st.integers(min_value=0, max_value=10**6)),
        country=_optional(_text()),
    )


def _state(draw: st.DrawFn, lifecycle: Lifecycle, states: st.SearchStrategy[str] | None) -> Stage:
    """Draw a state of ``lifecycle`` (from ``states`` if given) and return its stage."""
    name = draw(states if states is not None else st.sampled_from(lifecycle.states))
    return lifecycle.stage(name)  # a name the lifecycle lacks: ValidationError naming it


def _open_states(lifecycle: Lifecycle) -> list[str]:
    return [stage.name for stage in lifecycle.stages if not stage.closed]


def _between(draw: st.DrawFn, low: datetime, high: datetime) -> datetime:
    """A moment from ``low`` to ``high`` (whole seconds after ``low``, never past ``high``)."""
    span = int((high - low).total_seconds())
    return min(high, low + timedelta(seconds=draw(st.integers(min_value=0, max_value=span))))


_FIELD_STRATEGIES: Final[dict[str, Callable[[], st.SearchStrategy[Any]]]] = {
    "str": lambda: st.text(max_size=20),
    "int": lambda: st.integers(min_value=-(10**12), max_value=10**12),
    "float": lambda: st.floats(allow_nan=False, allow_infinity=False) | st.integers(-100, 100),
    "decimal": lambda: (
        st.decimals(allow_nan=False, allow_infinity=False, places=2) | st.integers(-100, 100)
    ),
    "bool": st.booleans,
    "date": st.dates,
    "datetime": aware_datetimes,
    "money": money,
}


def _field_values(field: CustomField) -> st.SearchStrategy[Any]:
    """Values of one declared custom field: its choices, or any value of its type."""
    if field.choices is not None:
        return st.sampled_from(field.choices)
    return _FIELD_STRATEGIES[field.type]()


@st.composite
def custom_values(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn, lifecycle: Lifecycle
) -> dict[str, Any]:
    """
    Valid ``custom`` mappings for the records of ``lifecycle``, by its declared fields.

    Every required field is drawn, each optional one sometimes; a value is one of
    the field's choices, or any value of its type. A lifecycle that declares no
    fields gets ``{}``.

    Args:
        lifecycle: the lifecycle whose :attr:`~crmlifecycle.stages.Lifecycle.fields` are drawn.

    Examples:
        >>> from hypothesis import given
        >>> from crmlifecycle.stages import CustomField, Lifecycle
        >>> life = Lifecycle("lead", ["open"], [], fields=[
        ...     CustomField(name="tier", type="str", choices=["gold"], required=True)])
        >>> @given(custom_values(life))
        ... def test_tier(custom):
        ...     assert custom == {"tier": "gold"}
        >>> test_tier()
    """
    out: dict[str, Any] = {}
    for field in lifecycle.fields:
        if field.required or draw(st.booleans()):
            out[field.name] = draw(_field_values(field))
    return out


_FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}_x", fullmatch=True)  # never a record's own field


@st.composite
def field_declarations(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn, *, max_size: int = 5
) -> list[CustomField]:
    """
    Lists of custom field declarations (unique names, every type, sometimes choices).

    Pass them to ``Lifecycle(..., fields=...)``, then draw records with
    :func:`custom_values` or the entity strategies' ``lifecycle=``.

    Args:
        max_size: the most fields in one list.

    Examples:
        >>> from hypothesis import given
        >>> @given(field_declarations())
        ... def test_unique(fields):
        ...     assert len({f.name for f in fields}) == len(fields)
        >>> test_unique()
    """
    names = draw(st.lists(_FIELD_NAMES, max_size=max_size, unique=True))
    out = []
    for name in names:
        type_name = draw(st.sampled_from(sorted(_FIELD_STRATEGIES)))
        choices = None
        if type_name in {"str", "int"} and draw(st.booleans()):
            choices = draw(
                st.lists(_FIELD_STRATEGIES[type_name](), min_size=1, max_size=4, unique=True)
            )
        out.append(
            CustomField(name=name, type=type_name, choices=choices, required=draw(st.booleans()))
        )
    return out


@st.composite
def leads(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    lifecycle: Lifecycle = LEAD_STATUS,
    states: st.SearchStrategy[str] | None = None,
) -> Lead:
    """
    Valid :class:`~crmlifecycle.entities.Lead` entities in a state of ``lifecycle``.

    A lead in a won stage (``converted``) is linked to the opportunity it became.

    Args:
        lifecycle: the lead lifecycle whose states are drawn (default ``LEAD_STATUS``).
            Its declared custom fields are drawn too (:func:`custom_values`).
        states: draw only these states (each a state of ``lifecycle``).

    Examples:
        >>> from hypothesis import given
        >>> @given(leads())
        ... def test_state(lead):
        ...     assert lead.state in LEAD_STATUS.states
        >>> test_state()
    """
    created, since = draw(_created_and_since())
    stage = _state(draw, lifecycle, states)
    return Lead(
        id=draw(ids()),
        created_at=created,
        state=stage.name,
        state_since=since,
        email=draw(_optional(emails())),
        channel=draw(_optional(st.sampled_from(["webinar", "referral", "paid_search", "social"]))),
        industry=draw(_optional(st.sampled_from(["saas", "retail", "finance", "health"]))),
        company_size=draw(_optional(st.integers(min_value=0, max_value=10**5))),
        job_title=draw(_optional(_text())),
        budget=draw(_optional(money(currency="EUR"))),
        score=draw(_optional(st.floats(min_value=-1000, max_value=1000))),
        opportunity_id=draw(ids()) if stage.won else None,
        custom=draw(custom_values(lifecycle)),
    )


@st.composite
def opportunities(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    states: st.SearchStrategy[str] | None = None,
) -> Opportunity:
    """
    Valid :class:`~crmlifecycle.entities.Opportunity` entities in a stage of ``lifecycle``.

    The fields follow the stage effects: a won deal has probability 100 and a
    lost one 0 (neither set by hand), both closed when they entered their stage;
    a lost deal has a lost reason and the open stage it left; an open deal is not
    closed, has no lost reason, and has its stage's default probability unless
    the probability was set by hand.

    Args:
        lifecycle: the pipeline whose stages are drawn (default ``OPPORTUNITY_PIPELINE``).
            Its declared custom fields are drawn too (:func:`custom_values`).
        states: draw only these stages (each a state of ``lifecycle``).

    Examples:
        >>> from hypothesis import given
        >>> @given(opportunities(states=st.just("lost")))
        ... def test_lost(deal):
        ...     assert deal.probability == 0 and deal.lost_reason
        >>> test_lost()
    """
    created, since = draw(_created_and_since())
    stage = _state(draw, lifecycle, states)
    open_states = _open_states(lifecycle)
    if stage.closed:
        manual = False
        probability = 100 if stage.won else 0
        lost_reason = draw(st.sampled_from(_LOST_REASONS)) if stage.type == "lost" else None
        left = draw(st.sampled_from(open_states)) if stage.type == "lost" and open_states else None
        closed_at: datetime | None = since
    else:
        manual = stage.probability is None or draw(st.booleans())
        probability = (
            draw(st.integers(min_value=0, max_value=100)) if manual else stage.probability or 0
        )
        lost_reason = None
        left = draw(_optional(st.sampled_from(open_states))) if open_states else None
        closed_at = None
    return Opportunity(
        id=draw(ids()),
        name=draw(_text()),
        amount=draw(money(currency="EUR")),
        created_at=created,
        state=stage.name,
        state_since=since,
        probability=probability,
        probability_manual=manual,
        lost_reason=lost_reason,
        last_open_stage=left,
        closed_at=closed_at,
        account_id=draw(_optional(ids())),
        owner=draw(_optional(_text())),
        custom=draw(custom_values(lifecycle)),
    )


@st.composite
def customers(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    lifecycle: Lifecycle = CUSTOMER_LIFECYCLE,
    states: st.SearchStrategy[str] | None = None,
) -> Customer:
    """
    Valid :class:`~crmlifecycle.entities.Customer` entities in a stage of ``lifecycle``.

    ``highest_state`` is the high-water mark the stage effects keep: a stage
    that is not lost, not below the current one (for a lost customer, any
    stage that is not lost).

    Args:
        lifecycle: the customer lifecycle whose stages are drawn (default
            ``CUSTOMER_LIFECYCLE``). Its declared custom fields are drawn too
            (:func:`custom_values`).
        states: draw only these stages (each a state of ``lifecycle``).

    Examples:
        >>> from hypothesis import given
        >>> order = {s.name: s.order for s in CUSTOMER_LIFECYCLE.stages}
        >>> @given(customers(states=st.just("retention")))
        ... def test_mark(customer):
        ...     assert order[customer.highest_state] >= order["retention"]
        >>> test_mark()
    """
    created, since = draw(_created_and_since())
    stage = _state(draw, lifecycle, states)
    floor = -1 if stage.type == "lost" else stage.order
    marks = [s.name for s in lifecycle.stages if s.type != "lost" and s.order >= floor]
    return Customer(
        id=draw(ids()),
        created_at=created,
        state=stage.name,
        state_since=since,
        highest_state=draw(st.sampled_from(marks)) if marks else stage.name,
        email=draw(_optional(emails())),
        channel=draw(_optional(_text())),
        custom=draw(custom_values(lifecycle)),
    )


def products() -> st.SearchStrategy[Product]:
    """Valid :class:`~crmlifecycle.entities.Product` entities."""
    return st.builds(
        Product,
        id=ids(),
        name=_text(),
        price=money(),
        vendor=_optional(_text()),
        description=_optional(st.text(max_size=50)),
        active=st.booleans(),
    )


def campaigns() -> st.SearchStrategy[Campaign]:
    """Valid :class:`~crmlifecycle.entities.Campaign` entities."""
    return st.builds(
        Campaign,
        id=ids(),
        name=_text(),
        channel=_text(),
        spend=money(),
        period=periods(),
        paid=st.booleans(),
    )


@st.composite
def cases(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    lifecycle: Lifecycle = CASE_STATUS,
    states: st.SearchStrategy[str] | None = None,
) -> Case:
    """
    Valid :class:`~crmlifecycle.entities.Case` entities in a state of ``lifecycle``.

    A case still in the initial state has no first response; a case past it
    was first answered between its opening and its ``state_since``; a case in a
    closed stage (``resolved``, ``closed``) was resolved after that, by its
    ``state_since``, and other cases have no ``resolved_at``.

    Args:
        lifecycle: the case lifecycle whose states are drawn (default ``CASE_STATUS``).
            Its declared custom fields are drawn too (:func:`custom_values`).
        states: draw only these states (each a state of ``lifecycle``).

    Examples:
        >>> from hypothesis import given
        >>> @given(cases(states=st.just("new")))
        ... def test_unanswered(case):
        ...     assert case.first_response_at is None and case.resolved_at is None
        >>> test_unanswered()
    """
    created, since = draw(_created_and_since())
    stage = _state(draw, lifecycle, states)
    responded = None if stage.name == lifecycle.initial else _between(draw, created, since)
    resolved = _between(draw, responded or created, since) if stage.closed else None
    return Case(
        id=draw(ids()),
        customer_id=draw(ids()),
        subject=draw(_text()),
        created_at=created,
        state=stage.name,
        state_since=since,
        priority=draw(st.sampled_from(CASE_PRIORITIES)),
        type=draw(st.sampled_from(CASE_TYPES)),
        first_response_at=responded,
        resolved_at=resolved,
        custom=draw(custom_values(lifecycle)),
    )


def interactions() -> st.SearchStrategy[Interaction]:
    """Valid :class:`~crmlifecycle.entities.Interaction` entities (attached to a lead)."""
    return st.builds(
        Interaction,
        id=ids(),
        kind=st.sampled_from(["email_open", "web_visit", "webinar", "demo_request", "call"]),
        at=aware_datetimes(),
        outcome=_optional(_text()),
        lead_id=ids(),
    )


def orders() -> st.SearchStrategy[Order]:
    """Valid :class:`~crmlifecycle.entities.Order` entities."""
    return st.builds(
        Order,
        id=ids(),
        customer_id=ids(),
        at=aware_datetimes(),
        amount=money(),
        quantity=st.integers(min_value=1, max_value=100),
    )


@st.composite
def feedback(draw: st.DrawFn) -> Feedback:
    """Valid :class:`~crmlifecycle.entities.Feedback` answers on each kind's scale."""
    kind = draw(st.sampled_from(sorted(FEEDBACK_SCALES)))
    low, high = FEEDBACK_SCALES[kind]
    return Feedback(
        id=draw(ids()),
        customer_id=draw(ids()),
        at=draw(aware_datetimes()),
        kind=kind,
        score=draw(st.integers(min_value=low, max_value=high)),
        comment=draw(_optional(st.text(max_size=40))),
    )


def context_values() -> st.SearchStrategy[Any]:
    """Values an event context may hold (nested lists and string-keyed dicts included)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.decimals(allow_nan=False, allow_infinity=False),
        aware_datetimes(),
        st.dates(),
        st.timedeltas(),
        money(),
    )
    keys = st.text(max_size=10).filter(lambda k: not k.startswith("$"))
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.lists(inner, max_size=4).map(tuple)
            | st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=12,
    )


def _contexts() -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(min_size=1, max_size=10).filter(lambda k: not k.startswith("$"))
    return st.dictionaries(keys, context_values(), max_size=4)


def transitioned_events() -> st.SearchStrategy[Transitioned]:
    """Valid :class:`~crmlifecycle.events.Transitioned` events with rich contexts."""
    return st.builds(
        Transitioned,
        kind=st.sampled_from(["lead", "opportunity", "customer", "case"]),
        entity_id=ids(),
        trigger=_text(),
        source=_NAMES,
        dest=_NAMES,
        at=aware_datetimes(),
        context=_contexts(),
    )


def created_events() -> st.SearchStrategy[Created]:
    """Valid :class:`~crmlifecycle.events.Created` events."""
    return st.builds(
        Created,
        kind=st.sampled_from(["lead", "opportunity", "customer", "case"]),
        entity_id=ids(),
        at=aware_datetimes(),
        context=_contexts(),
    )


def fields_changed_events() -> st.SearchStrategy[FieldsChanged]:
    """Valid :class:`~crmlifecycle.events.FieldsChanged` events."""
    changes = st.dictionaries(
        st.sampled_from(["probability", "amount", "owner"]),
        st.lists(context_values(), min_size=2, max_size=2),
        max_size=3,
    )
    return st.builds(
        FieldsChanged,
        kind=st.sampled_from(["lead", "opportunity"]),
        entity_id=ids(),
        at=aware_datetimes(),
        changes=changes,
    )


#: the pandas dtype of each kind of column of the data contract
_DTYPES: Final[dict[ColumnKind, str]] = {
    "str": "str",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "time": "datetime64[ns, UTC]",
}
_FRAME_START: Final = datetime(2020, 1, 1, tzinfo=UTC)


def _contract_frame(columns: ColumnSpec, data: Mapping[str, list[Any]]) -> pd.DataFrame:
    """A frame with the record's column names, in the contract's order and dtypes."""
    kinds = type(columns).kinds()
    names = columns.names()
    return pd.DataFrame(
        {names[c]: pd.Series(data[c], dtype=_DTYPES[kind]) for c, kind in kinds.items()}
    )


def _walk(draw: st.DrawFn, lifecycle: Lifecycle, max_steps: int) -> list[tuple[str, str, str]]:
    """Draw (trigger, source, dest) steps of a valid walk from the initial state."""
    state = last_open = lifecycle.initial
    steps: list[tuple[str, str, str]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=max_steps))):
        if not lifecycle.stage(state).closed:
            last_open = state
        options = [t for t in lifecycle.transitions if state in t.source]
        if not options:
            break
        chosen = draw(st.sampled_from(options))
        dest = state if chosen.dest is None else chosen.dest  # internal: the state stays
        dest = last_open if chosen.to_last_open else dest
        steps.append((chosen.trigger, state, dest))
        state = dest
    return steps


@st.composite
def event_log_frames(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    lifecycle: Lifecycle,
    *,
    max_entities: int = 6,
    max_steps: int = 6,
    columns: EventLogColumns = EventLogColumns(),
) -> pd.DataFrame:
    """
    Event-log frames of valid walks of ``lifecycle``, one walk per entity.

    Each entity starts in the lifecycle's initial state and takes up to
    ``max_steps`` steps its declared transitions allow (an internal transition
    keeps the state; ``to_last_open`` returns to the last open state); times only
    grow along a walk. Rows are grouped by entity in walk order; the columns are
    named by ``columns`` (the contract's names by default).

    Args:
        lifecycle: the lifecycle whose walks the log records (its ``kind`` goes in ``kind``).
        max_entities: the most entities in one frame.
        max_steps: the most steps of one entity's walk.
        columns: the column names (:class:`~crmlifecycle.schema.EventLogColumns`).

    Examples:
        >>> from hypothesis import given
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> @given(event_log_frames(LEAD_STATUS))
        ... def test_replay(log):
        ...     assert set(LEAD_STATUS.replay_frame(log)["state"]) <= set(LEAD_STATUS.states)
        >>> test_replay()
    """
    n_entities = draw(st.integers(min_value=0, max_value=max_entities))
    data: dict[str, list[Any]] = {name: [] for name in EventLogColumns.kinds()}
    for number in range(n_entities):
        at = _FRAME_START + timedelta(seconds=draw(st.integers(0, 10**8)))
        for trigger, source, dest in _walk(draw, lifecycle, max_steps):
            at += timedelta(seconds=draw(st.integers(0, 10**6)))
            data["kind"].append(lifecycle.kind)
            data["entity_id"].append(f"E{number}")
            data["trigger"].append(trigger)
            data["source"].append(source)
            data["dest"].append(dest)
            data["at"].append(pd.Timestamp(at))
    return _contract_frame(columns, data)


_ENTITY_STRATEGIES: Final = {
    "case": cases,
    "customer": customers,
    "lead": leads,
    "opportunity": opportunities,
}


def _initial_records(lifecycle: Lifecycle) -> st.SearchStrategy[Any]:
    """Records of ``lifecycle``'s kind in its initial state."""
    strategy = _ENTITY_STRATEGIES.get(lifecycle.kind)
    if strategy is None:
        raise ValidationError.for_field(
            "lifecycle.kind",
            lifecycle.kind,
            f"one of {sorted(_ENTITY_STRATEGIES)} (the kinds with a record strategy)",
            hint="pass initial=<a strategy of records in the lifecycle's initial state>.",
        )
    records: st.SearchStrategy[Any] = strategy(
        lifecycle=lifecycle, states=st.just(lifecycle.initial)
    )
    return records


def _custom_edit(draw: st.DrawFn, lifecycle: Lifecycle, entity: Any, at: datetime) -> Any:
    """An edit of one declared custom field (an optional one may be removed)."""
    field = draw(st.sampled_from(lifecycle.fields))
    values = _field_values(field)
    value = draw(values if field.required else _optional(values))
    return lifecycle.edit(entity, at=at, **{field.name: value})


def _step_context(
    draw: st.DrawFn, lifecycle: Lifecycle, state: str, trigger: str, *, links: bool
) -> dict[str, Any]:
    """
    The context a step needs: the inputs of the stage effects it can trigger.

    A lost reason when the trigger can enter a lost stage; for a record that
    links what it converts into (``opportunity_id``), that link when the trigger
    can enter a won stage from one that is not won.
    """
    dests = [
        lifecycle.stage(t.dest)
        for t in lifecycle.transitions
        if t.trigger == trigger and (state in t.source or "*" in t.source) and t.dest is not None
    ]
    context: dict[str, Any] = {}
    if any(dest.type == "lost" for dest in dests):
        context["lost_reason"] = draw(st.sampled_from(_LOST_REASONS))
    if links and any(dest.won for dest in dests) and not lifecycle.stage(state).won:
        context["opportunity_id"] = draw(ids())
    return context


#: State names the standard lifecycles use: generated specs name their stages otherwise.
_STANDARD_STATES: Final = frozenset(
    name
    for lc in (LEAD_STATUS, OPPORTUNITY_PIPELINE, CUSTOMER_LIFECYCLE, CASE_STATUS)
    for name in lc.states
)
_SPEC_KINDS: Final = ("case", "customer", "lead", "opportunity")


@st.composite
def lifecycle_specs(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    kind: str = "opportunity",
    max_states: int = 6,
    max_transitions: int = 10,
) -> dict[str, Any]:
    """
    Valid lifecycle specs (for ``Lifecycle.from_dict``) naming their stages their own way.

    Each spec has 2 to ``max_states`` states named unlike any standard
    lifecycle's, the first (the initial one) of type ``open``, the others of any
    status type; open stages may carry a probability (won ones 100, lost ones
    0). Transitions (up to ``max_transitions``) go between drawn states, some
    internal (with triggers no moving transition shares), some returning to the
    last open stage (``to_last_open``), and on the ``opportunity`` kind some
    guarded by a condition on ``probability``.
    The ``kind`` is one a record class walks (``lead``, ``opportunity``,
    ``customer`` or ``case``), so :func:`event_sequences` draws walks of it.

    Args:
        kind: the entity kind of the specs.
        max_states: the most states of one spec (at least 2).
        max_transitions: the most transitions of one spec (at least 1).

    Raises:
        ValidationError: ``kind`` is not one with a record class.

    Examples:
        >>> from hypothesis import given
        >>> from crmlifecycle.stages import Lifecycle
        >>> @given(lifecycle_specs())
        ... def test_specs(spec):
        ...     assert Lifecycle.from_dict(spec).kind == "opportunity"
        >>> test_specs()
    """
    if kind not in _SPEC_KINDS:
        raise ValidationError.for_field("kind", kind, f"one of {list(_SPEC_KINDS)}")
    names = draw(
        st.lists(
            st.from_regex(r"\A[a-z][a-z0-9]{1,7}\Z").filter(lambda n: n not in _STANDARD_STATES),
            min_size=2,
            max_size=max(2, max_states),
            unique=True,
        )
    )
    types = [
        "open",
        *draw(
            st.lists(
                st.sampled_from(STATUS_TYPES), min_size=len(names) - 1, max_size=len(names) - 1
            )
        ),
    ]
    states: list[dict[str, Any]] = []
    for name, type_ in zip(names, types, strict=True):
        state: dict[str, Any] = {"name": name, "type": type_}
        if type_ == "won":
            state["probability"] = 100
        elif type_ == "lost":
            state["probability"] = 0
        elif draw(st.booleans()):
            state["probability"] = draw(st.integers(min_value=0, max_value=99))
        states.append(state)
    transitions: list[dict[str, Any]] = []
    n_transitions = draw(st.integers(min_value=1, max_value=max(1, max_transitions)))
    for number in range(n_transitions):
        sources = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        how = draw(st.sampled_from(["dest", "dest", "dest", "internal", "to_last_open"]))
        # internal steps have triggers of their own: a log cannot tell an internal step
        # from a re-entering one sharing its trigger
        trigger = f"note{number % 2}" if how == "internal" else f"go{number % 4}"
        transition: dict[str, Any] = {"trigger": trigger, "source": sources}
        if how == "dest":
            transition["dest"] = draw(st.sampled_from(names))
        else:
            transition[how] = True
        if kind == "opportunity" and draw(st.booleans()):
            transition["when"] = f"probability >= {draw(st.integers(0, 60))}"
        transitions.append(transition)
    suffix = draw(st.from_regex(r"\A[a-z]{1,6}\Z"))
    return {
        "name": f"custom_{suffix}",
        "kind": kind,
        "states": states,
        "transitions": transitions,
    }


def lifecycles(
    *,
    kind: str = "opportunity",
    max_states: int = 6,
    max_transitions: int = 10,
) -> st.SearchStrategy[Lifecycle]:
    """
    Valid random lifecycles: :func:`lifecycle_specs` built with ``Lifecycle.from_dict``.

    Host applications property-test code that takes any lifecycle with it, and
    :func:`event_sequences` walks the result (the default kind, ``opportunity``,
    steps :class:`~crmlifecycle.entities.Opportunity` records).

    Args:
        kind: the entity kind of the lifecycles.
        max_states: the most states of one lifecycle (at least 2).
        max_transitions: the most transitions of one lifecycle (at least 1).

    Examples:
        >>> from hypothesis import given
        >>> @given(lifecycles().flatmap(lambda lc: event_sequences(lc, created=True)
        ...                                         .map(lambda walk: (lc, walk))))
        ... def test_replay(case):
        ...     lifecycle, (deal, events) = case
        ...     assert lifecycle.replay(type(deal), events).id == deal.id
        >>> test_replay()
    """
    specs = lifecycle_specs(kind=kind, max_states=max_states, max_transitions=max_transitions)
    return specs.map(Lifecycle.from_dict)


@st.composite
def event_sequences(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    lifecycle: Lifecycle,
    *,
    initial: st.SearchStrategy[Any] | None = None,
    max_steps: int = 8,
    created: bool = False,
    edits: bool = False,
) -> tuple[Any, list[Event]]:
    """
    An initial record and the events of a valid walk of ``lifecycle`` from it.

    The walk is taken with :meth:`~crmlifecycle.stages.Lifecycle.fire`: up to
    ``max_steps`` steps, each a trigger allowed from the current state, at
    times that never go back; a step that can enter a lost stage gets a
    ``lost_reason`` and a lead's conversion its ``opportunity_id``, and a
    trigger the lifecycle refuses (a guard, a missing requirement) is left out
    in favour of another. So ``lifecycle.replay(initial, events)`` rebuilds the
    walk's last record without error (with ``created=True`` the log starts with
    the record's :class:`~crmlifecycle.events.Created` event, and
    ``lifecycle.replay(type(initial), events)`` rebuilds it from the log alone).

    Args:
        lifecycle: the lifecycle to walk (its ``kind`` picks the record class).
        initial: the initial records (default: records of the lifecycle's kind,
            ``lead``, ``opportunity``, ``customer`` or ``case``, in its initial
            state); needed for a lifecycle of another kind.
        max_steps: the most steps of one walk.
        created: start the events with the initial record's ``Created`` event.
        edits: interleave :meth:`~crmlifecycle.stages.Lifecycle.edit` events that set or
            remove the lifecycle's declared custom fields (``FieldsChanged``).

    Returns:
        ``(initial record, events)``: the record the walk starts from and its
        events in order (:class:`~crmlifecycle.events.Transitioned` ones, and
        ``FieldsChanged`` ones with ``edits=True``, after the ``Created`` event if
        asked for).

    Raises:
        ValidationError: the lifecycle's kind has no record strategy and no
            ``initial`` is given.

    Examples:
        >>> from hypothesis import given
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
        >>> @given(event_sequences(OPPORTUNITY_PIPELINE))
        ... def test_replay(walk):
        ...     deal, events = walk
        ...     OPPORTUNITY_PIPELINE.replay(deal, events)
        >>> test_replay()
    """
    entity = draw(initial if initial is not None else _initial_records(lifecycle))
    first = entity
    events: list[Event] = [Created.of(entity)] if created else []
    at: datetime = entity.state_since
    for _ in range(draw(st.integers(min_value=0, max_value=max_steps))):
        at += timedelta(seconds=draw(st.integers(min_value=0, max_value=10**6)))
        if edits and lifecycle.fields and draw(st.booleans()):
            edit = _custom_edit(draw, lifecycle, entity, at)
            entity = edit.entity
            events.append(edit.event)
            continue
        options = list(lifecycle.triggers(entity))
        step: Step[Any] | None = None
        while options and step is None:
            trigger = draw(st.sampled_from(options))
            options.remove(trigger)
            links = attrs.has(type(entity)) and "opportunity_id" in attrs.fields_dict(type(entity))
            context = _step_context(draw, lifecycle, entity.state, trigger, links=links)
            try:
                step = lifecycle.fire(entity, trigger, at=at, **context)
            except CrmError:
                step = None
        if step is None:
            break
        entity = step.entity
        events.append(step.event)
    return first, events


@st.composite
def order_frames(  # noqa: D417 - Hypothesis passes draw
    draw: st.DrawFn,
    *,
    max_orders: int = 20,
    max_customers: int = 5,
    columns: OrderColumns = OrderColumns(),
) -> pd.DataFrame:
    """
    Orders frames: unique order ids, a few customers, UTC times, non-negative amounts.

    The columns are named by ``columns`` (the contract's names by default).

    Args:
        max_orders: the most orders in one frame.
        max_customers: the number of distinct customer ids drawn from.
        columns: the column names (:class:`~crmlifecycle.schema.OrderColumns`).

    Examples:
        >>> from hypothesis import given
        >>> from crmlifecycle.schema import OrderColumns
        >>> @given(order_frames(columns=OrderColumns(customer_id="cust")))
        ... def test_columns(orders):
        ...     assert list(orders.columns) == ["order_id", "cust", "at", "amount"]
        >>> test_columns()
    """
    n_orders = draw(st.integers(min_value=0, max_value=max_orders))
    customers = st.integers(min_value=1, max_value=max_customers).map(lambda n: f"C{n}")
    amounts = st.decimals(min_value=0, max_value=10**6, places=2).map(float)
    data: dict[str, list[Any]] = {
        "order_id": [f"O{number}" for number in range(1, n_orders + 1)],
        "customer_id": draw(st.lists(customers, min_size=n_orders, max_size=n_orders)),
        "at": [
            pd.Timestamp(_FRAME_START + timedelta(seconds=seconds))
            for seconds in draw(
                st.lists(st.integers(0, 10**8), min_size=n_orders, max_size=n_orders)
            )
        ],
        "amount": draw(st.lists(amounts, min_size=n_orders, max_size=n_orders)),
    }
    return _contract_frame(columns, data)
