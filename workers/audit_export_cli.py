"""`kurator audit verify-export FILE`: check a JSON-lines audit export offline (the logic is
infra/audit/export_check.py). Exit 0 when every hash, link, case record and the manifest
hold; 1 when something does not; 2 when the file cannot be read."""

import json
from pathlib import Path

import typer

from infra.audit.export_check import check_export


def verify_export(path: Path) -> int:
    """Check the export at `path`, print what was found; the exit status."""
    try:
        with path.open(encoding="utf-8") as lines:
            check = check_export(lines)
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"cannot read {path}: {type(error).__name__}", err=True)
        return 2
    summary = {
        "verified": check.verified,
        "cases": check.cases,
        "social_contracts": check.social_contracts,
        "events": check.events,
        "problems": check.problem_count,
        "scope": None if check.manifest is None else check.manifest.get("scope"),
        "generated_at": None if check.manifest is None else check.manifest.get("generated_at"),
    }
    for problem in check.problems:
        typer.echo(problem, err=True)
    typer.echo(json.dumps(summary, ensure_ascii=False))
    return 0 if check.verified else 1
