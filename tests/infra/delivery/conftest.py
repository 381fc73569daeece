from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from models.db import SessionFactory, make_async_engine, make_session_factory
from tests.support.delivery import fresh_database
from workers.devstack.mail_catcher import MailCatcher


@pytest.fixture
def delivery_database_url(postgres_server: str) -> str:
    """A database of the test's own: a dispatcher drains every notification it finds."""
    return fresh_database(postgres_server)


@pytest_asyncio.fixture
async def delivery_sessions(delivery_database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_async_engine(delivery_database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture
async def catcher() -> AsyncIterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1."""
    server = await MailCatcher().start()
    yield server
    await server.stop()
