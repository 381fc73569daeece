"""Reading the staff directory: one member by id, and the active members a role recipient names."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import array
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import StaffRole
from models.tables.staff_member import StaffMember


async def get_member(session: AsyncSession, staff_id: str) -> StaffMember | None:
    return await session.get(StaffMember, staff_id)


@dataclass(frozen=True, slots=True)
class Grants:
    """What the directory grants a member: all a request's sign-in reads of it."""

    staff_id: str
    role: str  # a StaffRole value
    municipalities: list[str]
    active: bool


_GRANTS = select(
    col(StaffMember.staff_id),
    col(StaffMember.role),
    col(StaffMember.municipalities),
    col(StaffMember.active),
).where(col(StaffMember.staff_id) == bindparam("staff_id"))


async def member_grants(session: AsyncSession, staff_id: str) -> Grants | None:
    """The member's grants, read on every request: a Core row, not an ORM object (the
    identity map's load was a tenth of a short read's CPU)."""
    connection = await session.connection()
    found = (await connection.execute(_GRANTS, {"staff_id": staff_id})).first()
    return None if found is None else Grants(*found)


async def active_members(
    session: AsyncSession, *, role: StaffRole, municipality: str
) -> Sequence[StaffMember]:
    """The active members holding `role` on `municipality`, by staff id. The ministry serves
    every territory, so its members are matched by role alone."""
    statement = select(StaffMember).where(
        col(StaffMember.active).is_(True), StaffMember.role == role.value
    )
    if role is not StaffRole.MINISTRY:
        statement = statement.where(col(StaffMember.municipalities).contains(array([municipality])))
    return (await session.exec(statement.order_by(col(StaffMember.staff_id)))).all()
