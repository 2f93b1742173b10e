"""
An example crmlifecycle metric plugin: the repeat purchase rate.

Examples:
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"]})
    >>> RepeatPurchaseRate().compute({"orders": orders})
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final, final

import pandas as pd

__all__ = ["RepeatPurchaseRate"]


@final
class RepeatPurchaseRate:
    """Customers with at least two orders ÷ customers with at least one order."""

    name: Final = "repeat_purchase_rate"
    description: Final = "Share of ordering customers with two or more orders."
    requires: Final[Mapping[str, Sequence[str]]] = {"orders": ("customer_id", "order_id")}

    def compute(self, frames: Mapping[str, pd.DataFrame]) -> float:
        """
        Return the repeat purchase rate of the ``orders`` frame (NaN without orders).

        The frames come with the data contract's column names (``compute_kpis`` gives
        them those names, from its ``columns=`` records), so a metric reads
        ``customer_id`` and takes no column keywords of its own.
        """
        orders_per_customer = frames["orders"].groupby("customer_id").size()
        if orders_per_customer.empty:
            return math.nan
        return float((orders_per_customer >= 2).mean())  # noqa: PLR2004 - "repeat" means 2+

    def __repr__(self) -> str:
        return f"<metric {self.name}>"
