"""The shape of the public metrics API: column keywords follow one naming rule."""

from __future__ import annotations

import inspect
import pathlib

import pandas as pd
import pytest

from crmlifecycle import metrics
from crmlifecycle.metrics import cac, churn_rate, deal_stages, new_customers, win_rate


def _expected_name(default: str) -> set[str]:
    """`<column>_col` for the default column; an `<entity>_id` column may drop the `_id`."""
    names = {f"{default}_col"}
    if default.endswith("_id"):
        names.add(f"{default.removesuffix('_id')}_col")
    return names


def _column_keywords() -> list[tuple[str, str, str]]:
    found = []
    for name in metrics.__all__:
        target = getattr(metrics, name)
        if not callable(target) or inspect.isclass(target):
            continue
        for parameter in inspect.signature(target).parameters.values():
            default = parameter.default
            if parameter.name.endswith("_col") and isinstance(default, str):
                found.append((name, parameter.name, default))
    return found


def test_column_keywords_are_named_after_their_default_column() -> None:
    keywords = _column_keywords()
    assert len(keywords) > 50  # the rule is checked on every KPI, not on a few
    wrong = [k for k in keywords if k[1] not in _expected_name(k[2])]
    assert wrong == []


def test_every_column_keyword_is_keyword_only() -> None:
    for name in metrics.__all__:
        target = getattr(metrics, name)
        if not callable(target) or inspect.isclass(target):
            continue
        for parameter in inspect.signature(target).parameters.values():
            if parameter.name.endswith("_col"):
                assert parameter.kind is parameter.KEYWORD_ONLY, (name, parameter.name)


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


def test_renamed_keywords_read_renamed_columns() -> None:
    customers = pd.DataFrame(
        {
            "cid": ["a", "b", "c"],
            "joined": utc("2025-12-01", "2025-12-05", "2026-01-10"),
            "left": utc(None, "2026-01-20", None),
        }
    )
    keys = {"customer_col": "cid", "acquired_at_col": "joined"}
    assert new_customers(customers, **keys) == 3
    # January: a and b present at the start, b lost (c is new in January)
    rate = churn_rate(
        customers, **keys, churned_at_col="left", start="2026-01-01", end="2026-02-01"
    )
    assert rate == 0.5
    spend = pd.DataFrame({"month": utc("2025-12-01", "2026-01-01"), "spend": [300.0, 300.0]})
    spent = cac(spend, customers, period_col="month", customer_col="cid", acquired_at_col="joined")
    assert spent == 200.0  # 600 / 3
    deals = pd.DataFrame(
        {"deal": ["o1"], "opened": utc("2026-01-01"), "stage": ["won"], "amount": [1.0]}
    )
    events = pd.DataFrame(
        {"entity_id": ["o1"], "source": ["prospecting"], "dest": ["won"], "at": utc("2026-01-05")}
    )
    stages = deal_stages(deals, events, opportunity_col="deal", created_at_col="opened")
    assert stages["since_as_of"].tolist() == [pd.Timestamp("2026-01-05", tz="UTC")]
    assert win_rate(deals, events, opportunity_col="deal", created_at_col="opened") == 1.0
    with pytest.raises(TypeError, match="id_col"):
        deal_stages(deals, events, id_col="deal")  # type: ignore[call-arg]


def test_modules_keep_to_the_size_guide() -> None:
    # house style: modules under about 500 lines; split along a seam when one grows past it
    folder = pathlib.Path(metrics.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 500} == {}


def test_split_modules_keep_the_public_names() -> None:
    moved = {"forecast", "weighted_pipeline", "gross_revenue_retention", "net_revenue_retention"}
    assert moved <= set(metrics.__all__)
    assert metrics.__all__ == sorted(metrics.__all__, key=lambda n: (not n.isupper(), n))
