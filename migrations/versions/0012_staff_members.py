"""the staff directory (models/tables/staff_member.py)

`kurator_app` gets its rights on the new table from the default privileges of migration 0008.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_members',
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('municipalities', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('specialist', 'supervisor', 'head', 'ministry')", name='ck_staff_members_role'),
    sa.PrimaryKeyConstraint('staff_id')
    )
    op.create_index('ix_staff_members_active_municipalities', 'staff_members', ['municipalities'], unique=False, postgresql_using='gin', postgresql_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('ix_staff_members_active_municipalities', table_name='staff_members', postgresql_using='gin', postgresql_where=sa.text('active'))
    op.drop_table('staff_members')
