"""The safe rule language and automation rules."""

from __future__ import annotations

__all__: list[str] = []
