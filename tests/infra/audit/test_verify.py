"""`kurator audit verify`'s logic: an untouched history verifies clean, and so does one whose
family was erased; every change a superuser can make past the append-only guard (an event
altered, deleted, a whole case deleted or re-chained consistently) is named by case and seq."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from infra.audit import anchor as anchor_module
from infra.audit.anchor import write_anchor
from infra.audit.anchor_keys import SigningKey
from infra.audit.verify import CaseProblem, VerifyResult, verify_database
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.audit import AuditDatabase, add_events, as_superuser, new_case, rechain_case


async def verify(
    db: AuditDatabase,
    key: SigningKey,
    log: Path | None,
    case_id: UUID | None = None,
    jobs: int = 1,
) -> VerifyResult:
    return await asyncio.to_thread(
        verify_database, db.app_url, case_id=case_id, anchor_log=log, key=key.public, jobs=jobs
    )


async def three_anchored_cases(
    db: AuditDatabase, key: SigningKey, log: Path
) -> tuple[UUID, UUID, UUID]:
    data_key = await db.keys.for_owner(SYSTEM_KEY_OWNER)
    cases = (
        await new_case(db.sessions, data_key, 5),
        await new_case(db.sessions, data_key, 5),
        await new_case(db.sessions, data_key, 3),
    )
    written = await write_anchor(db.sessions, log_path=log, key=key)
    assert (written.number, written.cases, written.changed, written.refused) == (1, 3, 3, 0)
    return cases


def only_problem(result: VerifyResult) -> CaseProblem:
    assert result.log_problem is None
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


@pytest.mark.parametrize("jobs", [1, 3])
async def test_an_untouched_history_verifies_clean_and_counts_what_it_checked(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path, jobs: int
) -> None:
    first, _, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    await add_events(audit_db.sessions, data_key, first, [6, 7])  # after the anchor
    result = await verify(audit_db, signing_key, anchor_log, jobs=jobs)
    assert result.clean, result.problems
    assert (result.events, result.cases, result.anchors) == (15, 3, 1)
    assert (result.events_after_anchor, result.cases_unanchored) == (2, 0)
    assert result.events_per_second > 0
    one = await verify(audit_db, signing_key, anchor_log, case_id=first)
    assert one.clean
    assert (one.events, one.cases, one.events_after_anchor) == (7, 1, 2)


async def test_a_second_anchor_holds_only_the_heads_that_moved(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    first, _, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    await add_events(audit_db.sessions, data_key, first, [6])
    fresh = await new_case(audit_db.sessions, data_key, 2)
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.number, written.cases, written.changed, written.refused) == (2, 4, 2, 0)
    lines = (await asyncio.to_thread(anchor_log.read_text)).splitlines()
    assert len(lines) == 2
    assert str(first) in lines[1]
    assert str(fresh) in lines[1]
    result = await verify(audit_db, signing_key, anchor_log)
    assert result.clean
    assert (result.anchors, result.events_after_anchor) == (2, 0)


async def test_an_erased_familys_history_still_verifies(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    family = "family-audit-erased"
    data_key = await audit_db.keys.for_owner(family)
    case_id = await new_case(audit_db.sessions, data_key, 4)
    await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    destroyed = await audit_db.keys.destroy(
        family, staff_id="staff-701", role="ministry", reason="срок хранения истёк"
    )
    assert destroyed
    result = await verify(audit_db, signing_key, anchor_log)
    assert result.clean, result.problems
    assert (result.events, result.cases) == (4, 1)
    assert case_id  # its events are still all there, sealed under a key that is gone


ALTERATIONS: dict[str, str] = {
    "reason": "UPDATE case_events SET reason = 'переписано' WHERE case_id = %(c)s AND seq = 3",
    "data": "UPDATE case_events SET data = '{\"code\": 99}' WHERE case_id = %(c)s AND seq = 3",
    "action": "UPDATE case_events SET action = 'closed' WHERE case_id = %(c)s AND seq = 3",
    "occurred_at": "UPDATE case_events SET occurred_at = occurred_at - interval '1 day' "
    "WHERE case_id = %(c)s AND seq = 3",
}


@pytest.mark.parametrize("column", sorted(ALTERATIONS))
async def test_an_altered_middle_event_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path, column: str
) -> None:
    _, target, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    assert as_superuser(audit_db.owner_url, ALTERATIONS[column], {"c": target}) == 1
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(target), 3)
    assert "content was changed" in problem.problem


def delete_seq(seq: int) -> Callable[[AuditDatabase, UUID], Any]:
    def delete(db: AuditDatabase, case_id: UUID) -> None:
        statement = "DELETE FROM case_events WHERE case_id = %(c)s AND seq = %(s)s"
        assert as_superuser(db.owner_url, statement, {"c": case_id, "s": seq}) == 1

    return delete


async def test_a_deleted_middle_event_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    _, target, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    delete_seq(3)(audit_db, target)
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(target), 4)
    assert "expected event 3 here" in problem.problem


async def test_a_deleted_last_event_is_named_after_the_anchor(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    _, target, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    delete_seq(5)(audit_db, target)
    # Its chain alone still holds: only the anchor knows there was a fifth event.
    chains_only = await asyncio.to_thread(verify_database, audit_db.app_url)
    assert chains_only.clean
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(target), 5)
    assert problem.problem.startswith("deleted after anchor 1")


@pytest.mark.parametrize("jobs", [1, 3])
async def test_a_deleted_whole_case_is_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path, jobs: int
) -> None:
    _, _, target = await three_anchored_cases(audit_db, signing_key, anchor_log)
    statement = "DELETE FROM case_events WHERE case_id = %(c)s"
    assert as_superuser(audit_db.owner_url, statement, {"c": target}) == 3
    heads = "DELETE FROM case_chain_heads WHERE case_id = %(c)s"
    assert as_superuser(audit_db.owner_url, heads, {"c": target}) == 1
    assert (await asyncio.to_thread(verify_database, audit_db.app_url)).clean
    result = await verify(audit_db, signing_key, anchor_log, jobs=jobs)
    problem = only_problem(result)
    assert (problem.case_id, problem.seq) == (str(target), None)
    assert problem.problem.startswith("deleted: anchor 1")
    assert result.cases == 2
    # Asked about that case alone, verify names it too.
    alone = await verify(audit_db, signing_key, anchor_log, case_id=target)
    assert [p.case_id for p in alone.problems] == [str(target)]


async def test_a_case_rechained_consistently_is_named_as_rewritten_after_the_anchor(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    target, _, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    rechain_case(audit_db.owner_url, target, actor_id="staff-999")
    assert (await asyncio.to_thread(verify_database, audit_db.app_url)).clean
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(target), 5)
    assert problem.problem.startswith("rewritten after anchor 1")


async def test_a_rechained_case_is_not_anchored_again_so_it_stays_named(
    audit_db: AuditDatabase, signing_key: SigningKey, anchor_log: Path
) -> None:
    """A forger who rewrites a chain and appends to it hopes the next anchor takes the new
    head: the anchor refuses a head that does not extend the chain anchored before."""
    target, _, _ = await three_anchored_cases(audit_db, signing_key, anchor_log)
    rechain_case(audit_db.owner_url, target, actor_id="staff-999")
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    await add_events(audit_db.sessions, data_key, target, [6])
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.number, written.changed, written.refused) == (2, 0, 1)
    assert written.refused_cases == (str(target),)
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(target), 5)
    assert problem.problem.startswith("rewritten after anchor 1")


async def test_heads_checked_in_many_small_batches_are_each_anchored_or_refused(
    audit_db: AuditDatabase,
    signing_key: SigningKey,
    anchor_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(anchor_module, "STREAM_BATCH", 4)  # cases never split across batches
    first, second, third = await three_anchored_cases(audit_db, signing_key, anchor_log)
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    for case_id in (first, second, third):
        await add_events(audit_db.sessions, data_key, case_id, [6] if case_id != third else [4])
    rechain_case(audit_db.owner_url, second, actor_id="staff-999")
    written = await write_anchor(audit_db.sessions, log_path=anchor_log, key=signing_key)
    assert (written.changed, written.refused, written.refused_cases) == (2, 1, (str(second),))
    problem = only_problem(await verify(audit_db, signing_key, anchor_log))
    assert (problem.case_id, problem.seq) == (str(second), 5)
