"""Shared worlds for the synth tests (generated once per session; they are never mutated)."""

from __future__ import annotations

import pytest

from crmlifecycle.synth import Dataset, generate


@pytest.fixture(scope="session")
def world() -> Dataset:
    return generate(seed=11, n_leads=3_000)


@pytest.fixture(scope="session")
def big_world() -> Dataset:
    return generate(seed=5, n_leads=30_000)
