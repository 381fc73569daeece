"""A page of `GET /api/v1/cases` is read along the list's order index (migration 0010), never
by sorting the territory's cases: at 350,000 cases a sort of the city of Novosibirsk cost a
first page 35 ms and more. The statement the listing really sends (with its parameters, as
psycopg binds them) is explained with sorts and sequential scans priced out, as on a table of
that size: its plan must hold no sort."""

from typing import Any

from sqlalchemy import event

from models.crud.case_projections import list_views
from models.db import SessionFactory


async def _plan(sessions: SessionFactory, **listing: Any) -> str:
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM case_projections" in statement and "ORDER BY" in statement:
            sent.append((statement, parameters))

    async with sessions() as session, session.begin():
        connection = await session.connection()
        sync_engine = connection.sync_engine
        event.listen(sync_engine, "before_cursor_execute", capture)
        try:
            await list_views(session, limit=50, count=False, keys=None, **listing)
        finally:
            event.remove(sync_engine, "before_cursor_execute", capture)
        assert len(sent) == 1, sent
        statement, parameters = sent[0]
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute("SET LOCAL enable_seqscan = off")
        await raw.execute("SET LOCAL enable_sort = off")
        explained = await raw.execute("EXPLAIN " + statement, parameters)
        return "\n".join(row[0] for row in await explained.fetchall())


async def test_a_municipality_s_page_reads_the_list_index_without_sorting(
    sessions: SessionFactory,
) -> None:
    plan = await _plan(sessions, municipalities=None, municipality="novosibirsk")
    assert "Sort" not in plan, plan
    assert "ix_case_projections_municipality_list_order" in plan, plan


async def test_the_oblast_s_page_reads_the_list_index_without_sorting(
    sessions: SessionFactory,
) -> None:
    plan = await _plan(sessions, municipalities=None)
    assert "Sort" not in plan, plan
    assert "list_order" in plan, plan
