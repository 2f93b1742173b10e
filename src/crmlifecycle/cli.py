"""
The ``crmlifecycle`` command line: ``demo`` (and, as they land, ``report`` and ``lint``).

Examples:
    >>> from crmlifecycle.cli import main
    >>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crmlifecycle.errors import CrmError

EXIT_OK = 0
EXIT_USER_ERROR = 2


def _build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(
        prog="crmlifecycle",
        description="Model the CRM lifecycle: lifecycles, rules, scoring and customer KPIs.",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        from crmlifecycle._demo import run_demo

        return run_demo(seed=args.seed, n_leads=args.leads, out=args.out)
    except CrmError as err:
        print(f"crmlifecycle: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
