"""
The shape rule of the per-customer KPIs: a number without ``freq``/``by``, a table with them.

Each such KPI has ``typing.overload`` signatures that tell a type checker which
of the two it returns; :func:`segment_keys` keeps the run time true to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmlifecycle._frames import as_sequence
from crmlifecycle.errors import ValidationError

__all__ = ["segment_keys"]


def segment_keys(by: str | Sequence[str] | None) -> list[str]:
    """
    Return the segment columns named by ``by=`` (none for ``None``).

    An empty sequence names no segment yet asks for a table, which the
    overloads cannot tell from a segmented call: it is refused.

    Raises:
        ValidationError: ``by`` is an empty sequence.

    Examples:
        >>> segment_keys("channel"), segment_keys(["channel", "plan"]), segment_keys(None)
        (['channel'], ['channel', 'plan'], [])
    """
    keys = as_sequence(by)
    if by is not None and not keys:
        raise ValidationError.for_field(
            "by",
            by,
            "a column name or a non-empty list of column names",
            hint="pass by=None for one number over all the data, or name at least one column.",
        )
    return keys
