"""
``crmlifecycle report``: the KPI report on a folder (or list) of CSV/parquet files.

The frames read are those of the data contract (:mod:`crmlifecycle.schema`), found
by their names. ``--col`` mappings become one column-spec record per frame
(``OrderColumns(customer_id="cust")``): the record says which of the file's columns
holds each column of the contract. Each frame's columns are then typed by their kind
in the contract and given the contract's names before the KPIs run; a bad value is
reported with its file, column and rows.
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from crmlifecycle._zones import check_tz_name
from crmlifecycle.cli._common import EXIT_OK, jsonable, read_document, write_out
from crmlifecycle.errors import (
    DataError,
    MissingColumnError,
    MissingDependencyError,
    ValidationError,
    did_you_mean,
)
from crmlifecycle.schema import FRAME_COLUMNS, FRAME_NAMES, SCHEMA, ColumnKind, ColumnSpec

__all__ = ["run_report"]

_OPTION_FLAGS: Final = {"gross_margin": "--gross-margin", "sla_policy": "--sla-policy"}


def run_report(args: argparse.Namespace) -> int:
    from crmlifecycle.metrics import available_metrics, compute_kpis, get_metric

    if args.list_kpis:
        names = available_metrics()
        width = max(len(n) for n in names)
        for name in names:
            write_out(f"{name:<{width}}  {get_metric(name).description}")
        return EXIT_OK
    if args.tz is not None:
        _check_zone(args.tz)
    given = {name: vars(args)[f"frame_{name}"] for name in FRAME_NAMES}
    files = _frame_files(args.folder, given)
    mappings = _parse_mappings(args.col)
    used: set[str] = set()
    frames = {}
    for name, path in files.items():
        raw = _read_frame(name, path, mappings)
        columns = _column_spec(name, raw, path, mappings, used)
        frames[name] = _to_contract(raw, columns, path, args.tz)
    _check_mappings_used(mappings, files, used)
    options = _kpi_options(args)
    try:
        report = compute_kpis(frames, names=args.kpi, **options)
    except MissingColumnError as err:
        reason = str(err).split(" Hint:", 1)[0].rstrip(".;")
        raise DataError(
            f"{reason}. Hint: map your column names with --col, e.g. "
            f"--col {err.missing[0]}=<your column>.",
            column=err.column,
        ) from err
    kpis: Mapping[str, object] = report.values
    if args.json:
        document = {
            "frames": {
                name: {"file": str(files[name]), "rows": len(frames[name])} for name in frames
            },
            "kpis": {name: jsonable(value) for name, value in kpis.items()},
            "skipped": dict(report.skipped),
            "descriptions": dict(report.descriptions),
        }
        write_out(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))
        return EXIT_OK
    write_out(_report_text(report, frames, args.folder))
    return EXIT_OK


def _kpi_options(args: argparse.Namespace) -> dict[str, Any]:
    from crmlifecycle._frames import utc_timestamp, utc_window

    utc_window(args.start, args.end)  # the one window check: --start before --end
    options: dict[str, Any] = {}
    for key, flag in (("as_of", "--as-of"), ("start", "--start"), ("end", "--end")):
        value = vars(args)[key]
        if value is not None:
            options[key] = utc_timestamp(value, name=flag)
    if args.gross_margin is not None:
        options["gross_margin"] = args.gross_margin
    if args.sla_policy is not None:
        from crmlifecycle.sla import SlaPolicy

        options["sla_policy"] = SlaPolicy.from_dict(read_document(Path(args.sla_policy)))
    return options


def _frame_files(folder: str | None, given: Mapping[str, str | None]) -> dict[str, Path]:
    """Find each frame's file: ``--<frame> FILE`` first, else ``FOLDER/<frame>.<suffix>``."""
    files: dict[str, Path] = {}
    if folder is not None:
        root = Path(folder)
        if not root.is_dir():
            raise DataError(
                f"{folder!r} is not a folder. Hint: pass a folder holding files such as "
                "orders.csv and customers.csv, or name files with --orders FILE ..."
            )
        for name in FRAME_NAMES:
            for suffix in (".csv", ".csv.gz", ".parquet"):
                if (root / f"{name}{suffix}").is_file():
                    files[name] = root / f"{name}{suffix}"
                    break
    for name, value in given.items():
        if value is None:
            continue
        path = Path(value)
        if not path.is_file():
            raise DataError(f"--{name.replace('_', '-')}: no file {value!r}. Hint: check the path.")
        files[name] = path
    if not files:
        where = f" in {folder!r}" if folder is not None else ""
        raise DataError(
            f"no input frames found{where}. Hint: name the files after the frames "
            f"({', '.join(FRAME_NAMES[:4])}, ...: e.g. orders.csv) or pass --orders FILE ..."
        )
    return files


#: every column of the contract, in any frame
_CONTRACT_COLUMNS: Final = tuple(dict.fromkeys(c for kinds in SCHEMA.values() for c in kinds))


def _parse_mappings(items: Sequence[str]) -> dict[str | None, dict[str, str]]:
    """
    Parse ``[FRAME.]NAME=SOURCE`` items into frame (``None``: every frame) -> NAME -> SOURCE.

    NAME must be a column of the frame's column-spec record (of any frame's, without FRAME).
    """
    mappings: dict[str | None, dict[str, str]] = {}
    for item in items:
        target, equals, source = item.partition("=")
        frame, dot, column = target.partition(".")
        scope: str | None = frame if dot else None
        column = (column if dot else target).strip()
        if not equals or not column or not source.strip():
            raise ValidationError.for_field(
                "--col",
                item,
                "NAME=SOURCE or FRAME.NAME=SOURCE",
                hint="e.g. --col customer_id=cust.",
            )
        if scope is not None and scope not in FRAME_NAMES:
            raise ValidationError.for_field(
                "--col",
                item,
                f"a mapping for a known frame{did_you_mean(scope, FRAME_NAMES)}",
                hint=f"frames are {', '.join(FRAME_NAMES)}.",
            )
        known = _CONTRACT_COLUMNS if scope is None else tuple(SCHEMA[scope])
        if column not in known:
            where = "any frame" if scope is None else f"the {scope} frame"
            raise ValidationError.for_field(
                "--col",
                item,
                f"a mapping of a column of {where}{did_you_mean(column, known)}",
                hint=f"NAME is the data contract's column, one of {', '.join(known)}.",
            )
        mappings.setdefault(scope, {})[column] = source.strip()
    return mappings


def _check_mappings_used(
    mappings: Mapping[str | None, Mapping[str, str]],
    files: Mapping[str, Path],
    used: set[str],
) -> None:
    """A mapping that matches nothing is a typo: say so rather than ignore it."""
    for scope in mappings:
        if scope is not None and scope not in files:
            raise DataError(
                f"--col {scope}.…: there is no {scope} frame to map. "
                f"Hint: the frames read are {sorted(files)}."
            )
    for column, source in mappings.get(None, {}).items():
        if source not in used:
            raise DataError(
                f"--col {column}={source}: no frame has a column {source!r}. "
                "Hint: check the spelling against the files' header rows."
            )


def _check_zone(tz: str) -> None:
    """``--tz`` names an IANA time zone: checked once, before any file is read."""
    try:
        check_tz_name(tz, "--tz")
    except ValidationError as err:
        raise DataError(
            f"--tz {tz!r} is not an IANA time zone name. "
            "Hint: use a name such as Europe/Berlin, America/New_York or UTC."
        ) from err


def _check_header(name: str, path: Path) -> None:
    """A CSV header naming a column twice (pandas would rename the second ``x.1``)."""
    import pandas as pd

    header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    labels = [str(v) for v in header.iloc[0]] if len(header) else []
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise DataError(
            f"{path.name}: the header names the column {twice[0]!r} more than once, "
            f"so the {name} frame is ambiguous. Hint: rename or drop the extra column.",
            column=twice[0],
        )


def _read_frame(
    name: str,
    path: Path,
    mappings: Mapping[str | None, Mapping[str, str]],
) -> Any:
    """Read one file as it is; the columns that may hold text of the contract are read as text."""
    import pandas as pd

    kinds = SCHEMA[name]
    scoped, everywhere = mappings.get(name, {}), mappings.get(None, {})
    text_columns = {
        source: "str"
        for column, kind in kinds.items()
        if kind == "str"
        for source in {scoped.get(column, everywhere.get(column, column)), column}
    }
    try:
        if path.name.lower().endswith(".parquet"):
            return _read_parquet(path)
        _check_header(name, path)
        return pd.read_csv(path, dtype=text_columns)
    except DataError:
        raise
    except (ValueError, UnicodeDecodeError, OSError, EOFError) as err:
        # OSError and EOFError: a .gz that is not gzip or is cut short, an unreadable parquet
        reason = " ".join(str(err).split()) or type(err).__name__
        raise DataError(
            f"{path}: cannot be read as the {name} frame ({reason}). "
            "Hint: export it as UTF-8 CSV with a header row, or as parquet."
        ) from err


def _column_spec(
    name: str,
    frame: Any,
    path: Path,
    mappings: Mapping[str | None, Mapping[str, str]],
    used: set[str],
) -> ColumnSpec:
    """
    Build the frame's column-spec record from the mappings.

    A ``FRAME.NAME=SOURCE`` mapping must name a column of the file; a ``NAME=SOURCE``
    mapping applies to each frame whose contract has NAME and whose file has SOURCE.
    """
    header = [str(c) for c in frame.columns]
    renames = {
        column: source
        for column, source in mappings.get(None, {}).items()
        if column in SCHEMA[name] and source in header
    }
    for column, source in mappings.get(name, {}).items():
        if source not in header:
            raise DataError(
                f"--col {name}.{column}={source}: {path.name} has no column {source!r}. "
                f"Hint: its columns are {header}."
            )
        renames[column] = source
    for column, source in renames.items():
        used.add(source)
        if column != source and column in header:
            raise DataError(
                f"--col {column}={source}: {path.name} has both {source!r} and {column!r}. "
                f"Hint: map only one of them, e.g. --col {name}.{column}={source}."
            )
    return FRAME_COLUMNS[name](**renames)


def _to_contract(
    frame: Any,
    columns: ColumnSpec,
    path: Path,
    tz: str | None,
) -> Any:
    """Give the contract's names to the columns the spec record points at, then their types."""
    try:
        return _coerce(columns.to_contract(frame), type(columns).kinds(), tz)
    except DataError as err:
        raise DataError(
            f"{path.name}: {err}", column=err.column, rows=err.rows, value=err.value
        ) from err


def _read_parquet(path: Path) -> Any:
    import importlib.util

    import pandas as pd

    if importlib.util.find_spec("pyarrow") is None:
        raise MissingDependencyError(
            package="pyarrow", extra="parquet", feature=f"reading {path.name}"
        )
    return pd.read_parquet(path)


def _coerce(
    frame: Any,
    kinds: Mapping[str, ColumnKind],
    tz: str | None,
) -> Any:
    """Give the contract's columns the types of their kinds: UTC times, numbers, booleans."""
    import pandas as pd

    from crmlifecycle._frames import as_utc

    result = frame.copy()
    for column, kind in kinds.items():
        if column not in result.columns:
            continue
        values = result[column]
        if kind == "time":
            result[column] = as_utc(_localize(values, column, tz), column, allow_missing=True)
        elif kind in {"int", "float"} and not pd.api.types.is_numeric_dtype(values.dtype):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = numbers.isna() & values.notna()
            if bool(bad.any()):
                raise DataError.malformed(
                    column,
                    "holds values that are not numbers",
                    rows=list(values.index[bad.to_numpy()][:20]),
                    value=values[bad].iloc[0],
                    hint="write plain numbers with a '.' decimal point and no currency sign.",
                )
            result[column] = numbers
        elif kind == "bool" and not pd.api.types.is_bool_dtype(values.dtype):
            flags = values.astype("str").str.strip().str.lower()
            known = flags.isin(["true", "false", "1", "0", "yes", "no"])
            if not bool(known.all()):
                raise DataError.malformed(
                    column,
                    "holds values that are not true/false",
                    rows=list(values.index[~known.to_numpy()][:20]),
                    value=values[~known].iloc[0],
                    hint="write true or false.",
                )
            result[column] = flags.isin(["true", "1", "yes"])
    return result


def _localize(values: Any, column: str, tz: str | None) -> Any:
    """With ``--tz``, read zone-less timestamps in that zone; otherwise leave the time rule."""
    import pandas as pd

    if tz is None or isinstance(values.dtype, pd.DatetimeTZDtype):
        return values
    try:
        stamps = pd.to_datetime(values, format="ISO8601")
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            return stamps
        return stamps.dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError, KeyError) as err:
        reason = " ".join(str(err).split())
        raise DataError.malformed(
            column,
            f"cannot be read as timestamps in time zone {tz!r} ({reason})",
            hint="use ISO 8601 text and an IANA zone name such as Europe/Berlin.",
        ) from err


def _format_value(value: object) -> str:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return "(table below)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "n/a (undefined)"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"  # noqa: PLR2004


def _skip_note(note: str) -> str:
    for option, flag in _OPTION_FLAGS.items():
        if note == f"needs option {option}=":
            return f"needs {flag}"
    if note.startswith("needs frame "):
        frame = note.removeprefix("needs frame ").strip("'")
        return f"{note} (add {frame}.csv to the folder or pass --{frame.replace('_', '-')} FILE)"
    return note


def _report_text(report: Any, frames: Mapping[str, Any], folder: str | None) -> str:
    import pandas as pd

    source = f" from {folder}" if folder else ""
    sizes = ", ".join(f"{name} {len(frame):,}" for name, frame in frames.items())
    lines = [
        f"KPI report on {len(frames)} frames{source}",
        textwrap.fill(f"rows: {sizes}", width=100, subsequent_indent="  "),
        "",
    ]
    kpis: Mapping[str, object] = report.values  # noqa: PD011 - KpiReport.values, not pandas
    width = max((len(n) for n in [*kpis, *report.skipped]), default=0)
    tables: list[str] = []
    for name, value in kpis.items():
        text = _format_value(value)
        lines.append(f"{name:<{width}}  {text:>16}  {report.descriptions.get(name, '')}")
        if isinstance(value, pd.DataFrame):
            body = value.to_string(index=False, float_format=lambda x: f"{x:,.2f}")
            tables.append(f"{name}:\n" + "\n".join(f"  {row}" for row in body.splitlines()))
    if tables:
        lines += ["", *tables]
    if report.skipped:
        lines += ["", "Skipped:"]
        lines += [f"  {n:<{width}}  {_skip_note(note)}" for n, note in report.skipped.items()]
    return "\n".join(lines)
