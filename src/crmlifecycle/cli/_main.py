"""
The argument parser and :func:`main`.

``main`` dispatches to the commands and turns every user error into one line and exit 2.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from crmlifecycle.cli._common import (
    EXIT_USER_ERROR,
    SPEC_KINDS,
    write_err,
)
from crmlifecycle.errors import CrmError
from crmlifecycle.schema import FRAME_NAMES

__all__ = ["main"]


#: An offending value longer than this is shortened in the error line.
_LONGEST_SHOWN: Final = 80
_LONG_RUN: Final = re.compile(rf"\S{{{_LONGEST_SHOWN + 1},}}")


def one_line(message: str) -> str:
    r"""
    The error line: one line, every run of more than 80 characters without a blank shortened.

    Examples:
        >>> line = one_line("start='" + "x" * 500 + "' is not a date.\nHint: ...")
        >>> line[-45:]
        '... (508 characters) is not a date. Hint: ...'
    """

    def shorten(match: re.Match[str]) -> str:
        run = match.group()
        return f"{run[: _LONGEST_SHOWN - 16]}... ({len(run)} characters)"

    return _LONG_RUN.sub(shorten, " ".join(message.split()))


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's promise: a usage error is one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        write_err(one_line(f"{self.prog}: error: {message}. Hint: run '{self.prog} --help'."))
        raise SystemExit(EXIT_USER_ERROR)


def _number(text: str) -> float:
    """A number option: the library's numeric text (ASCII digits, finite), not ``float()``'s."""
    from crmlifecycle.values import to_decimal

    message = f"{text!r} is not a finite number written with ASCII digits"
    try:
        value = float(to_decimal(text, field="value"))
    except CrmError as err:
        raise argparse.ArgumentTypeError(message) from err
    if not math.isfinite(value):  # '1e999' is finite text but no float
        raise argparse.ArgumentTypeError(message)
    return value


def _build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = _Parser(
        prog="crmlifecycle",
        description="Model the CRM lifecycle: lifecycles, rules, scoring and customer KPIs.",
        epilog="Exit status: 0 ok, 1 lint found errors, 2 user error. "
        "Run 'crmlifecycle COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=version("crmlifecycle"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="generate a synthetic CRM world and run every capability on it"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--leads", type=int, default=5_000, help="number of leads (default 5000)")
    demo.add_argument(
        "--out", default="demo-output", help="folder for the data and plots (default demo-output)"
    )
    _add_report(commands)
    _add_lint(commands)
    return parser


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="compute the KPI report on your own CSV/parquet files",
        description="Compute the KPI report on CSV/parquet exports. Frames are found in FOLDER "
        "as <frame>.csv, <frame>.csv.gz or <frame>.parquet, or given one by one; KPIs whose "
        "frames are absent are skipped with a note. Timestamps need a zone (e.g. 2026-03-01T"
        "09:30:00Z) or are dates; --tz reads zone-less timestamps in a time zone.",
    )
    report.add_argument("folder", nargs="?", help="a folder of <frame>.csv / .parquet files")
    for name in FRAME_NAMES:
        report.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"frame_{name}",
            metavar="FILE",
            help=f"the {name} frame (CSV or parquet)",
        )
    report.add_argument(
        "--col",
        action="append",
        default=[],
        metavar="[FRAME.]NAME=SOURCE",
        help="read column NAME from your column SOURCE, in every frame or in FRAME only "
        "(e.g. --col customer_id=cust --col orders.at=order_date); repeatable",
    )
    report.add_argument(
        "--kpi", action="append", metavar="NAME", help="compute only these KPIs (repeatable)"
    )
    report.add_argument("--list-kpis", action="store_true", help="list the KPIs and exit")
    report.add_argument("--as-of", metavar="DATE", help="compute pipeline and service KPIs as of")
    report.add_argument("--start", metavar="DATE", help="first day counted by CAC/new customers")
    report.add_argument("--end", metavar="DATE", help="day after the last counted by CAC")
    report.add_argument(
        "--gross-margin", type=_number, metavar="FRACTION", help="gross margin for CLV, e.g. 0.7"
    )
    report.add_argument("--sla-policy", metavar="FILE", help="SLA policy (JSON/YAML) for breaches")
    report.add_argument("--tz", metavar="ZONE", help="time zone of zone-less timestamps")
    report.add_argument("--json", action="store_true", help="print the report as JSON")


def _add_lint(commands: Any) -> None:
    lint = commands.add_parser(
        "lint",
        help="check lifecycle specs, rule sets and scorer configs (JSON or YAML)",
        description="Check specs and print each problem with its path in the document. "
        "The kind is detected from the content (states: a lifecycle; rules: a rule set; "
        "scorer: a scorer configuration) unless --kind is given. Exit status 1 on errors.",
    )
    lint.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.json, .yaml, .yml)")
    lint.add_argument("--kind", choices=SPEC_KINDS, help="the kind of spec (default: detect)")
    lint.add_argument("--mermaid", action="store_true", help="print a lifecycle's Mermaid diagram")
    lint.add_argument("--strict", action="store_true", help="treat warnings as errors")
    lint.add_argument(
        "--entities",
        action="store_true",
        help="check rule conditions against the fields of the standard entities (lead, ...)",
    )
    lint.add_argument("--json", action="store_true", help="print the findings as JSON")


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line; return the process exit status.

    Examples:
        >>> main(["lint", "--help"])  # doctest: +ELLIPSIS
        usage: crmlifecycle lint ...
        0
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else EXIT_USER_ERROR
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    try:
        if args.command == "report":
            from crmlifecycle.cli._report import run_report

            return run_report(args)
        if args.command == "lint":
            from crmlifecycle.cli._lint import run_lint

            return run_lint(args)
        from crmlifecycle.cli.demo import run_demo

        return run_demo(seed=args.seed, n_leads=args.leads, out=args.out)
    except CrmError as err:
        write_err(one_line(f"crmlifecycle: error: {err}"))  # one line, always
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        write_err(one_line(f"crmlifecycle: error: cannot read{where}: {err.strerror or err}"))
    return EXIT_USER_ERROR
