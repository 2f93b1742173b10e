"""KPI calculators over pandas DataFrames."""

from __future__ import annotations

__all__: list[str] = []
