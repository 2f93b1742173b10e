"""
The time battery: instants, windows and timelines at their edges.

Every public function that takes an ``Instant``, a ``start``/``end`` window or a
timestamp column follows one time rule (``docs/api-conventions.md``, "Time zones
and windows"): values with a UTC offset are converted to UTC whatever their
offsets, naive values are read as UTC days only when date-only, anything else is a
typed error; a window's ``start`` must be before its ``end``; nothing happens to an
entity before its creation.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlifecycle import Lead, metrics, synth
from crmlifecycle._frames import as_utc, utc_timestamp, utc_window
from crmlifecycle.cli import EXIT_OK, EXIT_USER_ERROR, main
from crmlifecycle.errors import CrmError, DataError, ValidationError
from crmlifecycle.metrics import clv, cohort_retention, funnel
from crmlifecycle.stages import LEAD_STATUS, OPPORTUNITY_PIPELINE, fire_frame, replay_frame

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# --- the time rule over a column ---------------------------------------------------------

#: (case, column) pairs that carry an offset on every value: read as these UTC instants.
UTC_EXPECTED = [
    pd.Timestamp("2026-03-28 09:00", tz="UTC"),
    pd.Timestamp("2026-03-30 08:00", tz="UTC"),
]
ACCEPTED: dict[str, pd.Series] = {
    "text offsets across DST": pd.Series(
        ["2026-03-28T10:00:00+01:00", "2026-03-30T10:00:00+02:00"]
    ),
    "objects with two offsets": pd.Series(
        [
            datetime(2026, 3, 28, 10, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 3, 30, 10, tzinfo=timezone(timedelta(hours=2))),
        ],
        dtype=object,
    ),
    "Timestamps with two offsets": pd.Series(
        [pd.Timestamp("2026-03-28T10:00+01:00"), pd.Timestamp("2026-03-30T10:00+02:00")],
        dtype=object,
    ),
    "Europe/Berlin dtype": pd.Series(
        pd.to_datetime(["2026-03-28 10:00", "2026-03-30 10:00"]).tz_localize("Europe/Berlin")
    ),
    "Z and a compact offset": pd.Series(["2026-03-28T09:00:00Z", "2026-03-30T10:00+0200"]),
    "text with an offset and an object datetime": pd.Series(
        ["2026-03-28T10:00:00+01:00", datetime(2026, 3, 30, 8, tzinfo=UTC)], dtype=object
    ),
}

REFUSED: dict[str, pd.Series] = {
    "naive with a time of day": pd.Series(["2026-03-28T10:00:00", "2026-03-30T10:00:00"]),
    "naive datetime64 with a time of day": pd.Series(pd.to_datetime(["2026-03-28 10:00"])),
    "an offset and a naive time": pd.Series(["2026-03-28T10:00:00+01:00", "2026-03-30T10:00:00"]),
    "an offset and a naive date": pd.Series(["2026-03-28T10:00:00+01:00", "2026-03-30"]),
    "garbage among offsets": pd.Series(["2026-03-28T10:00:00+01:00", "not a time"]),
    "out of the nanosecond range": pd.Series([datetime(1, 1, 1, tzinfo=UTC)], dtype=object),
    "numbers": pd.Series([object(), object()]),
    "integers (a unit would be a guess)": pd.Series([1, 2]),
    "floats": pd.Series([1.5, float("nan")]),
    "booleans": pd.Series([True, False]),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_a_column_whose_values_all_carry_an_offset_is_read_as_utc(case: str) -> None:
    got = as_utc(ACCEPTED[case], "at")
    assert str(got.dtype) == "datetime64[ns, UTC]"
    assert got.tolist() == UTC_EXPECTED


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_an_ambiguous_or_broken_column_is_a_data_error_naming_it(case: str) -> None:
    with pytest.raises(DataError, match=r"'at'.*Hint:") as caught:
        as_utc(REFUSED[case], "at")
    assert caught.value.column == "at"
    assert "\n" not in str(caught.value)


def test_an_empty_csv_column_of_instants_reads_as_missing_ones() -> None:
    # pandas reads an empty CSV column as all-NaN floats: no number there, so no unit to guess
    got = as_utc(pd.Series([float("nan"), float("nan")]), "churned_at", allow_missing=True)
    assert str(got.dtype) == "datetime64[ns, UTC]"
    assert bool(got.isna().all())


def test_a_mix_of_offsets_and_none_names_the_rows_without_one() -> None:
    column = pd.Series(["2026-03-28T10:00+01:00", "2026-03-29", "2026-03-30T10:00+02:00"])
    with pytest.raises(DataError, match="UTC offset") as caught:
        as_utc(column, "at")
    assert caught.value.rows == (1,)


def test_date_only_naive_values_are_utc_days_and_missing_ones_are_kept_when_allowed() -> None:
    got = as_utc(pd.Series(["2026-03-28", None]), "at", allow_missing=True)
    assert got.iloc[0] == pd.Timestamp("2026-03-28", tz="UTC")
    assert pd.isna(got.iloc[1])


# --- the time rule over one instant ------------------------------------------------------

GOOD_INSTANTS: dict[str, Any] = {
    "aware datetime": datetime(2026, 3, 30, 10, tzinfo=timezone(timedelta(hours=2))),
    "date": date(2026, 3, 30),
    "date-only text": "2026-03-30",
    "text with an offset": "2026-03-30T10:00:00+02:00",
    "Berlin Timestamp": pd.Timestamp("2026-03-30 10:00", tz="Europe/Berlin"),
    "numpy date": np.datetime64("2026-03-30"),
}
GOOD_UTC = {
    "aware datetime": pd.Timestamp("2026-03-30 08:00", tz="UTC"),
    "date": pd.Timestamp("2026-03-30", tz="UTC"),
    "date-only text": pd.Timestamp("2026-03-30", tz="UTC"),
    "text with an offset": pd.Timestamp("2026-03-30 08:00", tz="UTC"),
    "Berlin Timestamp": pd.Timestamp("2026-03-30 08:00", tz="UTC"),
    "numpy date": pd.Timestamp("2026-03-30", tz="UTC"),
}
BAD_INSTANTS: dict[str, Any] = {
    "NaT": pd.NaT,
    "numpy NaT": np.datetime64("NaT"),
    "None": None,
    "NaN": float("nan"),
    "an int": 5,
    "a float": 1.5,
    "a bool": True,
    "a numpy int": np.int64(3),
    "garbage text": "soon",
    "a list": [2026, 3, 30],
    "naive with a time of day": datetime(2026, 3, 30, 10),
    "naive text with a time of day": "2026-03-30T10:00:00",
}


@pytest.mark.parametrize("case", sorted(GOOD_INSTANTS))
def test_every_kind_of_instant_is_read_as_utc(case: str) -> None:
    assert utc_timestamp(GOOD_INSTANTS[case], name="as_of") == GOOD_UTC[case]


@pytest.mark.parametrize("case", sorted(BAD_INSTANTS))
def test_what_is_not_an_instant_is_a_data_error_naming_the_argument(case: str) -> None:
    with pytest.raises(DataError, match=r"as_of.*Hint:"):
        utc_timestamp(BAD_INSTANTS[case], name="as_of")


# --- every public function taking an instant ---------------------------------------------


@pytest.fixture(scope="module")
def world() -> synth.Dataset:
    return synth.generate(n_leads=40, seed=3, start="2025-01-01", end="2026-01-01")


def _as_of_callers(world: synth.Dataset) -> dict[str, Callable[[Any], object]]:
    opp, events = world.opportunities, world.opportunity_events
    return {
        "funnel": lambda t: metrics.funnel(events, as_of=t),
        "win_rate": lambda t: metrics.win_rate(opp, events, as_of=t),
        "sales_cycle_length": lambda t: metrics.sales_cycle_length(opp, events, as_of=t),
        "time_in_stage": lambda t: metrics.time_in_stage(events, as_of=t),
        "stage_spells": lambda t: metrics.stage_spells(events, as_of=t),
        "stage_velocity": lambda t: metrics.stage_velocity(events, as_of=t),
        "conversion_rate": lambda t: metrics.conversion_rate(
            events, from_stage="prospecting", to_stage="won", as_of=t
        ),
        "weighted_pipeline": lambda t: metrics.weighted_pipeline(opp, events, as_of=t),
        "average_deal_size": lambda t: metrics.average_deal_size(opp, events, as_of=t),
        "deal_stages": lambda t: metrics.deal_stages(opp, events, as_of=t),
        "replay_frame": lambda t: replay_frame(OPPORTUNITY_PIPELINE, events, as_of=t),
        "rfm_summary": lambda t: clv.rfm_summary(world.orders, as_of=t),
        "fire_frame": lambda t: fire_frame(
            LEAD_STATUS, pd.DataFrame({"lead_id": ["L-1"], "state": ["open"]}), "contact", at=t
        ),
    }


AS_OF_NAMES = sorted(
    [
        "average_deal_size",
        "conversion_rate",
        "deal_stages",
        "fire_frame",
        "funnel",
        "replay_frame",
        "rfm_summary",
        "sales_cycle_length",
        "stage_spells",
        "stage_velocity",
        "time_in_stage",
        "weighted_pipeline",
        "win_rate",
    ]
)


@pytest.mark.parametrize("bad", ["NaT", "an int", "garbage text", "naive with a time of day"])
@pytest.mark.parametrize("name", AS_OF_NAMES)
def test_a_bad_instant_is_a_typed_error_everywhere(
    world: synth.Dataset, name: str, bad: str
) -> None:
    call = _as_of_callers(world)[name]
    with pytest.raises(CrmError, match="Hint:"):
        call(BAD_INSTANTS[bad])


@pytest.mark.parametrize("name", AS_OF_NAMES)
def test_an_instant_with_an_offset_is_the_same_moment_in_utc(
    world: synth.Dataset, name: str
) -> None:
    call = _as_of_callers(world)[name]
    berlin = call(pd.Timestamp("2025-07-01 02:00", tz="Europe/Berlin"))
    utc = call(pd.Timestamp("2025-07-01 00:00", tz="UTC"))
    if isinstance(utc, pd.DataFrame) and isinstance(berlin, pd.DataFrame):
        pd.testing.assert_frame_equal(berlin, utc)
    elif isinstance(utc, float) and isinstance(berlin, float):
        assert berlin == utc or (math.isnan(berlin) and math.isnan(utc))
    else:
        frames = [getattr(result, "frame", None) for result in (berlin, utc)]
        assert isinstance(frames[0], pd.DataFrame)
        assert isinstance(frames[1], pd.DataFrame)
        pd.testing.assert_frame_equal(frames[0], frames[1])


# --- at=NaT in single-record steps -------------------------------------------------------


@pytest.mark.parametrize("at", [pd.NaT, None, "2026-01-02", datetime(2026, 1, 2), 5])
def test_a_single_step_refuses_what_is_not_an_aware_datetime(at: object) -> None:
    lead = Lead(id="L-1", created_at=T0)
    with pytest.raises(ValidationError, match="'at' must be a timezone-aware datetime"):
        LEAD_STATUS.fire(lead, "contact", at=at)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="'at'"):
        LEAD_STATUS.edit(lead, company="ACME", at=at)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="'at'"):
        LEAD_STATUS.assign(lead, "u-1", at=at)  # type: ignore[arg-type]


def test_nat_is_not_an_aware_datetime_field_value() -> None:
    with pytest.raises(ValidationError, match="created_at"):
        Lead(id="L-1", created_at=pd.NaT)  # type: ignore[arg-type]


# --- windows -----------------------------------------------------------------------------


def _windowed() -> dict[str, Callable[..., object]]:
    """Every public function with both a ``start`` and an ``end`` parameter."""
    found: dict[str, Callable[..., object]] = {}
    for module in (metrics, clv, synth):
        for name in module.__all__:
            func = getattr(module, name)
            if not inspect.isfunction(func):
                continue
            params = inspect.signature(func).parameters
            if "start" in params and "end" in params:
                found[name] = func
    return found


WINDOWED = _windowed()


def _arguments(func: Callable[..., object]) -> tuple[list[object], dict[str, object]]:
    """Empty frames and neutral numbers for the required arguments of ``func``."""
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for param in inspect.signature(func).parameters.values():
        if param.default is not inspect.Parameter.empty or param.name in {"start", "end"}:
            continue
        value: object = [] if param.name == "partials" else pd.DataFrame()
        if "float" in str(param.annotation):
            value = 0.5
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = value
        else:
            args.append(value)
    return args, kwargs


def test_the_windowed_functions_are_found() -> None:
    expected = {
        "cac",
        "churn_rate",
        "combine_churn_rate",
        "generate",
        "gross_revenue_retention",
        "net_revenue_retention",
        "new_customers",
        "new_customers_partial",
        "order_based_clv",
        "retention_rate",
    }
    assert expected <= set(WINDOWED)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-02-01", "2026-01-01"), ("2026-01-01", "2026-01-01"), (date(2026, 3, 1), "2026-02-01")],
)
@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_an_empty_or_reversed_window_is_a_validation_error_naming_both(
    name: str, start: object, end: object
) -> None:
    func = WINDOWED[name]
    args, kwargs = _arguments(func)
    with pytest.raises(ValidationError, match=r"'end' must be after start=.*Hint:") as caught:
        func(*args, **kwargs, start=start, end=end)
    assert caught.value.field == "end"
    assert caught.value.value == end


def test_the_window_check_reads_both_sides_by_the_time_rule() -> None:
    begin, finish = utc_window("2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00")
    assert (begin, finish) == (
        pd.Timestamp("2026-03-29 00:30", tz="UTC"),
        pd.Timestamp("2026-03-29 01:00", tz="UTC"),
    )
    # 03:00+02:00 is 01:00 UTC, before 02:00+00:00: reversed once read as instants
    with pytest.raises(ValidationError):
        utc_window("2026-03-29T02:00:00+00:00", "2026-03-29T03:00:00+02:00")
    assert utc_window(None, None) == (None, None)


# --- timelines ---------------------------------------------------------------------------


def _deal_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    events = pd.DataFrame(
        {
            "kind": ["opportunity"] * 3,
            "entity_id": ["o1", "o1", "o2"],
            "trigger": ["qualify", "win", "qualify"],
            "source": ["prospecting", "qualification", "prospecting"],
            "dest": ["qualification", "won", "qualification"],
            "at": pd.to_datetime(["2026-01-05", "2026-01-10", "2026-01-07"], utc=True),
        }
    )
    deals = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2"],
            "state": ["won", "qualification"],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        }
    )
    return events, deals


TIMELINE_CASES = {
    "created after the first event": "2026-01-06",
    "created after the win": "2026-01-20",
}


@pytest.mark.parametrize("case", sorted(TIMELINE_CASES))
@pytest.mark.parametrize("kpi", ["time_in_stage", "stage_spells", "sales_cycle_length", "funnel"])
def test_an_entity_created_after_its_events_is_a_data_error_naming_it(kpi: str, case: str) -> None:
    events, deals = _deal_log()
    deals.loc[0, "created_at"] = pd.Timestamp(TIMELINE_CASES[case], tz="UTC")
    created = deals.set_index("opportunity_id")["created_at"]
    calls: dict[str, Callable[[], object]] = {
        "time_in_stage": lambda: metrics.time_in_stage(events, created=created),
        "stage_spells": lambda: metrics.stage_spells(events, created=created),
        "sales_cycle_length": lambda: metrics.sales_cycle_length(deals, events),
        "funnel": lambda: metrics.funnel(events, created=created),
    }
    with pytest.raises(DataError, match=r"'o1'.*before it existed.*Hint:"):
        calls[kpi]()


def test_a_sound_timeline_gives_the_hand_computed_durations() -> None:
    events, deals = _deal_log()
    # o1: created 1 Jan, won 10 Jan: 9 days
    assert metrics.sales_cycle_length(deals, events) == 9.0
    spells = metrics.stage_spells(events, created=deals.set_index("opportunity_id")["created_at"])
    first = spells.loc[spells["entity_id"] == "o1"].iloc[0]
    assert (first["state"], first["days"]) == ("prospecting", 4.0)


# --- the property: offsets never change a result -----------------------------------------

OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timedelta(minutes=15 * q))


def _with_offsets(column: pd.Series, offsets: list[timedelta]) -> pd.Series:
    """The same instants, each written as ISO text in its own fixed offset."""
    utc = pd.to_datetime(column, utc=True)
    text = [
        stamp.tz_convert(timezone(offsets[i % len(offsets)])).isoformat()
        for i, stamp in enumerate(utc)
    ]
    return pd.Series(text, index=column.index, dtype=object)


@pytest.fixture(scope="module")
def small_world() -> synth.Dataset:
    return synth.generate(n_leads=25, seed=11, start="2025-01-01", end="2026-01-01")


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(offsets=st.lists(OFFSETS, min_size=1, max_size=6))
def test_offsets_never_change_a_result(
    small_world: synth.Dataset, offsets: list[timedelta]
) -> None:
    events = small_world.opportunity_events
    shifted = events.assign(at=_with_offsets(events["at"], offsets))
    pd.testing.assert_frame_equal(
        replay_frame(OPPORTUNITY_PIPELINE, shifted), replay_frame(OPPORTUNITY_PIPELINE, events)
    )
    pd.testing.assert_frame_equal(funnel(shifted), funnel(events))
    orders = small_world.orders
    shifted_orders = orders.assign(at=_with_offsets(orders["at"], offsets))
    pd.testing.assert_frame_equal(cohort_retention(shifted_orders), cohort_retention(orders))


# --- the CLI's report reads the same rule ------------------------------------------------

DST_CUSTOMERS = (
    "customer_id,channel,acquired_at\n"
    "a,web,2026-03-28T23:30:00+01:00\n"  # 22:30 UTC on Mar 28
    "b,web,2026-03-31T01:30:00+02:00\n"  # 23:30 UTC on Mar 30: March
    "c,ads,2026-04-01T01:30:00+02:00\n"  # 23:30 UTC on Mar 31: March
    "d,ads,2026-04-01T03:00:00+02:00\n"  # 01:00 UTC on Apr 1: April
)


def _report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, str, str]:
    (tmp_path / "customers.csv").write_text(DST_CUSTOMERS, encoding="utf-8")
    status = main(["report", str(tmp_path), "--kpi", "new_customers", "--json", *flags])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_report_reads_an_export_across_a_dst_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _report(tmp_path, capsys, "--start", "2026-03-01", "--end", "2026-04-01")
    assert (status, err) == (EXIT_OK, "")
    assert json.loads(out)["kpis"] == {"new_customers": 3}  # a, b, c in March (UTC)


@pytest.mark.parametrize(("start", "end"), [("2026-04-01", "2026-03-01"), ("2026-03-01",) * 2])
def test_the_report_refuses_an_empty_or_reversed_window_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str, end: str
) -> None:
    status, out, err = _report(tmp_path, capsys, "--start", start, "--end", end)
    assert (status, out) == (EXIT_USER_ERROR, "")
    assert "must be after start=" in err
    assert len(err.strip().splitlines()) == 1
