"""Delivery of the outbox, as the API shows it and the digest workflow reports it: states,
channels and read models. Workflow-safe: no tables here."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.payloads.vocabulary import NotificationKind
from models.policy.codes import DeadlineCode

_frozen = ConfigDict(frozen=True)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waits for its first attempt
    SENDING = "sending"  # claimed: an attempt is under way (or its dispatcher died mid-send)
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; retried at next_attempt_at
    DEAD = "dead"  # given up: last_error says why


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    INBOX = "inbox"  # the staff member's own notifications in the API


class DeliveryView(BaseModel):
    """One message to one person on one channel."""

    model_config = _frozen

    id: UUID
    recipient_staff_id: str | None = Field(
        description="None when the notification named nobody the directory knows (dead)."
    )
    channel: DeliveryChannel
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    message_id: str = Field(description="The e-mail's Message-ID: the idempotency key.")


class NotificationDeliveries(BaseModel):
    """One notification of a case and how it was delivered."""

    model_config = _frozen

    id: UUID
    event_seq: int
    kind: NotificationKind
    recipient: str = Field(description="A staff id or a role.")
    recipient_is_role: bool
    deadline_code: DeadlineCode | None
    due_at: datetime | None
    created_at: datetime
    dispatched_at: datetime | None = Field(
        description="When the dispatcher resolved its recipients (None: not yet)."
    )
    deliveries: list[DeliveryView]


class InboxMessage(BaseModel):
    """A message in a staff member's own inbox."""

    model_config = _frozen

    id: UUID
    case_id: UUID | None = Field(description="None for a daily digest.")
    kind: str = Field(description="A notification kind, or `digest`.")
    subject: str
    body: str
    created_at: datetime


class DigestsWritten(BaseModel):
    """What one run of the daily digest queued."""

    model_config = _frozen

    day: str
    recipients: int = Field(description="Staff members with something to report.")
    deliveries: int = Field(description="New deliveries queued (0 when the day's were queued).")
