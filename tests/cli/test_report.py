from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys
from importlib import metadata

import pandas as pd
import pytest

from crmlifecycle.cli import EXIT_OK, EXIT_USER_ERROR, main
from crmlifecycle.cli._common import jsonable

ORDERS = """order_no,cust,order_date,total
o1,c1,2026-01-05,100.5
o2,c1,2026-02-07,50
o3,c2,2026-01-20,75
"""
# average order value: (100.5 + 50 + 75) / 3 = 75.1666...;
# repeat purchase rate: c1 of the ordering customers {c1, c2} = 0.5
MAPPING = ["--col", "customer_id=cust", "--col", "order_id=order_no"]
MAPPING += ["--col", "orders.at=order_date", "--col", "orders.amount=total"]


def _folder(tmp_path: pathlib.Path, **files: str) -> pathlib.Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    status, out, err = _run([*args, "--json"], capsys)
    assert (status, err) == (EXIT_OK, "")
    document: dict[str, object] = json.loads(out)
    return document


def test_report_on_mapped_columns_as_text(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, orders=ORDERS)
    status, out, err = _run(["report", str(folder), *MAPPING], capsys)
    assert (status, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[0] == f"KPI report on 1 frames from {folder}"
    assert lines[1] == "rows: orders 3"
    aov = next(line for line in lines if line.startswith("average_order_value"))
    assert aov.split()[1] == "75.17"  # (100.5 + 50 + 75) / 3, 4 significant digits
    assert "Skipped:" in lines
    assert any(
        "needs frame 'customers' (add customers.csv to the folder or pass --customers FILE)" in line
        for line in lines
    )


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


EXAMPLE_METRIC = "crmlifecycle-example-metric"


@pytest.mark.skipif(
    not _installed(EXAMPLE_METRIC),
    reason=f"the example plugin is not installed (pip install plugins/{EXAMPLE_METRIC})",
)
def test_report_includes_kpis_of_installed_plugins(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, orders=ORDERS)
    status, out, _ = _run(["report", str(folder), *MAPPING], capsys)
    assert status == EXIT_OK
    repeat = [line for line in out.splitlines() if line.startswith("repeat_purchase_rate")]
    assert len(repeat) == 1
    assert repeat[0].split()[1] == "0.5"
    kpis = _json(["report", str(folder), *MAPPING], capsys)["kpis"]
    assert isinstance(kpis, dict)
    assert kpis["repeat_purchase_rate"] == 0.5


def test_report_json_values(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, orders=ORDERS)
    document = _json(["report", str(folder), *MAPPING], capsys)
    kpis = document["kpis"]
    assert isinstance(kpis, dict)
    assert kpis["average_order_value"] == pytest.approx(225.5 / 3)
    assert document["frames"] == {"orders": {"file": str(folder / "orders.csv"), "rows": 3}}
    skipped = document["skipped"]
    assert isinstance(skipped, dict)
    assert skipped["nps"] == "needs frame 'feedback'"


def test_report_selected_kpis_and_single_files(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "my orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    document = _json(
        ["report", "--orders", str(path), *MAPPING, "--kpi", "average_order_value"], capsys
    )
    assert list(document["kpis"]) == ["average_order_value"]  # type: ignore[call-overload]
    assert document["skipped"] == {}


def test_report_reads_parquet(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["c1", "c2"],
            "at": pd.to_datetime(["2026-01-05", "2026-01-06"], utc=True),
            "amount": [10.0, 30.0],
        }
    )
    orders.to_parquet(folder / "orders.parquet")
    document = _json(["report", str(folder), "--kpi", "average_order_value"], capsys)
    assert document["kpis"] == {"average_order_value": 20.0}  # (10 + 30) / 2


def test_report_start_end_and_tz(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = (
        "customer_id,channel,acquired_at\n"
        "a,web,2026-01-31 23:30:00\n"  # Berlin 23:30 on Jan 31 = 22:30 UTC: January
        "b,web,2026-02-01 00:30:00\n"  # Berlin 00:30 on Feb 1 = 23:30 UTC on Jan 31: January
        "c,ads,2026-02-01 01:30:00\n"  # Berlin 01:30 on Feb 1 = 00:30 UTC on Feb 1: February
    )
    folder = _folder(tmp_path, customers=customers)
    args = ["report", str(folder), "--kpi", "new_customers"]
    # naive timestamps with a time of day are ambiguous: the time rule refuses them
    status, out, err = _run(args, capsys)
    assert status == EXIT_USER_ERROR
    assert out == ""
    assert "customers.csv: column 'acquired_at' holds timezone-naive timestamps" in err
    document = _json([*args, "--tz", "Europe/Berlin", "--start", "2026-02-01"], capsys)
    assert document["kpis"] == {"new_customers": 1}  # only c is acquired from Feb 1 (UTC)
    document = _json([*args, "--tz", "Europe/Berlin", "--end", "2026-02-01"], capsys)
    assert document["kpis"] == {"new_customers": 2}  # a and b, before Feb 1 (UTC)


def test_report_bad_time_zone(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(
        tmp_path, customers="customer_id,channel,acquired_at\na,web,2026-01-05 10:00\n"
    )
    status, _, err = _run(["report", str(folder), "--tz", "Mars/Olympus"], capsys)
    assert status == EXIT_USER_ERROR
    assert "--tz 'Mars/Olympus' is not an IANA time zone name" in err  # before any file is read


def test_report_reads_booleans_and_numbers_by_the_schema(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spend = (
        "campaign_id,channel,paid,period,spend\n"
        "k1,ads,yes,2026-01-01,600\n"
        "k2,web,no,2026-01-01,400\n"
    )
    customers = "customer_id,channel,acquired_at\na,ads,2026-01-05\nb,web,2026-01-06\n"
    folder = _folder(tmp_path, spend=spend, customers=customers)
    document = _json(["report", str(folder), "--kpi", "cac_blended", "--kpi", "cac_paid"], capsys)
    # blended: (600 + 400) / 2 customers = 500; paid: 600 spent on paid channels / 1 (a, ads) = 600
    assert document["kpis"] == {"cac_blended": 500.0, "cac_paid": 600.0}


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        (
            {"orders": ORDERS.replace("75\n", "seventy\n")},
            MAPPING,
            (
                "orders.csv: column 'amount' holds values that are not numbers in rows [2], "
                "e.g. 'seventy'"
            ),
        ),
        (
            {"orders": ORDERS},
            [],
            "orders frame is missing column(s) ['order_id', 'customer_id', 'at', 'amount']",
        ),
        ({"orders": ORDERS}, ["--col", "customer_id=cutt"], "no frame has a column 'cutt'"),
        (
            {"orders": ORDERS},
            ["--col", "orders.customer_id=client"],
            "orders.csv has no column 'client'",
        ),
        (
            {"orders": "customer_id,cust\n1,2\n"},
            ["--col", "customer_id=cust"],
            "has both 'cust' and 'customer_id'",
        ),
        ({"orders": ORDERS}, ["--col", "customers.customer_id=cust"], "no customers frame"),
        ({"orders": ORDERS}, ["--col", "ordres.at=x"], "(did you mean 'orders'?)"),
        ({"orders": ORDERS}, ["--col", "customer_id"], "'--col' must be NAME=SOURCE"),
        (
            {"orders": ORDERS},
            ["--col", "orders.amout=total"],
            "a mapping of a column of the orders frame (did you mean 'amount'?)",
        ),
        (
            {"orders": ORDERS},
            ["--col", "custmer_id=cust"],
            "a mapping of a column of any frame (did you mean 'customer_id'?)",
        ),
        (
            {"orders": ORDERS},
            ["--col", "orders.state=cust"],
            "a mapping of a column of the orders frame",
        ),
        ({"orders": ORDERS}, ["--kpi", "win_rat"], "(did you mean 'win_rate'?)"),
        (
            {"spend": "campaign_id,channel,paid,period,spend\nk,ads,maybe,2026-01-01,1\n"},
            [],
            "column 'paid' holds values that are not true/false",
        ),
        ({"orders": '"unclosed\n'}, [], "cannot be read as the orders frame"),
        ({"orders": ORDERS}, ["--as-of", "yesterday"], "--as-of='yesterday' is not a date"),
    ],
)
def test_report_user_errors_are_one_line_and_exit_2(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    args: list[str],
    expected: str,
) -> None:
    folder = _folder(tmp_path, **files)
    status, out, err = _run(["report", str(folder), *args], capsys)
    assert status == EXIT_USER_ERROR
    assert out == ""
    assert err.startswith("crmlifecycle: error: ")
    assert expected in err
    assert "Hint:" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_col_mappings_become_one_column_spec_record_per_frame() -> None:
    from crmlifecycle.cli._report import _column_spec, _parse_mappings
    from crmlifecycle.schema import CustomerColumns, FeedbackColumns, OrderColumns

    mappings = _parse_mappings(
        ["customer_id=cust", "orders.at=order_date", "customers.acquired_at=since"]
    )
    used: set[str] = set()
    path = pathlib.Path("x.csv")
    orders = pd.DataFrame(columns=["order_id", "cust", "order_date", "amount"])
    spec = _column_spec("orders", orders, path, mappings, used)
    assert spec == OrderColumns(customer_id="cust", at="order_date")
    customers = pd.DataFrame(columns=["cust", "since", "channel"])
    spec = _column_spec("customers", customers, path, mappings, used)
    assert spec == CustomerColumns(customer_id="cust", acquired_at="since")
    # a NAME=SOURCE mapping applies only where the file has SOURCE
    feedback = pd.DataFrame(columns=["customer_id", "at", "kind", "score"])
    assert _column_spec("feedback", feedback, path, mappings, used) == FeedbackColumns()
    assert used == {"cust", "order_date", "since"}


def test_mapped_frames_get_the_contract_names_and_kinds(tmp_path: pathlib.Path) -> None:
    # an export calling the state 'Stage' maps it with --col opportunities.state=Stage
    from crmlifecycle.cli._report import _column_spec, _parse_mappings, _read_frame, _to_contract
    from crmlifecycle.schema import OpportunityColumns

    folder = _folder(
        tmp_path,
        opportunities="Deal,Created,Stage,Value,probability\no1,2026-01-05,won,100,100\n",
    )
    path = folder / "opportunities.csv"
    mappings = _parse_mappings(
        ["opportunities.opportunity_id=Deal", "created_at=Created", "state=Stage", "amount=Value"]
    )
    raw = _read_frame("opportunities", path, mappings)
    spec = _column_spec("opportunities", raw, path, mappings, set())
    assert spec == OpportunityColumns(
        opportunity_id="Deal", created_at="Created", state="Stage", amount="Value"
    )
    frame = _to_contract(raw, spec, path, None)
    assert frame.columns.tolist() == [
        "opportunity_id",
        "created_at",
        "state",
        "amount",
        "probability",
    ]
    assert frame["state"].tolist() == ["won"]
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["amount"].tolist() == [100.0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "no/such/folder"], "'no/such/folder' is not a folder"),
        (["report", "--orders", "no/such.csv"], "--orders: no file 'no/such.csv'"),
        (["report"], "no input frames found"),
    ],
)
def test_report_missing_inputs(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    status, _, err = _run(args, capsys)
    assert status == EXIT_USER_ERROR
    assert expected in err


def test_report_on_an_empty_folder(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(["report", str(tmp_path)], capsys)
    assert status == EXIT_USER_ERROR
    assert f"no input frames found in {str(tmp_path)!r}" in err


def test_list_kpis(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(["report", "--list-kpis"], capsys)
    assert status == EXIT_OK
    names = [line.split()[0] for line in out.splitlines()]
    assert names[:3] == ["new_customers", "cac_blended", "cac_paid"]
    assert "win_rate" in names


def test_report_on_a_written_world_equals_compute_kpis(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crmlifecycle.metrics import compute_kpis
    from crmlifecycle.sla import SlaPolicy
    from crmlifecycle.synth import generate, write_dataset

    world = generate(seed=3, n_leads=300)
    folder = write_dataset(world, tmp_path / "world")
    policy = {"targets": {p: {"resolution": "24h"} for p in ("low", "normal", "high", "urgent")}}
    policy_file = tmp_path / "sla.json"
    policy_file.write_text(json.dumps(policy), encoding="utf-8")
    document = _json(
        ["report", str(folder), "--gross-margin", "0.7", "--sla-policy", str(policy_file)], capsys
    )
    expected = compute_kpis(world, gross_margin=0.7, sla_policy=SlaPolicy.from_dict(policy))
    kpis = document["kpis"]
    assert isinstance(kpis, dict)
    values = expected.values  # noqa: PD011 - KpiReport.values, not pandas
    assert set(kpis) == set(values)  # every KPI computed, sla_breach_rate included
    assert document["skipped"] == {}
    for name, value in values.items():
        if isinstance(value, pd.DataFrame):
            assert kpis[name] == jsonable(value), name
        elif isinstance(value, float) and math.isnan(value):
            assert kpis[name] is None, name
        else:
            assert kpis[name] == pytest.approx(value), name


def test_jsonable_turns_values_into_json_data() -> None:
    assert jsonable(float("nan")) is None
    assert jsonable(float("inf")) is None
    assert jsonable(2.5) == 2.5
    assert jsonable(pd.Timedelta(hours=2)) == 7200.0
    assert jsonable(pd.Timestamp("2026-01-05T10:00Z")) == "2026-01-05T10:00:00+00:00"
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x", "y"]})
    assert jsonable(frame) == [{"a": 1.0, "b": "x"}, {"a": None, "b": "y"}]
    assert jsonable(pd.Series({"m": 1})) == {"m": 1}
    assert str(jsonable(object.__new__(object))).startswith("<object object")


def test_report_as_a_subprocess(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "crmlifecycle.cli", "report", str(folder), *MAPPING, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["kpis"]["average_order_value"] == pytest.approx(225.5 / 3)
    broken = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "crmlifecycle.cli", "report", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert broken.returncode == EXIT_USER_ERROR
    assert broken.stderr.startswith("crmlifecycle: error: orders frame is missing column(s)")
    assert "Traceback" not in broken.stderr
