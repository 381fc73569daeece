"""Case histories for the audit tests, written as the worker writes them (append_events), and
changed as a superuser would change them: with the append-only trigger switched off for the
session (`session_replication_role = replica`)."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg.rows import dict_row

from infra.audit.chain import event_hash, genesis_hash
from infra.db_roles import ensure_app_login, url_as
from infra.migrate import upgrade_to_head
from infra.sealing.family_keys import DataKey, FamilyKeyStore
from models.crud.case_events import append_events, lock_case_history
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.payloads.events import CaseEventDraft, EventOrigin
from tests.conftest import TEST_APP_LOGIN
from tests.support.sealing import test_key_store

ORIGIN = EventOrigin(workflow_id="case-audit-test", run_id="run-1", idempotency_key="key-1")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class AuditDatabase:
    owner_url: str  # a superuser: may bypass the append-only guard
    app_url: str  # a member of kurator_app, as the worker logs in
    sessions: SessionFactory
    keys: FamilyKeyStore


@asynccontextmanager
async def audit_database(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    """`empty_database_url` migrated, with the application's login: a database of the test's
    own (verify reads the whole history, and tamper tests rewrite it as a superuser would:
    neither may see or disturb the shared test database)."""
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    app_url = url_as(empty_database_url, TEST_APP_LOGIN)
    await asyncio.to_thread(ensure_app_login, empty_database_url, app_url)
    engine = make_async_engine(app_url)
    sessions = make_session_factory(engine)
    try:
        yield AuditDatabase(empty_database_url, app_url, sessions, test_key_store(sessions))
    finally:
        await engine.dispose()


def draft(case_id: UUID, seq: int, **changes: Any) -> CaseEventDraft:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "seq": seq,
        "action": "signal_received" if seq == 1 else "note_added",
        "actor_id": "staff-001",
        "actor_role": "specialist",
        "stage_after": "identified",
        "reason": f"комментарий {seq}",
        "data": {"provider": "ГБУ «Центр»", "code": seq},
        "occurred_at": START + timedelta(hours=seq),
    }
    return CaseEventDraft(**{**fields, **changes})


async def add_events(
    sessions: SessionFactory, key: DataKey, case_id: UUID, seqs: Sequence[int]
) -> None:
    """One step recording events `seqs` of the case (sealed with `key`)."""
    async with sessions() as session, session.begin():
        await lock_case_history(session, case_id)
        await append_events(
            session,
            drafts=[draft(case_id, seq) for seq in seqs],
            origin=ORIGIN,
            key=key,
            view_changes={"stage": "identified", "last_seq": seqs[-1]},
        )


async def new_case(sessions: SessionFactory, key: DataKey, events: int = 5) -> UUID:
    """A case of `events` events, recorded one step per event."""
    case_id = uuid4()
    for seq in range(1, events + 1):
        await add_events(sessions, key, case_id, [seq])
    return case_id


def as_superuser(owner_url: str, statement: str, params: dict[str, Any] | None = None) -> int:
    """Run `statement` past the append-only guard; how many rows it touched."""
    with psycopg.connect(owner_url) as connection:
        connection.execute("SET session_replication_role = replica")
        cursor = connection.execute(statement, params or {})
        return cursor.rowcount


def rechain_case(owner_url: str, case_id: UUID, **changes: Any) -> None:
    """Change every event of the case (`changes`: column -> new value) and recompute its whole
    chain, heads table included, so that the chain itself holds: only an anchor can tell."""
    with psycopg.connect(owner_url) as connection:
        connection.execute("SET session_replication_role = replica")
        rows = connection.cursor(row_factory=dict_row).execute(
            "SELECT * FROM case_events WHERE case_id = %s ORDER BY seq", (case_id,)
        )
        prev = genesis_hash(case_id)
        for row in rows.fetchall():
            row = {**row, **changes}
            digest = event_hash(row, prev)
            connection.execute(
                "UPDATE case_events SET "
                + ", ".join(f"{name} = %({name})s" for name in changes)
                + ", prev_hash = %(prev)s, hash = %(hash)s WHERE id = %(id)s",
                {**changes, "prev": prev, "hash": digest, "id": row["id"]},
            )
            prev = digest
        connection.execute(
            "UPDATE case_chain_heads SET hash = %s WHERE case_id = %s", (prev, case_id)
        )
