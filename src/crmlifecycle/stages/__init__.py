"""
Lifecycles: stage machines for customers, leads, opportunities and cases.

One :class:`Lifecycle` definition drives single-record steps (:meth:`Lifecycle.fire`),
bulk steps over DataFrames (:meth:`Lifecycle.fire_frame`), replay of event logs
(:meth:`Lifecycle.replay`, :meth:`Lifecycle.replay_frame`), configuration
(:meth:`Lifecycle.from_dict`, :meth:`Lifecycle.from_text`, :meth:`Lifecycle.to_dict`),
linting and Mermaid diagrams. Four standard lifecycles ship ready to use.

The modules are grouped by concept: the definition (``_definition``: stages,
guards, hooks, transitions; ``_compile``: checks and the step table), the
lifecycle and its single step (``_lifecycle``, ``_step``), the frame paths
(``_frame_step``, ``_frame_replay``, ``_frame_tables``, ``_frame_effects``), event
lists to event-log frames and back (``_event_log``), and
configuration, linting and the standard lifecycles (``_spec``, ``_hooks``,
``_lint``, ``_standard``), plus lead conversion (``_convert``).

Examples:
    >>> from datetime import datetime, timezone
    >>> from crmlifecycle import Customer
    >>> from crmlifecycle.stages import CUSTOMER_LIFECYCLE as LIFE
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> k = Customer(id="K-1", created_at=t0)
    >>> for trigger in ("acquire", "convert", "retain", "churn"):
    ...     k = LIFE.fire(k, trigger, at=t0).entity
    >>> k.state, k.highest_state
    ('churned', 'retention')
"""

from __future__ import annotations

from crmlifecycle.stages._convert import Conversion, convert_lead
from crmlifecycle.stages._definition import (
    FORECAST_CATEGORIES,
    STATUS_TYPES,
    Guard,
    Hook,
    Stage,
    StepInfo,
    TransitionDef,
)
from crmlifecycle.stages._event_log import events_from_frame, events_to_frame
from crmlifecycle.stages._fields import CustomField
from crmlifecycle.stages._frame_replay import replay_frame
from crmlifecycle.stages._frame_step import FrameStep, StepFrameColumns, fire_frame
from crmlifecycle.stages._hooks import BUILTIN_HOOKS
from crmlifecycle.stages._lifecycle import Lifecycle
from crmlifecycle.stages._lint import LINT_CODES, LintFinding, lint_spec
from crmlifecycle.stages._records import Merge
from crmlifecycle.stages._standard import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STANDARD_SPECS,
)
from crmlifecycle.stages._step import Edit, Step

__all__ = [
    "BUILTIN_HOOKS",
    "CASE_STATUS",
    "CUSTOMER_LIFECYCLE",
    "FORECAST_CATEGORIES",
    "LEAD_STATUS",
    "LINT_CODES",
    "OPPORTUNITY_PIPELINE",
    "STANDARD_SPECS",
    "STATUS_TYPES",
    "Conversion",
    "CustomField",
    "Edit",
    "FrameStep",
    "Guard",
    "Hook",
    "Lifecycle",
    "LintFinding",
    "Merge",
    "Stage",
    "Step",
    "StepFrameColumns",
    "StepInfo",
    "TransitionDef",
    "convert_lead",
    "events_from_frame",
    "events_to_frame",
    "fire_frame",
    "lint_spec",
    "replay_frame",
]
