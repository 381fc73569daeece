"""Checking a JSON-lines audit export offline (`kurator audit verify-export FILE`): every
event's hash recomputed from its stored columns, every link to the event before it, each
case's record, each social contract's record (its chain's id must be the one derived from its
case's) and the manifest (models/payloads/audit_export.py for the format).

Needs no database and no key: the chain covers the stored (sealed) values, which the export
carries beside the opened text under `stored`, or, for an event with no sealed text (`stored`
null), in its readable columns themselves (models/payloads/audit_export.stored_row). The
opened text of a sealed value is not covered: it is what the value opened to when exported.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from infra.audit.chain import event_hash, genesis_hash
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.audit_export import (
    CASE,
    CHAIN,
    EVENT,
    EXPORT_FORMAT,
    MANIFEST,
    SOCIAL_CONTRACT,
    AuditChain,
    CasesDigest,
    chain_record,
    stored_row,
)

MAX_PROBLEMS = 100  # reported; the count says how many there were in all


@dataclass
class ExportCheck:
    """What the check found: counts, and the problems by line number."""

    cases: int = 0
    social_contracts: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    manifest: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return self.problem_count == 0

    def problem(self, line: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"line {line}: {text}")


@dataclass
class _OpenCase:
    case_id: str
    first_seq: int
    prev_hash: str
    last_seq: int
    last_hash: str
    events: int
    chain: str  # the `chain` its first event names


def check_export(lines: Iterable[str]) -> ExportCheck:
    """Check an export, line by line (constant memory: one case at a time)."""
    check = ExportCheck()
    digest = CasesDigest()
    current: _OpenCase | None = None
    number = 0
    for number, line in enumerate(lines, start=1):
        if check.manifest is not None:
            check.problem(number, "a line after the manifest")
            continue
        try:
            record = json.loads(line)
            kind = record["record"]
        except (ValueError, TypeError, KeyError):
            check.problem(number, "not a record of an audit export")
            continue
        if kind == EVENT:
            current = _event(check, number, record, current)
        elif kind in (CASE, SOCIAL_CONTRACT):
            if current is None:
                check.problem(number, f"a {kind} record without events before it")
                continue
            if kind == CASE:
                _case(check, number, record, current)
                check.cases += 1
            else:
                _contract(check, number, record, current)
                check.social_contracts += 1
            if current.chain != kind:
                check.problem(number, f"a {kind} record closes events of the {current.chain} chain")
            digest.add(record)
            current = None
        elif kind == MANIFEST:
            if current is not None:
                check.problem(number, f"case {current.case_id} has no case record")
            check.manifest = record
            _manifest(check, number, record, digest.hexdigest())
        else:
            check.problem(number, f"unknown record kind {kind!r}")
    if check.manifest is None:
        check.problem(number, "no manifest: the export is incomplete")
    return check


def _event(
    check: ExportCheck, number: int, record: dict[str, Any], current: _OpenCase | None
) -> _OpenCase | None:
    try:
        row = stored_row(record)
        case_id, seq = str(record["case_id"]), int(record["seq"])
        prev_hash, hash_ = record["prev_hash"], record["hash"]
    except (KeyError, TypeError, ValueError):
        check.problem(number, "an event record without its stored columns")
        return current
    check.events += 1
    if current is not None and current.case_id != case_id:
        check.problem(number, f"case {current.case_id} has no case record")
        current = None
    if current is None:
        if seq == 1 and prev_hash != _genesis(case_id):
            check.problem(number, f"event 1 of case {case_id} does not link to the case's start")
        chain = record.get(CHAIN, AuditChain.CASE.value)  # an export before chains were named
        current = _OpenCase(case_id, seq, prev_hash, seq - 1, prev_hash, 0, str(chain))
    elif record.get(CHAIN, AuditChain.CASE.value) != current.chain:
        check.problem(number, f"case {case_id} event {seq}: not of the {current.chain} chain")
    elif seq != current.last_seq + 1:
        check.problem(number, f"case {case_id}: event {seq} follows event {current.last_seq}")
    elif prev_hash != current.last_hash:
        check.problem(number, f"case {case_id} event {seq}: prev_hash is not the hash before it")
    if event_hash(row, prev_hash) != hash_:
        check.problem(number, f"case {case_id} event {seq}: its content does not hash to `hash`")
    current.last_seq, current.last_hash = seq, hash_
    current.events += 1
    return current


def _genesis(case_id: str) -> str | None:
    try:
        return genesis_hash(UUID(case_id))
    except ValueError:
        return None


def _case(check: ExportCheck, number: int, record: dict[str, Any], current: _OpenCase) -> None:
    _closing(check, number, record, current, of_case=None, name=f"case {current.case_id}")


def _contract(check: ExportCheck, number: int, record: dict[str, Any], current: _OpenCase) -> None:
    name = f"social contract {current.case_id}"
    _closing(check, number, record, current, of_case=str(record.get("case_id")), name=name)
    if _contract_of(record.get("case_id")) != current.case_id:
        check.problem(number, f"{name}: not the contract of case {record.get('case_id')}")


def _closing(
    check: ExportCheck,
    number: int,
    record: dict[str, Any],
    current: _OpenCase,
    *,
    of_case: str | None,
    name: str,
) -> None:
    """A chain's closing record against the events read before it, and its chain head."""
    expected = chain_record(
        chain_id=current.case_id,
        of_case=of_case,
        first_seq=current.first_seq,
        last_seq=current.last_seq,
        events=current.events,
        prev_hash=current.prev_hash,
        last_hash=current.last_hash,
        chain_head=record.get("chain_head"),
    )
    if record != expected:
        wrong = sorted(field for field in expected if record.get(field) != expected[field])
        check.problem(number, f"{name}: the {expected['record']} record differs in {wrong}")
    head = record.get("chain_head")
    at_head = isinstance(head, dict) and head.get("seq") == current.last_seq
    if at_head and isinstance(head, dict) and head.get("hash") != current.last_hash:
        check.problem(number, f"{name}: the chain head's hash differs")


def _contract_of(case_id: Any) -> str | None:
    try:
        return str(contract_id_of(UUID(str(case_id))))
    except ValueError:
        return None


def _manifest(check: ExportCheck, number: int, record: dict[str, Any], digest: str) -> None:
    if record.get("format") != EXPORT_FORMAT:
        check.problem(number, f"not an export of format {EXPORT_FORMAT}")
    counted = (record.get("cases"), record.get("social_contracts", 0), record.get("events"))
    if counted != (check.cases, check.social_contracts, check.events):
        check.problem(
            number,
            f"the manifest counts {counted[0]} cases, {counted[1]} social contracts and "
            f"{counted[2]} events; the file holds {check.cases}, {check.social_contracts} and "
            f"{check.events}",
        )
    if record.get("cases_digest") != digest:
        check.problem(number, "the manifest's digest of the case records differs")
