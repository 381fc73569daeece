"""Deliveries: one row per (notification or digest, recipient, channel), the dispatcher's
work list and its record of what it sent.

`idempotency_key` is unique and is the e-mail's Message-ID, so a notification fanned out twice
queues nothing new, and a message re-sent after a crash carries the same Message-ID as the
first try. The subject and body are rendered once, when the row is queued: every attempt
sends the same text. They hold codes, dates, case numbers and links, never a family's data.
"""

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

# The states a claim picks up: never tried, failed and due again, or claimed by a dispatcher
# whose lease ran out (it died or hung mid-send).
CLAIMABLE_STATES = ("pending", "failed", "sending")


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'dead')", name="ck_deliveries_state"
        ),
        CheckConstraint("channel IN ('email', 'inbox')", name="ck_deliveries_channel"),
        UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
        # The claim reads the due rows oldest first; sent and dead ones drop out of the index.
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'failed', 'sending')"),
        ),
        Index("ix_deliveries_case", "case_id"),
        Index("ix_deliveries_recipient", "recipient_staff_id", "channel", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    notification_id: UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("notifications.id", ondelete="CASCADE"), nullable=True),
    )
    digest_day: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    case_id: UUID | None = None
    kind: str = Field(max_length=32)  # a NotificationKind, or "digest"
    recipient_staff_id: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=16)
    address: str | None = Field(default=None, max_length=254)  # the e-mail it went to
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
