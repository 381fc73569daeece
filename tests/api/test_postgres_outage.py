"""PostgreSQL goes away while the API runs, then comes back: every answer meanwhile is 503
with Retry-After and a JSON reason naming the database (never a 500, never personal data or
SQL), /health names postgres, and once it is back the same API answers again, unrestarted.

The test stops and restarts an embedded PostgreSQL of its own (the session's shared one must
stay up for every other test); Temporal is the session's dev server and the worker is real.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import DATABASE_CONNECT_TIMEOUT_SECONDS
from infra.migrate import upgrade_to_head
from infra.sealing.converter import sealing_data_converter
from models.db import make_async_engine, make_session_factory
from models.payloads.vocabulary import StaffRole
from tests.support.api import (
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
    synthetic_family,
)
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.worker import build_worker

CASES = "/api/v1/cases"
MUNICIPALITY = "berdsk"
SPECIALIST = bearer("outage-specialist", StaffRole.SPECIALIST, (MUNICIPALITY,))
UPDATE_TIMEOUT = 3.0


@dataclass(frozen=True)
class OwnPostgres:
    server: EmbeddedPostgres
    url: str


@pytest_asyncio.fixture
async def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OwnPostgres]:
    """A migrated database on an embedded cluster of this test's own, to stop and restart."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("outage-postgres") / "data")
    server_url = await asyncio.to_thread(server.start)
    try:
        url = await asyncio.to_thread(ensure_database, server_url, "kurator_outage")
        await asyncio.to_thread(upgrade_to_head, url)
        yield OwnPostgres(server=server, url=url)
    finally:
        await asyncio.to_thread(server.stop)


async def _worker(dev_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str) -> Worker:
    """The real worker on this test's database, its payloads sealed with that database's keys
    as the API's are (the session's dev server client holds the shared database's keys)."""
    sessions = make_session_factory(engine)
    keys = test_key_store(sessions)
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=sealing_data_converter(keys),
    )
    return build_worker(client, task_queue=task_queue, sessions=sessions, keys=keys)


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (
        response.request.method,
        response.request.url,
        response.text,
    )
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "database_unavailable", body
    message = body["message"].lower()
    assert "database" in message
    assert "postgresql" in message
    for sql in ("select", "insert", "update ", "where", "%("):
        assert sql not in message, body


async def test_postgres_down_is_503_naming_the_database_and_the_api_recovers(
    dev_env: WorkflowEnvironment,
    own_postgres: OwnPostgres,
    task_queue: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry_id = f"TEST-{uuid.uuid4().hex[:12]}"
    family = synthetic_family(registry_id)
    personal = [registry_id, *(member["full_name"] for member in family["members"])]
    intake = {"source": "self_request", "municipality": MUNICIPALITY, "family": family}
    engine = make_async_engine(own_postgres.url)
    settings = api_settings(
        dev_env, own_postgres.url, task_queue, update_timeout_seconds=UPDATE_TIMEOUT
    )
    try:
        async with (
            await _worker(dev_env, engine, task_queue),
            api_client(settings) as api,
        ):
            opened = await api.post(CASES, headers=post_headers(SPECIALIST), json=intake)
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["case"]["case_id"]
            path = f"{CASES}/{case_id}"
            await eventually(
                lambda: api.get("/health"), lambda r: r.status_code == 200, within=15, what="health"
            )

            await asyncio.to_thread(own_postgres.server.stop)

            for response in (
                await api.get(path, headers=SPECIALIST),
                await api.get(CASES, headers=SPECIALIST),
                await api.get(f"{path}/events", headers=read_headers(SPECIALIST)),
                await api.get("/api/v1/tasks", headers=SPECIALIST),
                await api.post(CASES, headers=post_headers(SPECIALIST), json=intake),
                await api.post(f"{path}/contacts", headers=post_headers(SPECIALIST), json={}),
            ):
                _unavailable(response)
                for value in personal:
                    assert value not in response.text
            health = await api.get("/health")
            assert health.status_code == 503, health.text
            components = health.json()["components"]
            assert components["postgres"]["ok"] is False
            assert components["postgres"]["problem"]
            assert components["temporal"]["ok"] is True

            # Back again: the same API answers, its pool reconnecting by itself.
            await asyncio.to_thread(own_postgres.server.start)
            read = await eventually(
                lambda: api.get(path, headers=SPECIALIST),
                lambda r: r.status_code != 503,
                within=20,
                what="a read after the restart",
            )
            assert read.status_code == 200, read.text
            assert read.json()["stage"] == "identified"
            registered = await eventually(
                lambda: api.post(f"{path}/intake", headers=post_headers(SPECIALIST), json={}),
                lambda r: r.status_code != 503,
                within=30,
                what="an action after the restart",
            )
            assert registered.status_code == 200, registered.text
            assert registered.json()["stage"] == "assessment"
            another = {**intake, "family": synthetic_family()}
            reopened = await api.post(CASES, headers=post_headers(SPECIALIST), json=another)
            assert reopened.status_code == 201, reopened.text
            await eventually(
                lambda: api.get("/health"), lambda r: r.status_code == 200, within=15, what="health"
            )
    finally:
        await engine.dispose()
    logged = capfd.readouterr()
    for value in personal:
        assert value not in logged.out
        assert value not in logged.err
        assert value not in caplog.text


async def test_while_postgres_restarts_every_answer_is_an_answer_not_a_500(
    dev_env: WorkflowEnvironment, own_postgres: OwnPostgres, task_queue: str
) -> None:
    """Requests keep coming while PostgreSQL stops and starts again (connections cut mid-use,
    refused, then accepted): each is answered 200, 201 or 503, and never 500."""
    settings = api_settings(
        dev_env, own_postgres.url, task_queue, update_timeout_seconds=UPDATE_TIMEOUT
    )
    intake = {"source": "proactive", "municipality": MUNICIPALITY, "family": synthetic_family()}
    engine = make_async_engine(own_postgres.url)
    async with (
        await _worker(dev_env, engine, task_queue),
        api_client(settings) as api,
    ):
        statuses: list[tuple[str, int]] = []
        done = asyncio.Event()

        async def keep_asking(method: str, target: str) -> None:
            while not done.is_set():
                if method == "POST":
                    body = {**intake, "family": synthetic_family()}
                    response = await api.post(target, headers=post_headers(SPECIALIST), json=body)
                else:
                    response = await api.get(target, headers=SPECIALIST)
                statuses.append((f"{method} {target}", response.status_code))
                assert response.status_code != 500, response.text
                await asyncio.sleep(0.02)

        askers = [
            asyncio.create_task(keep_asking(method, target))
            for method, target in (
                ("GET", "/health"),
                ("GET", CASES),
                ("GET", "/api/v1/tasks"),
                ("GET", f"{CASES}/{uuid.uuid4()}"),
                ("POST", CASES),
            )
        ]
        try:
            for _ in range(2):
                await asyncio.sleep(0.5)
                await asyncio.to_thread(own_postgres.server.stop)
                await asyncio.sleep(0.5)
                await asyncio.to_thread(own_postgres.server.start)
            await asyncio.sleep(0.5)
        finally:
            done.set()
            await asyncio.gather(*askers)
    await engine.dispose()
    answered = {status for _, status in statuses}
    unexpected = [(what, status) for what, status in statuses if status not in (200, 201, 404, 503)]
    assert not unexpected, unexpected
    assert 503 in answered, statuses
    assert 200 in answered, statuses


@pytest.mark.timing
async def test_a_postgres_that_never_answers_is_503_in_bounded_time(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A server that accepts connections and then says nothing (a frozen PostgreSQL, a
    half-open network path): the connection attempt is bounded, then 503, not a hang."""
    silent: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)  # kept open, never written to

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = api_settings(dev_env, f"postgresql://kurator@127.0.0.1:{port}/kurator", task_queue)
    try:
        # No staff to register in a database that never answers (registering would wait too).
        async with api_client(settings, register_staff=False) as api:
            started = time.monotonic()
            async with asyncio.timeout(DATABASE_CONNECT_TIMEOUT_SECONDS + 10):
                response = await api.get(CASES, headers=SPECIALIST)
            waited = time.monotonic() - started
            _unavailable(response)
            assert waited < DATABASE_CONNECT_TIMEOUT_SECONDS + 2, f"answered after {waited:.1f}s"
    finally:
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()
