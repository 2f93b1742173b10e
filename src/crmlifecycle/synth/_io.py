"""
Store a :class:`Dataset` as a folder of CSV or parquet files, and read it back losslessly.

A ``dataset.json`` manifest records the file format and the observation window.
Reading gives every column the dtype of its kind in the data contract
(:data:`crmlifecycle.schema.SCHEMA`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
from typing import Final, Literal

import pandas as pd

from crmlifecycle._config import load_json
from crmlifecycle._frames import as_utc
from crmlifecycle._validators import check_arg
from crmlifecycle.errors import DataError, MissingDependencyError, ValidationError
from crmlifecycle.schema import FRAME_NAMES, SCHEMA, ColumnKind
from crmlifecycle.synth._dataset import Dataset

__all__ = ["read_dataset", "write_dataset"]

MANIFEST: Final = "dataset.json"
_FORMATS: Final = ("csv", "parquet")
#: the dtype a CSV column of each kind is read as (times are parsed after reading)
_CSV_DTYPES: Final[dict[ColumnKind, str]] = {
    "str": "str",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
}

FileFormat = Literal["csv", "parquet"]


def _check_format(file_format: str) -> None:
    if file_format not in _FORMATS:
        raise ValidationError.for_field("file_format", file_format, "'csv' or 'parquet'")
    if file_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise MissingDependencyError(
            package="pyarrow", extra="parquet", feature="reading and writing parquet files"
        )


def write_dataset(
    dataset: Dataset, folder: str | pathlib.Path, *, file_format: FileFormat = "csv"
) -> pathlib.Path:
    """
    Write every frame of ``dataset`` to ``folder`` (created if needed), plus a manifest.

    Files are named ``<frame>.csv`` or ``<frame>.parquet``; ``dataset.json`` records
    the format and the observation window. Existing files of the same names are replaced.

    Args:
        dataset: the dataset to store.
        folder: the target folder.
        file_format: ``"csv"`` (portable) or ``"parquet"`` (fast; needs pyarrow).

    Returns:
        The folder's path.

    Raises:
        ValidationError: for an unknown format.
        MissingDependencyError: for parquet without pyarrow installed.

    Examples:
        >>> import tempfile
        >>> from crmlifecycle.synth import generate, read_dataset, write_dataset
        >>> world = generate(seed=1, n_leads=100)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     folder = write_dataset(world, tmp, file_format="csv")
        ...     again = read_dataset(folder)
        >>> again.leads.equals(world.leads)
        True
    """
    _check_format(file_format)
    if not isinstance(dataset, Dataset):
        raise ValidationError.for_field("dataset", dataset, "a crmlifecycle.synth.Dataset")
    target = pathlib.Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, frame in dataset.frames().items():
        path = target / f"{name}.{file_format}"
        if file_format == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        files[name] = path.name
    manifest = {
        "generator": "crmlifecycle.synth",
        "version": 1,
        "file_format": file_format,
        "start": dataset.start.isoformat(),
        "end": dataset.end.isoformat(),
        "frames": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def _coerce(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Give every column of the contract its kind's dtype (times by the library's UTC rule)."""
    result = frame.copy()
    for column, kind in SCHEMA[name].items():
        if column not in result.columns:
            continue  # Dataset() reports the missing columns together
        values = result[column]
        if kind == "time":
            result[column] = as_utc(values, column, allow_missing=True)
            continue
        if kind in {"bool", "int"} and bool(values.isna().any()):
            raise DataError.malformed(
                column, f"in {name} has missing values", hint=f"fill them; {kind} has no NaN."
            )
        try:
            result[column] = _as_kind(values, kind)
        except (ValueError, TypeError) as err:
            raise DataError.malformed(
                column, f"in {name} cannot be read as {kind} ({err})", hint="fix the file."
            ) from err
    return result


def _as_kind(values: pd.Series, kind: ColumnKind) -> pd.Series:
    if kind == "bool":
        return values.astype("bool")
    if kind == "int":
        return values.astype("int64")
    if kind == "float":
        return values.astype("float64")
    return values.astype("str")


def _read_csv(path: pathlib.Path, name: str) -> pd.DataFrame:
    dtypes = {c: _CSV_DTYPES.get(k, "str") for c, k in SCHEMA[name].items()}
    try:
        return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError, OSError, EOFError) as err:
        raise DataError(
            f"{path.name} cannot be read as the {name} frame ({err}). "
            "Hint: the file must be a CSV written by write_dataset(), with its header row."
        ) from err


def read_dataset(folder: str | pathlib.Path) -> Dataset:
    """
    Read a dataset written by :func:`write_dataset`; dtypes come back exactly.

    Text ids and labels come back as strings, ``paid`` as bool, missing budgets as
    NaN, missing lost reasons and comments as missing strings, and timestamps as
    ``datetime64[ns, UTC]`` (with NaT where missing).

    Args:
        folder: a folder holding ``dataset.json`` and one file per frame.

    Returns:
        The :class:`Dataset`.

    Raises:
        DataError: if the manifest or a frame file is missing or malformed.
        MissingColumnError: if a frame lacks columns of the data contract.

    Examples:
        >>> read_dataset("no/such/folder")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.DataError: no dataset.json in 'no/such/folder'. Hint: ...
    """
    check_arg("folder", folder, (str, os.PathLike), "a folder path (a str or a Path)")
    source = pathlib.Path(folder)
    manifest_path = source / MANIFEST
    if not _is_file(manifest_path):
        raise DataError(
            f"no {MANIFEST} in {_short(str(source))!r}. "
            "Hint: pass a folder written by crmlifecycle.synth.write_dataset()."
        )
    try:
        # the bounded reader of every JSON document (size, depth, numbers, duplicate keys)
        manifest = load_json(manifest_path.read_text(encoding="utf-8"), what=MANIFEST)
        file_format = manifest["file_format"]
        files = manifest["frames"]
        start, end = manifest["start"], manifest["end"]
        files = dict(files)  # a list or text: TypeError/ValueError below
    except (ValueError, KeyError, TypeError) as err:  # SpecError is a ValueError
        raise DataError(
            f"{manifest_path} is not a valid dataset manifest ({err!r}). "
            "Hint: write the folder again with write_dataset()."
        ) from err
    _check_format(file_format)
    frames = {}
    for name in FRAME_NAMES:
        file_name = files.get(name, f"{name}.{file_format}")
        if not isinstance(file_name, str) or pathlib.Path(file_name).name != file_name:
            raise DataError(
                f"{manifest_path}: the file of frame {name!r} must be a file name in the "
                f"folder (got {file_name!r}). Hint: write the folder again with write_dataset()."
            )
        path = source / file_name
        if not _is_file(path):
            raise DataError(
                f"frame {name!r} is missing: no file {path.name} in {_short(str(source))!r}. "
                "Hint: write the whole dataset again with write_dataset()."
            )
        raw = _read_csv(path, name) if file_format == "csv" else _read_parquet(path, name)
        frames[name] = _coerce(raw, name)
    return Dataset(**frames, start=start, end=end)


def _is_file(path: pathlib.Path) -> bool:
    """``path.is_file()``, false (not an ``OSError``) for a name the system cannot take."""
    try:
        return path.is_file()
    except OSError:  # a name too long, or otherwise not a path on this system
        return False


def _short(text: str) -> str:
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"  # noqa: PLR2004


def _read_parquet(path: pathlib.Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (ValueError, OSError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(
            f"{path.name} cannot be read as the {name} frame ({' '.join(str(err).split())}). "
            "Hint: the file must be a parquet file written by write_dataset()."
        ) from err
