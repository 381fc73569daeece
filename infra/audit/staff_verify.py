"""`kurator audit verify`'s check of the staff directory's history: its one chain, recomputed
from the stored rows (infra/audit/staff_chain.py)."""

from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from infra.audit.staff_chain import CHAINED_COLUMNS, directory_chain_problem


@dataclass(frozen=True)
class DirectoryCheck:
    events: int
    broken_seq: int | None = None
    problem: str | None = None


def check_staff_directory(database_url: str) -> DirectoryCheck:
    columns = ", ".join([*CHAINED_COLUMNS, "prev_hash", "hash"])
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        rows = connection.execute(
            f"SELECT {columns} FROM staff_directory_events ORDER BY seq"
        ).fetchall()
    broken = directory_chain_problem(rows)
    if broken is None:
        return DirectoryCheck(len(rows))
    return DirectoryCheck(len(rows), broken[0], broken[1])
