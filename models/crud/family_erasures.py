"""Recording family erasures and reading what an erasure must check. Never commits: the
caller erases in one transaction (the erasure row, its access-log row, the destroyed key)."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import StaffRole, Stage
from models.tables.case_projection import CaseProjection
from models.tables.family import Family
from models.tables.family_erasure import FamilyErasure, FamilyErasureBase


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
