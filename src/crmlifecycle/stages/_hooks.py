"""
Built-in hooks that specs may name (the allowlist every lifecycle spec can use).

Hosts add their own by passing ``hooks={"name": Hook.of(func)}`` to
:meth:`~crmlifecycle.stages.Lifecycle.from_dict` (or ``from_text``); a spec can never
name anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from crmlifecycle._frames import as_utc
from crmlifecycle.entities import CASE_PRIORITIES
from crmlifecycle.errors import DataError
from crmlifecycle.stages._definition import Hook, StepInfo

__all__ = ["BUILTIN_HOOKS"]


def _raise_priority(case: Any, _info: StepInfo) -> Mapping[str, Any]:
    index = CASE_PRIORITIES.index(case.priority)
    return {"priority": CASE_PRIORITIES[min(index + 1, len(CASE_PRIORITIES) - 1)]}


def _raise_priority_frame(frame: pd.DataFrame, _at: pd.Timestamp) -> Mapping[str, Any]:
    if "priority" not in frame.columns:
        from crmlifecycle.errors import MissingColumnError

        raise MissingColumnError(["priority"], frame.columns)
    codes = pd.Index(list(CASE_PRIORITIES)).get_indexer(pd.Index(frame["priority"]))
    if bool((codes < 0).any()):
        bad = frame.index[codes < 0]
        raise DataError.malformed(
            "priority",
            "holds values that are not case priorities",
            rows=list(bad[:20]),
            value=frame.loc[bad[0], "priority"],
            hint=f"use one of {list(CASE_PRIORITIES)}.",
        )
    top = len(CASE_PRIORITIES) - 1
    names = np.array(CASE_PRIORITIES, dtype=object)
    return {"priority": names[np.minimum(codes.astype(np.int64) + 1, top)]}


def _stamp_resolution(_case: Any, info: StepInfo) -> Mapping[str, Any]:
    return {"resolved_at": info.at}


def _stamp_resolution_frame(frame: pd.DataFrame, at: pd.Timestamp) -> Mapping[str, Any]:
    return {"resolved_at": pd.Series(at, index=frame.index, dtype="datetime64[ns, UTC]")}


def _stamp_first_response(case: Any, info: StepInfo) -> Mapping[str, Any] | None:
    if getattr(case, "first_response_at", None) is not None:
        return None  # stamped once, by the first response; never moved later
    return {"first_response_at": info.at}


def _stamp_first_response_frame(frame: pd.DataFrame, at: pd.Timestamp) -> Mapping[str, Any]:
    stamp = pd.Series(at, index=frame.index, dtype="datetime64[ns, UTC]")
    if "first_response_at" not in frame.columns:
        return {"first_response_at": stamp}
    before = as_utc(frame["first_response_at"], "first_response_at", allow_missing=True)
    return {"first_response_at": before.where(before.notna(), stamp)}


def _clear_resolution(_case: Any, _info: StepInfo) -> Mapping[str, Any]:
    return {"resolved_at": None}


def _clear_resolution_frame(frame: pd.DataFrame, _at: pd.Timestamp) -> Mapping[str, Any]:
    return {"resolved_at": pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")}


#: Hooks every spec may name: ``raise_priority`` (a case's priority one step up,
#: staying at ``urgent``), ``stamp_resolution`` (``resolved_at = at``),
#: ``clear_resolution`` (``resolved_at = None``) and ``stamp_first_response``
#: (``first_response_at = at`` the first time only: a response already recorded
#: is never moved).
BUILTIN_HOOKS: Final[Mapping[str, Hook]] = {
    "clear_resolution": Hook.of(
        _clear_resolution, name="clear_resolution", frame=_clear_resolution_frame
    ),
    "raise_priority": Hook.of(_raise_priority, name="raise_priority", frame=_raise_priority_frame),
    "stamp_first_response": Hook.of(
        _stamp_first_response, name="stamp_first_response", frame=_stamp_first_response_frame
    ),
    "stamp_resolution": Hook.of(
        _stamp_resolution, name="stamp_resolution", frame=_stamp_resolution_frame
    ),
}
