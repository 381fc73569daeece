"""tamper-evident case history: hash chain, request and workflow ids, state changes, append-only

Each event gains the request it came through (`idempotency_key`), the workflow and run that
recorded it, the fields of the case's state its step changed (`view_changes`), and its place in
the case's hash chain (`prev_hash`, `hash`; infra/audit/chain.py). The events already stored are
chained here as they are, oldest first; they carry no state changes (the state before this
revision was kept only as the latest projection).

Then the table becomes append-only: a trigger refuses UPDATE, DELETE and TRUNCATE whoever asks
(a superuser can still disable it, which is what the chain and the anchors are for), and the
group role `kurator_app`, which the API's and the worker's logins belong to, may only select
and insert events, while keeping ordinary rights on every other table, present and future.
A later migration that must rewrite events disables the trigger explicitly, and says why.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from infra.audit.chain import event_hash, genesis_hash

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = 'kurator_app'
BATCH = 2000

_GUARD_FUNCTION = """
CREATE FUNCTION kurator_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the case history is the audit trail of record (migration 0008)';
END
$$
"""


def upgrade() -> None:
    op.add_column('case_events', sa.Column('idempotency_key', sa.String(length=255), nullable=True))
    op.add_column('case_events', sa.Column('workflow_id', sa.String(length=255), nullable=True))
    op.add_column('case_events', sa.Column('run_id', sa.String(length=64), nullable=True))
    op.add_column('case_events', sa.Column('view_changes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.add_column('case_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('case_events', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table('case_chain_heads',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.execute(
        "UPDATE case_events e SET workflow_id = COALESCE("
        "(SELECT p.workflow_id FROM case_projections p WHERE p.case_id = e.case_id), '')"
    )
    _chain_existing_events()
    for column in ('workflow_id', 'prev_hash', 'hash'):
        op.alter_column('case_events', column, nullable=False)
    op.execute(_GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION kurator_refuse_event_change()"
    )
    op.execute(
        "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION kurator_refuse_event_change()"
    )
    _grant_app_role()


def _chain_existing_events() -> None:
    connection = op.get_bind()
    columns = (
        "id, case_id, seq, action, actor_id, actor_role, stage_before, stage_after, reason, "
        "data, view_changes, occurred_at, recorded_at, idempotency_key, workflow_id, run_id"
    )
    heads: dict[object, tuple[int, str]] = {}
    after: tuple[object, int] | None = None
    while True:
        where = "" if after is None else "WHERE (case_id, seq) > (:case_id, :seq)"
        rows = connection.execute(
            sa.text(f"SELECT {columns} FROM case_events {where} ORDER BY case_id, seq LIMIT :n"),
            {"n": BATCH, **({} if after is None else {"case_id": after[0], "seq": after[1]})},
        ).mappings().all()
        if not rows:
            break
        for row in rows:
            # Chained as stored, gaps and all: verify names what was already wrong.
            prev = heads[row["case_id"]][1] if row["case_id"] in heads else genesis_hash(row["case_id"])
            digest = event_hash(dict(row), prev)
            connection.execute(
                sa.text("UPDATE case_events SET prev_hash = :prev, hash = :hash WHERE id = :id"),
                {"prev": prev, "hash": digest, "id": row["id"]},
            )
            heads[row["case_id"]] = (row["seq"], digest)
        after = (rows[-1]["case_id"], rows[-1]["seq"])
    if heads:
        connection.execute(
            sa.text("INSERT INTO case_chain_heads (case_id, seq, hash) VALUES (:case_id, :seq, :hash)"),
            [{"case_id": case_id, "seq": seq, "hash": digest} for case_id, (seq, digest) in heads.items()],
        )


def _grant_app_role() -> None:
    # Roles belong to the whole cluster: a database administrator may have created it already
    # (deploy/postgres-init.sh does, where the schema's owner may not create roles).
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"CREATE ROLE {APP_ROLE} NOLOGIN; END IF; "
        f"EXECUTE format('GRANT CONNECT ON DATABASE %I TO {APP_ROLE}', current_database()); "
        f"END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # Tables of later migrations, created by this same owner.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON case_events FROM PUBLIC")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON case_events FROM {APP_ROLE}")
    # The schema's version is the migrations' business, not the application's.
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.execute("DROP TRIGGER case_events_no_truncate ON case_events")
    op.execute("DROP TRIGGER case_events_append_only ON case_events")
    op.execute("DROP FUNCTION kurator_refuse_event_change()")
    op.drop_table('case_chain_heads')
    op.drop_column('case_events', 'hash')
    op.drop_column('case_events', 'prev_hash')
    op.drop_column('case_events', 'view_changes')
    op.drop_column('case_events', 'run_id')
    op.drop_column('case_events', 'workflow_id')
    op.drop_column('case_events', 'idempotency_key')
