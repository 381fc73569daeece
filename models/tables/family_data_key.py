"""Per-family data keys: the AES-256 key that seals all of one family's personal data, in
Temporal payloads and in PostgreSQL alike (infra/sealing).

`wrapped` is the key encrypted by a master key the database never holds (`master_key_id` says
which). Erasing a family (crypto-shredding) sets `wrapped` to NULL and records who erased it,
when and why: the row stays, so the erasure itself stays audited and a sealed payload names a
key that is known to be destroyed rather than one that never existed.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, DateTime, LargeBinary, UniqueConstraint, func
from sqlmodel import Field, SQLModel

# The data key of payloads that belong to no family (a workflow outside the case lifecycle, a
# payload the Web UI encodes): they are sealed all the same. Not hex, so never a family key.
SYSTEM_KEY_OWNER = "_system"


class FamilyDataKey(SQLModel, table=True):
    __tablename__ = "family_data_keys"
    __table_args__ = (
        UniqueConstraint("family_key", name="uq_family_data_keys_family_key"),
        CheckConstraint(
            "(wrapped IS NULL) = (destroyed_at IS NOT NULL)",
            name="ck_family_data_keys_wrapped_or_destroyed",
        ),
    )

    key_id: UUID = Field(primary_key=True)
    family_key: str = Field(max_length=64)
    wrapped: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    master_key_id: str | None = Field(default=None, max_length=64)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    rewrapped_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    destroyed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    destroyed_by: str | None = Field(default=None, max_length=64)
    destroyed_role: str | None = Field(default=None, max_length=32)
    destroy_reason: str | None = Field(default=None, max_length=500)
