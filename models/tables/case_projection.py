"""The case projection: one row per case holding its latest `CaseView`.

The workflow is the source of truth; this row is what the API lists and reads without asking
Temporal. The scalar columns exist for filtering and ordering; `view` holds the whole state,
so GET /cases/{id} is one row. `version` (the last event number the state includes) lets a
write proceed only forward: a retried or late step never overwrites a newer state. The
view's free-text values (plan items' and the route's providers) are sealed with the family's
key (infra/sealing/columns.py); the codes, stages and staff ids stay in clear.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, func, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class CaseProjectionBase(SQLModel):
    workflow_id: str = Field(max_length=255)
    version: int
    municipality: str = Field(max_length=64)
    stage: str = Field(max_length=32)
    level: str | None = Field(default=None, max_length=8)
    curator: str | None = Field(default=None, max_length=64)
    overdue: bool = False
    escalation_level: int = 0
    next_deadline: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    policy_version: str = Field(max_length=64)
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


_LIST_ORDER = (
    text("(NOT overdue)"),
    text("COALESCE(next_deadline, 'infinity'::timestamptz)"),
    "case_id",
)


class CaseProjection(CaseProjectionBase, table=True):
    __tablename__ = "case_projections"
    __table_args__ = (
        # The API's list: in its order (overdue first, then the next deadline, none last,
        # then the case id; models/crud/case_projections.py) for the oblast and for one
        # municipality, so a page after a cursor is a range scan; and the filters by stage
        # and by curator.
        Index("ix_case_projections_list_order", *_LIST_ORDER),
        Index("ix_case_projections_municipality_list_order", "municipality", *_LIST_ORDER),
        Index("ix_case_projections_municipality_stage", "municipality", "stage"),
        Index("ix_case_projections_curator", "curator"),
        # An audit export's batches: a municipality's cases in the order of their ids.
        Index("ix_case_projections_municipality_case", "municipality", "case_id"),
        # The routing proposals' free capacity: which open cases have a plan item naming a
        # map entry, found by containment (models/crud/resource_load.py) rather than by
        # unnesting every open case's plan.
        Index(
            "ix_case_projections_open_plan_items",
            literal_column("(view -> 'plan_items')").label("plan_items"),
            postgresql_using="gin",
            postgresql_ops={"plan_items": "jsonb_path_ops"},
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    case_id: UUID = Field(primary_key=True)
    view: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )
