"""
The protocols extension authors implement, and type aliases for hosts' type hints.

A scorer plugin implements :class:`Scorer`; a KPI plugin implements
:class:`Metric`. Both are ``@runtime_checkable`` protocols, so
``isinstance(obj, Scorer)`` checks the shape of a candidate.

Examples:
    >>> from crmlifecycle.typing import Metric, Scorer
    >>> from crmlifecycle.scoring import RfmScorer
    >>> isinstance(RfmScorer(), Scorer)
    True
"""

from __future__ import annotations

from crmlifecycle.events import Event
from crmlifecycle.metrics._protocol import Metric
from crmlifecycle.scoring._protocol import Contribution, ScoreCard, Scorer

#: The name the style guide uses for the scorer protocol; the same class.
LeadScorer = Scorer

__all__ = ["Contribution", "Event", "LeadScorer", "Metric", "ScoreCard", "Scorer"]
