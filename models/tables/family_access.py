"""The family access log: who read or wrote a family record, in which role, and why
(PRODUCT.md §5). Rows are only ever inserted, in the same transaction as the access."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, func
from sqlmodel import Field, SQLModel

from models.family_records import FamilyAccessAction
from models.payloads.vocabulary import StaffRole


class FamilyAccessBase(SQLModel):
    family_id: UUID  # indexed by ix_family_access_log_family_id_at
    staff_id: str = Field(max_length=64)
    role: str = Field(max_length=32)  # a StaffRole value
    action: str = Field(max_length=16)  # a FamilyAccessAction value
    purpose: str = Field(max_length=200)


class FamilyAccess(FamilyAccessBase, table=True):
    __tablename__ = "family_access_log"
    __table_args__ = (
        ForeignKeyConstraint(["family_id"], ["families.id"], name="fk_family_access_log_family_id"),
        CheckConstraint("action IN ('read', 'write')", name="ck_family_access_log_action"),
        # A family's accesses in time order (what an auditor asks for).
        Index("ix_family_access_log_family_id_at", "family_id", "at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class FamilyAccessPublic(FamilyAccessBase):
    id: UUID
    role: StaffRole
    action: FamilyAccessAction
    at: datetime
