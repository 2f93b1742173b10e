"""
The scoring section of ``crmlifecycle demo`` (built on :mod:`crmlifecycle.scoring`).

Top open leads by a points scorer, RFM segments of the customers, and the AUC
of a naive-Bayes scorer on a time split of the closed deals.
"""

from __future__ import annotations

import json
import pathlib
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from crmlifecycle.rules import Condition
from crmlifecycle.scoring import (
    NaiveBayesScorer,
    PointsScorer,
    RfmScorer,
    explain_frame,
)

if TYPE_CHECKING:
    from crmlifecycle.synth import Dataset

__all__ = ["DEMO_POINTS", "demo_section"]

#: The points scorer the demo uses (fit + engagement), as a plain config.
DEMO_POINTS: Final[dict[str, Any]] = {
    "fit": [
        {"name": "software", "when": "industry == 'software'", "points": 15},
        {"name": "finance", "when": "industry == 'financial_services'", "points": 10},
        {"name": "mid-size+", "when": "company_size >= 200", "points": 15},
        {"name": "decision maker", "when": "job_title in ['CEO', 'CTO', 'VP Sales']", "points": 20},
        {"name": "student", "when": "job_title == 'Student'", "points": -30},
        {"name": "budget 10k+", "when": "budget >= 10000", "points": 15},
        {"name": "referral", "when": "channel == 'referral'", "points": 10},
    ],
    "engagement": [
        {"kind": "email_open", "points": 1, "half_life_days": 14, "category": "email"},
        {"kind": "email_click", "points": 3, "half_life_days": 14, "category": "email"},
        {"kind": "web_visit", "points": 2, "half_life_days": 30, "category": "web"},
        {"kind": "download", "points": 5, "half_life_days": 30, "category": "content"},
        {"kind": "webinar", "points": 8, "half_life_days": 45, "category": "content"},
        {"kind": "demo_request", "points": 25, "half_life_days": 60, "category": "demo"},
    ],
    "caps": {"email": 10, "web": 10, "content": 20, "demo": 25},
    "grades": {"A": 70, "B": 45, "C": 20},
    "labels": {"SQL": 70, "MQL": 45},
}
_FEATURES: Final = ["industry", "job_title", "channel", "company_size", "budget"]


def demo_section(data: Dataset, *, out: pathlib.Path) -> str:
    """
    Score the synthetic world and describe it: top leads, RFM segments, predictive quality.

    Writes ``scoring-points.json`` (the scorer config) and ``lead-scores.csv`` into ``out``.

    Examples:
        >>> import tempfile, pathlib
        >>> from crmlifecycle.synth import generate
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     text = demo_section(generate(seed=1, n_leads=1500), out=pathlib.Path(tmp))
        >>> text.splitlines()[0][:15]
        'Top open leads '
    """
    at = pd.Timestamp(data.leads["created_at"].max()).ceil("D")
    lines: list[str] = []

    points = PointsScorer.from_dict(DEMO_POINTS)
    scored = points.score_frame(data.leads, as_of=at, interactions=data.interactions)
    scored.insert(0, "lead_id", data.leads["lead_id"].to_numpy())
    open_leads = data.leads["state"].isin(["open", "contacted"]).to_numpy()
    top = scored[open_leads].nlargest(5, "score")
    lines.append(f"Top open leads on {at.date()} (points: fit + decaying engagement):")
    for (_, row), why in zip(top.iterrows(), explain_frame(top, top=3), strict=True):
        lines.append(
            f"  {row['lead_id']}  {row['score']:5.1f}  {row['grade']}/{row['label']}  {why}"
        )
    auto = Condition.parse("grade == 'A'").evaluate_frame(scored[open_leads])
    grades = scored["grade"].value_counts().sort_index(ascending=False)
    lines.append(
        "  grades: "
        + ", ".join(f"{g} {n}" for g, n in grades.items())
        + f"; rule \"grade == 'A'\" auto-qualifies {int(auto.sum())} open leads"
    )

    rfm = RfmScorer().score_frame(data.orders, as_of=at)
    sizes = rfm["segment"].value_counts()
    lines.append(f"RFM segments of {len(rfm)} customers (quintiles as of {at.date()}):")
    named = [f"{s} {n}" for s, n in sizes.items() if n]
    lines.extend("  " + ", ".join(named[i : i + 6]) for i in range(0, len(named), 6))

    leads = data.leads.drop(columns=["state", "state_since", "created_at"])
    deals = data.opportunities.merge(leads, on="lead_id", how="left")
    closed = deals["closed_at"].dropna().sort_values()
    if len(closed) >= 20:  # noqa: PLR2004 - too few closed deals make no split
        as_of = closed.iloc[int(len(closed) * 0.6)]
        nb = NaiveBayesScorer(
            features=_FEATURES,
            numeric={"company_size": 4, "budget": 4},
            alpha=1.0,
            unseen="ignore",
        ).fit(deals, as_of=as_of)  # OutcomeColumns(): the deals' state and closed_at
        ev = nb.evaluate(deals)
        model = nb.model_ or {}
        lines.append("Predictive (naive Bayes on won/lost deals, time split):")
        lines.append(
            f"  trained on {model['won'] + model['lost']} deals closed before {as_of.date()}; "
            f"tested on the {ev.n} closed since:"
        )
        lines.append(
            f"  AUC {ev.auc:.3f}, Brier {ev.brier:.3f} (base rate alone {ev.base_brier:.3f})"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "scoring-points.json").write_text(
        json.dumps(points.to_dict(), indent=2), encoding="utf-8"
    )
    scored.to_csv(out / "lead-scores.csv", index=False)
    lines.append(f"  wrote {out / 'scoring-points.json'} and lead-scores.csv")
    return "\n".join(lines)
