"""The pool's check at checkout (models/db.py): a connection the server has ended is replaced
before use, without a ping; a live one is kept."""

import asyncio

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import make_async_engine


async def _backend(connection: AsyncConnection) -> int:
    result = await connection.execute(text("SELECT pg_backend_pid()"))
    return int(result.scalar_one())


async def test_a_connection_the_server_ended_is_replaced_at_checkout_and_a_live_one_kept(
    database_url: str, owner_database_url: str
) -> None:
    engine = make_async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = await _backend(connection)
        async with engine.connect() as connection:
            assert await _backend(connection) == first  # live: kept, not reconnected

        with psycopg.connect(owner_database_url, autocommit=True) as owner:
            assert owner.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
            for _ in range(100):  # until the backend has gone and its socket says so
                gone = owner.execute(
                    "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", (first,)
                ).fetchone()
                if gone == (True,):
                    break
                await asyncio.sleep(0.02)

        # Without a check the statement would fail on the dead connection (a 503 to a user).
        async with engine.connect() as connection:
            replaced = await _backend(connection)
        assert replaced != first
    finally:
        await engine.dispose()
