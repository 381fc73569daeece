"""access log of reads (what, case, purpose code) and family erasures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every row so far was a read or write of the family record.
    op.add_column('family_access_log', sa.Column('what', sa.String(length=32), server_default='family_record', nullable=False))
    op.add_column('family_access_log', sa.Column('case_id', sa.Uuid(), nullable=True))
    op.add_column('family_access_log', sa.Column('purpose_code', sa.String(length=32), nullable=True))
    op.alter_column('family_access_log', 'family_id', existing_type=sa.Uuid(), nullable=True)
    op.drop_constraint('ck_family_access_log_action', 'family_access_log', type_='check')
    op.create_check_constraint('ck_family_access_log_action', 'family_access_log', "action IN ('read', 'write', 'erase')")
    op.create_check_constraint('ck_family_access_log_subject', 'family_access_log', 'family_id IS NOT NULL OR case_id IS NOT NULL')
    op.create_index('ix_family_access_log_staff_id_at_id', 'family_access_log', ['staff_id', 'at', 'id'], unique=False)
    op.create_table('family_erasures',
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=True),
    sa.Column('key_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name='fk_family_erasures_family_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('family_id', name='uq_family_erasures_family_id')
    )


def downgrade() -> None:
    op.drop_table('family_erasures')
    op.drop_index('ix_family_access_log_staff_id_at_id', table_name='family_access_log')
    op.drop_constraint('ck_family_access_log_subject', 'family_access_log', type_='check')
    op.drop_constraint('ck_family_access_log_action', 'family_access_log', type_='check')
    # Rows of what the old schema cannot hold would break its constraints: drop them.
    op.execute("DELETE FROM family_access_log WHERE action = 'erase' OR family_id IS NULL")
    op.create_check_constraint('ck_family_access_log_action', 'family_access_log', "action IN ('read', 'write')")
    op.alter_column('family_access_log', 'family_id', existing_type=sa.Uuid(), nullable=False)
    op.drop_column('family_access_log', 'purpose_code')
    op.drop_column('family_access_log', 'case_id')
    op.drop_column('family_access_log', 'what')
