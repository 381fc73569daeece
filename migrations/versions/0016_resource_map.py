"""the resource map (карта ресурсов территории) and its append-only, hash-chained history

`resource_providers` holds the map's entries; `resource_changes` every change to them (who,
what, when, why), each chained to the entry's previous change (models/resource_map/
history_chain.py). Like `case_events` (migration 0008), the history refuses UPDATE, DELETE and
TRUNCATE to everyone through a trigger, and `kurator_app` (which gets its rights on new tables
from the default privileges of 0008) loses those rights on it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = 'kurator_app'

_GUARD_FUNCTION = """
CREATE FUNCTION kurator_refuse_resource_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'resource_changes is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the resource map''s history is its audit trail (migration 0016)';
END
$$
"""

_KINDS = ("state_centre", "municipal_centre", "ngo", "employment_centre", "clinic", "school",
          "commission_on_minors", "other")


def upgrade() -> None:
    op.create_table('resource_providers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('municipality', sa.String(length=32), nullable=False),
    sa.Column('served_municipalities', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('services', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('channels', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('capacity_unit', sa.String(length=16), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_address', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('capacity >= 0', name='ck_resource_providers_capacity'),
    sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in _KINDS) + ")", name='ck_resource_providers_kind'),
    sa.CheckConstraint("capacity_unit IN ('places', 'hours_a_month')", name='ck_resource_providers_unit'),
    sa.ForeignKeyConstraint(['municipality'], ['municipalities.code']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('municipality', 'name', name='uq_resource_providers_name')
    )
    op.create_index('ix_resource_providers_served', 'resource_providers', ['served_municipalities'], unique=False, postgresql_using='gin', postgresql_where=sa.text('active'))
    op.create_index('ix_resource_providers_confirmed', 'resource_providers', ['last_confirmed_at'], unique=False, postgresql_where=sa.text('active'))
    op.create_table('resource_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['resource_providers.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_id', 'seq', name='uq_resource_changes_seq')
    )
    op.execute(_GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER resource_changes_append_only BEFORE UPDATE OR DELETE ON resource_changes "
        "FOR EACH ROW EXECUTE FUNCTION kurator_refuse_resource_change()"
    )
    op.execute(
        "CREATE TRIGGER resource_changes_no_truncate BEFORE TRUNCATE ON resource_changes "
        "FOR EACH STATEMENT EXECUTE FUNCTION kurator_refuse_resource_change()"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON resource_changes FROM PUBLIC")
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"REVOKE UPDATE, DELETE, TRUNCATE ON resource_changes FROM {APP_ROLE}; END IF; END $$"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER resource_changes_no_truncate ON resource_changes")
    op.execute("DROP TRIGGER resource_changes_append_only ON resource_changes")
    op.execute("DROP FUNCTION kurator_refuse_resource_change()")
    op.drop_table('resource_changes')
    op.drop_index('ix_resource_providers_confirmed', table_name='resource_providers', postgresql_where=sa.text('active'))
    op.drop_index('ix_resource_providers_served', table_name='resource_providers', postgresql_using='gin', postgresql_where=sa.text('active'))
    op.drop_table('resource_providers')
