from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import (
    DataError,
    FitError,
    MissingColumnError,
    SpecError,
    ValidationError,
)
from crmlifecycle.schema import OrderColumns
from crmlifecycle.scoring import (
    DEFAULT_RFM_SEGMENTS,
    RfmScorer,
    build_scorer,
)
from crmlifecycle.scoring._rfm import rfm_edges, rfm_scores

AT = pd.Timestamp("2026-04-01", tz="UTC")


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c", "d", "e"],
            "at": pd.to_datetime(
                [
                    "2026-01-05",
                    "2026-03-01",
                    "2026-02-01",
                    "2026-01-10",
                    "2026-02-10",
                    "2026-03-10",
                    "2025-06-01",
                    "2025-12-01",
                ],
                utc=True,
            ),
            "amount": [10.0, 20.0, 100.0, 5.0, 5.0, 5.0, 50.0, 40.0],
        }
    )


def test_hand_computed_scores_codes_and_segments() -> None:
    scored = RfmScorer().score_frame(_orders(), as_of=AT)
    # recency days to 2026-04-01: a 31 (Mar 1), b 59 (Feb 1), c 22 (Mar 10),
    # d 304 (2025-06-01), e 121 (2025-12-01); frequency a2 b1 c3 d1 e1;
    # monetary a30 b100 c15 d50 e40.
    assert scored["recency_days"].tolist() == [31.0, 59.0, 22.0, 304.0, 121.0]
    assert scored["frequency"].tolist() == [2, 1, 3, 1, 1]
    assert scored["monetary"].tolist() == [30.0, 100.0, 15.0, 50.0, 40.0]
    # n = 5: score = 1 + number of customers strictly worse.
    # R on -days: c best (4 worse) 5, a 4, b 3, e 2, d 1.
    # F: c (4 below) 5, a (3 below: b, d, e) 4, b/d/e tie at 1 (none below) 1.
    # M: b 5, d 4, e 3, a 2, c 1.
    assert scored["r"].tolist() == [4, 3, 5, 1, 2]
    assert scored["f"].tolist() == [4, 1, 5, 1, 1]
    assert scored["m"].tolist() == [2, 5, 1, 4, 3]
    assert scored["code"].astype(str).tolist() == ["442", "315", "551", "114", "213"]
    assert scored["score"].tolist() == [10.0, 9.0, 11.0, 6.0, 6.0]
    # grid: R4F4 loyal, R3F1 about_to_sleep, R5F5 champions, R1F1 lost, R2F1 hibernating
    assert scored["segment"].astype(str).tolist() == [
        "loyal",
        "about_to_sleep",
        "champions",
        "lost",
        "hibernating",
    ]
    assert scored["label"].astype(str).tolist() == scored["segment"].astype(str).tolist()
    assert (scored["contrib:recency"] == scored["r"]).all()


def test_ten_distinct_values_give_five_equal_groups() -> None:
    values = np.arange(1.0, 11.0)
    # edges at positions ceil(2k/... ): v[2], v[4], v[6], v[8] = 2, 4, 6, 8
    assert rfm_edges(values) == (2.0, 4.0, 6.0, 8.0)
    assert rfm_scores(values, rfm_edges(values)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_one_score() -> None:
    values = np.array([5.0, 5.0, 5.0, 5.0, 1.0])
    # 1 has nobody below -> 1; each 5 has one value below -> 1 + floor(5 * 1 / 5) = 2
    assert rfm_scores(values, rfm_edges(values)).tolist() == [2, 2, 2, 2, 1]


def test_orders_after_at_are_left_out() -> None:
    orders = _orders()
    later = pd.DataFrame(
        {"customer_id": ["d"], "at": pd.to_datetime(["2026-05-01"], utc=True), "amount": [9.0]}
    )
    scored = RfmScorer().score_frame(pd.concat([orders, later], ignore_index=True), as_of=AT)
    pd.testing.assert_frame_equal(scored, RfmScorer().score_frame(orders, as_of=AT))


def test_monetary_mean() -> None:
    summary = RfmScorer(monetary="mean").summarize(_orders(), as_of=AT)
    assert summary["monetary"].tolist() == [15.0, 100.0, 5.0, 50.0, 40.0]  # a: (10 + 20) / 2


def test_input_is_not_mutated() -> None:
    orders = _orders()
    before = orders.copy()
    RfmScorer().score_frame(orders, as_of=AT)
    pd.testing.assert_frame_equal(orders, before)


def test_custom_columns_and_date_only_input() -> None:
    orders = _orders().rename(columns={"customer_id": "cust", "at": "day", "amount": "eur"})
    orders["day"] = orders["day"].dt.tz_localize(None)  # naive date-only is read as UTC days
    columns = OrderColumns(customer_id="cust", at="day", amount="eur")
    scored = RfmScorer().score_frame(orders, as_of=AT, orders_columns=columns)
    assert scored.index.name == "cust"
    assert scored["r"].tolist() == [4, 3, 5, 1, 2]


def _naive_scores(values: np.ndarray) -> list[int]:
    """Reference: 1 + floor(5 * share of strictly lower values), by pairwise comparison."""
    n = len(values)
    below = (values[None, :] < values[:, None]).sum(axis=1)
    return [1 + (5 * int(b)) // n for b in below]


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=60))
def test_matches_pairwise_reference(raw: list[int]) -> None:
    values = np.array(raw, dtype="float64")
    assert rfm_scores(values, rfm_edges(values)).tolist() == _naive_scores(values)


orders_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]),
        st.integers(min_value=0, max_value=400),
        st.integers(min_value=1, max_value=500),
    ),
    min_size=1,
    max_size=40,
)


def _frame(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    start = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "at": [start + pd.Timedelta(days=r[1]) for r in rows],
            "amount": [float(r[2]) for r in rows],
        }
    )


@given(orders_strategy, st.randoms(use_true_random=False))
def test_permutation_invariance(rows: list[tuple[str, int, int]], rnd: object) -> None:
    frame = _frame(rows)
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    at = pd.Timestamp("2026-03-01", tz="UTC")
    pd.testing.assert_frame_equal(
        RfmScorer().score_frame(frame, as_of=at),
        RfmScorer().score_frame(_frame(shuffled), as_of=at),
    )


@given(orders_strategy)
def test_scores_in_range_monotone_and_single_records_agree(
    rows: list[tuple[str, int, int]],
) -> None:
    frame = _frame(rows)
    at = pd.Timestamp("2026-03-01", tz="UTC")
    scorer = RfmScorer()
    scored = scorer.score_frame(frame, as_of=at)
    for dim in ("r", "f", "m"):
        assert scored[dim].between(1, 5).all()
    # a customer with more money never gets a lower M score
    by_money = scored.sort_values("monetary")
    assert by_money["m"].is_monotonic_increasing
    by_recent = scored.sort_values("recency_days", ascending=False)
    assert by_recent["r"].is_monotonic_increasing
    # single-record scoring with edges fitted on the same population agrees with the frame
    scorer.fit(frame, as_of=at)
    for customer, row in scored.iterrows():
        card = scorer.score(row.to_dict(), as_of=at)
        assert card.grade == row["code"], customer
        assert card.label == row["segment"]
        assert card.total == row["score"]
        assert [c.points for c in card.contributions] == [row["r"], row["f"], row["m"]]


def test_single_record_from_last_order_date() -> None:
    scorer = RfmScorer().fit(_orders(), as_of=AT)
    card = scorer.score(
        {"last_order_at": "2026-03-10", "frequency": 3, "monetary": 15.0}, as_of=AT
    )  # the same numbers as customer c
    assert card.grade == "551"
    assert card.label == "champions"
    assert card.contributions[0].note == "22 days since the last order"


def test_custom_segment_grid() -> None:
    grid: list[dict[str, object]] = [
        {"segment": "best", "r": [5, 5], "f": [5, 5], "m": [5, 5]},
        {"segment": "rest"},
    ]
    scored = RfmScorer(segments=grid).score_frame(_orders(), as_of=AT)
    assert scored["segment"].astype(str).tolist() == ["rest"] * 5  # nobody is 555


def test_default_grid_covers_all_codes_with_the_named_segments() -> None:
    names = {s["segment"] for s in DEFAULT_RFM_SEGMENTS}
    assert {"champions", "loyal", "at_risk", "hibernating", "lost"} <= names


@pytest.mark.parametrize(
    ("segments", "path"),
    [
        ([{"segment": "x", "r": [1, 4]}], "segments"),
        ([{"segment": "x", "recency": [1, 5]}], "segments[0].recency"),
        ([{"segment": "x", "r": [0, 5]}], "segments[0].r"),
        ([{"segment": "x", "f": [4, 2]}], "segments[0].f"),
        ([{"r": [1, 5]}], "segments[0].segment"),
    ],
)
def test_bad_grids_name_the_path(segments: list[dict[str, object]], path: str) -> None:
    with pytest.raises(SpecError) as info:
        RfmScorer(segments=segments)
    assert info.value.path == path
    assert "Hint:" in str(info.value)


def test_bad_input_errors() -> None:
    with pytest.raises(MissingColumnError, match="amount"):
        RfmScorer().score_frame(_orders().drop(columns="amount"), as_of=AT)
    negative = _orders().assign(amount=[-1.0, 20, 100, 5, 5, 5, 50, 40])
    with pytest.raises(DataError, match="negative"):
        RfmScorer().score_frame(negative, as_of=AT)
    missing = _orders().assign(amount=[np.nan, 20, 100, 5, 5, 5, 50, 40])
    with pytest.raises(DataError, match="NaN"):
        RfmScorer().score_frame(missing, as_of=AT)
    naive = _orders().assign(at=pd.to_datetime(["2026-01-01 10:00"] * 8))
    with pytest.raises(DataError, match="naive"):
        RfmScorer().score_frame(naive, as_of=AT)
    with pytest.raises(DataError, match="no order at or before"):
        RfmScorer().score_frame(_orders(), as_of=pd.Timestamp("2020-01-01", tz="UTC"))
    with pytest.raises(FitError, match="fit"):
        RfmScorer().score({"recency_days": 1, "frequency": 1, "monetary": 1}, as_of=AT)
    with pytest.raises(SpecError, match="monetary"):
        RfmScorer(monetary="median")  # type: ignore[arg-type]
    fitted = RfmScorer().fit(_orders(), as_of=AT)
    with pytest.raises(ValidationError, match="frequency"):
        fitted.score({"recency_days": 1, "frequency": "many", "monetary": 1}, as_of=AT)


def test_config_roundtrip_json_and_yaml_keeps_edges() -> None:
    scorer = RfmScorer(monetary="mean").fit(_orders(), as_of=AT)
    config = scorer.to_dict()
    assert config["scorer"] == "rfm"
    assert json.loads(json.dumps(config)) == config
    for text in (json.dumps(config), yaml.safe_dump(config)):
        again = RfmScorer.from_text(text)
        assert again.to_dict() == config
    rebuilt = build_scorer(config)
    record = {"recency_days": 22.0, "frequency": 3, "monetary": 5.0}
    assert rebuilt.score(record, as_of=AT) == scorer.score(record, as_of=AT)
    without_type = {k: v for k, v in config.items() if k != "scorer"}
    assert RfmScorer.from_dict(without_type).to_dict() == config


def test_unknown_config_field_is_named() -> None:
    with pytest.raises(SpecError, match="did you mean 'monetary'") as info:
        build_scorer({"scorer": "rfm", "monetray": "sum"})
    assert info.value.path == "monetray"
    with pytest.raises(SpecError) as edges:
        RfmScorer(edges={"recency": [1, 2, 3], "frequency": [1, 2, 3, 4], "monetary": [1, 2, 3, 4]})
    assert edges.value.path == "edges.recency"
