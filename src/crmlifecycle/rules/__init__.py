"""
The safe rule language and automation rules.

A :class:`Condition` is parsed once from text, checked against a schema, and
evaluated either on one record (a mapping or an entity) or on a whole DataFrame,
with the same answer. Nothing in a condition can run code, and nothing in it
reads a clock: a condition that uses the time (``now()``, ``days_since(...)``)
is evaluated ``as_of`` a moment the caller gives. A :class:`RuleSet`
of automation rules (``when`` an event, ``if`` a condition, ``then`` actions) is
loaded from a dict, JSON or YAML and *returns* the actions; the host carries
out ``fire`` and ``set`` through the record's lifecycle (:func:`apply_actions`,
which records them as events) and performs tasks and notifications itself.

Examples:
    >>> from crmlifecycle.rules import Condition
    >>> Condition.parse("score >= 70 and state == 'contacted'").evaluate(
    ...     {"score": 75, "state": "contacted"})
    True
"""

from __future__ import annotations

from crmlifecycle.rules._actions import Action, CreateTask, FireTrigger, Notify, SetField
from crmlifecycle.rules._apply import AppliedActions, LifecycleLike, apply_actions
from crmlifecycle.rules._condition import Condition
from crmlifecycle.rules._nodes import LIMITS, Limits
from crmlifecycle.rules._ruleset import EVENT_FIELDS, EventPattern, Rule, RuleSet
from crmlifecycle.rules._ruleset_frame import ACTION_COLUMNS

__all__ = [
    "ACTION_COLUMNS",
    "EVENT_FIELDS",
    "LIMITS",
    "Action",
    "AppliedActions",
    "Condition",
    "CreateTask",
    "EventPattern",
    "FireTrigger",
    "LifecycleLike",
    "Limits",
    "Notify",
    "Rule",
    "RuleSet",
    "SetField",
    "apply_actions",
]
