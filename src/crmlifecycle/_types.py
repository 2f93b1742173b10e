"""
Type aliases that public signatures share (re-exported by :mod:`crmlifecycle.typing`).

This module is part of the core: any package may import it, and it imports
nothing of the library.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import pandas as pd

__all__ = ["Instant"]

#: A moment in time as the analytics accept it: a timezone-aware ``datetime`` or
#: ``pandas.Timestamp`` (converted to UTC), a ``date`` or date-only text / naive midnight
#: (read as that UTC calendar day), ISO 8601 text, or a ``numpy.datetime64``.
#: Naive values with a time of day are refused (see the time rule in the data contracts).
Instant: TypeAlias = datetime | date | pd.Timestamp | np.datetime64 | str
