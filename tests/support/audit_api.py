"""The staff API with a real worker, and the calls of the audit endpoints, for the audit
tests (tests/api/test_audit_*.py)."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import (
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
    synthetic_family,
)
from workers.worker import build_worker

CASES = "/api/v1/cases"
AUDIT = "/api/v1/audit"


@asynccontextmanager
async def audit_service(
    env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(env, database_url, task_queue)) as api,
    ):
        yield api


class AuditStaff:
    """A centre's specialist, supervisor and head in `municipality`, a head elsewhere, and the
    ministry."""

    def __init__(self, municipality: str, elsewhere: str = "berdsk") -> None:
        suffix = uuid.uuid4().hex[:8]
        self.curator_id = f"curator-{suffix}"
        self.specialist = bearer(self.curator_id, StaffRole.SPECIALIST, (municipality,))
        self.supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (municipality,))
        self.head = bearer(f"head-{suffix}", StaffRole.HEAD, (municipality,))
        self.other_head_id = f"head-other-{suffix}"
        self.other_head = bearer(self.other_head_id, StaffRole.HEAD, (elsewhere,))
        self.ministry_id = f"ministry-{suffix}"
        self.ministry = bearer(self.ministry_id, StaffRole.MINISTRY, ())


async def open_case(
    api: httpx.AsyncClient,
    auth: dict[str, str],
    municipality: str,
    *,
    key: str | None = None,
    comment: str = "synthetic request",
) -> dict[str, Any]:
    response = await api.post(
        CASES,
        headers=post_headers(auth, key),
        json={
            "source": "self_request",
            "municipality": municipality,
            "family": synthetic_family(),
            "comment": comment,
            "policy": "compressed",
        },
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()["case"]
    return case


async def history(api: httpx.AsyncClient, case_id: str, auth: dict[str, str]) -> dict[str, Any]:
    response = await api.get(
        f"{AUDIT}/cases/{case_id}/history", headers=read_headers(auth, "audit")
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def state_at(
    api: httpx.AsyncClient, case_id: str, auth: dict[str, str], at: str
) -> httpx.Response:
    return await api.get(
        f"{AUDIT}/cases/{case_id}/state",
        headers=read_headers(auth, "audit"),
        params={"at": at},
    )


async def export_text(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], **params: str
) -> str:
    """An export's whole body, read as a stream."""
    chunks = []
    async with api.stream(
        "GET", f"{AUDIT}{path}", headers=read_headers(auth, "audit"), params=params
    ) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        async for chunk in response.aiter_text():
            chunks.append(chunk)
    return "".join(chunks)


def records(jsonl: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in jsonl.splitlines()]
