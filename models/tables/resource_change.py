"""The resource map's history: who changed which entry, how, when and why. Append-only.

A trigger refuses UPDATE, DELETE and TRUNCATE (migration 0016, the pattern of 0008), and each
row is hash-chained to the entry's previous change (models/resource_map/history_chain.py), so
a change edited or removed behind the trigger's back shows when the chain is checked.
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ResourceChange(SQLModel, table=True):
    __tablename__ = "resource_changes"
    __table_args__ = (UniqueConstraint("provider_id", "seq", name="uq_resource_changes_seq"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    provider_id: UUID = Field(sa_column=Column(ForeignKey("resource_providers.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    action: str = Field(max_length=32)  # a ResourceAction value
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    # The fields this change set, each as {"before": ..., "after": ...}.
    changes: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
