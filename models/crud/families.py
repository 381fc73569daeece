"""Family records (the only personal data in Kurator) and their access log (PRODUCT.md §5).

Every function that reads or writes a record also inserts an access-log row (who, role,
action, purpose) with the same session, so the two commit or roll back together. Like the
other CRUD functions these never commit: the caller runs them inside `session.begin()`, and a
read whose transaction is not committed leaves no log row, so always commit after a read too.
Territory checks are the caller's: use `locate_family` first, which touches no personal data.

The record is stored sealed with the family's data key (`families.sealed_record`); these
functions seal and open it with the key store the caller passes.
"""

import json
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Boolean, bindparam, func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import KeyLookup, keys_for, open_bytes, seal_bytes
from models.crud.inserts import table_of
from models.family_records import (
    FamilyAccessAction,
    FamilyIn,
    FamilyRecordPublic,
    FamilyRef,
)
from models.payloads.vocabulary import StaffRole
from models.tables.family import Family
from models.tables.family_access import FamilyAccess, FamilyAccessPublic

# True in RETURNING when the upsert inserted the row: an updated row version carries the
# updating transaction's id in xmax, a freshly inserted one carries 0 (a PostgreSQL idiom).
_INSERTED = literal_column("(xmax = 0)", type_=Boolean)

_FAMILIES = table_of(Family)
_ACCESS_LOG = table_of(FamilyAccess)


def _save_statement() -> ReturningInsert[tuple[UUID, bool]]:
    statement = insert(_FAMILIES)
    return statement.on_conflict_do_update(
        constraint="uq_families_family_key",
        set_={
            "municipality": statement.excluded.municipality,
            "sealed_record": statement.excluded.sealed_record,
            "record_key_id": statement.excluded.record_key_id,
            "updated_at": func.now(),
        },
    ).returning(_FAMILIES.c.id, _INSERTED)


# Built once, the values passed at execution: SQLAlchemy compiles each once per process instead
# of building and cache-keying a statement value by value on every call.
_SAVE = _save_statement()
_LOG = insert(_ACCESS_LOG)
_LOCATE = select(Family.id, Family.municipality).where(
    col(Family.family_key) == bindparam("family_key")
)


class FamilyErased(Exception):
    """The family's record was erased: its data key was destroyed."""

    def __init__(self, family_id: UUID) -> None:
        super().__init__(f"the record of family {family_id} was erased")
        self.family_id = family_id


def record_field(family_key: str) -> str:
    """What a sealed record is bound to: another family's row cannot pass for this one's."""
    return f"families.record:{family_key}"


async def save_family(
    session: AsyncSession,
    *,
    keys: KeyLookup,
    family_key: str,
    municipality: str,
    family: FamilyIn,
    staff_id: str,
    role: StaffRole,
    purpose: str,
) -> tuple[UUID, bool]:
    """Insert the family's record, or replace it if `family_key` is known; log a "write".

    Returns the family id and True if the record is new. The municipality is replaced too (a
    family that moved is recorded where it lives now); the caller checks the staff member's
    territory against both the old one (`locate_family`) and the new one. An unknown
    municipality raises IntegrityError (the foreign key to `municipalities`); a family whose
    key was destroyed (erased) raises KeyDestroyed: nothing new is recorded for it.
    """
    _check_actor(staff_id=staff_id, purpose=purpose)
    key = await keys.for_owner(family_key)
    record = family.model_dump_json().encode()
    row = {
        "id": uuid4(),
        "family_key": family_key,
        "municipality": municipality,
        "sealed_record": seal_bytes(key, record, field=record_field(family_key)),
        "record_key_id": key.key_id,
    }
    saved = (await session.exec(_SAVE, params=row)).one()
    family_id: UUID = saved[0]
    inserted: bool = saved[1]
    await _log(
        session,
        family_id=family_id,
        staff_id=staff_id,
        role=role,
        action=FamilyAccessAction.WRITE,
        purpose=purpose,
    )
    return family_id, inserted


async def read_family(
    session: AsyncSession,
    *,
    keys: KeyLookup,
    family_key: str | None = None,
    family_id: UUID | None = None,
    staff_id: str,
    role: StaffRole,
    purpose: str,
    purpose_code: str | None = None,
) -> FamilyRecordPublic | None:
    """The family's record by `family_key` or by `family_id` (exactly one); logs a "read".

    None when no such family exists (nothing was read, so nothing is logged). Raises
    FamilyErased when its key was destroyed.
    """
    if (family_key is None) == (family_id is None):
        raise ValueError("pass exactly one of family_key and family_id")
    _check_actor(staff_id=staff_id, purpose=purpose)
    statement = select(Family).where(
        col(Family.family_key) == family_key if family_id is None else col(Family.id) == family_id
    )
    found = (await session.exec(statement)).first()
    if found is None:
        return None
    await _log(
        session,
        family_id=found.id,
        staff_id=staff_id,
        role=role,
        action=FamilyAccessAction.READ,
        purpose=purpose,
        purpose_code=purpose_code,
    )
    field = record_field(found.family_key)
    opened = open_bytes(
        found.record_key_id,
        found.sealed_record,
        await keys_for(keys, [found.record_key_id]),
        field=field,
    )
    if opened is None:
        raise FamilyErased(found.id)
    return FamilyRecordPublic.model_validate(
        {
            **json.loads(opened),
            "id": found.id,
            "family_key": found.family_key,
            "municipality": found.municipality,
            "created_at": found.created_at,
            "updated_at": found.updated_at,
        }
    )


async def locate_family(session: AsyncSession, *, family_key: str) -> FamilyRef | None:
    """The family's id and municipality, without its record (so not a logged access)."""
    found = (await session.exec(_LOCATE, params={"family_key": family_key})).first()
    return None if found is None else FamilyRef(id=found[0], municipality=found[1])


async def access_log(session: AsyncSession, *, family_id: UUID) -> list[FamilyAccessPublic]:
    """Every read and write of the family's record, oldest first.

    Rows of one transaction share its timestamp (`now()`), so their relative order is not
    meaningful.
    """
    statement = (
        select(FamilyAccess)
        .where(col(FamilyAccess.family_id) == family_id)
        .order_by(col(FamilyAccess.at), col(FamilyAccess.id))
    )
    rows = (await session.exec(statement)).all()
    return [FamilyAccessPublic.model_validate(row, from_attributes=True) for row in rows]


def _check_actor(*, staff_id: str, purpose: str) -> None:
    # Every access must say who and why (PRODUCT.md §5): a blank one would log nothing useful.
    if not staff_id.strip() or len(staff_id) > 64:
        raise ValueError("staff_id must be 1 to 64 characters")
    if not purpose.strip() or len(purpose) > 200:
        raise ValueError("purpose must be 1 to 200 characters, not blank")


async def _log(
    session: AsyncSession,
    *,
    family_id: UUID,
    staff_id: str,
    role: StaffRole,
    action: FamilyAccessAction,
    purpose: str,
    purpose_code: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "id": uuid4(),
        "family_id": family_id,
        "staff_id": staff_id,
        "role": role.value,
        "action": action.value,
        "purpose": purpose,
        "purpose_code": purpose_code,
    }
    await session.exec(_LOG, params=values)
