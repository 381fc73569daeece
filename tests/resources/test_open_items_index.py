"""The proposals' capacity count reads the open cases through the GIN index of their plan
items (migration 0019), not by unnesting every open case's plan: at the oblast's 350,000
cases that scan cost seconds. The planner is told to avoid sequential scans, as it would on
a table of that size, and must then find the index usable."""

import uuid

from sqlalchemy import text

from models.crud.resource_load import open_items_query
from models.db import SessionFactory


async def test_the_capacity_count_can_use_the_plan_items_index(sessions: SessionFactory) -> None:
    statement, values = open_items_query([uuid.uuid4(), uuid.uuid4()])
    async with sessions() as session, session.begin():
        connection = await session.connection()
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        explained = statement.text.replace("SELECT", "EXPLAIN SELECT", 1)
        plan = "\n".join(row[0] for row in await connection.execute(text(explained), values))
    assert "ix_case_projections_open_plan_items" in plan, plan
