from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import pandas as pd
import pytest

from crmlifecycle._registry import Registry
from crmlifecycle.errors import DataError, MissingColumnError, PluginError, ValidationError
from crmlifecycle.metrics import (
    ENTRY_POINT_GROUP,
    FunctionMetric,
    KpiReport,
    Metric,
    available_metrics,
    compute_kpis,
    get_metric,
    register_metric,
)
from crmlifecycle.metrics._builtin import BUILTIN_METRICS
from crmlifecycle.metrics._registry import _validate
from crmlifecycle.schema import CustomerColumns, OrderColumns

EXAMPLE_PLUGIN = "crmlifecycle-example-metric"


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_example_plugin = pytest.mark.skipif(
    not _installed(EXAMPLE_PLUGIN),
    reason=f"the example plugin is not installed (pip install plugins/{EXAMPLE_PLUGIN})",
)


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Registry[Metric](
        kind="metric",
        group=ENTRY_POINT_GROUP,
        builtins=lambda: {m.name: m for m in BUILTIN_METRICS},
        validate=_validate,
    )
    # patch the namespace the public functions read (the doctest run may import the module again)
    monkeypatch.setitem(register_metric.__globals__, "_METRICS", fresh)


def utc(*stamps: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True)


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "channel": ["ads", "ads", "organic"],
            "acquired_at": utc("2026-01-05", "2026-01-20", "2026-02-03"),
            "churned_at": utc(None, "2026-03-10", None),
        }
    )
    spend = pd.DataFrame(
        {
            "channel": ["ads", "ads"],
            "paid": [True, True],
            "period": utc("2026-01-01", "2026-02-01"),
            "spend": [600.0, 300.0],
        }
    )
    return {"customers": customers, "spend": spend}


def test_compute_kpis_runs_what_it_can_and_skips_the_rest(frames: dict[str, Any]) -> None:
    report = compute_kpis(frames, names=["new_customers", "cac_blended", "cac_paid", "win_rate"])
    assert report["new_customers"] == 3
    assert report["cac_blended"] == pytest.approx(300.0)  # 900 / 3
    assert report["cac_paid"] == pytest.approx(450.0)  # 900 / 2 ads customers
    assert report.skipped == {"win_rate": "needs frame 'opportunities'"}
    table = report.to_frame()
    assert table["status"].tolist() == ["ok", "ok", "ok", "skipped"]
    assert "skipped: needs frame 'opportunities'" in report.to_text()


def test_compute_kpis_options(frames: dict[str, Any]) -> None:
    report = compute_kpis(frames, names=["new_customers", "historic_clv"], end="2026-02-01")
    assert report["new_customers"] == 2
    assert report.skipped["historic_clv"] == "needs frame 'subscriptions'"
    with pytest.raises(ValidationError, match="options"):
        compute_kpis(frames, names=["new_customers"], gross_margn=0.8)
    with pytest.raises(ValidationError, match="did you mean 'win_rate'"):
        compute_kpis(frames, names=["win_rat"])


def test_compute_kpis_needs_options_and_columns(frames: dict[str, Any]) -> None:
    subs = pd.DataFrame({"customer_id": ["a"], "period": utc("2026-01-01"), "mrr": [100.0]})
    report = compute_kpis({**frames, "subscriptions": subs}, names=["historic_clv"])
    assert report.skipped == {"historic_clv": "needs option gross_margin="}
    broken = {**frames, "customers": frames["customers"].drop(columns=["acquired_at"])}
    with pytest.raises(MissingColumnError, match="acquired_at"):
        compute_kpis(broken, names=["new_customers"])


def test_compute_kpis_on_a_dataset_object(frames: dict[str, Any]) -> None:
    class Dataset:
        def frames(self) -> dict[str, pd.DataFrame]:
            return frames

    assert compute_kpis(Dataset(), names=["new_customers"])["new_customers"] == 3


def test_every_builtin_is_a_metric() -> None:
    for name in available_metrics():
        metric = get_metric(name)
        assert isinstance(metric, Metric)
        assert metric.name == name
        assert metric.description


@needs_example_plugin
def test_the_example_plugin_is_discovered_through_entry_points() -> None:
    names = [p.name for p in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    assert "repeat_purchase_rate" in names  # installed by the project's check
    assert "repeat_purchase_rate" in available_metrics()
    orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "order_id": ["1", "2", "3", "4"]})
    report = compute_kpis({"orders": orders}, names=["repeat_purchase_rate"])
    assert report["repeat_purchase_rate"] == pytest.approx(1 / 3)  # a of a, b, c


class _Orders:
    name = "orders_total"
    description = "Σ order amounts."
    requires: Mapping[str, Sequence[str]] = {"orders": ("amount",)}

    def compute(self, frames: Mapping[str, pd.DataFrame], *, scale: float = 1.0) -> float:
        return float(frames["orders"]["amount"].sum()) * scale


def test_register_metric_and_options_reach_only_who_accepts_them() -> None:
    register_metric(_Orders())
    orders = pd.DataFrame({"amount": [1.0, 2.5]})
    report = compute_kpis({"orders": orders}, names=["orders_total", "new_customers"], scale=2)
    assert report["orders_total"] == 7.0  # (1 + 2.5) * 2
    assert report.skipped == {"new_customers": "needs frame 'customers'"}


def test_register_metric_rejects_bad_metrics() -> None:
    with pytest.raises(PluginError, match="the name of a built-in metric") as builtin:
        register_metric(get_metric("cac_blended"), replace=True)
    assert builtin.value.plugin == "cac_blended"
    register_metric(_Orders())
    with pytest.raises(PluginError, match="an earlier registration in code took"):
        register_metric(_Orders())
    register_metric(_Orders(), replace=True)

    class NoCompute:
        name = "no_compute"
        description = "x"
        requires: Mapping[str, Sequence[str]] = {}

    with pytest.raises(PluginError, match="not a Metric"):
        register_metric(NoCompute())  # type: ignore[arg-type]

    class BadRequires(_Orders):
        name = "bad_requires"
        requires: Mapping[str, Sequence[str]] = {"orders": "amount"}

    with pytest.raises(PluginError, match="requires"):
        register_metric(BadRequires())

    class Misnamed(_Orders):
        def __init__(self) -> None:
            self.name = "other"

    with pytest.raises(PluginError, match="registered as"):
        _validate("misnamed", Misnamed())


def test_function_metric_and_report() -> None:
    metric = FunctionMetric(
        name="n", description="rows", requires={"x": ()}, function=lambda f: len(f["x"])
    )
    assert metric.compute({"x": pd.DataFrame({"a": [1, 2]})}) == 2
    report = KpiReport(values={"a": math.nan, "b": 12345.6, "c": 0.25, "d": 3})
    text = report.to_text()
    assert "n/a (undefined)" in text
    assert "12,346" in text
    assert "0.25" in text


def test_builtin_metrics_apply_the_time_rule() -> None:
    # naive timestamps with a time of day are ambiguous: an error naming the column, not a NaN
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "period": pd.to_datetime(["2026-01-01 10:00", "2026-02-01 10:00"]),
            "mrr": [100.0, 100.0],
        }
    )
    with pytest.raises(DataError, match="'period' holds timezone-naive timestamps"):
        compute_kpis({"subscriptions": subs}, names=["nrr_12m"])
    cases = pd.DataFrame(
        {
            "case_id": ["c1"],
            "opened_at": pd.to_datetime(["2026-01-01 10:00"]),
            "first_response_at": pd.NaT,
            "resolved_at": pd.NaT,
            "closed_at": pd.NaT,
            "priority": ["low"],
            "status": ["new"],
        }
    )
    with pytest.raises(DataError, match="'opened_at' holds timezone-naive timestamps"):
        compute_kpis({"cases": cases}, names=["backlog"])


def test_nrr_12m_needs_thirteen_months() -> None:
    months = pd.date_range("2025-01-01", "2026-01-01", freq="MS", tz="UTC")  # 13 month starts
    subs = pd.DataFrame({"customer_id": "a", "period": months, "mrr": 100.0})
    subs.loc[subs.index[-1], "mrr"] = 150.0
    # the cohort of January 2025 (a, 100) brings 150 in January 2026: NRR 150%
    assert compute_kpis({"subscriptions": subs}, names=["nrr_12m"])["nrr_12m"] == 1.5
    short = subs.iloc[1:]
    undefined = compute_kpis({"subscriptions": short}, names=["nrr_12m"])["nrr_12m"]
    assert isinstance(undefined, float)
    assert math.isnan(undefined)


def test_ltv_to_cac_is_undefined_when_clv_is(frames: dict[str, Any]) -> None:
    # nobody churned: the historic CLV is undefined (NaN), so LTV:CAC is too, not an error
    subs = pd.DataFrame({"customer_id": ["a"], "period": utc("2026-01-01"), "mrr": [100.0]})
    customers = frames["customers"].assign(churned_at=utc(None, None, None))
    data = {**frames, "customers": customers, "subscriptions": subs}
    report = compute_kpis(data, names=["historic_clv", "ltv_to_cac"], gross_margin=0.8)
    for name in ("historic_clv", "ltv_to_cac"):
        value = report[name]
        assert isinstance(value, float)
        assert math.isnan(value)


def test_a_failing_builtin_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmlifecycle.metrics import _builtin

    def broken(feedback: pd.DataFrame) -> float:
        del feedback
        raise ImportError("a dependency of the NPS calculator is missing")

    monkeypatch.setattr(_builtin, "nps", broken)
    feedback = pd.DataFrame({"kind": ["nps"], "score": [10], "at": utc("2026-01-01")})
    with pytest.raises(ImportError, match="dependency of the NPS"):
        compute_kpis({"feedback": feedback}, names=["nps"])


def test_satisfaction_and_service_builtins_compute() -> None:
    feedback = pd.DataFrame(
        {
            "kind": ["nps", "nps", "nps", "csat", "csat"],
            "score": [10, 9, 3, 5, 2],
            "at": utc(*["2026-01-01"] * 5),
        }
    )
    cases = pd.DataFrame(
        {
            "case_id": ["c1", "c2"],
            "opened_at": utc("2026-01-01T08:00Z", "2026-01-01T09:00Z"),
            "first_response_at": utc("2026-01-01T10:00Z", None),
            "resolved_at": utc(None, None),
            "closed_at": utc(None, None),
            "priority": ["low", "low"],
        }
    )
    report = compute_kpis({"feedback": feedback, "cases": cases}, names=["nps", "csat", "backlog"])
    assert report.skipped == {}
    assert report["nps"] == pytest.approx(100 * (2 - 1) / 3)  # 2 promoters, 1 detractor of 3
    assert report["csat"] == 50.0  # one of two answers is 4-5, in percent
    # as of the latest opening (09:00): c1 answered (in_progress), c2 new
    backlog_table = report["backlog"]
    assert isinstance(backlog_table, pd.DataFrame)
    assert backlog_table["open_cases"].sum() == 2


def test_compute_kpis_reads_an_export_through_column_records(frames: dict[str, Any]) -> None:
    export = frames["customers"].rename(columns={"customer_id": "cid", "acquired_at": "joined"})
    columns = {"customers": CustomerColumns(customer_id="cid", acquired_at="joined")}
    report = compute_kpis({"customers": export}, names=["new_customers"], columns=columns)
    assert report["new_customers"] == compute_kpis(frames, names=["new_customers"])["new_customers"]
    assert list(export.columns[:2]) == ["cid", "channel"]  # the caller's frame is not renamed


def test_compute_kpis_column_records_are_checked(frames: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="the name of a frame of the data set"):
        compute_kpis(frames, names=["new_customers"], columns={"order": OrderColumns()})
    with pytest.raises(ValidationError, match="a CustomerColumns record"):
        compute_kpis(frames, names=["new_customers"], columns={"customers": OrderColumns()})
    both = frames["customers"].assign(joined=frames["customers"]["acquired_at"])
    with pytest.raises(DataError, match="'acquired_at' is a column in the customers frame"):
        compute_kpis(
            {"customers": both},
            names=["new_customers"],
            columns={"customers": CustomerColumns(acquired_at="joined")},
        )


def test_a_missing_column_in_compute_kpis_points_at_the_columns_argument(
    frames: dict[str, Any],
) -> None:
    export = frames["customers"].rename(columns={"acquired_at": "joined"})
    with pytest.raises(MissingColumnError) as info:
        compute_kpis({"customers": export}, names=["new_customers"])
    assert "columns={'customers': CustomerColumns(acquired_at=...)}" in str(info.value)
    assert info.value.missing == ("acquired_at",)
