"""The staff directory: who may act, in which role, on which territory, and where to reach them.

The directory, not a token, is the authority for a staff member's role and municipalities: a
token only says who signs in, and each request is checked against the row here (an unknown or
deactivated member is refused at once). The dispatcher resolves role recipients ("supervisor of
berdsk") to the active members listed here.

Names and e-mail addresses are the staff's own work contacts, never a family's data.
"""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

STAFF_ID_LENGTH = 64


class StaffMemberBase(SQLModel):
    full_name: str = Field(max_length=200)
    role: str = Field(max_length=32)  # a StaffRole value
    municipalities: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(64)), nullable=False)
    )
    email: str | None = Field(default=None, max_length=254)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))


class StaffMember(StaffMemberBase, table=True):
    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint(
            "role IN ('specialist', 'supervisor', 'head', 'ministry')", name="ck_staff_members_role"
        ),
        # Resolving "the active supervisors of berdsk" reads through this index.
        # (A GIN index on the array: `'berdsk' = ANY(municipalities)` is written `@>` for it.)
        Index(
            "ix_staff_members_active_municipalities",
            "municipalities",
            postgresql_using="gin",
            postgresql_where=text("active"),
        ),
    )

    staff_id: str = Field(primary_key=True, max_length=STAFF_ID_LENGTH)
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


class StaffMemberPublic(StaffMemberBase):
    staff_id: str
    updated_at: datetime
