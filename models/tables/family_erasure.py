"""Family erasures (crypto-shredding): who erased a family's data, in which role, when and
why. One row per family at most: an erased family stays erased, and its record, its sealed
columns and its Temporal payloads can no longer be opened (its key is destroyed, see
models.tables.family_data_key). The case's coded history (case_events) is kept.

`reason` and `legal_basis` are audit text in clear: they must say why, never whom (no names).
"""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, ForeignKeyConstraint, UniqueConstraint, func
from sqlmodel import Field, SQLModel


class FamilyErasureBase(SQLModel):
    family_id: UUID  # unique by uq_family_erasures_family_id
    staff_id: str = Field(max_length=64)
    role: str = Field(max_length=32)  # a StaffRole value
    reason: str = Field(max_length=500)
    legal_basis: str | None = Field(default=None, max_length=200)
    key_id: UUID | None = None  # the destroyed data key (None: the family never had one)


class FamilyErasure(FamilyErasureBase, table=True):
    __tablename__ = "family_erasures"
    __table_args__ = (
        UniqueConstraint("family_id", name="uq_family_erasures_family_id"),
        ForeignKeyConstraint(["family_id"], ["families.id"], name="fk_family_erasures_family_id"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    erased_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
