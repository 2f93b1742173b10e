"""
Compact forms of the row-sized data the KPI calculators read: narrow codes and periods.

The calculators hold a few arrays as long as the input; each costs its item size per row,
and so does each temporary made while computing it. Here: period ordinals as offsets in
int16/int32 computed a block of rows at a time (:func:`period_offsets`), id codes in int32
taken from Arrow's own dictionary encoding (:func:`id_codes`), and a uniqueness check of
fixed-width Arrow ids that sorts their bytes instead of building a hash table
(:func:`ids_unique`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._frames import period_alias, utc_nanoseconds

__all__ = ["id_codes", "narrow_int", "period_offsets"]

_NS_PER_DAY = 86_400 * 10**9
_MAX_LOOKUP_DAYS = 400_000  # about 1,100 years of days (as period_ordinals)
_BLOCK_ROWS = 1 << 18  # rows per block of the blocked conversions: temporaries stay this small


def narrow_int(high: int) -> type[np.signedinteger[Any]]:
    """
    The narrowest of int16, int32 and int64 holding every integer from 0 to ``high``.

    Examples:
        >>> narrow_int(36).__name__, narrow_int(40_000).__name__, narrow_int(2**40).__name__
        ('int16', 'int32', 'int64')
    """
    for kind in (np.int16, np.int32):
        if high <= np.iinfo(kind).max:
            return kind
    return np.int64


def period_offsets(utc: pd.Series, freq: str) -> tuple[npt.NDArray[np.signedinteger[Any]], int]:
    """
    Return the period ordinals minus the lowest one, in narrow integers, and that lowest.

    The same periods as ``metrics._common.period_ordinals``, held in the narrowest integer type
    (:func:`narrow_int`: int16 for months over a few thousand years) and computed in blocks
    of rows, so that no int64 copy of the whole column is made: an activity log of
    ``n`` rows costs ``2n`` bytes here instead of ``8n`` plus ``16n`` of temporaries.
    An empty series gives an empty array and 0.

    Examples:
        >>> import pandas as pd
        >>> stamps = pd.Series(pd.to_datetime(["2026-03-05", "2026-01-31"], utc=True))
        >>> offsets, low = period_offsets(stamps, "M")
        >>> offsets.tolist(), low, offsets.dtype.name
        ([2, 0], 672, 'int16')
    """
    alias = period_alias(freq)
    nanoseconds = utc_nanoseconds(utc)
    if len(nanoseconds) == 0:
        return np.empty(0, dtype=np.int16), 0
    day_low = int(nanoseconds.min()) // _NS_PER_DAY
    day_high = int(nanoseconds.max()) // _NS_PER_DAY
    lookup: npt.NDArray[Any] | None = None
    if alias == "D":
        low, high = day_low, day_high
    elif day_high - day_low > _MAX_LOOKUP_DAYS:  # a rare span of centuries: the general path
        from crmlifecycle.metrics._common import period_ordinals

        ordinals = period_ordinals(utc, alias)
        low = int(ordinals.min())
        ordinals -= low
        return ordinals.astype(narrow_int(int(ordinals.max()))), low
    else:
        span = pd.Series(np.arange(day_low, day_high + 1, dtype=np.int64).astype("datetime64[D]"))
        ordinals = np.asarray(pd.PeriodIndex(span.dt.to_period(alias)).asi8, dtype=np.int64)
        low, high = int(ordinals[0]), int(ordinals[-1])
        lookup = (ordinals - low).astype(narrow_int(high - low))
    result = np.empty(len(nanoseconds), dtype=narrow_int(high - low))
    for start in range(0, len(nanoseconds), _BLOCK_ROWS):
        days = nanoseconds[start : start + _BLOCK_ROWS] // _NS_PER_DAY
        days -= day_low
        result[start : start + _BLOCK_ROWS] = days if lookup is None else lookup[days]
    return result, low


def id_codes(
    values: pd.Series, *, sort: bool = False
) -> tuple[npt.NDArray[np.signedinteger[Any]], pd.Index]:
    """
    Return ``pandas.factorize(values, sort=sort)`` with int32 codes where they fit.

    The same codes and uniques as :func:`pandas.factorize` (order of first appearance, or
    sorted with ``sort``); the codes take 4 bytes a row instead of 8. Arrow-backed text
    without missing values is encoded by Arrow itself, whose int32 indices are the codes
    (pandas would copy them into int64); other columns go through ``pandas.factorize``.

    Examples:
        >>> import pandas as pd
        >>> codes, uniques = id_codes(pd.Series(["b", "a", "b"], dtype="string[pyarrow]"))
        >>> codes.tolist(), uniques.tolist(), codes.dtype.name
        ([0, 1, 0], ['b', 'a'], 'int32')
        >>> codes, uniques = id_codes(pd.Series(["b", "a", "b"]), sort=True)
        >>> codes.tolist(), uniques.tolist()
        ([1, 0, 1], ['a', 'b'])
    """
    encoded = _arrow_codes(values, sort=sort)
    if encoded is not None:
        return encoded
    raw_codes, uniques = pd.factorize(values, sort=sort)
    codes = np.asarray(raw_codes)
    if len(uniques) < np.iinfo(np.int32).max:
        codes = codes.astype(np.int32)
    return codes, pd.Index(uniques)


def _arrow_codes(
    values: pd.Series, *, sort: bool
) -> tuple[npt.NDArray[np.signedinteger[Any]], pd.Index] | None:
    """Arrow's dictionary encoding of Arrow-backed text (``None``: not such a column)."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    chunked = pa.chunked_array(values.array.__arrow_array__())
    if chunked.num_chunks != 1 or chunked.null_count:
        return None
    encoded = pc.dictionary_encode(chunked.chunk(0))
    dictionary = encoded.dictionary
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    if sort and len(dictionary):
        order = np.asarray(pc.array_sort_indices(dictionary))
        rank = np.empty(len(order), dtype=codes.dtype)
        rank[order] = np.arange(len(order), dtype=codes.dtype)
        codes = rank[codes]
        dictionary = dictionary.take(pa.array(order))
    uniques = type(values.array)(dictionary, dtype=values.dtype)
    return codes, pd.Index(uniques)
