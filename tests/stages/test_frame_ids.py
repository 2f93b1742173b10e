"""
The id checks of a bulk step on Arrow-backed text: the fast paths give the general answers.

``fire_frame`` refuses ids that are missing, empty or blank, and ids repeated among the
rows that step. On Arrow text both checks first read the Arrow buffers (the first byte
of each id; a 64-bit key per id) and fall back on the general rule only where that
reading proves nothing. These tests hold the fast paths to the general rule on random
texts, including the ones a byte-level reading could get wrong: control characters and
non-ASCII blanks, NUL bytes, lengths on and around the 8-byte words, long ids.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle import _ids
from crmlifecycle._ids import missing_ids, refuse_repeats
from crmlifecycle.errors import DataError
from crmlifecycle.stages import LEAD_STATUS

ARROW = "string[pyarrow]"
# characters that make the byte-level reading hard: blanks of every kind, controls, NUL,
# DEL, non-ASCII letters and blanks, and a few plain ones
TRICKY = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7f\x85\xa0\u1680\u2000\u2028\u3000\ufeffaZ-9é中"
texts = st.one_of(
    st.none(),
    st.text(alphabet=TRICKY, max_size=20),
    st.text(max_size=80),
)


def general_missing(values: pd.Series) -> list[bool]:
    """The general rule, on every cell: missing, or text that is empty or all blanks."""
    import pyarrow as pa

    blank = _ids._blank_cells(pa.array(values.array))
    missing = values.isna().to_numpy(dtype=bool)
    return [bool(m or b) for m, b in zip(missing, blank, strict=True)]


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(texts, max_size=40), start=st.integers(0, 5))
def test_missing_ids_on_arrow_text_equals_the_general_rule(cells: list[Any], start: int) -> None:
    values = pd.Series(cells, dtype=ARROW).iloc[start:]  # a slice: an Arrow offset
    expected = [
        v is None or not v or all(c.isspace() for c in v)
        for v in cells[start:]  # Python's rule, which Arrow's utf8_is_space follows
    ]
    assert missing_ids(values).tolist() == expected
    assert missing_ids(values).tolist() == list(general_missing(values))


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.text(alphabet=TRICKY, min_size=1, max_size=20) | st.text(max_size=90)),
    start=st.integers(0, 3),
)
def test_repeats_on_arrow_text_are_found_as_the_general_check_finds_them(
    cells: list[str], start: int
) -> None:
    values = pd.Series(cells, dtype=ARROW).iloc[start:]
    repeats = len(set(cells[start:])) < len(cells[start:])
    if _ids._distinct_text(values):  # the fast path only ever proves "no repeat"
        assert not repeats
    if repeats:
        with pytest.raises(DataError, match="repeats"):
            refuse_repeats(values, "lead_id", frame_name="entities")
    else:
        refuse_repeats(values, "lead_id", frame_name="entities")


def test_texts_one_nul_apart_are_two_ids() -> None:
    # the keys read 8 zero-padded bytes: a trailing NUL must not make two ids one
    values = pd.Series(["ab", "ab\x00", "abcdefgh", "abcdefgh\x00", ""], dtype=ARROW)
    assert _ids._distinct_text(values)
    refuse_repeats(values, "lead_id", frame_name="entities")


def test_keys_that_collide_fall_back_on_the_general_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    distinct = pd.Series(["L-1", "L-2", "L-3"], dtype=ARROW)
    monkeypatch.setattr(_ids, "_text_keys", lambda text: np.zeros(len(text), dtype=np.uint64))
    assert not _ids._distinct_text(distinct)
    refuse_repeats(distinct, "lead_id", frame_name="entities")  # distinct: no error
    with pytest.raises(DataError, match="repeats"):
        refuse_repeats(
            pd.Series(["L-1", "L-2", "L-1"], dtype=ARROW), "lead_id", frame_name="entities"
        )


def test_long_ids_take_the_general_check() -> None:
    long = pd.Series(["x" * 70 + "1", "x" * 70 + "2"], dtype=ARROW)
    assert not _ids._distinct_text(long)  # no key for texts over 64 bytes
    refuse_repeats(long, "lead_id", frame_name="entities")
    with pytest.raises(DataError, match="repeats"):
        refuse_repeats(
            pd.Series(["x" * 70, "y", "x" * 70], dtype=ARROW), "lead_id", frame_name="entities"
        )


@pytest.mark.parametrize("dtype", [ARROW, object])
@pytest.mark.parametrize("bad", ["", " ", "\u3000", None])
def test_a_bulk_step_refuses_a_blank_id_in_either_storage(dtype: Any, bad: Any) -> None:
    leads = pd.DataFrame(
        {"lead_id": pd.Series(["L-1", bad, "L-3"], dtype=dtype), "state": ["open"] * 3}
    )
    with pytest.raises(DataError, match="lead_id") as err:
        LEAD_STATUS.fire_frame(leads, "contact", at="2026-03-01")
    assert "missing" in str(err.value)


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_a_bulk_step_refuses_an_id_repeated_among_the_rows_that_step(dtype: Any) -> None:
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["L-1", "L-2", "L-1", "L-2"], dtype=dtype),
            "state": ["open", "open", "open", "converted"],
        }
    )
    with pytest.raises(DataError, match="among the rows that step"):
        LEAD_STATUS.fire_frame(leads, "contact", at="2026-03-01")
    # L-2 twice, but once among the rows that step: no error
    step = LEAD_STATUS.fire_frame(leads.iloc[1:], "contact", at="2026-03-01")
    assert step.accepted.tolist() == [True, True, False]


@settings(max_examples=25, deadline=None)
@given(
    states=st.lists(st.sampled_from(LEAD_STATUS.states), min_size=1, max_size=30),
    trigger=st.sampled_from(LEAD_STATUS.trigger_names),
)
def test_object_and_arrow_id_columns_give_the_same_step(states: list[str], trigger: str) -> None:
    # object ids are read once as the events hold them; the outputs are those of Arrow ids
    ids = [f"L-{i}" for i in range(len(states))]
    arrow = pd.DataFrame({"lead_id": pd.Series(ids, dtype=ARROW), "state": states})
    legacy = arrow.astype({"lead_id": object, "state": object})
    one = LEAD_STATUS.fire_frame(arrow, trigger, at="2026-03-01")
    two = LEAD_STATUS.fire_frame(legacy, trigger, at="2026-03-01")
    pd.testing.assert_series_equal(one.state, two.state)
    pd.testing.assert_series_equal(one.accepted, two.accepted)
    pd.testing.assert_series_equal(one.reason, two.reason)
    assert one.events["entity_id"].tolist() == two.events["entity_id"].tolist()
    assert one.events.drop(columns="entity_id").equals(two.events.drop(columns="entity_id"))


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(
        st.text(alphabet=TRICKY, max_size=12)
        | st.text(max_size=30)
        | st.sampled_from([None, float("nan"), pd.NA, 0, 1.5]),
        max_size=30,
    )
)
def test_missing_ids_on_object_columns_follow_the_rule(cells: list[Any]) -> None:
    # all-text columns skip the isna pass; any other value takes the general route
    values = pd.Series(cells, dtype=object)
    expected = [
        (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)))
        or (isinstance(v, str) and (not v or all(c.isspace() for c in v)))
        for v in cells
    ]
    assert missing_ids(values).tolist() == expected
