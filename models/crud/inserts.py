"""Idempotent multi-row inserts, built once per table.

Built once, with the rows passed at execution: SQLAlchemy then compiles the statement once per
process, where a statement with `.values(...)` was rebuilt and cache-keyed value by value on
every call (with the ORM's bulk-insert path, half of `persist_step`'s CPU). On the table, not
the class, it runs as plain Core.
"""

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert


def table_of(model: type[Any]) -> Table:
    """The Core table of a SQLModel table class (its stubs do not declare `__table__`)."""
    return cast(Table, model.__table__)


def insert_new(table: Table, *, unique: str) -> ReturningInsert[Any]:
    """INSERT of rows whose `unique` constraint is not taken yet, returning the new ids: with
    psycopg, rowcount is -1 for such an insert, so RETURNING tells new rows from duplicates."""
    return insert(table).on_conflict_do_nothing(constraint=unique).returning(table.c.id)
