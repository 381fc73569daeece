"""Family records: the only place where a family's personal data lives (PRODUCT.md §5).

`sealed_record` holds a `FamilyIn` as JSON (members with names and birth dates, address,
phone, registry id), sealed with the family's data key `record_key_id`
(infra/sealing/columns.py): PostgreSQL never holds the record in clear, and destroying the key
erases it. Workflows, search attributes and logs know the family only by `family_key`,
a keyed hash of its registry id (`models.identity.family_key`). Every read and write of a
row goes through `models.crud.families`, which logs it in `family_access_log`.
"""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    UniqueConstraint,
    func,
)
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
        ForeignKeyConstraint(
            ["record_key_id"], ["family_data_keys.key_id"], name="fk_families_record_key"
        ),
        # A territory's families (and the foreign key's own lookups).
        Index("ix_families_municipality", "municipality"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    sealed_record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    record_key_id: UUID
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
