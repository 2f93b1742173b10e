"""
The actions an automation rule returns, and the document helpers that read them.

A rule set *returns* actions. The host carries out ``fire`` and ``set`` through
the record's lifecycle (:meth:`FireTrigger.apply`, :meth:`SetField.apply`, or
:func:`~crmlifecycle.rules.apply_actions` for a whole list), which validates and
records them as events; it creates the tasks and sends the notifications itself.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeAlias, final

import attrs

from crmlifecycle._config import check_keys
from crmlifecycle.errors import CrmError, SpecError, ValidationError, did_you_mean, short_repr
from crmlifecycle.rules._syntax import parse

if TYPE_CHECKING:
    from crmlifecycle.rules._apply import Edited, Fired, LifecycleLike, RecordT

__all__ = [
    "Action",
    "ActionSpec",
    "CreateTask",
    "FireTrigger",
    "Notify",
    "SetField",
    "field_name_problem",
    "parse_action",
    "text_at",
]


@final
@attrs.frozen(kw_only=True)
class FireTrigger:
    """
    Fire a lifecycle trigger on the entity (e.g. ``qualify``).

    Attributes:
        rule: the name of the rule that returned it.
        entity_id: the record the action is for.
        trigger: the lifecycle trigger to fire.

    Examples:
        >>> FireTrigger(rule="hot", entity_id="L-1", trigger="qualify").action
        'fire'
    """

    rule: str
    entity_id: str
    trigger: str
    action: str = attrs.field(default="fire", init=False)

    def apply(
        self,
        lifecycle: LifecycleLike,
        entity: RecordT,
        *,
        at: datetime,
        actor: str | None = None,
    ) -> Fired[RecordT]:
        """
        Fire the trigger on ``entity`` through ``lifecycle``; return the new record and its event.

        The step is the lifecycle's own :meth:`~crmlifecycle.stages.Lifecycle.fire`,
        with the actor ``"rule:<rule>"`` (or ``actor``) in the event's envelope.

        Args:
            lifecycle: the record's lifecycle (anything with ``fire``, such as a
                :class:`~crmlifecycle.stages.Lifecycle`).
            entity: the record the action names (it is not changed).
            at: when the step happens (timezone-aware, not before the record's last change).
            actor: who takes the step, for the event's envelope (default: ``"rule:<rule>"``).

        Raises:
            ValidationError: ``entity`` is not the record the action names; what
                :meth:`~crmlifecycle.stages.Lifecycle.fire` refuses.
            InvalidTransition, GuardRejected: the trigger is not possible from the state.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> step = FireTrigger(rule="hot", entity_id="L-1", trigger="contact").apply(
            ...     LEAD_STATUS, Lead(id="L-1", created_at=t0), at=t0)
            >>> step.entity.state, step.event.actor
            ('contacted', 'rule:hot')
        """
        from crmlifecycle.rules._apply import check_target

        check_target(self.entity_id, entity)
        return lifecycle.fire(entity, self.trigger, at=at, actor=actor or f"rule:{self.rule}")


@final
@attrs.frozen(kw_only=True)
class SetField:
    """
    Set a field of the entity to a literal value.

    :meth:`apply` carries it out as a manual edit through the record's lifecycle
    (:meth:`Lifecycle.edit <crmlifecycle.stages.Lifecycle.edit>`), which validates
    the value and records a ``FieldsChanged`` event to store and replay; a field
    the record lacks or the lifecycle's steps own (``state``...) is refused there.
    ``owner`` is assigned (:meth:`Lifecycle.assign
    <crmlifecycle.stages.Lifecycle.assign>`).

    Attributes:
        rule: the name of the rule that returned it.
        entity_id: the record the action is for.
        field: the field to set.
        value: its new value.

    Examples:
        >>> action = SetField(rule="hot", entity_id="L-1", field="company", value="Acme")
        >>> action.value
        'Acme'
    """

    rule: str
    entity_id: str
    field: str
    value: object
    action: str = attrs.field(default="set", init=False)

    def apply(
        self,
        lifecycle: LifecycleLike,
        entity: RecordT,
        *,
        at: datetime,
        actor: str | None = None,
    ) -> Edited[RecordT]:
        """
        Set the field on ``entity`` through ``lifecycle``; return the new record and its event.

        The change is the lifecycle's own manual edit,
        ``lifecycle.edit(entity, at=at, actor="rule:<rule>", context={"reason": "rule",
        "rule": <rule>}, <field>=<value>)``, so an unknown field, a field the
        lifecycle's steps own and a value the record refuses are errors exactly as
        for an edit, and the event is a ``FieldsChanged``. ``owner`` is the one
        exception: it is assigned, ``lifecycle.assign(entity, <value>, at=at,
        actor="rule:<rule>")`` (the context says ``{"reason": "assign"}``), and
        assigning the current owner is refused like any assignment that changes
        nothing.

        Args:
            lifecycle: the record's lifecycle (anything with ``edit`` and ``assign``,
                such as a :class:`~crmlifecycle.stages.Lifecycle`).
            entity: the record the action names (it is not changed).
            at: when the edit happens (timezone-aware, not before the record's last change).
            actor: who makes the change, for the event's envelope (default: ``"rule:<rule>"``).

        Raises:
            ValidationError: ``entity`` is not the record the action names; ``field`` is
                not a public field name (``__class__``, ``_x``, ``a.b``) or names one of the
                edit's own arguments; what :meth:`~crmlifecycle.stages.Lifecycle.edit` (or
                ``assign``) refuses (a field the record does not have, a field the
                lifecycle's steps own, an undeclared custom field).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> lead = Lead(id="L-1", created_at=t0)
            >>> edit = SetField(rule="hot", entity_id="L-1", field="company",
            ...                 value="Acme").apply(LEAD_STATUS, lead, at=t0)
            >>> edit.entity.company, dict(edit.event.changes), dict(edit.event.context)
            ('Acme', {'company': [None, 'Acme']}, {'reason': 'rule', 'rule': 'hot'})
            >>> SetField(rule="hot", entity_id="L-1", field="state",
            ...          value="converted").apply(LEAD_STATUS, lead, at=t0)
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'state' must be changed by the 'lead' ...
        """
        from crmlifecycle.rules._apply import check_target

        check_target(self.entity_id, entity)
        actor = actor or f"rule:{self.rule}"
        problem = field_name_problem(self.field)
        if problem is not None:
            raise ValidationError.for_field(
                "field",
                self.field,
                problem,
                hint=f"{_FIELD_HINT} (in the set action of rule {self.rule!r}).",
            )
        if self.field == "owner":
            if self.value is not None and not isinstance(self.value, str):
                raise ValidationError.for_field(
                    "owner", self.value, "a non-empty string (a user id), or None to unassign"
                )
            return lifecycle.assign(entity, self.value, at=at, actor=actor)
        return lifecycle.edit(
            entity,
            at=at,
            actor=actor,
            context={"reason": "rule", "rule": self.rule},
            **{self.field: self.value},
        )


@final
@attrs.frozen(kw_only=True)
class CreateTask:
    """
    Create a task for someone, due at a time relative to the event.

    Attributes:
        rule: the name of the rule that returned it.
        entity_id: the record the action is for.
        title: the task's title.
        due_at: when the task is due (the event's time plus the rule's delay).
        assignee: who the task is for (``None``: unassigned; the host decides).

    Examples:
        >>> from datetime import datetime, timezone
        >>> task = CreateTask(rule="hot", entity_id="L-1", title="Call",
        ...                   due_at=datetime(2026, 3, 3, tzinfo=timezone.utc))
        >>> task.action, task.assignee
        ('task', None)
    """

    rule: str
    entity_id: str
    title: str
    due_at: datetime
    assignee: str | None = None
    action: str = attrs.field(default="task", init=False)


@final
@attrs.frozen(kw_only=True)
class Notify:
    """
    Send a notification (the host decides how: e-mail, chat, webhook).

    Attributes:
        rule: the name of the rule that returned it.
        entity_id: the record the action is for.
        to: who to notify (a user, team or channel name).
        message: the message.

    Examples:
        >>> Notify(rule="hot", entity_id="L-1", to="sales", message="Hot lead").to
        'sales'
    """

    rule: str
    entity_id: str
    to: str
    message: str
    action: str = attrs.field(default="notify", init=False)


Action: TypeAlias = FireTrigger | SetField | CreateTask | Notify


@final
@attrs.frozen
class ActionSpec:
    """An action as written in a rule (before it is applied to an event)."""

    kind: str
    trigger: str = ""
    field: str = ""
    value: object = None
    title: str = ""
    due: timedelta = timedelta(0)
    assignee: str | None = None
    to: str = ""
    message: str = ""

    def build(self, rule: str, entity_id: str, as_of: datetime) -> Action:
        """Make the concrete action for one event; a task is due ``due`` after ``as_of``."""
        if self.kind == "fire":
            return FireTrigger(rule=rule, entity_id=entity_id, trigger=self.trigger)
        if self.kind == "set":
            return SetField(rule=rule, entity_id=entity_id, field=self.field, value=self.value)
        if self.kind == "task":
            return CreateTask(
                rule=rule,
                entity_id=entity_id,
                title=self.title,
                due_at=as_of + self.due,
                assignee=self.assignee,
            )
        return Notify(rule=rule, entity_id=entity_id, to=self.to, message=self.message)

    def to_dict(self) -> dict[str, Any]:
        """
        Write the action as a rule document writes it (the input of :func:`parse_action`).

        Examples:
            >>> ActionSpec("task", title="Call", due=timedelta(days=2)).to_dict()
            {'task': {'title': 'Call', 'due': 'days(2)'}}
        """
        if self.kind == "fire":
            return {"fire": self.trigger}
        if self.kind == "set":
            return {"set": {"field": self.field, "value": self.value}}
        if self.kind == "task":
            task: dict[str, Any] = {"title": self.title, "due": duration_text(self.due)}
            if self.assignee is not None:
                task["assignee"] = self.assignee
            return {"task": task}
        return {"notify": {"to": self.to, "message": self.message}}


_UNITS: Final = (
    ("weeks", timedelta(weeks=1)),
    ("days", timedelta(days=1)),
    ("hours", timedelta(hours=1)),
    ("minutes", timedelta(minutes=1)),
)


def duration_text(delta: timedelta) -> str:
    """
    Write a duration in the rule language, in the largest unit that divides it.

    Examples:
        >>> duration_text(timedelta(hours=36)), duration_text(timedelta(0))
        ('hours(36)', 'days(0)')
        >>> duration_text(timedelta(seconds=90))
        'minutes(1.5)'
    """
    if not delta:
        return "days(0)"
    for unit, size in _UNITS:
        if not delta % size:
            return f"{unit}({delta // size})"
    return f"minutes({delta / timedelta(minutes=1)!r})"


_KINDS: Final = ("fire", "set", "task", "notify")
#: Names a ``set`` action cannot set: the arguments of the edit that carries it out.
RESERVED_FIELDS: Final = frozenset({"at", "actor", "context", "entity"})
_SCALARS: Final = (str, int, float, bool, type(None))


def text_at(doc: Mapping[str, Any], key: str, path: str, *, default: str | None = None) -> str:
    """Read a non-empty text value ``doc[key]``."""
    value = doc.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"must be non-empty text (got {short_repr(value)}).", path=f"{path}.{key}")
    return value


def _duration(text: object, path: str) -> timedelta:
    """Read a constant duration written in the rule language, e.g. ``days(2)``."""
    if not isinstance(text, str):
        raise SpecError(
            f"must be a duration such as 'days(2)' or 'hours(4)' (got {short_repr(text)}).",
            path=path,
        )
    try:
        tree = parse(text, {"days", "hours", "minutes", "weeks"})
    except CrmError as err:
        raise SpecError(str(err), path=path) from None
    from crmlifecycle.rules._record import RecordCompiler

    try:
        value = RecordCompiler(text).value(tree)({}, datetime(2000, 1, 1, tzinfo=UTC))
    except KeyError:  # it reads a field
        value = None
    except CrmError as err:  # e.g. a duration past the limit
        raise SpecError(str(err), path=path) from None
    if not isinstance(value, timedelta):
        raise SpecError(
            f"must be a constant duration such as 'days(2)' (got {short_repr(text)}).", path=path
        )
    return value


_FIELD_HINT: Final = "name a public field of the record, or a custom field its lifecycle declares"


def field_name_problem(field: object) -> str | None:
    """
    Why ``field`` cannot be the field of a ``set`` action, or ``None`` when it can.

    A set action names a public field of the record or a declared custom field: an
    identifier not starting with ``_`` (no ``__class__``, no private ``_x``, no path
    ``a.b``), and not one of :data:`RESERVED_FIELDS`. Whether the record has the field
    is checked against the schema when the rule set is loaded with one, and by the
    lifecycle's edit when the action is applied.

    Examples:
        >>> [field_name_problem(f) for f in ("company", "tier")]
        [None, None]
        >>> field_name_problem("__class__")
        "a public field name (not '_'-prefixed: private and dunder names are not fields)"
    """
    if not isinstance(field, str) or not field.isidentifier() or keyword.iskeyword(field):
        return "a field name (an identifier such as 'company')"
    if field.startswith("_"):
        return "a public field name (not '_'-prefixed: private and dunder names are not fields)"
    if field in RESERVED_FIELDS:
        reserved = sorted(RESERVED_FIELDS)
        return f"a field of the record (not one of {reserved}, the edit's own arguments)"
    return None


def _settable(field: str, where: str) -> str:
    """A ``set`` action's field, refused unless it can name a field (:func:`field_name_problem`)."""
    problem = field_name_problem(field)
    if problem is not None:
        raise SpecError(
            f"a set action's field must be {problem} (got {short_repr(field)}). Hint: "
            f"{_FIELD_HINT}.",
            path=f"{where}.field",
        )
    return field


def parse_action(doc: object, path: str) -> ActionSpec:
    """Read one entry of a rule's ``then`` list."""
    if not isinstance(doc, Mapping) or len(doc) != 1:
        raise SpecError(
            "each action is a mapping with one key: fire, set, task or notify "
            "(e.g. {fire: qualify}).",
            path=path,
        )
    ((kind, body),) = doc.items()
    if kind not in _KINDS:
        raise SpecError(
            f"unknown action {short_repr(kind)}{did_you_mean(str(kind), _KINDS)}. "
            f"Hint: use one of {', '.join(_KINDS)}.",
            path=path,
        )
    where = f"{path}.{kind}"
    if kind == "fire":
        if not isinstance(body, str) or not body.strip():
            raise SpecError(f"must name a trigger (got {short_repr(body)}).", path=where)
        return ActionSpec("fire", trigger=body)
    if not isinstance(body, Mapping):
        raise SpecError(f"must be a mapping (got {type(body).__name__}).", path=where)
    if kind == "set":
        check_keys(body, required=("field", "value"), path=where)
        value = body["value"]
        if not isinstance(value, _SCALARS):
            raise SpecError(
                f"must be a literal (text, number, true/false or null), got {short_repr(value)}.",
                path=f"{where}.value",
            )
        return ActionSpec("set", field=_settable(text_at(body, "field", where), where), value=value)
    if kind == "task":
        check_keys(body, required=("title",), optional=("due", "assignee"), path=where)
        assignee = body.get("assignee")
        if assignee is not None:
            assignee = text_at(body, "assignee", where)
        return ActionSpec(
            "task",
            title=text_at(body, "title", where),
            due=_duration(body.get("due", "days(0)"), f"{where}.due"),
            assignee=assignee,
        )
    check_keys(body, required=("to", "message"), path=where)
    return ActionSpec(
        "notify", to=text_at(body, "to", where), message=text_at(body, "message", where)
    )
