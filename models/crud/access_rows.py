"""Rows of the family access log written by readers that do not go through a family record:
the codec server, which opens a family's sealed Temporal payloads (PRODUCT.md §5).

Like the other CRUD functions this never commits: the caller runs it inside `session.begin()`
and commits before it hands out what was read, so nothing is read without its row.
"""

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import table_of
from models.family_records import FamilyAccessAction
from models.payloads.vocabulary import StaffRole
from models.tables.family_access import FamilyAccess

_LOG = insert(table_of(FamilyAccess))


async def log_access(
    session: AsyncSession,
    *,
    family_id: UUID,
    staff_id: str,
    role: StaffRole,
    action: FamilyAccessAction,
    purpose: str,
) -> None:
    """One access-log row: who, in which role, did what to which family, and why."""
    if not staff_id.strip() or len(staff_id) > 64:
        raise ValueError("staff_id must be 1 to 64 characters")
    if not purpose.strip() or len(purpose) > 200:
        raise ValueError("purpose must be 1 to 200 characters, not blank")
    values: dict[str, Any] = {
        "id": uuid4(),
        "family_id": family_id,
        "staff_id": staff_id,
        "role": role.value,
        "action": action.value,
        "purpose": purpose,
    }
    await session.exec(_LOG, params=values)
