"""
The blocked, narrow-key RFM summary equals a plain pandas summary on random order logs.

Keys are built a block of rows at a time in uint32 where they fit (int64 otherwise);
both key types and many small blocks must give what a direct ``groupby`` gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlifecycle.metrics.clv import _rfm, calibration_holdout, rfm_summary

AS_OF = pd.Timestamp("2026-03-31", tz="UTC")
END = pd.Timestamp("2026-06-30", tz="UTC")


def _orders(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, customers = 300 + 50 * seed, 4 + 9 * seed
    ids = np.array([f"k{i:03d}" for i in range(customers)], dtype=object)
    seconds = rng.integers(0, 540 * 86_400, n)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(
                ids[rng.integers(0, customers, n)], dtype="str" if seed % 2 else "object"
            ),
            "at": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "amount": rng.integers(1, 100, n) * 1.0,
        }
    )


def _by_hand(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Daily occasions and days as the unit, with a plain groupby."""
    day = orders["at"].dt.floor("D")
    frame = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype(object),
            "day": day,
            "amount": orders["amount"],
        }
    )
    frame = frame[frame["day"] <= as_of.floor("D")]
    occasions = frame.groupby(["customer_id", "day"], as_index=False).agg(amount=("amount", "sum"))
    per = occasions.groupby("customer_id")
    first, last = per["day"].min(), per["day"].max()
    count = per.size()
    first_amount = occasions.sort_values("day").groupby("customer_id")["amount"].first()
    repeats = count - 1
    total = per["amount"].sum() - first_amount
    return pd.DataFrame(
        {
            "frequency": repeats.astype("int64"),
            "recency": (last - first).dt.days.astype("float64"),
            "T": (as_of.floor("D") - first).dt.days.astype("float64"),
            "monetary_value": (total / repeats.where(repeats > 0)).fillna(0.0),
        }
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("path", ["chosen", "int64 keys", "small blocks"])
def test_summary_equals_a_plain_groupby(
    seed: int, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "int64 keys":
        monkeypatch.setattr(_rfm, "_UINT32_KEYS", 0)
    elif path == "small blocks":
        monkeypatch.setattr(_rfm, "_BLOCK_ROWS", 64)
    orders = _orders(seed)
    ours = rfm_summary(orders, as_of=AS_OF, monetary_value=True)
    expected = _by_hand(orders, AS_OF)
    np.testing.assert_array_equal(ours.index.astype(object), expected.index.astype(object))
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), expected.reset_index(drop=True), check_names=False
    )
    holdout = calibration_holdout(orders, as_of=AS_OF, end=END, monetary_value=True)
    later = orders[(orders["at"].dt.floor("D") > AS_OF.floor("D")) & (orders["at"] <= END)]
    occasions = (
        later.assign(day=later["at"].dt.floor("D"))
        .groupby([later["customer_id"].astype(object), "day"])["amount"]
        .sum()
    )
    per = occasions.groupby(level=0)
    counts = per.size().reindex(holdout.index.astype(object), fill_value=0)
    spend = per.sum().reindex(holdout.index.astype(object), fill_value=0.0)
    np.testing.assert_array_equal(holdout["frequency_holdout"].to_numpy(), counts.to_numpy())
    mean = np.divide(
        spend.to_numpy(), counts.to_numpy(), out=np.zeros(len(counts)), where=counts.to_numpy() > 0
    )
    np.testing.assert_allclose(holdout["monetary_value_holdout"].to_numpy(), mean, rtol=1e-12)
