"""The hash chain of an entry's history in the resource map: each change stores the hash of
its content bound to the hash of the change before it (the first links to a genesis value
derived from the entry's id), as the case history does (infra/audit/chain.py), so an edited or
removed change shows when the chain is walked.

Canonical form: JSON, keys sorted, no spaces, UUIDs as text, times in UTC with microseconds.
"""

import hashlib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from infra.audit.chain import canonical_row, linked_hash

CHAINED_COLUMNS = (
    "id",
    "provider_id",
    "seq",
    "action",
    "actor_id",
    "actor_role",
    "reason",
    "changes",
    "occurred_at",
)
_DOMAIN = b"kurator-resource-change:v1\n"


class ResourceAction(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    CONFIRMED = "confirmed"  # still true as it stands (актуализирована)
    DEACTIVATED = "deactivated"


def genesis_hash(provider_id: UUID) -> str:
    return hashlib.sha256(f"kurator-resource-chain:v1:{provider_id}".encode()).hexdigest()


def change_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    return linked_hash(_DOMAIN, prev_hash, canonical_row(row, CHAINED_COLUMNS))


def first_broken(provider_id: UUID, rows: Iterable[Mapping[str, Any]]) -> int | None:
    """The seq of the first change whose link or content does not hold, oldest first; None
    when the whole chain holds."""
    expected_prev, expected_seq = genesis_hash(provider_id), 1
    for row in rows:
        if (
            row["seq"] != expected_seq
            or row["prev_hash"] != expected_prev
            or row["hash"] != change_hash(row, expected_prev)
        ):
            return int(row["seq"])
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    return None
