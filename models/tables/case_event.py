"""The append-only case history the ministry audits (who, what, when, why, through which
request).

It outlives Temporal's retention of closed workflow histories, so it is the audit trail of
record. Rows are only ever inserted: PostgreSQL refuses UPDATE, DELETE and TRUNCATE (a trigger,
and the application's role holds only SELECT and INSERT; migration 0008), and each row carries
the hash of its content and of the event before it (infra/audit/chain.py). `reason` (a staff
comment) and the free-text values of `data` and `view_changes` (providers) are stored sealed
with the family's key (infra/sealing/columns.py); who, role, action, stages, codes and times
stay in clear for the ministry's queries.
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# A hex SHA-256 (infra/audit/chain.py computes the chain's hashes).
HASH_LENGTH = 64


class CaseEventBase(SQLModel):
    case_id: UUID  # indexed by uq_case_events_case_seq
    seq: int
    action: str = Field(max_length=64)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    stage_before: str | None = Field(default=None, max_length=32)
    stage_after: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    idempotency_key: str | None = Field(
        default=None, max_length=255, description="The request's Idempotency-Key; none for timers."
    )
    workflow_id: str = Field(max_length=255, description="The workflow that recorded it.")
    run_id: str | None = Field(default=None, max_length=64)


class CaseEvent(CaseEventBase, table=True):
    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # Sealed, so longer than the 2000 characters a comment may have.
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    # The fields of the case's state this event's step changed, new values (the last event of
    # a step carries them): folded in order, they give the case as it was at any moment.
    view_changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    recorded_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    prev_hash: str = Field(max_length=HASH_LENGTH)
    hash: str = Field(max_length=HASH_LENGTH)


class CaseEventPublic(CaseEventBase):
    id: UUID
    data: dict[str, Any]
    view_changes: dict[str, Any] = Field(default_factory=dict)
