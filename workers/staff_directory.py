"""The staff directory from the console (`kurator staff ...`) and for `kurator dev`: the same
checks and the same chained history as the API's routes (models/crud/staff_changes.py), over
KURATOR_DATABASE_URL. Whoever holds that URL may change any member: the history records them
as role `operator`, under the name `--by` gives."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.crud.staff_changes import (
    ChangedBy,
    DirectoryAction,
    apply_entry,
    entry_of,
    list_members,
)
from models.crud.staff_directory import get_member
from models.crud.staff_import import ImportOutcome, import_file
from models.db import make_async_engine, make_session_factory
from models.payloads.staff import StaffEntry
from models.payloads.vocabulary import StaffRole
from models.staff_csv import parse_staff_csv
from models.tables.staff_member import StaffMember

OPERATOR_ROLE = "operator"


@dataclass(frozen=True)
class Console:
    database_url: str
    by: str  # who, for the history

    def changed_by(self, reason: str | None, source: str = "cli") -> ChangedBy:
        return ChangedBy(self.by, OPERATOR_ROLE, source, reason)


class MemberMissing(Exception):
    """No member has that staff id."""


async def members(
    console: Console, *, role: StaffRole | None, municipality: str | None, active: bool | None
) -> Sequence[StaffMember]:
    engine = make_async_engine(console.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await list_members(
                session,
                territory=None if municipality is None else [municipality],
                role=role,
                active=active,
            )
    finally:
        await engine.dispose()


async def put_member(
    console: Console, staff_id: str, entry: StaffEntry, reason: str | None
) -> DirectoryAction | None:
    engine = make_async_engine(console.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return await apply_entry(
                session, staff_id=staff_id, entry=entry, by=console.changed_by(reason)
            )
    finally:
        await engine.dispose()


async def deactivate(console: Console, staff_id: str, reason: str) -> DirectoryAction | None:
    engine = make_async_engine(console.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            member = await get_member(session, staff_id)
            if member is None:
                raise MemberMissing(staff_id)
            entry = entry_of(member).model_copy(update={"active": False})
            return await apply_entry(
                session, staff_id=staff_id, entry=entry, by=console.changed_by(reason)
            )
    finally:
        await engine.dispose()


async def import_csv(
    console: Console,
    data: bytes,
    *,
    check_only: bool,
    reason: str | None,
    started: Callable[[int], None] = lambda _: None,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportOutcome:
    """CsvFileError (before anything is written) when the file cannot be read as a whole."""
    parsed = parse_staff_csv(data)
    started(len(parsed.rows))
    engine = make_async_engine(console.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await import_file(
                session,
                parsed,
                by=console.changed_by(reason, source="import"),
                manager=None,
                check_only=check_only,
                progress=progress,
            )
    finally:
        await engine.dispose()


async def ensure_synthetic_members(
    database_url: str, members: Sequence[tuple[str, StaffRole, list[str]]], *, by: str
) -> None:
    """Put invented members (staff id, role, municipalities) into the directory: for the
    benchmarks, whose requests are checked against it like any other."""
    console = Console(database_url, by)
    for staff_id, role, municipalities in members:
        entry = StaffEntry(
            full_name=f"Синтетический Сотрудник {staff_id}",
            role=role,
            municipalities=municipalities,
        )
        await put_member(console, staff_id, entry, reason=f"{by}: synthetic staff")
