"""The staff directory's and the resource map's chains are anchored with the cases'
(infra/audit/registers.py): what their chains alone cannot show, their last changes deleted
or a whole entry's history removed, `verify` names against the anchor; an untouched database
verifies clean, and a rewritten register is not anchored again."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from infra.audit.anchor import write_anchor
from infra.audit.anchor_keys import SigningKey
from infra.audit.anchor_log import replay_file
from infra.audit.registers import RESOURCE_PREFIX, STAFF_DIRECTORY, RegisterVerdict
from infra.audit.verify import VerifyResult, verify_database
from models.crud.resource_map import Editor, confirm_provider, create_provider, locked
from models.crud.staff_changes import ChangedBy, apply_entry
from models.payloads.resources import ProviderFields
from models.payloads.staff import StaffEntry
from models.payloads.vocabulary import StaffRole
from tests.support.audit import AuditDatabase, as_superuser
from tests.support.resources import provider_body

MINISTRY = ChangedBy("min-anchor-1", "ministry", "api", "hired")
EDITOR = Editor(staff_id="min-anchor-1", role=StaffRole.MINISTRY)


async def _registers(db: AuditDatabase) -> str:
    """Three directory changes and an entry of the map with two changes; the entry's key."""
    for number, active in ((1, True), (2, True), (1, False)):
        entry = StaffEntry(
            full_name="Тестова Сотрудница",
            role=StaffRole.SPECIALIST,
            municipalities=["berdsk"],
            active=active,
        )
        async with db.sessions() as session, session.begin():
            await apply_entry(session, staff_id=f"s-{number}", entry=entry, by=MINISTRY)
    async with db.sessions() as session, session.begin():
        row = await create_provider(
            session,
            fields=ProviderFields.model_validate(provider_body("berdsk")),
            editor=EDITOR,
            now=datetime.now(UTC),
        )
    async with db.sessions() as session, session.begin():
        found = await locked(session, row.id)
        assert found is not None
        await confirm_provider(session, found, editor=EDITOR, now=datetime.now(UTC))
    return f"{RESOURCE_PREFIX}{row.id}"


async def _verify(db: AuditDatabase, key: SigningKey, log: Path) -> VerifyResult:
    return await asyncio.to_thread(verify_database, db.app_url, anchor_log=log, key=key.public)


def _broken(result: VerifyResult) -> dict[str, RegisterVerdict]:
    return {r.key: r for r in result.registers if r.problem is not None}


async def test_registers_are_anchored_and_verify_clean(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    entry = await _registers(audit_db)
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.changed, written.refused) == (2, 0)
    heads = replay_file(anchor_log, signing_key.public).heads
    assert (heads[STAFF_DIRECTORY].seq, heads[entry].seq) == (3, 2)
    result = await _verify(audit_db, signing_key, anchor_log)
    assert result.clean, result.registers
    assert {r.key: r.events for r in result.registers} == {STAFF_DIRECTORY: 3, entry: 2}
    # Nothing moved: the next anchor changes nothing.
    again = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (again.changed, again.refused) == (0, 0)


async def test_deleted_last_changes_and_a_deleted_entry_history_are_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    entry = await _registers(audit_db)
    await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    # Both chains alone still hold after their last changes go: only the anchor knows.
    as_superuser(audit_db.owner_url, "DELETE FROM staff_directory_events WHERE seq = 3")
    as_superuser(audit_db.owner_url, "DELETE FROM resource_changes")
    chains_only = await asyncio.to_thread(verify_database, audit_db.app_url)
    assert chains_only.clean, chains_only.registers
    result = await _verify(audit_db, signing_key, anchor_log)
    assert not result.clean
    broken = _broken(result)
    assert set(broken) == {STAFF_DIRECTORY, entry}
    directory = broken[STAFF_DIRECTORY].problem
    assert directory is not None
    assert directory.startswith("deleted after anchor 1: it recorded the chain up to event 3")
    whole = broken[entry].problem
    assert whole is not None
    assert whole.endswith("and no event of it is stored")
    # A register that no longer extends what was anchored is refused, never re-anchored.
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.changed, written.refused) == (0, 2)
    assert not (await _verify(audit_db, signing_key, anchor_log)).clean


async def test_an_altered_directory_change_is_refused_by_the_next_anchor(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    await _registers(audit_db)
    as_superuser(
        audit_db.owner_url,
        "UPDATE staff_directory_events SET reason = 'rewritten' WHERE seq = 2",
    )
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.changed, written.refused) == (1, 1)  # the entry's chain; not the directory
    assert STAFF_DIRECTORY not in replay_file(anchor_log, signing_key.public).heads
    broken = _broken(await _verify(audit_db, signing_key, anchor_log))
    assert broken[STAFF_DIRECTORY].broken_seq == 2
