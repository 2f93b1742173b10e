"""
The general path of a single-record step: guards, hooks and stage effects.

:meth:`Lifecycle.fire <crmlifecycle.stages.Lifecycle.fire>` takes the simple
steps (one unguarded, unhooked candidate) itself; everything else comes here,
with the ``transitions`` semantics: candidates in declaration order, the first
whose conditions pass (and ``unless`` guards fail) wins, ``before`` hooks run
before the state change and ``after`` hooks after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import attrs

from crmlifecycle.errors import GuardRejected, ValidationError
from crmlifecycle.stages._compile import Compiled, is_aware
from crmlifecycle.stages._effects import effect_fields, record_updates
from crmlifecycle.stages._fast import plan_for, replace
from crmlifecycle.stages._model import Stage, StepInfo

__all__ = ["apply_step", "bad_time", "choose"]

#: A step's ``(trigger, at, context)``.
StepArgs = tuple[str, datetime, Mapping[str, Any]]


def bad_time(entity: Any, at: object) -> ValidationError:  # noqa: ANN401 - any entity
    """The error for an ``at`` that is naive (or not a datetime) or before ``state_since``."""
    if not is_aware(at):
        return ValidationError.for_field(
            "at", at, "a timezone-aware datetime", hint="pass at=datetime(..., tzinfo=UTC)."
        )
    return ValidationError.for_field(
        "at",
        at,
        f"at or after the entity's state_since ({entity.state_since.isoformat()})",
        hint="state_since never goes backwards; fire steps in time order.",
    )


def choose(
    entity: Any,  # noqa: ANN401 - any entity
    candidates: tuple[Compiled, ...],
    step: StepArgs,
    *,
    kind: str,
) -> tuple[Compiled, StepInfo | None]:
    """Return the first candidate whose guards pass (and its StepInfo, if it needs one)."""
    trigger, at, context = step
    state = entity.state
    failures: list[str] = []
    for candidate in candidates:
        needs_info = candidate.guards or candidate.before or candidate.after
        info = (
            StepInfo(trigger=trigger, source=state, dest=candidate.dest, at=at, context=context)
            if needs_info
            else None
        )
        for guard, target in candidate.guards:
            if guard.check(entity, info) is not target:  # type: ignore[arg-type]
                failures.append(guard.name if target else f"unless {guard.name}")
                break
        else:
            return candidate, info
    shown = "; ".join(dict.fromkeys(failures))
    raise GuardRejected(trigger=trigger, state=state, guard=shown, kind=kind)


def apply_step(
    entity: Any,  # noqa: ANN401 - any entity
    chosen: Compiled,
    info: StepInfo | None,
    step: StepArgs,
    stages: Mapping[str, Stage],
) -> Any:  # noqa: ANN401 - the entity's type
    """Return the new entity: before hooks, the state change and stage effects, after hooks."""
    updates: dict[str, Any] = {}
    for hook in chosen.before:
        updates.update(hook.func(entity, cast("StepInfo", info)) or {})
    if not chosen.internal:
        updates["state"] = chosen.dest
        updates["state_since"] = step[1]
        plan = plan_for(type(entity))
        fields = plan.effects if plan is not None else effect_fields(entity)
        if fields:
            updates.update(
                record_updates(
                    entity,
                    fields,
                    source=stages[entity.state],
                    dest=stages[chosen.dest],
                    step=step,
                    stages=stages,
                )
            )
    if chosen.before:
        new = attrs.evolve(entity, **updates)  # hook values are validated
    else:
        new = replace(entity, updates) if updates else entity
    for hook in chosen.after:
        more = hook.func(new, cast("StepInfo", info))
        if more:
            new = attrs.evolve(new, **more)
    return new
