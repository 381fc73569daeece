"""Writing an anchor: the heads of all case chains, signed, appended to the anchor log, with
the heads of the staff directory's and the resource map's chains (infra/audit/registers.py).

The heads come from `case_chain_heads`, read in one REPEATABLE READ snapshot with the events
that follow each case's last anchored head. That table is a convenience, not evidence: a head
that moved is anchored only if the stored events from the head anchored before up to it form a
valid chain (each recomputed, each linked to the one before). So an anchor only ever extends
what was anchored before it, and `kurator audit verify` need only check each case's newest
anchored head: a chain holding it holds every earlier one.
"""

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text

from infra.audit.anchor_keys import SigningKey
from infra.audit.anchor_log import AnchoredHead, AnchorLogError, new_entry_line, open_locked
from infra.audit.chain import CHAINED_COLUMNS, event_hash, genesis_hash
from infra.audit.registers import RESOURCE_ROWS, STAFF_ROWS, judge_all, register_chains
from infra.logs import get_logger
from models.db import SessionFactory
from models.payloads.audit_anchor import AnchorWritten

log = get_logger(__name__)

REFUSED_CASES_REPORTED = 20
STREAM_BATCH = 5000
_TEXT_COLUMNS = {"id", "case_id"}  # read as text: the canonical form is the same, and cheaper
EVENT_COLUMNS = ", ".join(
    f"e.{name}::text AS {name}" if name in _TEXT_COLUMNS else f"e.{name}"
    for name in (*CHAINED_COLUMNS, "prev_hash", "hash")
)
_HEADS = text("SELECT case_id::text AS case_id, seq, hash FROM case_chain_heads")
# The events of the moved cases from their last anchored head on (from 1 for new cases).
_FOLLOWING = text(
    f"SELECT {EVENT_COLUMNS} FROM case_events e "
    "JOIN unnest(CAST(:case_ids AS uuid[]), CAST(:from_seqs AS integer[])) AS m(case_id, from_seq) "
    "ON e.case_id = m.case_id AND e.seq >= m.from_seq "
    "ORDER BY e.case_id, e.seq"
)

Head = tuple[int, str]


def extends(
    case_id: str, anchored: AnchoredHead | None, rows: Sequence[Mapping[str, Any]], head: Head
) -> bool:
    """Whether `rows` (the case's events from its anchored head on, oldest first) lead by valid
    links from that anchored head (or from the genesis) to `head`."""
    expected_seq, prev = 1, genesis_hash(UUID(case_id))
    remaining = list(rows)
    if anchored is not None:
        if not remaining or remaining[0]["seq"] != anchored.seq:
            return False
        if remaining[0]["hash"] != anchored.hash:
            return False
        expected_seq, prev = anchored.seq + 1, anchored.hash
        remaining = remaining[1:]
    for row in remaining:
        if row["seq"] > head[0]:
            break
        if row["seq"] != expected_seq or row["prev_hash"] != prev:
            return False
        if row["hash"] != event_hash(row, prev):
            return False
        prev, expected_seq = row["hash"], expected_seq + 1
    return (expected_seq - 1, prev) == head


def _settle(
    cases: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    anchored: Mapping[str, AnchoredHead],
    candidates: Mapping[str, Head],
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """Of these cases (each with its events from its anchored head on), those whose head may
    be anchored, and those refused."""
    moved: list[tuple[str, int, str]] = []
    refused: list[str] = []
    for case_id, rows in cases:
        head = candidates[case_id]
        if extends(case_id, anchored.get(case_id), rows, head):
            moved.append((case_id, *head))
        else:
            refused.append(case_id)
    return moved, refused


async def moved_heads(
    sessions: SessionFactory, anchored: Mapping[str, AnchoredHead]
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The heads that moved forward along a valid chain since they were anchored (and those
    of new cases), and the cases whose head moved otherwise (refused)."""
    async with sessions() as session:
        connection = await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        candidates: dict[str, Head] = {}
        refused: list[str] = []
        for case_id, seq, digest in (await connection.execute(_HEADS)).all():
            before = anchored.get(case_id)
            if before is None or seq > before.seq:
                candidates[case_id] = (seq, digest)
            elif (seq, digest) != (before.seq, before.hash):
                refused.append(case_id)  # went back, or the same event with another hash
        moved: list[tuple[str, int, str]] = []
        if candidates:
            ordered = sorted(candidates)
            from_seqs = [anchored[c].seq if c in anchored else 1 for c in ordered]
            result = await connection.stream(
                _FOLLOWING.execution_options(yield_per=STREAM_BATCH),
                {"case_ids": ordered, "from_seqs": from_seqs},
            )
            # Whole cases, a batch at a time, checked off the event loop: a first anchor of a
            # large history hashes every event, and the worker's other activities must go on.
            pending: list[tuple[str, list[Any]]] = []  # (case id, its RowMappings)
            pending_rows = 0
            seen: set[str] = set()

            async def settle() -> None:
                nonlocal pending, pending_rows
                if pending:
                    batch = await asyncio.to_thread(_settle, pending, anchored, candidates)
                    moved.extend(batch[0])
                    refused.extend(batch[1])
                pending, pending_rows = [], 0

            async for row in result.mappings():
                if not pending or pending[-1][0] != row["case_id"]:
                    if pending_rows >= STREAM_BATCH:
                        await settle()
                    pending.append((row["case_id"], []))
                    seen.add(row["case_id"])
                pending[-1][1].append(row)
                pending_rows += 1
            await settle()
            refused.extend(case_id for case_id in ordered if case_id not in seen)
        staff = [dict(row) for row in (await connection.execute(text(STAFF_ROWS))).mappings()]
        resources = [
            dict(row) for row in (await connection.execute(text(RESOURCE_ROWS))).mappings()
        ]
        await session.rollback()
    # The staff directory's and the resource map's chains, anchored beside the cases'.
    for register in judge_all(register_chains(staff, resources), anchored):
        before = anchored.get(register.key)
        if register.problem is not None:
            refused.append(register.key)
        elif register.head is not None and (before is None or register.head[0] > before.seq):
            moved.append((register.key, *register.head))
    return moved, sorted(refused)


async def write_anchor(
    sessions: SessionFactory, *, log_path: Path, key: SigningKey, now: datetime | None = None
) -> AnchorWritten:
    """Append the next anchor to the log at `log_path`, signed with `key`. Raises
    AnchorLogError when the log does not verify with `key` (it is never extended then: a broken
    log is for a person to look at)."""
    anchored_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    anchor_log = await asyncio.to_thread(open_locked, log_path)
    try:
        replay = await asyncio.to_thread(anchor_log.replay, key.public)
        if replay.problem is not None:
            raise AnchorLogError(f"the anchor log {log_path} does not verify: {replay.problem}")
        moved, refused = await moved_heads(sessions, replay.heads)
        line, heads = new_entry_line(replay, moved, anchored_at=anchored_at, key=key)
        await asyncio.to_thread(anchor_log.append, line)
    finally:
        anchor_log.close()
    written = AnchorWritten(
        number=replay.anchors + 1,
        anchored_at=anchored_at,
        cases=len(heads),
        changed=len(moved),
        refused=len(refused),
        refused_cases=tuple(refused[:REFUSED_CASES_REPORTED]),
    )
    if refused:
        log.warning(
            "audit anchor: chain heads that do not extend their anchored chain were not anchored",
            refused=len(refused),
            first_cases=list(written.refused_cases),
        )
    log.info("audit anchor written", number=written.number, cases=written.cases, changed=len(moved))
    return written
