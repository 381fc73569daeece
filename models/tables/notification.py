"""The notifications outbox: messages a workflow step decided to send, written in the step's
own transaction and drained later by a delivery adapter.

`(case_id, event_seq, recipient, kind)` is unique, so persisting the same step twice enqueues
nothing new. Messages carry codes and dates only, never personal data.
"""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel


class NotificationBase(SQLModel):
    case_id: UUID  # indexed by uq_notifications_step
    event_seq: int
    recipient: str = Field(max_length=64)
    recipient_is_role: bool
    municipality: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    deadline_code: str | None = Field(default=None, max_length=8)
    due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    message: str = Field(max_length=500)


class Notification(NotificationBase, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("case_id", "event_seq", "recipient", "kind", name="uq_notifications_step"),
        # Draining reads the unsent messages oldest first; sent ones drop out of the index.
        Index("ix_notifications_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class NotificationPublic(NotificationBase):
    id: UUID
    created_at: datetime
    sent_at: datetime | None
