"""The hash chain of the staff directory's history (`staff_directory_events`).

The same construction as a case's chain (infra/audit/chain.py): canonical JSON of every stored
column, bound to the previous event's hash under a domain tag of its own, so a directory event
can never pass for a case event. One chain for the whole directory, from a fixed genesis.
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from infra.audit.chain import canonical_row, linked_hash

CHAINED_COLUMNS = (
    "seq",
    "staff_id",
    "action",
    "actor_id",
    "actor_role",
    "source",
    "reason",
    "before",
    "after",
    "occurred_at",
)

_DOMAIN = b"kurator-staff-directory-event:v1\n"
GENESIS_HASH = hashlib.sha256(b"kurator-staff-directory-chain:v1").hexdigest()


def directory_event_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    return linked_hash(_DOMAIN, prev_hash, canonical_row(row, CHAINED_COLUMNS))


def directory_chain_problem(rows: Iterable[Mapping[str, Any]]) -> tuple[int, str] | None:
    """The first event (seq, why) whose link or hash does not hold, rows in seq order; None
    when the whole chain verifies."""
    prev_hash, expected_seq = GENESIS_HASH, 1
    for row in rows:
        if row["seq"] != expected_seq:
            return row["seq"], f"expected event {expected_seq} here (an event is missing)"
        if row["prev_hash"] != prev_hash:
            return row["seq"], "prev_hash does not match the event before it"
        if directory_event_hash(row, prev_hash) != row["hash"]:
            return row["seq"], "the stored hash does not match the event's content"
        prev_hash, expected_seq = row["hash"], expected_seq + 1
    return None
