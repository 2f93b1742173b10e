from __future__ import annotations

import math

import pandas as pd
import pytest

from crmlifecycle.errors import DataError, ValidationError
from crmlifecycle.metrics import average_order_value, historic_clv, order_based_clv
from crmlifecycle.schema import OrderColumns


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["a", "a", "b", "b", "c"],
            "channel": ["web", "web", "shop", "shop", "web"],
            "at": pd.to_datetime(
                ["2024-01-10", "2024-06-01", "2024-03-01", "2025-02-01", "2025-12-31"], utc=True
            ),
            "amount": [40.0, 60.0, 100.0, 20.0, 30.0],
        }
    )


def test_historic_clv() -> None:
    # monthly ARPU 50, margin 70%, monthly churn 2.5%: 50 * 0.7 / 0.025 = 1400
    assert historic_clv(50.0, gross_margin=0.7, churn_rate=0.025) == pytest.approx(1400.0)
    assert math.isnan(historic_clv(50.0, gross_margin=0.7, churn_rate=0.0))
    # NaN inputs are undefined KPIs upstream: an error naming the argument, never a NaN
    with pytest.raises(ValidationError, match=r"'arpu' must be a finite number.*Hint:"):
        historic_clv(math.nan, gross_margin=0.7, churn_rate=0.1)
    with pytest.raises(ValidationError, match="'churn_rate' must be"):
        historic_clv(50.0, gross_margin=0.7, churn_rate=math.nan)
    with pytest.raises(ValidationError, match="'gross_margin' must be"):
        historic_clv(50.0, gross_margin=math.nan, churn_rate=0.1)
    with pytest.raises(ValidationError, match="churn_rate"):
        historic_clv(50.0, gross_margin=0.7, churn_rate=2.0)


def test_average_order_value(orders: pd.DataFrame) -> None:
    # (40 + 60 + 100 + 20 + 30) / 5 = 50
    assert average_order_value(orders) == 50.0
    table = average_order_value(orders, freq="Y", by="channel")
    values = {
        (str(p), c): v
        for p, c, v in zip(
            table["period"], table["channel"], table["average_order_value"], strict=True
        )
    }
    # 2024 web: (40 + 60) / 2; 2025 shop: 20
    assert values == {
        ("2024", "shop"): 100.0,
        ("2024", "web"): 50.0,
        ("2025", "shop"): 20.0,
        ("2025", "web"): 30.0,
    }
    assert math.isnan(average_order_value(orders.iloc[:0]))


def test_order_based_clv(orders: pd.DataFrame) -> None:
    # window 2024-01-01 .. 2026-01-01 = 731 days = 731 / 365.25 years
    # AOV 50 x (5 orders / 3 customers / (731 / 365.25)) x 0.5 x 2 years
    years = 731 / 365.25
    expected = 50 * (5 / 3 / years) * 0.5 * 2
    got = order_based_clv(
        orders, gross_margin=0.5, lifespan_years=2, start="2024-01-01", end="2026-01-01"
    )
    assert got == pytest.approx(expected)


def test_order_based_clv_bad_input(orders: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="unique"):
        order_based_clv(orders.assign(order_id="o1"), gross_margin=0.5, lifespan_years=1)
    with pytest.raises(DataError, match="missing"):
        order_based_clv(
            orders.assign(amount=[1.0, math.nan, 2.0, 3.0, 4.0]), gross_margin=0.5, lifespan_years=1
        )
    with pytest.raises(DataError, match="zero length"):
        order_based_clv(orders.iloc[:1], gross_margin=0.5, lifespan_years=1)
    with pytest.raises(DataError, match="no order"):
        order_based_clv(orders, gross_margin=0.5, lifespan_years=1, start="2030-01-01")
    with pytest.raises(ValidationError, match="lifespan_years"):
        order_based_clv(orders, gross_margin=0.5, lifespan_years=-1)


def test_renamed_columns_are_read_through_the_spec(orders: pd.DataFrame) -> None:
    renamed = orders.rename(
        columns={"order_id": "number", "customer_id": "buyer", "at": "placed", "amount": "total"}
    )
    cols = OrderColumns(order_id="number", customer_id="buyer", at="placed", amount="total")
    assert average_order_value(renamed, orders_columns=cols) == 50.0  # 250 / 5
    start, end = "2024-01-01", "2026-01-01"
    expected = order_based_clv(orders, gross_margin=0.5, lifespan_years=2, start=start, end=end)
    ours = order_based_clv(
        renamed, gross_margin=0.5, lifespan_years=2, orders_columns=cols, start=start, end=end
    )
    assert ours == expected
    with pytest.raises(ValidationError, match="by"):
        average_order_value(orders, by=[])
