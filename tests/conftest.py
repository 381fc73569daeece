"""Session-wide real servers: one embedded PostgreSQL, one time-skipping Temporal test server
and one Temporal dev server, each started once and stopped when the tests end."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from infra.db_roles import ensure_app_login, url_as
from infra.migrate import upgrade_to_head
from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory, make_async_engine, make_session_factory
from tests.support.delivery import fresh_database
from tests.support.sealing import test_key_store
from tests.support.temporal import start_dev_server, start_time_skipping
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.devstack.mail_catcher import MailCatcher

TEST_APP_LOGIN = "kurator_test_app"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `make test` judges by this verdict, not by the interpreter's exit status (see Makefile).
    # Under pytest-xdist only the controller's verdict covers the whole run.
    if hasattr(session.config, "workerinput"):
        return
    (session.config.rootpath / ".pytest-verdict").write_text(str(int(exitstatus)))


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the `postgres` database of a fresh embedded cluster."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def owner_database_url(postgres_server: str) -> str:
    """A database migrated to head, shared by the tests (each uses its own case ids), as its
    owner (a superuser): for tests that reach past the application's rights."""
    url = ensure_database(postgres_server, "kurator_test")
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """The same database as the application logs in to it: a member of `kurator_app`, which
    may only read and append the case history."""
    url = url_as(owner_database_url, TEST_APP_LOGIN)
    ensure_app_login(owner_database_url, url)
    return url


@pytest.fixture
def empty_database_url(postgres_server: str) -> str:
    """A brand-new database with no schema at all."""
    return ensure_database(postgres_server, f"empty_{uuid.uuid4().hex[:12]}")


@pytest_asyncio.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_async_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def keys(sessions: SessionFactory) -> FamilyKeyStore:
    """The family key store over the test database, under the committed test master keys."""
    return test_key_store(sessions)


@pytest.fixture(scope="session")
def data_converter(keys: FamilyKeyStore) -> DataConverter:
    """Kurator's sealing data converter, as the worker and the API build it."""
    return sealing_data_converter(keys)


@pytest_asyncio.fixture
async def time_skipping_env(data_converter: DataConverter) -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test (it starts in about 0.1 s). Shared, one test's
    leftovers leak into the next: a workflow left running without its worker, or a completed
    parent whose abandoned child runs on, make the test server fall back to wall-clock time."""
    env = await start_time_skipping(data_converter)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env(data_converter: DataConverter) -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server(data_converter)
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so workers of different tests never share work."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def delivery_database_url(postgres_server: str) -> str:
    """A migrated database of the test's own, for delivery tests: a dispatcher drains every
    notification it finds, so it must not see other tests'."""
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
