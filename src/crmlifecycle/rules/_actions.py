"""
The actions an automation rule returns, and the document helpers that read them.

The library never performs an action: a rule set *returns* them and the host
fires the trigger, writes the field, creates the task or sends the notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, final

import attrs

from crmlifecycle.errors import CrmError, SpecError, did_you_mean
from crmlifecycle.rules._syntax import parse

__all__ = [
    "Action",
    "ActionSpec",
    "CreateTask",
    "FireTrigger",
    "Notify",
    "SetField",
    "parse_action",
    "require_keys",
    "text_at",
]


@final
@attrs.frozen(kw_only=True)
class FireTrigger:
    """
    Fire a lifecycle trigger on the entity (e.g. ``qualify``).

    Examples:
        >>> FireTrigger(rule="hot", entity_id="L-1", trigger="qualify").action
        'fire'
    """

    rule: str
    entity_id: str
    trigger: str
    action: str = attrs.field(default="fire", init=False)


@final
@attrs.frozen(kw_only=True)
class SetField:
    """
    Set a field of the entity to a literal value.

    Examples:
        >>> SetField(rule="hot", entity_id="L-1", field="owner", value="ada").value
        'ada'
    """

    rule: str
    entity_id: str
    field: str
    value: object
    action: str = attrs.field(default="set", init=False)


@final
@attrs.frozen(kw_only=True)
class CreateTask:
    """
    Create a task for someone, due at a time relative to the event.

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


_KINDS: Final = ("fire", "set", "task", "notify")
_SCALARS: Final = (str, int, float, bool, type(None))


def require_keys(
    doc: Mapping[str, Any], path: str, *, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    """Raise :class:`SpecError` for missing or unknown keys of a document mapping."""
    allowed = (*required, *optional)
    for key in doc:
        if key not in allowed:
            raise SpecError(
                f"unknown key {key!r}{did_you_mean(str(key), allowed)}. "
                f"Hint: the keys here are {', '.join(allowed)}.",
                path=path,
            )
    for key in required:
        if key not in doc:
            raise SpecError(f"missing key {key!r}. Hint: add it.", path=path)


def text_at(doc: Mapping[str, Any], key: str, path: str, *, default: str | None = None) -> str:
    """Read a non-empty text value ``doc[key]``."""
    value = doc.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"must be non-empty text (got {value!r}).", path=f"{path}.{key}")
    return value


def _duration(text: object, path: str) -> timedelta:
    """Read a constant duration written in the rule language, e.g. ``days(2)``."""
    if not isinstance(text, str):
        raise SpecError(
            f"must be a duration such as 'days(2)' or 'hours(4)' (got {text!r}).", path=path
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
        raise SpecError(f"must be a constant duration such as 'days(2)' (got {text!r}).", path=path)
    return value


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
            f"unknown action {kind!r}{did_you_mean(str(kind), _KINDS)}. "
            f"Hint: use one of {', '.join(_KINDS)}.",
            path=path,
        )
    where = f"{path}.{kind}"
    if kind == "fire":
        if not isinstance(body, str) or not body.strip():
            raise SpecError(f"must name a trigger (got {body!r}).", path=where)
        return ActionSpec("fire", trigger=body)
    if not isinstance(body, Mapping):
        raise SpecError(f"must be a mapping (got {type(body).__name__}).", path=where)
    if kind == "set":
        require_keys(body, where, required=("field", "value"), optional=())
        value = body["value"]
        if not isinstance(value, _SCALARS):
            raise SpecError(
                f"must be a literal (text, number, true/false or null), got {value!r}.",
                path=f"{where}.value",
            )
        return ActionSpec("set", field=text_at(body, "field", where), value=value)
    if kind == "task":
        require_keys(body, where, required=("title",), optional=("due", "assignee"))
        assignee = body.get("assignee")
        if assignee is not None:
            assignee = text_at(body, "assignee", where)
        return ActionSpec(
            "task",
            title=text_at(body, "title", where),
            due=_duration(body.get("due", "days(0)"), f"{where}.due"),
            assignee=assignee,
        )
    require_keys(body, where, required=("to", "message"), optional=())
    return ActionSpec(
        "notify", to=text_at(body, "to", where), message=text_at(body, "message", where)
    )
