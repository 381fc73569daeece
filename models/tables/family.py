"""Family records: the only place where a family's personal data lives (PRODUCT.md §5).

`record` holds a `FamilyIn` as JSON (members with names and birth dates, address, phone,
registry id). Workflows, search attributes and logs know the family only by `family_key`,
a keyed hash of its registry id (`models.identity.family_key`). Every read and write of a
row goes through `models.crud.families`, which logs it in `family_access_log`.
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, ForeignKeyConstraint, Index, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class FamilyBase(SQLModel):
    family_key: str = Field(max_length=64)  # unique by uq_families_family_key
    municipality: str = Field(max_length=32)  # a municipalities.code


class Family(FamilyBase, table=True):
    __tablename__ = "families"
    __table_args__ = (
        UniqueConstraint("family_key", name="uq_families_family_key"),
        ForeignKeyConstraint(
            ["municipality"], ["municipalities.code"], name="fk_families_municipality"
        ),
        # A territory's families (and the foreign key's own lookups).
        Index("ix_families_municipality", "municipality"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    record: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )
