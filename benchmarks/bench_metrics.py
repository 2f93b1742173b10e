"""
Cohort retention matrix on 10M orders: crmlifecycle vs the same query in DuckDB.

Targets (issue 6): time within 2x of DuckDB on the same frame; peak memory within
3x of the input frame. DuckDB is only the baseline here (``pip install duckdb``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _bench import median_seconds, peak_memory_mb, report

from crmlifecycle.metrics import cohort_retention

N_ORDERS = 10_000_000
N_CUSTOMERS = 1_000_000
QUERY = """
with o as (select customer_id, date_trunc('month', "at") as m from orders),
f as (select customer_id, min(m) as cohort from o group by customer_id),
a as (select distinct customer_id, m from o)
select f.cohort, datediff('month', f.cohort, a.m) as k, count(*) as customers
from a join f using (customer_id)
group by 1, 2
"""


def build_orders() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    customer = rng.integers(0, N_CUSTOMERS, N_ORDERS)
    ids = pd.Series(customer).map("C{:07d}".format).astype("str")
    start = np.datetime64("2021-01-01T00:00:00", "s").astype(np.int64)
    seconds = start + rng.integers(0, 5 * 365 * 86_400, N_ORDERS)
    at = pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]")
    return pd.DataFrame({"customer_id": ids, "at": at, "amount": rng.gamma(2.0, 50.0, N_ORDERS)})


def main() -> None:
    import duckdb

    orders = build_orders()
    input_mb = orders.memory_usage(deep=True).sum() / 2**20
    print(f"input: {len(orders):,} orders, {input_mb:.0f} MiB", flush=True)
    connection = duckdb.connect()
    connection.register("orders", orders)

    def ours() -> pd.DataFrame:
        return cohort_retention(orders, rates=False)

    def duck() -> pd.DataFrame:
        result: pd.DataFrame = connection.sql(QUERY).df()
        return result

    matrix, baseline = ours(), duck()
    total_ours = int(matrix.sum().sum())
    total_duck = int(baseline["customers"].sum())
    print(f"cells agree: {total_ours == total_duck} ({total_ours:,} customer-periods)")
    ours_s = median_seconds(ours, repeat=3)
    duck_s = median_seconds(duck, repeat=3)
    report(
        "cohort retention matrix, 10M orders",
        ours_s,
        duck_s,
        baseline_name="duckdb",
        target="<= 2x",
    )
    peak = peak_memory_mb(ours)
    print(
        f"peak memory (ours): {peak:.0f} MiB = {peak / input_mb:.2f}x the input frame "
        "(target <= 3x)",
        flush=True,
    )


if __name__ == "__main__":
    main()
