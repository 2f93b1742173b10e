"""
Replay over DataFrames: each entity's state (as of a time) from an events frame.

The log is coded once (entities factorized, states coded by the lifecycle's
bulk-step tables), sorted by entity and time, and each entity's last step read
off; with checks, every step must be one the lifecycle defines and chain on the
previous one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc, require_columns, utc_timestamp
from crmlifecycle.errors import DataError
from crmlifecycle.stages._tables import categorical, codes_of, frame_tables, state_codes

if TYPE_CHECKING:
    from crmlifecycle.stages._machine import Lifecycle

__all__ = ["replay_frame"]


def replay_frame(
    lifecycle: Lifecycle,
    events: pd.DataFrame,
    *,
    as_of: object = None,
    check: bool = True,
) -> pd.DataFrame:
    """
    Each entity's state from an events frame, optionally as of a time (pipeline snapshots).

    ``events`` has the columns ``entity_id, trigger, source, dest, at`` (and
    ``kind``, which must be the lifecycle's). Rows with a missing ``source`` are
    creation rows (the entity enters ``dest``). With ``check`` (the default)
    every logged step must be one the lifecycle defines and each entity's steps
    must chain (a step's source is the previous step's dest), else a
    :class:`~crmlifecycle.errors.DataError` names the rows. Entities without an
    event at or before ``as_of`` are absent from the result.

    Returns:
        A DataFrame indexed by ``entity_id`` (sorted) with ``state`` (categorical),
        ``state_since`` (the time of the last step) and ``events`` (how many steps).

    Examples:
        >>> import pandas as pd
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE as PIPE
        >>> log = pd.DataFrame({"kind": "opportunity", "entity_id": ["O-1", "O-2", "O-1"],
        ...     "trigger": ["qualify", "lose", "propose"],
        ...     "source": ["prospecting", "prospecting", "qualification"],
        ...     "dest": ["qualification", "lost", "proposal"],
        ...     "at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-02-01"], utc=True)})
        >>> PIPE.replay_frame(log)["state"].to_dict()
        {'O-1': 'proposal', 'O-2': 'lost'}
        >>> PIPE.replay_frame(log, as_of="2026-01-31")["state"].to_dict()
        {'O-1': 'qualification', 'O-2': 'lost'}
    """
    require_columns(events, ["entity_id", "trigger", "source", "dest", "at"], frame_name="events")
    names = lifecycle.states
    if "kind" in events.columns:
        other = (events["kind"] != lifecycle.kind).to_numpy()
        if bool(other.any()):
            bad = np.flatnonzero(other)
            raise DataError.malformed(
                "kind",
                f"holds events of other lifecycles than {lifecycle.kind!r}",
                rows=list(events.index[bad[:20]]),
                value=events["kind"].iloc[bad[0]],
                hint=f"filter first: events[events['kind'] == {lifecycle.kind!r}].",
            )
    at = as_utc(events["at"], "at")
    keep = np.ones(len(events), dtype=bool)
    if as_of is not None:
        keep = (at <= utc_timestamp(as_of, name="as_of")).to_numpy()
    log = events.loc[keep, ["entity_id", "trigger", "source", "dest"]]
    at = at[keep]
    tables = frame_tables(lifecycle)
    dest = state_codes(log["dest"], tables.state_index, "dest")
    creation = log["source"].isna().to_numpy()
    src = codes_of(log["source"], tables.state_index)
    if bool((src[~creation] < 0).any()):
        state_codes(log["source"][~creation], tables.state_index, "source")
    naive = at.dt.tz_localize(None).to_numpy()
    entity_codes, _ = pd.factorize(log["entity_id"], sort=True)
    order = np.lexsort((np.arange(len(log)), naive, entity_codes))
    ids = log["entity_id"].to_numpy()[order]
    src, dest, creation = src[order], dest[order], creation[order]
    stamps = naive[order]
    if check and len(order):
        triggers = lifecycle.trigger_names
        tcodes = pd.Index(list(triggers)).get_indexer(pd.Index(log["trigger"].to_numpy()[order]))
        valid = {
            (names.index(state), triggers.index(trig), names.index(c.dest))
            for (state, trig), cands in lifecycle._table.items()  # noqa: SLF001
            for c in cands
        }
        size = max(len(names), len(triggers)) + 1
        keys = (src * size + tcodes) * size + dest
        valid_keys = np.array([(s * size + t) * size + d for s, t, d in valid], dtype=np.int64)
        undefined = ~np.isin(keys, valid_keys) & ~creation
        same = np.r_[False, ids[1:] == ids[:-1]]
        broken = same & ~creation & np.r_[False, src[1:] != dest[:-1]]
        for mask, problem in (
            (undefined, "a step the lifecycle does not define"),
            (broken, "a step whose source is not the previous step's dest"),
        ):
            if bool(mask.any()):
                rows = list(log.index[order[np.flatnonzero(mask)][:20]])
                raise DataError.malformed(
                    "events",
                    f"holds {problem}",
                    rows=rows,
                    value=tuple(events.loc[rows[0], ["entity_id", "trigger", "source", "dest"]]),
                    hint="the log was written by another definition, or is missing rows; "
                    "pass check=False to read it anyway.",
                )
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    counts = np.diff(np.r_[-1, np.flatnonzero(last)])
    return pd.DataFrame(
        {
            "state": categorical(dest[last], tables.state_dtype),
            "state_since": pd.DatetimeIndex(stamps[last]).tz_localize("UTC"),
            "events": counts.astype(np.int64),
        },
        index=pd.Index(ids[last], name="entity_id"),
    )
