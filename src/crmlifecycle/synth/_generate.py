"""
:func:`generate`: the whole synthetic CRM world from one seed.

The steps run in a fixed order and draw from one random generator, so a seed fixes the world.
"""

from __future__ import annotations

import sys
import time
from typing import Final, TextIO

import numpy as np
import pandas as pd

from crmlifecycle._frames import utc_timestamp, utc_window
from crmlifecycle._types import Instant
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import ValidationError
from crmlifecycle.synth._columns import NS_PER_SECOND, SECONDS_PER_DAY, Context
from crmlifecycle.synth._customers import make_customers
from crmlifecycle.synth._dataset import Dataset
from crmlifecycle.synth._deals import make_deals
from crmlifecycle.synth._leads import make_leads
from crmlifecycle.synth._params import WorldParams
from crmlifecycle.synth._service import make_service

__all__ = ["generate"]

#: worlds at least this big show a progress line on stderr unless told otherwise
PROGRESS_FROM_LEADS: Final = 200_000
_MAX_LEADS: Final = 100_000_000
_STEPS: Final = 5


class _Progress:
    """A one-line progress report on a text stream (stderr)."""

    def __init__(self, *, enabled: bool, stream: TextIO) -> None:
        self.enabled = enabled
        self.stream = stream
        self.started = time.perf_counter()
        self.done = 0

    def step(self, name: str) -> None:
        self.done += 1
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            bar = "#" * (4 * self.done) + "." * (4 * (_STEPS - self.done))
            end = "\n" if self.done == _STEPS else ""
            self.stream.write(f"\rsynth [{bar}] {name:<14} {elapsed:6.1f} s{end}")
            self.stream.flush()


def _whole_number(value: object, name: str, low: int, high: int, hint: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ValidationError.for_field(name, value, f"an int in [{low:,}, {high:,}]", hint=hint)
    return int(value)


def generate(
    *,
    seed: int = 0,
    n_leads: int = 5_000,
    start: Instant = "2024-01-01",
    end: Instant = "2026-01-01",
    params: WorldParams | None = None,
    progress: bool | None = None,
) -> Dataset:
    """
    Generate a coherent synthetic CRM world; the same arguments give the same world.

    Leads arrive through campaigns, are contacted, qualified (more likely with a
    better fit: industry, company size, job title, budget, channel) and converted
    to opportunities; opportunities move through the pipeline and are won (again
    more likely with a better fit) or lost; each won deal makes a customer who
    orders by the BG/NBD story (Fader, Hardie & Lee 2005), pays a monthly
    subscription, opens support cases and answers surveys. Every event log is a
    valid walk of the standard lifecycle, and events after ``end`` are cut off,
    so the world looks like a CRM export taken at ``end``.

    Args:
        seed: the random seed (a non-negative int).
        n_leads: number of leads to create.
        start: start of the window (date, datetime or ISO text; naive dates are UTC days).
        end: end of the window (exclusive).
        params: the world's parameters (default :class:`WorldParams()`).
        progress: show a progress line on stderr (default: only for 200,000+ leads).

    Returns:
        The :class:`Dataset`.

    Raises:
        ValidationError: for a bad seed, size or parameters object.
        DataError: if ``start``/``end`` are not dates, or ``end`` is not after ``start``.

    Examples:
        >>> from crmlifecycle.synth import generate
        >>> world = generate(seed=7, n_leads=300)
        >>> len(world.leads), world.leads["lead_id"].iloc[0]
        (300, 'L0000001')
        >>> set(world.orders["customer_id"]) <= set(world.customers["customer_id"])
        True
        >>> generate(seed=7, n_leads=300).orders.equals(world.orders)
        True
    """
    params = WorldParams() if params is None else params
    if not isinstance(params, WorldParams):
        raise ValidationError.for_field(
            "params", params, "a WorldParams", hint="build one with WorldParams(...)."
        )
    seed = _whole_number(seed, "seed", 0, 2**63 - 1, "pass e.g. seed=7; same seed, same world.")
    n_leads = _whole_number(n_leads, "n_leads", 1, _MAX_LEADS, "pass e.g. n_leads=5_000.")
    utc_window(start, end)  # the one window check: start before end
    if progress is not None:
        check_arg("progress", progress, bool, "True, False or None")
    first, last = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    horizon = (last.value - first.value) / (SECONDS_PER_DAY * NS_PER_SECOND)
    ctx = Context(rng=np.random.default_rng(seed), params=params, start=first, horizon=horizon)
    bar = _Progress(
        enabled=n_leads >= PROGRESS_FROM_LEADS if progress is None else progress,
        stream=sys.stderr,
    )
    leads = make_leads(ctx, n_leads)
    bar.step("leads")
    deals = make_deals(ctx, leads)
    bar.step("opportunities")
    customers = make_customers(ctx, leads, deals)
    bar.step("customers")
    service = make_service(ctx, customers)
    bar.step("cases")
    frames: dict[str, pd.DataFrame] = {
        **leads.frames,
        **deals.frames,
        **customers.frames,
        **service,
    }
    dataset = Dataset(**frames, start=first, end=last)
    bar.step("done")
    return dataset
