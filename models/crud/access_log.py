"""Writing and listing the family access log (models.tables.family_access) beyond the family
record's own reads and writes, which `models.crud.families` logs.

Never commits: the caller runs these inside the transaction of the access they record, so the
access and its row commit or roll back together.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from sqlalchemy import ARRAY, ColumnElement, Uuid, bindparam, column, func, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.access import AccessedData, Purpose
from models.crud.cursors import CursorError, cursor_parts, encode_cursor
from models.crud.inserts import table_of
from models.family_records import FamilyAccessAction
from models.payloads.vocabulary import StaffRole
from models.tables.family import Family
from models.tables.family_access import FamilyAccess, FamilyAccessPublic

_ACCESS_LOG = table_of(FamilyAccess)
_LOG = insert(_ACCESS_LOG)  # built once, the rows passed at execution (models/crud/inserts.py)


@dataclass(frozen=True)
class Access:
    """One access to record: who, in which role, did what to which data, and why."""

    staff_id: str
    role: StaffRole
    action: FamilyAccessAction
    what: AccessedData
    purpose: Purpose

    @classmethod
    def by(
        cls,
        who: "_Staff",
        what: AccessedData,
        purpose: Purpose,
        action: FamilyAccessAction = FamilyAccessAction.READ,
    ) -> "Access":
        """`who`'s access (a reader's, by default) to `what`, for `purpose`."""
        return cls(who.staff_id, who.role, action, what, purpose)


class _Staff(Protocol):
    @property
    def staff_id(self) -> str: ...

    @property
    def role(self) -> StaffRole: ...


async def log_access(
    session: AsyncSession,
    access: Access,
    *,
    family_ids: Collection[UUID | None],
    case_id: UUID | None = None,
) -> None:
    """One row per family in `family_ids` (a None: a case whose family has no record, then
    `case_id` must name the case). Nothing for an empty collection."""
    rows: list[dict[str, Any]] = []
    for family_id in family_ids:
        if family_id is None and case_id is None:
            raise ValueError("an access needs a family or a case")
        rows.append(access_row(access, family_id, case_id))
    if rows:
        await session.exec(_LOG, params=rows)


async def log_case_accesses(
    session: AsyncSession, access: Access, families: Mapping[UUID, UUID | None]
) -> None:
    """One row per case in `families` (case id → its family, None: a case whose family has
    no record), in one statement: an export logs a batch of cases at once."""
    if not families:
        return
    row = access_row(access, None, None)
    parameters = {name: row[name] for name in _ACCESS_COLUMNS}
    parameters |= {"case_ids": list(families), "family_ids": list(families.values())}
    await session.exec(_LOG_CASES, params=parameters)


# The access columns of a row besides its ids, the same for every case of one access.
_ACCESS_COLUMNS = ("staff_id", "role", "action", "what", "purpose_code", "purpose")
# A batch of cases' rows from two arrays (case ids, their families'), the row ids made by
# PostgreSQL: an executemany built and sent a parameter set a row, a twentieth of an export's
# API time.
_CASES = (
    func.unnest(
        bindparam("case_ids", type_=ARRAY(Uuid())), bindparam("family_ids", type_=ARRAY(Uuid()))
    )
    .table_valued(column("case_id", Uuid()), column("family_id", Uuid()))
    .render_derived("cases")
)
_LOG_CASES = insert(_ACCESS_LOG).from_select(
    ["id", "case_id", "family_id", *_ACCESS_COLUMNS],
    select(
        func.gen_random_uuid(),
        _CASES.c.case_id,
        _CASES.c.family_id,
        *(bindparam(name, type_=_ACCESS_LOG.c[name].type) for name in _ACCESS_COLUMNS),
    ).select_from(_CASES),
)


def access_row(access: Access, family_id: UUID | None, case_id: UUID | None) -> dict[str, Any]:
    """The log's row of `access` to a family's data (or a case's, when `family_id` is None)."""
    return {
        "id": uuid4(),
        "family_id": family_id,
        "case_id": case_id,
        "staff_id": access.staff_id,
        "role": access.role.value,
        "action": access.action.value,
        "what": access.what.value,
        "purpose_code": access.purpose.code.value,
        "purpose": str(access.purpose),
    }


@dataclass(frozen=True)
class AccessPage:
    items: list[FamilyAccessPublic]
    next_cursor: str | None  # None: this was the last page


def _cursor(at: datetime, row_id: UUID) -> str:
    return encode_cursor(at.isoformat(), str(row_id))


def _position(cursor: str) -> tuple[datetime, UUID]:
    at, row_id = cursor_parts(cursor, 2)
    try:
        return datetime.fromisoformat(at), UUID(row_id)
    except ValueError:
        raise CursorError("not a cursor of this listing") from None


async def list_accesses(
    session: AsyncSession,
    *,
    family_id: UUID | None = None,
    staff_id: str | None = None,
    municipalities: Collection[str] | None = None,
    after: str | None = None,
    limit: int,
) -> AccessPage:
    """A page of the log, oldest first, for one family or one staff member (or both).

    `municipalities`: the reader's territory, None for all (the ministry). A row counts as in
    the territory when its family is registered there; rows of a case without a family record
    are then left out. `after` is the `next_cursor` of the previous page. Rows of one
    transaction share its timestamp; the id orders them, so pages never overlap or skip.
    """
    conditions: list[ColumnElement[bool]] = []
    if family_id is not None:
        conditions.append(col(FamilyAccess.family_id) == family_id)
    if staff_id is not None:
        conditions.append(col(FamilyAccess.staff_id) == staff_id)
    if municipalities is not None:
        in_territory = select(Family.id).where(col(Family.municipality).in_(list(municipalities)))
        conditions.append(col(FamilyAccess.family_id).in_(in_territory))
    if after is not None:
        at, row_id = _position(after)
        conditions.append(tuple_(col(FamilyAccess.at), col(FamilyAccess.id)) > tuple_(at, row_id))
    statement = (
        select(FamilyAccess)
        .where(*conditions)
        .order_by(col(FamilyAccess.at), col(FamilyAccess.id))
        .limit(limit + 1)
    )
    rows = list((await session.exec(statement)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [FamilyAccessPublic.model_validate(row, from_attributes=True) for row in rows]
    last = items[-1] if more and items else None
    return AccessPage(items=items, next_cursor=None if last is None else _cursor(last.at, last.id))


def families_of(items: Sequence[FamilyAccessPublic]) -> list[UUID]:
    """The distinct families a page of the log is about, in the order they first appear."""
    return list(dict.fromkeys(item.family_id for item in items if item.family_id is not None))
