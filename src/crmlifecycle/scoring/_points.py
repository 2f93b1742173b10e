"""
Points scoring: fit rules plus decaying, capped engagement, mapped to grades and labels.

This is the lead scoring marketing teams do by hand (explicit *fit* points for
who the lead is, implicit *engagement* points for what it did), made explicit:

- a **fit rule** is a rule-language condition (``industry == 'software'``,
  ``company_size >= 200``, ``budget >= 10000`` ...) worth positive or negative points;
- an **engagement rule** gives points per interaction of one kind, decayed
  exponentially by the interaction's age: ``points * 0.5 ** (age_days / half_life_days)``
  (no half-life: no decay); interactions after ``as_of`` are not counted yet;
- engagement rules belong to a **category** (default: the kind) and a category's
  total is clipped to ``[-cap, cap]`` when it has a cap;
- the **total** is the sum of all contributions; **grades** and **labels** map the
  total through ``{name: minimum}`` thresholds (the highest minimum reached wins).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Self, final

import numpy as np
import pandas as pd

from crmlifecycle._config import check_keys, load_text
from crmlifecycle._finite import NS_PER_DAY, elapsed, ensure_finite
from crmlifecycle._frames import as_utc, require_columns, utc_nanoseconds, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, RuleError, SpecError, short_repr
from crmlifecycle.schema import InteractionColumns, LeadColumns
from crmlifecycle.scoring._config import (
    MAX_POINTS,
    as_list,
    check_number,
    check_text,
    scorer_settings,
    thresholds,
)
from crmlifecycle.scoring._grading import grade_one, grade_values
from crmlifecycle.scoring._protocol import CONTRIB_PREFIX, Contribution, ScoreCard, read_field

__all__ = ["ENGAGEMENT_PREFIX", "PointsScorer"]

#: Rule-name prefix of engagement categories in contributions (``engagement:email``).
ENGAGEMENT_PREFIX: Final = "engagement:"
_Floats = np.ndarray[Any, np.dtype[np.float64]]
_Ints = np.ndarray[Any, np.dtype[np.int64]]
_DEFAULT_GRADES: Final = {"A": 80.0, "B": 50.0, "C": 20.0}
_DEFAULT_LABELS: Final = {"SQL": 80.0, "MQL": 50.0}
_CONFIG_KEYS: Final = (
    "scorer",
    "fit",
    "engagement",
    "caps",
    "grades",
    "default_grade",
    "labels",
    "default_label",
)


def _parse_condition(text: object, *, path: str) -> Any:
    # imported when first needed: scoring sits beside the rule language, not on top of it
    rules = importlib.import_module("crmlifecycle.rules")
    source = check_text(text, path=path)
    try:
        return rules.Condition.parse(source)
    except RuleError as err:
        raise SpecError(f"invalid condition: {err}", path=path) from err


@final
class PointsScorer:
    """
    Score leads with fit rules and decaying engagement points; grade and label the total.

    Args:
        fit: fit rules, ``{name, when, points}`` (``name`` defaults to the condition text).
        engagement: engagement rules, ``{kind, points, half_life_days, category}``
            (``half_life_days`` omitted: no decay; ``category`` omitted: the kind).
        caps: ``{category: cap}``, a category's total is clipped to ``[-cap, cap]``.
        grades: ``{grade: minimum total}``, default ``{"A": 80, "B": 50, "C": 20}``.
        default_grade: the grade below every minimum of ``grades`` (``"D"``).
        labels: ``{label: minimum total}``, default ``{"SQL": 80, "MQL": 50}``.
        default_label: the label below every minimum of ``labels`` (``"lead"``).

    Examples:
        >>> import pandas as pd
        >>> scorer = PointsScorer(
        ...     fit=[{"name": "software", "when": "industry == 'software'", "points": 30}],
        ...     engagement=[{"kind": "demo_request", "points": 40, "half_life_days": 10}],
        ... )
        >>> as_of = pd.Timestamp("2026-03-11", tz="UTC")
        >>> card = scorer.score(
        ...     {"industry": "software"},
        ...     as_of=as_of,
        ...     interactions=[{"kind": "demo_request", "at": pd.Timestamp("2026-03-01", tz="UTC")}],
        ... )
        >>> print(card.explain())  # 30 + 40 * 0.5 ** (10 / 10) = 50
        50 (grade B, MQL): +30 software ({'industry': 'software'}); +20 engagement:demo_request ...
    """

    name: str = "points"

    def __init__(
        self,
        *,
        fit: Sequence[Mapping[str, Any]] = (),
        engagement: Sequence[Mapping[str, Any]] = (),
        caps: Mapping[str, float] | None = None,
        grades: Mapping[str, float] | None = None,
        default_grade: str = "D",
        labels: Mapping[str, float] | None = None,
        default_label: str = "lead",
    ) -> None:
        self.fit: tuple[dict[str, Any], ...] = ()
        self._conditions: list[Any] = []
        names: list[str] = []
        for i, rule in enumerate(as_list(fit, path="fit")):
            path = f"fit[{i}]"
            check_keys(
                rule, path=path, optional=("name", "when", "points"), required=("when", "points")
            )
            condition = _parse_condition(rule["when"], path=f"{path}.when")
            name = check_text(rule.get("name", rule["when"]), path=f"{path}.name")
            if name in names:
                raise SpecError(
                    f"duplicate rule name {short_repr(name)}. Hint: give each rule its own name.",
                    path=f"{path}.name",
                )
            names.append(name)
            points = check_number(rule["points"], path=f"{path}.points", bound=MAX_POINTS)
            self._conditions.append(condition)
            self.fit += ({"name": name, "when": condition.text, "points": points},)
        self.engagement: tuple[dict[str, Any], ...] = ()
        seen_kinds: set[str] = set()
        for i, rule in enumerate(as_list(engagement, path="engagement")):
            path = f"engagement[{i}]"
            check_keys(
                rule,
                path=path,
                optional=("kind", "points", "half_life_days", "category"),
                required=("kind", "points"),
            )
            kind = check_text(rule["kind"], path=f"{path}.kind")
            if kind in seen_kinds:
                raise SpecError(
                    f"kind {short_repr(kind)} has two rules. Hint: keep one rule per kind.",
                    path=f"{path}.kind",
                )
            seen_kinds.add(kind)
            entry: dict[str, Any] = {
                "kind": kind,
                "points": check_number(rule["points"], path=f"{path}.points", bound=MAX_POINTS),
                "category": check_text(rule.get("category", kind), path=f"{path}.category"),
            }
            if rule.get("half_life_days") is not None:
                entry["half_life_days"] = check_number(
                    rule["half_life_days"], path=f"{path}.half_life_days", positive=True
                )
            self.engagement += (entry,)
        self.categories = tuple(dict.fromkeys(r["category"] for r in self.engagement))
        self.caps: dict[str, float] = {}
        given: object = {} if caps is None else caps  # untrusted: checked as a mapping
        checked = check_keys(
            given, optional=given if isinstance(given, Mapping) else (), path="caps"
        )
        for category, cap in checked.items():
            if category not in self.categories:
                raise SpecError(
                    f"no engagement rule has category {short_repr(category)}. Hint: categories are "
                    f"{list(self.categories)}.",
                    path=f"caps.{category}",
                )
            self.caps[category] = check_number(
                cap, path=f"caps.{category}", minimum=0, bound=MAX_POINTS
            )
        self.grades = thresholds(_DEFAULT_GRADES if grades is None else grades, path="grades")
        self.labels = thresholds(_DEFAULT_LABELS if labels is None else labels, path="labels")
        self.default_grade = check_text(default_grade, path="default_grade")
        self.default_label = check_text(default_label, path="default_label")
        self.rule_names = (*names, *(ENGAGEMENT_PREFIX + c for c in self.categories))

    def __repr__(self) -> str:
        return (
            f"PointsScorer(fit={len(self.fit)} rules, engagement={len(self.engagement)} "
            f"kinds in {len(self.categories)} categories)"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """
        Build a scorer from plain data (as :meth:`to_dict` writes it).

        Args:
            data: the configuration: ``fit``, ``engagement``, ``caps``, ``grades``,
                ``default_grade``, ``labels``, ``default_label`` (each optional) and
                ``scorer`` (``"points"`` if present).

        Raises:
            SpecError: naming the path of the problem (``fit[0].when``).

        Examples:
            >>> PointsScorer.from_dict({"fit": [{"when": "budget > 0", "points": 5}]}).fit
            ({'name': 'budget > 0', 'when': 'budget > 0', 'points': 5.0},)
            >>> PointsScorer.from_dict({"engagement": [{"kind": "x", "points": 1,
            ...     "half_life_days": -3}]})
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.SpecError: engagement[0].half_life_days: must be a number > 0 ...
        """
        return cls(**scorer_settings(data, scorer=cls.name, optional=_CONFIG_KEYS))

    @classmethod
    def from_text(cls, text: str) -> Self:
        """
        Build a scorer from JSON or YAML text (see :meth:`from_dict`).

        Args:
            text: the configuration as JSON or YAML text.

        Examples:
            >>> PointsScorer.from_text("fit: [{when: budget > 0, points: 5}]").rule_names
            ('budget > 0',)
        """
        return cls.from_dict(load_text(text, what="a points scorer configuration"))

    def to_dict(self) -> dict[str, Any]:
        """
        Return the configuration as plain data (the input of :meth:`from_dict`).

        Examples:
            >>> PointsScorer().to_dict()["grades"]
            {'A': 80.0, 'B': 50.0, 'C': 20.0}
        """
        return {
            "scorer": self.name,
            "fit": [dict(r) for r in self.fit],
            "engagement": [dict(r) for r in self.engagement],
            "caps": dict(self.caps),
            "grades": dict(self.grades),
            "default_grade": self.default_grade,
            "labels": dict(self.labels),
            "default_label": self.default_label,
        }

    @classmethod
    def bant(
        cls,
        *,
        budget_min: float = 10_000,
        authority_titles: Sequence[str] = ("CEO", "CTO", "VP Sales", "Head of Marketing"),
        timeline_days: int = 90,
        points: float = 25,
    ) -> Self:
        """
        The BANT preset: budget, authority, need and timeline, ``points`` each (max 100).

        BANT (budget, authority, need, timeline) is IBM's classic sales qualification
        checklist. Here: **budget** — a known budget of at least ``budget_min``
        (``budget.amount``: a ``Money`` on a record, the number in a frame's ``budget`` column);
        **authority** — a job title in ``authority_titles``; **need** — a demo request
        (full points) or a download (half), decaying with a 30-day half-life and
        capped at ``points``; **timeline** — the lead was created within
        ``timeline_days`` of ``as_of``. Grades: A >= 75, B >= 50, C >= 25, else D;
        labels: SQL >= 75, MQL >= 50, else lead.

        Args:
            budget_min: the smallest known budget that earns the budget points, in the
                budget's currency units.
            authority_titles: the job titles that earn the authority points (exact match).
            timeline_days: leads created at most this many days before ``as_of`` earn the
                timeline points.
            points: the points of each of the four criteria; the grade and label thresholds
                scale with it (each within ±10**9, ``MAX_POINTS``).

        Raises:
            SpecError: a ``budget_min`` that is not a finite number, ``points`` (or the
                thresholds 3 × ``points``) beyond ±10**9, or a value the rule language refuses
                in a condition (a number literal beyond 10**15).

        Examples:
            >>> import pandas as pd
            >>> from crmlifecycle.values import Money
            >>> bant = PointsScorer.bant()
            >>> as_of = pd.Timestamp("2026-03-01", tz="UTC")
            >>> lead = {"budget": Money("50000", "EUR"), "job_title": "CTO",
            ...         "created_at": pd.Timestamp("2026-02-01", tz="UTC")}
            >>> card = bant.score(lead, as_of=as_of)
            >>> card.total, card.grade, card.label  # budget + authority + timeline
            (75.0, 'A', 'SQL')
        """
        budget_min = check_number(budget_min, path="budget_min")  # finite, never OverflowError
        points = check_number(points, path="points", bound=MAX_POINTS)
        titles = ", ".join(repr(t) for t in authority_titles)
        return cls(
            fit=[
                {"name": "budget", "when": f"budget.amount >= {budget_min:g}", "points": points},
                {"name": "authority", "when": f"job_title in [{titles}]", "points": points},
                {
                    "name": "timeline",
                    "when": f"days_since(created_at) <= {timeline_days}",
                    "points": points,
                },
            ],
            engagement=[
                {
                    "kind": "demo_request",
                    "points": points,
                    "half_life_days": 30,
                    "category": "need",
                },
                {
                    "kind": "download",
                    "points": points / 2,
                    "half_life_days": 30,
                    "category": "need",
                },
            ],
            caps={"need": points},
            grades={"A": 3 * points, "B": 2 * points, "C": points},
            labels={"SQL": 3 * points, "MQL": 2 * points},
        )

    # -- scoring -----------------------------------------------------------------------------

    def _engagement_arrays(self) -> tuple[pd.Index, _Floats, _Floats, _Ints, _Floats]:
        kinds = pd.Index([r["kind"] for r in self.engagement], dtype=object)
        points = np.array([r["points"] for r in self.engagement], dtype="float64")
        half = np.array([r.get("half_life_days", np.inf) for r in self.engagement], dtype="float64")
        category = np.array(
            [self.categories.index(r["category"]) for r in self.engagement], dtype=np.int64
        )
        caps = np.array([self.caps.get(c, np.inf) for c in self.categories], dtype="float64")
        return kinds, points, half, category, caps

    def score_frame(
        self,
        leads: pd.DataFrame,
        *,
        as_of: Instant,
        interactions: pd.DataFrame | None = None,
        leads_columns: LeadColumns = LeadColumns(),
        interactions_columns: InteractionColumns = InteractionColumns(),
    ) -> pd.DataFrame:
        """
        Score every lead (row of ``leads``) as of ``as_of``, vectorised.

        Returns a frame on ``leads``' index with ``score``, ``grade``, ``label`` and one
        ``contrib:<rule>`` column per fit rule and per engagement category
        (``contrib:engagement:<category>``). Fit rules read the columns they name;
        ``interactions`` (``lead_id``, ``kind``, ``at``) feeds the engagement rules;
        interactions of unknown leads or kinds, or after ``as_of``, are ignored.

        Args:
            leads: one row per lead.
            as_of: the moment the scores look from (fit rules that read the time,
                engagement decay).
            interactions: the leads' interactions (needed when there are engagement rules).
            leads_columns: which column of ``leads`` holds the lead id (read only for
                engagement rules).
            interactions_columns: which columns of ``interactions`` hold the lead id,
                the kind and the time.

        Raises:
            UnknownFieldError: a fit rule reads a column ``leads`` does not have.
            MissingColumnError: ``interactions`` (or the leads' id column) lacks a column.
            DataError: duplicate lead ids, or engagement rules but no interactions.

        Examples:
            >>> import pandas as pd
            >>> leads = pd.DataFrame({"lead_id": ["a", "b"], "company_size": [500, 20]})
            >>> clicks = pd.DataFrame({"lead_id": ["b", "b", "b"], "kind": ["email_click"] * 3,
            ...     "at": pd.to_datetime(["2026-01-01", "2026-01-31", "2026-01-31"], utc=True)})
            >>> scorer = PointsScorer(
            ...     fit=[{"name": "big", "when": "company_size >= 200", "points": 20}],
            ...     engagement=[{"kind": "email_click", "points": 5, "half_life_days": 30,
            ...                  "category": "email"}],
            ...     caps={"email": 12})
            >>> scored = scorer.score_frame(leads, as_of=pd.Timestamp("2026-01-31", tz="UTC"),
            ...                             interactions=clicks)
            >>> scored[["score", "contrib:big", "contrib:engagement:email"]]
               score  contrib:big  contrib:engagement:email
            0   20.0         20.0                       0.0
            1   12.0          0.0                      12.0
        """
        when = utc_timestamp(as_of, name="as_of")
        n = len(leads)
        contributions: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
        for rule, condition in zip(self.fit, self._conditions, strict=True):
            condition.bind(leads)
            hits = condition.evaluate_frame(leads, as_of=when.to_pydatetime())
            contributions[rule["name"]] = np.where(hits.to_numpy(dtype=bool), rule["points"], 0.0)
        if self.engagement:
            engaged = self._engagement_frame(
                leads,
                when,
                interactions,
                id_col=leads_columns.lead_id,
                lead_col=interactions_columns.lead_id,
                kind_col=interactions_columns.kind,
                at_col=interactions_columns.at,
            )
            for j, category in enumerate(self.categories):
                contributions[ENGAGEMENT_PREFIX + category] = engaged[:, j]
        total = np.zeros(n)
        for values in contributions.values():
            total += values
        ensure_finite(
            pd.Series(total, index=leads.index),
            name="score",
            inputs=self.rule_names,
            allow_nan=False,
        )
        result = pd.DataFrame({"score": total}, index=leads.index)
        result["grade"] = grade_values(total, self.grades, self.default_grade)
        result["label"] = grade_values(total, self.labels, self.default_label)
        for name, values in contributions.items():
            result[CONTRIB_PREFIX + name] = values
        return result

    def _engagement_frame(
        self,
        frame: pd.DataFrame,
        when: pd.Timestamp,
        interactions: pd.DataFrame | None,
        *,
        id_col: str,
        lead_col: str,
        kind_col: str,
        at_col: str,
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        if interactions is None:
            raise DataError(
                "this scorer has engagement rules but no interactions were given. "
                "Hint: pass interactions=<frame with lead_id, kind, at>.",
            )
        require_columns(frame, [id_col], frame_name="leads")
        require_columns(interactions, [lead_col, kind_col, at_col], frame_name="interactions")
        n = len(frame)
        kinds, points, half, category, caps = self._engagement_arrays()
        # one factorize over lead ids then interaction ids: lead i gets code i when ids are unique
        both = pd.concat([frame[id_col], interactions[lead_col]], ignore_index=True)
        codes = pd.factorize(both)[0]
        lead_codes = codes[:n]
        if n and (lead_codes[-1] != n - 1 or (lead_codes < 0).any()):
            ids = frame[id_col]
            dup = ids[ids.duplicated() | ids.isna()]
            raise DataError.malformed(
                id_col,
                "holds duplicate or missing lead ids",
                rows=list(dup.index[:20]),
                value=dup.iloc[0],
                hint="score one row per lead, each with its id.",
            )
        pos = codes[n:]
        kind_codes, kind_values = pd.factorize(interactions[kind_col])
        # the extra -1 at the end is where a missing kind (code -1) lands
        to_rule = np.append(kinds.get_indexer(pd.Index(kind_values, dtype=object)), -1)
        rule = to_rule[kind_codes]
        stamps = utc_nanoseconds(as_utc(interactions[at_col], at_col))
        age_days = elapsed(when, stamps, unit_ns=NS_PER_DAY)
        keep = (pos >= 0) & (pos < n) & (rule >= 0) & (age_days >= 0)
        pos, rule, age_days = pos[keep], rule[keep], age_days[keep]
        weights = points[rule] * np.exp2(-age_days / half[rule])
        n_cat = len(self.categories)
        sums = np.bincount(
            pos * n_cat + category[rule], weights=weights, minlength=n * n_cat
        ).reshape(n, n_cat)
        return np.clip(sums, -caps, caps)

    def score(
        self,
        record: object,
        *,
        as_of: Instant,
        interactions: Iterable[object] | pd.DataFrame = (),
        interactions_columns: InteractionColumns = InteractionColumns(),
    ) -> ScoreCard:
        """
        Score one lead (an entity or a mapping) with its interactions, explained.

        ``interactions`` are this lead's interactions: mappings or entities with
        ``kind`` and ``at``, or a DataFrame with those columns (named by
        ``interactions_columns``, which also names the mappings' keys).

        Args:
            record: the lead: an attrs entity or a mapping of its fields.
            as_of: the moment the score is computed from: ``days_since``/``now()`` in
                conditions and the decay of interactions count from it; interactions after
                it are ignored.
            interactions: this lead's interactions (empty: no engagement points).
            interactions_columns: the names of the ``kind`` and ``at`` columns (or keys) of
                ``interactions``.

        Examples:
            >>> import pandas as pd
            >>> scorer = PointsScorer(fit=[{"name": "no budget", "when": "budget == 0",
            ...                             "points": -10}])
            >>> scorer.score({"budget": 0.0}, as_of=pd.Timestamp("2026-01-01", tz="UTC")).total
            -10.0
        """
        when = utc_timestamp(as_of, name="as_of")
        contributions: list[Contribution] = []
        for rule, condition in zip(self.fit, self._conditions, strict=True):
            hit = bool(condition.evaluate(record, as_of=when.to_pydatetime()))
            value = {f: read_field(record, f) for f in sorted(condition.fields)}
            contributions.append(
                Contribution(rule=rule["name"], points=rule["points"] if hit else 0.0, value=value)
            )
        if self.engagement:
            contributions.extend(self._engagement_one(when, interactions, interactions_columns))
        total = ensure_finite(
            float(sum(c.points for c in contributions)),
            name="score",
            inputs=self.rule_names,
            allow_nan=False,
        )
        return ScoreCard(
            total=total,
            grade=grade_one(total, self.grades, self.default_grade),
            label=grade_one(total, self.labels, self.default_label),
            contributions=tuple(contributions),
        )

    def _engagement_one(
        self,
        when: pd.Timestamp,
        interactions: Iterable[object] | pd.DataFrame,
        columns: InteractionColumns,
    ) -> list[Contribution]:
        rows: Iterable[object] = (
            interactions.to_dict("records")
            if isinstance(interactions, pd.DataFrame)
            else interactions
        )
        by_kind = {r["kind"]: r for r in self.engagement}
        sums = dict.fromkeys(self.categories, 0.0)
        counts = dict.fromkeys(self.categories, 0)
        for i, row in enumerate(rows):
            rule = by_kind.get(str(read_field(row, columns.kind)))
            if rule is None:
                continue
            stamp = utc_timestamp(read_field(row, columns.at), name=f"interactions[{i}].at")
            age = float(elapsed(when, stamp, unit_ns=NS_PER_DAY)[0])
            if age < 0:
                continue
            half = rule.get("half_life_days", np.inf)
            sums[rule["category"]] += rule["points"] * float(np.exp2(-age / half))
            counts[rule["category"]] += 1
        result = []
        for category in self.categories:
            cap = self.caps.get(category, np.inf)
            points = float(np.clip(sums[category], -cap, cap))
            capped = f", capped at {cap:g}" if abs(sums[category]) > cap else ""
            note = f"{counts[category]} interactions, {sums[category]:.3g} after decay{capped}"
            result.append(
                Contribution(
                    rule=ENGAGEMENT_PREFIX + category,
                    points=points,
                    value=counts[category],
                    note=note,
                )
            )
        return result
