"""
What the commands share: exit codes, spec kinds, output helpers, reading JSON/YAML documents.

Nothing here is public: the command line's interface is its arguments and output.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Final

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USER_ERROR",
    "SPEC_KINDS",
    "jsonable",
    "read_document",
    "write_err",
    "write_out",
]

EXIT_OK: Final = 0
#: ``lint`` found errors in a spec (or warnings, with ``--strict``).
EXIT_PROBLEMS: Final = 1
#: Bad arguments, a missing file or column, a malformed value: any ``CrmError``.
EXIT_USER_ERROR: Final = 2

#: The kinds of spec ``lint`` checks.
SPEC_KINDS: Final = ("lifecycle", "rules", "scorer")


def write_out(text: str) -> None:
    """Write a line (or lines) to standard output."""
    sys.stdout.write(text + "\n")


def write_err(text: str) -> None:
    """Write a line to standard error."""
    sys.stderr.write(text + "\n")


def jsonable(value: object) -> object:
    """Turn a KPI value into JSON data (NaN -> null, tables -> records, times -> ISO text)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame | pd.Series):
        text = value.to_json(orient="records" if isinstance(value, pd.DataFrame) else "index")
        return json.loads(text, parse_constant=lambda _: None)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def read_document(path: Path) -> Any:
    """
    Parse a JSON or YAML file into plain data with the library's bounded loader.

    At most one character more than the loader accepts is read, so a device or a pipe
    that never ends (``/dev/zero``) is refused as too large instead of filling memory.
    """
    from crmlifecycle._config import MAX_TEXT_CHARS, load_text
    from crmlifecycle.errors import SpecError

    try:
        with path.open(encoding="utf-8") as stream:
            text = stream.read(MAX_TEXT_CHARS + 1)
    except UnicodeDecodeError as err:
        raise SpecError(
            f"{path}: is not UTF-8 text (byte {err.start} cannot be decoded). "
            "Hint: pass a JSON or YAML file saved as UTF-8."
        ) from err
    if len(text) > MAX_TEXT_CHARS:
        raise SpecError(
            f"{path}: has more than {MAX_TEXT_CHARS:,} characters. "
            "Hint: configuration this large is a mistake or an attack; split it."
        )
    return load_text(text, what="the file")
