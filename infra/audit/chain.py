"""The hash chain of a case's history: what makes the audit trail tamper-evident.

Every event stores the hash of its canonical content and the hash of the event before it (the
first event links to a genesis value derived from the case id), so one chain runs per case.
The content hashed is the row exactly as stored, sealed text included: destroying a family's
key (erasure) changes no stored byte, so an erased family's chain still verifies.

The canonical form is JSON with sorted keys and no spaces, UUIDs as text and times in UTC with
microseconds: what PostgreSQL hands back for a row hashes to what was computed before the
insert, and an auditor can recompute it from an export with nothing but `hashlib` and `json`.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

# Every stored column of an event: what the chain covers.
CHAINED_COLUMNS = (
    "id",
    "case_id",
    "seq",
    "action",
    "actor_id",
    "actor_role",
    "stage_before",
    "stage_after",
    "reason",
    "data",
    "view_changes",
    "occurred_at",
    "recorded_at",
    "idempotency_key",
    "workflow_id",
    "run_id",
)

_EVENT_DOMAIN = b"kurator-case-event:v1\n"
# One encoder for every event: `json.dumps` with options builds a new one each call, and
# `audit verify` hashes millions of events.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an event time must carry its time zone")
        # "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" with the offset as Z: several times faster than
        # the same text through strftime.
        return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    if isinstance(value, UUID):
        return str(value)
    return value


def canonical_row(row: Mapping[str, Any], columns: Iterable[str]) -> bytes:
    """The bytes of a stored row's content a chain hashes: each chained column by name."""
    return _CANONICAL_JSON({name: _plain(row[name]) for name in columns}).encode()


def canonical_event(row: Mapping[str, Any]) -> bytes:
    """The bytes of a case event's content the chain hashes."""
    return canonical_row(row, CHAINED_COLUMNS)


def linked_hash(domain: bytes, prev_hash: str, content: bytes) -> str:
    """A link of a chain: `content` bound to the hash before it, under the chain's own domain
    tag (so a link of one kind of chain never passes for another's)."""
    digest = hashlib.sha256(domain)
    digest.update(prev_hash.encode())
    digest.update(b"\n")
    digest.update(content)
    return digest.hexdigest()


def genesis_hash(case_id: UUID) -> str:
    """What the first event of a case links to."""
    return hashlib.sha256(f"kurator-case-chain:v1:{case_id}".encode()).hexdigest()


def event_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an event: its content bound to the hash of the event before it."""
    return linked_hash(_EVENT_DOMAIN, prev_hash, canonical_event(row))


@dataclass(frozen=True)
class ChainBreak:
    """The first link of a case's chain that does not hold, and why."""

    case_id: UUID
    seq: int
    problem: str


@dataclass(frozen=True)
class ChainHead:
    """A verified chain's last event."""

    case_id: UUID
    seq: int
    hash: str


def check_chain(
    case_id: UUID, rows: Iterable[Mapping[str, Any]]
) -> tuple[ChainHead | None, ChainBreak | None]:
    """Walk a case's events, oldest first: the head of the chain as far as it holds, and the
    first broken link (None when the whole chain holds). A row carries the chained columns and
    `prev_hash` and `hash`."""
    expected_prev = genesis_hash(case_id)
    head: ChainHead | None = None
    expected_seq = 1
    for row in rows:
        seq = row["seq"]
        problem = None
        if row["case_id"] != case_id:
            problem = "belongs to another case"
        elif seq != expected_seq:
            problem = f"expected event {expected_seq} here: events are missing or reordered"
        elif row["prev_hash"] != expected_prev:
            problem = "does not link to the event before it (prev_hash differs)"
        elif row["hash"] != event_hash(row, expected_prev):
            problem = "its content was changed after it was recorded (hash differs)"
        if problem is not None:
            return head, ChainBreak(case_id=case_id, seq=seq, problem=problem)
        head = ChainHead(case_id=case_id, seq=seq, hash=row["hash"])
        expected_prev = row["hash"]
        expected_seq += 1
    return head, None
