"""The records of an audit export, shared by the API that writes them and
`kurator audit verify-export`, which checks them offline.

A JSON-lines export is, in order, per case (cases by id, each case's events by seq):

- one `event` record per event: its columns in clear, the opened text (`reason`, `data`,
  `view_changes`) for a person to read, and under `stored` those three exactly as stored
  (sealed), which is what the chain hashes (infra/audit/chain.py). An event with no sealed
  text reads as it is stored: its `stored` is null, and its readable columns are the stored
  ones (in CSV, its stored cells are empty);
- one `case` record after the case's last exported event: the first and last seq exported,
  how many, the `prev_hash` before the first, the hash of the last, and the case's chain head
  when the export was made;
- then, if the case has a social contract (a chain of its own, keyed by the contract's id,
  which its events' `case_id` holds), the contract's `event` records and a `social_contract`
  record, as a case record but naming `contract_id` and the `case_id` it belongs to;

Every event record names its chain: `chain` is `case` or `social_contract`.

and, as the last line, the `manifest`: the scope (the case, or the municipality and period),
when and by whom it was generated, the counts (`events` counts both kinds of chain), and a
digest of the case and social_contract records in order (each carrying its chain's head), so
that a dropped or altered one, or a cut-off file, shows.

Times are written as the chain hashes them (UTC, microseconds, `Z`), and ids as text: an
event record's stored row hashes to its `hash` with nothing but `hashlib` and `json`.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

EXPORT_FORMAT = "kurator-audit-export:v1"
EVENT, CASE, MANIFEST = "event", "case", "manifest"
# The record closing a social contract's chain (its events follow its case's).
SOCIAL_CONTRACT = "social_contract"


class AuditChain(StrEnum):
    """Whose chain an event is a link of: the case's own, or its social contract's (keyed by
    the contract's id, models/lifecycle/social_contract_link.contract_id_of: its `case_id`
    column holds that id)."""

    CASE = "case"
    SOCIAL_CONTRACT = "social_contract"


# The columns stored sealed: an event record carries them opened, and as stored under STORED.
SEALED_COLUMNS = ("reason", "data", "view_changes")
STORED = "stored"
# The columns an event record carries in clear, as stored.
CLEAR_COLUMNS = (
    "case_id",
    "seq",
    "id",
    "action",
    "actor_id",
    "actor_role",
    "stage_before",
    "stage_after",
    "occurred_at",
    "recorded_at",
    "idempotency_key",
    "workflow_id",
    "run_id",
)
LINK_COLUMNS = ("prev_hash", "hash")
CHAIN = "chain"

# The CSV export: one row per record; `case`, `social_contract` and `manifest` rows carry
# their record as JSON in `data` (and a case's or contract's row its chain id, last seq,
# prev_hash, last hash and chain in those columns).
CSV_COLUMNS = (
    "record",
    *CLEAR_COLUMNS,
    *SEALED_COLUMNS,
    *(f"{STORED}_{name}" for name in SEALED_COLUMNS),
    *LINK_COLUMNS,
    CHAIN,
)


def canonical_time(moment: datetime) -> str:
    """A time as the chain hashes it (infra/audit/chain.py)."""
    if moment.tzinfo is None:
        raise ValueError("an event time must carry its time zone")
    # `isoformat` is several times faster than the chain's `strftime`, and the same text:
    # "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" with the offset written as Z.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def stored_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored row an event record was made from, as the chain hashes it: its `stored`
    columns, or its readable ones when `stored` is null (an event with no sealed text).
    Raises KeyError or TypeError for a record that is not an event record."""
    row = {name: record[name] for name in CLEAR_COLUMNS}
    stored = record[STORED]
    if stored is None:
        stored = record
    elif not isinstance(stored, Mapping):
        raise TypeError("`stored` is neither null nor the stored columns")
    row.update({name: stored[name] for name in SEALED_COLUMNS})
    return row


def chain_record(
    *,
    chain_id: str,
    of_case: str | None,
    first_seq: int,
    last_seq: int,
    events: int,
    prev_hash: str,
    last_hash: str,
    chain_head: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What closes a chain's exported events: a `case` record (`of_case` None), or for a
    social contract's chain a `social_contract` record, the same fields for the contract's id
    with the case it belongs to."""
    ids = (
        {"record": CASE, "case_id": chain_id}
        if of_case is None
        else {"record": SOCIAL_CONTRACT, "contract_id": chain_id, "case_id": of_case}
    )
    return {
        **ids,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "events": events,
        "prev_hash": prev_hash,
        "last_hash": last_hash,
        "chain_head": None if chain_head is None else dict(chain_head),
    }


def record_line(record: Mapping[str, Any]) -> str:
    """A record as one line of the JSON-lines export (no newline)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class CasesDigest:
    """The digest a manifest carries over the case records, in order: sha256 of each one's
    canonical JSON (sorted keys) followed by a newline."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add(self, record: Mapping[str, Any]) -> None:
        self._digest.update(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
        self._digest.update(b"\n")

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def manifest_record(
    *,
    scope: Mapping[str, Any],
    generated_at: datetime,
    exported_by: Mapping[str, Any],
    cases: int,
    social_contracts: int,
    events: int,
    cases_digest: str,
) -> dict[str, Any]:
    return {
        "record": MANIFEST,
        "format": EXPORT_FORMAT,
        "scope": dict(scope),
        "generated_at": canonical_time(generated_at),
        "exported_by": dict(exported_by),
        "cases": cases,
        "social_contracts": social_contracts,
        "events": events,
        "cases_digest": cases_digest,
    }
