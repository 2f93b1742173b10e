"""
The one rule for a column of record ids, shared by every reader of one.

A row whose id is missing (``None``, NaN, ``pd.NA``) or empty text (``""``, blanks)
names no record: a metric would count it as a customer of its own, a bulk step
would write an event without an entity. :func:`check_ids` refuses such rows with a
:class:`~crmlifecycle.errors.DataError` naming the column and the rows, and, where a
frame holds one row per record (a customers table, the entities of a bulk step),
refuses an id listed twice the same way. The metrics, the bulk steps and the
event-log readers all call it, so they accept and refuse the same frames.

On Arrow-backed text both checks first read the Arrow buffers: a cell whose first
byte is printable ASCII cannot be blank, and distinct 64-bit keys (each id's bytes
and length, mixed) prove distinct ids; whatever that reading leaves open goes
through the general rule, so the answers and errors are the general ones.
:func:`ids_unique` answers ``is_unique`` for a whole id column in less memory (the
metrics' uniqueness check): ids of one byte width are sorted instead of hashed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle.errors import DataError

__all__ = ["check_ids", "ids_unique", "missing_ids", "refuse_repeats"]

_SHOWN = 20  # row labels kept on the error
_SPACE = 0x20  # bytes up to the space are control characters or the space
_DEL = 0x7F  # DEL, then the bytes that start a non-ASCII character


def missing_ids(values: pd.Series) -> npt.NDArray[np.bool_]:
    r"""
    Which cells of an id column name no record: missing, or text that is empty or blank.

    Examples:
        >>> import pandas as pd
        >>> missing_ids(pd.Series(["a", None, "", "  ", float("nan"), 0], dtype=object)).tolist()
        [False, True, True, True, True, False]
        >>> missing_ids(pd.Series(["a", None, "", " \t", "b "], dtype="string[pyarrow]")).tolist()
        [False, True, True, True, False]
    """
    return _missing_ids(values)[0]


def _missing_ids(values: pd.Series) -> tuple[npt.NDArray[np.bool_], bool | None]:
    """:func:`missing_ids`, and whether every present cell is text (``None``: not looked at)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        # every cell is text (a None or NaN would make it "mixed"): no isna pass over objects
        cells = values.to_numpy()
        empty = np.asarray(cells == "", dtype=bool)
        return empty | np.fromiter(map(str.isspace, cells), dtype=bool, count=len(cells)), True
    missing = values.isna().to_numpy(dtype=bool, copy=True)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        missing |= _blank_arrow(values)
    elif isinstance(values.dtype, pd.StringDtype):  # Python-backed text: vectorised too
        blank = values.str.strip().eq("").fillna(value=False)
        missing = missing | blank.to_numpy(dtype=bool)
    elif values.dtype == object:
        if _all_text(values):  # the usual case: C-level passes, no Python function per cell
            cells = values.to_numpy()[~missing]
            empty = np.asarray(cells == "", dtype=bool)
            space = np.fromiter(map(str.isspace, cells), dtype=bool, count=len(cells))
            missing[np.flatnonzero(~missing)[empty | space]] = True
            return missing, True
        # text among other values: only text can be blank
        text = values.map(lambda v: isinstance(v, str) and not v.strip(), na_action="ignore")
        missing = missing | text.fillna(value=False).to_numpy(dtype=bool)
        return missing, False
    return missing, True if isinstance(values.dtype, pd.StringDtype) else None


def _blank_arrow(values: pd.Series) -> npt.NDArray[np.bool_]:
    """
    Which cells of an Arrow-backed text column are empty or only blanks.

    Two scans of the Arrow buffers and no new strings (``.str.strip()`` would build a
    stripped copy of every id first). ``utf8_is_space`` is Python's ``str.isspace``:
    true for a cell of one or more whitespace characters.
    """
    # pyarrow is an optional dependency, installed whenever a column is Arrow-backed
    import pyarrow as pa

    text = pa.array(values.array)
    maybe = _maybe_blank(text)
    if maybe is None:  # not one plain text array: every cell is looked at
        return _blank_cells(text)
    out = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero(maybe)
    if len(rows):
        out[rows] = _blank_cells(text.take(pa.array(rows)))
    return out


def _blank_cells(text: Any) -> npt.NDArray[np.bool_]:
    """The exact rule on Arrow text: empty, or every character a blank (missing: no)."""
    import pyarrow.compute as pc

    blank = pc.or_(pc.utf8_is_space(text), pc.equal(pc.binary_length(text), 0))
    return np.asarray(
        pc.fill_null(blank, fill_value=False).to_numpy(zero_copy_only=False), dtype=bool
    )


def _maybe_blank(text: Any) -> npt.NDArray[np.bool_] | None:
    """
    The cells of an Arrow text array that may be blank, read from its first bytes.

    A cell whose first byte is printable ASCII (``"L-1"``) starts with a character that
    is not a blank, so it is not blank; the others (empty, missing, or starting with a
    control character, a space or a non-ASCII character) are left to the exact rule.
    One gather over the offsets instead of a Unicode scan of every cell. ``None``: not a
    plain (large) string array (a chunked one, say).
    """
    import pyarrow as pa

    if not isinstance(text, pa.StringArray | pa.LargeStringArray):
        return None
    n = len(text)
    data_buf = text.buffers()[2]
    offsets = _offsets(text)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else None
    if data is None or not len(data):
        return np.ones(n, dtype=bool)
    starts = offsets[:-1]
    first = data.take(np.minimum(starts, len(data) - 1))  # an empty cell's byte is not used
    maybe: npt.NDArray[np.bool_] = (offsets[1:] == starts) | (first <= _SPACE) | (first >= _DEL)
    return maybe


def _all_text(values: pd.Series) -> bool:
    """Whether every present cell of an object column is text (one C-level pass)."""
    return bool(pd.api.types.infer_dtype(values, skipna=True) in {"string", "empty"})


def check_ids(
    frame: pd.DataFrame,
    column: str,
    *,
    frame_name: str,
    what: str = "ids",
    unique: bool = False,
    text: bool = False,
) -> None:
    """
    Refuse rows of ``frame`` whose ``column`` names no record (and, if ``unique``, repeated ids).

    Args:
        frame: the frame (it has ``column``; not modified).
        column: the id column.
        frame_name: the frame's name in messages (``"customers"``).
        what: what the ids are, in messages (``"customer ids"``).
        unique: whether every id must appear once (one row per record).
        text: whether every id must be text (an id written into events, whose
            ``entity_id`` is text: ``1`` and ``"1"`` would be two records).

    Raises:
        DataError: a missing or empty id, (``unique``) a repeated one, or (``text``)
            one that is not text; the error names the column and the rows.

    Examples:
        >>> import pandas as pd
        >>> check_ids(pd.DataFrame({"customer_id": ["a", "b"]}), "customer_id",
        ...           frame_name="customers", what="customer ids", unique=True)
        >>> check_ids(pd.DataFrame({"customer_id": ["a", ""]}), "customer_id",
        ...           frame_name="customers", what="customer ids")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: column 'customer_id' has missing customer ids ...
    """
    values = frame[column]
    missing, all_text = _missing_ids(values)  # one look at the cells' types for both checks
    if bool(missing.any()):
        raise DataError.malformed(
            column,
            f"has missing {what} (None, NaN or empty text) in the {frame_name} frame",
            rows=list(frame.index[missing][:_SHOWN]),
            hint=f"every row of {frame_name} needs its record's id: drop or fill those rows first.",
        )
    if text and not (_all_text(values) if all_text is None else all_text):
        other = ~values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if bool(other.any()):
            raise DataError.malformed(
                column,
                f"holds {what} that are not text in the {frame_name} frame",
                rows=list(frame.index[other][:_SHOWN]),
                value=values[other].iloc[0],
                hint=f"ids are text: {frame_name}[{column!r}].astype(str).",
            )
    if unique:
        refuse_repeats(values, column, frame_name=frame_name)


def refuse_repeats(values: pd.Series, column: str, *, frame_name: str, among: str = "") -> None:
    """
    Refuse an id that appears twice in ``values`` (a column, or the part of it that matters).

    Args:
        values: the ids (their index labels are the rows named in the error).
        column: the id column, for the message.
        frame_name: the frame's name in messages.
        among: which rows ``values`` are, for the message (``" among the rows that step"``).

    Raises:
        DataError: naming the column, the rows and the first repeated id.
    """
    if _distinct_text(values) or values.is_unique:  # repeats looked for only when some may be
        return
    repeated = values.duplicated(keep=False).to_numpy(dtype=bool)
    raise DataError.malformed(
        column,
        f"must be unique in the {frame_name} frame{among} but repeats",
        rows=list(values.index[repeated][:_SHOWN]),
        value=values[repeated].iloc[0],
        hint=f"give {frame_name} one row per record: drop or aggregate the repeats.",
    )


_WORD = 8  # bytes per 64-bit word of a text key
_MAX_WORDS = 8  # texts up to 64 bytes get a key; longer ones take the general check
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd multipliers of a 64-bit mixing step
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(_WORD)] + [2**64 - 1], dtype=np.uint64)


def _distinct_text(values: pd.Series) -> bool:
    """
    Whether an Arrow text column is sure to hold no repeat, from a 64-bit key per cell.

    Each cell's key is a function of its bytes and length only (its bytes read eight at a
    time from the Arrow buffer, mixed), so equal texts have equal keys: distinct keys
    prove distinct texts, with one hash pass over integers instead of over strings. Keys
    that repeat (a repeated text, or two texts sharing a key) prove nothing: ``False``,
    and the caller runs the general check. ``False`` too for any other column.
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return False
    import pyarrow as pa

    text = pa.array(values.array)
    if not isinstance(text, pa.StringArray | pa.LargeStringArray) or text.null_count:
        return False
    keys = _text_keys(text)
    return keys is not None and bool(pd.Index(keys).is_unique)


def _offsets(text: Any) -> npt.NDArray[np.int64]:
    """The cells' start offsets into a plain Arrow text array's data, and the end (n + 1)."""
    import pyarrow as pa

    width = np.int64 if isinstance(text, pa.LargeStringArray) else np.int32
    count = text.offset + len(text) + 1
    offsets = np.frombuffer(text.buffers()[1], dtype=width, count=count)[text.offset :]
    return offsets.astype(np.int64, copy=False)


def _text_keys(text: Any) -> npt.NDArray[np.uint64] | None:
    """One 64-bit key per cell of a plain Arrow text array (``None``: texts too long)."""
    n = len(text)
    data_buf = text.buffers()[2]
    offsets = _offsets(text)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    longest = int(lengths.max()) if n else 0
    words = -(-longest // _WORD)
    if words > _MAX_WORDS:
        return None
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    )
    padded = np.zeros(len(data) + _WORD, dtype=np.uint8)  # every 8-byte read stays inside
    padded[: len(data)] = data
    # the little-endian 64-bit word starting at each byte (unaligned reads of one buffer)
    at_byte = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
    key = lengths.astype(np.uint64) * _MIX
    for w in range(words):
        rest = np.clip(lengths - w * _WORD, 0, _WORD)
        word = at_byte[np.minimum(starts + w * _WORD, len(data))] & _MASKS[rest]
        key ^= word
        key *= _MIX2
        key ^= key >> _SHIFT
    return key


#: rows per block of the width scan, and the width compared as one unsigned integer
_UNIQUE_BLOCK = 1 << 18
_UNIQUE_WORD = 8


def ids_unique(values: pd.Series) -> bool:
    """
    Whether no value of an id column repeats (``values.is_unique``, in less memory).

    Arrow-backed text whose ids all have the same length in bytes (generated ids, UUIDs)
    is checked by sorting its bytes in place of hashing it: Arrow's hash table for a
    million distinct ids takes about twice the column, the sorted copy of the bytes
    about half of it, and sorting is faster. Other columns use ``values.is_unique``.

    Examples:
        >>> import pandas as pd
        >>> ids_unique(pd.Series(["a1", "b2", "a1"], dtype="string[pyarrow]"))
        False
        >>> ids_unique(pd.Series(["a1", "b2", "c"], dtype="string[pyarrow]"))
        True
    """
    fixed = _fixed_width_bytes(values)
    if fixed is None:
        return bool(values.is_unique)
    ordered = np.sort(fixed)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _fixed_width_bytes(values: pd.Series) -> npt.NDArray[Any] | None:
    """The bytes of Arrow-backed text of one width as a numpy array (``None``: not such text)."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa

    chunked = pa.chunked_array(values.array.__arrow_array__())
    if chunked.num_chunks != 1 or chunked.null_count or len(chunked) <= 1:
        return None
    text = chunked.chunk(0)
    offset_type = np.int64 if pa.types.is_large_string(text.type) else np.int32
    if not (pa.types.is_large_string(text.type) or pa.types.is_string(text.type)):
        return None
    _, offset_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=offset_type)[
        text.offset : text.offset + len(text) + 1
    ]
    width = int(offsets[1] - offsets[0])
    if width == 0 or int(offsets[-1] - offsets[0]) != width * len(text):
        return None
    for start in range(0, len(text), _UNIQUE_BLOCK):
        if bool((np.diff(offsets[start : start + _UNIQUE_BLOCK + 1]) != width).any()):
            return None
    data = np.frombuffer(data_buffer, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return data.view(">u8") if width == _UNIQUE_WORD else data.view(f"S{width}")
