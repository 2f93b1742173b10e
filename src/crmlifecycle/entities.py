"""
The CRM's entities: immutable, validated records the host stores in its own database.

Every entity is a frozen, slotted, keyword-only ``attrs`` class, validated when it
is built; change one with :func:`attrs.evolve` (or through a lifecycle step) and
you get a new, re-validated entity. Ids are the host's strings. Timestamps must be
timezone-aware. Entities that move through a lifecycle (:class:`Lead`,
:class:`Opportunity`, :class:`Customer`, :class:`Case`) carry their current
``state`` and ``state_since``; their full history is the event log.

Examples:
    >>> from datetime import datetime, timezone
    >>> import attrs
    >>> from crmlifecycle import Lead, Money
    >>> lead = Lead(id="L-1", created_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
    ...             email="ada@example.com", budget=Money(20000, "EUR"))
    >>> lead.state, lead.state_since == lead.created_at
    ('open', True)
    >>> attrs.evolve(lead, email="not an email")
    Traceback (most recent call last):
    ...
    crmlifecycle.errors.ValidationError: 'email' must be a valid e-mail address ...
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final, final

import attrs

from crmlifecycle._custom_fields import CustomFields, to_custom_fields
from crmlifecycle._event_data import plain_number
from crmlifecycle._validators import (
    aware_datetime,
    email,
    in_range,
    instance_of,
    non_empty_str,
    one_of,
    optional,
)
from crmlifecycle.errors import ValidationError
from crmlifecycle.values import Money, Period

__all__ = [
    "CASE_PRIORITIES",
    "CASE_TYPES",
    "FEEDBACK_SCALES",
    "Account",
    "Campaign",
    "Case",
    "Contact",
    "CustomFields",
    "Customer",
    "Feedback",
    "Interaction",
    "Lead",
    "Opportunity",
    "Order",
    "Product",
]

#: Case priorities, lowest first; escalation moves a case one step up.
CASE_PRIORITIES: Final = ("low", "normal", "high", "urgent")
#: Case types.
CASE_TYPES: Final = ("question", "problem", "incident", "feature_request")
#: Feedback kinds and their answer scales (inclusive): NPS 0–10 (Reichheld 2003),
#: CSAT 1–5, CES 1–7 (the later 7-point agreement scale of Dixon et al.).
FEEDBACK_SCALES: Final[dict[str, tuple[int, int]]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _non_negative_money(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise ValidationError.for_field(attr.name, value, "Money (e.g. Money('100', 'EUR'))")
    if value.is_negative():
        raise ValidationError.for_field(attr.name, value, "a non-negative amount")


def _before(later: datetime, earlier: datetime) -> bool:
    """
    Whether ``later`` is before ``earlier`` as instants.

    Python compares two datetimes of one zone by their wall clocks, so in a daylight-saving
    fold 02:30 (second, ``fold=1``) would not count as after 02:30 (first).
    """
    return later.astimezone(UTC) < earlier.astimezone(UTC)


def _since_not_before_created(inst: Any) -> None:
    if _before(inst.state_since, inst.created_at):
        raise ValidationError.for_field(
            "state_since",
            inst.state_since,
            f"at or after created_at ({inst.created_at.isoformat()})",
        )
    if inst.updated_at is not None and _before(inst.updated_at, inst.created_at):
        raise ValidationError.for_field(
            "updated_at",
            inst.updated_at,
            f"at or after created_at ({inst.created_at.isoformat()})",
        )


def _state_since_default(inst: Any) -> datetime:
    created: datetime = inst.created_at
    return created


def _id() -> Any:
    return attrs.field(validator=non_empty_str())


def _optional_text() -> Any:
    return attrs.field(default=None, validator=optional(non_empty_str()))


def _python_number(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if value is not None and type(value) not in (int, float, Decimal):
        raise ValidationError.for_field(
            attr.name,
            value,
            "an int, float or Decimal",
            hint="records hold numbers an event can store; convert fractions with float().",
        )


def _number_field(check: Any, *, default: object = None) -> Any:
    """A ranged number field: NumPy scalars stored as Python numbers, other kinds refused."""
    return attrs.field(default=default, converter=plain_number, validator=[check, _python_number])


def _version() -> Any:
    return _number_field(in_range(0, 2**62, integral=True), default=0)


@final
@attrs.frozen(kw_only=True)
class Contact:
    """
    A person the business talks to.

    Attributes:
        id: the host's id.
        name: the person's name.
        created_at: when the record was created (timezone-aware).
        email: e-mail address, checked for shape.
        phone: phone number as text.
        job_title: job title.
        account_id: the account the person belongs to.

    Examples:
        >>> from datetime import datetime, timezone
        >>> Contact(id="C-1", name="Ada Lovelace", email="ada@example.com",
        ...         created_at=datetime(2026, 1, 5, tzinfo=timezone.utc)).email
        'ada@example.com'

    .. versionadded:: 0.1
    """

    id: str = _id()
    name: str = attrs.field(validator=non_empty_str())
    created_at: datetime = attrs.field(validator=aware_datetime())
    email: str | None = attrs.field(default=None, validator=optional(email()))
    phone: str | None = _optional_text()
    job_title: str | None = _optional_text()
    account_id: str | None = _optional_text()


@final
@attrs.frozen(kw_only=True)
class Account:
    """
    A company (or household) the business sells to.

    Attributes:
        id: the host's id.
        name: the company's name.
        created_at: when the record was created (timezone-aware).
        industry: industry, free text.
        employees: number of employees (a whole number from 0).
        country: country, free text.

    Examples:
        >>> from datetime import datetime, timezone
        >>> Account(id="A-1", name="Acme", industry="saas", employees=120,
        ...         created_at=datetime(2026, 1, 5, tzinfo=timezone.utc)).employees
        120

    .. versionadded:: 0.1
    """

    id: str = _id()
    name: str = attrs.field(validator=non_empty_str())
    created_at: datetime = attrs.field(validator=aware_datetime())
    industry: str | None = _optional_text()
    employees: int | None = _number_field(optional(in_range(0, 10**8, integral=True)))
    country: str | None = _optional_text()


@final
@attrs.frozen(kw_only=True)
class Lead:
    """
    A prospective customer not yet qualified; moves through ``LEAD_STATUS``.

    Fit attributes (industry, company size, job title, budget, source) feed the
    scorers; ``score`` holds the last score a host stored.

    Attributes:
        id: the host's id.
        created_at: when the lead was created (timezone-aware).
        state: the lead's state in its lifecycle (``open`` for a new lead).
        state_since: when it entered ``state`` (default: ``created_at``; never before it).
        updated_at: when the record last changed (its last event's ``at``; ``None``:
            not since ``state_since``); steps and edits never go before it.
        email: e-mail address, checked for shape.
        name: the person's name.
        company: the company's name.
        campaign_id: the campaign that brought the lead.
        channel: the acquisition channel (e.g. ``webinar``).
        industry: industry, free text.
        company_size: employees of the lead's company.
        job_title: job title.
        budget: the budget the lead stated (non-negative ``Money``).
        country: country, free text.
        score: the last score a host stored.
        contact_id: the contact the lead became or belongs to.
        account_id: the account the lead belongs to.
        opportunity_id: the opportunity a converted lead became.
        owner: the user who owns the lead (set by ``lifecycle.assign``).
        custom: the host's own fields (:class:`CustomFields`; see the custom-fields guide).
        version: how many events the record has had since it was created (its
            last event's ``sequence``); the lifecycle's steps count it.
        merged_into: the record this one was merged into (a merged record takes no steps).

    Examples:
        >>> from datetime import datetime, timezone
        >>> lead = Lead(id="L-7", created_at=datetime(2026, 2, 1, tzinfo=timezone.utc),
        ...             industry="saas", company_size=40, channel="webinar")
        >>> (lead.kind, lead.state)
        ('lead', 'open')

    .. versionadded:: 0.1
    """

    kind: ClassVar[str] = "lead"

    id: str = _id()
    created_at: datetime = attrs.field(validator=aware_datetime())
    state: str = attrs.field(default="open", validator=non_empty_str())
    state_since: datetime = attrs.field(
        default=attrs.Factory(_state_since_default, takes_self=True), validator=aware_datetime()
    )
    updated_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    email: str | None = attrs.field(default=None, validator=optional(email()))
    name: str | None = _optional_text()
    company: str | None = _optional_text()
    campaign_id: str | None = _optional_text()
    channel: str | None = _optional_text()
    industry: str | None = _optional_text()
    company_size: int | None = _number_field(optional(in_range(0, 10**8, integral=True)))
    job_title: str | None = _optional_text()
    budget: Money | None = attrs.field(default=None, validator=_non_negative_money)
    country: str | None = _optional_text()
    score: float | None = _number_field(optional(in_range(-1e9, 1e9)))
    contact_id: str | None = _optional_text()
    account_id: str | None = _optional_text()
    opportunity_id: str | None = _optional_text()
    owner: str | None = _optional_text()
    custom: CustomFields = attrs.field(factory=CustomFields, converter=to_custom_fields)
    version: int = _version()
    merged_into: str | None = _optional_text()

    def __attrs_post_init__(self) -> None:
        _since_not_before_created(self)


@final
@attrs.frozen(kw_only=True)
class Opportunity:
    """
    A deal in the sales pipeline; moves through ``OPPORTUNITY_PIPELINE``.

    ``probability`` is the win probability in percent (0–100). When
    ``probability_manual`` is true the user set it by hand and stage changes keep
    it; otherwise each stage change sets the stage's default. A lost deal carries
    ``lost_reason`` and ``last_open_stage``.

    Attributes:
        id: the host's id.
        name: the deal's name.
        amount: the deal's value (non-negative ``Money``).
        created_at: when the deal was created (timezone-aware).
        state: the deal's stage (``prospecting`` for a new deal).
        state_since: when it entered ``state`` (default: ``created_at``; never before it).
        updated_at: when the record last changed (its last event's ``at``; ``None``:
            not since ``state_since``); steps and edits never go before it.
        probability: win probability in percent, 0 to 100.
        probability_manual: whether ``probability`` was set by hand (stage changes keep it).
        lost_reason: why a lost deal was lost.
        last_open_stage: the stage a lost deal left.
        expected_close: when the deal is expected to close.
        closed_at: when the deal was won or lost.
        account_id: the account the deal is with.
        contact_id: the main contact.
        lead_id: the lead the deal came from.
        owner: the user who owns the deal (set by ``lifecycle.assign``).
        custom: the host's own fields (:class:`CustomFields`; see the custom-fields guide).
        version: how many events the record has had since it was created (its
            last event's ``sequence``); the lifecycle's steps count it.
        merged_into: the record this one was merged into (a merged record takes no steps).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Money
        >>> deal = Opportunity(id="O-1", name="Acme renewal", amount=Money(12000, "EUR"),
        ...                    created_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
        >>> deal.state, deal.probability
        ('prospecting', 10)

    .. versionadded:: 0.1
    """

    kind: ClassVar[str] = "opportunity"

    id: str = _id()
    name: str = attrs.field(validator=non_empty_str())
    amount: Money = attrs.field(validator=_non_negative_money)
    created_at: datetime = attrs.field(validator=aware_datetime())
    state: str = attrs.field(default="prospecting", validator=non_empty_str())
    state_since: datetime = attrs.field(
        default=attrs.Factory(_state_since_default, takes_self=True), validator=aware_datetime()
    )
    updated_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    probability: int = _number_field(in_range(0, 100, integral=True), default=10)
    probability_manual: bool = attrs.field(
        default=False, validator=instance_of(bool, "True or False")
    )
    lost_reason: str | None = _optional_text()
    last_open_stage: str | None = _optional_text()
    expected_close: datetime | None = attrs.field(
        default=None, validator=optional(aware_datetime())
    )
    closed_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    account_id: str | None = _optional_text()
    contact_id: str | None = _optional_text()
    lead_id: str | None = _optional_text()
    owner: str | None = _optional_text()
    custom: CustomFields = attrs.field(factory=CustomFields, converter=to_custom_fields)
    version: int = _version()
    merged_into: str | None = _optional_text()

    def __attrs_post_init__(self) -> None:
        _since_not_before_created(self)
        if self.closed_at is not None and _before(self.closed_at, self.created_at):
            raise ValidationError.for_field(
                "closed_at",
                self.closed_at,
                f"at or after created_at ({self.created_at.isoformat()})",
            )


@final
@attrs.frozen(kw_only=True)
class Customer:
    """
    A customer in the five-stage customer life cycle; moves through ``CUSTOMER_LIFECYCLE``.

    ``highest_state`` is the furthest stage ever reached (a high-water mark that
    survives churn), kept beside the current ``state``.

    Attributes:
        id: the host's id.
        created_at: when the record was created (timezone-aware).
        state: the stage in the customer life cycle (``reach`` for a new record).
        state_since: when it entered ``state`` (default: ``created_at``; never before it).
        updated_at: when the record last changed (its last event's ``at``; ``None``:
            not since ``state_since``); steps and edits never go before it.
        highest_state: the furthest stage ever reached (default: ``state``).
        name: the customer's name.
        email: e-mail address, checked for shape.
        channel: the acquisition channel.
        account_id: the customer's account.
        contact_id: the customer's contact.
        lead_id: the lead the customer came from.
        owner: the user who owns the customer (set by ``lifecycle.assign``).
        custom: the host's own fields (:class:`CustomFields`; see the custom-fields guide).
        version: how many events the record has had since it was created (its
            last event's ``sequence``); the lifecycle's steps count it.
        merged_into: the record this one was merged into (a merged record takes no steps).

    Examples:
        >>> from datetime import datetime, timezone
        >>> Customer(id="K-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc)).highest_state
        'reach'

    .. versionadded:: 0.1
    """

    kind: ClassVar[str] = "customer"

    id: str = _id()
    created_at: datetime = attrs.field(validator=aware_datetime())
    state: str = attrs.field(default="reach", validator=non_empty_str())
    state_since: datetime = attrs.field(
        default=attrs.Factory(_state_since_default, takes_self=True), validator=aware_datetime()
    )
    updated_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    highest_state: str = attrs.field(
        default=attrs.Factory(lambda self: self.state, takes_self=True), validator=non_empty_str()
    )
    name: str | None = _optional_text()
    email: str | None = attrs.field(default=None, validator=optional(email()))
    channel: str | None = _optional_text()
    account_id: str | None = _optional_text()
    contact_id: str | None = _optional_text()
    lead_id: str | None = _optional_text()
    owner: str | None = _optional_text()
    custom: CustomFields = attrs.field(factory=CustomFields, converter=to_custom_fields)
    version: int = _version()
    merged_into: str | None = _optional_text()

    def __attrs_post_init__(self) -> None:
        _since_not_before_created(self)


@final
@attrs.frozen(kw_only=True)
class Product:
    """
    Something the business sells.

    Attributes:
        id: the host's id.
        name: the product's name.
        price: list price (non-negative ``Money``).
        vendor: who makes it.
        description: free text.
        active: whether it is on sale.

    Examples:
        >>> from crmlifecycle import Money
        >>> Product(id="P-1", name="Pro plan", price=Money("49.00", "EUR"), vendor="Acme").price
        Money(amount=Decimal('49.00'), currency='EUR')

    .. versionadded:: 0.1
    """

    id: str = _id()
    name: str = attrs.field(validator=non_empty_str())
    price: Money = attrs.field(validator=_non_negative_money)
    vendor: str | None = _optional_text()
    description: str | None = attrs.field(
        default=None, validator=optional(instance_of(str, "text"))
    )
    active: bool = attrs.field(default=True, validator=instance_of(bool, "True or False"))


@final
@attrs.frozen(kw_only=True)
class Campaign:
    """
    A marketing campaign: a channel, what it cost and when it ran.

    ``paid`` says whether its spend counts as paid acquisition (for paid CAC).

    Attributes:
        id: the host's id.
        name: the campaign's name.
        channel: the acquisition channel it runs on.
        spend: what it cost (non-negative ``Money``).
        period: when it ran.
        paid: whether its spend counts as paid acquisition.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Money, Period
        >>> q1 = Period(datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...             datetime(2026, 4, 1, tzinfo=timezone.utc))
        >>> Campaign(id="CMP-1", name="Spring webinar", channel="webinar",
        ...          spend=Money(5000, "EUR"), period=q1).paid
        True

    .. versionadded:: 0.1
    """

    id: str = _id()
    name: str = attrs.field(validator=non_empty_str())
    channel: str = attrs.field(validator=non_empty_str())
    spend: Money = attrs.field(validator=_non_negative_money)
    period: Period = attrs.field(validator=instance_of(Period, "a Period(start, end)"))
    paid: bool = attrs.field(default=True, validator=instance_of(bool, "True or False"))


@final
@attrs.frozen(kw_only=True)
class Case:
    """
    A support case; moves through ``CASE_STATUS``.

    Attributes:
        id: the host's id.
        customer_id: the customer who opened it.
        subject: what it is about.
        created_at: when it was opened (timezone-aware).
        state: the case's state (``new`` for a new case).
        state_since: when it entered ``state`` (default: ``created_at``; never before it).
        updated_at: when the record last changed (its last event's ``at``; ``None``:
            not since ``state_since``); steps and edits never go before it.
        priority: one of :data:`CASE_PRIORITIES`.
        type: one of :data:`CASE_TYPES`.
        first_response_at: when the first agent response was sent.
        resolved_at: when it was resolved.
        owner: the user who owns the case (set by ``lifecycle.assign``).
        custom: the host's own fields (:class:`CustomFields`; see the custom-fields guide).
        version: how many events the record has had since it was created (its
            last event's ``sequence``); the lifecycle's steps count it.
        merged_into: the record this one was merged into (a merged record takes no steps).

    Examples:
        >>> from datetime import datetime, timezone
        >>> case = Case(id="S-1", customer_id="K-1", subject="Cannot log in",
        ...             created_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc), priority="high")
        >>> case.state, case.type
        ('new', 'question')

    .. versionadded:: 0.1
    """

    kind: ClassVar[str] = "case"

    id: str = _id()
    customer_id: str = attrs.field(validator=non_empty_str())
    subject: str = attrs.field(validator=non_empty_str())
    created_at: datetime = attrs.field(validator=aware_datetime())
    state: str = attrs.field(default="new", validator=non_empty_str())
    state_since: datetime = attrs.field(
        default=attrs.Factory(_state_since_default, takes_self=True), validator=aware_datetime()
    )
    updated_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    priority: str = attrs.field(default="normal", validator=one_of(CASE_PRIORITIES))
    type: str = attrs.field(default="question", validator=one_of(CASE_TYPES))
    first_response_at: datetime | None = attrs.field(
        default=None, validator=optional(aware_datetime())
    )
    resolved_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime()))
    owner: str | None = _optional_text()
    custom: CustomFields = attrs.field(factory=CustomFields, converter=to_custom_fields)
    version: int = _version()
    merged_into: str | None = _optional_text()

    def __attrs_post_init__(self) -> None:
        _since_not_before_created(self)
        for name in ("first_response_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and _before(value, self.created_at):
                raise ValidationError.for_field(
                    name, value, f"at or after created_at ({self.created_at.isoformat()})"
                )


@final
@attrs.frozen(kw_only=True)
class Interaction:
    """
    One touch point: an e-mail opened, a web visit, a webinar attended, a call.

    It belongs to a lead, a contact or a customer (at least one of the ids).

    Attributes:
        id: the host's id.
        kind: what happened (``email_open``, ``visit``, ``webinar``, ``call`` ...).
        at: when it happened (timezone-aware).
        outcome: free-text outcome.
        lead_id: the lead it belongs to.
        contact_id: the contact it belongs to.
        customer_id: the customer it belongs to.

    Examples:
        >>> from datetime import datetime, timezone
        >>> Interaction(id="I-1", kind="webinar", lead_id="L-1",
        ...             at=datetime(2026, 3, 2, 15, tzinfo=timezone.utc)).kind
        'webinar'

    .. versionadded:: 0.1
    """

    id: str = _id()
    kind: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(validator=aware_datetime())
    outcome: str | None = _optional_text()
    lead_id: str | None = _optional_text()
    contact_id: str | None = _optional_text()
    customer_id: str | None = _optional_text()

    def __attrs_post_init__(self) -> None:
        if self.lead_id is None and self.contact_id is None and self.customer_id is None:
            raise ValidationError.for_field(
                "lead_id",
                None,
                "set (or contact_id or customer_id): an interaction belongs to someone",
            )


@final
@attrs.frozen(kw_only=True)
class Order:
    """
    A purchase by a customer.

    Attributes:
        id: the host's id.
        customer_id: the customer who bought.
        at: when the order was placed (timezone-aware).
        amount: the order's value (non-negative ``Money``).
        product_id: the product bought.
        quantity: how many (a whole number from 1).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Money
        >>> Order(id="R-1", customer_id="K-1", amount=Money("99.90", "EUR"),
        ...       at=datetime(2026, 3, 2, tzinfo=timezone.utc)).quantity
        1

    .. versionadded:: 0.1
    """

    id: str = _id()
    customer_id: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(validator=aware_datetime())
    amount: Money = attrs.field(validator=_non_negative_money)
    product_id: str | None = _optional_text()
    quantity: int = attrs.field(default=1, validator=in_range(1, 10**9, integral=True))


@final
@attrs.frozen(kw_only=True)
class Feedback:
    """
    A customer's answer to an NPS, CSAT or CES survey question.

    The score must lie on the kind's scale (:data:`FEEDBACK_SCALES`).

    Attributes:
        id: the host's id.
        customer_id: the customer who answered.
        at: when they answered (timezone-aware).
        kind: ``nps``, ``csat`` or ``ces``.
        score: the answer on the kind's scale.
        comment: free text.

    Examples:
        >>> from datetime import datetime, timezone
        >>> Feedback(id="F-1", customer_id="K-1", kind="nps", score=11,
        ...          at=datetime(2026, 3, 2, tzinfo=timezone.utc))
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'score' must be an integer from 0 to 10 ...

    .. versionadded:: 0.1
    """

    id: str = _id()
    customer_id: str = attrs.field(validator=non_empty_str())
    at: datetime = attrs.field(validator=aware_datetime())
    kind: str = attrs.field(validator=one_of(tuple(FEEDBACK_SCALES)))
    score: int = attrs.field(converter=plain_number)
    comment: str | None = attrs.field(default=None, validator=optional(instance_of(str, "text")))

    @score.validator
    def _check_score(self, attr: attrs.Attribute[Any], value: object) -> None:
        low, high = FEEDBACK_SCALES[self.kind]
        in_range(low, high, integral=True)(self, attr, value)
