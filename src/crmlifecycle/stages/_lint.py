"""
Linting lifecycle definitions, and drawing them as Mermaid state diagrams.

The linter reads the definition only (guards are not evaluated): a guarded
transition counts as possible.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from crmlifecycle._validators import check_arg
from crmlifecycle.errors import SpecError
from crmlifecycle.stages._definition import TransitionDef

if TYPE_CHECKING:
    from crmlifecycle.stages._lifecycle import Lifecycle

__all__ = ["LintFinding", "lint_lifecycle", "lint_spec", "to_mermaid"]

#: The finding codes and what they mean.
LINT_CODES: Final[Mapping[str, str]] = {
    "invalid": "the spec cannot be loaded (the message says why)",
    "duplicate_state": "two states share a name",
    "duplicate_transition": "the same transition is declared twice",
    "unreachable_state": "no path of transitions leads from the initial state to it",
    "dead_end": "an open state (not won or lost) with no way out",
    "trigger_never_fires": "every source state of the trigger is unreachable",
    "shadowed_transition": "an earlier unguarded transition with the same trigger and source wins",
    "name_clash": "a trigger is named like a state",
    "probability_order": "default probabilities decrease along the open stages",
    "probability_closed": "a won stage's probability is not 100, or a lost stage's is not 0",
}


@final
@attrs.frozen(kw_only=True)
class LintFinding:
    """
    One problem the linter found.

    Attributes:
        code: a stable code (see ``LINT_CODES``), e.g. ``"unreachable_state"``.
        message: what is wrong and what to do.
        path: where in the spec (``"states[3]"``, ``"transitions[1]"``).
        severity: ``"error"`` (the spec cannot be used) or ``"warning"``.

    Examples:
        >>> from crmlifecycle.stages import lint_spec
        >>> spec = {"name": "t", "states": ["a", {"name": "b", "type": "won"}, "c"],
        ...         "transitions": [{"trigger": "go", "source": "a", "dest": "b"}]}
        >>> for finding in lint_spec(spec):
        ...     print(finding.code, finding.path)
        unreachable_state states[2]
        dead_end states[2]

    .. versionadded:: 0.1
    """

    code: str
    message: str
    path: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message} [{self.code}]"


def _targets(lifecycle: Lifecycle, t: TransitionDef) -> list[str]:
    if t.internal:
        return []
    if t.to_last_open:
        return [s.name for s in lifecycle.stages if not s.closed]
    return [t.dest] if t.dest is not None else []


def _reachable(lifecycle: Lifecycle, targets: list[list[str]]) -> set[str]:
    """
    The states reachable from the initial one (a search over states and transitions).

    Each transition is a node between its sources and its targets, visited once, so the
    cost grows with the sum of sources and targets, not with their product (a
    ``"*"`` transition to the last open stage has every state on both sides).
    """
    leaving: dict[str, list[int]] = {s: [] for s in lifecycle.states}
    for i, t in enumerate(lifecycle.transitions):
        for src in t.source:
            leaving[src].append(i)
    seen = {lifecycle.initial}
    taken: set[int] = set()
    queue = deque([lifecycle.initial])
    while queue:
        for i in leaving[queue.popleft()]:
            if i in taken:
                continue
            taken.add(i)
            for nxt in targets[i]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    return seen


def _guard_key(t: TransitionDef) -> tuple[str, ...]:
    return tuple(g.name for g in t.conditions) + tuple(f"!{g.name}" for g in t.unless)


def lint_lifecycle(lifecycle: Lifecycle) -> tuple[LintFinding, ...]:  # noqa: C901 - a list of checks
    """Lint a built lifecycle (see :meth:`Lifecycle.lint`)."""
    out: list[LintFinding] = []
    state_names = frozenset(lifecycle.states)
    targets = [_targets(lifecycle, t) for t in lifecycle.transitions]  # once per transition
    reachable = _reachable(lifecycle, targets)
    exits: dict[str, int] = dict.fromkeys(lifecycle.states, 0)
    for t, dests in zip(lifecycle.transitions, targets, strict=True):
        landing = frozenset(dests)
        for src in t.source:
            exits[src] += len(dests) - (src in landing)
    for stage in lifecycle.stages:
        path = f"states[{stage.order}]"
        if stage.name not in reachable:
            out.append(
                LintFinding(
                    code="unreachable_state",
                    message=f"state {stage.name!r} cannot be reached from {lifecycle.initial!r}; "
                    "add a transition into it or remove it.",
                    path=path,
                )
            )
        if not stage.closed and exits[stage.name] == 0:
            out.append(
                LintFinding(
                    code="dead_end",
                    message=f"state {stage.name!r} (type {stage.type!r}) has no way out; add a "
                    "transition from it, or give it type 'won' or 'lost' if it is final.",
                    path=path,
                )
            )
    seen: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], int] = {}
    unguarded: dict[tuple[str, str], int] = {}
    fires: dict[str, bool] = {}
    for i, t in enumerate(lifecycle.transitions):
        path = f"transitions[{i}]"
        fires[t.trigger] = fires.get(t.trigger, False) or any(s in reachable for s in t.source)
        key = (t.trigger, t.dest or ("<last open>" if t.to_last_open else "<internal>"))
        for src in t.source:
            full = (*key, (src,), _guard_key(t))
            if full in seen:
                out.append(
                    LintFinding(
                        code="duplicate_transition",
                        message=f"{t.trigger!r} from {src!r} is already declared at "
                        f"transitions[{seen[full]}]; remove one.",
                        path=path,
                    )
                )
                continue
            seen[full] = i
            first = unguarded.get((src, t.trigger))
            if first is not None:
                out.append(
                    LintFinding(
                        code="shadowed_transition",
                        message=f"{t.trigger!r} from {src!r} can never take this transition: "
                        f"transitions[{first}] has no guard and is tried first; add a guard "
                        "there or reorder.",
                        path=path,
                    )
                )
            elif not (t.conditions or t.unless or t.to_last_open):
                unguarded[(src, t.trigger)] = i
        if t.trigger in state_names:
            out.append(
                LintFinding(
                    code="name_clash",
                    message=f"trigger {t.trigger!r} has the name of a state; rename one.",
                    path=f"{path}.trigger",
                )
            )
    out.extend(
        LintFinding(
            code="trigger_never_fires",
            message=f"trigger {trigger!r} only leaves unreachable states; it can never fire.",
            path="transitions",
        )
        for trigger, ok in fires.items()
        if not ok
    )
    out.extend(_probability_findings(lifecycle))
    return tuple(out)


def _probability_findings(lifecycle: Lifecycle) -> list[LintFinding]:
    out: list[LintFinding] = []
    previous: tuple[str, int] | None = None
    for stage in lifecycle.stages:
        path = f"states[{stage.order}].probability"
        if stage.probability is None:
            continue
        expected = {"won": 100, "lost": 0}.get(stage.type)
        if expected is not None and stage.probability != expected:
            out.append(
                LintFinding(
                    code="probability_closed",
                    message=f"{stage.type} stage {stage.name!r} has probability "
                    f"{stage.probability}; it is always {expected} once entered.",
                    path=path,
                )
            )
        if expected is None:
            if previous is not None and stage.probability < previous[1]:
                out.append(
                    LintFinding(
                        code="probability_order",
                        message=f"{stage.name!r} ({stage.probability}%) comes after "
                        f"{previous[0]!r} ({previous[1]}%); order the open stages by rising "
                        "probability.",
                        path=path,
                    )
                )
            previous = (stage.name, stage.probability)
    return out


def lint_spec(
    spec: Mapping[str, Any] | str, *, hooks: Mapping[str, Any] | None = None
) -> tuple[LintFinding, ...]:
    """
    Lint a spec (dict, JSON or YAML) without raising: load errors become findings.

    Args:
        spec: the lifecycle spec as plain data, or as JSON or YAML text.
        hooks: the hooks the spec's ``before``/``after`` names may refer to, besides the
            built-in ones: name → ``Hook`` or plain callable (``None``: built-ins only).

    Examples:
        >>> spec = {"name": "t", "states": ["a", "a"], "transitions": []}
        >>> [(f.code, f.severity) for f in lint_spec(spec)]
        [('duplicate_state', 'error')]
    """
    from crmlifecycle.stages._spec import from_spec, parse_spec_text

    if hooks is not None:
        check_arg("hooks", hooks, Mapping, "a mapping of hook names to Hooks, or None")
    out: list[LintFinding] = []
    try:
        data = parse_spec_text(spec) if isinstance(spec, str) else spec
    except SpecError as err:
        return (LintFinding(code="invalid", message=str(err), path=err.path, severity="error"),)
    states = data.get("states") if isinstance(data, Mapping) else None
    names: dict[str, int] = {}
    for i, raw in enumerate(states if isinstance(states, list) else []):
        name = raw.get("name") if isinstance(raw, Mapping) else raw
        if isinstance(name, str) and name in names:
            out.append(
                LintFinding(
                    code="duplicate_state",
                    message=f"state {name!r} is already declared at states[{names[name]}].",
                    path=f"states[{i}].name",
                    severity="error",
                )
            )
        elif isinstance(name, str):
            names[name] = i
    try:
        lifecycle = from_spec(data, hooks=hooks)
    except SpecError as err:
        if not any(f.path == err.path for f in out):
            out.append(
                LintFinding(code="invalid", message=err.reason, path=err.path, severity="error")
            )
        return tuple(out)
    return tuple(out) + lint_lifecycle(lifecycle)


def to_mermaid(lifecycle: Lifecycle) -> str:
    """Draw the lifecycle as a Mermaid ``stateDiagram-v2`` (see :meth:`Lifecycle.to_mermaid`)."""
    lines = ["stateDiagram-v2", f"    [*] --> {lifecycle.initial}"]
    outgoing: set[str] = set()
    for t in lifecycle.transitions:
        guarded = " [guarded]" if (t.conditions or t.unless) else ""
        label = t.trigger + (" (internal)" if t.internal else "") + guarded
        for src in t.source:
            for dest in _targets(lifecycle, t) or [src]:
                if t.to_last_open:
                    label = f"{t.trigger} [back to last open stage]"
                lines.append(f"    {src} --> {dest}: {label}")
                if dest != src:
                    outgoing.add(src)
    lines.extend(f"    {s} --> [*]" for s in lifecycle.states if s not in outgoing)
    lines.extend(f"    class {s.name} {s.type}" for s in lifecycle.stages if s.closed)
    lines.append("    classDef won fill:#d4edda")
    lines.append("    classDef lost fill:#f8d7da")
    return "\n".join(lines) + "\n"
