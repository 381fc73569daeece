"""deliveries of the notifications outbox (models/tables/delivery.py)

`kurator_app` gets its rights on the new table from the default privileges of migration 0008.
Written beside the directory's 0013: it revises 0012 on its branch; the merge re-points it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('notification_id', sa.Uuid(), nullable=True),
    sa.Column('digest_day', sa.Date(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient_staff_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'dead')", name='ck_deliveries_state'),
    sa.CheckConstraint("channel IN ('email', 'inbox')", name='ck_deliveries_channel'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_deliveries_idempotency_key')
    )
    op.create_index('ix_deliveries_due', 'deliveries', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state IN ('pending', 'failed', 'sending')"))
    op.create_index('ix_deliveries_case', 'deliveries', ['case_id'], unique=False)
    op.create_index('ix_deliveries_recipient', 'deliveries', ['recipient_staff_id', 'channel', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deliveries_recipient', table_name='deliveries')
    op.drop_index('ix_deliveries_case', table_name='deliveries')
    op.drop_index('ix_deliveries_due', table_name='deliveries', postgresql_where=sa.text("state IN ('pending', 'failed', 'sending')"))
    op.drop_table('deliveries')
