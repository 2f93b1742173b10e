"""
Bulk steps' lookup tables and the coding of state and trigger columns.

A lifecycle's table is compiled once into a dense ``(trigger, state) -> dest``
array of small integers (``-1``: not allowed, ``-2``: guarded or hooked, decided
per pair) and cached on the lifecycle with the categorical dtypes of its outputs.

Coding a column of names into those integer codes is the costliest part of a
bulk step, so it picks the cheapest exact route for the column's storage:
categorical columns map their few categories; Arrow-backed strings (the pandas 3
default) are looked up by ``pyarrow.compute.index_in`` without building Python
strings; anything else is factorized and its few distinct values looked up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, final

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import Compiled
    from crmlifecycle.stages._machine import Lifecycle

__all__ = [
    "COMPLEX",
    "REASONS",
    "FrameTables",
    "categorical",
    "codes_of",
    "frame_tables",
    "state_codes",
]

#: Table value of a (trigger, state) pair whose step depends on guards or hooks.
COMPLEX: Final = -2
#: The fixed refusal reasons of a bulk step, in category-code order (guard reasons follow).
REASONS: Final = (
    "not allowed from this state",
    "unknown trigger",
    "at is before state_since",
    "missing lost_reason",
)
_MISSING_CODE: Final = np.array([-1], dtype=np.int64)


@final
class FrameTables:
    """One lifecycle's bulk-step tables and output dtypes (built once, then shared)."""

    __slots__ = (
        "complex_pairs",
        "dest",
        "has_internal",
        "internal",
        "kind_dtype",
        "reason_dtype",
        "state_dtype",
        "state_index",
        "trigger_dtype",
        "trigger_index",
        "trigger_of",
    )

    def __init__(self, lifecycle: Lifecycle) -> None:
        states = lifecycle.states
        triggers = lifecycle.trigger_names
        code = {s: i for i, s in enumerate(states)}
        small = np.min_scalar_type(-(len(states) + 2))
        dest = np.full((len(triggers), len(states)), -1, dtype=small)
        internal = np.zeros((len(triggers), len(states)), dtype=bool)
        complex_pairs: dict[tuple[int, int], tuple[Compiled, ...]] = {}
        table = lifecycle._table  # noqa: SLF001 - the compiled table is shared within the package
        for t, trigger in enumerate(triggers):
            for s, state in enumerate(states):
                candidates = table.get((state, trigger))
                if candidates is None:
                    continue
                first = candidates[0]
                if len(candidates) == 1 and not (first.guards or first.before or first.after):
                    dest[t, s] = code[first.dest]
                    internal[t, s] = first.internal
                else:
                    dest[t, s] = COMPLEX
                    complex_pairs[(t, s)] = candidates
        dest.flags.writeable = False  # shared by every bulk step (and thread): read-only
        internal.flags.writeable = False
        self.dest = dest
        self.internal = internal
        self.has_internal = bool(internal.any())
        self.complex_pairs = complex_pairs
        self.state_index = pd.Index(list(states), dtype=object)
        self.trigger_index = pd.Index(list(triggers), dtype=object)
        self.trigger_of = {t: i for i, t in enumerate(triggers)}
        self.state_dtype = pd.CategoricalDtype(list(states))
        self.trigger_dtype = pd.CategoricalDtype(list(triggers))
        self.kind_dtype = pd.CategoricalDtype([lifecycle.kind])
        self.reason_dtype = pd.CategoricalDtype(list(REASONS))


def frame_tables(lifecycle: Lifecycle) -> FrameTables:
    """Return the lifecycle's bulk-step tables (built on first use, cached on the lifecycle)."""
    tables: FrameTables | None = lifecycle._frame_tables  # noqa: SLF001 - package-private cache
    if tables is None:
        tables = FrameTables(lifecycle)
        lifecycle._frame_tables = tables  # noqa: SLF001 - immutable once built; races are harmless
    return tables


def _arrow_strings(values: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow array, or None
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa  # present whenever such a column exists (an optional dependency)

        return pa.array(values.array)
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return pa.array(values.array)
    return None


def codes_of(values: pd.Series, names: pd.Index) -> np.ndarray[Any, Any]:
    """
    Return each value's position in ``names`` (``-1``: missing or not a name), vectorised.

    Examples:
        >>> import pandas as pd
        >>> names = pd.Index(["open", "won"])
        >>> codes_of(pd.Series(["won", None, "open", "x"]), names).tolist()
        [1, -1, 0, -1]
        >>> codes_of(pd.Series(["won", "x"], dtype="category"), names).tolist()
        [1, -1]
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # map the categories, then take by code
        lookup = names.get_indexer(dtype.categories)
        return np.concatenate([lookup, _MISSING_CODE])[values.cat.codes.to_numpy()]
    arrow = _arrow_strings(values)
    if arrow is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = pa.array(list(names), type=arrow.type)
        found: np.ndarray[Any, Any] = pc.index_in(arrow, value_set=wanted).fill_null(-1).to_numpy()
        return found
    codes, uniques = pd.factorize(values)  # missing values get -1
    lookup = names.get_indexer(uniques)
    return np.concatenate([lookup, _MISSING_CODE])[codes]


def state_codes(values: pd.Series, names: pd.Index, column: str) -> np.ndarray[Any, Any]:
    """Like :func:`codes_of`, but a missing or unknown state raises :class:`DataError`."""
    codes = codes_of(values, names)
    bad = codes < 0
    if bool(bad.any()):
        rows = np.flatnonzero(bad)
        raise DataError.malformed(
            column,
            "holds values that are not states of this lifecycle",
            rows=list(values.index[rows[:20]]),
            value=values.iloc[rows[0]],
            hint=f"use one of {list(names)}, or the lifecycle that wrote them.",
        )
    return codes


def categorical(codes: np.ndarray[Any, Any], dtype: pd.CategoricalDtype) -> pd.Categorical:
    """A categorical from codes already known to be in range (``-1`` = missing)."""
    categorical: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    return categorical
