"""A database of the indicator tests' own, holding only `march_cases()`, so that every figure
is exact (the shared test database holds every other test's cases)."""

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio

from infra.migrate import upgrade_to_head
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.report_cases import march_cases, store
from tests.support.sealing import test_key_store
from workers.devstack.embedded_postgres import ensure_database


@pytest_asyncio.fixture(scope="module")
async def report_database(postgres_server: str) -> AsyncIterator[str]:
    url = ensure_database(postgres_server, f"reports_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    engine = make_async_engine(url)
    sessions = make_session_factory(engine)
    key = await test_key_store(sessions).for_owner(SYSTEM_KEY_OWNER)
    for case in march_cases():
        await store(sessions, key, case)
    await engine.dispose()
    yield url


@pytest_asyncio.fixture(scope="module")
async def report_sessions(report_database: str) -> AsyncIterator[SessionFactory]:
    engine = make_async_engine(report_database)
    yield make_session_factory(engine)
    await engine.dispose()
