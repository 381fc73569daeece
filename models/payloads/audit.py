"""What the ministry's audit endpoints answer: a case's history with the verdict of its hash
chain on every event, and the state a case had at a moment, folded from its events."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from models.payloads.audit_export import AuditChain
from models.tables.case_event import CaseEventBase


class AuditEvent(CaseEventBase):
    """One event as the audit reads it: who (actor id and role), what (action, stages, data),
    when (occurred, recorded), why (reason), through which request (Idempotency-Key; none for
    a timer) and which workflow run, with its place in the chain."""

    chain: AuditChain = Field(
        AuditChain.CASE,
        description="Whose chain this event is a link of: `case`, or `social_contract` (the "
        "case's social contract, whose chain is keyed by the contract's id: `case_id` then "
        "holds that id, as stored and hashed).",
    )
    contract_id: UUID | None = Field(None, description="The contract's id, on its events.")
    id: UUID
    data: dict[str, Any]
    view_changes: dict[str, Any] = Field(
        description="The case's fields this event's step changed, with their new values (on the "
        "last event of each step; the first step carries the whole state)."
    )
    recorded_at: datetime
    prev_hash: str
    hash: str
    chain_verified: bool = Field(
        description="The event links to the one before it and its stored content hashes to "
        "`hash`, and so does every event before it."
    )
    chain_problem: str | None = Field(
        None, description="Why this event does not verify (the first broken link, or after it)."
    )


class ChainVerdict(BaseModel):
    """The case's hash chain, checked over the rows exactly as stored."""

    verified: bool = Field(description="Every event of the case verifies.")
    events: int
    head_seq: int | None = Field(None, description="The last event that verifies.")
    head_hash: str | None = None
    broken_seq: int | None = Field(None, description="The first event that does not verify.")
    problem: str | None = Field(None, description="Why that event does not verify.")


class AuditHistory(BaseModel):
    case_id: UUID
    municipality: str
    chain: ChainVerdict = Field(description="The case's own chain.")
    contract_id: UUID | None = Field(
        None, description="The case's social contract (социальный контракт), if it has one."
    )
    contract_chain: ChainVerdict | None = Field(
        None, description="The social contract's chain, checked as the case's is."
    )
    events: list[AuditEvent] = Field(
        description="The whole lifecycle, oldest first: the case's events and its social "
        "contract's (conclusion, each monthly contact made or missed, each escalation rung, "
        "its outcome), merged by when they occurred, each chain in its own order."
    )
