"""
Lifecycle specs: load a lifecycle from a dict, JSON or YAML, and write one back.

A spec is untrusted configuration. It is parsed into our own records; guards are
rule-language conditions (parsed by :mod:`crmlifecycle.rules`, never evaluated as
Python), hooks are names looked up in an allowlist registered in code, and no
string from a spec ever reaches ``transitions`` (which would resolve an unknown
callback name as a dotted import path).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from crmlifecycle._config import check_keys, load_text
from crmlifecycle.errors import RuleError, SpecError, ValidationError, did_you_mean
from crmlifecycle.stages._definition import Guard, Hook, Stage, TransitionDef
from crmlifecycle.stages._fields import fields_from_spec, fields_to_spec
from crmlifecycle.stages._hooks import BUILTIN_HOOKS

if TYPE_CHECKING:
    from crmlifecycle.stages._lifecycle import Lifecycle

__all__ = ["from_spec", "parse_spec_text", "to_spec"]

_TOP_KEYS: Final = ("fields", "initial", "kind", "name", "states", "transitions", "version")
_STATE_KEYS: Final = ("description", "forecast", "name", "probability", "type")
_TRANSITION_KEYS: Final = (
    "after",
    "before",
    "dest",
    "internal",
    "source",
    "to_last_open",
    "trigger",
    "unless",
    "when",
)
_TRANSITIONS_LIBRARY_KEYS: Final = ("conditions", "prepare")


def parse_spec_text(text: str) -> Any:
    """Parse JSON or YAML spec text (YAML needs the ``yaml`` extra) with the library's loader."""
    return load_text(text, what="a lifecycle spec")


def _check_keys(
    data: object, path: str, *, required: Sequence[str] = (), optional: Sequence[str] = ()
) -> Mapping[str, Any]:
    """The library's key check, plus a clear refusal of keys that would name Python callables."""
    if isinstance(data, Mapping):
        for key in data:
            if key in _TRANSITIONS_LIBRARY_KEYS:
                raise SpecError(
                    f"{key!r} is not supported in specs (it would name Python callables). "
                    "Hint: write guards as rule-language conditions under 'when'/'unless'.",
                    path=f"{path}.{key}" if path else str(key),
                )
    return check_keys(data, required=required, optional=optional, path=path)


def _names(value: object, path: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise SpecError(
            f'expected a string or a list of strings (got {value!r}). Hint: write "a" or '
            '["a", "b"].',
            path=path,
        )
    return list(items)


def _stage(raw: object, index: int) -> Stage:
    path = f"states[{index}]"
    if isinstance(raw, str):
        return Stage(name=raw, order=index)
    if not isinstance(raw, Mapping):
        raise SpecError(
            f"a state must be a name or a mapping (got {raw!r}). Hint: {{name: open}}.", path=path
        )
    _check_keys(raw, path, required=("name",), optional=_STATE_KEYS)
    for key in ("type", "forecast", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise SpecError(f"expected a string (got {raw[key]!r}).", path=f"{path}.{key}")
    try:
        return Stage(
            name=raw["name"],
            order=index,
            type=raw.get("type", "ongoing"),
            probability=raw.get("probability"),
            forecast=raw.get("forecast"),
            description=raw.get("description"),
        )
    except ValidationError as err:  # a value of the wrong type: the spec's path names it
        raise SpecError(str(err), path=f"{path}.{err.field}") from err


def _guards(raw: Mapping[str, Any], key: str, path: str) -> tuple[Guard, ...]:
    if key not in raw:
        return ()
    out = []
    for i, text in enumerate(_names(raw[key], f"{path}.{key}")):
        where = f"{path}.{key}[{i}]"
        try:
            out.append(Guard.when(text, path=where))
        except RuleError as err:
            raise SpecError(f"invalid condition: {err}", path=where) from err
    return tuple(out)


def _hooks(
    raw: Mapping[str, Any], key: str, path: str, registry: Mapping[str, Hook]
) -> tuple[Hook, ...]:
    if key not in raw:
        return ()
    out = []
    for i, name in enumerate(_names(raw[key], f"{path}.{key}")):
        hook = registry.get(name)
        if hook is None:
            raise SpecError(
                f"unknown hook {name!r}{did_you_mean(name, registry)}. Hint: hooks are looked up "
                f"by name among those registered in code ({sorted(registry)}); pass "
                "hooks={'name': Hook.of(func)} to Lifecycle.from_dict.",
                path=f"{path}.{key}[{i}]",
            )
        out.append(hook)
    return tuple(out)


def _transition(
    raw: object, index: int, states: Sequence[str], registry: Mapping[str, Hook]
) -> TransitionDef:
    path = f"transitions[{index}]"
    raw = _check_keys(raw, path, required=("trigger", "source"), optional=_TRANSITION_KEYS)
    if not isinstance(raw["trigger"], str):
        raise SpecError(f"expected a string (got {raw['trigger']!r}).", path=f"{path}.trigger")
    source = raw["source"]
    sources = list(states) if source == "*" else _names(source, f"{path}.source")
    dest = raw.get("dest")
    if dest is not None and not isinstance(dest, str):
        raise SpecError(f"expected a state name (got {dest!r}).", path=f"{path}.dest")
    flags = {}
    for key in ("internal", "to_last_open"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise SpecError(f"expected true or false (got {value!r}).", path=f"{path}.{key}")
        flags[key] = value
    return TransitionDef(
        trigger=raw["trigger"],
        source=tuple(sources),
        dest=dest,
        conditions=_guards(raw, "when", path),
        unless=_guards(raw, "unless", path),
        before=_hooks(raw, "before", path, registry),
        after=_hooks(raw, "after", path, registry),
        internal=flags["internal"],
        to_last_open=flags["to_last_open"],
    )


def _registry(hooks: Mapping[str, Hook | Callable[..., Any]] | None) -> dict[str, Hook]:
    registry: dict[str, Hook] = dict(BUILTIN_HOOKS)
    for name, hook in (hooks or {}).items():
        if isinstance(hook, Hook):
            registry[name] = hook
        elif callable(hook):
            registry[name] = Hook.of(hook, name=name)
        else:
            raise SpecError(
                f"hook {name!r} must be a Hook or a callable (got {hook!r}).", path="hooks"
            )
    return registry


def from_spec(
    spec: Mapping[str, Any] | str,
    *,
    hooks: Mapping[str, Hook | Callable[..., Any]] | None = None,
) -> Lifecycle:
    """
    Build a :class:`~crmlifecycle.stages.Lifecycle` from a spec dict, JSON or YAML text.

    Raises:
        SpecError: the spec is malformed; ``path`` names the place (``transitions[2].dest``).

    Examples:
        >>> from crmlifecycle.stages import Lifecycle
        >>> Lifecycle.from_text('{"name": "t", "states": ["a"], "transitions": [], "colour": 1}')
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: colour: unknown key 'colour'...
    """
    from crmlifecycle.stages._lifecycle import Lifecycle

    parsed = parse_spec_text(spec) if isinstance(spec, str) else spec
    data = _check_keys(parsed, "", required=("name", "states"), optional=_TOP_KEYS)
    raw_states = data["states"]
    if not isinstance(raw_states, list):
        raise SpecError("states must be a list. Hint: - name: open", path="states")
    stages = [_stage(raw, i) for i, raw in enumerate(raw_states)]
    raw_transitions = data.get("transitions", [])
    if not isinstance(raw_transitions, list):
        raise SpecError("transitions must be a list.", path="transitions")
    registry = _registry(hooks)
    names = [s.name for s in stages]
    transitions = [_transition(raw, i, names, registry) for i, raw in enumerate(raw_transitions)]
    return Lifecycle(
        data["name"],
        stages,
        transitions,
        initial=data.get("initial"),
        kind=data.get("kind"),
        fields=fields_from_spec(data["fields"]) if "fields" in data else (),
    )


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _guard_texts(guards: Sequence[Guard], path: str, *, strict: bool = True) -> list[str]:
    texts = []
    for guard in guards:
        if guard.condition is None and not strict:
            texts.append(f"python:{guard.name}")
        elif guard.condition is None:
            raise SpecError(
                f"guard {guard.name!r} is a Python callable and cannot be written to a spec. "
                "Hint: express it as a rule-language condition (Guard.when(...)).",
                path=path,
            )
        texts.append(guard.name)
    return texts


def _state_entry(stage: Stage) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": stage.name, "type": stage.type}
    for key in ("probability", "forecast", "description"):
        value = getattr(stage, key)
        if value is not None:
            entry[key] = value
    return entry


def _transition_entry(t: TransitionDef, path: str, *, strict: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {"trigger": t.trigger, "source": _one_or_many(t.source)}
    if t.dest is not None:
        entry["dest"] = t.dest
    if t.internal:
        entry["internal"] = True
    if t.to_last_open:
        entry["to_last_open"] = True
    for key, guards in (("when", t.conditions), ("unless", t.unless)):
        if guards:
            entry[key] = _one_or_many(_guard_texts(guards, f"{path}.{key}", strict=strict))
    for key, hooks in (("before", t.before), ("after", t.after)):
        if hooks:
            entry[key] = _one_or_many([h.name for h in hooks])
    return entry


def spec_version(lifecycle: Lifecycle) -> str:
    """
    Return the lifecycle's version: the first 16 hex digits of the SHA-256 of its spec.

    The spec is written as canonical JSON (sorted keys, no spaces); a guard that is
    a Python callable is written as ``python:<name>``, so a changed callable with
    the same name keeps the version (name it anew when its meaning changes).
    """
    spec = to_spec(lifecycle, strict=False)
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def to_spec(lifecycle: Lifecycle, *, strict: bool = True) -> dict[str, Any]:
    """Write a lifecycle as a spec dict (see :meth:`Lifecycle.to_dict`)."""
    out: dict[str, Any] = {"name": lifecycle.name}
    if lifecycle.kind != lifecycle.name:
        out["kind"] = lifecycle.kind
    out["initial"] = lifecycle.initial
    out["states"] = [_state_entry(s) for s in lifecycle.stages]
    out["transitions"] = [
        _transition_entry(t, f"transitions[{i}]", strict=strict)
        for i, t in enumerate(lifecycle.transitions)
    ]
    if lifecycle.fields:
        out["fields"] = fields_to_spec(lifecycle.fields)
    return out
