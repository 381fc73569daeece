"""What the pilot's indicators read (models/reports), kept by PostgreSQL itself beside the case
history: a trigger on `case_events` (migration 0018's `case_indicators_from_events`) fills both
tables from each statement's new events, in the statement's transaction, so the API, the
worker, the generator's COPY and a restored dump all keep them alike.

Counting from `case_events` directly scanned every event of the period and the two years
before it (a deadline is measured from its start), and fetched each one's JSON: tens of
seconds at the oblast's 350,000 cases. These hold only what the indicators count, a row per
case or per counted event, so a year of the oblast is an index range or a scan of a narrow
table.

Derived, not evidence: the history stays the record, and both can be rebuilt from it (the
migration does, for the events stored before it).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel


def _moment() -> Any:  # a Field: what SQLModel declares a column with
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class CaseMilestones(SQLModel, table=True):
    """Each case's first time at every step a deadline is measured by, and where its review
    and contact streams stand (the seq of the last late mark and of the last other one), so
    that a new step's timeliness is known when it is recorded."""

    __tablename__ = "case_milestones"

    case_id: UUID = Field(primary_key=True)
    applied_at: datetime | None = _moment()  # the application's date (T2 and T3 count from it)
    signal_at: datetime | None = _moment()
    decided_at: datetime | None = _moment()  # the need decision (assessment_recorded)
    programme_at: datetime | None = _moment()  # the ИППСУ (plan_approved)
    first_contact_at: datetime | None = _moment()  # the first reached contact
    t1_late_at: datetime | None = _moment()
    t2_late_at: datetime | None = _moment()
    t3_late_at: datetime | None = _moment()
    review_late_seq: int | None = None
    review_done_seq: int | None = None
    contact_late_seq: int | None = None
    contact_done_seq: int | None = None


class CaseEventMark(SQLModel, table=True):
    """An event an indicator counts in its period: a deadline's overdue or escalation rung, a
    review or reached contact held (on time or not), a closure, an urgent service, a child-safety
    alert."""

    __tablename__ = "case_event_marks"
    __table_args__ = (
        Index(
            "ix_case_event_marks_action_occurred_at",
            "action",
            "occurred_at",
            postgresql_include=["case_id", "rung", "closure_reason", "on_time"],
        ),
    )

    case_id: UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    action: str = Field(max_length=64)
    code: str | None = Field(default=None, max_length=8)
    rung: int | None = None
    closure_reason: str | None = Field(default=None, max_length=64)
    on_time: bool | None = None  # a review or contact held: no deadline of its stream passed
