"""The anchor log itself: a line edited, dropped, reordered, re-signed with another key or cut
short makes verify fail naming the line, and the writer refuses to extend such a log."""

import asyncio
import base64
import json
from pathlib import Path

import pytest

from infra.audit.anchor import write_anchor
from infra.audit.anchor_keys import SigningKey, write_new_signing_key
from infra.audit.anchor_log import SIGNED_PREFIX, AnchorLogError, canonical
from infra.audit.verify import verify_database
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.audit import AuditDatabase, add_events, new_case


async def three_anchors(db: AuditDatabase, key: SigningKey, log: Path) -> list[str]:
    """Three anchors, each over a case that moved; the log's lines."""
    data_key = await db.keys.for_owner(SYSTEM_KEY_OWNER)
    case_id = await new_case(db.sessions, data_key, 2)
    await write_anchor(db.sessions, log_path=log, key=key)
    await add_events(db.sessions, data_key, case_id, [3])
    await write_anchor(db.sessions, log_path=log, key=key)
    await new_case(db.sessions, data_key, 1)
    await write_anchor(db.sessions, log_path=log, key=key)
    return (await asyncio.to_thread(log.read_text)).splitlines(keepends=True)


async def log_problem(db: AuditDatabase, key: SigningKey, log: Path, lines: list[str]) -> str:
    await asyncio.to_thread(log.write_text, "".join(lines))
    result = await asyncio.to_thread(verify_database, db.app_url, anchor_log=log, key=key.public)
    assert not result.clean
    assert result.problems == []  # the history itself is untouched
    assert result.log_problem is not None
    return result.log_problem


def edited(line: str, **changes: object) -> str:
    entry = json.loads(line)
    entry.update(changes)
    return canonical(entry).decode() + "\n"


async def test_an_untouched_log_of_three_anchors_verifies(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    assert len(lines) == 3
    result = await asyncio.to_thread(
        verify_database, audit_db.app_url, anchor_log=anchor_log, key=signing_key.public
    )
    assert result.clean
    assert (result.anchors, result.cases, result.events) == (3, 2, 4)
    assert result.last_anchored_at == json.loads(lines[2])["anchored_at"]


async def test_an_edited_line_fails_its_signature(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    entry = json.loads(lines[1])
    case_id, seq, _ = entry["changed"][0]
    lines[1] = edited(lines[1], changed=[[case_id, seq - 1, "0" * 64]])
    problem = await log_problem(audit_db, signing_key, anchor_log, lines)
    assert problem.startswith("line 2 has a signature that does not verify")


async def test_a_dropped_line_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    problem = await log_problem(audit_db, signing_key, anchor_log, [lines[0], lines[2]])
    assert problem == "line 2 is anchor 3, expected anchor 2: anchors are missing"


async def test_lines_swapped_are_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    problem = await log_problem(audit_db, signing_key, anchor_log, [lines[1], lines[0], lines[2]])
    assert problem.startswith("line 1 is anchor 2, expected anchor 1")


async def test_a_line_signed_by_another_key_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path, tmp_path: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    forger = write_new_signing_key(tmp_path / "forger.pem")
    entry = json.loads(lines[2])
    del entry["signature"]
    entry["key_id"] = forger.public.key_id
    signature = forger.sign(SIGNED_PREFIX + canonical(entry))
    lines[2] = edited(
        lines[2], key_id=forger.public.key_id, signature=base64.b64encode(signature).decode()
    )
    problem = await log_problem(audit_db, signing_key, anchor_log, lines)
    assert problem.startswith(f"line 3 is signed by key {forger.public.key_id}")


async def test_a_bad_signature_under_the_right_key_id_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    lines[0] = edited(lines[0], signature=base64.b64encode(b"\0" * 64).decode())
    problem = await log_problem(audit_db, signing_key, anchor_log, lines)
    assert problem.startswith("line 1 has a signature that does not verify")


async def test_a_line_cut_short_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    lines[2] = lines[2][:40]
    problem = await log_problem(audit_db, signing_key, anchor_log, lines)
    assert problem.startswith("line 3 is incomplete")


async def test_a_missing_log_is_a_problem(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    result = await asyncio.to_thread(
        verify_database, audit_db.app_url, anchor_log=anchor_log, key=signing_key.public
    )
    assert result.log_problem == f"the anchor log {anchor_log} does not exist"
    assert not result.clean


async def test_the_writer_refuses_to_extend_a_broken_log(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    lines = await three_anchors(audit_db, signing_key, anchor_log)
    await asyncio.to_thread(anchor_log.write_text, lines[0] + lines[2])
    with pytest.raises(AnchorLogError, match="does not verify: line 2 is anchor 3"):
        await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (await asyncio.to_thread(anchor_log.read_text)) == lines[0] + lines[2]


async def test_a_log_verifies_only_with_its_own_key(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path, tmp_path: Path
) -> None:
    await three_anchors(audit_db, signing_key, anchor_log)
    other = write_new_signing_key(tmp_path / "other.pem")
    result = await asyncio.to_thread(
        verify_database, audit_db.app_url, anchor_log=anchor_log, key=other.public
    )
    assert result.log_problem is not None
    assert result.log_problem.startswith(f"line 1 is signed by key {signing_key.public.key_id}")
