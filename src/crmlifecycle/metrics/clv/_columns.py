"""
The column-spec records of the frames the CLV models read: RFM summaries and holdouts.

An order log is a frame of the data contract (:class:`crmlifecycle.schema.OrderColumns`);
the summaries that :func:`~crmlifecycle.metrics.clv.rfm_summary` and
:func:`~crmlifecycle.metrics.clv.calibration_holdout` make from it are not, so they
get their records here, in the same pattern: frozen, keyword-only, one field per
column, the defaults being the names those functions write.
"""

from __future__ import annotations

from typing import Any, final

import attrs

from crmlifecycle._validators import non_empty_str
from crmlifecycle.schema import ColumnKind, ColumnSpec

__all__ = ["HoldoutColumns", "SummaryColumns"]


def _column(name: str, kind: ColumnKind) -> Any:
    return attrs.field(default=name, validator=non_empty_str(), metadata={"kind": kind})


@final
@attrs.frozen(kw_only=True)
class SummaryColumns(ColumnSpec):
    """
    The columns of an RFM summary: one row per customer, the input of the CLV models.

    Attributes:
        frequency: repeat purchases (whole numbers).
        recency: the time of the last repeat purchase, from the first purchase.
        T: the time of the end of the observation, from the first purchase
            (the papers' name).
        monetary_value: the mean value of the repeat purchases (read by the
            spend model and by :func:`~crmlifecycle.metrics.clv.customer_lifetime_value`
            with one).
        weight: how many customers a row stands for (read only by a fit
            called with ``weighted=True``, e.g. a published summary table).

    Examples:
        >>> SummaryColumns().T, SummaryColumns(frequency="x").frequency
        ('T', 'x')
        >>> SummaryColumns.kinds()["weight"]
        'float'
    """

    frequency: str = _column("frequency", "int")
    recency: str = _column("recency", "float")
    T: str = _column("T", "float")
    monetary_value: str = _column("monetary_value", "float")
    weight: str = _column("weight", "float")


@final
@attrs.frozen(kw_only=True)
class HoldoutColumns(ColumnSpec):
    """
    The columns of a calibration/holdout frame, as ``calibration_holdout`` writes it.

    Attributes:
        frequency: repeat purchases in the calibration period.
        recency: the time of the last repeat purchase in it.
        T: the time of the end of the calibration period, from the first purchase.
        frequency_holdout: purchases made in the holdout period.
        duration_holdout: the length of the holdout period.

    Examples:
        >>> HoldoutColumns(frequency_holdout="actual").frequency_holdout
        'actual'
    """

    frequency: str = _column("frequency", "int")
    recency: str = _column("recency", "float")
    T: str = _column("T", "float")
    frequency_holdout: str = _column("frequency_holdout", "int")
    duration_holdout: str = _column("duration_holdout", "float")
