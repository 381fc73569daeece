"""The staff directory's history: every change to `staff_members`, append-only and hash-chained.

One chain runs over the whole directory (it changes rarely, a few rows a day): each event
stores the hash of its content and of the event before it (infra/audit/staff_chain.py), so an
event altered or removed from the middle shows. Who changed what (the entry before and after),
when, and why. Staff names and work e-mails are the staff's own contacts, never a family's
data. A trigger refuses UPDATE, DELETE and TRUNCATE (migration 0013), as for `case_events`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.tables.staff_member import STAFF_ID_LENGTH

HASH_LENGTH = 64


class StaffDirectoryEvent(SQLModel, table=True):
    __tablename__ = "staff_directory_events"

    # Assigned under the chain's lock (models/crud/staff_changes.py): the next after the head.
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    staff_id: str = Field(max_length=STAFF_ID_LENGTH, index=True)
    action: str = Field(max_length=32)  # a DirectoryAction value
    actor_id: str = Field(max_length=STAFF_ID_LENGTH)
    actor_role: str = Field(max_length=32)  # a StaffRole value, or "operator" (kurator staff)
    source: str = Field(max_length=16)  # api, cli, import
    reason: str | None = Field(default=None, max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    after: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    prev_hash: str = Field(max_length=HASH_LENGTH)
    hash: str = Field(max_length=HASH_LENGTH)
