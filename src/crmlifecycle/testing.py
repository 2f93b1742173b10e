"""
Hypothesis strategies for every entity, value object and event, and for frames of the data contract.

For crmlifecycle's own tests and for host applications' tests. Importing this
module needs the ``test`` extra (it imports ``hypothesis``); nothing else in the
package does. The frame strategies (:func:`event_log_frames`, :func:`order_frames`)
name their columns by a column-spec record of :mod:`crmlifecycle.schema` (the
contract's names by default) and give each column the dtype of its kind.

Examples:
    >>> from hypothesis import given
    >>> from crmlifecycle.testing import leads
    >>> @given(leads())
    ... def test_lead_state_since(lead):
    ...     assert lead.state_since >= lead.created_at
    >>> test_lead_state_since()
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
from hypothesis import strategies as st

from crmlifecycle._currencies import MINOR_UNITS
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
from crmlifecycle.events import Created, FieldsChanged, Transitioned
from crmlifecycle.schema import ColumnKind, ColumnSpec, EventLogColumns, OrderColumns
from crmlifecycle.stages import CASE_STATUS
from crmlifecycle.values import Money, Period

if TYPE_CHECKING:
    from crmlifecycle.stages import Lifecycle

__all__ = [
    "accounts",
    "aware_datetimes",
    "campaigns",
    "cases",
    "contacts",
    "context_values",
    "created_events",
    "currencies",
    "customers",
    "emails",
    "event_log_frames",
    "feedback",
    "fields_changed_events",
    "ids",
    "interactions",
    "leads",
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
    """Timezone-aware datetimes (UTC and fixed offsets from -12h to +14h, minute-aligned)."""
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
    """Money amounts with two decimal places in ``currency`` (or a random one)."""
    amounts = st.decimals(
        min_value=min_value, max_value=max_value, places=2, allow_nan=False, allow_infinity=False
    )
    codes = st.just(currency) if currency else currencies()
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


@st.composite
def leads(draw: st.DrawFn, *, states: st.SearchStrategy[str] | None = None) -> Lead:
    """Valid :class:`~crmlifecycle.entities.Lead` entities (any ``state`` name by default)."""
    created, since = draw(_created_and_since())
    return Lead(
        id=draw(ids()),
        created_at=created,
        state=draw(states if states is not None else _NAMES),
        state_since=since,
        email=draw(_optional(emails())),
        channel=draw(_optional(st.sampled_from(["webinar", "referral", "paid_search", "social"]))),
        industry=draw(_optional(st.sampled_from(["saas", "retail", "finance", "health"]))),
        company_size=draw(_optional(st.integers(min_value=0, max_value=10**5))),
        job_title=draw(_optional(_text())),
        budget=draw(_optional(money(currency="EUR"))),
        score=draw(_optional(st.floats(min_value=-1000, max_value=1000))),
    )


@st.composite
def opportunities(draw: st.DrawFn, *, states: st.SearchStrategy[str] | None = None) -> Opportunity:
    """Valid :class:`~crmlifecycle.entities.Opportunity` entities."""
    created, since = draw(_created_and_since())
    return Opportunity(
        id=draw(ids()),
        name=draw(_text()),
        amount=draw(money(currency="EUR")),
        created_at=created,
        state=draw(states if states is not None else _NAMES),
        state_since=since,
        probability=draw(st.integers(min_value=0, max_value=100)),
        probability_manual=draw(st.booleans()),
        account_id=draw(_optional(ids())),
        owner=draw(_optional(_text())),
    )


@st.composite
def customers(draw: st.DrawFn, *, states: st.SearchStrategy[str] | None = None) -> Customer:
    """Valid :class:`~crmlifecycle.entities.Customer` entities."""
    created, since = draw(_created_and_since())
    state = draw(states if states is not None else _NAMES)
    return Customer(
        id=draw(ids()),
        created_at=created,
        state=state,
        state_since=since,
        highest_state=state,
        email=draw(_optional(emails())),
        channel=draw(_optional(_text())),
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
def cases(draw: st.DrawFn, *, states: st.SearchStrategy[str] | None = None) -> Case:  # noqa: D417 - Hypothesis passes draw
    """
    Valid :class:`~crmlifecycle.entities.Case` entities.

    Args:
        states: the case states to draw from (default: the states of ``CASE_STATUS``).
    """
    created, since = draw(_created_and_since())
    return Case(
        id=draw(ids()),
        customer_id=draw(ids()),
        subject=draw(_text()),
        created_at=created,
        state=draw(states if states is not None else st.sampled_from(CASE_STATUS.states)),
        state_since=since,
        priority=draw(st.sampled_from(CASE_PRIORITIES)),
        type=draw(st.sampled_from(CASE_TYPES)),
        first_response_at=draw(st.none() | st.just(since)),
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
