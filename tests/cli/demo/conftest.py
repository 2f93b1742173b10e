"""A generated world shared by the demo section tests (made once per session, never mutated)."""

from __future__ import annotations

import pytest

from crmlifecycle.synth import Dataset, generate


@pytest.fixture(scope="session")
def world() -> Dataset:
    return generate(seed=11, n_leads=3_000)
