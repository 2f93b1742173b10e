"""
A synthetic CRM world: campaigns, leads, deals, customers, orders, cases and feedback.

:func:`generate` builds a coherent, reproducible world as pandas DataFrames
(a :class:`Dataset`); :func:`write_dataset` and :func:`read_dataset` store it as
a folder of CSV or parquet files. The frames and their columns are the data
contract of :mod:`crmlifecycle.schema`. See ``docs/synthetic-data.md``.

Examples:
    >>> from crmlifecycle.synth import generate
    >>> world = generate(seed=3, n_leads=200)
    >>> world.leads.columns[:4].tolist()
    ['lead_id', 'campaign_id', 'channel', 'created_at']
"""

from __future__ import annotations

from crmlifecycle.synth._dataset import Dataset
from crmlifecycle.synth._generate import generate
from crmlifecycle.synth._io import read_dataset, write_dataset
from crmlifecycle.synth._params import WorldParams

__all__ = [
    "Dataset",
    "WorldParams",
    "generate",
    "read_dataset",
    "write_dataset",
]
