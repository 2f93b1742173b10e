from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.entities import Lead
from crmlifecycle.errors import (
    DataError,
    MissingColumnError,
    SpecError,
    UnknownFieldError,
)
from crmlifecycle.rules import Condition
from crmlifecycle.schema import InteractionColumns, LeadColumns
from crmlifecycle.scoring import (
    PointsScorer,
    explain_frame,
)
from crmlifecycle.values import Money

AT = pd.Timestamp("2026-03-31", tz="UTC")


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _scorer() -> PointsScorer:
    return PointsScorer(
        fit=[
            {"name": "software", "when": "industry == 'software'", "points": 20},
            {"name": "big company", "when": "company_size >= 200", "points": 15},
            {"name": "student", "when": "job_title == 'Student'", "points": -30},
        ],
        engagement=[
            {"kind": "email_open", "points": 2, "half_life_days": 10, "category": "email"},
            {"kind": "email_click", "points": 4, "half_life_days": 10, "category": "email"},
            {"kind": "demo_request", "points": 40, "half_life_days": 30},
            {"kind": "web_visit", "points": 1},
        ],
        caps={"email": 5},
        grades={"A": 60, "B": 30},
        default_grade="C",
        labels={"SQL": 60, "MQL": 30},
    )


def _leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "industry": ["software", "retail", "software"],
            "company_size": [500, 20, 50],
            "job_title": ["CTO", "Student", "Analyst"],
        }
    )


def _interactions() -> pd.DataFrame:
    rows = [
        ("L1", "demo_request", "2026-03-01"),  # 30 days old: 40 * 0.5 = 20
        ("L1", "email_open", "2026-03-21"),  # 10 days: 2 * 0.5 = 1
        ("L1", "email_click", "2026-03-31"),  # today: 4
        ("L2", "email_click", "2026-03-31"),  # 4 + 4 + 4 = 12, capped at 5
        ("L2", "email_click", "2026-03-31"),
        ("L2", "email_click", "2026-03-31"),
        ("L2", "web_visit", "2025-03-31"),  # no half-life: 1 however old
        ("L3", "demo_request", "2026-04-10"),  # after at: not counted yet
        ("L3", "download", "2026-03-30"),  # no rule for this kind: ignored
        ("L9", "demo_request", "2026-03-30"),  # unknown lead: ignored
    ]
    return pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "at": [_day(r[2]) for r in rows],
        }
    )


def test_hand_computed_frame() -> None:
    scored = _scorer().score_frame(_leads(), as_of=AT, interactions=_interactions())
    # L1: software 20 + big 15 + email (1 + 4 = 5, cap 5) + demo 20 = 60 -> A, SQL
    # L2: student -30 + email min(12, 5) = 5 + web visit 1 = -24 -> C, lead
    # L3: software 20, nothing else counted -> 20 -> C, lead
    assert scored["score"].tolist() == pytest.approx([60.0, -24.0, 20.0])
    assert scored["contrib:engagement:email"].tolist() == pytest.approx([5.0, 5.0, 0.0])
    assert scored["contrib:engagement:demo_request"].tolist() == pytest.approx([20.0, 0.0, 0.0])
    assert scored["contrib:engagement:web_visit"].tolist() == [0.0, 1.0, 0.0]
    assert scored["grade"].astype(str).tolist() == ["A", "C", "C"]
    assert scored["label"].astype(str).tolist() == ["SQL", "lead", "lead"]
    assert list(scored.index) == [0, 1, 2]
    assert explain_frame(scored, top=2).tolist() == [
        "+20 software; +20 engagement:demo_request",
        "-30 student; +5 engagement:email",
        "+20 software",
    ]


def test_single_record_matches_and_explains() -> None:
    scorer = _scorer()
    interactions = _interactions()
    card = scorer.score(
        _leads().iloc[1].to_dict(),
        as_of=AT,
        interactions=interactions[interactions.lead_id == "L2"],
    )
    assert card.total == pytest.approx(-24.0)
    assert (card.grade, card.label) == ("C", "lead")
    email = next(c for c in card.contributions if c.rule == "engagement:email")
    assert email.points == 5.0
    assert email.value == 3
    assert email.note == "3 interactions, 12 after decay, capped at 5"
    student = next(c for c in card.contributions if c.rule == "student")
    assert student.value == {"job_title": "Student"}


def test_half_life_halves_the_points() -> None:
    scorer = PointsScorer(engagement=[{"kind": "webinar", "points": 8, "half_life_days": 7}])
    ages = [0, 7, 14, 21]
    interactions = pd.DataFrame(
        {
            "lead_id": [f"L{a}" for a in ages],
            "kind": "webinar",
            "at": [AT - pd.Timedelta(days=a) for a in ages],
        }
    )
    leads = pd.DataFrame({"lead_id": [f"L{a}" for a in ages]})
    scored = scorer.score_frame(leads, as_of=AT, interactions=interactions)
    assert scored["score"].tolist() == pytest.approx([8.0, 4.0, 2.0, 1.0])


@given(
    st.lists(st.floats(min_value=0, max_value=1000), min_size=2, max_size=10),
    st.floats(min_value=0.5, max_value=365),
)
def test_decay_is_monotone_in_age(ages: list[float], half_life: float) -> None:
    scorer = PointsScorer(engagement=[{"kind": "k", "points": 10, "half_life_days": half_life}])
    ids = [f"L{i}" for i in range(len(ages))]
    interactions = pd.DataFrame(
        {"lead_id": ids, "kind": "k", "at": [AT - pd.Timedelta(days=a) for a in ages]}
    )
    scored = scorer.score_frame(pd.DataFrame({"lead_id": ids}), as_of=AT, interactions=interactions)
    points = scored["score"].to_numpy()
    order = np.argsort(ages, kind="stable")
    assert (np.diff(points[order]) <= 1e-12).all()  # older never scores more
    assert ((points >= 0) & (points <= 10)).all()  # may underflow to 0 when very old


interaction_rows = st.lists(
    st.tuples(
        st.sampled_from(["L1", "L2", "L3"]),
        st.sampled_from(["email_open", "email_click", "demo_request", "web_visit", "download"]),
        st.integers(min_value=-5, max_value=400),
    ),
    max_size=25,
)


@given(interaction_rows)
def test_single_and_frame_agree(rows: list[tuple[str, str, int]]) -> None:
    scorer = _scorer()
    interactions = pd.DataFrame(
        {
            "lead_id": pd.Series([r[0] for r in rows], dtype=object),
            "kind": pd.Series([r[1] for r in rows], dtype=object),
            "at": pd.Series(
                [AT - pd.Timedelta(days=r[2]) for r in rows], dtype="datetime64[ns, UTC]"
            ),
        }
    )
    leads = _leads()
    scored = scorer.score_frame(leads, as_of=AT, interactions=interactions)
    for i, (_, lead) in enumerate(leads.iterrows()):
        mine = interactions[interactions["lead_id"] == lead["lead_id"]]
        card = scorer.score(lead.to_dict(), as_of=AT, interactions=mine.to_dict("records"))
        assert card.total == pytest.approx(scored["score"].iloc[i])
        assert card.total == pytest.approx(sum(c.points for c in card.contributions))
        assert card.grade == scored["grade"].iloc[i]
        assert card.label == scored["label"].iloc[i]
        for c in card.contributions:
            assert c.points == pytest.approx(scored[f"contrib:{c.rule}"].iloc[i])


def test_bant_preset_on_an_entity_and_a_frame() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    lead = Lead(
        id="L1",
        created_at=datetime(2025, 6, 1, tzinfo=UTC),
        budget=Money("50000", "EUR"),
        job_title="VP Sales",
    )
    demo = [{"kind": "demo_request", "at": datetime(2026, 2, 1, tzinfo=UTC)}]
    card = PointsScorer.bant().score(lead, as_of=at, interactions=demo)
    # budget 25 + authority 25 + need 25 * 0.5 ** (28 / 30) + timeline 0 (273 days old)
    need = 25 * 0.5 ** (28 / 30)
    assert card.total == pytest.approx(50 + need)
    assert (card.grade, card.label) == ("B", "MQL")
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "budget": [50_000.0, np.nan],
            "job_title": ["VP Sales", "Student"],
            "created_at": [_day("2025-06-01"), _day("2026-02-20")],
        }
    )
    interactions = pd.DataFrame(
        {"lead_id": ["L1"], "kind": ["demo_request"], "at": [_day("2026-02-01")]}
    )
    scored = PointsScorer.bant().score_frame(leads, as_of=at, interactions=interactions)
    # L2: unknown budget (NaN counts as False), a student, created 9 days ago: timeline 25
    assert scored["score"].tolist() == pytest.approx([50 + need, 25.0])


def test_scores_feed_a_rule_condition() -> None:
    scored = _scorer().score_frame(_leads(), as_of=AT, interactions=_interactions())
    auto_qualify = Condition.parse("grade == 'A' and score >= 60")
    assert auto_qualify.evaluate_frame(scored).tolist() == [True, False, False]
    card = _scorer().score(
        _leads().iloc[0].to_dict(),
        as_of=AT,
        interactions=_interactions().iloc[:3].to_dict("records"),
    )
    assert auto_qualify.evaluate({"grade": card.grade, "score": card.total})


def test_config_roundtrip() -> None:
    scorer = _scorer()
    config = scorer.to_dict()
    assert config["engagement"][0] == {
        "kind": "email_open",
        "points": 2.0,
        "category": "email",
        "half_life_days": 10.0,
    }
    for text in (json.dumps(config), yaml.safe_dump(config)):
        again = PointsScorer.from_text(text)
        assert again.to_dict() == config
        pd.testing.assert_frame_equal(
            again.score_frame(_leads(), as_of=AT, interactions=_interactions()),
            scorer.score_frame(_leads(), as_of=AT, interactions=_interactions()),
        )
    assert PointsScorer.from_dict(PointsScorer.bant().to_dict()).to_dict() == (
        PointsScorer.bant().to_dict()
    )


@pytest.mark.parametrize(
    ("config", "path"),
    [
        (
            {"engagement": [{"kind": "x", "points": 1, "half_life_days": -7}]},
            "engagement[0].half_life_days",
        ),
        (
            {"engagement": [{"kind": "x", "points": 1, "half_life_days": 0}]},
            "engagement[0].half_life_days",
        ),
        ({"engagement": [{"kind": "x", "point": 1}]}, "engagement[0].point"),
        (
            {"engagement": [{"kind": "x", "points": 1}, {"kind": "x", "points": 2}]},
            "engagement[1].kind",
        ),
        ({"engagement": [{"kind": "x", "points": 1}], "caps": {"y": 3}}, "caps.y"),
        ({"engagement": [{"kind": "x", "points": 1}], "caps": {"x": -3}}, "caps.x"),
        ({"fit": [{"when": "industry ==", "points": 1}]}, "fit[0].when"),
        ({"fit": [{"when": "a > 1", "points": "many"}]}, "fit[0].points"),
        ({"fit": [{"when": "a > 1"}]}, "fit[0].points"),
        ({"fit": [{"when": "a > 1", "points": 1}, {"when": "a > 1", "points": 2}]}, "fit[1].name"),
        ({"grades": {"A": 10, "B": 10}}, "grades"),
        ({"fit": {"when": "a > 1", "points": 1}}, "fit"),
        ({"labels": {"SQL": 80}, "lables": {}}, "lables"),
        ({"scorer": "rfm"}, "scorer"),
    ],
)
def test_bad_configs_name_the_field(config: dict[str, object], path: str) -> None:
    with pytest.raises(SpecError) as info:
        PointsScorer.from_dict(config)
    assert info.value.path == path
    assert "Hint:" in str(info.value)


def test_bad_frames() -> None:
    scorer = _scorer()
    with pytest.raises(UnknownFieldError, match="unknown field 'industry'"):
        scorer.score_frame(
            _leads().rename(columns={"industry": "industri"}),
            as_of=AT,
            interactions=_interactions(),
        )
    with pytest.raises(DataError, match="no interactions"):
        scorer.score_frame(_leads(), as_of=AT)
    with pytest.raises(MissingColumnError, match="kind"):
        scorer.score_frame(_leads(), as_of=AT, interactions=_interactions().drop(columns="kind"))
    with pytest.raises(DataError, match="duplicate or missing lead ids"):
        scorer.score_frame(pd.concat([_leads(), _leads()]), as_of=AT, interactions=_interactions())
    naive = _interactions().assign(at=pd.Timestamp("2026-03-01 10:00"))
    with pytest.raises(DataError, match="naive"):
        scorer.score_frame(_leads(), as_of=AT, interactions=naive)
    before = _leads()
    scorer.score_frame(before, as_of=AT, interactions=_interactions())
    pd.testing.assert_frame_equal(before, _leads())


def test_no_rules_scores_zero_and_default_grades() -> None:
    scored = PointsScorer().score_frame(_leads(), as_of=AT)
    assert scored["score"].tolist() == [0.0, 0.0, 0.0]
    assert scored["grade"].astype(str).tolist() == ["D"] * 3  # below C (20)
    assert PointsScorer().score({}, as_of=AT).explain() == "0 (grade D, lead): no contributions"


def test_missing_ids_and_kinds() -> None:
    scorer = _scorer()
    leads = _leads().assign(lead_id=pd.Series(["L1", None, "L3"], dtype=object))
    with pytest.raises(DataError, match="missing lead ids") as info:
        scorer.score_frame(leads, as_of=AT, interactions=_interactions())
    assert info.value.rows == (1,)
    odd = _interactions().assign(kind=pd.Series([None] * 10, dtype=object))
    scored = scorer.score_frame(_leads(), as_of=AT, interactions=odd)  # no kind: no points
    assert scored["score"].tolist() == [35.0, -30.0, 20.0]  # fit points only
    empty = _interactions().iloc[:0]
    assert scorer.score_frame(_leads(), as_of=AT, interactions=empty)["score"].tolist() == [
        35.0,
        -30.0,
        20.0,
    ]


def test_renamed_lead_and_interaction_columns_give_the_same_scores() -> None:
    scorer = _scorer()
    expected = scorer.score_frame(_leads(), as_of=AT, interactions=_interactions())
    leads = _leads().rename(columns={"lead_id": "id"})
    touches = _interactions().rename(columns={"lead_id": "lead", "kind": "type", "at": "when"})
    columns = InteractionColumns(lead_id="lead", kind="type", at="when")
    scored = scorer.score_frame(
        leads,
        as_of=AT,
        interactions=touches,
        leads_columns=LeadColumns(lead_id="id"),
        interactions_columns=columns,
    )
    pd.testing.assert_frame_equal(scored, expected)
    # one lead: the mappings' keys are the renamed columns too
    mine = touches[touches["lead"] == "L2"].to_dict("records")
    card = scorer.score(
        _leads().iloc[1].to_dict(), as_of=AT, interactions=mine, interactions_columns=columns
    )
    assert card.total == expected["score"].iloc[1]
    with pytest.raises(MissingColumnError, match="lead_id"):
        scorer.score_frame(leads, as_of=AT, interactions=touches, interactions_columns=columns)


def test_a_time_rule_needs_as_of() -> None:
    scorer = PointsScorer.bant()
    lead = {"created_at": AT, "job_title": "CTO"}
    with pytest.raises(DataError, match="as_of must not be missing"):
        scorer.score(lead, as_of=None)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="as_of must not be missing"):
        scorer.score_frame(pd.DataFrame([lead]), as_of=None)  # type: ignore[arg-type]
