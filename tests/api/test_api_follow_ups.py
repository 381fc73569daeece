"""A follow-up the policy allows is taken the moment the case closes: never refused because the
follow-up workflow has not run its first task yet (it arms its deadlines in `@workflow.init`,
and the API waits, within its update timeout, for the workflow the closure starts)."""

import asyncio
import uuid

import httpx
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from workers.worker import build_worker

MUNICIPALITY = "kargat_district"
CASES = "/api/v1/cases"
TRIALS = 6


async def _close_then_follow_up(
    api: httpx.AsyncClient, specialist: dict[str, str], supervisor: dict[str, str]
) -> httpx.Response:
    opened = await api.post(
        CASES,
        headers=post_headers(specialist),
        json={
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": synthetic_family(),
            "policy": "compressed",
        },
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    requested = await api.post(
        f"{CASES}/{case_id}/closure-request",
        headers=post_headers(specialist),
        json={"reason": "written_refusal"},
    )
    assert requested.status_code == 200, requested.text
    approved = await api.post(
        f"{CASES}/{case_id}/closure-approval",
        headers=post_headers(supervisor),
        json={"approve": True},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["stage"] == "closed"
    # At once: no pause between the closure's answer and the follow-up.
    return await api.post(
        f"{CASES}/{case_id}/follow-ups",
        headers=post_headers(specialist),
        json={"number": 1, "reached": True},
    )


async def test_the_first_follow_up_is_taken_right_after_closure(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    specialist = bearer(f"curator-{suffix}", StaffRole.SPECIALIST, (MUNICIPALITY,))
    supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        answers = await asyncio.gather(
            *(_close_then_follow_up(api, specialist, supervisor) for _ in range(TRIALS))
        )
    for answer in answers:
        assert answer.status_code == 200, answer.text
        follow_ups = [d for d in answer.json()["deadlines"] if d["code"] == "T9"]
        assert [d["key"] for d in follow_ups] == ["T9:2"], answer.text
