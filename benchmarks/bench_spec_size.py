"""
The cost of big lifecycle specs: build, lint and YAML read time against the number of states.

1. ``Lifecycle.from_dict`` and ``lint_spec`` on chains of 1,000 to 10,000 states (each
   state steps to the next, every state can be reset to the first and lost, and a
   lost deal reopens to its last open stage). Printed: the time per 1,000 states
   and its ratio to the smallest spec's; linear work keeps it flat (target: the
   ratio stays under 1.5 up to 10,000 states; a per-state scan of every trigger,
   the cost this replaced, makes it grow tenfold).
2. Reading a YAML spec near the 1,000,000-character document limit: ``load_yaml``
   (libyaml, PyYAML's C loader, behind the same alias, depth and number checks) vs
   the pure-Python loader, which gives the same value and the same refusals
   (target: at least 3x faster); then the build of that spec.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from _bench import median_seconds, report

from crmlifecycle import _yaml
from crmlifecycle.stages import Lifecycle, lint_spec

SIZES = (1_000, 2_000, 5_000, 10_000)


def chain(n: int) -> dict[str, Any]:
    states: list[Any] = [f"s{i}" for i in range(n)]
    states.append({"name": "lost", "type": "lost"})
    transitions: list[dict[str, Any]] = [
        {"trigger": f"t{i}", "source": f"s{i}", "dest": f"s{i + 1}"} for i in range(n - 1)
    ]
    transitions += [
        {"trigger": "reset", "source": "*", "dest": "s0"},
        {"trigger": "lose", "source": "*", "dest": "lost"},
        {"trigger": "reopen", "source": "lost", "to_last_open": True},
    ]
    return {"name": "big", "kind": "opportunity", "states": states, "transitions": transitions}


def yaml_spec(limit: int) -> str:
    """A chain spec in YAML, as many states as fit in ``limit`` characters."""
    head = "name: big\nkind: opportunity\nstates:\n"
    lines: list[str] = []
    size, i = len(head), 0
    while True:
        line = f"- s{i}\n"
        if size + len(line) > limit:
            break
        lines.append(line)
        size += len(line)
        i += 1
    return head + "".join(lines)


def main() -> None:
    works: tuple[tuple[str, Callable[[dict[str, Any]], object]], ...] = (
        ("build", Lifecycle.from_dict),
        ("lint", lint_spec),
    )
    for name, work in works:
        first: float | None = None
        for n in SIZES:
            spec = chain(n)
            seconds = median_seconds(functools.partial(work, spec), repeat=3)
            per_thousand = seconds / n * 1_000
            first = per_thousand if first is None else first
            print(
                f"{name} {n:>6,} states: {seconds * 1e3:8.1f} ms, "
                f"{per_thousand * 1e3:6.1f} ms per 1,000 states "
                f"({per_thousand / first:.2f}x the smallest's; target < 1.5x)",
                flush=True,
            )
    text = yaml_spec(_yaml.MAX_YAML_CHARS)
    states = text.count("\n- ")
    fast = median_seconds(lambda: _yaml.load_yaml(text), repeat=3)
    python = median_seconds(lambda: _yaml._load_python(text), repeat=1, warmup=0)  # noqa: SLF001
    report(
        f"reading a YAML spec of {len(text):,} characters ({states:,} states)",
        fast,
        python,
        baseline_name="pure-Python YAML",
        target="<= 0.33x",
    )
    build = median_seconds(lambda: Lifecycle.from_text(text), repeat=1)
    print(f"Lifecycle.from_text of that spec (read and build): {build * 1e3:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
