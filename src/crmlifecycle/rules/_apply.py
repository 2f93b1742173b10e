"""
Carrying out a rule's actions on one record, through a lifecycle: :func:`apply_actions`.

A rule set only *returns* actions. The two that change the record, ``fire`` and
``set``, are carried out through the record's lifecycle, so they are validated
and recorded exactly like a host's own steps and edits:
:meth:`FireTrigger.apply <crmlifecycle.rules.FireTrigger.apply>` fires the
trigger and :meth:`SetField.apply <crmlifecycle.rules.SetField.apply>` edits the
field (``owner`` is assigned), both with the actor ``"rule:<name>"``.
:func:`apply_actions` runs a list of actions on one record in order and returns
the final record, the events to store, and the actions left for the host (tasks
and notifications).

This package sits below the lifecycles (``crmlifecycle.stages``), so it takes the
lifecycle as an argument, typed by what it must do (:class:`LifecycleLike`):
:class:`~crmlifecycle.stages.Lifecycle` fits, and so does any host object with
the same ``fire``, ``edit`` and ``assign``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, final

import attrs

from crmlifecycle._validators import check_arg, check_items
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import Event, FieldsChanged, Transitioned
from crmlifecycle.rules._actions import Action, CreateTask, FireTrigger, Notify, SetField

__all__ = [
    "AppliedActions",
    "Edited",
    "Fired",
    "LifecycleLike",
    "Record",
    "RecordT",
    "apply_actions",
]


class Record(Protocol):
    """What an action needs of a record: its id, state and since when (read-only)."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def state_since(self) -> datetime: ...


#: The record type an action is applied to and returns.
RecordT = TypeVar("RecordT", bound=Record)
RecordT_co = TypeVar("RecordT_co", covariant=True)


class Fired(Protocol[RecordT_co]):
    """What a lifecycle's ``fire`` returns: the new record and its ``Transitioned`` event."""

    @property
    def entity(self) -> RecordT_co: ...

    @property
    def event(self) -> Transitioned: ...


class Edited(Protocol[RecordT_co]):
    """What a lifecycle's ``edit`` and ``assign`` return: the record and its ``FieldsChanged``."""

    @property
    def entity(self) -> RecordT_co: ...

    @property
    def event(self) -> FieldsChanged: ...


class LifecycleLike(Protocol):
    """
    What carrying out an action needs of a lifecycle: ``fire``, ``edit`` and ``assign``.

    :class:`crmlifecycle.stages.Lifecycle` has them; the signatures are its own.
    A host may pass its own object (one that also writes to its store, say) as
    long as it has the three methods.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.rules import SetField
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> def route(lifecycle: LifecycleLike, lead: Lead, at: datetime) -> Lead:
        ...     action = SetField(rule="route", entity_id=lead.id, field="owner", value="ana")
        ...     return action.apply(lifecycle, lead, at=at).entity
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> route(LEAD_STATUS, Lead(id="L-1", created_at=t0), t0).owner
        'ana'

    .. versionadded:: 0.1
    """

    def fire(
        self,
        entity: RecordT,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        **context: Any,
    ) -> Fired[RecordT]:
        """
        Fire ``trigger`` on ``entity`` at ``at``; return the new record and its event.

        Args:
            entity: the record to step.
            trigger: the trigger to fire.
            at: when the step happens.
            actor: who takes the step (``"rule:<name>"`` for a rule).
            **context: the step's context.
        """
        ...

    def edit(
        self,
        entity: RecordT,
        *,
        at: datetime,
        actor: str | None = None,
        context: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Edited[RecordT]:
        """
        Change fields of ``entity`` at ``at``; return the new record and its event.

        Args:
            entity: the record to change.
            at: when the edit happens.
            actor: who makes it (``"rule:<name>"`` for a rule).
            context: why, stored in the event.
            **changes: the new values by field name.
        """
        ...

    def assign(
        self, entity: RecordT, owner: str | None, *, at: datetime, actor: str | None = None
    ) -> Edited[RecordT]:
        """
        Assign ``entity`` to ``owner`` at ``at``; return the new record and its event.

        Args:
            entity: the record to assign.
            owner: the new owner, or ``None`` to unassign.
            at: when the assignment happens.
            actor: who assigns (``"rule:<name>"`` for a rule).
        """
        ...


@final
@attrs.frozen(kw_only=True)
class AppliedActions(Generic[RecordT]):
    """
    The result of :func:`apply_actions`: the final record, its events and what is left to do.

    Attributes:
        entity: the record after every ``fire`` and ``set`` action (the input one
            when there was none).
        events: the events to store, in order (one per ``fire`` and ``set``).
        pending: the actions the library does not perform (``task`` and
            ``notify``), in order, for the host.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.rules import SetField
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> done = apply_actions([SetField(rule="r", entity_id="L-1", field="company",
        ...                                value="Acme")],
        ...                      Lead(id="L-1", created_at=t0), LEAD_STATUS, at=t0)
        >>> done.entity.company, len(done.events), done.pending
        ('Acme', 1, ())

    .. versionadded:: 0.1
    """

    entity: RecordT
    events: tuple[Event, ...]
    pending: tuple[CreateTask | Notify, ...]


def check_target(entity_id: str, entity: Record) -> None:
    """Refuse to apply an action to another record than the one it was made for."""
    if entity_id != entity.id:
        raise ValidationError.for_field(
            "entity_id",
            entity_id,
            f"{entity.id!r}, the id of the record the action is applied to",
            hint="apply each action to the record it names (action.entity_id).",
        )


def apply_actions(
    actions: Sequence[Action],
    entity: RecordT,
    lifecycle: LifecycleLike,
    *,
    at: datetime,
    actor: str | None = None,
) -> AppliedActions[RecordT]:
    """
    Carry out a rule set's actions on one record, in order; return the record and its events.

    ``fire`` actions fire their trigger and ``set`` actions edit their field
    (``owner``: an assignment) through ``lifecycle``, each on the record the
    previous one returned, with the actor ``"rule:<name>"`` of each action's rule
    (or ``actor``); ``task`` and
    ``notify`` actions are returned in ``pending`` for the host to perform. Every
    action must name this record. A refused action raises, and then nothing is
    returned: store the events only when the whole list went through.

    Args:
        actions: the actions, e.g. ``rules.evaluate(event, entity)``, all for this record.
        entity: the record to change (it is not changed).
        lifecycle: the record's lifecycle (a :class:`~crmlifecycle.stages.Lifecycle`,
            or anything with its ``fire``, ``edit`` and ``assign``).
        at: when the actions take effect (timezone-aware, not before the record's last
            change), usually the triggering event's ``at``.
        actor: who makes the changes, for every event's envelope (default: each
            action's ``"rule:<name>"``).

    Raises:
        ValidationError: ``actions`` is not a list of actions, ``actor`` is not text; an
            action names another record; a ``set`` names a field
            the record lacks or the lifecycle's steps own, a value the record
            refuses, or the current owner; ``at`` is naive or too early.
        InvalidTransition, GuardRejected: a ``fire`` is not possible from the state.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.rules import RuleSet
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> t0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        >>> rules = RuleSet.from_dict({"rules": [{
        ...     "name": "hot", "when": {"kind": "lead", "dest": "contacted"},
        ...     "if": "score >= 70",
        ...     "then": [{"fire": "qualify"}, {"set": {"field": "owner", "value": "ana"}},
        ...              {"notify": {"to": "sales", "message": "hot lead"}}]}]})
        >>> step = LEAD_STATUS.fire(Lead(id="L-7", created_at=t0, score=85), "contact", at=t0)
        >>> done = apply_actions(rules.evaluate(step.event, step.entity), step.entity,
        ...                      LEAD_STATUS, at=step.event.at)
        >>> done.entity.state, done.entity.owner
        ('qualified', 'ana')
        >>> [(type(e).__name__, e.actor) for e in done.events]
        [('Transitioned', 'rule:hot'), ('FieldsChanged', 'rule:hot')]
        >>> [a.action for a in done.pending]
        ['notify']
    """
    actions = check_items(
        "actions",
        actions,
        (FireTrigger, SetField, CreateTask, Notify),
        "an action (FireTrigger, SetField, CreateTask or Notify)",
        hint="pass the actions a rule set returned, e.g. rules.evaluate(event, entity).",
    )
    check_arg("actor", actor, (str, type(None)), "text or None")
    current = entity
    events: list[Event] = []
    pending: list[CreateTask | Notify] = []
    for action in actions:
        check_target(action.entity_id, current)
        if isinstance(action, FireTrigger | SetField):
            result = action.apply(lifecycle, current, at=at, actor=actor)
            current = result.entity
            events.append(result.event)
        else:
            pending.append(action)
    return AppliedActions(entity=current, events=tuple(events), pending=tuple(pending))
