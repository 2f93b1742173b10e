"""
Predictive lead scoring: naive Bayes over won/lost frequencies (Odoo-style).

The model follows Odoo's predictive lead scoring (``addons/crm``,
``crm.lead.scoring.frequency``): for every (field, value) it counts how many
closed records with that value were won and how many were lost, and combines
the per-field frequencies with naive Bayes. A stage field, if given, is counted
the Odoo way: a won record counts toward every stage, a lost one toward each
stage it reached, so a later stage raises the probability.

Definitions (``N_won``, ``N_lost``: closed records used for training; ``n(v, c)``:
records of class ``c`` whose field has value ``v``; ``K``: distinct values of the
field seen in training; ``alpha``: additive smoothing, Odoo adds 0.1)::

    P(v | c)         = (n(v, c) + alpha) / (N_c + alpha * K)
    P(s | won)       = 1,  P(s | lost) = (lost records that reached s + alpha) / (N_lost + alpha)
    log-odds         = log(N_won / N_lost) + sum over fields of log(P(v | won) / P(v | lost))
    probability      = 1 / (1 + exp(-log-odds))

Each field's log ratio is its contribution (in natural-log odds), so the
contributions add up to the log-odds. Missing values count as their own value
``"<missing>"``. Numeric fields are binned before counting: an int ``k`` gives
``k`` quantile bins of the training values (edges at the 1/k, 2/k, ... quantiles,
duplicates dropped), a list gives explicit edges; bins are ``(-inf, e1]``,
``(e1, e2]``, ..., ``(e_last, inf)``.

Only records closed strictly before ``as_of`` are used for training (no
leakage); :meth:`NaiveBayesScorer.evaluate` scores the records closed at or
after ``as_of``, a time-based split. The history's state and close-date columns
are named by an :class:`~crmlifecycle.scoring.OutcomeColumns` record (default:
the opportunities' ``state`` and ``closed_at``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Self, final

import numpy as np
import pandas as pd
from scipy.special import expit

from crmlifecycle._config import check_keys, load_text
from crmlifecycle._finite import ensure_finite
from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, FitError, SpecError, ValidationError, short_repr
from crmlifecycle.scoring._columns import OutcomeColumns
from crmlifecycle.scoring._config import (
    as_list,
    check_number,
    check_text,
    scorer_settings,
    thresholds,
)
from crmlifecycle.scoring._evaluation import (
    Evaluation,
    brier_score,
    calibration_table,
    roc_auc,
)
from crmlifecycle.scoring._frequency import (
    MISSING,
    Floats,
    learn_edges,
    log_ratios,
    outcome_counts,
    record_key,
    stage_counts,
    stage_index,
    training_rows,
    value_keys,
)
from crmlifecycle.scoring._grading import grade_one, grade_values
from crmlifecycle.scoring._protocol import CONTRIB_PREFIX, Contribution, ScoreCard, read_field
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

__all__ = ["MISSING", "NaiveBayesScorer"]

_DEFAULT_GRADES: Final = {"A": 75.0, "B": 50.0, "C": 25.0}
_CONFIG_KEYS: Final = (
    "scorer",
    "features",
    "numeric",
    "stage",
    "stages",
    "alpha",
    "unseen",
    "grades",
    "default_grade",
    "model",
)


def _states_of_type(lifecycle: Lifecycle, kind: str) -> tuple[str, ...]:
    """The states of ``lifecycle`` whose stage type is ``kind`` (``won`` or ``lost``)."""
    states = tuple(stage.name for stage in lifecycle.stages if stage.type == kind)
    if not states:
        raise ValidationError.for_field(
            "lifecycle",
            lifecycle.name,
            f"a lifecycle with a stage of type {kind!r}",
            hint="predictive scoring learns from won and lost records.",
        )
    return states


@final
class NaiveBayesScorer:
    """
    Learn the probability of winning from won/lost history; explain it per field.

    See the module docstring for the model (Odoo's frequency-based naive Bayes).

    Args:
        features: the fields (columns) to learn from.
        numeric: fields to bin, ``{field: k}`` (k quantile bins) or ``{field: [edges]}``.
        stage: optional stage field counted the Odoo way; needs ``stages``.
        stages: the stage names in pipeline order.
        alpha: additive smoothing (> 0); Odoo uses 0.1.
        unseen: a value never seen in training raises (``"error"``, the default) or
            counts as neutral, a log ratio of 0 (``"ignore"``).
        grades: ``{grade: minimum score}`` on the 0..100 score.
        default_grade: the grade below every minimum of ``grades``.
        model: a fitted model, as :meth:`to_dict` writes it.

    Examples:
        >>> import pandas as pd
        >>> history = pd.DataFrame({
        ...     "industry": ["software", "software", "software", "retail", "retail", "retail"],
        ...     "state": ["won", "won", "lost", "won", "lost", "lost"],
        ...     "closed_at": pd.to_datetime(["2026-01-05"] * 6, utc=True),
        ... })
        >>> nb = NaiveBayesScorer(features=["industry"], alpha=1.0)
        >>> nb = nb.fit(history, as_of=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> card = nb.score({"industry": "software"}, as_of="2026-01-01")
        >>> round(card.probability, 4)  # (3/5) / (3/5 + 2/5): P(software|won) = (2+1)/(3+2)
        0.6
        >>> [(c.rule, round(c.points, 4)) for c in card.contributions]
        [('prior', 0.0), ('industry', 0.4055)]
    """

    name: str = "naive_bayes"

    def __init__(
        self,
        *,
        features: Sequence[str],
        numeric: Mapping[str, int | Sequence[float]] | None = None,
        stage: str | None = None,
        stages: Sequence[str] = (),
        alpha: float = 0.1,
        unseen: Literal["error", "ignore"] = "error",
        grades: Mapping[str, float] | None = None,
        default_grade: str = "D",
        model: Mapping[str, Any] | None = None,
    ) -> None:
        self.features = tuple(
            check_text(f, path=f"features[{i}]")
            for i, f in enumerate(as_list(features, path="features"))
        )
        if not self.features and stage is None:
            raise SpecError("needs at least one feature. Hint: e.g. ['industry'].", path="features")
        self.numeric: dict[str, int | tuple[float, ...]] = {}
        for field, bins in (numeric or {}).items():
            path = f"numeric.{field}"
            if field not in self.features:
                raise SpecError(
                    f"{short_repr(field)} is not in features. Hint: add it to features.", path=path
                )
            if isinstance(bins, int) and not isinstance(bins, bool):
                self.numeric[field] = int(check_number(bins, path=path, minimum=1))
            else:
                edges = [check_number(e, path=path) for e in as_list(bins, path=path)]
                self.numeric[field] = tuple(sorted(set(edges)))
        self.stage = stage
        self.stages = tuple(stages)
        if stage is not None and not self.stages:
            raise SpecError(
                "a stage field needs the stage order. Hint: pass stages=[...].", path="stages"
            )
        self.alpha = check_number(alpha, path="alpha", positive=True)
        if unseen not in {"error", "ignore"}:
            raise SpecError(
                f"must be 'error' or 'ignore' (got {short_repr(unseen)}). Hint: pick one.",
                path="unseen",
            )
        self.unseen = unseen
        self.grades = thresholds(dict(_DEFAULT_GRADES if grades is None else grades), path="grades")
        self.default_grade = check_text(default_grade, path="default_grade")
        self.model_: dict[str, Any] | None = None
        self._tables: dict[str, tuple[pd.Index, Floats]] = {}
        self._prior = 0.0
        if model is not None:
            self._set_model(dict(model))

    def __repr__(self) -> str:
        fitted = f"fitted as of {self.model_['as_of']}" if self.model_ else "not fitted"
        return f"NaiveBayesScorer(features={list(self.features)}, alpha={self.alpha:g}, {fitted})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """
        Build a scorer from plain data (as :meth:`to_dict` writes it).

        Args:
            data: the configuration: ``features`` (required); ``numeric``, ``stage``,
                ``stages``, ``alpha``, ``unseen``, ``grades``, ``default_grade`` (optional, as
                the constructor takes them); ``scorer`` (``"naive_bayes"`` if present); and,
                for a fitted scorer, ``model``.

        Raises:
            SpecError: naming the path of the problem (``model.features``).

        Examples:
            >>> NaiveBayesScorer.from_dict({"features": ["country"], "alpha": 1}).alpha
            1.0
        """
        settings = scorer_settings(
            data, scorer=cls.name, required=("features",), optional=_CONFIG_KEYS
        )
        return cls(**settings)

    @classmethod
    def from_text(cls, text: str) -> Self:
        """
        Build a scorer from JSON or YAML text (see :meth:`from_dict`).

        Args:
            text: the configuration as JSON or YAML text.

        Examples:
            >>> NaiveBayesScorer.from_text("features: [country]").features
            ('country',)
        """
        return cls.from_dict(load_text(text, what="a naive Bayes scorer configuration"))

    def to_dict(self) -> dict[str, Any]:
        """
        Return the configuration, and the fitted model if any, as plain data.

        Examples:
            >>> NaiveBayesScorer(features=["country"]).to_dict()["features"]
            ['country']
        """
        config: dict[str, Any] = {
            "scorer": self.name,
            "features": list(self.features),
            "numeric": {f: b if isinstance(b, int) else list(b) for f, b in self.numeric.items()},
            "alpha": self.alpha,
            "unseen": self.unseen,
            "grades": dict(self.grades),
            "default_grade": self.default_grade,
        }
        if self.stage is not None:
            config |= {"stage": self.stage, "stages": list(self.stages)}
        if self.model_ is not None:
            config["model"] = self.model_
        return config

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        history: pd.DataFrame,
        *,
        as_of: Instant,
        history_columns: OutcomeColumns = OutcomeColumns(),
        lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
    ) -> Self:
        """
        Count won/lost frequencies over the records closed strictly before ``as_of``.

        A record is won or lost by the type of its state in ``lifecycle``; rows in an
        open state are left out.

        Args:
            history: one row per record: the features, the state and the close date.
            as_of: the training cut-off; only records closed strictly before it count.
            history_columns: which columns hold the state and the close date.
            lifecycle: the lifecycle of the records: its won and lost stages (by
                their type) are the outcomes.

        Raises:
            MissingColumnError: a feature, the outcome or the close date is missing.
            FitError: no closed record before ``as_of``, or one outcome never occurs.

        Examples:
            >>> import pandas as pd
            >>> frame = pd.DataFrame({"country": ["DE", "FR"], "state": ["won", "lost"],
            ...     "closed_at": pd.to_datetime(["2026-01-01", "2026-03-01"], utc=True)})
            >>> NaiveBayesScorer(features=["country"]).fit(
            ...     frame, as_of=pd.Timestamp("2026-02-01", tz="UTC"))
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.FitError: no 'lost' record closed before 2026-02-01; the class...
        """
        cols = history_columns
        stage_cols = [self.stage] if self.stage is not None else []
        require_columns(
            history, [*self.features, *stage_cols, cols.state, cols.closed_at], frame_name="history"
        )
        cutoff = utc_timestamp(as_of, name="as_of")
        train, y = training_rows(
            history,
            cutoff=cutoff,
            outcome_col=cols.state,
            closed_at_col=cols.closed_at,
            won=_states_of_type(lifecycle, "won"),
            lost=_states_of_type(lifecycle, "lost"),
        )
        n_won, n_lost = int(y.sum()), int(len(y) - y.sum())
        subset = history.iloc[np.flatnonzero(train)]
        features: dict[str, Any] = {}
        for field in self.features:
            edges = learn_edges(subset[field], field, self.numeric.get(field))
            counts = outcome_counts(value_keys(subset[field], field, edges), y)
            features[field] = {"edges": edges, "counts": counts}
        model: dict[str, Any] = {
            "as_of": cutoff.isoformat(),
            "won": n_won,
            "lost": n_lost,
            "features": features,
        }
        if self.stage is not None:
            reached = stage_index(subset[self.stage], self.stage, self.stages)
            model["stage"] = stage_counts(reached, y, self.stages)
        self._set_model(model)
        return self

    def _set_model(self, model: dict[str, Any]) -> None:
        check_keys(
            model,
            required=("as_of", "won", "lost", "features"),
            optional=("stage",),
            path="model",
        )
        n_won = check_number(model["won"], path="model.won", positive=True)
        n_lost = check_number(model["lost"], path="model.lost", positive=True)
        check_keys(model["features"], required=self.features, path="model.features")
        tables: dict[str, tuple[pd.Index, Floats]] = {}
        for field in self.features:
            entry = check_keys(
                model["features"][field],
                required=("edges", "counts"),
                path=f"model.features.{field}",
            )
            counts = _counts(entry["counts"], path=f"model.features.{field}.counts")
            tables[field] = log_ratios(counts, n_won=n_won, n_lost=n_lost, alpha=self.alpha)
        if self.stage is not None:
            check_keys(model.get("stage"), required=self.stages, path="model.stage")
            stage_counts = _counts(model["stage"], path="model.stage")
            lost_n = np.array([stage_counts[s][1] for s in self.stages], dtype="float64")
            ratio = -np.log((lost_n + self.alpha) / (n_lost + self.alpha))
            tables[self.stage] = (pd.Index(list(self.stages), dtype=object), ratio)
        self._tables = tables
        self._prior = math.log(n_won / n_lost)
        self.model_ = model

    def _require_model(self) -> dict[str, Any]:
        if self.model_ is None:
            raise FitError(
                "NaiveBayesScorer is not fitted. Hint: call fit(history, as_of=...) first, or "
                "pass model= from a saved config."
            )
        return self.model_

    def _edges(self, field: str) -> list[float] | None:
        if field == self.stage:
            return None
        edges: list[float] | None = self._require_model()["features"][field]["edges"]
        return edges

    # -- scoring ---------------------------------------------------------------------------

    def score_frame(self, frame: pd.DataFrame, *, as_of: Instant) -> pd.DataFrame:
        """
        Score every row: ``probability``, ``score`` (100 x probability), ``grade``, ``label``.

        ``contrib:prior`` and one ``contrib:<field>`` column per field hold the
        log-odds contributions; they add up to ``logit(probability)``. ``as_of`` is
        required by the :class:`Scorer` protocol, like every scorer's; the fitted model
        itself is timeless.

        Args:
            frame: one row per lead, with a column per feature (and the stage column, if
                the scorer has one); not modified.
            as_of: the moment the scores are for (unused by this scorer).

        Raises:
            DataError: a value never seen in training (with ``unseen="error"``).

        Examples:
            >>> import pandas as pd
            >>> nb = NaiveBayesScorer(features=["c"], alpha=1.0, model={
            ...     "as_of": "2026-01-01T00:00:00+00:00", "won": 2, "lost": 2,
            ...     "features": {"c": {"edges": None, "counts": {"x": [2, 0], "y": [0, 2]}}}})
            >>> scored = nb.score_frame(pd.DataFrame({"c": ["x", "y"]}), as_of="2026-01-01")
            >>> scored["probability"].round(4).tolist()
            [0.75, 0.25]
        """
        del as_of
        self._require_model()
        fields = [*self.features, *([self.stage] if self.stage is not None else [])]
        require_columns(frame, fields, frame_name="leads")
        logit = np.full(len(frame), self._prior)
        contributions = {f"{CONTRIB_PREFIX}prior": logit.copy()}
        for field in fields:
            index, ratio = self._tables[field]
            keys = (
                frame[field].astype(object)
                if field == self.stage
                else value_keys(frame[field], field, self._edges(field))
            )
            codes = index.get_indexer(pd.Index(keys))
            unseen = codes < 0
            if unseen.any() and self.unseen == "error":
                bad = keys[unseen]
                raise DataError.malformed(
                    field,
                    "holds values never seen in training",
                    rows=list(bad.index[:20]),
                    value=bad.iloc[0],
                    hint="refit on more history, or pass unseen='ignore' to count them as neutral.",
                )
            points = np.where(unseen, 0.0, ratio[codes])
            contributions[f"{CONTRIB_PREFIX}{field}"] = points
            logit += points
        probability = expit(ensure_finite(logit, name="log-odds", inputs=fields, allow_nan=False))
        score = 100.0 * probability
        result = pd.DataFrame({"probability": probability, "score": score}, index=frame.index)
        result["grade"] = grade_values(score, self.grades, self.default_grade)
        result["label"] = result["grade"]
        for column, values in contributions.items():
            result[column] = values
        return result

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        """
        Score one record (a mapping or an entity) with its per-field contributions.

        Args:
            record: the lead: an attrs entity or a mapping with the feature fields.
            as_of: the moment the score is for (unused by this scorer, required by the
                :class:`Scorer` protocol).

        Examples:
            >>> nb = NaiveBayesScorer(features=["c"], alpha=1.0, model={
            ...     "as_of": "2026-01-01T00:00:00+00:00", "won": 2, "lost": 2,
            ...     "features": {"c": {"edges": None, "counts": {"x": [2, 0], "y": [0, 2]}}}})
            >>> nb.score({"c": "x"}, as_of="2026-01-01").explain()
            '75 (grade B): +1.09861 c (x)'
        """
        del as_of
        model = self._require_model()
        logit = self._prior
        contributions = [
            Contribution(
                rule="prior",
                points=self._prior,
                value=(model["won"], model["lost"]),
                note=f"{model['won']} won / {model['lost']} lost",
            )
        ]
        fields = [*self.features, *([self.stage] if self.stage is not None else [])]
        for field in fields:
            value = read_field(record, field)
            index, ratio = self._tables[field]
            try:
                key = str(value) if field == self.stage else record_key(value, self._edges(field))
            except ValidationError as err:
                raise ValidationError.for_field(
                    field, value, "a number (the field is binned)"
                ) from err
            code = index.get_indexer(pd.Index([key], dtype=object))[0]
            if code < 0 and self.unseen == "error":
                raise ValidationError.for_field(
                    field,
                    value,
                    f"a value seen in training (one of {list(index)[:10]})",
                    hint="refit on more history, or pass unseen='ignore'.",
                )
            points = 0.0 if code < 0 else float(ratio[code])
            logit += points
            contributions.append(Contribution(rule=field, points=points, value=value, note=key))
        probability = float(
            expit(ensure_finite(logit, name="log-odds", inputs=fields, allow_nan=False))
        )
        score = 100.0 * probability
        grade = grade_one(score, self.grades, self.default_grade)
        return ScoreCard(
            total=score,
            grade=grade,
            label=grade,
            contributions=tuple(contributions),
            probability=probability,
        )

    def evaluate(
        self,
        history: pd.DataFrame,
        *,
        history_columns: OutcomeColumns = OutcomeColumns(),
        lifecycle: Lifecycle = OPPORTUNITY_PIPELINE,
        bins: int = 10,
    ) -> Evaluation:
        """
        Evaluate on the records closed at or after the training cut-off (a time split).

        Args:
            history: one row per record, as :meth:`fit` reads it.
            history_columns: which columns hold the state and the close date.
            lifecycle: the lifecycle of the records: its won and lost stages (by
                their type) are the outcomes.
            bins: the number of probability bins of the calibration table.

        Raises:
            FitError: not fitted.
            DataError: the holdout is empty or holds only one outcome.

        Examples:
            >>> import pandas as pd
            >>> history = pd.DataFrame({
            ...     "c": ["x", "x", "y", "y", "x", "y", "y"],
            ...     "state": ["won", "won", "lost", "lost", "won", "lost", "won"],
            ...     "closed_at": pd.to_datetime(["2026-01-01"] * 4 + ["2026-03-01"] * 3, utc=True),
            ... })
            >>> nb = NaiveBayesScorer(features=["c"], alpha=1.0)
            >>> nb = nb.fit(history, as_of=pd.Timestamp("2026-02-01", tz="UTC"))
            >>> ev = nb.evaluate(history)
            >>> ev.n, ev.n_won, ev.auc  # x=won scores 0.75, y: lost 0.25, won 0.25 -> 1 pair of 2
            (3, 2, 0.75)
        """
        model = self._require_model()
        outcome_col, closed_at_col = history_columns.state, history_columns.closed_at
        require_columns(history, [outcome_col, closed_at_col], frame_name="history")
        cutoff = pd.Timestamp(model["as_of"])
        closed = as_utc(history[closed_at_col], closed_at_col, allow_missing=True)
        won, lost = _states_of_type(lifecycle, "won"), _states_of_type(lifecycle, "lost")
        mask = (history[outcome_col].isin([*won, *lost]) & (closed >= cutoff)).to_numpy()
        holdout = history.iloc[np.flatnonzero(mask)]
        y = holdout[outcome_col].isin(won).to_numpy()
        if len(y) == 0:
            raise DataError(
                f"no record closed at or after {cutoff.date()} to evaluate on. "
                "Hint: fit with an earlier as_of so some closed history is held out.",
                column=closed_at_col,
            )
        prob = self.score_frame(holdout, as_of=cutoff)["probability"].to_numpy()
        base = float(y.mean())
        return Evaluation(
            auc=roc_auc(y, prob),
            brier=brier_score(y, prob),
            base_brier=base * (1 - base),
            n=len(y),
            n_won=int(y.sum()),
            as_of=cutoff,
            calibration=calibration_table(y, prob, bins=bins),
        )


def _counts(value: object, *, path: str) -> dict[str, list[float]]:
    """A model's ``{key: [won, lost]}`` counts: pairs of finite numbers >= 0, else SpecError."""
    table = check_keys(value, optional=value if isinstance(value, Mapping) else (), path=path)
    counts: dict[str, list[float]] = {}
    for key, pair in table.items():
        numbers = as_list(pair, path=f"{path}.{key}")
        if len(numbers) != 2:  # noqa: PLR2004 - [won, lost]
            raise SpecError(
                f"must be a pair [won, lost] (got {short_repr(pair)}). Hint: write e.g. [3, 1].",
                path=f"{path}.{key}",
            )
        counts[str(key)] = [
            check_number(n, path=f"{path}.{key}[{i}]", minimum=0) for i, n in enumerate(numbers)
        ]
    return counts
