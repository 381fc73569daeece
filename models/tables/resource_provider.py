"""The resource map (карта ресурсов территории): one row per provider a family can be routed
to, with what it offers, where, how much, and when its entry was last confirmed.

Contacts are the organisation's public ones (its desk, its e-mail), never a family's. Every
change is recorded in `resource_changes` (models/tables/resource_change.py) in the same
transaction. An entry leaves the map by deactivation, never by deletion: plan items and the
history keep naming it.
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from models.payloads.vocabulary import CapacityUnit, ProviderKind


def _codes(name: str) -> Any:  # a Field, typed as its value for the class body
    return Field(default_factory=list, sa_column=Column(name, ARRAY(String(32)), nullable=False))


class ResourceProvider(SQLModel, table=True):
    __tablename__ = "resource_providers"
    __table_args__ = (
        # The natural key an import matches rows by: one entry per name in a territory.
        UniqueConstraint("municipality", "name", name="uq_resource_providers_name"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in ProviderKind) + ")",
            name="ck_resource_providers_kind",
        ),
        CheckConstraint(
            "capacity_unit IN (" + ", ".join(f"'{u}'" for u in CapacityUnit) + ")",
            name="ck_resource_providers_unit",
        ),
        CheckConstraint("capacity >= 0", name="ck_resource_providers_capacity"),
        # Proposals read the active providers serving a municipality.
        Index(
            "ix_resource_providers_served",
            "served_municipalities",
            postgresql_using="gin",
            postgresql_where=text("active"),
        ),
        # The review flags read the active entries confirmed longest ago.
        Index(
            "ix_resource_providers_confirmed",
            "last_confirmed_at",
            postgresql_where=text("active"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)  # a ProviderKind value
    # The territory the entry belongs to: its head manages it.
    municipality: str = Field(
        sa_column=Column(String(32), ForeignKey("municipalities.code"), nullable=False)
    )
    served_municipalities: list[str] = _codes("served_municipalities")
    services: list[str] = _codes("services")  # ServiceType values (442-ФЗ ст. 20)
    channels: list[str] = _codes("channels")  # AccompanimentChannel values (ст. 22)
    capacity: int = Field(sa_column=Column(Integer, nullable=False))
    capacity_unit: str = Field(max_length=16)  # a CapacityUnit value
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_address: str | None = Field(default=None, max_length=300)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    last_confirmed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The number of the entry's last change in `resource_changes`.
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
