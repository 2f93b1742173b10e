"""Run the command line: ``python -m crmlifecycle.cli``."""

from __future__ import annotations

import sys

from crmlifecycle.cli._main import main

sys.exit(main())
