"""indexes the pilot's indicators read through (models/tables/report_indexes.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:00:00.000000

It touches no column of case_events, only adds an index on two existing ones (an index is no
change to the append-only rows).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_case_events_action_occurred_at', 'case_events', ['action', 'occurred_at'], unique=False)
    op.create_index('ix_case_projections_opened_at', 'case_projections', ['opened_at'], unique=False)
    op.create_index('ix_case_projections_closed_at', 'case_projections', ['closed_at'], unique=False, postgresql_where=sa.text('closed_at IS NOT NULL'))
    op.create_index('ix_case_projections_open_stage_level', 'case_projections', ['stage', 'level'], unique=False, postgresql_include=['municipality', 'curator', 'opened_at'], postgresql_where=sa.text("stage <> 'closed'"))


def downgrade() -> None:
    op.drop_index('ix_case_projections_open_stage_level', table_name='case_projections')
    op.drop_index('ix_case_projections_closed_at', table_name='case_projections')
    op.drop_index('ix_case_projections_opened_at', table_name='case_projections')
    op.drop_index('ix_case_events_action_occurred_at', table_name='case_events')
