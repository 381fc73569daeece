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

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from infra.audit.anchor_keys import VerifyingKey
from infra.audit.anchor_log import AnchoredHead, AnchorReplay, replay_file
from infra.audit.chain import CHAINED_COLUMNS, check_chain

CURSOR_BATCH = 10_000
_COLUMNS = ", ".join(
    "id::text AS id" if name == "id" else name for name in (*CHAINED_COLUMNS, "prev_hash", "hash")
)
_EVENTS = f"SELECT {_COLUMNS} FROM case_events ORDER BY case_id, seq"
_EVENTS_OF_CASE = f"SELECT {_COLUMNS} FROM case_events WHERE case_id = %s ORDER BY seq"


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

    @property
    def clean(self) -> bool:
        return self.log_problem is None and not self.problems

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


def verify_database(
    database_url: str,
    *,
    case_id: UUID | None = None,
    anchor_log: Path | None = None,
    key: VerifyingKey | None = None,
) -> VerifyResult:
    """Verify the case history of `database_url` (one case, or all) against the anchor log
    at `anchor_log`, whose lines must be signed by `key`. Without a log only the chains are
    checked: a whole case deleted, or a chain rewritten consistently, then goes unnoticed."""
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
    anchored = replay.heads
    if case_id is not None:
        anchored = {k: v for k, v in anchored.items() if k == str(case_id)}
    seen: set[str] = set()
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo) as connection:
        connection.read_only = True
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with connection.cursor(name="kurator_audit_verify", row_factory=dict_row) as cursor:
            cursor.itersize = CURSOR_BATCH
            if case_id is None:
                cursor.execute(_EVENTS)
            else:
                cursor.execute(_EVENTS_OF_CASE, (case_id,))
            for case, rows in _by_case(cursor):
                result.cases += 1
                result.events += len(rows)
                head = anchored.get(str(case))
                if head is None:
                    result.cases_unanchored += 1
                    result.events_after_anchor += len(rows)
                else:
                    seen.add(str(case))
                    result.events_after_anchor += max(0, len(rows) - head.seq)
                problem = check_case(case, rows, head)
                if problem is not None:
                    result.problems.append(problem)
    for missing in sorted(set(anchored) - seen):
        head = anchored[missing]
        result.problems.append(
            CaseProblem(
                missing,
                None,
                f"deleted: anchor {head.anchor} recorded its chain up to event {head.seq}; "
                "no event of it is stored",
            )
        )
    result.problems.sort(key=lambda problem: problem.case_id)
    result.seconds = time.monotonic() - started
    return result
