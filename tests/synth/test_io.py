"""CSV and parquet folders: lossless round trips and loud failures."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pandas as pd
import pytest

from crmlifecycle.errors import (
    DataError,
    MissingColumnError,
    MissingDependencyError,
    ValidationError,
)
from crmlifecycle.schema import FRAME_NAMES
from crmlifecycle.synth import Dataset, generate, read_dataset, write_dataset


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate(seed=2, n_leads=400)


def test_small_world_has_the_awkward_values(small: Dataset) -> None:
    # the round trip below is only meaningful if these are present
    assert small.leads["budget"].isna().any()
    assert small.opportunities["lost_reason"].isna().any()
    assert small.opportunities["closed_at"].isna().any()
    assert small.feedback["comment"].isna().any()
    assert (~small.campaigns["paid"]).any()


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_round_trip_is_exact(small: Dataset, tmp_path: pathlib.Path, file_format: str) -> None:
    folder = write_dataset(small, tmp_path / "world", file_format=file_format)  # type: ignore[arg-type]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{name}.{file_format}" for name in FRAME_NAMES] + ["dataset.json"]
    )
    again = read_dataset(folder)
    assert again.start == small.start
    assert again.end == small.end
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(again.frames()[name], small.frames()[name], check_exact=True)


def test_manifest_records_format_and_window(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path)
    manifest = json.loads((tmp_path / "dataset.json").read_text())
    assert manifest["file_format"] == "csv"
    assert manifest["start"] == "2024-01-01T00:00:00+00:00"
    assert manifest["frames"]["orders"] == "orders.csv"


def test_unknown_format_is_rejected(small: Dataset, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValidationError) as info:
        write_dataset(small, tmp_path, file_format="xlsx")  # type: ignore[arg-type]
    assert info.value.field == "file_format"


def test_only_datasets_are_written(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValidationError, match="dataset"):
        write_dataset({"leads": pd.DataFrame()}, tmp_path)  # type: ignore[arg-type]


def test_parquet_without_pyarrow_says_which_extra(
    small: Dataset, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(MissingDependencyError) as info:
        write_dataset(small, tmp_path, file_format="parquet")
    assert info.value.extra == "parquet"


def test_missing_manifest(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError, match=r"no dataset\.json"):
        read_dataset(tmp_path)


def test_broken_manifest(tmp_path: pathlib.Path) -> None:
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(DataError, match="not a valid dataset manifest"):
        read_dataset(tmp_path)


def test_missing_frame_file(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path)
    (tmp_path / "orders.csv").unlink()
    with pytest.raises(DataError, match="frame 'orders' is missing"):
        read_dataset(tmp_path)


def test_missing_column(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path)
    small.orders.drop(columns=["amount"]).to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(MissingColumnError) as info:
        read_dataset(tmp_path)
    assert info.value.missing == ("amount",)


def test_malformed_values(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path)
    broken = small.orders.astype({"at": "str"})
    broken.loc[0, "at"] = "yesterday"
    broken.to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(DataError) as info:
        read_dataset(tmp_path)
    assert info.value.column == "at"


def test_missing_flag_in_bool_column(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path, file_format="parquet")
    campaigns = small.campaigns.astype({"paid": "object"})
    campaigns.loc[0, "paid"] = None
    campaigns.to_parquet(tmp_path / "campaigns.parquet")
    with pytest.raises(DataError, match="'paid' in campaigns has missing values"):
        read_dataset(tmp_path)


def test_unreadable_number(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path, file_format="parquet")
    leads = small.leads.astype({"company_size": "str"})
    leads.loc[0, "company_size"] = "many"
    leads.to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(DataError, match="'company_size' in leads cannot be read as int"):
        read_dataset(tmp_path)


def test_csv_that_does_not_parse(small: Dataset, tmp_path: pathlib.Path) -> None:
    write_dataset(small, tmp_path)
    (tmp_path / "leads.csv").write_text("lead_id,company_size\nL1,many\n")
    with pytest.raises(DataError, match=r"leads\.csv cannot be read as the leads frame"):
        read_dataset(tmp_path)
