"""
Column builders shared by the generator: string ids and labels, times, segments, frames.

Times inside the generator are float days since the world's start; they become
``datetime64[ns, UTC]`` columns only when a frame is assembled, floored to the
second (flooring keeps every ``a <= b`` relation between two times).
:func:`assemble` puts a frame's columns in the order of its column-spec record
(:mod:`crmlifecycle.schema`) and refuses a frame that lacks or adds a column.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle._finite import NS_PER_DAY, elapsed
from crmlifecycle.errors import DataError
from crmlifecycle.schema import ColumnSpec
from crmlifecycle.synth._params import WorldParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_DAY: Final = 86_400
NS_PER_SECOND: Final = 1_000_000_000
TIME_DTYPE: Final = "datetime64[ns, UTC]"

_HAS_ARROW: Final = importlib.util.find_spec("pyarrow") is not None


def id_column(prefix: str, n: int, *, suffix: str = "") -> pd.Series:
    """
    Return ``n`` ids ``<prefix><zero-padded number><suffix>`` numbered from 1, as strings.

    Examples:
        >>> id_column("L", 3).tolist()
        ['L0000001', 'L0000002', 'L0000003']
    """
    width = max(7, len(str(n)))
    numbers = np.arange(1, n + 1, dtype=np.int64)
    if _HAS_ARROW and n:
        import pyarrow as pa

        # Digits as a byte matrix, viewed as fixed-width byte strings: ~10x faster
        # than formatting ten million Python integers.
        head, tail = prefix.encode(), suffix.encode()
        matrix = np.empty((n, len(head) + width + len(tail)), dtype=np.uint8)
        matrix[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
        matrix[:, len(head) + width :] = np.frombuffer(tail, dtype=np.uint8)
        remaining = numbers.copy()
        for position in range(len(head) + width - 1, len(head) - 1, -1):
            matrix[:, position] = 48 + remaining % 10
            remaining //= 10
        raw = matrix.view(f"S{matrix.shape[1]}").ravel()
        arrow = pa.array(raw, type=pa.binary(matrix.shape[1])).cast(pa.large_string())
        return pd.Series(pd.array(arrow, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    text = pd.Series(numbers).astype("str").str.zfill(width)
    return (prefix + text + suffix).astype("str")


def label_column(codes: npt.ArrayLike, labels: Sequence[str] | pd.Series) -> pd.Series:
    """
    Return ``labels[codes]`` as a string column; a negative code gives a missing value.

    Examples:
        >>> label_column([1, 0, -1], ["a", "b"]).tolist()
        ['b', 'a', nan]
    """
    index = np.asarray(codes, dtype=np.int64)
    missing = index < 0
    safe = np.where(missing, 0, index)
    if _HAS_ARROW:
        import pyarrow as pa

        table = pa.array(labels, type=pa.large_string())
        taken = table.take(pa.array(safe, mask=missing)) if index.size else table[:0]
        return pd.Series(pd.array(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    values = np.asarray(labels, dtype=object)
    picked = values[safe] if index.size else np.array([], dtype=object)
    picked[missing] = None
    return pd.Series(picked, dtype="str")


def assemble(spec: type[ColumnSpec], columns: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """
    Build a frame of the data contract: exactly ``spec``'s columns, in the contract's order.

    Raises:
        DataError: ``columns`` lacks a column of the contract or holds one it does not know.

    Examples:
        >>> from crmlifecycle.schema import RevenueColumns
        >>> frame = assemble(RevenueColumns, {"mrr": [9.5], "customer_id": ["C1"], "period": [0]})
        >>> frame.columns.tolist()
        ['customer_id', 'period', 'mrr']
        >>> assemble(RevenueColumns, {"mrr": [9.5]})
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: a RevenueColumns frame needs columns ['customer_id', ...
    """
    order = list(spec.kinds())
    missing = [name for name in order if name not in columns]
    extra = [name for name in columns if name not in order]
    if missing or extra:
        raise DataError(
            f"a {spec.__name__} frame needs columns {order}; missing {missing}, unknown {extra}. "
            "Hint: the generator's frames follow crmlifecycle.schema."
        )
    return pd.DataFrame({name: columns[name] for name in order})


def to_time(start: pd.Timestamp, days: npt.ArrayLike) -> pd.Series:
    """
    Turn float days since ``start`` into UTC timestamps floored to the second (NaN -> NaT).

    Examples:
        >>> stamp = pd.Timestamp("2024-01-01", tz="UTC")
        >>> to_time(stamp, [0.5, float("nan")]).tolist()
        [Timestamp('2024-01-01 12:00:00+0000', tz='UTC'), NaT]
    """
    values = np.asarray(days, dtype=np.float64)
    missing = np.isnan(values)
    seconds = np.floor(np.where(missing, 0.0, values) * SECONDS_PER_DAY).astype(np.int64)
    nanos = start.value + seconds * NS_PER_SECOND
    stamps = nanos.astype("datetime64[ns]")
    stamps[missing] = np.datetime64("NaT")
    return pd.Series(pd.DatetimeIndex(stamps).tz_localize("UTC")).astype(TIME_DTYPE)


def month_index(start: pd.Timestamp, days: npt.ArrayLike) -> IntArray:
    """
    Return the calendar month of each time as months since 1970-01 (UTC).

    Examples:
        >>> stamp = pd.Timestamp("2024-01-31", tz="UTC")
        >>> month_index(stamp, [0.0, 1.0]).tolist()
        [648, 649]
    """
    seconds = np.floor(np.asarray(days, dtype=np.float64) * SECONDS_PER_DAY).astype(np.int64)
    nanos = (start.value + seconds * NS_PER_SECOND).astype("datetime64[ns]")
    return nanos.astype("datetime64[M]").astype(np.int64)


def month_start(months: npt.ArrayLike) -> pd.Series:
    """
    Return the UTC start of each month given as months since 1970-01.

    Examples:
        >>> month_start([648]).tolist()
        [Timestamp('2024-01-01 00:00:00+0000', tz='UTC')]
    """
    stamps = np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(stamps).tz_localize("UTC")).astype(TIME_DTYPE)


def month_days(start: pd.Timestamp, months: npt.ArrayLike) -> FloatArray:
    """
    Return the start of each month (months since 1970-01) as float days since ``start``.

    Examples:
        >>> month_days(pd.Timestamp("2024-01-01", tz="UTC"), [649]).tolist()
        [31.0]
    """
    nanos = np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")
    return elapsed(nanos, start, unit_ns=NS_PER_DAY)  # never wraps, even 1678 to 2261


def segment_starts(lengths: IntArray) -> IntArray:
    """
    Return where each segment starts in the flat array of all segments.

    Examples:
        >>> segment_starts(np.array([2, 0, 3])).tolist()
        [0, 2, 2]
    """
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return starts


def positions(lengths: IntArray) -> tuple[IntArray, IntArray]:
    """
    Return (owner, position within owner) for a flat array of variable-length segments.

    Examples:
        >>> owner, step = positions(np.array([2, 0, 3]))
        >>> owner.tolist(), step.tolist()
        ([0, 0, 2, 2, 2], [0, 1, 0, 1, 2])
    """
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    step = np.arange(owner.size, dtype=np.int64) - np.repeat(segment_starts(lengths), lengths)
    return owner, step


def segment_cumsum(values: FloatArray, lengths: IntArray) -> FloatArray:
    """
    Cumulative sums that restart at every segment.

    Examples:
        >>> segment_cumsum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3, 1])).tolist()
        [1.0, 3.0, 6.0, 4.0]
    """
    total = np.cumsum(values)
    before = np.concatenate(([0.0], total))[segment_starts(lengths)]
    result: FloatArray = total - np.repeat(before, lengths)
    return result


def pick(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    """
    Draw ``size`` category codes with the given (unnormalised) weights.

    Examples:
        >>> pick(np.random.default_rng(0), [0.0, 1.0], 3).tolist()
        [1, 1, 1]
    """
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    codes = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(codes, len(cdf) - 1).astype(np.int64)


def pick_rows(rng: np.random.Generator, table: FloatArray, rows: IntArray) -> IntArray:
    """
    Draw one code per element, using row ``rows[i]`` of a weight ``table``.

    Examples:
        >>> table = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> pick_rows(np.random.default_rng(0), table, np.array([0, 1, 1])).tolist()
        [0, 1, 1]
    """
    n_rows, width = table.shape
    cdf = np.cumsum(table, axis=1)
    cdf /= cdf[:, -1:]
    # shift row r's cumulative weights by r: one sorted array, one binary search
    shifted = (cdf + np.arange(n_rows)[:, None]).ravel()
    found = np.searchsorted(shifted, rng.random(len(rows)) + rows, side="right")
    codes: IntArray = np.minimum(found - rows * width, width - 1).astype(np.int64)
    return codes


def sigmoid(values: FloatArray) -> FloatArray:
    """
    The logistic function.

    Examples:
        >>> sigmoid(np.array([0.0])).tolist()
        [0.5]
    """
    result: FloatArray = 1.0 / (1.0 + np.exp(-values))
    return result


@attrs.frozen
class Context:
    """
    What every generation step needs: the random generator, parameters and the window.

    Attributes:
        rng: the one random generator of the run (steps draw from it in a fixed order).
        params: the world's parameters.
        start: the start of the window (UTC).
        horizon: the length of the window in days; times at or after it are not observed.
    """

    rng: np.random.Generator
    params: WorldParams
    start: pd.Timestamp
    horizon: float
