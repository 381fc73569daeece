"""A worker dies (kill -9) with cases in its sticky cache; a new one takes over in seconds.

Each case's next workflow task first goes to the dead worker's sticky queue and moves to the
shared task queue only after the sticky schedule-to-start timeout. That timeout must be short
against the API's update timeout, or the first action after a crash answers 503.
"""

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.worker_process import worker_process

SPECIALIST = bearer("recovery-specialist", StaffRole.SPECIALIST, ("berdsk",))
CASES = "/api/v1/cases"
RECOVERY_BOUND_SECONDS = 5
URGENT = {"service": "food_set"}


async def _urgent(api: httpx.AsyncClient, case_id: str) -> tuple[int, float]:
    started = time.monotonic()
    response = await api.post(
        f"{CASES}/{case_id}/urgent-services", headers=post_headers(SPECIALIST), json=URGENT
    )
    return response.status_code, time.monotonic() - started


@pytest.mark.timing
@pytest.mark.slow
async def test_after_a_worker_is_killed_the_next_actions_are_accepted_within_seconds(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, tmp_path: Path
) -> None:
    log = tmp_path / "workers.log"
    # The API as configured by default: its update timeout is the one under test.
    settings = api_settings(dev_env, database_url, task_queue)
    async with api_client(settings) as api:
        with worker_process(dev_env, database_url, task_queue, log) as first:
            case_ids = []
            for _ in range(3):
                opened = await api.post(
                    CASES,
                    headers=post_headers(SPECIALIST),
                    json={
                        "source": "agency_referral",
                        "municipality": "berdsk",
                        "family": synthetic_family(f"TEST-RECOVERY-{uuid.uuid4().hex[:8]}"),
                    },
                )
                assert opened.status_code == 201, opened.text
                case_ids.append(opened.json()["case"]["case_id"])
            # Each case's history is now in the first worker's sticky cache.
            for case_id in case_ids:
                assert (await _urgent(api, case_id))[0] == 200

            first.kill()  # SIGKILL: no chance to tell the server it is going
            first.wait()
            killed = time.monotonic()
            with worker_process(dev_env, database_url, task_queue, log):
                answers = await asyncio.gather(*(_urgent(api, case_id) for case_id in case_ids))
                recovered = time.monotonic() - killed

    statuses = [status for status, _ in answers]
    assert statuses == [200] * len(case_ids), f"{statuses}; worker log: {log.read_text()[-2000:]}"
    assert recovered < RECOVERY_BOUND_SECONDS, (
        f"first actions accepted {recovered:.1f}s after the kill: "
        f"{[round(seconds, 1) for _, seconds in answers]}"
    )
