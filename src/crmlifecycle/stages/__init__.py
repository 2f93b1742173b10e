"""
Lifecycles: stage machines for customers, leads, opportunities and cases.

One :class:`Lifecycle` definition drives single-record steps (:meth:`Lifecycle.fire`),
bulk steps over DataFrames (:meth:`Lifecycle.fire_frame`), replay of event logs
(:meth:`Lifecycle.replay`, :meth:`Lifecycle.replay_frame`), specs
(:meth:`Lifecycle.from_spec`, :meth:`Lifecycle.to_spec`), linting and Mermaid
diagrams. Four standard lifecycles ship ready to use.

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

from crmlifecycle.stages._bulk import EVENT_COLUMNS, FrameStep, fire_frame
from crmlifecycle.stages._convert import Conversion, convert_lead
from crmlifecycle.stages._hooks import BUILTIN_HOOKS
from crmlifecycle.stages._lint import LINT_CODES, LintFinding, lint_spec
from crmlifecycle.stages._machine import Lifecycle
from crmlifecycle.stages._model import (
    FORECAST_CATEGORIES,
    STATUS_TYPES,
    Guard,
    Hook,
    Stage,
    Step,
    StepInfo,
    TransitionDef,
)
from crmlifecycle.stages._replay import replay_frame
from crmlifecycle.stages._standard import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    STANDARD_SPECS,
)

__all__ = [
    "BUILTIN_HOOKS",
    "CASE_STATUS",
    "CUSTOMER_LIFECYCLE",
    "EVENT_COLUMNS",
    "FORECAST_CATEGORIES",
    "LEAD_STATUS",
    "LINT_CODES",
    "OPPORTUNITY_PIPELINE",
    "STANDARD_SPECS",
    "STATUS_TYPES",
    "Conversion",
    "FrameStep",
    "Guard",
    "Hook",
    "Lifecycle",
    "LintFinding",
    "Stage",
    "Step",
    "StepInfo",
    "TransitionDef",
    "convert_lead",
    "fire_frame",
    "lint_spec",
    "replay_frame",
]
