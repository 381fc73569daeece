"""`kurator resources import FILE.csv`: the resource map from a CSV file, all or nothing.

Every row is checked first (models/resource_map/csv_rows.py); if any is refused, the report
names each refused row and why, and nothing is written. Otherwise every row is written in one
transaction: a row matching an entry by territory and name changes (and confirms) it, any
other row creates one, and each change enters the entry's history with who imported it.
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from models.crud import resource_map as crud
from models.db import make_async_engine, make_session_factory
from models.resource_map.csv_rows import AcceptedRow, CsvFileError, RefusedRow, read_rows
from models.resource_map.history_chain import ResourceAction
from models.settings import Settings


@dataclass
class ImportReport:
    accepted: list[AcceptedRow] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    written: Counter[str] = field(default_factory=Counter)


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise CsvFileError(f"{path}: cannot read: {error.strerror}") from None


def check_file(
    text: str, editor: crud.Editor, municipalities: Collection[str], progress: Progress
) -> ImportReport:
    report = ImportReport()
    task = progress.add_task("checking rows", total=max(text.count("\n"), 1))
    for row in read_rows(text, role=editor.role, municipalities=municipalities):
        if isinstance(row, AcceptedRow):
            report.accepted.append(row)
        else:
            report.refused.append(row)
        progress.update(task, completed=row.line)
    progress.update(task, completed=progress.tasks[task].total)
    return report


async def write_rows(
    settings: Settings, report: ImportReport, editor: crud.Editor, progress: Progress
) -> None:
    engine = make_async_engine(settings.require_database_url())
    try:
        sessions = make_session_factory(engine)
        now = datetime.now(UTC)
        task = progress.add_task("writing entries", total=len(report.accepted))
        async with sessions() as session, session.begin():
            for row in report.accepted:
                fields = row.fields
                found = await crud.locked_by_name(
                    session, municipality=fields.municipality, name=fields.name
                )
                if found is None:
                    await crud.create_provider(session, fields=fields, editor=editor, now=now)
                    report.written[ResourceAction.CREATED] += 1
                else:
                    change = await crud.change_provider(
                        session, found, fields=fields, editor=editor, now=now
                    )
                    report.written[change.action] += 1
                progress.advance(task)
    finally:
        await engine.dispose()


async def import_csv(
    settings: Settings,
    path: Path,
    *,
    editor: crud.Editor,
    municipalities: Collection[str],
    console: Console,
) -> ImportReport:
    """Check, then write only if every row passed. Raises CsvFileError for an unreadable file."""
    text = read_file(path)
    with Progress(console=console, transient=True) as progress:
        report = check_file(text, editor, municipalities, progress)
        if report.accepted and not report.refused:
            await write_rows(settings, report, editor, progress)
    return report


def print_report(report: ImportReport, console: Console) -> None:
    for row in report.refused:
        console.print(f"line {row.line}: refused")
        for problem in row.problems:
            console.print(f"  - {problem}", markup=False, highlight=False)
    if report.refused:
        console.print(
            f"{len(report.refused)} of {len(report.refused) + len(report.accepted)} rows "
            "refused: nothing was imported. Correct them and import the file again."
        )
    elif not report.accepted:
        console.print("no rows: nothing was imported")
    else:
        counts = ", ".join(f"{report.written[a]} {a}" for a in ResourceAction if report.written[a])
        console.print(f"{len(report.accepted)} rows imported: {counts}")
