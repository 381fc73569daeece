"""`kurator audit verify` checks the staff directory's chain too: clean, then one event
altered by a superuser past the append-only guard, named by its seq."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest_asyncio

from models.crud.staff_changes import ChangedBy, apply_entry
from models.payloads.staff import StaffEntry
from models.payloads.vocabulary import StaffRole
from tests.support.audit import AuditDatabase, as_superuser, audit_database
from tests.workers.conftest import InProcessKurator


@pytest_asyncio.fixture
async def audit_db(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    async with audit_database(empty_database_url) as db:
        yield db


async def test_verify_names_an_altered_directory_event(
    audit_db: AuditDatabase, kurator_in_process: InProcessKurator
) -> None:
    by = ChangedBy("min-1", "ministry", "api", "hired")
    for number, active in ((1, True), (2, True), (1, False)):
        entry = StaffEntry(
            full_name="Тестова Сотрудница",
            role=StaffRole.SPECIALIST,
            municipalities=["berdsk"],
            active=active,
        )
        async with audit_db.sessions() as session, session.begin():
            await apply_entry(session, staff_id=f"s-{number}", entry=entry, by=by)
    env = {"KURATOR_DATABASE_URL": audit_db.app_url}
    kurator = kurator_in_process

    status, output = await asyncio.to_thread(kurator, "audit", "verify", "--chains-only", env=env)
    assert status == 0, output
    assert "staff directory: 3 events, its chain holds" in output

    changed = as_superuser(
        audit_db.owner_url,
        "UPDATE staff_directory_events SET after = jsonb_set(after, '{role}', '\"ministry\"') "
        "WHERE seq = 2",
    )
    assert changed == 1
    status, output = await asyncio.to_thread(
        kurator, "audit", "verify", "--chains-only", "--json", env=env
    )
    assert status == 1, output
    report = json.loads(output.strip().splitlines()[-1])
    # `clean` is the whole verdict: the directory's chain with the cases' (there are none).
    assert report["clean"] is False
    assert report["problems"] == []
    status, output = await asyncio.to_thread(kurator, "audit", "verify", "--chains-only", env=env)
    assert status == 1, output
    assert "BROKEN staff directory event 2: the stored hash does not match" in output
    assert output.strip().endswith(
        "NOT CLEAN: 0 broken cases, the staff directory's chain is broken"
    )
    assert report["staff_directory"] == {
        "events": 3,
        "clean": False,
        "broken_seq": 2,
        "problem": "the stored hash does not match the event's content",
    }
