"""What the staff directory's routes answer (api/routes/staff.py)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from models.payloads.staff import StaffMemberOut


class StaffChanged(BaseModel):
    member: StaffMemberOut
    action: str | None = Field(
        description="created, changed, deactivated, reactivated; null when nothing changed."
    )


class RefusedRow(BaseModel):
    line: int
    staff_id: str | None
    problem: str


class ImportReport(BaseModel):
    rows: int = Field(description="Rows read (blank lines aside).")
    written: bool = Field(description="Whether the rows were written: all of them or none.")
    counts: dict[str, int] = Field(
        description="Rows by what they did (created, changed, deactivated, reactivated, "
        "unchanged); empty when nothing was written because of a refusal."
    )
    refused: list[RefusedRow]


class DirectoryEventOut(BaseModel):
    seq: int
    staff_id: str
    action: str
    actor_id: str
    actor_role: str
    source: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str


class DirectoryChain(BaseModel):
    verified: bool
    head_seq: int = Field(description="The last event's seq (0: no event yet).")
    broken_seq: int | None = None
    problem: str | None = None


class DirectoryHistory(BaseModel):
    chain: DirectoryChain = Field(description="The whole directory chain, checked as stored.")
    events: list[DirectoryEventOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")
