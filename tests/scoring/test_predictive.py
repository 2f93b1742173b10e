from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, FitError, MissingColumnError, SpecError, ValidationError
from crmlifecycle.scoring import (
    MISSING,
    NaiveBayesScorer,
    OutcomeColumns,
    build_scorer,
)
from crmlifecycle.stages import OPPORTUNITY_PIPELINE, Lifecycle

AS_OF = pd.Timestamp("2026-02-01", tz="UTC")
BEFORE = pd.Timestamp("2026-01-15", tz="UTC")
AFTER = pd.Timestamp("2026-03-15", tz="UTC")


def _history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "industry": ["software", "software", "software", "retail", "retail", "retail"],
            "country": ["DE", "FR", "DE", "DE", "FR", "FR"],
            "state": ["won", "won", "lost", "won", "lost", "lost"],
            "closed_at": [BEFORE] * 6,
        }
    )


def _fitted(alpha: float = 1.0) -> NaiveBayesScorer:
    return NaiveBayesScorer(features=["industry", "country"], alpha=alpha).fit(
        _history(), as_of=AS_OF
    )


def test_hand_computed_probabilities() -> None:
    nb = _fitted()
    # N_won = N_lost = 3, prior log-odds log(3/3) = 0.
    # industry (K=2): software won 2 lost 1 -> P(sw|won) = (2+1)/(3+2) = 0.6,
    #                 P(sw|lost) = (1+1)/(3+2) = 0.4; ratio log(1.5)
    # country (K=2): DE won 2 (rows 1, 4) lost 1 (row 3) -> the same log(1.5)
    # software + DE: logit = 2 log 1.5 = log 2.25 -> p = 2.25 / 3.25
    card = nb.score({"industry": "software", "country": "DE"}, as_of=AS_OF)
    assert card.probability == pytest.approx(2.25 / 3.25)
    assert card.total == pytest.approx(100 * 2.25 / 3.25)
    assert [c.rule for c in card.contributions] == ["prior", "industry", "country"]
    assert [c.points for c in card.contributions] == pytest.approx(
        [0.0, math.log(1.5), math.log(1.5)]
    )
    # retail + FR is the mirror image: p = 1 / 3.25
    other = nb.score({"industry": "retail", "country": "FR"}, as_of=AS_OF)
    assert other.probability == pytest.approx(1 / 3.25)
    frame = nb.score_frame(
        pd.DataFrame({"industry": ["software", "retail"], "country": ["DE", "FR"]}), as_of=AS_OF
    )
    assert frame["probability"].tolist() == pytest.approx([2.25 / 3.25, 1 / 3.25])
    assert frame["contrib:industry"].tolist() == pytest.approx([math.log(1.5), -math.log(1.5)])
    # default grades on the 0..100 score: A >= 75, B >= 50, C >= 25, else D
    assert frame["grade"].astype(str).tolist() == ["B", "C"]


def test_smoothing_default_is_odoo_point_one() -> None:
    nb = _fitted(alpha=0.1)
    # P(sw|won) = 2.1 / 3.2, P(sw|lost) = 1.1 / 3.2 -> ratio log(2.1 / 1.1)
    card = nb.score({"industry": "software", "country": "DE"}, as_of=AS_OF)
    assert card.contributions[1].points == pytest.approx(math.log(2.1 / 1.1))
    assert NaiveBayesScorer(features=["x"]).alpha == 0.1


def test_only_records_closed_before_as_of_are_learned() -> None:
    history = _history()
    leak = pd.DataFrame(
        {
            "industry": ["retail"] * 5 + ["software"],
            "country": ["DE"] * 6,
            "state": ["won"] * 5 + ["open"],
            "closed_at": [AFTER] * 5 + [pd.NaT],
        }
    )
    combined = pd.concat([history, leak], ignore_index=True)
    nb = NaiveBayesScorer(features=["industry", "country"], alpha=1.0)
    assert nb.fit(combined, as_of=AS_OF).model_ == _fitted().model_


def test_odoo_stage_counting() -> None:
    # won records count toward every stage; lost toward each stage they reached.
    frame = pd.DataFrame(
        {
            "reached": ["proposal", "prospecting", "prospecting", "proposal"],
            "state": ["won", "won", "lost", "lost"],
            "closed_at": [BEFORE] * 4,
        }
    )
    nb = NaiveBayesScorer(
        features=[],
        stage="reached",
        stages=["prospecting", "qualification", "proposal"],
        alpha=1.0,
    ).fit(frame, as_of=AS_OF)
    # lost reaching each stage: prospecting 2, qualification 1, proposal 1
    assert nb.model_ is not None
    assert nb.model_["stage"] == {
        "prospecting": [2, 2],
        "qualification": [2, 1],
        "proposal": [2, 1],
    }
    # P(s|lost) = (l + 1) / (2 + 1): 1, 2/3, 2/3; P(s|won) = 1; prior log(2/2) = 0
    # prospecting: p = 1 / (1 + 1) = 0.5; qualification: 1 / (1 + 2/3) = 0.6
    scored = nb.score_frame(
        pd.DataFrame({"reached": ["prospecting", "qualification"]}), as_of=AS_OF
    )
    assert scored["probability"].tolist() == pytest.approx([0.5, 0.6])
    assert nb.score({"reached": "qualification"}, as_of=AS_OF).probability == pytest.approx(0.6)
    with pytest.raises(DataError, match="stage order"):
        nb.fit(frame.assign(reached="won"), as_of=AS_OF)


def test_numeric_binning_quantiles_and_explicit_edges() -> None:
    frame = pd.DataFrame(
        {
            "budget": [1.0, 2.0, 3.0, 4.0, np.nan],
            "state": ["lost", "lost", "won", "won", "lost"],
            "closed_at": [BEFORE] * 5,
        }
    )
    nb = NaiveBayesScorer(features=["budget"], numeric={"budget": 2}, alpha=1.0)
    nb.fit(frame, as_of=AS_OF)
    assert nb.model_ is not None
    # median of 1, 2, 3, 4 = 2.5: bins (-inf, 2.5] and (2.5, inf), plus <missing>
    assert nb.model_["features"]["budget"] == {
        "edges": [2.5],
        "counts": {"<= 2.5": [0, 2], "> 2.5": [2, 0], MISSING: [0, 1]},
    }
    scored = nb.score_frame(pd.DataFrame({"budget": [2.5, 100.0, np.nan]}), as_of=AS_OF)
    # K = 3, N_won 2, N_lost 3: P(<=2.5|won) = 1/5, P(<=2.5|lost) = 3/6 -> log(0.4)
    assert scored["contrib:budget"].iloc[0] == pytest.approx(math.log(0.2 / 0.5))
    assert scored["contrib:budget"].iloc[1] == pytest.approx(math.log((3 / 5) / (1 / 6)))
    assert scored["contrib:budget"].iloc[2] == pytest.approx(math.log((1 / 5) / (2 / 6)))
    assert nb.score({"budget": 100}, as_of=AS_OF).contributions[1].note == "> 2.5"
    explicit = NaiveBayesScorer(features=["budget"], numeric={"budget": [3.0, 1.0]})
    explicit.fit(frame, as_of=AS_OF)
    assert explicit.model_ is not None
    assert list(explicit.model_["features"]["budget"]["counts"]) == [
        "<= 1",
        "(1, 3]",
        "> 3",
        MISSING,
    ]


def test_missing_values_are_their_own_value() -> None:
    frame = _history().assign(country=pd.Series(["DE", None, "DE", "DE", None, None], dtype=object))
    nb = NaiveBayesScorer(features=["country"], alpha=1.0).fit(frame, as_of=AS_OF)
    assert nb.model_ is not None
    assert nb.model_["features"]["country"]["counts"] == {"DE": [2, 1], MISSING: [1, 2]}
    assert nb.score({"country": None}, as_of=AS_OF).contributions[1].note == MISSING


def test_unseen_values_raise_or_count_as_neutral() -> None:
    nb = _fitted()
    with pytest.raises(DataError, match="never seen in training") as info:
        nb.score_frame(
            pd.DataFrame({"industry": ["software", "mining"], "country": ["DE", "DE"]}), as_of=AS_OF
        )
    assert info.value.column == "industry"
    assert info.value.value == "mining"
    with pytest.raises(ValidationError, match="industry"):
        nb.score({"industry": "mining", "country": "DE"}, as_of=AS_OF)
    lenient = NaiveBayesScorer(features=["industry", "country"], alpha=1.0, unseen="ignore")
    lenient.fit(_history(), as_of=AS_OF)
    card = lenient.score({"industry": "mining", "country": "DE"}, as_of=AS_OF)
    assert card.contributions[1].points == 0.0
    assert card.probability == pytest.approx(1.5 / 2.5)  # only the country counts


def test_fit_errors() -> None:
    nb = NaiveBayesScorer(features=["industry"])
    with pytest.raises(FitError, match="empty training data"):
        nb.fit(_history(), as_of=pd.Timestamp("2026-01-01", tz="UTC"))
    with pytest.raises(FitError, match="'lost'") as info:
        nb.fit(_history().assign(state="won"), as_of=AS_OF)
    assert info.value.diagnostics == {"as_of": "2026-02-01", "won": 6, "lost": 0}
    with pytest.raises(MissingColumnError, match="industry"):
        nb.fit(_history().drop(columns="industry"), as_of=AS_OF)
    with pytest.raises(DataError, match="closed_at"):
        nb.fit(_history().assign(closed_at=pd.Series([pd.NaT] * 6)), as_of=AS_OF)
    with pytest.raises(FitError, match="not fitted"):
        nb.score({"industry": "software"}, as_of=AS_OF)
    with pytest.raises(SpecError) as spec:
        NaiveBayesScorer(features=["x"], alpha=-1)
    assert spec.value.path == "alpha"
    with pytest.raises(SpecError) as numeric:
        NaiveBayesScorer(features=["x"], numeric={"y": 3})
    assert numeric.value.path == "numeric.y"
    with pytest.raises(SpecError, match="did you mean 'features'"):
        build_scorer({"scorer": "naive_bayes", "features": ["x"], "featurs": []})


def test_config_roundtrip_with_model() -> None:
    nb = NaiveBayesScorer(
        features=["industry", "budget"], numeric={"budget": [1000.0]}, alpha=0.5
    ).fit(_history().assign(budget=[500.0, 2000, 3000, 10, 20, np.nan]), as_of=AS_OF)
    frame = pd.DataFrame({"industry": ["software", "retail"], "budget": [5000.0, np.nan]})
    config = nb.to_dict()
    for text in (json.dumps(config), yaml.safe_dump(config)):
        again = NaiveBayesScorer.from_text(text)
        assert again.to_dict() == config
        pd.testing.assert_frame_equal(
            again.score_frame(frame, as_of=AS_OF), nb.score_frame(frame, as_of=AS_OF)
        )


records = st.fixed_dictionaries(
    {
        "industry": st.sampled_from(["software", "retail"]),
        "country": st.sampled_from(["DE", "FR"]),
    }
)


@given(st.lists(records, min_size=1, max_size=20))
def test_single_and_frame_agree_and_contributions_add_up(rows: list[dict[str, str]]) -> None:
    nb = _fitted(alpha=0.3)
    frame = pd.DataFrame(rows)
    scored = nb.score_frame(frame, as_of=AS_OF)
    contrib = scored.filter(like="contrib:").sum(axis=1).to_numpy()
    p = scored["probability"].to_numpy()
    assert np.allclose(contrib, np.log(p / (1 - p)))
    for i, row in enumerate(rows):
        card = nb.score(row, as_of=AS_OF)
        assert card.probability == pytest.approx(p[i])
        assert card.grade == scored["grade"].iloc[i]


def test_evaluate_on_a_time_split_hand_computed() -> None:
    history = pd.DataFrame(
        {
            "c": ["x", "x", "y", "y", "x", "y", "y", "x"],
            "state": ["won", "won", "lost", "lost", "won", "lost", "won", "open"],
            "closed_at": [BEFORE] * 4 + [AFTER] * 3 + [pd.NaT],
        }
    )
    nb = NaiveBayesScorer(features=["c"], alpha=1.0).fit(history, as_of=AS_OF)
    ev = nb.evaluate(history)
    # trained on the first four: P(x|won) = 3/4, P(x|lost) = 1/4 -> p(x) = 0.75, p(y) = 0.25
    # holdout: x won (0.75), y lost (0.25), y won (0.25)
    # AUC: won scores {0.75, 0.25} vs lost {0.25}: pairs 1 + 0.5 (tie) = 1.5 / 2 = 0.75
    # Brier: squared errors 0.25^2, 0.25^2 and 0.75^2 sum to 0.6875, over 3 records
    assert (ev.n, ev.n_won) == (3, 2)
    assert ev.auc == pytest.approx(0.75)
    assert ev.brier == pytest.approx(0.6875 / 3)
    assert ev.base_brier == pytest.approx(2 / 3 * 1 / 3)
    assert ev.calibration["n"].sum() == 3
    with pytest.raises(DataError, match="no record closed at or after"):
        nb.evaluate(history.iloc[:4])


def _hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of the AUC (Hanley & McNeil 1982, eq. 2)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    return math.sqrt(var / (n_pos * n_neg))


def test_synthetic_world_auc_is_clearly_above_chance_on_a_time_split() -> None:
    from crmlifecycle.synth import generate

    world = generate(seed=3, n_leads=4000)
    leads = world.leads.drop(columns=["state", "state_since", "created_at"])
    deals = world.opportunities.merge(leads, on="lead_id", how="left", validate="many_to_one")
    closed = deals["closed_at"].dropna().sort_values()
    as_of = closed.iloc[int(len(closed) * 0.6)]  # train on the first 60% of closed deals
    nb = NaiveBayesScorer(
        features=["industry", "job_title", "channel", "company_size", "budget"],
        numeric={"company_size": 4, "budget": 4},
        alpha=1.0,
        unseen="ignore",
    ).fit(deals, as_of=as_of)  # the default OutcomeColumns: the opportunities' own columns
    is_closed = deals["state"].isin(["won", "lost"])
    assert nb.model_ is not None
    assert nb.model_["won"] + nb.model_["lost"] == int(
        (is_closed & (deals.closed_at < as_of)).sum()
    )
    ev = nb.evaluate(deals)
    assert ev.n == int((is_closed & (deals.closed_at >= as_of)).sum())
    assert ev.auc > 0.6
    assert ev.auc - 3 * _hanley_mcneil_se(ev.auc, ev.n_won, ev.n - ev.n_won) > 0.5
    assert ev.brier < 0.25


def test_renamed_history_columns_give_the_same_model() -> None:
    history = _history().rename(columns={"state": "outcome", "closed_at": "ended"})
    columns = OutcomeColumns(state="outcome", closed_at="ended")
    nb = NaiveBayesScorer(features=["industry", "country"], alpha=1.0)
    assert nb.fit(history, as_of=AS_OF, history_columns=columns).model_ == _fitted().model_
    with pytest.raises(MissingColumnError, match="state"):
        NaiveBayesScorer(features=["industry"]).fit(history, as_of=AS_OF)


def test_won_and_lost_come_from_the_lifecycle_stage_types() -> None:
    spec = OPPORTUNITY_PIPELINE.to_dict()
    names = {"won": "signed", "lost": "churned"}
    for state in spec["states"]:
        state["name"] = names.get(state["name"], state["name"])
    for transition in spec["transitions"]:
        if "dest" in transition:
            transition["dest"] = names.get(transition["dest"], transition["dest"])
        source = transition["source"]
        if isinstance(source, list):
            transition["source"] = [names.get(s, s) for s in source]
        else:
            transition["source"] = names.get(source, source)
    renamed = Lifecycle.from_dict(spec)
    history = _history().assign(state=_history()["state"].replace(names))
    scorer = NaiveBayesScorer(features=["industry", "country"])
    custom = scorer.fit(history, as_of=AS_OF, lifecycle=renamed)
    assert custom.to_dict()["model"] == _fitted().to_dict()["model"]
    with pytest.raises(FitError, match="no record closed before 2026-02-01"):
        scorer.fit(history, as_of=AS_OF)  # the standard lifecycle sees no won or lost state
