"""Fixtures of the API tests that drive cases through their timers."""

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from tests.support.api import api_client, api_settings
from tests.support.sealing import test_key_store
from workers.worker import build_worker


@pytest_asyncio.fixture
async def api(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, with the real worker, on the time-skipping server: for tests that
    skip months ahead (a social contract's monitoring, a commission's programme). A module
    may define its own `api` (on the dev server, say), which takes precedence."""
    env = time_skipping_env
    async with (
        build_worker(
            env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(env, database_url, task_queue)) as client,
    ):
        yield client
