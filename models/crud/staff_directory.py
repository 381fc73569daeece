"""Reading the staff directory: one member by id, and the active members a role recipient names."""

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import array
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import StaffRole
from models.tables.staff_member import StaffMember


async def get_member(session: AsyncSession, staff_id: str) -> StaffMember | None:
    return await session.get(StaffMember, staff_id)


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
