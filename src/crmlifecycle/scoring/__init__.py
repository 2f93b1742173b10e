"""
Scorers: points, RFM and predictive lead scoring, and the scorer registry.

Every scorer scores one record into an explained :class:`ScoreCard` and a whole
frame at once; scorers are built by name (:func:`get_scorer`), from plain
dict/JSON/YAML configurations (:func:`scorer_from_config`, :func:`load_scorer`),
and other packages add their own through the ``crmlifecycle.scorers`` entry points.

Scorers score *as of* a moment the caller gives (``as_of=``; no scorer reads a
clock), every fit takes its cut-off as ``as_of`` too, and a frame's columns are
named by one column-spec record (``orders_columns=OrderColumns()``, ...).

Examples:
    >>> from crmlifecycle.scoring import available_scorers, get_scorer
    >>> {"naive_bayes", "points", "rfm"} <= set(available_scorers())
    True
    >>> get_scorer("points", fit=[{"when": "company_size >= 200", "points": 20}]).name
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
    dump_scorer,
    get_scorer,
    load_scorer,
    register_scorer,
    scorer_from_config,
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
    "calibration_table",
    "dump_scorer",
    "explain_frame",
    "get_scorer",
    "load_scorer",
    "register_scorer",
    "roc_auc",
    "scorer_from_config",
]
