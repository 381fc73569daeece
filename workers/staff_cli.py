"""`kurator staff`: list, add, deactivate and import the staff directory from the console.
Thin: the work is workers/staff_directory.py's; this module reads options and prints."""

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from infra.logs import get_logger
from models.payloads.staff import StaffEntry
from models.payloads.vocabulary import StaffRole
from models.settings import SettingsError
from models.staff_csv import CsvFileError, describe_entry_error
from workers.process_settings import process_settings
from workers.staff_directory import (
    Console,
    MemberMissing,
    deactivate,
    import_csv,
    members,
    put_member,
)

log = get_logger(__name__)

staff_app = typer.Typer(
    help="The staff directory: who may act, in which role and territory (KURATOR_DATABASE_URL).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

By = Annotated[
    str | None,
    typer.Option(help="Who makes the change, for the directory's history (default: your login)."),
]
Reason = Annotated[str | None, typer.Option(help="Why, for the directory's history.")]


def _console(by: str | None) -> Console:
    settings = process_settings()
    try:
        url = settings.require_database_url()
    except SettingsError as error:
        log.error(str(error))
        raise typer.Exit(2) from None
    who = (by or f"console:{getpass.getuser()}")[:64]
    return Console(url, who)


@staff_app.command("list")
def list_staff(
    role: Annotated[StaffRole | None, typer.Option(help="Only this role.")] = None,
    municipality: Annotated[str | None, typer.Option(help="Only members serving it.")] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Deactivated members too (default: active only).")
    ] = False,
) -> None:
    """Print the directory's members, by staff id."""
    console = _console(None)
    found = asyncio.run(
        members(console, role=role, municipality=municipality, active=None if everyone else True)
    )
    table = Table("staff id", "name", "role", "municipalities", "e-mail", "active")
    for member in found:
        table.add_row(
            member.staff_id,
            member.full_name,
            member.role,
            " ".join(member.municipalities) or "(all)",
            member.email or "",
            "yes" if member.active else "no",
        )
    RichConsole(width=max(RichConsole().width, 120)).print(table)


@staff_app.command("add")
def add(
    staff: Annotated[str, typer.Option(help="Staff id: 1-64 of A-Z a-z 0-9 . _ -")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[StaffRole, typer.Option(help="specialist, supervisor, head or ministry.")],
    municipality: Annotated[
        list[str] | None,
        typer.Option(help="A municipality code served; repeat for several (none: ministry)."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Work e-mail for notifications.")] = None,
    reason: Reason = None,
    by: By = None,
) -> None:
    """Add a member, or replace the entry of an existing one (it becomes active)."""
    from models.payloads.fields import STAFF_ID_PATTERN

    if not STAFF_ID_PATTERN.fullmatch(staff):
        log.error("invalid staff id: 1-64 of A-Z a-z 0-9 . _ -")
        raise typer.Exit(2)
    try:
        entry = StaffEntry(
            full_name=name, role=role, municipalities=municipality or [], email=email
        )
    except ValidationError as error:
        log.error(f"invalid member: {describe_entry_error(error)}")
        raise typer.Exit(2) from None
    problem = entry.problem()
    if problem is not None:
        log.error(f"invalid member: {problem}")
        raise typer.Exit(2)
    action = asyncio.run(put_member(_console(by), staff, entry, reason))
    typer.echo(f"{staff}: {action.value if action else 'unchanged'}")


@staff_app.command("deactivate")
def deactivate_member(
    staff_id: Annotated[str, typer.Argument(help="The member's staff id.")],
    reason: Annotated[str, typer.Option(help="Why, for the directory's history.")],
    by: By = None,
) -> None:
    """Deactivate a member: their next request is refused (401), whatever their token."""
    try:
        action = asyncio.run(deactivate(_console(by), staff_id, reason))
    except MemberMissing:
        log.error("no member has that staff id")
        raise typer.Exit(1) from None
    typer.echo(f"{staff_id}: {action.value if action else 'already deactivated'}")


@staff_app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="CSV: staff_id,full_name,role,municipalities,email,active")
    ],
    check: Annotated[bool, typer.Option(help="Only check the file; write nothing.")] = False,
    reason: Reason = None,
    by: By = None,
) -> None:
    """Import members from a CSV file: every row, or none when any row is refused (the report
    names each refused row and why; fix them and import the same file again). Rows already
    as the directory holds them change nothing; members the file does not list are left
    alone. Exit 0 imported (or checked), 1 rows refused, 2 the file cannot be read."""
    console = _console(by)
    printer = RichConsole(stderr=True)
    with Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=printer
    ) as bar:
        task = bar.add_task("rows", total=None)
        try:
            outcome = asyncio.run(
                import_csv(
                    console,
                    file.read_bytes(),
                    check_only=check,
                    reason=reason,
                    started=lambda total: bar.update(task, total=total),
                    progress=lambda done: bar.update(task, completed=done),
                )
            )
        except (CsvFileError, OSError) as error:
            bar.stop()
            log.error(f"cannot import {file.name}: {error}")
            raise typer.Exit(2) from None
    if outcome.refused:
        table = Table(
            "line", "staff id", "why refused", title=f"{len(outcome.refused)} rows refused"
        )
        for refusal in outcome.refused:
            table.add_row(str(refusal.line), refusal.staff_id or "", refusal.problem)
        RichConsole(width=max(RichConsole().width, 120)).print(table)
        typer.echo(f"nothing imported: {len(outcome.refused)} of {outcome.rows} rows refused")
        raise typer.Exit(1)
    counts = ", ".join(f"{count} {what}" for what, count in sorted(outcome.counts.items()))
    verb = "checked, would import" if check else "imported"
    typer.echo(f"{verb} {outcome.rows} rows: {counts or 'nothing'}")
