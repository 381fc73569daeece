"""the open plan items by map entry, as an index (models/tables/case_projection.py)

A GIN index (jsonb_path_ops) of each open case's plan items: the routing proposals count the
open items naming each provider of the resource map by containment, not by unnesting the plan
of every open case of the oblast.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_case_projections_open_plan_items',
        'case_projections',
        [sa.literal_column("(view -> 'plan_items')").label('plan_items')],
        postgresql_using='gin',
        postgresql_ops={'plan_items': 'jsonb_path_ops'},
        postgresql_where=sa.text('closed_at IS NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_case_projections_open_plan_items', table_name='case_projections')
