"""Recording family erasures and reading what an erasure must check. Never commits: the
caller erases in one transaction (the erasure row, its access-log row, the destroyed key)."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.family_data_keys import destroy_key, key_of_family
from models.crud.inserts import table_of
from models.payloads.vocabulary import StaffRole, Stage
from models.tables.case_projection import CaseProjection
from models.tables.family import Family
from models.tables.family_data_key import FamilyDataKey
from models.tables.family_erasure import FamilyErasure, FamilyErasureBase

_KEYS = table_of(FamilyDataKey)


class FamilyErasurePublic(FamilyErasureBase):
    id: UUID
    role: StaffRole
    erased_at: datetime


@dataclass(frozen=True)
class LockedFamily:
    id: UUID
    family_key: str
    municipality: str


async def lock_family(session: AsyncSession, *, family_id: UUID) -> LockedFamily | None:
    """The family's row, locked until the transaction ends (an intake of the same family
    waits for the erasure to commit, then sees it); None if there is no such family."""
    statement = (
        select(Family.id, Family.family_key, Family.municipality)
        .where(col(Family.id) == family_id)
        .with_for_update()
    )
    found = (await session.exec(statement)).first()
    return None if found is None else LockedFamily(*found)


async def erasure_of(session: AsyncSession, *, family_id: UUID) -> FamilyErasurePublic | None:
    statement = select(FamilyErasure).where(col(FamilyErasure.family_id) == family_id)
    found = (await session.exec(statement)).first()
    if found is None:
        return None
    return FamilyErasurePublic.model_validate(found, from_attributes=True)


async def cases_of_workflow(session: AsyncSession, *, workflow_id: str) -> list[tuple[UUID, Stage]]:
    """Every case (episode) of a family's case workflow, with its stage, oldest first."""
    statement = (
        select(CaseProjection.case_id, CaseProjection.stage)
        .where(col(CaseProjection.workflow_id) == workflow_id)
        .order_by(col(CaseProjection.opened_at))
    )
    return [(case_id, Stage(stage)) for case_id, stage in (await session.exec(statement)).all()]


async def destroy_family_key(
    session: AsyncSession, *, family_key: str, staff_id: str, role: StaffRole, reason: str
) -> UUID:
    """Destroy the family's data key and return its id. A family without a key gets a key row
    that is destroyed from the start, so no key can ever be created for it later
    (`FamilyKeyStore.for_owner` raises KeyDestroyed)."""
    stored = await key_of_family(session, family_key=family_key)
    if stored is not None:
        await destroy_key(
            session, family_key=family_key, staff_id=staff_id, role=role.value, reason=reason
        )
        return stored.key_id
    key_id = uuid4()
    tombstone = (
        insert(_KEYS)
        .values(
            key_id=key_id,
            family_key=family_key,
            wrapped=None,
            master_key_id=None,
            destroyed_at=func.now(),
            destroyed_by=staff_id,
            destroyed_role=role.value,
            destroy_reason=reason,
        )
        .on_conflict_do_nothing(constraint="uq_family_data_keys_family_key")
        .returning(_KEYS.c.key_id)
    )
    if (await session.exec(tombstone)).first() is None:
        # Created by a concurrent writer since: destroy that one.
        return await destroy_family_key(
            session, family_key=family_key, staff_id=staff_id, role=role, reason=reason
        )
    return key_id


async def record_erasure(
    session: AsyncSession,
    *,
    family_id: UUID,
    staff_id: str,
    role: StaffRole,
    reason: str,
    legal_basis: str | None,
    key_id: UUID,
) -> FamilyErasurePublic:
    row = FamilyErasure(
        family_id=family_id,
        staff_id=staff_id,
        role=role.value,
        reason=reason,
        legal_basis=legal_basis,
        key_id=key_id,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return FamilyErasurePublic.model_validate(row, from_attributes=True)


async def is_erased(session: AsyncSession, *, family_id: UUID) -> datetime | None:
    """When the family's data was erased, or None."""
    statement = select(FamilyErasure.erased_at).where(col(FamilyErasure.family_id) == family_id)
    return (await session.exec(statement)).first()


async def municipality_of(session: AsyncSession, *, family_id: UUID) -> str | None:
    """The family's municipality, without its record (so not a logged access); None if no
    such family exists."""
    statement = select(Family.municipality).where(col(Family.id) == family_id)
    return (await session.exec(statement)).first()
