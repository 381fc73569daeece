"""the staff directory's history (models/tables/staff_directory_event.py), append-only

Like `case_events` (migration 0008): a trigger refuses UPDATE, DELETE and TRUNCATE whoever
asks, and `kurator_app` (which gets its rights on the new table from the default privileges of
0008) loses them as well, so the application may only read and append the history.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = 'kurator_app'

_GUARD_FUNCTION = """
CREATE FUNCTION kurator_refuse_staff_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_directory_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the staff directory''s history is an audit trail (migration 0013)';
END
$$
"""


def upgrade() -> None:
    op.create_table('staff_directory_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index(op.f('ix_staff_directory_events_staff_id'), 'staff_directory_events', ['staff_id'], unique=False)
    op.execute(_GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER staff_directory_events_append_only BEFORE UPDATE OR DELETE "
        "ON staff_directory_events FOR EACH ROW EXECUTE FUNCTION kurator_refuse_staff_event_change()"
    )
    op.execute(
        "CREATE TRIGGER staff_directory_events_no_truncate BEFORE TRUNCATE "
        "ON staff_directory_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION kurator_refuse_staff_event_change()"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON staff_directory_events FROM PUBLIC")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON staff_directory_events FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP TRIGGER staff_directory_events_no_truncate ON staff_directory_events")
    op.execute("DROP TRIGGER staff_directory_events_append_only ON staff_directory_events")
    op.execute("DROP FUNCTION kurator_refuse_staff_event_change()")
    op.drop_index(op.f('ix_staff_directory_events_staff_id'), table_name='staff_directory_events')
    op.drop_table('staff_directory_events')
