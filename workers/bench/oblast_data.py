"""`kurator bench generate`: a synthetic oblast in PostgreSQL, as the application stores it.

N cases (workers/bench/oblast_cases.py) go in as the worker would have left them: each
family's data key in `family_data_keys` (a fresh AES key wrapped by the master key, as
`FamilyKeyStore.for_owner` stores it), every event in `case_events` with its free text sealed
by `sealed_event_row`, its `view_changes` on the last event of each step and its place in the
hash chain (`event_hash`), the chain's head in `case_chain_heads`, and the last view in
`case_projections` sealed as `save_view` seals it, and its inbox rows in `case_inbox_items`.
The app's readers open all of it.

Writing: COPY, one transaction per chunk of cases, chunks spread over worker processes (each
simulates, seals, hashes and copies its own; PostgreSQL parses and indexes beside them). A case
is a function of (seed, number, now), so a chunk's content does not depend on which process
wrote it. The sealed bytes differ from run to run (every envelope has a random nonce), and so
do the hashes over them; everything else repeats exactly.

It refuses a database whose case history is not empty: synthetic cases must never mix with
real ones, and a second run would only double the first.
"""

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from infra.audit.chain import CHAINED_COLUMNS, event_hash, genesis_hash
from infra.sealing.aead import new_key
from infra.sealing.columns import seal_free_text
from infra.sealing.family_keys import DataKey, wrapping_context
from infra.sealing.master_keys import read_key_file
from models.case_numbers import format_case_number
from models.crud.case_events import sealed_event_row
from models.crud.case_projections import view_field
from models.inbox import StoredInboxItem, inbox_items
from models.payloads.case_view import CaseView
from workers.bench.oblast_cases import SyntheticCase, synthetic_case

CHUNK_CASES = 500
_EVENT_COLUMNS = (*CHAINED_COLUMNS, "prev_hash", "hash")
_JSON_COLUMNS = frozenset({"data", "view_changes", "view"})
_INBOX_COLUMNS = tuple(StoredInboxItem.model_fields)
_PROJECTION_COLUMNS = (
    "case_id",
    "workflow_id",
    "version",
    "municipality",
    "stage",
    "level",
    "curator",
    "overdue",
    "escalation_level",
    "next_deadline",
    "policy_version",
    "opened_at",
    "closed_at",
    "view",
)


class GenerationRefused(Exception):
    """The database cannot take a synthetic oblast; the message says why."""


@dataclass(frozen=True)
class OblastSpec:
    cases: int
    now: datetime  # the histories run up to this moment
    events_per_case: int = 30
    seed: int = 0
    jobs: int = 2  # worker processes; 1 writes in this process
    chunk_cases: int = CHUNK_CASES


@dataclass
class Generated:
    cases: int = 0
    events: int = 0
    seconds: float = 0.0
    by_municipality: Counter[str] = field(default_factory=Counter)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def psycopg_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def refuse_unless_empty(database_url: str) -> None:
    with psycopg.connect(psycopg_url(database_url)) as connection:
        found = connection.execute("SELECT EXISTS (SELECT 1 FROM case_events)").fetchone()
    if found is not None and found[0]:
        raise GenerationRefused(
            "the database already holds a case history: the generator fills an empty one only "
            "(synthetic cases never mix with real ones, and a second run would double the "
            "first); generate into a fresh database"
        )


async def generate_oblast(
    database_url: str,
    master_key_file: Path,
    spec: OblastSpec,
    progress: Callable[[str], None] = lambda line: None,
) -> Generated:
    """Fill the (migrated, empty) database with `spec.cases` synthetic cases."""
    await asyncio.to_thread(refuse_unless_empty, database_url)
    read_key_file(master_key_file)  # a bad key file fails here, not in every worker
    chunks = [
        (first, min(first + spec.chunk_cases, spec.cases))
        for first in range(0, spec.cases, spec.chunk_cases)
    ]
    total = Generated()
    started = time.monotonic()
    last_report = started
    progress(f"Generating {spec.cases:,} cases in {len(chunks)} chunks, {spec.jobs} process(es)…")

    def add(done: Generated) -> None:
        nonlocal last_report
        total.cases += done.cases
        total.events += done.events
        total.by_municipality.update(done.by_municipality)
        total.seconds = time.monotonic() - started
        if time.monotonic() - last_report >= 5 or total.cases == spec.cases:
            last_report = time.monotonic()
            left = (spec.cases - total.cases) / max(total.cases, 1) * total.seconds
            progress(
                f"  {total.cases:,}/{spec.cases:,} cases, {total.events:,} events, "
                f"{total.events_per_second:,.0f} events/s, about {left / 60:.1f} min left"
            )

    arguments = [(database_url, str(master_key_file), spec, a, b) for a, b in chunks]
    if spec.jobs <= 1:
        for argument in arguments:
            add(await asyncio.to_thread(write_chunk, *argument))
    else:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(spec.jobs, mp_context=get_context("spawn")) as pool:
            pending = [loop.run_in_executor(pool, write_chunk, *argument) for argument in arguments]
            for finished in asyncio.as_completed(pending):
                add(await finished)
    await asyncio.to_thread(_continue_number_sequences, database_url)
    await asyncio.to_thread(_analyze, database_url)
    total.seconds = time.monotonic() - started
    return total


def _continue_number_sequences(database_url: str) -> None:
    """Each territory's counter after its highest generated number: a case opened after the
    generation is numbered after them (models/crud/case_numbers.py)."""
    with psycopg.connect(psycopg_url(database_url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO case_number_sequences (municipality, year, last_seq) "
            "SELECT municipality, year, max(seq) FROM case_numbers GROUP BY municipality, year"
        )


def _analyze(database_url: str) -> None:
    """Fresh statistics for the planner, when the login may (the owner); else autovacuum's."""
    with psycopg.connect(psycopg_url(database_url), autocommit=True) as connection:
        for table in (
            "case_events",
            "case_projections",
            "case_chain_heads",
            "case_numbers",
            "family_data_keys",
        ):
            try:
                connection.execute(f"ANALYZE {table}")
            except psycopg.errors.InsufficientPrivilege:
                return


def write_chunk(
    database_url: str, master_key_file: str, spec: OblastSpec, first: int, last: int
) -> Generated:
    """Cases `first`..`last - 1`: simulated, sealed, chained and copied in one transaction."""
    started = time.monotonic()
    cases = [
        synthetic_case(spec.seed, n, spec.now, spec.events_per_case) for n in range(first, last)
    ]
    keys = asyncio.run(_family_keys(Path(master_key_file), cases))
    done = Generated(cases=len(cases))
    with psycopg.connect(psycopg_url(database_url)) as connection:
        connection.execute("SET synchronous_commit = off")  # a lost chunk is simply re-run
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY family_data_keys (key_id, family_key, wrapped, master_key_id) FROM STDIN"
            ) as copy:
                for key_row in keys.values():
                    copy.write_row(key_row[1:])
            heads = []
            with cursor.copy(f"COPY case_events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as copy:
                for case in cases:
                    key = keys[case.case_id][0]
                    for row in event_rows(case, key):
                        copy.write_row(_copy_values(row, _EVENT_COLUMNS))
                        done.events += 1
                    heads.append((case.case_id, row["seq"], row["hash"]))
            with cursor.copy("COPY case_chain_heads (case_id, seq, hash) FROM STDIN") as copy:
                for head in heads:
                    copy.write_row(head)
            with cursor.copy(
                f"COPY case_projections ({', '.join(_PROJECTION_COLUMNS)}) FROM STDIN"
            ) as copy:
                for case in cases:
                    row = projection_row(case, keys[case.case_id][0])
                    copy.write_row(_copy_values(row, _PROJECTION_COLUMNS))
                    done.by_municipality[case.municipality] += 1
            with cursor.copy(
                "COPY case_numbers (case_id, number, municipality, year, seq, allocated_at) "
                "FROM STDIN"
            ) as copy:
                for case in cases:
                    year, seq = case.numbered
                    number = format_case_number(case.municipality, year, seq)
                    opened = _moment(case.steps[0].view["opened_at"])
                    copy.write_row((case.case_id, number, case.municipality, year, seq, opened))
            with cursor.copy(
                f"COPY case_inbox_items ({', '.join(_INBOX_COLUMNS)}) FROM STDIN"
            ) as copy:
                for case in cases:
                    for item in inbox_rows(case):
                        copy.write_row([item[name] for name in _INBOX_COLUMNS])
    done.seconds = time.monotonic() - started
    return done


async def _family_keys(
    master_key_file: Path, cases: list[SyntheticCase]
) -> dict[UUID, tuple[DataKey, UUID, str, bytes, str]]:
    """Each case's family key, and its `family_data_keys` row, wrapped as `for_owner` wraps."""
    master = read_key_file(master_key_file).current
    keys = {}
    for case in cases:
        key = DataKey(_key_id(case), case.family_key, new_key())
        wrapped = await master.wrap(
            key.secret, associated_data=wrapping_context(key.key_id, case.family_key)
        )
        keys[case.case_id] = (key, key.key_id, case.family_key, wrapped, master.key_id)
    return keys


def _key_id(case: SyntheticCase) -> UUID:
    # Derived from the case id: a family has one key, and a rerun names the same one.
    return UUID(int=case.case_id.int ^ (1 << 64), version=4)


# Where the simulated cases hold free text (FREE_TEXT_KEYS): the data of these actions, and
# these fields of a view. `sealed_event_row` is handed only those parts; sealing walks every
# value of what it is given, and elsewhere it would change nothing.
_ACTIONS_WITH_FREE_TEXT = frozenset({"route_set", "plan_approved"})
_VIEW_FIELDS_WITH_FREE_TEXT = ("plan_items", "details")


def event_rows(case: SyntheticCase, key: DataKey) -> Iterator[dict[str, Any]]:
    """The case's `case_events` rows as the worker stores them: sealed, then chained."""
    prev = genesis_hash(case.case_id)
    before: dict[str, Any] | None = None
    for step in case.steps:
        changes = (
            step.view
            if before is None
            else {name: value for name, value in step.view.items() if before.get(name) != value}
        )
        before = step.view
        final = len(step.events) - 1
        for number, event in enumerate(step.events):
            step_changes = changes if number == final else {}
            texts = {n: step_changes[n] for n in _VIEW_FIELDS_WITH_FREE_TEXT if n in step_changes}
            with_text = event.action in _ACTIONS_WITH_FREE_TEXT
            row = sealed_event_row(
                key,
                {
                    "id": event.id,
                    "case_id": case.case_id,
                    "seq": event.seq,
                    "action": event.action,
                    "actor_id": event.actor_id,
                    "actor_role": event.actor_role,
                    "stage_before": event.stage_before,
                    "stage_after": event.stage_after,
                    "reason": event.reason,
                    "data": event.data if with_text else {},
                    "view_changes": texts,
                    "occurred_at": event.occurred_at,
                    "recorded_at": step.recorded_at,
                    "idempotency_key": step.idempotency_key,
                    "workflow_id": step.workflow_id,
                    "run_id": step.run_id,
                },
            )
            if not with_text:
                row["data"] = event.data
            row["view_changes"] = {**step_changes, **row["view_changes"]}
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(row, prev)
            yield row


def projection_row(case: SyntheticCase, key: DataKey) -> dict[str, Any]:
    """The case's `case_projections` row: its last view, sealed as `save_view` seals it."""
    view = case.steps[-1].view
    return {
        "case_id": case.case_id,
        "workflow_id": view["workflow_id"],
        "version": view["version"],
        "municipality": view["municipality"],
        "stage": view["stage"],
        "level": view["level"],
        "curator": view["curator"],
        "overdue": view["overdue"],
        "escalation_level": view["escalation_level"],
        "next_deadline": _moment(view["next_deadline"]),
        "policy_version": view["policy_version"],
        "opened_at": _moment(view["opened_at"]),
        "closed_at": _moment(view["closed_at"]),
        "view": seal_free_text(key, view, field=view_field(case.case_id)),
    }


def inbox_rows(case: SyntheticCase) -> list[dict[str, Any]]:
    """The case's `case_inbox_items` rows, derived from its last view as the worker derives
    them when it stores a view (models/inbox.py)."""
    view = CaseView.model_validate(case.steps[-1].view)
    return [item.model_dump(mode="json") for item in inbox_items(view)]


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# One encoder for every JSON column: json.dumps with options builds a new one per call.
_TO_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _copy_values(row: dict[str, Any], columns: tuple[str, ...]) -> list[Any]:
    return [
        (_TO_JSON(row[name]) if row[name] else "{}") if name in _JSON_COLUMNS else row[name]
        for name in columns
    ]


def default_jobs() -> int:
    """Worker processes: the machine's cores, PostgreSQL taking its share beside them."""
    return max(1, min(4, os.cpu_count() or 1))
