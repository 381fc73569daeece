"""family data keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('family_data_keys',
    sa.Column('key_id', sa.Uuid(), nullable=False),
    sa.Column('family_key', sa.String(length=64), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('master_key_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('rewrapped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('destroyed_by', sa.String(length=64), nullable=True),
    sa.Column('destroyed_role', sa.String(length=32), nullable=True),
    sa.Column('destroy_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint('(wrapped IS NULL) = (destroyed_at IS NOT NULL)', name='ck_family_data_keys_wrapped_or_destroyed'),
    sa.PrimaryKeyConstraint('key_id'),
    sa.UniqueConstraint('family_key', name='uq_family_data_keys_family_key')
    )


def downgrade() -> None:
    op.drop_table('family_data_keys')
