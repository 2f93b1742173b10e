"""
The frame paths' lookup tables, refusal reasons, and the coding of name columns.

A lifecycle's table is compiled once into a dense ``(trigger, state) -> dest``
array of small integers (:data:`NO_STEP`: not allowed, :data:`BY_GUARDS`: guarded
or hooked, decided per pair) and cached on the compiled lifecycle with the
categorical dtypes of the outputs. :class:`Refusal` numbers the fixed reasons a
bulk step gives for refusing a row.

Coding a column of names into those integer codes is the costliest part of a
bulk step, so it picks the cheapest exact route for the column's storage:
categorical columns map their few categories; Arrow-backed strings (the pandas 3
default) are looked up by ``pyarrow.compute.index_in`` without building Python
strings; anything else is factorized and its few distinct values looked up.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final, final

import numpy as np
import pandas as pd

from crmlifecycle.errors import DataError

if TYPE_CHECKING:
    from crmlifecycle.stages._compile import Candidate, CompiledLifecycle

__all__ = [
    "BY_GUARDS",
    "NO_STEP",
    "FrameTables",
    "Refusal",
    "categorical",
    "codes_of",
    "frame_tables",
    "state_codes",
]

#: Table value of a (trigger, state) pair the lifecycle does not define.
NO_STEP: Final = -1
#: Table value of a (trigger, state) pair whose step depends on guards or hooks.
BY_GUARDS: Final = -2


class Refusal(IntEnum):
    """
    Why a bulk step refused a row: the fixed codes of ``FrameStep.reason``.

    Guard refusals ("guard rejected: ...") take the codes after these, one per
    distinct message of the step.

    Examples:
        >>> Refusal.UNKNOWN_TRIGGER.message
        'unknown trigger'
        >>> [r.message for r in Refusal][0]
        'not allowed from this state'
    """

    NOT_ALLOWED = 0
    UNKNOWN_TRIGGER = 1
    TOO_EARLY = 2
    NO_LOST_REASON = 3
    MERGED = 4

    @property
    def message(self) -> str:
        """The reason as the step reports it."""
        return _MESSAGES[self]


_MESSAGES: Final[dict[Refusal, str]] = {
    Refusal.NOT_ALLOWED: "not allowed from this state",
    Refusal.UNKNOWN_TRIGGER: "unknown trigger",
    Refusal.TOO_EARLY: "at is before the last change",
    Refusal.NO_LOST_REASON: "missing lost_reason",
    Refusal.MERGED: "merged into another record",
}
_MISSING_CODE: Final = np.array([-1], dtype=np.int64)


@final
class FrameTables:
    """One lifecycle's bulk-step tables and output dtypes (built once, then shared)."""

    __slots__ = (
        "dest",
        "guarded",
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

    def __init__(self, compiled: CompiledLifecycle) -> None:
        states = tuple(compiled.by_name)
        triggers = compiled.triggers
        code = {s: i for i, s in enumerate(states)}
        small = np.min_scalar_type(-(len(states) + 2))
        dest = np.full((len(triggers), len(states)), NO_STEP, dtype=small)
        internal = np.zeros((len(triggers), len(states)), dtype=bool)
        guarded: dict[tuple[int, int], tuple[Candidate, ...]] = {}
        for t, trigger in enumerate(triggers):
            for s, state in enumerate(states):
                candidates = compiled.table.get((state, trigger))
                if candidates is None:
                    continue
                first = candidates[0]
                if len(candidates) == 1 and first.plain:
                    dest[t, s] = code[first.dest]
                    internal[t, s] = first.internal
                else:
                    dest[t, s] = BY_GUARDS
                    guarded[(t, s)] = candidates
        dest.flags.writeable = False  # shared by every bulk step (and thread): read-only
        internal.flags.writeable = False
        self.dest = dest
        self.internal = internal
        self.has_internal = bool(internal.any())
        self.guarded = guarded
        self.state_index = pd.Index(list(states), dtype=object)
        self.trigger_index = pd.Index(list(triggers), dtype=object)
        self.trigger_of = {t: i for i, t in enumerate(triggers)}
        self.state_dtype = pd.CategoricalDtype(list(states))
        self.trigger_dtype = pd.CategoricalDtype(list(triggers))
        self.kind_dtype = pd.CategoricalDtype([compiled.kind])
        self.reason_dtype = pd.CategoricalDtype([r.message for r in Refusal])


def frame_tables(compiled: CompiledLifecycle) -> FrameTables:
    """Return the lifecycle's frame tables (built on first use, then cached and shared)."""
    tables = compiled.frame_tables
    if tables is None:
        tables = FrameTables(compiled)
        compiled.frame_tables = tables  # immutable once built: a race builds two equal ones
    return tables


def _arrow_strings(values: pd.Series) -> Any:
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
        coded = pc.index_in(arrow, value_set=wanted)
        if coded.null_count:  # missing or not a name: -1 (else the codes are read as they are)
            coded = coded.fill_null(-1)
        found: np.ndarray[Any, Any] = coded.to_numpy()
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
