"""Claiming an idempotency key for one request's fingerprint."""

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# One statement, one round trip: the insert's RETURNING gives the fingerprint of a new key;
# the second arm, which sees the table as it was before the statement, that of a known key.
_CLAIM = text(
    """
    WITH claimed AS (
        INSERT INTO idempotency_keys (key, fingerprint) VALUES (:key, :fingerprint)
        ON CONFLICT (key) DO NOTHING
        RETURNING fingerprint
    )
    SELECT fingerprint, true FROM claimed
    UNION ALL
    SELECT fingerprint, false FROM idempotency_keys WHERE key = :key
    LIMIT 1
    """
)
_CLAIMED = text("SELECT fingerprint FROM idempotency_keys WHERE key = :key")


async def claim_key(session: AsyncSession, *, key: str, fingerprint: str) -> tuple[str, bool]:
    """Record `key` for `fingerprint` if it is new. The fingerprint the key stands for now, and
    True if this call claimed it (False: the key was known, a retry or a reuse)."""
    connection = await session.connection()
    claimed = (await connection.execute(_CLAIM, {"key": key, "fingerprint": fingerprint})).first()
    if claimed is None:
        # Claimed at the same moment by a request whose transaction committed after this
        # statement began: the insert waited for it and did nothing, and the statement's
        # snapshot is older than its row. A new statement sees it.
        known = (await connection.execute(_CLAIMED, {"key": key})).scalar_one()
        return str(known), False
    return str(claimed[0]), bool(claimed[1])
