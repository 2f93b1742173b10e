"""
:class:`Lifecycle`: one state machine definition, compiled once, used everywhere.

The definition is handed to one private ``transitions.Machine`` (built once per
lifecycle, never bound to an entity); its events and transitions are compiled
into a ``(state, trigger) -> candidate transitions`` table that the hot path
(:meth:`Lifecycle.fire`) walks with the ``transitions`` semantics: candidates in
declaration order, the first whose conditions pass (and ``unless`` guards fail)
wins, ``before`` hooks run before the state change and ``after`` hooks after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, final

import attrs
import pandas as pd

from crmlifecycle.errors import GuardRejected, InvalidTransition, ValidationError
from crmlifecycle.events import Created, Event, FieldsChanged, Transitioned
from crmlifecycle.stages._compile import (
    Compiled,
    build_machine,
    check_name,
    check_stages,
    check_state,
    compile_table,
    is_aware,
    simple_steps,
)
from crmlifecycle.stages._effects import StepEffects
from crmlifecycle.stages._fast import EntityPlan, make_event, make_step, plan_for
from crmlifecycle.stages._model import EntityT, Hook, Stage, Step, TransitionDef
from crmlifecycle.stages._step import apply_step, bad_time, choose

if TYPE_CHECKING:
    from crmlifecycle.stages._bulk import FrameStep
    from crmlifecycle.stages._lint import LintFinding
    from crmlifecycle.stages._tables import FrameTables

__all__ = ["Lifecycle"]


@final
class Lifecycle:
    """
    A compiled lifecycle: states with metadata, triggers, guards and hooks.

    One lifecycle object is immutable and shared: it steps frozen entities
    (:meth:`fire`), bulk-steps frames (:meth:`fire_frame`), replays event logs
    (:meth:`replay`, :meth:`replay_frame`), and describes itself (:meth:`to_spec`,
    :meth:`lint`, :meth:`to_mermaid`). Build one in code, or from a spec with
    :meth:`from_spec`.

    Args:
        name: the lifecycle's name (an identifier).
        states: the states in order; :class:`Stage` objects or plain names.
        transitions: the transitions, in priority order.
        initial: the initial state (default: the first).
        kind: the entity kind written into events (default: ``name``).

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

    __slots__ = (
        "_allowed",
        "_by_name",
        "_declared",
        "_effects",
        "_frame_tables",
        "_initial",
        "_kind",
        "_machine",
        "_name",
        "_simple",
        "_stages",
        "_table",
        "_triggers",
    )

    def __init__(
        self,
        name: str,
        states: Sequence[Stage | str],
        transitions: Sequence[TransitionDef],
        *,
        initial: str | None = None,
        kind: str | None = None,
    ) -> None:
        self._name = check_name(name, "name", "a lifecycle name")
        self._kind = check_name(kind or name, "kind", "a kind")
        self._stages, self._by_name = check_stages(states)
        self._initial = initial if initial is not None else self._stages[0].name
        check_state(self._by_name, self._initial, "initial")
        self._declared = tuple(transitions)
        self._machine = build_machine(self._by_name, self._declared, self._initial)
        self._table, self._allowed, self._triggers = compile_table(self._machine, self.states)
        self._simple = simple_steps(self._table)
        self._frame_tables: FrameTables | None = None  # built by the first bulk step
        self._effects: dict[tuple[EntityPlan, Compiled], StepEffects] = {}  # filled by fire

    # -- description ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The lifecycle's name."""
        return self._name

    @property
    def kind(self) -> str:
        """The entity kind written into events."""
        return self._kind

    @property
    def initial(self) -> str:
        """The initial state."""
        return self._initial

    @property
    def states(self) -> tuple[str, ...]:
        """The state names, in order."""
        return tuple(self._by_name)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The states with their metadata, in order."""
        return self._stages

    @property
    def transitions(self) -> tuple[TransitionDef, ...]:
        """The transitions as declared (before ``to_last_open`` expansion)."""
        return self._declared

    @property
    def trigger_names(self) -> tuple[str, ...]:
        """Every trigger, in declaration order."""
        return self._triggers

    def stage(self, name: str) -> Stage:
        """
        Return a state's metadata.

        Raises:
            ValidationError: for an unknown state.

        Examples:
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
            >>> OPPORTUNITY_PIPELINE.stage("proposal").probability
            50
        """
        stage = self._by_name.get(name)
        if stage is None:
            raise ValidationError.for_field("state", name, f"one of {list(self._by_name)}")
        return stage

    def stages_frame(self) -> pd.DataFrame:
        """
        Return the stage metadata as a DataFrame indexed by state (for joins in analytics).

        Examples:
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
            >>> OPPORTUNITY_PIPELINE.stages_frame().loc["negotiation", "forecast"]
            'commit'
        """
        rows = [attrs.asdict(s) for s in self._stages]
        frame = pd.DataFrame(rows).set_index("name")
        frame["closed"] = frame["type"].isin(["won", "lost"])
        frame["won"] = frame["type"] == "won"
        return frame

    def triggers(self, entity: Any) -> tuple[str, ...]:  # noqa: ANN401 - any stateful entity
        """
        Return the triggers defined from the entity's state (guards not evaluated).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> lead = Lead(id="L-1", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> LEAD_STATUS.triggers(lead)
            ('contact', 'disqualify')
        """
        return self._allowed.get(self._state_of(entity), ())

    def _state_of(self, entity: Any) -> str:  # noqa: ANN401 - any stateful entity
        state = entity.state
        if state not in self._by_name:
            raise ValidationError.for_field(
                "state",
                state,
                f"a state of the {self._name!r} lifecycle ({', '.join(self._by_name)})",
            )
        return str(state)

    def __repr__(self) -> str:
        return (
            f"Lifecycle({self._name!r}, states={list(self._by_name)}, "
            f"triggers={list(self._triggers)})"
        )

    # -- stepping ---------------------------------------------------------------------------

    def fire(self, entity: EntityT, trigger: str, *, at: datetime, **context: Any) -> Step[EntityT]:  # noqa: ANN401
        """
        Fire ``trigger`` on ``entity`` at time ``at``; return the new entity and its event.

        ``context`` is passed to guards and hooks and stored in the event (it must be
        event-safe data). Stage effects keep the invariants (see the lifecycles guide):
        probabilities follow the stage unless set by hand, a lost deal needs
        ``lost_reason=``, ``highest_state`` is a high-water mark.

        Raises:
            InvalidTransition: the trigger is unknown or not allowed from the state.
            GuardRejected: every candidate transition's guard said no.
            ValidationError: ``at`` is naive or before ``entity.state_since``, the
                entity's state is not in this lifecycle, or an effect's requirement
                (e.g. the lost reason) is not met.

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
        state = entity.state
        chosen = self._simple.get((state, trigger))
        if chosen is None:  # unknown, not allowed, guarded, hooked or internal: the general path
            return self._fire(entity, trigger, at, context)
        aware = isinstance(at, datetime) and (  # type: ignore[redundant-expr]
            at.tzinfo is UTC or at.utcoffset() is not None
        )
        if not aware or at < entity.state_since:
            raise bad_time(entity, at)
        plan = plan_for(type(entity))
        if plan is None:  # a class the fast copy does not fit: attrs.evolve
            new = apply_step(entity, chosen, None, (trigger, at, context), self._by_name)
        elif plan.effects:  # stage effects resolved once per class and step
            effects = self._effects.get((plan, chosen)) or self._step_effects(plan, chosen, state)
            updates = effects.updates(entity, (trigger, at, context), self._by_name)
            updates["state"] = chosen.dest
            updates["state_since"] = at
            new = plan.replaced(entity, updates)
        else:  # no stage effects: only state and state_since change
            new = plan.moved(entity, chosen.dest, at)
        event = make_event(self._kind, entity.id, trigger, state, chosen.dest, at, context)
        return make_step(new, event)

    def _step_effects(self, plan: EntityPlan, chosen: Compiled, state: str) -> StepEffects:
        effects = StepEffects(plan.effects, self._by_name[state], self._by_name[chosen.dest])
        return self._effects.setdefault((plan, chosen), effects)

    def _fire(
        self,
        entity: Any,  # noqa: ANN401 - any entity
        trigger: str,
        at: datetime,
        context: dict[str, Any],
    ) -> Step[Any]:
        state = entity.state
        candidates = self._table.get((state, trigger))
        if candidates is None:
            raise self._invalid(entity, trigger)
        if not is_aware(at) or at < entity.state_since:
            raise bad_time(entity, at)
        chosen, info = choose(entity, candidates, (trigger, at, context), kind=self._name)
        new = apply_step(entity, chosen, info, (trigger, at, context), self._by_name)
        event = make_event(self._kind, entity.id, trigger, state, chosen.dest, at, context)
        return make_step(new, event)

    def _invalid(self, entity: Any, trigger: str) -> InvalidTransition:  # noqa: ANN401
        state = self._state_of(entity)
        return InvalidTransition(
            trigger=trigger, state=state, allowed=self._allowed[state], kind=self._name
        )

    def can_fire(
        self,
        entity: Any,  # noqa: ANN401 - any stateful entity
        trigger: str,
        *,
        at: datetime | None = None,
        **context: Any,  # noqa: ANN401 - event-safe data
    ) -> bool:
        """
        Whether :meth:`fire` would succeed (trigger allowed, guards pass, effects satisfied).

        ``at`` defaults to the entity's ``state_since``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Money, Opportunity
            >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
            >>> deal = Opportunity(id="O-1", name="Acme", amount=Money(1, "EUR"),
            ...                    created_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
            >>> PIPE.can_fire(deal, "lose"), PIPE.can_fire(deal, "lose", lost_reason="price")
            (False, True)
        """
        try:
            self.fire(entity, trigger, at=at or entity.state_since, **context)
        except (InvalidTransition, GuardRejected, ValidationError):
            return False
        return True

    # -- replay -----------------------------------------------------------------------------

    def replay(self, initial: Any, events: Iterable[Event]) -> Any:  # noqa: ANN401 - any entity
        """
        Rebuild an entity by replaying its event log on top of its initial record.

        ``Transitioned`` events are fired again (with their context) and must land in
        the recorded ``dest``; ``FieldsChanged`` events set their new values;
        ``Created`` events are skipped.

        Raises:
            ValidationError: an event belongs to another entity, or the lifecycle
                disagrees with the log (the step lands elsewhere).
            InvalidTransition, GuardRejected: a logged step is not possible here.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle import Lead
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> lead = Lead(id="L-1", created_at=t0)
            >>> one = LEAD_STATUS.fire(lead, "contact", at=t0)
            >>> two = LEAD_STATUS.fire(one.entity, "qualify", at=t0)
            >>> LEAD_STATUS.replay(lead, [one.event, two.event]) == two.entity
            True
        """
        entity = initial
        for i, event in enumerate(events):
            if event.entity_id != entity.id:
                raise ValidationError.for_field(
                    f"events[{i}].entity_id",
                    event.entity_id,
                    f"{entity.id!r} (the entity replayed)",
                )
            if isinstance(event, Created):
                continue
            if isinstance(event, FieldsChanged):
                changes = {k: v[1] for k, v in event.changes.items()}
                entity = attrs.evolve(entity, **changes)
                continue
            step = self.fire(entity, event.trigger, at=event.at, **event.context)
            if step.event.source != event.source or step.event.dest != event.dest:
                raise ValidationError.for_field(
                    f"events[{i}]",
                    f"{event.source}->{event.dest}",
                    f"what the lifecycle does ({step.event.source}->{step.event.dest})",
                    hint="the log was written by another definition; replay it with that one.",
                )
            entity = step.entity
        return entity

    def state_at(
        self, events: Iterable[Transitioned], at: datetime, *, initial: str | None = None
    ) -> str | None:
        """
        Return the state an entity was in at time ``at``, from its event log.

        The log is one entity's ``Transitioned`` events in time order; before the
        first event the answer is ``initial`` (``None``: not known yet).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from crmlifecycle.events import Transitioned
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> day = lambda d: datetime(2026, 1, d, tzinfo=timezone.utc)
            >>> log = [Transitioned(kind="lead", entity_id="L-1", trigger="contact",
            ...                     source="open", dest="contacted", at=day(3))]
            >>> LEAD_STATUS.state_at(log, day(2), initial="open"), LEAD_STATUS.state_at(log, day(5))
            ('open', 'contacted')
        """
        if not is_aware(at):
            raise ValidationError.for_field("at", at, "a timezone-aware datetime")
        state = initial
        for event in events:
            if event.at > at:
                break
            state = event.dest
        if state is not None:
            check_state(self._by_name, state, "state")
        return state

    # -- frames, specs, lint, diagrams (implemented in sibling modules) -----------------------

    def fire_frame(
        self,
        frame: pd.DataFrame,
        trigger: str | None = None,
        *,
        at: object,
        trigger_col: str | None = None,
        id_col: str = "id",
        state_col: str = "state",
        since_col: str | None = "state_since",
        context_cols: Sequence[str] = (),
    ) -> FrameStep:
        """
        Bulk step: fire one trigger (or a trigger per row) on a DataFrame of entities.

        See :func:`crmlifecycle.stages.fire_frame` for the details and an example.
        """
        from crmlifecycle.stages._bulk import fire_frame

        return fire_frame(
            self,
            frame,
            trigger,
            at=at,
            trigger_col=trigger_col,
            id_col=id_col,
            state_col=state_col,
            since_col=since_col,
            context_cols=context_cols,
        )

    def replay_frame(
        self, events: pd.DataFrame, *, as_of: object = None, check: bool = True
    ) -> pd.DataFrame:
        """
        Return each entity's state (as of a time) from an events frame.

        See :func:`~crmlifecycle.stages.replay_frame` for the columns and checks.

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
        from crmlifecycle.stages._replay import replay_frame

        return replay_frame(self, events, as_of=as_of, check=check)

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any] | str, *, hooks: Mapping[str, Hook | Any] | None = None
    ) -> Lifecycle:
        """
        Build a lifecycle from a spec (a dict, JSON text or YAML text); see the how-to.

        Examples:
            >>> spec = {"name": "ticket", "states": ["todo", "done"],
            ...         "transitions": [{"trigger": "finish", "source": "todo", "dest": "done"}]}
            >>> Lifecycle.from_spec(spec).states
            ('todo', 'done')
        """
        from crmlifecycle.stages._spec import from_spec

        return from_spec(spec, hooks=hooks)

    def to_spec(self) -> dict[str, Any]:
        """
        Return the lifecycle as a spec dict (JSON- and YAML-ready); ``from_spec`` round-trips it.

        Raises:
            SpecError: a guard is a Python callable (it cannot be written as text).

        Examples:
            >>> from crmlifecycle.stages import LEAD_STATUS
            >>> Lifecycle.from_spec(LEAD_STATUS.to_spec()).to_spec() == LEAD_STATUS.to_spec()
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
