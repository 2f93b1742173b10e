"""The column builders and the event-log builder, against naive references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.stages import LEAD_STATUS
from crmlifecycle.synth import _columns
from crmlifecycle.synth._columns import (
    id_column,
    label_column,
    pick_rows,
    positions,
    segment_cumsum,
    to_time,
)
from crmlifecycle.synth._events import Walks, build_log

lengths_st = st.lists(st.integers(0, 5), max_size=20)


@given(lengths_st, st.integers(0, 2**32))
def test_segment_cumsum_matches_a_loop(lengths: list[int], seed: int) -> None:
    sizes = np.array(lengths, dtype=np.int64)
    values = np.random.default_rng(seed).random(int(sizes.sum()))
    expected: list[float] = []
    position = 0
    for size in lengths:
        expected.extend(np.cumsum(values[position : position + size]).tolist())
        position += size
    np.testing.assert_allclose(segment_cumsum(values, sizes), expected)
    owner, step = positions(sizes)
    assert owner.tolist() == [i for i, size in enumerate(lengths) for _ in range(size)]
    assert step.tolist() == [k for size in lengths for k in range(size)]


@pytest.mark.parametrize("arrow", [True, False])
def test_ids_and_labels_with_and_without_pyarrow(
    arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_columns, "_HAS_ARROW", arrow)
    ids = id_column("C", 12, suffix="@x")
    assert ids.tolist()[:2] == ["C0000001@x", "C0000002@x"]
    assert ids.iloc[-1] == "C0000012@x"
    assert ids.dtype == "str"
    labels = label_column(np.array([2, -1, 0]), pd.Series(["a", "b", "c"], dtype="str"))
    assert labels.iloc[0] == "c"
    assert pd.isna(labels.iloc[1])
    assert labels.dtype == "str"
    assert label_column(np.array([], dtype=np.int64), ["a"]).empty
    assert id_column("X", 0).empty


def test_id_width_is_seven_digits_or_more() -> None:
    assert id_column("O", 3).iloc[0] == "O0000001"


def test_to_time_floors_to_the_second() -> None:
    start = pd.Timestamp("2024-01-01", tz="UTC")
    # 1.5 s = 1.5 / 86400 days -> floored to 1 s
    stamps = to_time(start, [1.5 / 86_400, 1.0])
    assert stamps.tolist() == [
        pd.Timestamp("2024-01-01 00:00:01", tz="UTC"),
        pd.Timestamp("2024-01-02", tz="UTC"),
    ]
    assert str(stamps.dtype) == "datetime64[ns, UTC]"


@given(st.integers(0, 2**32))
def test_pick_rows_never_draws_zero_weights(seed: int) -> None:
    table = np.array([[0.0, 1.0, 3.0], [2.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    rows = np.random.default_rng(seed).integers(0, 3, 200)
    codes = pick_rows(np.random.default_rng(seed + 1), table, rows)
    assert (table[rows, codes] > 0).all()


def test_pick_rows_frequencies() -> None:
    # row 0 weights 1:3 -> code 2 three times as often as code 1
    codes = pick_rows(
        np.random.default_rng(0), np.array([[0.0, 1.0, 3.0]]), np.zeros(40_000, np.int64)
    )
    assert abs((codes == 2).mean() - 0.75) < 0.01


@given(
    st.lists(st.lists(st.floats(0, 10), max_size=6), max_size=8),
    st.floats(0, 40),
)
def test_build_log_censors_to_prefixes(gaps: list[list[float]], horizon: float) -> None:
    # each entity walks open -> contacted -> unqualified -> open ... (contact, disqualify,
    # recycle); times are running sums of its gaps
    entity = np.array([i for i, g in enumerate(gaps) for _ in g], dtype=np.int64)
    step = np.array([k for g in gaps for k in range(len(g))], dtype=np.int64)
    at = np.array([t for g in gaps for t in np.cumsum(g)], dtype=np.float64)
    # LEAD_STATUS codes: states open 0, contacted 1, unqualified 3; triggers contact 0,
    # disqualify 2, recycle 3
    triggers = np.array([0, 2, 3])[step[::-1] % 3]
    dests = np.array([1, 3, 0])[step[::-1] % 3]
    walks = Walks(entity=entity[::-1], step=step[::-1], trigger=triggers, dest=dests, when=at[::-1])
    log = build_log(
        walks,
        lifecycle=LEAD_STATUS,
        ids=pd.Series([f"E{i}" for i in range(len(gaps))], dtype="str"),
        created=np.zeros(len(gaps)),
        start=pd.Timestamp("2024-01-01", tz="UTC"),
        horizon=horizon,
    )
    cycle = ["open", "contacted", "unqualified"]
    for i, g in enumerate(gaps):
        kept = int((np.cumsum(g) < horizon).sum()) if g else 0
        rows = log.frame[log.frame["entity_id"] == f"E{i}"]
        assert len(rows) == kept
        assert (rows["kind"] == "lead").all()
        assert rows["source"].tolist() == [cycle[k % 3] for k in range(kept)]
        assert rows["dest"].tolist() == [cycle[(k + 1) % 3] for k in range(kept)]
        assert log.state[i] == [0, 1, 3][kept % 3]
        assert log.since[i] == (np.cumsum(g)[kept - 1] if kept else 0.0)
