"""
Compiling a lifecycle definition: checks, one ``transitions.Machine``, a lookup table.

:class:`CompiledLifecycle` checks the names, states and transitions, expands
``to_last_open``, hands the result to one ``transitions.Machine`` (built once per
definition, used only to compile and then dropped, never bound to an entity) and
reads its events back into a table: for every ``(state, trigger)`` pair, the
:class:`Candidate` transitions in the order ``transitions`` tries them. The single
step and the frame paths both walk that table.

Only objects (guards and hooks) are handed to ``transitions``, never a string it
could resolve as a dotted import path.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast, final

import attrs
import pandas as pd
from transitions import Machine

from crmlifecycle._yaml import short_repr
from crmlifecycle.errors import MissingColumnError, SpecError
from crmlifecycle.stages._definition import (
    FORECAST_CATEGORIES,
    NAME_PATTERN,
    STATUS_TYPES,
    Guard,
    Hook,
    Stage,
    StepInfo,
    TransitionDef,
)

if TYPE_CHECKING:
    from crmlifecycle.stages._fields import CustomField
    from crmlifecycle.stages._frame_tables import FrameTables
    from crmlifecycle.stages._step import StageEffects

_HUNDRED: Final = 100
#: How many known states an unknown-state message lists (a spec may have thousands).
_SHOWN_STATES: Final = 20

Table = dict[tuple[str, str], tuple["Candidate", ...]]


@final
class Candidate:
    """
    One transition a ``(state, trigger)`` pair may take: where it goes, its guards and hooks.

    ``guards`` pairs each guard with the answer it must give (``True`` for a
    ``conditions`` guard, ``False`` for an ``unless`` guard). ``effects`` caches,
    per entity class, the stage effects of this move (see
    :class:`~crmlifecycle.stages._step.StageEffects`).
    """

    __slots__ = ("after", "before", "dest", "effects", "guards", "internal", "plain", "source")

    def __init__(
        self,
        *,
        source: str,
        dest: str,
        internal: bool,
        guards: tuple[tuple[Guard, bool], ...],
        before: tuple[Hook, ...],
        after: tuple[Hook, ...],
    ) -> None:
        self.source = source
        self.dest = dest
        self.internal = internal
        self.guards = guards
        self.before = before
        self.after = after
        #: Whether the transition has no guard and no hook (a lookup decides it).
        self.plain = not (guards or before or after)
        self.effects: dict[type, StageEffects] = {}


@final
class CompiledLifecycle:
    """
    A checked, compiled lifecycle definition (what :class:`Lifecycle` holds).

    Attributes:
        name: the lifecycle's name.
        kind: the entity kind written into events.
        initial: the initial state.
        stages: the states with their metadata, in order.
        by_name: the same, by state name.
        declared: the transitions as declared.
        table: ``(state, trigger) -> candidates`` in the order they are tried.
        allowed: the triggers defined from each state.
        triggers: every trigger, in declaration order.
        frame_tables: the bulk-step tables, built by the first frame step.
        version: the definition's version (a hash of its spec), written into events.
        custom_fields: the declared custom fields of the records (set by the Lifecycle).
        custom_names: their names.
    """

    __slots__ = (
        "allowed",
        "by_name",
        "custom_fields",
        "custom_names",
        "declared",
        "frame_tables",
        "initial",
        "kind",
        "name",
        "stages",
        "table",
        "triggers",
        "version",
    )

    def __init__(
        self,
        name: str,
        states: Sequence[Stage | str],
        transitions: Sequence[TransitionDef],
        *,
        initial: str | None,
        kind: str | None,
    ) -> None:
        self.name = check_name(name, "name", "a lifecycle name")
        self.kind = check_name(kind or name, "kind", "a kind")
        self.stages, self.by_name = check_stages(states)
        self.initial = initial if initial is not None else self.stages[0].name
        check_state(self.by_name, self.initial, "initial")
        self.declared = tuple(transitions)
        machine = build_machine(self.by_name, self.declared, self.initial)
        self.table, self.allowed, self.triggers = compile_table(machine, list(self.by_name))
        self.frame_tables: FrameTables | None = None  # built by the first frame step
        self.version = ""  # set by the Lifecycle, which writes the spec it is a hash of
        self.custom_fields: tuple[CustomField, ...] = ()  # set by the Lifecycle
        self.custom_names: frozenset[str] = frozenset()


def _last_open_guard(stage: str) -> Guard:
    def check(entity: Any, _info: StepInfo) -> bool:
        return bool(getattr(entity, "last_open_stage", None) == stage)

    def check_frame(frame: pd.DataFrame, _at: pd.Timestamp) -> Any:
        if "last_open_stage" not in frame.columns:
            raise MissingColumnError(["last_open_stage"], frame.columns)
        return (frame["last_open_stage"] == stage).fillna(value=False).to_numpy(dtype=bool)

    return Guard.of(check, name=f"last_open_stage == {stage!r}", frame=check_frame)


def check_name(value: object, path: str, what: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise SpecError(
            f"{what} must be an identifier of letters, digits and '_' (got {value!r}). "
            "Hint: use names such as 'in_progress' or 'closed_won'.",
            path=path,
        )
    return value


def _is_percent(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _HUNDRED


def _check_stage(stage: Stage, index: int) -> Stage:
    path = f"states[{index}]"
    check_name(stage.name, f"{path}.name", "a state name")
    if stage.type not in STATUS_TYPES:
        raise SpecError(
            f"unknown status type {stage.type!r}. Hint: use one of {list(STATUS_TYPES)}.",
            path=f"{path}.type",
        )
    prob: object = stage.probability
    if prob is not None and not _is_percent(prob):
        raise SpecError(
            f"a probability must be an integer percent from 0 to 100 (got {prob!r}). "
            "Hint: write 50 for 50%.",
            path=f"{path}.probability",
        )
    if stage.forecast is not None and stage.forecast not in FORECAST_CATEGORIES:
        raise SpecError(
            f"unknown forecast category {stage.forecast!r}. "
            f"Hint: use one of {list(FORECAST_CATEGORIES)}.",
            path=f"{path}.forecast",
        )
    return attrs.evolve(stage, order=index) if stage.order != index else stage


def check_stages(states: Sequence[Stage | str]) -> tuple[tuple[Stage, ...], dict[str, Stage]]:
    """Validate the states; return them (orders set) and a name index."""
    if not states:
        raise SpecError("a lifecycle needs at least one state. Hint: list them.", path="states")
    for i, s in enumerate(states):
        if not isinstance(s, Stage | str):
            raise SpecError(
                f"a state must be a name or a Stage (got {short_repr(s)}). "
                "Hint: list names such as 'open', or Stage records.",
                path=f"states[{i}]",
            )
    stages = tuple(
        _check_stage(s if isinstance(s, Stage) else Stage(name=s, order=i), i)
        for i, s in enumerate(states)
    )
    by_name: dict[str, Stage] = {}
    for i, stage in enumerate(stages):
        if stage.name in by_name:
            raise SpecError(
                f"duplicate state {stage.name!r}. Hint: state names must be unique.",
                path=f"states[{i}].name",
            )
        by_name[stage.name] = stage
    return stages, by_name


def check_state(by_name: Mapping[str, Stage], name: object, path: str) -> str:
    """Return ``name`` if it is a state, else raise :class:`SpecError` at ``path``."""
    if not isinstance(name, str) or name not in by_name:
        known = list(itertools.islice(by_name, _SHOWN_STATES))
        more = len(by_name) - len(known)
        raise SpecError(
            f"unknown state {short_repr(name)}. Hint: declare it under states; known states are "
            f"{known}{f' and {more} more' if more > 0 else ''}.",
            path=path,
        )
    return name


def expand(by_name: Mapping[str, Stage], index: int, t: TransitionDef) -> list[TransitionDef]:
    """Validate one declared transition; expand ``to_last_open`` into guarded transitions."""
    path = f"transitions[{index}]"
    if not isinstance(t, TransitionDef):
        raise SpecError(
            f"expected a TransitionDef (got {t!r}). Hint: see TransitionDef.", path=path
        )
    check_name(t.trigger, f"{path}.trigger", "a trigger name")
    if not t.source:
        raise SpecError(
            "a transition needs a source state. Hint: add source.", path=f"{path}.source"
        )
    for j, src in enumerate(t.source):
        check_state(by_name, src, f"{path}.source[{j}]")
    if (t.dest is not None) + t.internal + t.to_last_open != 1:
        raise SpecError(
            "a transition needs exactly one of dest, internal or to_last_open. "
            "Hint: internal transitions have no dest.",
            path=f"{path}.dest",
        )
    if t.dest is not None:
        check_state(by_name, t.dest, f"{path}.dest")
        return [t]
    if t.internal:
        return [t]
    return [
        attrs.evolve(
            t,
            dest=s.name,
            to_last_open=False,
            conditions=(_last_open_guard(s.name), *t.conditions),
        )
        for s in by_name.values()
        if not s.closed
    ]


def build_machine(
    by_name: Mapping[str, Stage], declared: Sequence[TransitionDef], initial: str
) -> Machine:
    """Build a ``transitions.Machine`` of the definition (no models): it checks and compiles it."""
    expanded = [t for i, d in enumerate(declared) for t in expand(by_name, i, d)]
    specs: list[dict[str, Any]] = [
        {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": list(t.conditions),
            "unless": list(t.unless),
            "before": list(t.before),
            "after": list(t.after),
        }
        for t in expanded
    ]
    return Machine(
        model=None,
        states=list(by_name),
        initial=initial,
        transitions=specs,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


def compile_table(
    machine: Machine, states: Sequence[str]
) -> tuple[Table, dict[str, tuple[str, ...]], tuple[str, ...]]:
    """
    Read the machine's events into the step table, allowed triggers and trigger order.

    One pass over the events: the cost grows with the number of transitions, not with
    states times triggers (``Machine.get_triggers`` per state scans every event).
    A state's allowed triggers are in declaration order, as ``get_triggers`` gives them.
    """
    table: Table = {}
    by_source: dict[str, list[str]] = {s: [] for s in states}
    for trigger, event in machine.events.items():
        for source, candidates in event.transitions.items():
            by_source[source].append(trigger)
            table[(source, trigger)] = tuple(
                Candidate(
                    source=source,
                    dest=t.dest if t.dest is not None else source,
                    internal=t.dest is None,
                    guards=tuple((cast("Guard", c.func), bool(c.target)) for c in t.conditions),
                    before=tuple(cast("list[Hook]", t.before)),
                    after=tuple(cast("list[Hook]", t.after)),
                )
                for t in candidates
            )
    allowed = {s: tuple(triggers) for s, triggers in by_source.items()}
    return table, allowed, tuple(machine.events)
