"""sealed personal data: family records, comments and providers

`families.record` (clear JSON) becomes `sealed_record` (bytea) under `record_key_id`, and
`case_events.reason` becomes text, long enough for a sealed comment. The rows already stored
are sealed here, each with its family's data key (created as the key store creates one when
the family has none yet), so no clear copy survives the upgrade: `families.record`, the
comments in `case_events.reason`, and the free text inside `case_events.data` and
`case_projections.view` (models.payloads.fields.FREE_TEXT_KEYS).

Unlike the territory of 0003, the sealing helpers are imported, not written out: the values
must be exactly what the application opens. Sealing needs the master key: the key file
`upgrade_to_head` is given, else KURATOR_MASTER_KEY_FILE; with rows to seal and neither, the
migration stops and says so (an empty database needs no key).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000
"""

import asyncio
import json
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from infra.sealing.aead import new_key
from infra.sealing.columns import has_free_text, seal_bytes, seal_free_text
from infra.sealing.family_keys import DataKey, wrapping_context
from infra.sealing.master_keys import MasterKeyring, read_key_file
from models.crud.case_events import sealed_event_row
from models.crud.case_projections import view_field
from models.crud.families import record_field
from models.settings import ENV_PREFIX, SettingsError, get_settings
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from workflows.ids import family_key_of

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
T = TypeVar("T")


def upgrade() -> None:
    op.add_column('families', sa.Column('sealed_record', sa.LargeBinary(), nullable=True))
    op.add_column('families', sa.Column('record_key_id', sa.Uuid(), nullable=True))
    op.alter_column(
        'case_events', 'reason',
        existing_type=sa.String(length=2000), type_=sa.Text(), existing_nullable=True,
    )  # fmt: skip
    keys = _MigrationKeys(op.get_bind())
    _seal_families(keys)
    _seal_events(keys)
    _seal_projections(keys)
    op.alter_column('families', 'sealed_record', nullable=False)
    op.alter_column('families', 'record_key_id', nullable=False)
    op.create_foreign_key(
        'fk_families_record_key', 'families', 'family_data_keys', ['record_key_id'], ['key_id']
    )
    op.drop_column('families', 'record')


def downgrade() -> None:
    # Unsealing would write every family's personal data back in clear: refused once there is
    # any. An empty database goes back.
    bind = op.get_bind()
    for table in ('families', 'case_events', 'case_projections'):
        if bind.execute(sa.text(f"SELECT EXISTS (SELECT FROM {table})")).scalar():
            raise RuntimeError(
                f"migration 0006 cannot be undone with rows in {table}: that would store "
                "sealed personal data in clear again"
            )
    op.add_column(
        'families',
        sa.Column('record', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    )
    op.drop_constraint('fk_families_record_key', 'families', type_='foreignkey')
    op.drop_column('families', 'record_key_id')
    op.drop_column('families', 'sealed_record')
    op.alter_column(
        'case_events', 'reason',
        existing_type=sa.Text(), type_=sa.String(length=2000), existing_nullable=True,
    )  # fmt: skip


def _blocking(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` from this synchronous migration, which may itself run inside an event loop
    (`kurator dev`): in a thread of its own, with a loop of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def _master_key_file() -> Path:
    given = context.config.attributes.get("master_key_file")
    configured = given if given is not None else get_settings().master_key_file
    if configured is None:
        raise SettingsError(
            "migration 0006 seals the family records and comments already stored with their "
            f"families' keys, which needs the master key: set {ENV_PREFIX}MASTER_KEY_FILE to "
            "the key file the API and the worker use"
        )
    return Path(configured)


class _MigrationKeys:
    """Each family's data key, in the key store's format, in the migration's transaction: the
    family's existing key, else a new one wrapped by the current master key. The master key
    file is read only when there is something to seal."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._master: MasterKeyring | None = None
        self._by_owner: dict[str, DataKey] = {}

    def for_owner(self, owner: str) -> DataKey:
        known = self._by_owner.get(owner)
        if known is None:
            known = self._by_owner[owner] = self._load_or_create(owner)
        return known

    def _keyring(self) -> MasterKeyring:
        if self._master is None:
            self._master = read_key_file(_master_key_file())
        return self._master

    def _load_or_create(self, owner: str) -> DataKey:
        stored = self._connection.execute(
            sa.text(
                "SELECT key_id, wrapped, master_key_id FROM family_data_keys "
                "WHERE family_key = :owner"
            ),
            {"owner": owner},
        ).first()
        master = self._keyring()
        if stored is None:
            key_id, secret = uuid.uuid4(), new_key()
            wrapped = _blocking(
                master.current.wrap(secret, associated_data=wrapping_context(key_id, owner))
            )
            self._connection.execute(
                sa.text(
                    "INSERT INTO family_data_keys (key_id, family_key, wrapped, master_key_id) "
                    "VALUES (:key_id, :owner, :wrapped, :master_key_id)"
                ),
                {
                    "key_id": key_id,
                    "owner": owner,
                    "wrapped": wrapped,
                    "master_key_id": master.current.key_id,
                },
            )
            return DataKey(key_id, owner, secret)
        key_id, wrapped, master_key_id = stored
        if wrapped is None:
            # The family was erased already: what is left of it in clear is sealed under a
            # throwaway key, so it reads as erased, as everything else of the family does.
            return DataKey(key_id, owner, new_key())
        secret = _blocking(
            master.unwrap(master_key_id, wrapped, associated_data=wrapping_context(key_id, owner))
        )
        return DataKey(key_id, owner, secret)


def _owner_of_case_workflow(workflow_id: str | None) -> str:
    family = None if workflow_id is None else family_key_of(workflow_id)
    return SYSTEM_KEY_OWNER if family is None else family


def _after(column: str) -> str:
    return f"(CAST(:after AS uuid) IS NULL OR {column} > CAST(:after AS uuid))"


def _batches(connection: Connection, query: str) -> Iterator[Sequence[Any]]:
    """Rows of `query` (which selects `id` first and takes `:after` and `:limit`), in batches
    ordered by id."""
    after: Any = None
    while True:
        rows = connection.execute(sa.text(query), {"after": after, "limit": BATCH}).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _seal_families(keys: _MigrationKeys) -> None:
    connection = op.get_bind()
    query = (
        "SELECT id, family_key, record FROM families "
        f"WHERE {_after('id')} ORDER BY id LIMIT :limit"
    )
    for rows in _batches(connection, query):
        updates = []
        for family_id, family_key, record in rows:
            key = keys.for_owner(family_key)
            sealed = seal_bytes(key, json.dumps(record).encode(), field=record_field(family_key))
            updates.append({"id": family_id, "sealed": sealed, "key_id": key.key_id})
        connection.execute(
            sa.text(
                "UPDATE families SET sealed_record = :sealed, record_key_id = :key_id "
                "WHERE id = :id"
            ),
            updates,
        )


def _seal_events(keys: _MigrationKeys) -> None:
    connection = op.get_bind()
    query = (
        "SELECT e.id, e.case_id, e.seq, e.reason, e.data, p.workflow_id FROM case_events e "
        "LEFT JOIN case_projections p ON p.case_id = e.case_id "
        f"WHERE {_after('e.id')} ORDER BY e.id LIMIT :limit"
    )
    for rows in _batches(connection, query):
        updates = []
        for event_id, case_id, seq, reason, data, workflow_id in rows:
            if reason is None and not has_free_text(data):
                continue  # nothing free-text in this event: no key is needed
            key = keys.for_owner(_owner_of_case_workflow(workflow_id))
            # Sealed exactly as the worker seals a new event (models/crud/case_events.py).
            row = sealed_event_row(key, {"case_id": case_id, "seq": seq, "reason": reason, "data": data})
            updates.append({"id": event_id, "reason": row["reason"], "data": json.dumps(row["data"])})
        if updates:
            connection.execute(
                sa.text(
                    "UPDATE case_events SET reason = :reason, data = CAST(:data AS jsonb) "
                    "WHERE id = :id"
                ),
                updates,
            )


def _seal_projections(keys: _MigrationKeys) -> None:
    connection = op.get_bind()
    query = (
        "SELECT case_id, workflow_id, view FROM case_projections "
        f"WHERE {_after('case_id')} ORDER BY case_id LIMIT :limit"
    )
    for rows in _batches(connection, query):
        updates = []
        for case_id, workflow_id, view in rows:
            sealed = _sealed_if_any(view, keys, workflow_id, view_field(case_id))
            if sealed is not None:
                updates.append({"case_id": case_id, "view": json.dumps(sealed)})
        if updates:
            connection.execute(
                sa.text(
                    "UPDATE case_projections SET view = CAST(:view AS jsonb) "
                    "WHERE case_id = :case_id"
                ),
                updates,
            )


def _sealed_if_any(
    data: Any, keys: _MigrationKeys, workflow_id: str | None, field: str
) -> Any | None:
    """`data` with its free text sealed, or None when it has none (no key is needed then)."""
    if not has_free_text(data):
        return None
    key = keys.for_owner(_owner_of_case_workflow(workflow_id))
    return seal_free_text(key, data, field=field)
