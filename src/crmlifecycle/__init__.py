"""
crmlifecycle: an embeddable library that models the CRM lifecycle.

Entities and value objects are importable from the package itself; lifecycles
live in :mod:`crmlifecycle.stages`, the rule language in
:mod:`crmlifecycle.rules`, scorers in :mod:`crmlifecycle.scoring` and KPIs in
:mod:`crmlifecycle.metrics`.

Examples:
    >>> import crmlifecycle
    >>> isinstance(crmlifecycle.__version__, str)
    True
"""

from __future__ import annotations

from crmlifecycle.entities import (
    Account,
    Campaign,
    Case,
    Contact,
    Customer,
    CustomFields,
    Feedback,
    Interaction,
    Lead,
    Opportunity,
    Order,
    Product,
)
from crmlifecycle.values import Money, Period

__all__ = [
    "Account",
    "Campaign",
    "Case",
    "Contact",
    "CustomFields",
    "Customer",
    "Feedback",
    "Interaction",
    "Lead",
    "Money",
    "Opportunity",
    "Order",
    "Period",
    "Product",
]


def __getattr__(name: str) -> str:
    """Serve ``__version__`` from the installed package metadata."""
    if name == "__version__":
        from importlib.metadata import version

        return version("crmlifecycle")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
