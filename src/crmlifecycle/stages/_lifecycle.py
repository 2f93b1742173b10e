"""
:class:`Lifecycle`: one lifecycle definition, compiled once, used everywhere.

The class is the face users hold. It describes the definition (states, stages,
transitions), takes single-record steps (:meth:`Lifecycle.fire`, walked through
in :mod:`crmlifecycle.stages._step`), manual edits (:meth:`Lifecycle.edit`),
assignments and merges (:meth:`Lifecycle.assign`, :meth:`Lifecycle.merge`, in
:mod:`crmlifecycle.stages._records`),
replays event lists, and hands the frame
paths (:meth:`Lifecycle.fire_frame`, :meth:`Lifecycle.replay_frame`), the
configuration trio (:meth:`Lifecycle.from_dict`, :meth:`Lifecycle.from_text`,
:meth:`Lifecycle.to_dict`), linting and diagrams to their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, final

import attrs
import pandas as pd

from crmlifecycle._frames import utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import (
    DataError,
    GuardRejected,
    InvalidTransition,
    SpecError,
    ValidationError,
)
from crmlifecycle.events import Created, Event, Transitioned
from crmlifecycle.schema import EventLogColumns
from crmlifecycle.stages._compile import CompiledLifecycle, check_state
from crmlifecycle.stages._definition import Hook, Stage, TransitionDef
from crmlifecycle.stages._fields import CustomField, check_custom, check_fields
from crmlifecycle.stages._frame_step import StepFrameColumns
from crmlifecycle.stages._records import Merge, assign_step, merge_step
from crmlifecycle.stages._step import (
    Edit,
    EntityT,
    Step,
    StepRequest,
    check_kind,
    check_record,
    edit_step,
    fire_step,
    state_of,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._frame_step import FrameStep
    from crmlifecycle.stages._lint import LintFinding

__all__ = ["Lifecycle"]


#: Hooks a spec may name, beyond the built-in ones: a :class:`Hook` or a plain callable.
HookRegistry = Mapping[str, Hook | Callable[..., Any]]


@final
class Lifecycle:
    """
    A compiled lifecycle: states with metadata, triggers, guards and hooks.

    One lifecycle object is immutable and shared: it steps frozen entities
    (:meth:`fire`), bulk-steps frames (:meth:`fire_frame`), replays event logs
    (:meth:`replay`, :meth:`replay_frame`), and describes itself (:meth:`to_dict`,
    :meth:`lint`, :meth:`to_mermaid`). Build one in code, or from a spec with
    :meth:`from_dict` or :meth:`from_text`.

    Args:
        name: the lifecycle's name (an identifier).
        states: the states in order; :class:`Stage` objects or plain names.
        transitions: the transitions, in priority order.
        initial: the initial state (default: the first).
        kind: the entity kind written into events (default: ``name``).
        fields: the custom fields its records carry in ``custom`` (:class:`CustomField`; see the
            custom-fields guide). Declared fields are checked on every path and read by name in
            guards; a lifecycle that declares none leaves ``custom`` free.

    Raises:
        SpecError: an invalid definition; ``path`` says where.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from crmlifecycle.stages import Lifecycle, Stage, TransitionDef
        >>> doors = Lifecycle("door", ["closed", "open"], [
        ...     TransitionDef(trigger="open_door", source="closed", dest="open"),
        ...     TransitionDef(trigger="close_door", source="open", dest="closed"),
        ... ])
        >>> doors.states, doors.initial
        (('closed', 'open'), 'closed')

    .. versionadded:: 0.1
    """

    __slots__ = ("_compiled",)

    def __init__(
        self,
        name: str,
        states: Sequence[Stage | str],
        transitions: Sequence[TransitionDef],
        *,
        initial: str | None = None,
        kind: str | None = None,
        fields: Sequence[CustomField] = (),
    ) -> None:
        from crmlifecycle.stages._spec import spec_version

        check_arg("states", states, (list, tuple), "a list of state names or Stages")
        check_arg("transitions", transitions, (list, tuple), "a list of TransitionDefs")
        check_arg("fields", fields, (list, tuple), "a list of CustomFields")
        self._compiled = CompiledLifecycle(name, states, transitions, initial=initial, kind=kind)
        self._compiled.custom_fields = check_fields(fields)
        self._compiled.custom_names = frozenset(f.name for f in self._compiled.custom_fields)
        self._compiled.version = spec_version(self)

    # -- description ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The lifecycle's name."""
        return self._compiled.name

    @property
    def version(self) -> str:
        """
        The definition's version: a hash of its spec, written into every event it produces.

        Two lifecycles with equal specs have equal versions; changing a state, a
        transition, a guard or a stage's metadata changes it.

        Examples:
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> len(LEAD_STATUS.version), LEAD_STATUS.version == Lifecycle.from_dict(
            ...     LEAD_STATUS.to_dict()).version
            (16, True)
        """
        return self._compiled.version

    @property
    def kind(self) -> str:
        """The entity kind written into events."""
        return self._compiled.kind

    @property
    def initial(self) -> str:
        """The initial state."""
        return self._compiled.initial

    @property
    def states(self) -> tuple[str, ...]:
        """The state names, in order."""
        return tuple(self._compiled.by_name)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The states with their metadata, in order."""
        return self._compiled.stages

    @property
    def transitions(self) -> tuple[TransitionDef, ...]:
        """The transitions as declared (before ``to_last_open`` expansion)."""
        return self._compiled.declared

    @property
    def fields(self) -> tuple[CustomField, ...]:
        """
        The declared custom fields of the records, in order (empty: ``custom`` is free).

        Examples:
            >>> lc = Lifecycle("ticket", ["todo", "done"], [],
            ...                fields=[CustomField(name="tier", type="str")])
            >>> [(f.name, f.type) for f in lc.fields]
            [('tier', 'str')]
        """
        return self._compiled.custom_fields

    def check(self, entity: Any) -> None:
        """
        Check a record against the lifecycle: its state, and its custom fields.

        The custom fields are checked against the declared ones: types, choices,
        required fields, and no undeclared keys.

        Hosts call it on records they build or load; :meth:`fire`, :meth:`edit` and
        :meth:`replay` check the custom fields themselves.

        Args:
            entity: the record to check.

        Raises:
            ValidationError: the record is of another kind (``entity.kind``, e.g. a
                ``Customer`` checked against ``LEAD_STATUS``), the state is not one of
                the lifecycle's, or a custom field
                does not fit (the error names ``custom.<name>``, the value and what was
                expected).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> lc = Lifecycle("lead", ["open", "won"], [], fields=[
            ...     CustomField(name="tier", type="str", choices=["gold", "silver"])])
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> lc.check(Lead(id="L-1", created_at=t0, custom={"tier": "gold"}))
            >>> lc.check(Lead(id="L-1", created_at=t0, custom={"tier": "bronze"}))
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'custom.tier' must be one of ['gold', 'silver']...
        """
        state_of(self._compiled, entity)
        check_custom(self._compiled.custom_fields, entity)

    def create(self, entity: Any, *, actor: str | None = None, **context: Any) -> Created:
        """
        Return the ``Created`` event that starts a record's log, after checking the record.

        The record is checked as :meth:`check` does (its state is one of this
        lifecycle's, its custom fields fit the declaration); the event holds the
        whole record (``data``, so :meth:`replay` rebuilds it from its log alone),
        its ``sequence`` is the record's ``version`` (0 for a new record), and its
        envelope names ``actor`` and this lifecycle and its version.

        Args:
            entity: the new record (an ``attrs`` entity of this lifecycle's kind).
            actor: who creates it, written into the event.
            **context: event-safe data stored with the event (``source="import"`` ...).

        Raises:
            ValidationError: the record's kind is not this lifecycle's, its state is not
                one of the lifecycle's, or a custom field does not fit.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> born = LEAD_STATUS.create(lead, actor="ana", source="web form")
            >>> born.event_id, born.actor, born.lifecycle, dict(born.context)
            ('lead/L-1/0', 'ana', 'lead', {'source': 'web form'})
            >>> LEAD_STATUS.replay(Lead, [born]) == lead
            True
        """
        check_record(entity)
        if getattr(entity, "kind", None) is None:  # a record must say its kind to be created
            raise ValidationError.for_field(
                "entity.kind",
                None,
                f"{self.kind!r} (the kind of the {self.name!r} lifecycle)",
                hint="create the record with the lifecycle of its kind.",
            )
        self.check(entity)
        return attrs.evolve(
            Created.of(entity, **context),
            actor=actor,
            lifecycle=self.name,
            lifecycle_version=self.version,
        )

    @property
    def trigger_names(self) -> tuple[str, ...]:
        """Every trigger, in declaration order."""
        return self._compiled.triggers

    def stage(self, name: str) -> Stage:
        """
        Return a state's metadata.

        Args:
            name: the state's name.

        Raises:
            ValidationError: for an unknown state.

        Examples:
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
            >>> OPPORTUNITY_PIPELINE.stage("proposal").probability
            50
        """
        by_name = self._compiled.by_name
        key: object = name  # untrusted at run time: a list is not hashable
        stage = by_name.get(name) if isinstance(key, str) else None
        if stage is None:
            raise ValidationError.for_field("state", name, f"one of {list(by_name)}")
        return stage

    def stages_frame(self) -> pd.DataFrame:
        """
        Return the stage metadata as a DataFrame indexed by state (for joins in analytics).

        Examples:
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
            >>> OPPORTUNITY_PIPELINE.stages_frame().loc["negotiation", "forecast"]
            'commit'
        """
        rows = [attrs.asdict(s) for s in self._compiled.stages]
        frame = pd.DataFrame(rows).set_index("name")
        frame["closed"] = frame["type"].isin(["won", "lost"])
        frame["won"] = frame["type"] == "won"
        return frame

    def triggers(self, entity: Any) -> tuple[str, ...]:
        """
        Return the triggers defined from the entity's state (guards not evaluated).

        Args:
            entity: any record with a ``state`` of this lifecycle.

        Raises:
            ValidationError: the record is of another kind (``entity.kind``) or its
                state is not one of the lifecycle's.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> LEAD_STATUS.triggers(lead)
            ('contact', 'disqualify')
        """
        return self._compiled.allowed[state_of(self._compiled, entity)]

    def __repr__(self) -> str:
        return (
            f"Lifecycle({self.name!r}, states={list(self.states)}, "
            f"triggers={list(self.trigger_names)})"
        )

    def _definition(self) -> tuple[object, ...]:
        return (self.name, self.kind, self.initial, self.stages, self.transitions, self.fields)

    def __eq__(self, other: object) -> bool:
        """Two lifecycles are equal when their definitions (states, transitions, fields) are."""
        if not isinstance(other, Lifecycle):
            return NotImplemented
        return self._definition() == other._definition()

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.initial, self.states))

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # The compiled tables hold closures (guards of ``to_last_open``, the machine's
        # callbacks): pickle and deep-copy the definition, and compile it again.
        return (_rebuild, self._definition())

    # -- stepping ---------------------------------------------------------------------------

    def fire(
        self,
        entity: EntityT,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        **context: Any,
    ) -> Step[EntityT]:
        """
        Fire ``trigger`` on ``entity`` at time ``at``; return the new entity and its event.

        ``context`` is passed to guards and hooks and stored in the event (it must be
        event-safe data); it never sets a field. A key naming a field the steps own
        (``state``, ``probability``, ``closed_at``...) is refused:
        ``fire(deal, "qualify", probability=90)`` is an error; set the probability
        with :meth:`edit` first. ``lost_reason`` and ``opportunity_id`` are read by
        the stage effects. Stage effects keep the invariants
        (see the lifecycles guide): probabilities follow the stage unless set by
        hand, a lost deal needs ``lost_reason=``, a converted lead needs
        ``opportunity_id=``, ``highest_state`` is a high-water mark.

        Args:
            entity: the record to step (it is not changed).
            trigger: the trigger to fire from the record's state.
            at: when the step happens: a timezone-aware datetime, not before the record's
                last change (the later of ``state_since`` and ``updated_at``); it becomes the
                new ``updated_at`` (and ``state_since`` when the state changes).
            actor: who or what takes the step (a user id, ``"rule:<name>"``...), stored in
                the event's envelope.
            **context: passed to guards and hooks and stored in the event (``lost_reason=``,
                ``opportunity_id=`` ...).

        Raises:
            InvalidTransition: the trigger is unknown or not allowed from the state.
            GuardRejected: every candidate transition's guard said no.
            ValidationError: the record is of another kind than the lifecycle's
                (``entity.kind``), ``at`` is naive or before the record's last change, the
                record was merged into another (``merged_into``), the entity's state is
                not in this lifecycle, a context key names a field the steps own, a
                custom field does not fit the declaration, or an effect's requirement
                (the lost reason, the converted lead's opportunity) is not met.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Money, Opportunity
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
            >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
            >>> deal = Opportunity(id="O-1", name="Acme", amount=Money(9000, "EUR"), created_at=t0)
            >>> deal = PIPE.fire(deal, "qualify", at=t0).entity
            >>> deal.state, deal.probability
            ('qualification', 20)
            >>> lost = PIPE.fire(deal, "lose", at=t0, lost_reason="price").entity
            >>> lost.probability, lost.lost_reason, lost.last_open_stage
            (0, 'price', 'qualification')
            >>> PIPE.fire(lost, "win", at=t0)
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.InvalidTransition: trigger 'win' is not allowed from ...
        """
        name: object = trigger  # untrusted at run time
        if not isinstance(name, str) or not isinstance(getattr(entity, "state", None), str):
            _refuse_fire_arguments(entity, trigger)
        if self._compiled.custom_fields:
            check_custom(self._compiled.custom_fields, entity)
        return fire_step(self._compiled, entity, StepRequest(trigger, at, context, actor))

    def edit(
        self,
        entity: EntityT,
        *,
        at: datetime,
        actor: str | None = None,
        context: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Edit[EntityT]:
        """
        Change fields of ``entity`` by hand at time ``at``; return the new entity and its event.

        The new entity is validated like a constructed one, and the
        :class:`~crmlifecycle.events.FieldsChanged` event records each changed field as
        ``[old, new]`` (unchanged fields are left out), so :meth:`replay` applies it again.
        Edits come in time order with steps: ``at`` is not before the record's last change
        (the later of ``state_since`` and ``updated_at``). Setting ``probability`` is the
        documented manual override: it also sets ``probability_manual`` (stage changes then
        keep the probability), and is refused on a closed stage. A keyword naming a custom
        field the lifecycle declares (:attr:`fields`) sets it in ``custom`` (``None``
        removes it), checked against its declaration; the event records it under its own
        name (``{"tier": [None, "gold"]}``).

        Args:
            entity: the record to change (it is not changed).
            at: when the edit happens: a timezone-aware datetime, not before the record's
                last change; it becomes the new ``updated_at``.
            actor: who or what makes the edit, stored in the event's envelope.
            context: why, stored in the event (event-safe data, e.g. ``{"reason": "import"}``).
            **changes: the new values by field name (a record field, or a declared custom field).

        Raises:
            ValidationError: the record is of another kind (``entity.kind``); a field
                the entity does not have (nor the lifecycle declares); a
                custom value that does not fit its declaration; a field the
                lifecycle's steps own (``id``, ``state``, ``state_since``,
                ``lost_reason``, ``last_open_stage``, ``closed_at``,
                ``highest_state``, ``probability_manual``, ``opportunity_id``); a
                value the entity refuses; or a naive or too early ``at``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Money, Opportunity
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
            >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
            >>> deal = Opportunity(id="O-1", name="Acme", amount=Money(9000, "EUR"), created_at=t0)
            >>> edit = PIPE.edit(deal, at=t0, probability=35)
            >>> edit.entity.probability, edit.entity.probability_manual
            (35, True)
            >>> dict(edit.event.changes)
            {'probability': [10, 35], 'probability_manual': [False, True]}
            >>> PIPE.fire(edit.entity, "qualify", at=t0).entity.probability
            35
            >>> PIPE.edit(deal, at=t0, state="won")
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'state' must be changed by the 'opportunity' ...
        """
        return edit_step(self._compiled, entity, at, changes, actor=actor, context=context)

    def assign(
        self, entity: EntityT, owner: str | None, *, at: datetime, actor: str | None = None
    ) -> Edit[EntityT]:
        """
        Assign ``entity`` to ``owner`` at time ``at``; return the new record and its event.

        The one way to change ``owner`` (:meth:`edit` refuses it): the
        :class:`~crmlifecycle.events.FieldsChanged` event records
        ``{"owner": [old, new]}`` with the context ``{"reason": "assign"}``, and
        :meth:`replay` applies it again. An assignment that changes nothing (the
        record already has that owner) is refused: it is not an event.

        Args:
            entity: the record to assign (it is not changed).
            owner: the new owner (a non-empty user id), or ``None`` to unassign.
            at: when the assignment happens: a timezone-aware datetime, not before the
                record's last change; it becomes the new ``updated_at``.
            actor: who or what assigns (a user id, ``"rule:<name>"``...), stored in the
                event's envelope.

        Raises:
            ValidationError: the record is of another kind (``entity.kind``); ``owner``
                is empty or not text, is the current owner, or
                the record has no ``owner`` field; the record was merged into another;
                ``at`` is naive or before ``entity.state_since``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> lead = Lead(id="L-1", created_at=t0)
            >>> step = LEAD_STATUS.assign(lead, "ana", at=t0, actor="boss")
            >>> step.entity.owner, dict(step.event.changes), dict(step.event.context)
            ('ana', {'owner': [None, 'ana']}, {'reason': 'assign'})
            >>> LEAD_STATUS.assign(step.entity, "ana", at=t0)
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'owner' must be a change: record 'L-1' is ...
        """
        return assign_step(self._compiled, entity, owner, at=at, actor=actor)

    def merge(
        self, survivor: EntityT, duplicate: EntityT, *, at: datetime, actor: str | None = None
    ) -> Merge[EntityT]:
        """
        Merge ``duplicate`` into ``survivor`` at time ``at``; return both records and their events.

        The survivor keeps its own values; each of its plain optional fields that
        is ``None`` takes the duplicate's value, and the custom fields are
        combined (the survivor's value wins on a name both have). Its identity,
        state and what the lifecycle's steps write (probability, close and SLA
        time stamps...) are never taken. The duplicate gets ``merged_into`` set to
        the survivor's id and from then on refuses every step, edit, assignment
        and merge. Each side gets a :class:`~crmlifecycle.events.FieldsChanged`
        event (the reason ``"merge"``); :meth:`replay` rebuilds both records.

        Args:
            survivor: the record that stays (it is not changed).
            duplicate: the record folded into it: same class, another id (it is not changed).
            at: when the merge happens: a timezone-aware datetime, not before either
                record's last change; it becomes both records' ``updated_at``.
            actor: who or what merges, stored in both events' envelopes.

        Raises:
            ValidationError: a record is of another kind than the lifecycle's
                (``survivor.kind``, ``duplicate.kind``); the records are of different
                classes or have one id;
                either was already merged; a record's state is not in this
                lifecycle; ``at`` is naive or before a record's ``state_since``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> keep = Lead(id="L-1", created_at=t0, company="Acme", custom={"tier": "gold"})
            >>> dup = Lead(id="L-2", created_at=t0, company="ACME Ltd", country="FR",
            ...            custom={"tier": "silver", "seats": 4})
            >>> merge = LEAD_STATUS.merge(keep, dup, at=t0)
            >>> kept = merge.survivor.entity
            >>> kept.company, kept.country, dict(kept.custom)
            ('Acme', 'FR', {'tier': 'gold', 'seats': 4})
            >>> dict(merge.survivor.event.context)
            {'reason': 'merge', 'merged_from': 'L-2'}
            >>> merge.duplicate.entity.merged_into
            'L-1'
            >>> LEAD_STATUS.fire(merge.duplicate.entity, "contact", at=t0)
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'merged_into' must be None: record 'L-2' ...
        """
        return merge_step(self._compiled, survivor, duplicate, at=at, actor=actor)

    def can_fire(
        self, entity: Any, trigger: str, *, at: datetime | None = None, **context: Any
    ) -> bool:
        """
        Whether :meth:`fire` would succeed (trigger allowed, guards pass, effects satisfied).

        ``at`` defaults to the entity's ``state_since``.

        Args:
            entity: the record to test.
            trigger: the trigger to test.
            at: when the step would happen (default: the record's ``state_since``).
            **context: the step's context, as :meth:`fire` takes it.

        Raises:
            ValidationError: the record is of another kind than this lifecycle's
                (``entity.kind``): an error, not a step that cannot be taken.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Money, Opportunity
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
            >>> deal = Opportunity(id="O-1", name="Acme", amount=Money(1, "EUR"),
            ...                    created_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
            >>> PIPE.can_fire(deal, "lose"), PIPE.can_fire(deal, "lose", lost_reason="price")
            (False, True)
        """
        check_kind(self._compiled, entity)  # a record of another kind is an error, not a "no"
        check_arg("trigger", trigger, str, "a trigger name (str)")
        try:
            self.fire(entity, trigger, at=at or entity.state_since, **context)
        except (InvalidTransition, GuardRejected, ValidationError):
            return False
        return True

    # -- replay -----------------------------------------------------------------------------

    def replay(self, initial: Any, events: Iterable[Event], *, trust: bool = False) -> Any:
        """
        Rebuild an entity by replaying its event log on top of its initial record.

        ``initial`` is the record the log starts from, or the entity class when the
        log starts with the record's own :class:`~crmlifecycle.events.Created` event
        (its ``data`` is the initial record). The whole log is checked before
        anything is applied; each refusal is an
        :class:`~crmlifecycle.errors.EventLogError` naming the entity and the event
        (its position and ``event_id``): an event of another entity, kind or
        lifecycle (``event.lifecycle``); a repeated ``event_id``; a ``sequence``
        that does not follow the previous one (the first follows the initial
        record's ``version``, which a leading ``Created`` event's sequence equals; an event without
        a sequence, written before the envelope existed, counts one); an ``at``
        earlier than the previous event's; a ``Created`` event that is not first.
        An event recorded under another ``lifecycle_version`` is a
        :class:`~crmlifecycle.errors.LifecycleVersionError`, unless ``trust``.

        Then ``Transitioned`` events are fired again (with their context, so stage
        effects such as a conversion's ``opportunity_id`` apply again) and must
        start from the record's state and land in the recorded ``dest``;
        ``FieldsChanged`` events set their new values (a key that is not a field of
        the record goes into ``record.custom``) and the record's ``version``
        becomes the event's sequence (or counts one).

        With ``trust=True`` the log is the truth (history recorded under another
        version of the definition): steps are applied without running guards.
        If this lifecycle has a transition for the step's ``(source, trigger)``
        that lands in the recorded ``dest``, it is taken (hooks and stage effects
        run, guards do not); otherwise (the transition was removed or changed) the
        record moves to the recorded ``dest`` with the stage effects of this
        lifecycle's stage metadata (``state``, ``state_since``, ``version``,
        ``probability``, ``closed_at``... as :meth:`fire` sets them for that pair
        of stages; a step whose ``dest`` is its ``source`` keeps the state and
        ``state_since``), and no hook runs. The recorded ``source`` must still be
        the record's state and ``dest`` a state of this lifecycle.

        Replay is pure: the initial record is not changed, and an error comes
        before any result.

        Args:
            initial: the record the log starts from, or the entity class when the log starts with
                its ``Created`` event.
            events: the record's events, oldest first.
            trust: replay the log as recorded, without guards and whatever lifecycle version
                the events name (see above).

        Raises:
            EventLogError: the log is not this record's complete, ordered history,
                or a logged step cannot be applied (it is refused here, lands
                elsewhere, starts from another state, or misses an effect's input
                such as ``lost_reason``); the cause is chained.
            LifecycleVersionError: an event names another ``lifecycle_version``
                (without ``trust``).
            ValidationError: ``initial`` is a record of another kind than the
                lifecycle's (``initial.kind``), or ``initial`` is a class and the log
                does not start with a ``Created`` event holding the record.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.events import Created
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> lead = Lead(id="L-1", created_at=t0)
            >>> one = LEAD_STATUS.fire(lead, "contact", at=t0)
            >>> two = LEAD_STATUS.fire(one.entity, "qualify", at=t0)
            >>> LEAD_STATUS.replay(lead, [one.event, two.event]) == two.entity
            True
            >>> log = [Created.of(lead), one.event, two.event]
            >>> LEAD_STATUS.replay(Lead, log) == two.entity
            True
            >>> LEAD_STATUS.replay(lead, [two.event])
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.EventLogError: event 0 (lead/L-1/2) of entity 'L-1' has sequence...
        """
        from crmlifecycle.stages._replay import event_list, replay_events

        return replay_events(self._compiled, initial, event_list(events), trust=trust)

    def state_at(
        self,
        events: Iterable[Event],
        *,
        as_of: Instant,
        initial: str | None = None,
    ) -> str | None:
        """
        Return the state an entity was in as of a moment, from its event log.

        The log is one entity's events in time order; a step at ``as_of`` itself
        counts. The log is checked first, as :meth:`replay` checks it (one entity
        and kind, no other lifecycle, no repeated ``event_id``, ``sequence``
        numbers counting up by one, time never going backwards), except that the
        lifecycle version is not compared (only recorded states are read). A
        ``Created`` event of this lifecycle's kind holding the record
        (``data``) sets its initial state; other ``Created`` events (such as the
        opportunity in a lead's conversion events) and ``FieldsChanged`` events do
        not move the state. Before the first event the answer is ``initial`` (``None``: not
        known yet).

        Args:
            events: one record's events, oldest first.
            as_of: the moment looked from.
            initial: the state before the first event (``None``: unknown, so ``None`` is returned
                before it).

        Raises:
            ValidationError: ``as_of`` is not an instant (a naive datetime with a
                time of day, unreadable text, ``None``), or the log names a state
                this lifecycle does not have.
            EventLogError: the log is not one entity's ordered history (see above).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle.events import Transitioned
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> day = lambda d: datetime(2026, 1, d, tzinfo=timezone.utc)
            >>> log = [Transitioned(kind="lead", entity_id="L-1", trigger="contact",
            ...                     source="open", dest="contacted", at=day(3))]
            >>> LEAD_STATUS.state_at(log, as_of=day(2), initial="open")
            'open'
            >>> LEAD_STATUS.state_at(log, as_of=day(5))
            'contacted'
            >>> LEAD_STATUS.state_at(log, as_of="2026-01-03")
            'contacted'
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.events import Created
            >>> born = Created.of(Lead(id="L-1", created_at=day(1)))
            >>> full = [born, *log]
            >>> LEAD_STATUS.state_at(full, as_of=day(2)), LEAD_STATUS.state_at(full, as_of=day(4))
            ('open', 'contacted')
        """
        from crmlifecycle.stages._replay import check_state_log, event_list

        try:
            moment = utc_timestamp(as_of, name="as_of")
        except DataError as err:
            raise ValidationError.for_field(
                "as_of",
                as_of,
                "an instant (a timezone-aware datetime, a date or ISO text)",
                hint="pass as_of=datetime(..., tzinfo=UTC).",
            ) from err
        state = initial
        for event in check_state_log(self._compiled, event_list(events)):
            if event.at > moment:
                break
            if isinstance(event, Transitioned):
                state = event.dest
            elif isinstance(event, Created) and event.kind == self.kind and "state" in event.data:
                state = event.data["state"]
        if state is not None:
            check_state(self._compiled.by_name, state, "state")
        return state

    # -- the frame paths --------------------------------------------------------------------

    def fire_frame(
        self,
        entities: pd.DataFrame,
        trigger: str | None = None,
        *,
        at: Instant,
        actor: str | None = None,
        entities_columns: StepFrameColumns = StepFrameColumns(),  # noqa: B008 - a frozen record
    ) -> FrameStep:
        """
        Bulk step: fire one trigger (or each row's trigger) on a frame of entities.

        See :func:`crmlifecycle.stages.fire_frame` for the details.

        Args:
            entities: one row per record: its id, ``state`` and (optionally) ``state_since``.
            trigger: the trigger for every row (``None``: each row's ``trigger`` column).
            at: when the steps happen.
            actor: who or what takes the steps, stored in every event.
            entities_columns: which columns of ``entities`` hold the id, state, state since,
                version, trigger and context.

        Examples:
            >>> import pandas as pd
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> leads = pd.DataFrame({"lead_id": ["L-1", "L-2", "L-3"],
            ...     "state": ["open", "qualified", "qualified"],
            ...     "trigger": ["contact", "convert", "convert"],
            ...     "opportunity_id": [None, "O-7", None]})
            >>> step = LEAD_STATUS.fire_frame(leads, at="2026-03-01",
            ...     entities_columns=StepFrameColumns(context="opportunity_id"))
            >>> step.state.tolist(), step.accepted.tolist()
            (['contacted', 'converted', 'qualified'], [True, True, False])
            >>> step.reason.tolist()[2]  # a conversion links the lead to its opportunity
            'entering a won stage needs an opportunity_id'
        """
        from crmlifecycle.stages._frame_step import step_frame

        return step_frame(
            self._compiled, entities, trigger, at=at, cols=entities_columns, actor=actor
        )

    def replay_frame(
        self,
        events: pd.DataFrame,
        *,
        as_of: Instant | None = None,
        check: bool = True,
        trust: bool = False,
        events_columns: EventLogColumns = EventLogColumns(),
    ) -> pd.DataFrame:
        """
        Return each entity's state (as of a moment) from an event-log frame.

        See :func:`~crmlifecycle.stages.replay_frame` for the columns and checks.

        Args:
            events: an event log of this lifecycle (the library's own event-log frame reads as is).
            as_of: the moment looked from (``None``: every event).
            check: whether to check the log (the envelope, and that every step is allowed by the
                lifecycle) before reading it.
            trust: read history recorded under another version of the lifecycle as it was
                recorded (no version check; steps this definition no longer has are accepted).
            events_columns: which columns of ``events`` hold the event-log fields.

        Examples:
            >>> import pandas as pd
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> log = pd.DataFrame({"kind": "lead", "entity_id": ["L-1", "L-1"],
            ...     "trigger": ["contact", "qualify"], "source": ["open", "contacted"],
            ...     "dest": ["contacted", "qualified"],
            ...     "at": pd.to_datetime(["2026-01-02", "2026-01-05"], utc=True)})
            >>> LEAD_STATUS.replay_frame(log, as_of="2026-01-03")["state"].tolist()
            ['contacted']
        """
        from crmlifecycle.stages._frame_replay import replay_log

        return replay_log(
            self._compiled, events, as_of=as_of, check=check, trust=trust, cols=events_columns
        )

    # -- configuration, lint, diagrams ------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, hooks: HookRegistry | None = None) -> Lifecycle:
        """
        Build a lifecycle from its configuration dict (see the custom pipeline how-to).

        A spec is untrusted configuration: guards are rule-language conditions and
        hooks are names looked up among the built-in hooks and ``hooks``.

        Args:
            data: the spec: ``name``, ``states``, ``transitions`` and optionally
                ``initial``, ``kind``, ``version``.
            hooks: the hooks (by name) the spec may use besides the built-in ones.

        Raises:
            SpecError: the spec is malformed; ``path`` names the place
                (``transitions[2].dest``).

        Examples:
            >>> spec = {"name": "ticket", "states": ["todo", "done"],
            ...         "transitions": [{"trigger": "finish", "source": "todo", "dest": "done"}]}
            >>> Lifecycle.from_dict(spec).states
            ('todo', 'done')
        """
        from crmlifecycle.stages._spec import from_spec

        raw: object = data
        if not isinstance(raw, Mapping):
            raise SpecError(
                f"a spec must be a mapping (got {type(raw).__name__}). "
                "Hint: pass JSON or YAML text to Lifecycle.from_text."
            )
        return from_spec(raw, hooks=hooks)

    @classmethod
    def from_text(cls, text: str, *, hooks: HookRegistry | None = None) -> Lifecycle:
        r"""
        Build a lifecycle from a spec written as JSON or YAML text.

        Args:
            text: the spec as JSON or YAML text.
            hooks: the named hooks the spec may use (an allowlist built in code).

        Raises:
            SpecError: the text cannot be parsed, or the spec is malformed.

        Examples:
            >>> Lifecycle.from_text('{"name": "t", "states": ["a"], "transitions": []}').states
            ('a',)
            >>> Lifecycle.from_text("name: t\nstates: [a, b]\ncolour: red")
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.SpecError: colour: unknown key 'colour'...
        """
        from crmlifecycle.stages._spec import parse_spec_text

        raw: object = text
        if not isinstance(raw, str):
            raise SpecError(
                f"spec text must be a string (got {type(raw).__name__}). "
                "Hint: pass a dict to Lifecycle.from_dict."
            )
        return cls.from_dict(parse_spec_text(text), hooks=hooks)

    def to_dict(self) -> dict[str, Any]:
        """
        Return the lifecycle as a spec dict (JSON- and YAML-ready); ``from_dict`` round-trips it.

        Raises:
            SpecError: a guard is a Python callable (it cannot be written as text).

        Examples:
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> Lifecycle.from_dict(LEAD_STATUS.to_dict()).to_dict() == LEAD_STATUS.to_dict()
            True
        """
        from crmlifecycle.stages._spec import to_spec

        return to_spec(self)

    def lint(self) -> tuple[LintFinding, ...]:
        """
        Report definition problems (unreachable states, dead ends, dead triggers...).

        Examples:
            >>> from crmlifecycle.stages import CASE_STATUS
            >>> CASE_STATUS.lint()
            ()
        """
        from crmlifecycle.stages._lint import lint_lifecycle

        return lint_lifecycle(self)

    def to_mermaid(self) -> str:
        """
        Return a Mermaid ``stateDiagram-v2`` of the lifecycle.

        Examples:
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> print(LEAD_STATUS.to_mermaid().splitlines()[1])
                [*] --> open
        """
        from crmlifecycle.stages._lint import to_mermaid

        return to_mermaid(self)


def _refuse_fire_arguments(entity: object, trigger: object) -> None:
    """Refuse a ``fire`` whose trigger is not a name or whose entity is not a stateful record."""
    check_arg(
        "trigger",
        trigger,
        str,
        "a trigger name (a str)",
        hint="pass the trigger's name, e.g. fire(lead, 'contact', at=...).",
    )
    raise ValidationError.for_field(
        "entity",
        entity,
        "a record with a state (a Lead, Opportunity, Case... built by the library)",
        hint="pass the record itself, not a dict or None; rebuild stored records first.",
    )


def _rebuild(
    name: str,
    kind: str,
    initial: str,
    stages: tuple[Stage, ...],
    transitions: tuple[TransitionDef, ...],
    fields: tuple[CustomField, ...],
) -> Lifecycle:
    """Unpickle a :class:`Lifecycle`: compile its definition again."""
    return Lifecycle(name, stages, transitions, initial=initial, kind=kind, fields=fields)
