"""
The one rule for a column of record ids, shared by every reader of one.

A row whose id is missing (``None``, NaN, ``pd.NA``) or empty text (``""``, blanks)
names no record: a metric would count it as a customer of its own, a bulk step
would write an event without an entity. :func:`check_ids` refuses such rows with a
:class:`~crmlifecycle.errors.DataError` naming the column and the rows, and, where a
frame holds one row per record (a customers table, the entities of a bulk step),
refuses an id listed twice the same way. The metrics, the bulk steps and the
event-log readers all call it, so they accept and refuse the same frames.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmlifecycle.errors import DataError

__all__ = ["check_ids", "missing_ids", "refuse_repeats"]

_SHOWN = 20  # row labels kept on the error


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
        else:  # text among other values: only text can be blank
            text = values.map(lambda v: isinstance(v, str) and not v.strip(), na_action="ignore")
            missing = missing | text.fillna(value=False).to_numpy(dtype=bool)
    return missing


def _blank_arrow(values: pd.Series) -> npt.NDArray[np.bool_]:
    """
    Which cells of an Arrow-backed text column are empty or only blanks.

    Two scans of the Arrow buffers and no new strings (``.str.strip()`` would build a
    stripped copy of every id first). ``utf8_is_space`` is Python's ``str.isspace``:
    true for a cell of one or more whitespace characters.
    """
    # pyarrow is an optional dependency, installed whenever a column is Arrow-backed
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.array)
    blank = pc.or_(pc.utf8_is_space(text), pc.equal(pc.binary_length(text), 0))
    return np.asarray(
        pc.fill_null(blank, fill_value=False).to_numpy(zero_copy_only=False), dtype=bool
    )


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
    missing = missing_ids(values)
    if bool(missing.any()):
        raise DataError.malformed(
            column,
            f"has missing {what} (None, NaN or empty text) in the {frame_name} frame",
            rows=list(frame.index[missing][:_SHOWN]),
            hint=f"every row of {frame_name} needs its record's id: drop or fill those rows first.",
        )
    if text and not isinstance(values.dtype, pd.StringDtype) and not _all_text(values):
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
    if values.is_unique:  # one hash pass; the repeats are looked for only when there are some
        return
    repeated = values.duplicated(keep=False).to_numpy(dtype=bool)
    raise DataError.malformed(
        column,
        f"must be unique in the {frame_name} frame{among} but repeats",
        rows=list(values.index[repeated][:_SHOWN]),
        value=values[repeated].iloc[0],
        hint=f"give {frame_name} one row per record: drop or aggregate the repeats.",
    )
