"""Plot tests draw with the non-interactive Agg backend and close every figure afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib as mpl
import pytest


@pytest.fixture(autouse=True)
def agg_backend() -> Iterator[None]:
    import matplotlib.pyplot as plt

    previous = mpl.get_backend()
    plt.switch_backend("Agg")
    yield
    plt.close("all")
    plt.switch_backend(previous)
