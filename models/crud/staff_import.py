"""Importing a staff directory file in one transaction: all of it, or nothing.

Why nothing rather than the valid rows: a file is one list someone prepared (a centre's staff,
the ministry's export); writing part of it leaves a directory no file describes, and the
person fixing the refused rows would have to work out which of the others went in. The report
names every refused row and why; fix them and import the same file again. Rows already as the
directory holds them are no change, so a second import changes only what the first did not.

The rows listed are created or changed; members the file does not list are left alone (a
file is not a whole directory: deactivate leavers with `active` = no, or one by one).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.staff_changes import ChangedBy, apply_entry, entry_of, lock_directory
from models.crud.staff_directory import get_member
from models.payloads.actions import Actor
from models.payloads.staff import StaffEntry
from models.staff_csv import ParsedFile, Refusal
from models.staff_rules import management_refusal


@dataclass
class ImportOutcome:
    rows: int
    refused: list[Refusal]
    counts: dict[str, int] = field(default_factory=dict)  # by DirectoryAction, or "unchanged"
    written: bool = False


class _Refused(Exception):
    """Rolls the import's transaction back."""


async def import_file(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    by: ChangedBy,
    manager: Actor | None,
    check_only: bool = False,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportOutcome:
    """Apply every row of `parsed` in one transaction of `session` (which must not be in one
    yet), or none when any row is refused (or `check_only`). `manager`: the staff member whose
    rights bound each row (None: an operator at the console, who may change anyone)."""
    outcome = ImportOutcome(
        rows=len(parsed.rows) + len(parsed.refused), refused=list(parsed.refused)
    )
    try:
        async with session.begin():
            await lock_directory(session)  # the rights are checked on entries that hold
            for done, row in enumerate(parsed.rows, start=1):
                problem = await _refusal(session, manager, row.staff_id, row.entry)
                if problem is not None:
                    outcome.refused.append(Refusal(row.line, row.staff_id, problem))
                elif not outcome.refused:  # once a row is refused nothing will be written
                    action = await apply_entry(
                        session, staff_id=row.staff_id, entry=row.entry, by=by
                    )
                    key = "unchanged" if action is None else action.value
                    outcome.counts[key] = outcome.counts.get(key, 0) + 1
                progress(done)
            if outcome.refused or check_only:
                raise _Refused
        outcome.written = True
    except _Refused:
        pass
    outcome.refused.sort(key=lambda refusal: refusal.line)
    if outcome.refused:
        outcome.counts = {}  # counted before the refusal, and none of it was written
    return outcome


async def _refusal(
    session: AsyncSession, manager: Actor | None, staff_id: str, entry: StaffEntry
) -> str | None:
    if manager is None:
        return None
    member = await get_member(session, staff_id)
    before = None if member is None else entry_of(member)
    return management_refusal(
        manager,
        before=None if before is None else (before.role, before.municipalities),
        after=(entry.role, entry.municipalities),
    )
