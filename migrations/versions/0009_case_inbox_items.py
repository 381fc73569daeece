"""the inbox as a table: one row per open deadline and pending approval of each case

Filled here from the stored projections (their deadlines hold codes, staff ids and roles, no
sealed text), then kept by the worker with each view it stores. `kurator_app` gets its rights
on the new table from the default privileges of migration 0008.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER = "overdue DESC, due_at NULLS LAST, case_id, key"


def upgrade() -> None:
    op.create_table('case_inbox_items',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('responsible', sa.String(length=64), nullable=False),
    sa.Column('escalated_to', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('case_id', 'key')
    )
    op.execute(f"CREATE INDEX ix_case_inbox_items_territory_responsible ON case_inbox_items (municipality, responsible, {_ORDER})")
    op.execute(f"CREATE INDEX ix_case_inbox_items_responsible ON case_inbox_items (responsible, {_ORDER})")
    op.execute(f"CREATE INDEX ix_case_inbox_items_territory_escalated ON case_inbox_items (municipality, escalated_to, {_ORDER}) WHERE escalated_to IS NOT NULL")
    op.execute(f"CREATE INDEX ix_case_inbox_items_escalated ON case_inbox_items (escalated_to, {_ORDER}) WHERE escalated_to IS NOT NULL")
    op.execute(f"CREATE INDEX ix_case_inbox_items_territory_approvals ON case_inbox_items (municipality, {_ORDER}) WHERE kind = 'approval'")
    op.execute(
        "INSERT INTO case_inbox_items (case_id, key, kind, municipality, stage, code, due_at, "
        "overdue, escalation_level, responsible, escalated_to) "
        "SELECT p.case_id, d->>'key', 'deadline', p.municipality, p.stage, d->>'code', "
        "(d->>'due_at')::timestamptz, COALESCE((d->>'overdue')::boolean, false), "
        "COALESCE((d->>'escalation_level')::int, 0), d->>'responsible', d->>'escalated_to' "
        "FROM case_projections p, jsonb_array_elements(p.view->'deadlines') AS d"
    )
    for key, condition in (
        ('closure', "p.view->>'closure_requested' IS NOT NULL"),
        ('prolongation', "p.stage = 'prolongation'"),
    ):
        op.execute(
            "INSERT INTO case_inbox_items (case_id, key, kind, municipality, stage, overdue, "
            "escalation_level, responsible) "
            f"SELECT p.case_id, '{key}', 'approval', p.municipality, p.stage, p.overdue, "
            f"p.escalation_level, 'supervisor' FROM case_projections p WHERE {condition}"
        )


def downgrade() -> None:
    op.drop_table('case_inbox_items')
