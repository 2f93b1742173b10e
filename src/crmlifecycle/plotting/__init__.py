"""
Plots of the lifecycle and its KPIs, drawn with matplotlib (the optional ``plot`` extra).

Every function takes the result of the matching :mod:`crmlifecycle.metrics`
call (or a :class:`~crmlifecycle.stages.Lifecycle`), draws it on the ``ax`` it
is given (or on a new figure) and returns the matplotlib ``Axes`` for further
styling. matplotlib is imported only when a plot is drawn; without it, a
:class:`~crmlifecycle.errors.MissingDependencyError` says
``pip install 'crmlifecycle[plot]'``.

Examples:
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from crmlifecycle.plotting import plot_funnel
    >>> ax = plot_funnel(pd.Series([120, 30], index=["lead", "customer"]), ax=Figure().subplots())
    >>> ax.get_title()
    'Funnel'
"""

from __future__ import annotations

from crmlifecycle.plotting._funnel import plot_cohort_retention, plot_funnel
from crmlifecycle.plotting._lifecycle import plot_lifecycle
from crmlifecycle.plotting._revenue import (
    plot_clv_distribution,
    plot_mrr_movements,
    plot_predicted_vs_actual,
)

__all__ = [
    "plot_clv_distribution",
    "plot_cohort_retention",
    "plot_funnel",
    "plot_lifecycle",
    "plot_mrr_movements",
    "plot_predicted_vs_actual",
]
