"""`kurator resources`: the resource map from the command line (import, list, review flags)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.logs import get_logger
from models.payloads.vocabulary import StaffRole
from models.settings import SettingsError
from models.territory import MUNICIPALITY_CODES
from workers.process_settings import process_settings

log = get_logger(__name__)

resources_app = typer.Typer(
    help="The resource map (карта ресурсов территории): import, list, review flags.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

_Municipalities = Annotated[
    list[str] | None,
    typer.Option(
        "--municipality", help="A municipality of the head's territory (repeat for several)."
    ),
]


def _territory(role: StaffRole, municipalities: list[str] | None) -> tuple[str, ...]:
    codes = tuple(municipalities or ())
    unknown = sorted(set(codes) - MUNICIPALITY_CODES)
    if unknown:
        raise typer.BadParameter(f"unknown municipality {', '.join(unknown)}")
    if role is StaffRole.HEAD and not codes:
        raise typer.BadParameter("a head imports for their territory: give --municipality")
    return codes


@resources_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV file (UTF-8, a header row).")],
    staff_id: Annotated[str, typer.Option(help="Who imports, e.g. staff-701.")],
    role: Annotated[StaffRole, typer.Option(help="head or ministry.")] = StaffRole.MINISTRY,
    municipalities: _Municipalities = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the history.")] = None,
) -> None:
    """Import entries from FILE.csv, all or nothing. Every row is checked first; a refused row
    is reported with its line and why, and then nothing is written (exit 1). A row matching an
    entry by municipality and name changes and confirms it; others create entries.

    Columns: name, kind, municipality, served_municipalities, capacity, and optionally
    services, channels, capacity_unit, contact_phone, contact_email, contact_address; lists
    separated by ";". Needs KURATOR_DATABASE_URL.
    """
    from models.crud.resource_map import Editor
    from models.resource_map.access import role_refusal
    from models.resource_map.csv_rows import CsvFileError
    from workers.resources_import import import_csv, print_report

    settings = process_settings()
    refusal = role_refusal(role)
    if refusal is not None:
        raise typer.BadParameter(refusal, param_hint="--role")
    territory = _territory(role, municipalities)
    editor = Editor(staff_id=staff_id, role=role, reason=reason or f"import of {file.name}")
    console = Console(soft_wrap=True)  # a report line stays one line, for grep and logs
    try:
        report = asyncio.run(
            import_csv(settings, file, editor=editor, municipalities=territory, console=console)
        )
    except SettingsError as error:
        log.error(str(error))
        raise typer.Exit(2) from None
    except CsvFileError as error:
        console.print(f"{file}: {error}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    print_report(report, console)
    raise typer.Exit(1 if report.refused or not report.accepted else 0)


@resources_app.command("list")
def list_entries(
    municipality: Annotated[
        str | None, typer.Option(help="Only entries serving this municipality.")
    ] = None,
    review_overdue: Annotated[
        bool, typer.Option(help="Only entries not confirmed within the review period.")
    ] = False,
) -> None:
    """List the map's active entries. Needs KURATOR_DATABASE_URL."""
    from workers.resources_listing import listed_entries

    settings = process_settings()
    if municipality is not None:
        _territory(StaffRole.MINISTRY, [municipality])
    try:
        entries = asyncio.run(
            listed_entries(settings, serving=municipality, review_overdue=review_overdue)
        )
    except SettingsError as error:
        log.error(str(error))
        raise typer.Exit(2) from None
    table = Table(
        "id", "name", "kind", "municipality", "services", "channels", "capacity", "confirm by"
    )
    for entry in entries:
        flag = " (overdue)" if entry.review_overdue else ""
        table.add_row(
            str(entry.id),
            entry.name,
            entry.kind,
            entry.municipality,
            ", ".join(entry.services),
            ", ".join(entry.channels),
            f"{entry.capacity} {entry.capacity_unit}",
            f"{entry.review_due_at.date().isoformat()}{flag}",
        )
    Console(width=200).print(table)


@resources_app.command("flag-reviews")
def flag_reviews() -> None:
    """Flag every entry not confirmed within the review period to its head (the outbox),
    once per entry version; the worker's schedule does this daily. Needs KURATOR_DATABASE_URL."""
    from workers.resources_listing import flag_now

    settings = process_settings()
    try:
        count = asyncio.run(flag_now(settings, datetime.now(UTC)))
    except SettingsError as error:
        log.error(str(error))
        raise typer.Exit(2) from None
    typer.echo(f"{count} entries newly flagged for review")
