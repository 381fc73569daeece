"""Idempotency keys the API has seen, each with the fingerprint of the one request it names.

A key is the caller's promise that a retry is the same request: the same key with another body,
action, case or caller is refused (422) instead of being answered with the first one's result.
The fingerprint is a keyed hash (HMAC), so no request content can be read back from it.
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field, SQLModel


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=100)
    fingerprint: str = Field(max_length=64)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
