"""
The protocols extension authors implement, and type aliases for hosts' type hints.

A scorer plugin implements :class:`Scorer`; a KPI plugin implements
:class:`Metric`. Both are ``@runtime_checkable`` protocols, so
``isinstance(obj, Scorer)`` checks the shape of a candidate. :data:`Instant` is
the type of every argument that takes a moment in time (``as_of``, ``start``,
``end``).

Examples:
    >>> from crmlifecycle.typing import Metric, Scorer
    >>> from crmlifecycle.scoring import RfmScorer
    >>> isinstance(RfmScorer(), Scorer)
    True
"""

from __future__ import annotations

from crmlifecycle._types import Instant
from crmlifecycle.events import Event
from crmlifecycle.metrics import Metric
from crmlifecycle.scoring import Contribution, ScoreCard, Scorer

__all__ = ["Contribution", "Event", "Instant", "Metric", "ScoreCard", "Scorer"]
