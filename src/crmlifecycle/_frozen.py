"""
:class:`FrozenMapping`: the read-only mapping the library's immutable records hold.

Events (``context``, ``data``, ``changes``), SLA policies (``targets``) and a
record's custom fields keep their mappings in it: unlike
``types.MappingProxyType`` it pickles and deep-copies, and it compares equal to
any mapping with the same items.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Self

__all__ = ["FrozenMapping"]


class FrozenMapping(Mapping[str, Any]):  # noqa: PLW1641 - unhashable, like dict
    """
    An immutable, picklable mapping over a private ``dict``.

    Args:
        values: the items (copied; default: none).

    Examples:
        >>> import copy, pickle
        >>> m = FrozenMapping({"a": 1})
        >>> m["a"], m == {"a": 1}, pickle.loads(pickle.dumps(m)) == m, copy.deepcopy(m) == m
        (1, True, True, True)
    """

    __slots__ = ("_data",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(values) if values else {}

    @classmethod
    def adopt(cls, data: dict[str, Any]) -> Self:
        """Wrap ``data`` without copying it (the caller gives it up: the hot path of events)."""
        mapping = object.__new__(cls)
        mapping._data = data
        return mapping

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMapping):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[type[Self], tuple[dict[str, Any]]]:
        # Rebuilt through the class, so a subclass checks its items again on load.
        return (type(self), (self._data,))
