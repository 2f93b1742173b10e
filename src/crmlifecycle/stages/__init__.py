"""Lifecycles: stage machines for customers, leads, opportunities and cases."""

from __future__ import annotations

__all__: list[str] = []
