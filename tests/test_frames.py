from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle._frames import (
    as_utc,
    check_numeric,
    period_alias,
    require_columns,
    to_periods,
    utc_timestamp,
)
from crmlifecycle.errors import DataError, MissingColumnError
from crmlifecycle.schema import ColumnSpec, EventLogColumns, OrderColumns
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
)
from crmlifecycle.testing import event_log_frames, order_frames


def test_require_columns_names_missing_and_hints() -> None:
    frame = pd.DataFrame({"customerid": [1], "amount": [2.0]})
    with pytest.raises(MissingColumnError) as info:
        require_columns(frame, ["customer_id", "amount"], frame_name="orders")
    assert info.value.missing == ("customer_id",)
    assert "did you mean 'customerid'" in str(info.value)


def test_require_columns_rejects_non_frames() -> None:
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        require_columns([1, 2], ["a"])  # type: ignore[arg-type]


def test_as_utc_converts_aware_columns() -> None:
    series = pd.Series(pd.to_datetime(["2026-03-01 10:00"]).tz_localize("Europe/Berlin"))
    out = as_utc(series, "at")
    assert str(out.dtype) == "datetime64[ns, UTC]"
    assert out.iloc[0] == pd.Timestamp("2026-03-01 09:00", tz="UTC")


def test_as_utc_reads_date_only_naive_as_utc_days() -> None:
    out = as_utc(pd.Series(pd.to_datetime(["2026-03-01", "2026-03-02"])), "day")
    assert out.iloc[1] == pd.Timestamp("2026-03-02", tz="UTC")


def test_as_utc_refuses_naive_times_of_day() -> None:
    series = pd.Series(pd.to_datetime(["2026-03-01 00:00", "2026-03-01 10:30"]))
    with pytest.raises(DataError) as info:
        as_utc(series, "at")
    assert info.value.column == "at"
    assert info.value.rows == (1,)
    assert "tz_localize" in str(info.value)


def test_as_utc_parses_iso_text_and_refuses_mixed_offsets_and_naive() -> None:
    out = as_utc(pd.Series(["2026-03-01T10:00:00+01:00"]), "at")
    assert out.iloc[0] == pd.Timestamp("2026-03-01 09:00", tz="UTC")
    with pytest.raises(DataError):
        as_utc(pd.Series(["2026-03-01T10:00:00+01:00", "2026-03-01T10:00:00"]), "at")
    with pytest.raises(DataError, match="cannot be read as timestamps"):
        as_utc(pd.Series(["yesterday"]), "at")


def test_as_utc_missing_values() -> None:
    series = pd.Series([pd.Timestamp("2026-03-01", tz="UTC"), pd.NaT])
    with pytest.raises(DataError, match="missing timestamps"):
        as_utc(series, "at")
    assert as_utc(series, "at", allow_missing=True).isna().tolist() == [False, True]


def test_utc_timestamp_scalar_rule() -> None:
    assert utc_timestamp("2026-03-01", name="at") == pd.Timestamp("2026-03-01", tz="UTC")
    berlin = pd.Timestamp("2026-03-01 10:00", tz="Europe/Berlin")
    assert utc_timestamp(berlin, name="at") == pd.Timestamp("2026-03-01 09:00", tz="UTC")
    assert utc_timestamp(datetime(2026, 3, 1, tzinfo=UTC), name="at").tzname() == "UTC"
    with pytest.raises(DataError, match="naive timestamp"):
        utc_timestamp("2026-03-01 10:00", name="at")
    with pytest.raises(DataError, match="not a date"):
        utc_timestamp("soon", name="at")
    with pytest.raises(DataError, match="must not be missing"):
        utc_timestamp(None, name="at")


@pytest.mark.parametrize(
    ("freq", "alias"), [("M", "M"), ("ME", "M"), ("ms", "M"), ("Q", "Q"), ("QE", "Q"), ("A", "Y")]
)
def test_period_alias(freq: str, alias: str) -> None:
    assert period_alias(freq) == alias


def test_period_alias_rejects_unknown() -> None:
    with pytest.raises(DataError, match="unsupported period frequency"):
        period_alias("fortnight")


def test_to_periods_buckets_in_utc() -> None:
    # 2026-03-31 23:30 in New York is 2026-04-01 03:30 UTC: the April bucket.
    ny = pd.Series([pd.Timestamp("2026-03-31 23:30", tz="America/New_York")])
    periods = to_periods(as_utc(ny, "at"), "M")
    assert periods.iloc[0] == pd.Period("2026-04", "M")
    assert to_periods(as_utc(ny, "at"), "Q").iloc[0] == pd.Period("2026Q2", "Q")


def test_check_numeric() -> None:
    values = check_numeric(pd.Series([1, 2, 3]), "amount")
    assert values.dtype == np.float64
    with pytest.raises(DataError, match="must be numeric"):
        check_numeric(pd.Series(["1"]), "amount")
    with pytest.raises(DataError, match="must be numeric"):
        check_numeric(pd.Series([True]), "amount")
    with pytest.raises(DataError, match="missing"):
        check_numeric(pd.Series([1.0, np.nan]), "amount")
    assert check_numeric(pd.Series([1.0, np.nan]), "amount", allow_missing=True).isna().sum() == 1
    with pytest.raises(DataError, match="infinite"):
        check_numeric(pd.Series([np.inf]), "amount")
    with pytest.raises(DataError, match="negative") as info:
        check_numeric(pd.Series([1.0, -2.0]), "spend", non_negative=True)
    assert info.value.value == -2.0
    assert info.value.rows == (1,)


# -- the public frame strategies of crmlifecycle.testing -------------------------------------

LIFECYCLES = [CASE_STATUS, CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE]
DTYPE_OF_KIND = {
    "str": "str",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "time": "datetime64[ns, UTC]",
}


def _contract_dtypes(frame: pd.DataFrame, spec: ColumnSpec) -> None:
    names = spec.names()
    assert list(frame.columns) == [names[column] for column in type(spec).kinds()]
    for column, kind in type(spec).kinds().items():
        assert frame[names[column]].dtype == DTYPE_OF_KIND[kind], column


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_event_log_frames_are_valid_walks(lifecycle: Lifecycle, data: st.DataObject) -> None:
    log = data.draw(event_log_frames(lifecycle))
    _contract_dtypes(log, EventLogColumns())
    assert (log["kind"] == lifecycle.kind).all()
    same = log["entity_id"].eq(log["entity_id"].shift())
    assert log["entity_id"][~same].is_unique  # rows of an entity are contiguous
    assert (log["source"][~same] == lifecycle.initial).all()
    assert (log["source"][same] == log["dest"].shift()[same]).all()
    assert (log["at"][same] >= log["at"].shift()[same]).all()
    for trigger, source, dest in log[["trigger", "source", "dest"]].itertuples(index=False):
        allowed = [t for t in lifecycle.transitions if t.trigger == trigger and source in t.source]
        assert allowed, (trigger, source)
        assert any(t.to_last_open or (t.dest or source) == dest for t in allowed)
    if len(log):
        # the library's own replay ends each entity in the walk's last state
        replayed = lifecycle.replay_frame(log)["state"].astype(str)
        last = log.groupby("entity_id")["dest"].last()
        assert replayed.reindex(last.index).tolist() == last.tolist()


@settings(max_examples=10, deadline=None)
@given(log=event_log_frames(LEAD_STATUS, columns=EventLogColumns(entity_id="lead_id")))
def test_event_log_frames_take_renamed_columns(log: pd.DataFrame) -> None:
    _contract_dtypes(log, EventLogColumns(entity_id="lead_id"))
    assert "entity_id" not in log.columns


@settings(max_examples=25, deadline=None)
@given(orders=order_frames(columns=OrderColumns(at="ordered_at")))
def test_order_frames_follow_the_contract(orders: pd.DataFrame) -> None:
    _contract_dtypes(orders, OrderColumns(at="ordered_at"))
    assert orders["order_id"].is_unique
    assert (orders["amount"] >= 0).all()
    assert (orders["ordered_at"] >= pd.Timestamp("2020-01-01", tz="UTC")).all()
