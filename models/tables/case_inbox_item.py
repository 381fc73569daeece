"""The inbox as a table: one row per open deadline and per pending approval of every case,
rewritten with the case's projection, and one per open monitoring contact of a case's social
contract (kind `contract_contact`), rewritten with the contract's view. `GET /api/v1/tasks` is
then an indexed query over what is open, whatever the number of cases, instead of a scan and
sort of every stored view.

Derived entirely from the projection's view (models/inbox.py), so it holds nothing the view
does not: codes, staff ids, roles and times, no personal data.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, text
from sqlmodel import Field, SQLModel

# The inbox's order: overdue first, then by due time (undated approvals last), then stable.
_ORDER = (text("overdue DESC"), text("due_at NULLS LAST"), "case_id", "key")


class CaseInboxItem(SQLModel, table=True):
    __tablename__ = "case_inbox_items"
    # Each branch of the inbox query (models/crud/inbox.py) walks one of these in the inbox's
    # own order and stops at the page's size: per municipality for staff, across the oblast
    # for the ministry.
    __table_args__ = (
        Index("ix_case_inbox_items_territory_responsible", "municipality", "responsible", *_ORDER),
        Index("ix_case_inbox_items_responsible", "responsible", *_ORDER),
        Index(
            "ix_case_inbox_items_territory_escalated",
            "municipality",
            "escalated_to",
            *_ORDER,
            postgresql_where=text("escalated_to IS NOT NULL"),
        ),
        Index(
            "ix_case_inbox_items_escalated",
            "escalated_to",
            *_ORDER,
            postgresql_where=text("escalated_to IS NOT NULL"),
        ),
        Index(
            "ix_case_inbox_items_territory_approvals",
            "municipality",
            *_ORDER,
            postgresql_where=text("kind = 'approval'"),
        ),
    )

    case_id: UUID = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)  # deadline | approval | contract_contact
    case_number: str | None = Field(default=None, max_length=32)
    municipality: str = Field(max_length=64)
    stage: str | None = Field(default=None, max_length=32)  # None: a contract's item
    code: str | None = Field(default=None, max_length=8)
    due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    overdue: bool = False
    escalation_level: int = 0
    responsible: str = Field(max_length=64)
    escalated_to: str | None = Field(default=None, max_length=64)
