"""Reading and writing wrapped family data keys. Never commits: callers own the transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import table_of
from models.tables.family_data_key import FamilyDataKey

_KEYS = table_of(FamilyDataKey)


@dataclass(frozen=True)
class StoredKey:
    key_id: UUID
    family_key: str
    wrapped: bytes | None  # None: destroyed
    master_key_id: str | None
    destroyed_at: datetime | None


def _stored(row: FamilyDataKey) -> StoredKey:
    return StoredKey(row.key_id, row.family_key, row.wrapped, row.master_key_id, row.destroyed_at)


async def insert_key(
    session: AsyncSession, *, key_id: UUID, family_key: str, wrapped: bytes, master_key_id: str
) -> bool:
    """Store a new family's key unless the family has one already; True if this one was stored."""
    statement = (
        insert(_KEYS)
        .values(key_id=key_id, family_key=family_key, wrapped=wrapped, master_key_id=master_key_id)
        .on_conflict_do_nothing(constraint="uq_family_data_keys_family_key")
        .returning(_KEYS.c.key_id)
    )
    return (await session.exec(statement)).first() is not None


async def key_of_family(session: AsyncSession, *, family_key: str) -> StoredKey | None:
    statement = select(FamilyDataKey).where(col(FamilyDataKey.family_key) == family_key)
    row = (await session.exec(statement)).first()
    return None if row is None else _stored(row)


async def keys_by_id(session: AsyncSession, *, key_ids: Sequence[UUID]) -> Sequence[StoredKey]:
    statement = select(FamilyDataKey).where(col(FamilyDataKey.key_id).in_(key_ids))
    return [_stored(row) for row in (await session.exec(statement)).all()]


async def destroy_key(
    session: AsyncSession, *, family_key: str, staff_id: str, role: str, reason: str
) -> bool:
    """Destroy the family's key (the wrapped bytes are overwritten); True if it was live."""
    statement = (
        update(_KEYS)
        .where(_KEYS.c.family_key == family_key, _KEYS.c.wrapped.is_not(None))
        .values(
            wrapped=None,
            master_key_id=None,
            destroyed_at=func.now(),
            destroyed_by=staff_id,
            destroyed_role=role,
            destroy_reason=reason,
        )
        .returning(_KEYS.c.key_id)
    )
    return (await session.exec(statement)).first() is not None


async def keys_to_rewrap(
    session: AsyncSession, *, current_master_key_id: str, limit: int
) -> Sequence[StoredKey]:
    """Live keys wrapped by another master key than the current one, a batch at a time."""
    statement = (
        select(FamilyDataKey)
        .where(
            col(FamilyDataKey.wrapped).is_not(None),
            col(FamilyDataKey.master_key_id) != current_master_key_id,
        )
        .order_by(col(FamilyDataKey.key_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_stored(row) for row in (await session.exec(statement)).all()]


async def store_rewrapped(
    session: AsyncSession, *, key_id: UUID, wrapped: bytes, master_key_id: str
) -> None:
    statement = (
        update(_KEYS)
        .where(_KEYS.c.key_id == key_id, _KEYS.c.wrapped.is_not(None))
        .values(wrapped=wrapped, master_key_id=master_key_id, rewrapped_at=func.now())
    )
    await session.exec(statement)


_WORKFLOW_OF_CASE = text("SELECT workflow_id FROM case_projections WHERE case_id = :case_id")


async def workflow_of_case(session: AsyncSession, *, case_id: UUID) -> str | None:
    """The case workflow's id (which carries the family's pseudonym), from its projection."""
    connection = await session.connection()
    found = (await connection.execute(_WORKFLOW_OF_CASE, {"case_id": case_id})).scalar()
    return None if found is None else str(found)


async def destroy_family_key(
    session: AsyncSession, *, family_key: str, staff_id: str, role: str, reason: str
) -> UUID:
    """Destroy the family's data key and return its id. A family without a key gets a key row
    that is destroyed from the start, so no key can ever be created for it later
    (`FamilyKeyStore.for_owner` raises KeyDestroyed)."""
    stored = await key_of_family(session, family_key=family_key)
    if stored is not None:
        await destroy_key(
            session, family_key=family_key, staff_id=staff_id, role=role, reason=reason
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
            destroyed_role=role,
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
