"""
Scorers: points, RFM and predictive lead scoring, and the scorer registry.

Every scorer scores one record into an explained :class:`ScoreCard` and a whole
frame at once. Each scorer class reads and writes its configuration as plain
data (``from_dict``, ``from_text`` for JSON or YAML, ``to_dict``);
:func:`build_scorer` builds whichever scorer a configuration names, from the
registry of scorer classes (:func:`get_scorer`, :func:`register_scorer`), which
other packages extend through the ``crmlifecycle.scorers`` entry points.

Scorers score *as of* a moment the caller gives (``as_of=``; no scorer reads a
clock), every fit takes its cut-off as ``as_of`` too, and a frame's columns are
named by one column-spec record (``orders_columns=OrderColumns()``, ...).

Examples:
    >>> from crmlifecycle.scoring import available_scorers, build_scorer
    >>> available_scorers()[:3]
    ['points', 'rfm', 'naive_bayes']
    >>> build_scorer({"scorer": "points",
    ...               "fit": [{"when": "company_size >= 200", "points": 20}]}).name
    'points'
"""

from __future__ import annotations

from crmlifecycle.scoring._columns import OutcomeColumns
from crmlifecycle.scoring._evaluation import Evaluation, brier_score, calibration_table, roc_auc
from crmlifecycle.scoring._explain import explain_frame
from crmlifecycle.scoring._points import ENGAGEMENT_PREFIX, PointsScorer
from crmlifecycle.scoring._predictive import MISSING, NaiveBayesScorer
from crmlifecycle.scoring._protocol import CONTRIB_PREFIX, Contribution, ScoreCard, Scorer
from crmlifecycle.scoring._registry import (
    ENTRY_POINT_GROUP,
    available_scorers,
    build_scorer,
    get_scorer,
    register_scorer,
)
from crmlifecycle.scoring._rfm import DEFAULT_RFM_SEGMENTS, RfmScorer

__all__ = [
    "CONTRIB_PREFIX",
    "DEFAULT_RFM_SEGMENTS",
    "ENGAGEMENT_PREFIX",
    "ENTRY_POINT_GROUP",
    "MISSING",
    "Contribution",
    "Evaluation",
    "NaiveBayesScorer",
    "OutcomeColumns",
    "PointsScorer",
    "RfmScorer",
    "ScoreCard",
    "Scorer",
    "available_scorers",
    "brier_score",
    "build_scorer",
    "calibration_table",
    "explain_frame",
    "get_scorer",
    "register_scorer",
    "roc_auc",
]
