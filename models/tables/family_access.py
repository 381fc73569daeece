"""The family access log: who read or wrote a family's data, what of it, in which role, and
why (PRODUCT.md §5). Rows are only ever inserted, in the same transaction as the access.

`family_id` is None only for a case history read whose family has no record (a case opened
outside the API, as the bench does); `case_id` then says which case was read.
"""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, func
from sqlmodel import Field, SQLModel

from models.access import AccessedData, AccessPurpose
from models.family_records import FamilyAccessAction
from models.payloads.vocabulary import StaffRole


class FamilyAccessBase(SQLModel):
    family_id: UUID | None = None  # indexed by ix_family_access_log_family_id_at
    staff_id: str = Field(max_length=64)
    role: str = Field(max_length=32)  # a StaffRole value
    action: str = Field(max_length=16)  # a FamilyAccessAction value
    # What was accessed (an AccessedData value); rows older than the column: the record.
    what: str = Field(max_length=32, sa_column_kwargs={"server_default": "family_record"})
    case_id: UUID | None = None  # the case whose history was read, when it was one
    # The X-Purpose code (an AccessPurpose value); None for an access that sends no header
    # (an intake's write, whose purpose says what it was).
    purpose_code: str | None = Field(default=None, max_length=32)
    purpose: str = Field(max_length=200)


class FamilyAccess(FamilyAccessBase, table=True):
    __tablename__ = "family_access_log"
    __table_args__ = (
        ForeignKeyConstraint(["family_id"], ["families.id"], name="fk_family_access_log_family_id"),
        CheckConstraint("action IN ('read', 'write', 'erase')", name="ck_family_access_log_action"),
        CheckConstraint(
            "family_id IS NOT NULL OR case_id IS NOT NULL", name="ck_family_access_log_subject"
        ),
        # A family's accesses in time order (what an auditor asks for).
        Index("ix_family_access_log_family_id_at", "family_id", "at"),
        # A staff member's accesses, newest first, a page at a time (keyset on at, id).
        Index("ix_family_access_log_staff_id_at_id", "staff_id", "at", "id"),
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
    what: AccessedData
    purpose_code: AccessPurpose | None
    at: datetime
