"""Temporal goes away while an intake waits for its answer: the API answers 503 and its log
stays clean (no "Future exception was never retrieved" from the SDK's update-with-start)."""

import asyncio
import gc
import logging

import httpx
import pytest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.temporal import start_dev_server

SPECIALIST = bearer("outage-specialist", StaffRole.SPECIALIST, ("berdsk",))
INTAKE = {"source": "agency_referral", "municipality": "berdsk"}


async def _workflows_on(client: Client, task_queue: str) -> int:
    return len([w async for w in client.list_workflows(f'TaskQueue = "{task_queue}"')])


async def _lost_futures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """asyncio's reports of futures whose exception nobody retrieved. They are made when such
    a future is freed, which can wait for the SDK's native side to let go of a cancelled call:
    collect for a few seconds, returning as soon as there is one."""
    for _ in range(30):
        gc.collect()
        lost = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
        if lost:
            return lost
        await asyncio.sleep(0.1)
    return []


async def test_temporal_stopping_during_an_intake_is_503_and_logs_no_lost_future(
    database_url: str,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
    data_converter: DataConverter,
) -> None:
    caplog.set_level(logging.WARNING)
    # A server of the test's own, since it is stopped; no worker, so the intake stays waiting.
    env = await start_dev_server(data_converter)
    stopped = False
    try:
        settings = api_settings(env, database_url, task_queue, update_timeout_seconds=8)
        async with api_client(settings) as api:
            intake = asyncio.create_task(
                api.post(
                    "/api/v1/cases",
                    headers=post_headers(SPECIALIST),
                    json={**INTAKE, "family": synthetic_family()},
                )
            )
            # In flight: the workflow was started and the update waits for a worker.
            for _ in range(100):
                if await _workflows_on(env.client, task_queue) or intake.done():
                    break
                await asyncio.sleep(0.1)
            assert not intake.done(), "the intake answered before Temporal stopped"
            await env.shutdown()
            stopped = True
            response: httpx.Response = await intake
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "unavailable"
    finally:
        if not stopped:
            await env.shutdown()
    assert await _lost_futures(caplog) == []


async def test_an_intake_past_its_deadline_is_503_and_logs_no_lost_future(
    dev_env: WorkflowEnvironment,
    database_url: str,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No worker answers: the API's own deadline cancels the SDK's call, which stores that
    cancellation as the start's error."""
    caplog.set_level(logging.WARNING)
    settings = api_settings(dev_env, database_url, task_queue, update_timeout_seconds=1.5)
    async with api_client(settings) as api:
        response = await api.post(
            "/api/v1/cases",
            headers=post_headers(SPECIALIST),
            json={**INTAKE, "family": synthetic_family()},
        )
    assert response.status_code == 503, response.text
    assert await _lost_futures(caplog) == []
