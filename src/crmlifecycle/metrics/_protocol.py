"""
The KPI extension point: :class:`Metric`, :class:`FunctionMetric` and :class:`KpiReport`.

A metric names itself, says which frames (and columns of them) it needs, and
computes one value from a mapping of frame name to DataFrame. The built-in
KPIs are :class:`FunctionMetric` objects; other packages publish their own
through the ``crmlifecycle.metrics`` entry-point group, and
:func:`~crmlifecycle.metrics.compute_kpis` runs both alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, final, runtime_checkable

import attrs
import pandas as pd

__all__ = ["FunctionMetric", "KpiReport", "Metric"]

_LARGE = 1000  # values from here on are shown without decimals


@runtime_checkable
class Metric(Protocol):
    """
    A KPI calculator that :func:`~crmlifecycle.metrics.compute_kpis` can run.

    Attributes:
        name: the KPI's name, e.g. ``"cac_blended"``; a metric is registered under
            its own name (a plugin's entry-point name must be the same).
        description: one line saying what it measures and by which definition.
        requires: frame name → the columns the metric reads from it, e.g.
            ``{"orders": ("customer_id", "amount")}``. A metric whose frames are
            absent is skipped with a note; a present frame lacking a column is
            an error.

    ``compute(frames)`` returns the value (usually a float). It may declare
    keyword options with defaults (``compute(frames, *, as_of=None)``): it
    then receives the options of :func:`~crmlifecycle.metrics.compute_kpis`
    that its signature names (or all of them if it takes ``**options``).

    Examples:
        >>> from crmlifecycle.metrics import Metric, get_metric
        >>> isinstance(get_metric("new_customers"), Metric)
        True
    """

    @property
    def name(self) -> str:
        """The KPI's name."""

    @property
    def description(self) -> str:
        """What the KPI measures and by which definition."""

    @property
    def requires(self) -> Mapping[str, Sequence[str]]:
        """Frame name → the columns the metric reads."""

    def compute(self, frames: Mapping[str, pd.DataFrame], /) -> object:
        """
        Compute the KPI from the frames (extra keyword options must have defaults).

        Args:
            frames: frame name (``"orders"``, ``"customers"``...) → frame; holds at least the
                frames and columns ``requires`` names.
        """


@final
@attrs.frozen(kw_only=True)
class FunctionMetric:
    """
    A :class:`Metric` made of a function ``(frames, **options) -> value``.

    Attributes:
        name: the KPI's name.
        description: what it measures and the definition it follows.
        requires: frame name → columns read.
        function: the computation; its keyword parameters are the options it accepts.
        needs_options: options without which the metric is skipped with a note
            (e.g. ``gross_margin``, which no data set can supply).

    Examples:
        >>> metric = FunctionMetric(
        ...     name="orders", description="Number of orders.",
        ...     requires={"orders": ("order_id",)},
        ...     function=lambda frames: len(frames["orders"]),
        ... )
        >>> import pandas as pd
        >>> metric.compute({"orders": pd.DataFrame({"order_id": ["o1", "o2"]})})
        2
    """

    name: str
    description: str
    requires: Mapping[str, Sequence[str]]
    function: Callable[..., object]
    needs_options: tuple[str, ...] = ()

    def compute(self, frames: Mapping[str, pd.DataFrame], **options: Any) -> object:
        """
        Run the function on the frames with the options.

        Args:
            frames: frame name → frame, passed to the function as its first argument.
            **options: keyword options passed on to the function.
        """
        return self.function(frames, **options)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The built-in metrics' functions are lambdas: they pickle and copy by name.
        if NAMED_METRICS.get(self.name) is self:
            return (_named_metric, (self.name,))
        return super().__reduce_ex__(protocol)


#: The metrics that pickle by name (the built-ins register themselves here).
NAMED_METRICS: dict[str, FunctionMetric] = {}


def _named_metric(name: str) -> FunctionMetric:
    """Unpickle a metric of :data:`NAMED_METRICS` (importing this package registered them)."""
    return NAMED_METRICS[name]


def _format(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a (undefined)"
        return f"{value:,.0f}" if abs(value) >= _LARGE else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, pd.DataFrame):
        return f"<table {value.shape[0]}x{value.shape[1]}>"
    return str(value)


@final
@attrs.frozen(kw_only=True)
class KpiReport:
    """
    The result of :func:`~crmlifecycle.metrics.compute_kpis`: values and skipped KPIs.

    Attributes:
        values: KPI name → value, in the order computed.
        skipped: KPI name → why it was skipped (a missing frame or option).
        descriptions: KPI name → its one-line description.

    Examples:
        >>> report = KpiReport(values={"cac": 450.0}, skipped={"nps": "needs frame 'feedback'"})
        >>> report["cac"]
        450.0
        >>> report.to_frame()
          name  value   status                    note
        0  cac  450.0       ok
        1  nps   None  skipped  needs frame 'feedback'
    """

    values: Mapping[str, object]
    skipped: Mapping[str, str] = attrs.field(factory=dict)
    descriptions: Mapping[str, str] = attrs.field(factory=dict)

    def __getitem__(self, name: str) -> object:
        """Return the value of one computed KPI."""
        return self.values[name]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per KPI: ``name``, ``value``, ``status`` (ok/skipped), ``note``."""
        rows = [(name, value, "ok", "") for name, value in self.values.items()]
        rows += [(name, None, "skipped", note) for name, note in self.skipped.items()]
        frame = pd.DataFrame(rows, columns=["name", "value", "status", "note"])
        frame["value"] = pd.Series([row[1] for row in rows], dtype=object, index=frame.index)
        return frame

    def to_text(self) -> str:
        """Return the report as aligned text lines (values first, then skipped KPIs)."""
        width = max((len(n) for n in [*self.values, *self.skipped]), default=0)
        lines = [f"{name:<{width}}  {_format(value)}" for name, value in self.values.items()]
        lines += [f"{name:<{width}}  skipped: {note}" for name, note in self.skipped.items()]
        return "\n".join(lines)
