"""The API keeps the PostgreSQL connections KURATOR_DATABASE_POOL_SIZE says: requests beyond
SQLAlchemy's default of 5 at once no longer open a connection (a backend) for one use each."""

import asyncio

from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from tests.support.api import api_settings


async def test_the_api_keeps_as_many_connections_as_set(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    settings = api_settings(dev_env, database_url, task_queue, database_pool_size=7)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        state = app.state.kurator
        assert state.engine.pool.size() == 7
        hold = asyncio.Event()

        async def busy() -> int:
            async with state.sessions() as session:
                connection = await session.connection()
                pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await hold.wait()  # all seven are out at once
                return int(pid)

        def round_of_seven() -> list[asyncio.Task[int]]:
            return [asyncio.create_task(busy()) for _ in range(7)]

        first = round_of_seven()
        await asyncio.sleep(0.5)
        hold.set()
        backends = set(await asyncio.gather(*first))
        hold.clear()
        second = round_of_seven()
        await asyncio.sleep(0.5)
        hold.set()
        # The same seven backends serve the next seven at once: none was closed after use.
        assert set(await asyncio.gather(*second)) == backends
        assert len(backends) == 7
