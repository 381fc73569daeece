"""/health: 200 when PostgreSQL, Temporal and a worker are fine; 503 naming what is not."""

from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.settings import Settings
from tests.support.api import JWT_SECRET, PSEUDONYM_SECRET, api_client, api_settings
from tests.support.polling import eventually
from tests.support.sealing import TEST_MASTER_KEY_FILE
from workers.worker import build_worker


def _settings(env: WorkflowEnvironment, database_url: str, task_queue: str) -> Settings:
    return api_settings(env, database_url, task_queue)


async def test_healthy_when_every_component_answers(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions),
        api_client(_settings(dev_env, database_url, task_queue)) as api,
    ):
        # The worker's first poll reaches the server a moment after it starts.
        response = await eventually(
            lambda: api.get("/health"),
            lambda r: r.status_code == 200,
            within=15,
            what="/health 200 with a worker polling",
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {name: part["ok"] for name, part in body["components"].items()} == {
        "postgres": True,
        "temporal": True,
        "worker": True,
    }


async def test_no_worker_polling_is_503_naming_the_worker(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    async with api_client(_settings(dev_env, database_url, task_queue)) as api:
        response = await api.get("/health")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["worker"]["ok"] is False
    assert task_queue in components["worker"]["problem"]
    assert components["postgres"]["ok"] is True
    assert components["temporal"]["ok"] is True


async def test_unreachable_postgres_is_503_naming_postgres(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    nowhere = "postgresql://postgres@/kurator?host=/nonexistent-socket-dir"
    async with api_client(_settings(dev_env, nowhere, task_queue)) as api:
        response = await api.get("/health")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["postgres"]["ok"] is False
    assert "unreachable" in components["postgres"]["problem"]


async def test_unreachable_temporal_is_503_naming_temporal(
    database_url: str, task_queue: str
) -> None:
    settings = Settings(
        database_url=database_url,
        temporal_address="127.0.0.1:1",
        task_queue=task_queue,
        jwt_secret=SecretStr(JWT_SECRET),
        pseudonym_secret=SecretStr(PSEUDONYM_SECRET),
        master_key_file=TEST_MASTER_KEY_FILE,
    )
    async with api_client(settings) as api:
        response = await api.get("/health")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["temporal"]["ok"] is False
    assert components["worker"]["ok"] is False
    assert components["postgres"]["ok"] is True
