"""case projection and outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:05:43.220508
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_projections',
    sa.Column('workflow_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=True),
    sa.Column('curator', sa.String(length=64), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('policy_version', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('view', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_index('ix_case_projections_curator', 'case_projections', ['curator'], unique=False)
    op.create_index('ix_case_projections_municipality_overdue_deadline', 'case_projections', ['municipality', 'overdue', 'next_deadline'], unique=False)
    op.create_index('ix_case_projections_municipality_stage', 'case_projections', ['municipality', 'stage'], unique=False)
    op.create_table('notifications',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('recipient_is_role', sa.Boolean(), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('deadline_code', sa.String(length=8), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'event_seq', 'recipient', 'kind', name='uq_notifications_step')
    )
    op.create_index('ix_notifications_unsent', 'notifications', ['created_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_notifications_unsent', table_name='notifications', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_table('notifications')
    op.drop_index('ix_case_projections_municipality_stage', table_name='case_projections')
    op.drop_index('ix_case_projections_municipality_overdue_deadline', table_name='case_projections')
    op.drop_index('ix_case_projections_curator', table_name='case_projections')
    op.drop_table('case_projections')
