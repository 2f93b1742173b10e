"""
Automation rules: ``when`` an event, ``if`` a condition, ``then`` actions.

Ordering and conflicts (the documented rule):

1. Rules are tried in order of descending ``priority``; ties keep document order.
2. A rule *matches* an event when its ``when`` pattern matches the event's
   lifecycle ``kind``, ``trigger``, ``source`` and ``dest`` (a missing key matches
   anything) and its ``if`` condition is true on the entity's fields plus
   ``event.*`` (a missing ``if`` is always true).
3. A matching rule with ``stop: true`` ends the processing of that event.
4. Conflicts: only the first ``fire`` action survives (an entity takes one step
   per event) and only the first ``set`` of each field (the higher-priority rule
   wins); every ``task`` and ``notify`` is kept. Actions come back in rule order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, final

import attrs
import pandas as pd

from crmlifecycle._config import check_keys, load_text
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_items, check_names, instance_of, non_empty_str, optional
from crmlifecycle.errors import CrmError, SpecError, ValidationError, did_you_mean, short_repr
from crmlifecycle.rules._actions import (
    Action,
    ActionSpec,
    parse_action,
    text_at,
)
from crmlifecycle.rules._check import schema_from
from crmlifecycle.rules._condition import Condition, evaluation_time
from crmlifecycle.rules._nodes import ValueType
from crmlifecycle.rules._record import entity_fields
from crmlifecycle.schema import EntityColumns, EventLogColumns

__all__ = ["EVENT_FIELDS", "EventPattern", "Rule", "RuleSet", "event_mapping"]

#: The fields of an event, readable in conditions as ``event.<name>``.
EVENT_FIELDS: Final = ("kind", "entity_id", "trigger", "source", "dest", "at", "context")
_PATTERN_KEYS: Final = ("kind", "trigger", "source", "dest")
_EVENT_SCHEMA: Final = {
    "kind": ValueType.STRING,
    "entity_id": ValueType.STRING,
    "trigger": ValueType.STRING,
    "source": ValueType.STRING,
    "dest": ValueType.STRING,
    "at": ValueType.DATETIME,
    "context": ValueType.ANY,
}


def _names(value: object, path: str) -> frozenset[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, Sequence)
        or not items
        or not all(isinstance(v, str) and v for v in items)
    ):
        raise SpecError(
            f"must be a name or a non-empty list of names (got {short_repr(value)}).", path=path
        )
    return frozenset(items)


def _name_set(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """A pattern field: ``None`` or a frozenset of names (non-empty text)."""
    if value is None:
        return
    if not isinstance(value, frozenset):
        raise ValidationError.for_field(
            attr.name,
            value,
            "None or a frozenset of names",
            hint=f"pass e.g. {attr.name}=frozenset({{'contacted'}}).",
        )
    check_names(attr.name, sorted(value, key=repr))


def _action_specs(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """A rule's ``actions``: a tuple of action specs."""
    check_items(attr.name, value, ActionSpec, "an ActionSpec (a parsed 'then' action)")


@final
@attrs.frozen(kw_only=True)
class EventPattern:
    """
    Which events a rule reacts to; ``None`` matches anything.

    Attributes:
        kind: the lifecycle kinds (``"lead"``...) whose events match.
        trigger: the triggers whose events match.
        source: the states the entity left that match.
        dest: the states the entity entered that match.

    Examples:
        >>> pattern = EventPattern(kind=frozenset({"lead"}), dest=frozenset({"contacted"}))
        >>> pattern.matches({"kind": "lead", "trigger": "contact", "dest": "contacted"})
        True
    """

    kind: frozenset[str] | None = attrs.field(default=None, validator=_name_set)
    trigger: frozenset[str] | None = attrs.field(default=None, validator=_name_set)
    source: frozenset[str] | None = attrs.field(default=None, validator=_name_set)
    dest: frozenset[str] | None = attrs.field(default=None, validator=_name_set)

    def matches(self, event: Mapping[str, Any]) -> bool:
        """
        Whether the event (a mapping with the event fields) matches.

        Args:
            event: the event's fields; a key that is absent counts as ``None``, which matches
                only an unrestricted field.
        """
        for key in _PATTERN_KEYS:
            wanted = getattr(self, key)
            if wanted is not None and event.get(key) not in wanted:
                return False
        return True


@final
@attrs.frozen(kw_only=True)
class Rule:
    """
    One automation rule (see the module documentation for ordering and conflicts).

    Attributes:
        name: the rule's name, unique in its rule set (actions carry it).
        when: the events it reacts to.
        condition: the ``if`` condition on the entity and ``event.*`` fields
            (``None``: always true).
        actions: the ``then`` actions, in order.
        priority: rules are tried in descending priority (ties in document order).
        stop: whether a match ends the processing of the event.
    """

    name: str = attrs.field(validator=non_empty_str())
    when: EventPattern = attrs.field(validator=instance_of(EventPattern, "an EventPattern"))
    condition: Condition | None = attrs.field(
        validator=optional(instance_of(Condition, "a Condition or None"))
    )
    actions: tuple[ActionSpec, ...] = attrs.field(validator=_action_specs)
    priority: int = attrs.field(default=0, validator=instance_of(int, "a whole number"))
    stop: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))


def event_mapping(event: object) -> dict[str, Any]:
    """
    Read an event (``Transitioned`` or a mapping) into a plain dict of its fields.

    Raises:
        SpecError: when a required field (kind, entity_id, at) is absent.
    """
    if isinstance(event, Mapping):
        data = {key: event.get(key) for key in EVENT_FIELDS}
    else:
        data = {key: getattr(event, key, None) for key in EVENT_FIELDS}
    for key in ("kind", "entity_id", "at"):
        if data[key] is None:
            raise SpecError(
                f"the event has no {key!r}. Hint: pass a Transitioned event or a mapping "
                f"with {', '.join(EVENT_FIELDS)}.",
                path=f"event.{key}",
            )
    return data


def _entity_mapping(entity: object) -> dict[str, Any]:
    if entity is None:
        return {}
    if isinstance(entity, Mapping):
        return dict(entity)
    if attrs.has(type(entity)):
        return {name: getattr(entity, name) for name in entity_fields(type(entity))}
    raise SpecError(
        f"cannot read a {type(entity).__name__} as an entity. "
        "Hint: pass an attrs entity or a mapping.",
        path="entity",
    )


@final
class RuleSet:
    """
    An ordered set of automation rules, loaded from a plain document.

    Args:
        rules: the rules; kept in descending ``priority``, ties in the given order.

    Examples:
        >>> from datetime import datetime, timezone
        >>> rules = RuleSet.from_dict({"rules": [{
        ...     "name": "hot-lead",
        ...     "when": {"kind": "lead", "dest": "contacted"},
        ...     "if": "score >= 70",
        ...     "then": [{"fire": "qualify"},
        ...              {"task": {"title": "Call back", "due": "days(2)"}}],
        ... }]})
        >>> event = {"kind": "lead", "entity_id": "L-1", "trigger": "contact",
        ...          "source": "open", "dest": "contacted",
        ...          "at": datetime(2026, 3, 1, tzinfo=timezone.utc)}
        >>> [a.action for a in rules.evaluate(event, {"score": 80})]
        ['fire', 'task']
        >>> RuleSet.from_dict({"rules": [{"name": "x", "if": "scroe > 1", "then": []}]},
        ...                   schema={"score": float})
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.SpecError: rules[0].if: unknown field 'scroe' (did you mean ...

    .. versionadded:: 0.1
    """

    __slots__ = ("rules",)

    def __init__(self, rules: Sequence[Rule]) -> None:
        rules = check_items(
            "rules",
            rules,
            Rule,
            "a Rule",
            hint="build a rule set from its document with RuleSet.from_dict or from_text.",
        )
        order = sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i))
        self.rules: tuple[Rule, ...] = tuple(rules[i] for i in order)

    # -- configuration ----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        schema: object = None,
        schemas: Mapping[str, object] | None = None,
    ) -> RuleSet:
        """
        Load rules from plain data ``{"rules": [...]}`` (a parsed document).

        Args:
            data: the rule document (see ``docs/rules.md`` for its format).
            schema: a schema every ``if`` is bound to (entity class or field mapping);
                ``event.*`` fields are added to it. A ``set`` action must name one of its
                fields (or, when it has a ``custom`` field, a custom field).
            schemas: schemas by lifecycle kind, used for rules whose ``when.kind``
                names one kind.

        Raises:
            SpecError: naming the path of the problem, e.g. ``rules[3].if``; a ``set``
                action naming no field (``__class__``, ``_x``, ``a.b``, an edit argument
                such as ``at``) or, with a schema, a field the schema does not have
                (``rules[0].then[1].set.field``).
        """
        document = check_keys(data, required=("rules",), optional=("version",))
        entries = document["rules"]
        if not isinstance(entries, Sequence) or isinstance(entries, str):
            raise SpecError("must be a list of rules.", path="rules")
        rules = [
            _parse_rule(entry, f"rules[{i}]", schema, schemas) for i, entry in enumerate(entries)
        ]
        names = [r.name for r in rules]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise SpecError(
                    f"duplicate rule name {short_repr(name)}.", path=f"rules[{index}].name"
                )
        return cls(rules)

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        schema: object = None,
        schemas: Mapping[str, object] | None = None,
    ) -> RuleSet:
        r"""
        Load rules from JSON or YAML text (see :meth:`from_dict` for the options).

        YAML needs the ``yaml`` extra (``pip install crmlifecycle[yaml]``).

        Args:
            text: the rule document as JSON or YAML text.
            schema: a schema every ``if`` is bound to (entity class or field mapping).
            schemas: schemas by lifecycle kind, used for rules whose ``when.kind``
                names one kind.

        Examples:
            >>> RuleSet.from_text('{"rules": []}').rules
            ()
            >>> RuleSet.from_text("rules:\n  - name: hot\n    then: [{fire: qualify}]")
            RuleSet(['hot'])
        """
        document = load_text(text, what="a rule set")
        return cls.from_dict(document, schema=schema, schemas=schemas)

    def to_dict(self) -> dict[str, Any]:
        """
        Return the rules as plain data that :meth:`from_dict` reads back to an equal rule set.

        Rules come in evaluation order (descending priority); a bound schema is
        not part of the data (pass it again to :meth:`from_dict`).

        Examples:
            >>> rules = RuleSet.from_dict({"rules": [{"name": "hot", "if": "score >= 70",
            ...     "when": {"kind": "lead"}, "then": [{"fire": "qualify"}]}]})
            >>> rules.to_dict()["rules"][0]["when"], rules.to_dict()["rules"][0]["then"]
            ({'kind': 'lead'}, [{'fire': 'qualify'}])
            >>> RuleSet.from_dict(rules.to_dict()) == rules
            True
        """
        return {"rules": [_rule_entry(rule) for rule in self.rules]}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleSet):
            return NotImplemented
        return self.rules == other.rules

    def __hash__(self) -> int:
        return hash(self.rules)

    # -- evaluation -------------------------------------------------------------------
    def evaluate(
        self, event: object, entity: object = None, *, as_of: Instant | None = None
    ) -> list[Action]:
        """
        Return the actions the rules produce for one event on one entity.

        Args:
            event: a ``Transitioned`` event or a mapping with its fields.
            entity: the entity after the event (attrs entity or mapping), or ``None``.
            as_of: the moment the conditions look from and task due dates count from
                (default: the event's ``at``, the moment the step happened).

        Raises:
            SpecError: the event lacks kind, entity_id or at.
            UnknownFieldError / RuleTypeError: a condition does not fit the entity.
            ValidationError: ``as_of`` is not a moment.
        """
        data = event_mapping(event)
        moment = evaluation_time(as_of if as_of is not None else data["at"])
        record = _entity_mapping(entity)
        record["event"] = data
        fired = False
        assigned: set[str] = set()
        actions: list[Action] = []
        for rule in self.rules:
            if not rule.when.matches(data):
                continue
            if rule.condition is not None and not rule.condition.evaluate(record, as_of=moment):
                continue
            for spec in rule.actions:
                if spec.kind == "fire":
                    if fired:
                        continue
                    fired = True
                elif spec.kind == "set":
                    if spec.field in assigned:
                        continue
                    assigned.add(spec.field)
                actions.append(spec.build(rule.name, str(data["entity_id"]), moment))
            if rule.stop:
                break
        return actions

    def evaluate_frame(
        self,
        events: pd.DataFrame,
        entities: pd.DataFrame | None = None,
        *,
        events_columns: EventLogColumns = EventLogColumns(),
        entities_columns: EntityColumns = EntityColumns(),
        as_of: Instant | None = None,
    ) -> pd.DataFrame:
        """
        Evaluate over a frame of events (and entities); return the actions as a frame.

        The frame form of :meth:`evaluate`, with the same ordering and conflict rule.

        Args:
            events: an event log (see :class:`~crmlifecycle.schema.EventLogColumns`):
                ``kind``, ``entity_id`` and ``at``, plus the pattern columns the rules
                use (``trigger``, ``source``, ``dest``); conditions read every column
                as ``event.<contract name>``.
            entities: optional entity rows, one per id; an event whose entity is
                absent sees missing entity fields.
            events_columns: which columns of ``events`` hold the event log's fields.
            entities_columns: which column of ``entities`` holds the entity id.
            as_of: one moment for every event, that conditions look from and task due
                dates count from (default: each event's ``at``).

        Returns:
            A frame with the columns of :data:`ACTION_COLUMNS`; ``event`` is the label
            of the event's row in ``events``. Rows come in event order, then rule order.

        Examples:
            >>> import pandas as pd
            >>> from datetime import datetime, timezone
            >>> rules = RuleSet.from_dict({"rules": [{"name": "hot", "when": {"kind": "lead"},
            ...     "if": "score >= 70", "then": [{"fire": "qualify"}]}]})
            >>> events = pd.DataFrame({"kind": ["lead", "lead"], "entity_id": ["L-1", "L-2"],
            ...     "trigger": ["contact"] * 2, "source": ["open"] * 2, "dest": ["contacted"] * 2,
            ...     "at": pd.to_datetime(["2026-03-01", "2026-03-02"], utc=True)})
            >>> leads = pd.DataFrame({"lead_id": ["L-1", "L-2"], "score": [90, 10]})
            >>> rules.evaluate_frame(events, leads)[["entity_id", "action", "trigger"]]
              entity_id action  trigger
            0       L-1   fire  qualify
        """
        from crmlifecycle.rules._ruleset_frame import evaluate_frame

        return evaluate_frame(
            self,
            events,
            entities,
            events_columns=events_columns,
            entities_columns=entities_columns,
            as_of=as_of,
        )

    def __repr__(self) -> str:
        return f"RuleSet({[r.name for r in self.rules]!r})"


def _schema_of(rule_kinds: frozenset[str] | None, schema: object, schemas: object) -> object:
    """The schema a rule is checked against: its one kind's in ``schemas``, else ``schema``."""
    if isinstance(schemas, Mapping) and rule_kinds is not None and len(rule_kinds) == 1:
        return schemas.get(next(iter(rule_kinds)), schema)
    return schema


def _bind(condition: Condition, chosen: object) -> Condition:
    if chosen is None:
        return condition
    resolved = dict(schema_from(chosen))
    resolved.setdefault("event", _EVENT_SCHEMA)
    return condition.bind(resolved)


def _check_set_fields(actions: Sequence[ActionSpec], chosen: object, path: str) -> None:
    """
    Refuse a ``set`` of a field the rule's schema does not have.

    A schema with a ``custom`` field (an entity class such as ``Lead``) lets a set name
    a custom field too: its lifecycle declares those, and its edit checks them when the
    action is applied.
    """
    if chosen is None:
        return
    fields = schema_from(chosen)
    for i, spec in enumerate(actions):
        if spec.kind == "set" and spec.field not in fields and "custom" not in fields:
            raise SpecError(
                f"a set action's field must be a field of the schema, got {spec.field!r}"
                f"{did_you_mean(spec.field, list(fields))}. Hint: set one of {sorted(fields)}.",
                path=f"{path}.then[{i}].set.field",
            )


def _names_entry(names: frozenset[str]) -> str | list[str]:
    ordered = sorted(names)
    return ordered[0] if len(ordered) == 1 else ordered


def _rule_entry(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": rule.name}
    when = {
        key: _names_entry(names)
        for key in _PATTERN_KEYS
        if (names := getattr(rule.when, key)) is not None
    }
    if when:
        entry["when"] = when
    if rule.condition is not None:
        entry["if"] = rule.condition.text
    entry["then"] = [spec.to_dict() for spec in rule.actions]
    if rule.priority:
        entry["priority"] = rule.priority
    if rule.stop:
        entry["stop"] = True
    return entry


def _parse_rule(entry: object, path: str, schema: object, schemas: object) -> Rule:
    entry = check_keys(
        entry, required=("name", "then"), optional=("when", "if", "priority", "stop"), path=path
    )
    name = text_at(entry, "name", path)
    when_doc = check_keys(entry.get("when") or {}, optional=_PATTERN_KEYS, path=f"{path}.when")
    when = EventPattern(**{k: _names(when_doc.get(k), f"{path}.when.{k}") for k in _PATTERN_KEYS})
    condition = None
    chosen = _schema_of(when.kind, schema, schemas)
    if entry.get("if") is not None:
        try:
            condition = _bind(Condition.parse(entry["if"]), chosen)
        except CrmError as err:
            raise SpecError(str(err), path=f"{path}.if") from None
    then = entry["then"]
    if not isinstance(then, Sequence) or isinstance(then, str):
        raise SpecError("must be a list of actions.", path=f"{path}.then")
    actions = tuple(parse_action(a, f"{path}.then[{i}]") for i, a in enumerate(then))
    _check_set_fields(actions, chosen, path)
    priority = entry.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise SpecError(
            f"must be a whole number (got {short_repr(priority)}).", path=f"{path}.priority"
        )
    stop = entry.get("stop", False)
    if not isinstance(stop, bool):
        raise SpecError(f"must be true or false (got {short_repr(stop)}).", path=f"{path}.stop")
    return Rule(
        name=name, when=when, condition=condition, actions=actions, priority=priority, stop=stop
    )
