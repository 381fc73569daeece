"""readable case numbers and their counters (models/tables/case_number.py)

`kurator_app` gets its rights on the new tables from the default privileges of migration 0008.
Cases opened before this migration have no number.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_number_sequences',
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('municipality', 'year')
    )
    op.create_table('case_numbers',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('allocated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('case_id'),
    sa.UniqueConstraint('municipality', 'year', 'seq', name='uq_case_numbers_sequence'),
    sa.UniqueConstraint('number', name='uq_case_numbers_number')
    )


def downgrade() -> None:
    op.drop_table('case_numbers')
    op.drop_table('case_number_sequences')
