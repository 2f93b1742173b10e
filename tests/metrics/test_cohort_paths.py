"""
The cohort counts' matrix path and sorting path equal a plain pandas count on random logs.

The matrix path (distinct customer × period pairs marked in a boolean matrix) runs when
the matrix is small, the sorting path otherwise (daily periods over a long span, many
segments); both must give the counts a direct ``groupby`` gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlifecycle._ids import ids_unique
from crmlifecycle.metrics import _cohort, cohort_retention_partial
from crmlifecycle.metrics._common import period_ordinals
from crmlifecycle.metrics._compact import id_codes, period_offsets


def _log(seed: int, rows: int, customers: int, days: int, dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:03d}" for i in range(customers)], dtype=object)
    at = np.datetime64("2025-11-20", "D") + rng.integers(0, days, rows)
    owner = rng.integers(0, customers, rows)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids[owner], dtype=dtype),
            "channel": pd.Series(np.array(["ads", "mail", "web"])[owner % 3], dtype="str"),
            "at": pd.to_datetime(at).tz_localize("UTC"),
        }
    )


def _by_hand(log: pd.DataFrame, freq: str, by: list[str]) -> pd.DataFrame:
    period = log["at"].dt.tz_localize(None).dt.to_period(freq).astype("int64")
    frame = pd.DataFrame({"customer_id": log["customer_id"].astype(object), "p": period})
    for column in by:
        frame[column] = log[column].astype(object)
    frame["_cohort"] = frame.groupby("customer_id")["p"].transform("min")
    frame["period_number"] = frame["p"] - frame["_cohort"]
    pairs = frame.drop_duplicates(["customer_id", "period_number"])
    counts = pairs.groupby([*by, "_cohort", "period_number"], as_index=False).size()
    return counts.rename(columns={"size": "customers"})


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("freq", ["M", "D"])  # "D": the sorting path (many cells)
@pytest.mark.parametrize("by", [[], ["channel"]])
@pytest.mark.parametrize("path", ["chosen", "sorting", "small blocks"])
def test_both_paths_equal_a_plain_count(
    seed: int, freq: str, by: list[str], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "sorting":  # the sorting path even where the matrix path would be chosen
        sparse = _cohort._sparse_cells

        def sorting(c: object, o: object, f: object, g: object, _n: int, w: int) -> object:
            return sparse(c, o, f, g, w)  # type: ignore[arg-type]

        monkeypatch.setattr(_cohort, "_dense_cells", sorting)
    elif path == "small blocks":  # many blocks of rows and of customers
        monkeypatch.setattr(_cohort, "_BLOCK_ROWS", 64)
    dtype = "str" if seed % 2 else "object"
    log = _log(
        seed, rows=400 + 97 * seed, customers=5 + 11 * seed, days=40 + 90 * seed, dtype=dtype
    )
    ours = cohort_retention_partial(log, freq=freq, by=by or None)
    expected = _by_hand(log, freq, by)
    pd.testing.assert_frame_equal(
        ours.astype(dict.fromkeys(by, object)).reset_index(drop=True),
        expected.astype({"_cohort": "int64", "period_number": "int64", "customers": "int64"}),
        check_dtype=False,
    )


@pytest.mark.parametrize("sort", [False, True])
@pytest.mark.parametrize("dtype", ["str", "object", "string[python]", "int64"])
def test_id_codes_equal_factorize(sort: bool, dtype: str) -> None:
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 50, 300)
    values = pd.Series(raw if dtype == "int64" else [f"id{v}" for v in raw], dtype=dtype)
    codes, uniques = id_codes(values, sort=sort)
    expected_codes, expected_uniques = pd.factorize(values, sort=sort)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, expected_codes)
    pd.testing.assert_index_equal(uniques, pd.Index(expected_uniques))


@pytest.mark.parametrize("freq", ["D", "W", "M", "Q", "Y"])
def test_period_offsets_equal_period_ordinals(freq: str) -> None:
    rng = np.random.default_rng(5)
    stamps = pd.Series(
        pd.to_datetime(rng.integers(-(10**18), 2 * 10**18, 700_000), utc=True)
    ).astype("datetime64[ns, UTC]")
    offsets, low = period_offsets(stamps, freq)
    np.testing.assert_array_equal(offsets.astype(np.int64) + low, period_ordinals(stamps, freq))


@pytest.mark.parametrize("width", [1, 3, 8, 12])
@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "object"])
def test_ids_unique_equals_is_unique(width: int, dtype: str) -> None:
    rng = np.random.default_rng(width)
    for size in (2, 5, 60, 3000):
        alphabet = np.array(list("ab\x00é")) if width < 8 else np.array(list("abcdef"))
        cells = rng.choice(alphabet, (size, width))
        values = pd.Series(["".join(row) for row in cells], dtype=dtype)
        assert ids_unique(values) == values.is_unique
        distinct = pd.Series(values.drop_duplicates().tolist(), dtype=dtype)
        assert ids_unique(distinct)
    mixed = pd.Series(["ab", "abc", "ab"], dtype=dtype)  # widths differ: the hashing path
    assert not ids_unique(mixed)
