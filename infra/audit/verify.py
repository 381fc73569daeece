"""`kurator audit verify`: recompute every case's chain from the stored events and hold it
against the anchor log.

The events stream through one server-side cursor ordered by (case_id, seq), in one snapshot,
one case's events in memory at a time; the anchor log is replayed first (each line's link and
signature checked, the heads rebuilt). Nothing is trusted from `case_chain_heads`. A case's
chain must hold from its first event, and must hold, at the seq of its newest anchored head,
the hash that anchor recorded (an anchor only ever extends the one before it, so that covers
every earlier anchor too: infra/audit/anchor.py). Events after a case's newest anchored head
are checked by their chain alone.

Problems name the case (a pseudonymous UUID), the event's seq and what is wrong; never any
stored text.
"""

import bisect
import multiprocessing
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from infra.audit.anchor_keys import VerifyingKey
from infra.audit.anchor_log import AnchoredHead, AnchorReplay, replay_file
from infra.audit.chain import CHAINED_COLUMNS, check_chain
from infra.audit.registers import RegisterVerdict, is_register_key, judge_all, read_registers

CURSOR_BATCH = 10_000
# Times and the event id as the canonical text the chain hashes, formatted by PostgreSQL (as
# `chain._plain` formats them: UTC, microseconds, glibc's unpadded %Y); cheaper than parsing.
_AS_TEXT = {
    "id": "id::text",
    "occurred_at": "to_char(occurred_at AT TIME ZONE 'UTC', 'FMYYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "recorded_at": "to_char(recorded_at AT TIME ZONE 'UTC', 'FMYYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
}
_COLUMNS = ", ".join(
    f"{_AS_TEXT[name]} AS {name}" if name in _AS_TEXT else name
    for name in (*CHAINED_COLUMNS, "prev_hash", "hash")
)
# Ranges of case ids per process: uneven ranges even out across the pool.
RANGES_PER_JOB = 4


@dataclass(frozen=True)
class CaseProblem:
    """The first broken link of a case: its seq (None when the whole case is gone) and why."""

    case_id: str
    seq: int | None
    problem: str


@dataclass
class VerifyResult:
    events: int = 0
    cases: int = 0
    seconds: float = 0.0
    anchor_log: Path | None = None
    anchors: int = 0
    last_anchored_at: str | None = None
    log_problem: str | None = None  # the first line of the anchor log that does not hold
    events_after_anchor: int = 0  # checked by their chain only
    cases_unanchored: int = 0
    problems: list[CaseProblem] = field(default_factory=list)
    # The staff directory's and the resource map's chains (infra/audit/registers.py); none
    # when one case was verified.
    registers: list[RegisterVerdict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (
            self.log_problem is None
            and not self.problems
            and all(register.problem is None for register in self.registers)
        )

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def check_case(
    case_id: UUID, rows: Sequence[Mapping[str, Any]], anchored: AnchoredHead | None
) -> CaseProblem | None:
    """The first problem of one case's stored events (oldest first) against its chain and its
    newest anchored head."""
    head, broken = check_chain(case_id, rows)
    held = head.seq if head is not None else 0
    # Verified rows run 1..held, so the anchored event is rows[seq - 1].
    if (
        anchored is not None
        and held >= anchored.seq
        and rows[anchored.seq - 1]["hash"] != anchored.hash
    ):
        return CaseProblem(
            str(case_id),
            anchored.seq,
            f"rewritten after anchor {anchored.anchor}: the chain holds, but its event "
            f"{anchored.seq} is not the one that anchor recorded",
        )
    if broken is not None:
        return CaseProblem(str(case_id), broken.seq, broken.problem)
    if anchored is not None and held < anchored.seq:
        return CaseProblem(
            str(case_id),
            held + 1,
            f"deleted after anchor {anchored.anchor}: it recorded the chain up to event "
            f"{anchored.seq}, the stored chain ends at event {held}",
        )
    return None


def _by_case(rows: Iterable[dict[str, Any]]) -> Iterable[tuple[UUID, list[dict[str, Any]]]]:
    current: UUID | None = None
    batch: list[dict[str, Any]] = []
    for row in rows:
        if row["case_id"] != current:
            if current is not None:
                yield current, batch
            current, batch = row["case_id"], []
        batch.append(row)
    if current is not None:
        yield current, batch


@dataclass(frozen=True)
class _Range:
    """The cases with ids in [lower, upper) (None: unbounded), read in `snapshot` (one that a
    coordinating transaction exported, so every range sees the same moment), with the heads
    anchored among them."""

    conninfo: str
    snapshot: str | None
    lower: str | None
    upper: str | None
    case_id: UUID | None
    anchored: dict[str, AnchoredHead]


@dataclass
class _Checked:
    events: int = 0
    cases: int = 0
    events_after_anchor: int = 0
    cases_unanchored: int = 0
    problems: list[CaseProblem] = field(default_factory=list)


def _query(part: _Range) -> tuple[str, tuple[object, ...]]:
    if part.case_id is not None:
        return f"SELECT {_COLUMNS} FROM case_events WHERE case_id = %s ORDER BY seq", (
            part.case_id,
        )
    bounds, params = [], []
    if part.lower is not None:
        bounds.append("case_id >= %s::uuid")
        params.append(part.lower)
    if part.upper is not None:
        bounds.append("case_id < %s::uuid")
        params.append(part.upper)
    where = f"WHERE {' AND '.join(bounds)} " if bounds else ""
    return f"SELECT {_COLUMNS} FROM case_events {where}ORDER BY case_id, seq", tuple(params)


def _check_range(part: _Range) -> _Checked:
    """Stream one range's events through a server-side cursor and check case by case. A
    top-level function: the parallel path runs it in other processes."""
    checked = _Checked()
    seen: set[str] = set()
    with psycopg.connect(part.conninfo) as connection:
        connection.read_only = True
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        if part.snapshot is not None:
            # Takes no parameters: the exported id, quoted as a literal.
            connection.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(part.snapshot))
            )
        with connection.cursor(name="kurator_audit_verify", row_factory=dict_row) as cursor:
            cursor.itersize = CURSOR_BATCH
            cursor.execute(*_query(part))
            for case, rows in _by_case(cursor):
                checked.cases += 1
                checked.events += len(rows)
                head = part.anchored.get(str(case))
                if head is None:
                    checked.cases_unanchored += 1
                    checked.events_after_anchor += len(rows)
                else:
                    seen.add(str(case))
                    checked.events_after_anchor += max(0, len(rows) - head.seq)
                problem = check_case(case, rows, head)
                if problem is not None:
                    checked.problems.append(problem)
    for missing in sorted(set(part.anchored) - seen):
        head = part.anchored[missing]
        checked.problems.append(
            CaseProblem(
                missing,
                None,
                f"deleted: anchor {head.anchor} recorded its chain up to event {head.seq}; "
                "no event of it is stored",
            )
        )
    return checked


def _ranges(
    conninfo: str, snapshot: str | None, parts: int, anchored: dict[str, AnchoredHead]
) -> list[_Range]:
    """The UUID space cut into `parts` equal ranges, each with its anchored heads."""
    bounds = [UUID(int=(i << 128) // parts) for i in range(1, parts)]
    keys = [str(bound) for bound in bounds]
    heads: list[dict[str, AnchoredHead]] = [{} for _ in range(parts)]
    for case, head in anchored.items():
        heads[bisect.bisect_right(keys, case)][case] = head
    lowers: list[str | None] = [None, *keys]
    uppers: list[str | None] = [*keys, None]
    return [
        _Range(conninfo, snapshot, lower, upper, None, part_heads)
        for lower, upper, part_heads in zip(lowers, uppers, heads, strict=True)
    ]


def _check_all(
    conninfo: str, case_id: UUID | None, anchored: dict[str, AnchoredHead], jobs: int
) -> list[_Checked]:
    if case_id is not None or jobs <= 1:
        return [_check_range(_Range(conninfo, None, None, None, case_id, anchored))]
    # Every process reads in the snapshot this transaction exports, held open until all end.
    with psycopg.connect(conninfo) as coordinator:
        coordinator.read_only = True
        coordinator.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        exported = coordinator.execute("SELECT pg_export_snapshot()").fetchone()
        assert exported is not None
        parts = _ranges(conninfo, exported[0], jobs * RANGES_PER_JOB, anchored)
        context = multiprocessing.get_context("spawn")  # never fork a threaded process
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            return list(pool.map(_check_range, parts))


def verify_database(
    database_url: str,
    *,
    case_id: UUID | None = None,
    anchor_log: Path | None = None,
    key: VerifyingKey | None = None,
    jobs: int = 1,
) -> VerifyResult:
    """Verify the case history of `database_url` (one case, or all) against the anchor log
    at `anchor_log`, whose lines must be signed by `key`. Without a log only the chains are
    checked: a whole case deleted, or a chain rewritten consistently, then goes unnoticed.
    `jobs` > 1 checks ranges of case ids in that many processes, all in one snapshot."""
    started = time.monotonic()
    result = VerifyResult(anchor_log=anchor_log)
    replay = AnchorReplay()
    if anchor_log is not None:
        if key is None:
            raise ValueError("an anchor log is verified with its public key")
        if not anchor_log.exists():
            result.log_problem = f"the anchor log {anchor_log} does not exist"
        else:
            replay = replay_file(anchor_log, key)
            result.log_problem = replay.problem
        result.anchors, result.last_anchored_at = replay.anchors, replay.last_anchored_at
    anchored = {k: v for k, v in replay.heads.items() if not is_register_key(k)}
    if case_id is not None:
        anchored = {k: v for k, v in anchored.items() if k == str(case_id)}
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    if case_id is None:
        with psycopg.connect(conninfo, row_factory=dict_row) as connection:
            result.registers = judge_all(read_registers(connection), replay.heads)
    for checked in _check_all(conninfo, case_id, anchored, jobs):
        result.events += checked.events
        result.cases += checked.cases
        result.events_after_anchor += checked.events_after_anchor
        result.cases_unanchored += checked.cases_unanchored
        result.problems.extend(checked.problems)
    result.problems.sort(key=lambda problem: problem.case_id)
    result.seconds = time.monotonic() - started
    return result
