"""The case history only grows, tells a new event from a repeated one, and chains each event
to the one before it over the row exactly as stored."""

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from sqlalchemy import text

from infra.audit.chain import check_chain, genesis_hash
from infra.sealing.columns import is_sealed_text
from infra.sealing.family_keys import DataKey, FamilyKeyStore
from models.crud.case_events import HistoryGap, append_events, list_events, lock_case_history
from models.db import SessionFactory
from models.payloads.events import CaseEventDraft, EventOrigin
from models.tables.family_data_key import SYSTEM_KEY_OWNER

ORIGIN = EventOrigin(workflow_id="case-test", run_id="run-1", idempotency_key="key-1")


def draft(case_id: UUID, seq: int, **changes: Any) -> CaseEventDraft:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "seq": seq,
        "action": "signal_received",
        "actor_id": "staff-001",
        "actor_role": "specialist",
        "stage_after": "identified",
        "occurred_at": datetime.now(UTC),
    }
    return CaseEventDraft(**{**fields, **changes})


async def append(
    sessions: SessionFactory,
    key: DataKey,
    drafts: list[CaseEventDraft],
    *,
    view_changes: dict[str, Any] | None = None,
) -> int:
    async with sessions() as session, session.begin():
        await lock_case_history(session, drafts[0].case_id)
        return await append_events(
            session, drafts=drafts, origin=ORIGIN, key=key, view_changes=view_changes
        )


async def stored_rows(sessions: SessionFactory, case_id: UUID) -> list[dict[str, Any]]:
    async with sessions() as session:
        result = await session.exec(  # type: ignore[call-overload]
            text("SELECT * FROM case_events WHERE case_id = :c ORDER BY seq"), params={"c": case_id}
        )
        return [dict(row) for row in result.mappings().all()]


async def test_a_repeated_event_is_recognised_and_not_stored_twice(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    first_draft = draft(uuid4(), 1)
    key = await keys.for_owner(SYSTEM_KEY_OWNER)
    first = await append(sessions, key, [first_draft])
    again = await append(sessions, key, [first_draft])
    async with sessions() as session:
        stored = await list_events(session, case_id=first_draft.case_id, keys=keys)
    assert (first, again) == (1, 0)
    assert [event.seq for event in stored] == [1]


async def test_events_of_successive_steps_form_one_chain_that_verifies(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    case_id = uuid4()
    key = await keys.for_owner(SYSTEM_KEY_OWNER)
    await append(sessions, key, [draft(case_id, 1, reason="первичный сигнал")])
    steps = [draft(case_id, 2, data={"provider": "ГБУ «Центр»"}), draft(case_id, 3)]
    assert await append(sessions, key, steps, view_changes={"stage": "assessment"}) == 2
    rows = await stored_rows(sessions, case_id)
    head, broken = check_chain(case_id, rows)
    assert broken is None
    assert head is not None
    assert (head.seq, head.hash) == (3, rows[-1]["hash"])
    assert rows[0]["prev_hash"] == genesis_hash(case_id)
    assert [row["prev_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]
    # Origin on every event; the state's changes on the step's last one only.
    assert {(r["workflow_id"], r["run_id"], r["idempotency_key"]) for r in rows} == {
        ("case-test", "run-1", "key-1")
    }
    assert [row["view_changes"] for row in rows] == [{}, {}, {"stage": "assessment"}]
    # The chain covers the row as stored: sealed text, not the clear comment.
    assert is_sealed_text(rows[0]["reason"])
    assert is_sealed_text(rows[1]["data"]["provider"])
    async with sessions() as session:
        head_row = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT seq, hash FROM case_chain_heads WHERE case_id = :c"),
                params={"c": case_id},
            )
        ).one()
    assert tuple(head_row) == (3, rows[-1]["hash"])


async def test_a_step_whose_predecessor_is_missing_is_refused(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    case_id = uuid4()
    key = await keys.for_owner(SYSTEM_KEY_OWNER)
    with pytest.raises(HistoryGap):
        await append(sessions, key, [draft(case_id, 2)])
    assert await stored_rows(sessions, case_id) == []


async def test_concurrent_writers_of_one_step_leave_one_chain(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    case_id = uuid4()
    key = await keys.for_owner(SYSTEM_KEY_OWNER)
    await append(sessions, key, [draft(case_id, 1)])
    step = [draft(case_id, 2, reason="повтор"), draft(case_id, 3)]
    written = await asyncio.gather(*(append(sessions, key, step) for _ in range(4)))
    assert sorted(written) == [0, 0, 0, 2]
    rows = await stored_rows(sessions, case_id)
    assert check_chain(case_id, rows)[1] is None
    assert [row["seq"] for row in rows] == [1, 2, 3]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_events SET action = 'rewritten' WHERE case_id = :c",
        "DELETE FROM case_events WHERE case_id = :c",
        "TRUNCATE case_events",
    ],
)
async def test_the_application_may_not_change_or_remove_events(
    sessions: SessionFactory, keys: FamilyKeyStore, statement: str
) -> None:
    case_id = uuid4()
    await append(sessions, await keys.for_owner(SYSTEM_KEY_OWNER), [draft(case_id, 1)])
    async with sessions() as session:
        with pytest.raises(Exception, match="permission denied"):
            await session.exec(text(statement), params={"c": case_id})  # type: ignore[call-overload]
    assert len(await stored_rows(sessions, case_id)) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_events SET action = 'rewritten' WHERE case_id = :c",
        "DELETE FROM case_events WHERE case_id = :c",
        "TRUNCATE case_events",
    ],
)
async def test_even_the_owner_is_refused_by_the_trigger(
    sessions: SessionFactory, keys: FamilyKeyStore, owner_database_url: str, statement: str
) -> None:
    case_id = uuid4()
    await append(sessions, await keys.for_owner(SYSTEM_KEY_OWNER), [draft(case_id, 1)])
    with (
        psycopg.connect(owner_database_url) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        connection.execute(statement.replace(":c", "%(c)s"), {"c": case_id})
    assert len(await stored_rows(sessions, case_id)) == 1
