"""The social contracts' projection: one row per contract holding its latest view, written by
its workflow (workflows/social_contract.py) and read by the API under its case.

The contract's history is in `case_events` under `contract_id` (a chain of its own); this row
is what GET /api/v1/cases/{id}/social-contract answers without asking Temporal. `version`
lets a write only move forward. `income_after` inside `view` is sealed with the family's key.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class SocialContractRow(SQLModel, table=True):
    __tablename__ = "social_contracts"

    contract_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(unique=True)  # one social contract per case episode
    workflow_id: str = Field(max_length=255)
    municipality: str = Field(max_length=64)
    version: int
    phase: str = Field(max_length=16)
    view: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )
