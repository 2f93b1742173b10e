"""
Segments (``by=``) that belong to an entity: one value per customer or per deal.

Cohort retention and the funnel KPIs count *entities* (customers, deals,
leads), so a segment there is an attribute of the entity, such as its
acquisition channel or its owner. These helpers check that a segment column is
constant per entity and look the segment of each entity up, vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlifecycle._ids import check_ids
from crmlifecycle.errors import DataError
from crmlifecycle.metrics._common import IntArray, check_by

__all__ = [
    "check_constant",
    "labelled",
    "segment_codes",
    "segment_lookup",
    "segment_table",
    "segments_of_rows",
]


def check_constant(
    frame: pd.DataFrame, id_col: str, by: Sequence[str], *, frame_name: str, entity: str
) -> None:
    """
    Require each segment column of ``frame`` to hold one value per ``id_col`` value.

    Raises:
        DataError: naming the column, the first entity whose value changes and
            the values seen for it.
    """
    for column in by:
        pairs = frame[[id_col, column]].drop_duplicates()
        repeated = pairs[id_col].duplicated(keep=False).to_numpy()
        if not bool(repeated.any()):
            continue
        who = pairs[id_col].to_numpy()[repeated][0]
        seen = pairs.loc[(pairs[id_col] == who).to_numpy(), column].tolist()[:5]
        raise DataError.malformed(
            column,
            f"changes within {entity} {who!r} of the {frame_name} frame (values {seen})",
            rows=list(frame.index[(frame[id_col] == who).to_numpy()][:20]),
            value=who,
            hint=f"a segment (by=) must be constant per {entity}: take one value per "
            f"{entity} (e.g. the first) and map it onto every row before calling.",
        )


def segment_codes(frame: pd.DataFrame, by: Sequence[str]) -> tuple[IntArray, pd.DataFrame]:
    """
    Number the segments of ``frame`` (sorted) and return each row's code and the segments.

    The segments frame has the ``by`` columns, one row per code, in code order.
    The columns must hold no missing values (see ``check_by``).
    """
    if len(frame) == 0:
        return np.array([], dtype=np.int64), frame[list(by)].iloc[:0].reset_index(drop=True)
    per_column = [pd.factorize(frame[column], sort=True) for column in by]
    if len(per_column) == 1:
        codes, uniques = per_column[0]
        return np.asarray(codes, dtype=np.int64), pd.DataFrame({by[0]: uniques})
    dims = tuple(len(uniques) for _, uniques in per_column)
    flat = np.ravel_multi_index([np.asarray(c, dtype=np.int64) for c, _ in per_column], dims)
    codes, keys = pd.factorize(flat, sort=True)
    parts = np.unravel_index(np.asarray(keys, dtype=np.int64), dims)
    segments = pd.DataFrame(
        {column: per_column[i][1].take(parts[i]) for i, column in enumerate(by)}
    )
    return np.asarray(codes, dtype=np.int64), segments


def segment_lookup(
    ids: pd.Series,
    source: pd.DataFrame,
    id_col: str,
    by: Sequence[str],
    *,
    frame_name: str,
    entity: str,
) -> tuple[IntArray, pd.DataFrame]:
    """
    Look up the segment of each id in ``ids`` from ``source`` (one row per entity).

    ``source`` may repeat an id when its segment is the same on each row
    (e.g. an event log carrying the channel). Returns the segment code of each
    id and the segments (sorted, only those of the ids), as
    :func:`segment_codes` does.

    Raises:
        DataError: missing segment values, a segment changing within an
            entity, or an id absent from ``source``.
    """
    table = segment_table(source, id_col, by, frame_name=frame_name, entity=entity)
    id_codes, unique_ids = pd.factorize(ids)
    position = pd.Index(table[id_col]).get_indexer(unique_ids)
    unknown = position < 0
    if bool(unknown.any()):
        absent = list(unique_ids[unknown])
        raise DataError.malformed(
            id_col,
            f"lacks {len(absent)} {entity} id(s) found in the event log, so their "
            f"segment is unknown (e.g. {absent[:5]})",
            value=absent[0],
            hint=f"give {frame_name} one row per {entity} of the log, or drop those events.",
        )
    of_unique, segments = segments_of_rows(table, by, position)
    codes: IntArray = of_unique[np.asarray(id_codes, dtype=np.int64)]
    return codes, segments


def segment_table(
    source: pd.DataFrame,
    id_col: str,
    by: Sequence[str],
    *,
    frame_name: str,
    entity: str,
    unique: bool | None = None,
) -> pd.DataFrame:
    """
    The id and ``by`` columns of ``source``, one row per id (its first), checked.

    ``unique`` tells whether the ids (already checked: none missing) are unique,
    when the caller knows; ``None`` checks the ids and finds out.

    Raises:
        DataError: missing segment values or ids, a segment changing within an entity.
    """
    check_by(source, by, frame_name=frame_name, roles=(id_col,))
    if unique is None:
        check_ids(source, id_col, frame_name=frame_name)
        unique = bool(source[id_col].is_unique)
    table = source[[id_col, *by]]
    if not unique:
        check_constant(source, id_col, by, frame_name=frame_name, entity=entity)
        table = table.drop_duplicates(id_col)
    return table


def segments_of_rows(
    table: pd.DataFrame, by: Sequence[str], rows: IntArray
) -> tuple[IntArray, pd.DataFrame]:
    """
    The segment code of the rows ``rows`` of ``table``, and the segments (sorted) they hold.

    Only the segments of those rows are kept, numbered in order.
    """
    table_codes, segments = segment_codes(table, by)
    of_row = table_codes[rows]
    present = np.zeros(len(segments), dtype=bool)
    present[of_row] = True
    renumber = np.cumsum(present) - 1
    codes: IntArray = renumber[of_row]
    return codes, segments.loc[present].reset_index(drop=True)


def labelled(table: pd.DataFrame, segments: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Replace the ``_segment`` codes of ``table`` by the segment columns, placed first."""
    codes = table.pop("_segment").to_numpy()
    if not keys:
        return table.reset_index(drop=True)
    labels = segments.iloc[codes].reset_index(drop=True)
    return pd.concat([labels, table.reset_index(drop=True)], axis=1)
