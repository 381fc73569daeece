"""An Idempotency-Key names one request. The same key with the same request replays its
answer; the same key with a different body, action, case or caller is 422
`idempotency_key_reused`, and the new request has no effect at all (it used to be answered with
the first request's result, its own body silently dropped).

Real servers throughout: the dev server, a real worker, PostgreSQL, the app in-process.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.families import locate_family
from models.db import SessionFactory
from models.identity import family_key
from models.payloads.vocabulary import StaffRole
from tests.support.api import (
    PSEUDONYM_SECRET,
    api_client,
    api_settings,
    bearer,
    post_headers,
    synthetic_family,
)
from tests.support.cases import recorded_actions
from workers.worker import build_worker

MUNICIPALITY = "berdsk"
CASES = "/api/v1/cases"
SPECIALIST = bearer("idem-specialist", StaffRole.SPECIALIST, (MUNICIPALITY,))
COLLEAGUE = bearer("idem-colleague", StaffRole.SPECIALIST, (MUNICIPALITY,))


def _key() -> str:
    return f"idem-{uuid.uuid4().hex}"


def _intake(registry_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "source": "agency_referral",
        "municipality": MUNICIPALITY,
        "family": synthetic_family(registry_id),
        **extra,
    }


def _reused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "idempotency_key_reused", body
    assert "Idempotency-Key" in body["message"]
    assert "different" in body["message"]


@pytest_asyncio.fixture
async def api(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as client,
    ):
        yield client


async def _open(api: httpx.AsyncClient) -> str:
    response = await api.post(CASES, headers=post_headers(SPECIALIST), json=_intake())
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case"]["case_id"]
    return case_id


async def test_an_action_key_reused_with_another_body_is_422_and_has_no_effect(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case_id = await _open(api)
    key = _key()
    path = f"{CASES}/{case_id}/contacts"
    first = await api.post(
        path, headers=post_headers(SPECIALIST, key), json={"reached": True, "comment": "phone"}
    )
    assert first.status_code == 200, first.text
    other = await api.post(
        path, headers=post_headers(SPECIALIST, key), json={"reached": False, "comment": "visit"}
    )
    _reused(other)
    # The same request again, its JSON spaced and ordered differently: the original answer.
    replay = await api.post(
        path,
        headers={**post_headers(SPECIALIST, key), "Content-Type": "application/json"},
        content=json.dumps({"comment": "phone", "reached": True}, indent=4).encode(),
    )
    assert replay.status_code == 200, replay.text
    assert replay.json() == first.json()
    assert (await recorded_actions(sessions, case_id)).count("contact_recorded") == 1


async def test_a_key_reused_for_another_action_case_or_caller_is_422(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case_id, other_case_id = await _open(api), await _open(api)
    key = _key()
    first = await api.post(
        f"{CASES}/{case_id}/urgent-services",
        headers=post_headers(SPECIALIST, key),
        json={"service": "clothing"},
    )
    assert first.status_code == 200, first.text
    another_action = await api.post(
        f"{CASES}/{case_id}/contacts", headers=post_headers(SPECIALIST, key), json={}
    )
    _reused(another_action)
    another_case = await api.post(
        f"{CASES}/{other_case_id}/urgent-services",
        headers=post_headers(SPECIALIST, key),
        json={"service": "clothing"},
    )
    _reused(another_case)
    another_caller = await api.post(
        f"{CASES}/{case_id}/urgent-services",
        headers=post_headers(COLLEAGUE, key),
        json={"service": "clothing"},
    )
    _reused(another_caller)
    an_intake = await api.post(CASES, headers=post_headers(SPECIALIST, key), json=_intake())
    _reused(an_intake)
    assert "contact_recorded" not in await recorded_actions(sessions, case_id)
    assert "urgent_service_given" not in await recorded_actions(sessions, other_case_id)


async def test_an_intake_key_reused_with_another_family_is_422_and_writes_nothing(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    key = _key()
    first_family, second_family = f"TEST-{uuid.uuid4().hex[:12]}", f"TEST-{uuid.uuid4().hex[:12]}"
    first = await api.post(CASES, headers=post_headers(SPECIALIST, key), json=_intake(first_family))
    assert first.status_code == 201, first.text
    other = await api.post(
        CASES, headers=post_headers(SPECIALIST, key), json=_intake(second_family)
    )
    _reused(other)
    assert first_family not in other.text
    assert second_family not in other.text
    # The second family's record was not written, not even half.
    async with sessions() as session:
        assert (
            await locate_family(
                session, family_key=family_key(second_family, PSEUDONYM_SECRET.encode())
            )
            is None
        )
    # The comment changed: another request too.
    commented = await api.post(
        CASES, headers=post_headers(SPECIALIST, key), json=_intake(first_family, comment="more")
    )
    _reused(commented)
    replay = await api.post(
        CASES, headers=post_headers(SPECIALIST, key), json=_intake(first_family)
    )
    assert replay.status_code == 201, replay.text
    assert replay.json() == first.json()


async def test_a_key_can_be_used_again_after_a_refusal_that_never_reached_the_case(
    api: httpx.AsyncClient,
) -> None:
    """An invalid body (422), a forbidden role (403) or an unknown case (404) does not spend the
    key: the corrected request with the same key goes through."""
    case_id = await _open(api)
    key = _key()
    invalid = await api.post(
        f"{CASES}/{case_id}/contacts", headers=post_headers(SPECIALIST, key), json={"reachd": 1}
    )
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["code"] == "invalid_request"
    unknown = await api.post(
        f"{CASES}/{uuid.uuid4()}/contacts", headers=post_headers(SPECIALIST, key), json={}
    )
    assert unknown.status_code == 404, unknown.text
    forbidden = await api.post(
        f"{CASES}/{case_id}/curator",
        headers=post_headers(SPECIALIST, key),
        json={"curator": "curator-2"},
    )
    assert forbidden.status_code == 403, forbidden.text
    corrected = await api.post(
        f"{CASES}/{case_id}/contacts", headers=post_headers(SPECIALIST, key), json={}
    )
    assert corrected.status_code == 200, corrected.text


async def test_concurrent_requests_with_one_key_and_two_bodies_apply_one(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    case_id = await _open(api)
    key = _key()
    path = f"{CASES}/{case_id}/urgent-services"
    responses = await asyncio.gather(
        *(
            api.post(path, headers=post_headers(SPECIALIST, key), json={"service": service})
            for service in ("clothing", "food_set", "clothing", "food_set")
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 422, 422], [response.text for response in responses]
    for response in responses:
        if response.status_code == 422:
            _reused(response)
    applied = {response.json()["case_id"] for response in responses if response.status_code == 200}
    assert applied == {case_id}
    assert (await recorded_actions(sessions, case_id)).count("urgent_service_given") == 1
