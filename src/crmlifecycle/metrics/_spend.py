"""
Rules of the acquisition KPIs about spend: period-aligned windows and paid channels.

Spend is recorded per period (a month of a campaign), so a CAC window must open on
a spend period boundary; paid CAC counts the channels with paid spend rows.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from crmlifecycle._frames import check_flags, require_columns, utc_timestamp, utc_window
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, short_repr
from crmlifecycle.metrics._common import ordinals_to_periods, timestamp_ordinal
from crmlifecycle.schema import SpendColumns

__all__ = ["acquired_window", "paid_channels_of", "spend_period_bounds"]


def acquired_window(times: pd.Series, start: Instant | None, end: Instant | None) -> pd.Series:
    """Return the boolean mask of ``start <= times < end`` (an open side when ``None``)."""
    begin, finish = utc_window(start, end)
    mask = pd.Series(data=True, index=times.index)
    if begin is not None:
        mask &= times >= begin
    if finish is not None:
        mask &= times < finish
    return mask


def spend_period_bounds(
    start: Instant | None, end: Instant | None, freq: str
) -> tuple[int | None, int | None]:
    """Return the period ordinals of ``start``/``end``, which must open a ``freq`` period."""
    utc_window(start, end)
    bounds: list[int | None] = []
    for name, value in (("start", start), ("end", end)):
        if value is None:
            bounds.append(None)
            continue
        stamp = utc_timestamp(value, name=name)
        ordinal = timestamp_ordinal(stamp, freq)
        opening = ordinals_to_periods([ordinal], freq).to_timestamp()[0].tz_localize("UTC")
        if stamp != opening:
            raise DataError(
                f"{name}={short_repr(value)} falls inside a {freq!r} period of the spend data "
                f"(which opens on {opening.date()}): spend cannot be split within a period, "
                "so the customers acquired in part of it would be set against all of its "
                f"spend. Hint: pass {name}='{opening.date()}' or the start of the next period "
                "(the window is [start, end), both on spend period boundaries)."
            )
        bounds.append(ordinal)
    return bounds[0], bounds[1]


def paid_channels_of(
    spend: pd.DataFrame, cols: SpendColumns, paid_channels: Collection[str] | None
) -> list[str]:
    """Return the paid channels: those given, else every channel with a paid spend row."""
    if paid_channels is not None:
        return sorted(paid_channels)
    paid_col, channel_col = cols.paid, cols.channel
    require_columns(spend, [paid_col, channel_col], frame_name="spend")
    paid = check_flags(spend[paid_col], paid_col)
    return sorted(spend.loc[paid, channel_col].unique().tolist())
