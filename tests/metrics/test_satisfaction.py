from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import DataError, MissingColumnError, ValidationError
from crmlifecycle.metrics._satisfaction import ces, csat, nps
from crmlifecycle.schema import FeedbackColumns


def answers(kind: str, scores: list[int], **extra: object) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "score": scores, **extra})


class TestNps:
    def test_ten_answers(self) -> None:
        # 5 promoters (9-10), 2 passives (7-8), 3 detractors (0-6): 50% - 30% = 20
        frame = answers("nps", [10, 9, 9, 10, 9, 7, 8, 0, 6, 3])
        assert nps(frame) == 20.0

    def test_extremes_and_passives(self) -> None:
        assert nps(answers("nps", [10, 9])) == 100.0
        assert nps(answers("nps", [0, 6, 5])) == -100.0
        # passives only: 0% - 0% = 0, they still count in the denominator
        assert nps(answers("nps", [7, 8, 7])) == 0.0
        # 1 promoter, 3 passives: 25% - 0% = 25 (passives dilute)
        assert nps(answers("nps", [9, 7, 8, 7])) == 25.0

    def test_other_kinds_are_ignored_and_no_answers_is_undefined(self) -> None:
        frame = pd.concat([answers("nps", [10, 0]), answers("csat", [5, 5, 5])])
        assert nps(frame) == 0.0  # 50% - 50%; the CSAT fives (out of NPS range) are not read
        assert math.isnan(nps(answers("csat", [5])))

    def test_by_segment_and_period(self) -> None:
        frame = answers(
            "nps",
            [10, 0, 9, 8, 7, 3],
            at=pd.to_datetime(
                [
                    "2026-01-02T10:00Z",
                    "2026-01-20T10:00Z",
                    "2026-02-01T00:00Z",
                    "2026-02-03T00:00Z",
                    "2026-02-28T23:59Z",
                    "2026-04-01T00:30+02:00",  # = 22:30Z on 31 March: March in UTC
                ],
                utc=True,
            ),
            segment=["a", "b", "a", "a", "b", "b"],
        )
        by_month = nps(frame, freq="M")
        assert by_month["period"].astype(str).tolist() == ["2026-01", "2026-02", "2026-03"]
        # Jan: 1 promoter, 1 detractor -> 0; Feb: 1 promoter, 2 passives -> 33.3; Mar: 1 detractor
        assert by_month["nps"].tolist() == pytest.approx([0.0, 100 / 3, -100.0])
        assert by_month["responses"].tolist() == [2, 3, 1]
        both = nps(frame, freq="Q", by="segment")
        assert list(both.columns) == [
            "period",
            "segment",
            "nps",
            "promoters",
            "passives",
            "detractors",
            "responses",
        ]
        # a: 10, 9, 8 -> 2 promoters of 3 = 66.7; b: 0, 7, 3 -> 2 detractors of 3 = -66.7
        assert both["nps"].tolist() == pytest.approx([200 / 3, -200 / 3])
        assert str(both["period"].iloc[0]) == "2026Q1"

    @pytest.mark.parametrize("bad", [11, -1, 8.5])
    def test_out_of_range_scores_are_errors(self, bad: float) -> None:
        frame = answers("nps", [10, 9, 0]).astype({"score": "float64"})
        frame.loc[1, "score"] = bad
        with pytest.raises(DataError, match="0 to 10") as info:
            nps(frame)
        assert (info.value.column, info.value.rows, info.value.value) == ("score", (1,), bad)
        assert "Hint:" in str(info.value)

    def test_missing_and_text_scores_are_errors(self) -> None:
        with pytest.raises(DataError, match="missing"):
            nps(answers("nps", [10, 9]).assign(score=[10.0, math.nan]))
        with pytest.raises(DataError, match="numeric"):
            nps(answers("nps", [10, 9]).assign(score=["10", "9"]))

    def test_missing_column(self) -> None:
        with pytest.raises(MissingColumnError, match="did you mean 'scor'"):
            nps(answers("nps", [10]).rename(columns={"score": "scor"}))
        with pytest.raises(MissingColumnError, match="at"):
            nps(answers("nps", [10]), freq="M")

    def test_naive_mixed_with_aware_is_an_error(self) -> None:
        frame = answers(
            "nps",
            [10, 9],
            at=[datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 2, 10)],
        )
        with pytest.raises(DataError) as info:
            nps(frame, freq="M")
        assert info.value.column == "at"

    def test_missing_segment_is_an_error(self) -> None:
        frame = answers("nps", [10, 9], team=["a", None])
        with pytest.raises(DataError, match="segment"):
            nps(frame, by="team")

    def test_does_not_mutate(self) -> None:
        frame = answers("nps", [10, 9, 0], at=pd.to_datetime(["2026-01-01"] * 3))
        before = frame.copy()
        nps(frame, freq="M")
        pd.testing.assert_frame_equal(frame, before)


scores_nps = st.lists(st.integers(0, 10), min_size=1, max_size=60)


@given(scores_nps)
def test_nps_is_bounded(scores: list[int]) -> None:
    assert -100.0 <= nps(answers("nps", scores)) <= 100.0


@given(scores_nps, st.integers(9, 10))
def test_adding_a_promoter_never_lowers_nps(scores: list[int], promoter: int) -> None:
    before = nps(answers("nps", scores))
    after = nps(answers("nps", [*scores, promoter]))
    assert after >= before - 1e-9


@given(scores_nps, st.integers(0, 6))
def test_adding_a_detractor_never_raises_nps(scores: list[int], detractor: int) -> None:
    assert nps(answers("nps", [*scores, detractor])) <= nps(answers("nps", scores)) + 1e-9


@given(st.lists(st.tuples(st.integers(0, 10), st.sampled_from(["a", "b", "c"])), min_size=1))
def test_segment_counts_add_up_to_the_overall_score(rows: list[tuple[int, str]]) -> None:
    frame = answers("nps", [r[0] for r in rows], team=[r[1] for r in rows])
    table = nps(frame, by="team")
    total = table[["promoters", "detractors", "responses"]].sum()
    overall = 100 * (total["promoters"] - total["detractors"]) / total["responses"]
    assert nps(frame) == pytest.approx(overall)


class TestCsat:
    def test_top_two_box(self) -> None:
        # 4 and 5 are satisfied: 3 of 5 answers = 60%
        assert csat(answers("csat", [5, 4, 4, 3, 1])) == 60.0

    def test_other_scale_and_threshold(self) -> None:
        # 1-7 scale, satisfied from 6: 6 and 7 -> 2 of 4 = 50%
        assert csat(answers("csat", [7, 6, 5, 1]), scale=(1, 7), threshold=6) == 50.0
        # top box only on 1-5: 1 of 4
        assert csat(answers("csat", [5, 4, 4, 2]), threshold=5) == 25.0

    def test_by_period(self) -> None:
        frame = answers(
            "csat",
            [5, 1, 4, 4],
            at=pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-08", "2026-01-09"]),
        )
        weekly = csat(frame, freq="W")
        # week of 2025-12-29: 5, 1 -> 50%; week of 2026-01-05: 4, 4 -> 100%
        assert weekly["csat"].tolist() == [50.0, 100.0]
        assert weekly["satisfied"].tolist() == [1, 2]

    @pytest.mark.parametrize(("threshold", "scale"), [(1, (1, 5)), (6, (1, 5)), (True, (1, 5))])
    def test_bad_threshold(self, threshold: int, scale: tuple[int, int]) -> None:
        with pytest.raises(ValidationError) as info:
            csat(answers("csat", [5]), threshold=threshold, scale=scale)
        assert info.value.field == "threshold"

    @pytest.mark.parametrize("scale", [(5, 1), (1,), (1.0, 5.0), "15"])
    def test_bad_scale(self, scale: object) -> None:
        with pytest.raises(ValidationError) as info:
            csat(answers("csat", [5]), scale=scale)  # type: ignore[call-overload]
        assert info.value.field == "scale"

    def test_zero_and_six_are_out_of_range(self) -> None:
        with pytest.raises(DataError, match="1 to 5"):
            csat(answers("csat", [0, 5]))
        with pytest.raises(DataError, match="1 to 5"):
            csat(answers("csat", [6, 5]))

    @given(st.lists(st.integers(1, 5), min_size=1, max_size=40))
    def test_bounded_and_monotone_in_threshold(self, scores: list[int]) -> None:
        frame = answers("csat", scores)
        shares = [csat(frame, threshold=t) for t in (2, 3, 4, 5)]
        assert all(0.0 <= s <= 100.0 for s in shares)
        assert shares == sorted(shares, reverse=True)


class TestCes:
    def test_mean_on_the_seven_point_scale(self) -> None:
        # (7 + 5 + 6 + 2) / 4 = 5.0
        assert ces(answers("ces", [7, 5, 6, 2])) == 5.0

    def test_original_five_point_scale(self) -> None:
        assert ces(answers("ces", [1, 2, 2]), scale=(1, 5)) == pytest.approx(5 / 3)
        with pytest.raises(DataError, match="1 to 5"):
            ces(answers("ces", [7]), scale=(1, 5))

    def test_by_segment_keeps_sums(self) -> None:
        frame = answers("ces", [7, 5, 1], channel=["chat", "chat", "phone"])
        table = ces(frame, by=["channel"])
        assert table.to_dict("list") == {
            "channel": ["chat", "phone"],
            "ces": [6.0, 1.0],
            "score_sum": [12.0, 1.0],
            "responses": [2, 1],
        }

    def test_no_answers_is_undefined(self) -> None:
        assert math.isnan(ces(answers("nps", [1])))
        table = ces(answers("nps", [1], team=["a"]), by="team")
        assert table.empty

    def test_kind_none_reads_every_row(self) -> None:
        frame = pd.DataFrame({"score": [1, 7]})
        assert ces(frame, kind=None) == 4.0


def test_renamed_columns_are_read_through_the_spec() -> None:
    # a survey export with its own column names: 2 promoters, 1 detractor of 4 -> 25
    export = pd.DataFrame(
        {
            "survey": ["nps", "nps", "nps", "nps", "csat"],
            "rating": [10, 9, 8, 2, 5],
            "answered": pd.to_datetime(["2026-01-02"] * 4 + ["2026-02-02"], utc=True),
        }
    )
    cols = FeedbackColumns(kind="survey", score="rating", at="answered")
    assert nps(export, feedback_columns=cols) == 25.0
    assert csat(export, feedback_columns=cols) == 100.0  # the one CSAT answer is a 5
    monthly = nps(export, feedback_columns=cols, freq="M")
    assert monthly["period"].astype(str).tolist() == ["2026-01"]
    assert monthly["nps"].tolist() == [25.0]
    with pytest.raises(MissingColumnError, match="score"):
        nps(export)


def test_empty_by_is_refused() -> None:
    # a table was asked for but no segment named: an error, not a number the types deny
    with pytest.raises(ValidationError, match="by"):
        nps(answers("nps", [10]), by=[])
