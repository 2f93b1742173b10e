"""
``crmlifecycle lint``: check lifecycle specs, rule sets and scorer configurations.

Each file is parsed as JSON or YAML by the library's bounded loader (never executed) and
checked by the loader of its kind.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, final

import attrs

from crmlifecycle.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    read_document,
    write_out,
)
from crmlifecycle.errors import CrmError, SpecError, ValidationError

__all__ = ["Problem", "check_spec", "detect_kind", "run_lint"]

#: The top-level key that tells each kind of spec apart.
_MARKERS: Final = {"states": "lifecycle", "rules": "rules", "scorer": "scorer"}


@final
@attrs.frozen(kw_only=True)
class Problem:
    """One problem in a spec: its severity, where it is, what is wrong, a stable code."""

    severity: str
    path: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        """The problem as JSON-ready data."""
        return attrs.asdict(self)


def detect_kind(document: object) -> str | None:
    """
    Tell a lifecycle spec (``states``), a rule set (``rules``) and a scorer config (``scorer``).

    Examples:
        >>> detect_kind({"scorer": "rfm"}), detect_kind({"rules": []}), detect_kind([1])
        ('scorer', 'rules', None)
    """
    if not isinstance(document, Mapping):
        return None
    kinds = {kind for key, kind in _MARKERS.items() if key in document}
    return kinds.pop() if len(kinds) == 1 else None


def _from_error(err: CrmError) -> Problem:
    if isinstance(err, SpecError):
        return Problem(severity="error", path=err.path, message=err.reason)
    return Problem(severity="error", path="", message=str(err))


def _entity_schemas() -> dict[str, object]:
    from crmlifecycle.entities import Case, Customer, Lead, Opportunity

    return {"lead": Lead, "opportunity": Opportunity, "customer": Customer, "case": Case}


def _rule_problems(document: Mapping[str, Any], schemas: object) -> list[Problem]:
    """Load each rule on its own, so one broken rule does not hide the problems of the others."""
    from crmlifecycle.rules import RuleSet

    top = {key: [] if key == "rules" else value for key, value in document.items()}
    try:  # the top level first: its keys, without the rules
        RuleSet.from_dict(top)
    except CrmError as err:
        return [_from_error(err)]
    entries = document["rules"]
    if not isinstance(entries, list):
        return [_from_error(SpecError("must be a list of rules.", path="rules"))]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            RuleSet.from_dict({"rules": [entry]}, schemas=schemas)  # type: ignore[arg-type]
        except SpecError as err:
            path = f"rules[{index}]" + err.path.removeprefix("rules[0]")
            problems.append(_from_error(SpecError(err.reason, path=path)))
        except CrmError as err:
            problems.append(_from_error(err))
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if isinstance(name, str) and name in seen:
            message = f"duplicate rule name {name!r}."
            problems.append(_from_error(SpecError(message, path=f"rules[{index}].name")))
        elif isinstance(name, str):
            seen.add(name)
    return problems


def check_spec(document: object, kind: str, *, entities: bool = False) -> list[Problem]:
    """
    Check one parsed spec of ``kind``; return its problems (empty when it is fine).

    Lifecycle specs go through the lifecycle linter (every finding, errors and
    warnings); a rule set is loaded rule by rule (the first problem of every
    rule); a scorer configuration is loaded, which stops at its first problem.

    Examples:
        >>> check_spec({"scorer": "rmf"}, "scorer")[0].message  # doctest: +ELLIPSIS
        "unknown scorer 'rmf' (did you mean 'rfm'?)..."
        >>> rules = {"rules": [{"name": "a", "then": "x"}, {"name": "b", "iff": "x > 1"}]}
        >>> [p.path for p in check_spec(rules, "rules")]
        ['rules[0].then', 'rules[1].iff']
    """
    if not isinstance(document, Mapping):
        return [Problem(severity="error", path="", message=_not_a_mapping(document))]
    if kind == "lifecycle":
        from crmlifecycle.stages import lint_spec

        return [
            Problem(severity=f.severity, path=f.path, message=f.message, code=f.code)
            for f in lint_spec(document)
        ]
    if kind == "rules":
        return _rule_problems(document, _entity_schemas() if entities else None)
    from crmlifecycle.scoring import build_scorer

    try:
        build_scorer(document)
    except CrmError as err:
        return [_from_error(err)]
    return []


def _not_a_mapping(document: object) -> str:
    return (
        f"the document is a {type(document).__name__}, not a mapping of keys. "
        "Hint: a spec starts with keys such as name:, states:, rules: or scorer:."
    )


def _lint_file(path: Path, kind: str | None, *, entities: bool) -> tuple[str, list[Problem]]:
    try:
        document = read_document(path)
    except SpecError as err:
        return kind or "spec", [_from_error(err)]
    found = kind or detect_kind(document)
    if found is None:
        return "spec", [
            Problem(
                severity="error",
                path="",
                message="cannot tell what kind of spec this is. Hint: a lifecycle spec has "
                "states:, a rule set rules:, a scorer configuration scorer:; or pass --kind.",
                code="unknown_kind",
            )
        ]
    return found, check_spec(document, found, entities=entities)


def _mermaid(path: Path) -> str:
    from crmlifecycle.stages import Lifecycle

    document: Any = read_document(path)
    return Lifecycle.from_dict(document).to_mermaid().rstrip()


def run_lint(args: argparse.Namespace) -> int:
    """Lint every SPEC file; print the problems; return 1 if any is an error."""
    if args.mermaid and args.kind not in {None, "lifecycle"}:
        raise ValidationError.for_field(
            "--mermaid", args.kind, "used with lifecycle specs", hint="drop --mermaid."
        )
    failed = False
    results: list[dict[str, object]] = []
    for name in args.specs:
        path = Path(name)
        kind, problems = _lint_file(path, args.kind, entities=args.entities)
        if args.mermaid and kind in {"rules", "scorer"}:
            problems.append(
                Problem(
                    severity="error",
                    path="",
                    message=f"--mermaid draws lifecycle specs only, this is a {kind} spec",
                    code="not_a_lifecycle",
                )
            )
        blocking = [p for p in problems if p.severity == "error" or args.strict]
        failed = failed or bool(blocking)
        diagram = None
        if (
            args.mermaid
            and kind == "lifecycle"
            and not any(p.severity == "error" for p in problems)
        ):
            diagram = _mermaid(path)
        results.append(
            {
                "file": name,
                "kind": kind,
                "ok": not blocking,
                "problems": [p.as_dict() for p in problems],
                "mermaid": diagram,
            }
        )
        if not args.json:
            _print_problems(name, kind, problems, diagram)
    if args.json:
        write_out(json.dumps(results, indent=2, ensure_ascii=False))
    return EXIT_PROBLEMS if failed else EXIT_OK


def _print_problems(name: str, kind: str, problems: list[Problem], diagram: str | None) -> None:
    for p in problems:
        where = f"{p.path}: " if p.path else ""
        first, *rest = p.message.splitlines() or [""]
        write_out(f"{name}: {p.severity}: {where}{first} [{p.code}]")
        for line in rest:  # e.g. a rule condition with a caret under the problem
            write_out(f"    {line}")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    status = "ok" if not problems else f"{errors} error(s), {warnings} warning(s)"
    write_out(f"{name}: {kind}: {status}")
    if diagram is not None:
        write_out(diagram)
