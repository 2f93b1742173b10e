"""Scorers: points, RFM and predictive lead scoring, and the scorer registry."""

from __future__ import annotations

__all__: list[str] = []
