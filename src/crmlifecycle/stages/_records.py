"""
Producers of ``FieldsChanged`` events beyond a plain edit: assignment and merges.

:func:`assign_step` (behind :meth:`Lifecycle.assign
<crmlifecycle.stages.Lifecycle.assign>`) sets a record's ``owner``: the one way
to change it (:meth:`~crmlifecycle.stages.Lifecycle.edit` refuses ``owner``), so
every change of owner is an event with the reason ``"assign"``.

:func:`merge_step` (behind :meth:`Lifecycle.merge
<crmlifecycle.stages.Lifecycle.merge>`) folds a duplicate record into a
survivor, with one ``FieldsChanged`` event on each side (:class:`Merge`):

- the survivor keeps every value it has; each of its plain optional fields that
  is ``None`` takes the duplicate's value, and the custom fields are combined
  (the survivor's value wins on a name both have). The record's identity and
  bookkeeping (``id``, ``created_at``, ``state``, ``state_since``, ``version``,
  ``merged_into``) and what the lifecycle's steps write (``probability`` and the
  other stage effects, ``first_response_at``, ``resolved_at``) are never taken:
  they describe the survivor's own history;
- the duplicate gets ``merged_into`` set to the survivor's id; from then on it
  refuses every step, edit, assignment and merge.

Both producers build their events with the edit path
(:func:`~crmlifecycle.stages._step.edit_step`), so the envelope (sequence, event
id, actor, lifecycle name and version) is filled exactly as for an edit and
:meth:`~crmlifecycle.stages.Lifecycle.replay` applies them like any
``FieldsChanged`` event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Generic, final

import attrs

from crmlifecycle._validators import is_aware
from crmlifecycle.errors import ValidationError
from crmlifecycle.events import FieldsChanged
from crmlifecycle.stages._step import (
    EFFECT_FIELDS,
    Edit,
    EntityT,
    Evolve,
    check_kind,
    check_record,
    edit_step,
    is_before,
    last_change,
    state_of,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import CompiledLifecycle

__all__ = ["MERGE_KEEPS", "Merge", "assign_step", "merge_step"]

#: Fields a merge never copies from the duplicate: the record's identity and
#: bookkeeping, and what the lifecycle's steps write (they tell the survivor's history).
MERGE_KEEPS: Final = (
    frozenset(
        {"id", "created_at", "state", "state_since", "updated_at", "version", "merged_into"}
        | {"custom"}
    )
    | EFFECT_FIELDS
    | frozenset({"first_response_at", "resolved_at"})
)


@final
@attrs.frozen(kw_only=True)
class Merge(Generic[EntityT]):
    """
    The result of :meth:`~crmlifecycle.stages.Lifecycle.merge`: both records and their events.

    Attributes:
        survivor: the survivor after the merge and its ``FieldsChanged`` event
            (``changes``: what it took from the duplicate; ``context``:
            ``{"reason": "merge", "merged_from": <duplicate id>}``).
        duplicate: the duplicate after the merge (``merged_into`` set) and its
            ``FieldsChanged`` event (``context``: ``{"reason": "merge",
            "merged_into": <survivor id>}``).

    :attr:`events` holds the two events in the order to store them.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle import Lead
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> merge = LEAD_STATUS.merge(Lead(id="L-1", created_at=t0, company="Acme"),
        ...                           Lead(id="L-2", created_at=t0, email="ana@acme.test"),
        ...                           at=t0)
        >>> merge.survivor.entity.email, merge.duplicate.entity.merged_into
        ('ana@acme.test', 'L-1')
        >>> [e.entity_id for e in merge.events]
        ['L-1', 'L-2']

    .. versionadded:: 0.1
    """

    survivor: Edit[EntityT]
    duplicate: Edit[EntityT]

    @property
    def events(self) -> tuple[FieldsChanged, FieldsChanged]:
        """
        The two events in the order to store them: the survivor's, then the duplicate's.

        A store stopped in between leaves the duplicate live, so the merge can be run again.
        """
        return (self.survivor.event, self.duplicate.event)


def assign_step(
    compiled: CompiledLifecycle,
    entity: EntityT,
    owner: str | None,
    *,
    at: datetime,
    actor: str | None = None,
) -> Edit[EntityT]:
    """Set ``entity.owner`` (see :meth:`Lifecycle.assign`); return the record and its event."""
    check_kind(compiled, entity)
    cls = type(entity)
    if "owner" not in Evolve.of(cls).field_set:
        raise ValidationError.for_field(
            "owner",
            owner,
            f"a field of {cls.__name__} (it has no owner to assign)",
            hint="assign records that have an owner field (Lead, Opportunity, Customer, Case).",
        )
    given: object = owner  # a host may pass anything
    if given is not None and (not isinstance(given, str) or not given.strip()):
        raise ValidationError.for_field(
            "owner", owner, "a non-empty string (a user id), or None to unassign"
        )
    current = getattr(entity, "owner", None)
    if owner == current:
        who = "unassigned" if owner is None else f"assigned to {owner!r}"
        raise ValidationError.for_field(
            "owner",
            owner,
            f"a change: record {entity.id!r} is already {who}, so there is nothing to record",
            hint="compare entity.owner with the new owner first; an assignment that changes "
            "nothing is not an event.",
        )
    return edit_step(
        compiled,
        entity,
        at,
        {"owner": owner},
        actor=actor,
        context={"reason": "assign"},
        allow=frozenset({"owner"}),
    )


def merge_step(
    compiled: CompiledLifecycle,
    survivor: EntityT,
    duplicate: EntityT,
    *,
    at: datetime,
    actor: str | None = None,
) -> Merge[EntityT]:
    """Merge ``duplicate`` into ``survivor`` (see :meth:`Lifecycle.merge`); return both."""
    check_record(survivor, name="survivor")
    check_record(duplicate, name="duplicate")
    _check_pair(compiled, survivor, duplicate)
    _check_order(survivor, duplicate, at)
    evolve = Evolve.of(type(survivor))
    taken: dict[str, Any] = {}
    for name in evolve.names:
        if name in MERGE_KEEPS:
            continue
        mine, theirs = getattr(survivor, name), getattr(duplicate, name)
        if mine is None and theirs is not None:
            taken[name] = theirs
    if "custom" in evolve.field_set:
        mine_custom, theirs_custom = survivor.custom, duplicate.custom  # type: ignore[attr-defined]
        new = {key: value for key, value in theirs_custom.items() if key not in mine_custom}
        if new:
            taken["custom"] = {**mine_custom, **new}
    kept = edit_step(
        compiled,
        survivor,
        at,
        taken,
        actor=actor,
        context={"reason": "merge", "merged_from": duplicate.id},
        allow=frozenset({"owner"}),
    )
    folded = edit_step(
        compiled,
        duplicate,
        at,
        {"merged_into": survivor.id},
        actor=actor,
        context={"reason": "merge", "merged_into": survivor.id},
        allow=frozenset({"merged_into"}),
    )
    return Merge(survivor=kept, duplicate=folded)


def _check_order(survivor: Any, duplicate: Any, at: object) -> None:
    """Refuse an aware ``at`` before either record's last change, naming that record."""
    if not is_aware(at):
        return  # the edit path refuses it with the usual message
    for role, record in (("survivor", survivor), ("duplicate", duplicate)):
        since = last_change(record)
        if is_before(at, since):
            raise ValidationError.for_field(
                "at",
                at,
                f"at or after the {role} {record.id!r}'s last change ({since.isoformat()})",
                hint="a merge happens after both records' last steps; pass a later at=.",
            )


def _check_pair(compiled: CompiledLifecycle, survivor: Any, duplicate: Any) -> None:
    """Refuse a merge of records of different classes, of one record, or of a merged record."""
    if type(survivor) is not type(duplicate):
        raise ValidationError.for_field(
            "duplicate",
            getattr(duplicate, "id", duplicate),
            f"a {type(survivor).__name__} like the survivor {survivor.id!r} "
            f"(got a {type(duplicate).__name__})",
            hint="merge records of one kind, with the lifecycle of that kind.",
        )
    if "merged_into" not in Evolve.of(type(survivor)).field_set:
        raise ValidationError.for_field(
            "merged_into",
            None,
            f"a field of {type(survivor).__name__} (a merge records the link there)",
            hint="merge records that have a merged_into field (Lead, Opportunity, Customer, Case).",
        )
    state_of(compiled, survivor, name="survivor")
    state_of(compiled, duplicate, name="duplicate")
    if survivor.id == duplicate.id:
        raise ValidationError.for_field(
            "duplicate",
            duplicate.id,
            f"another record than the survivor {survivor.id!r}",
            hint="a record cannot be merged into itself; pass the duplicate's record.",
        )
    for role, record in (("survivor", survivor), ("duplicate", duplicate)):
        into = record.merged_into
        if into is not None:
            raise ValidationError.for_field(
                "merged_into",
                into,
                f"None: the {role} {record.id!r} was already merged into {into!r}",
                hint=f"merge into {into!r}, the record it was merged into."
                if role == "survivor"
                else f"{record.id!r} is already folded into {into!r}; nothing left to merge.",
            )
