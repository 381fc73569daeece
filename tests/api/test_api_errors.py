"""Every error answer of the staff API, provoked for real: the dev server, the real worker (or
none, when the test is about its absence), PostgreSQL, and the app in-process.

422 for bad input (never a 500), 409 with the workflow's reason, 404, 429 when a case has too
many actions in flight, 503 with Retry-After when the case does not answer in time, and the
idempotency that makes a retry safe: one effect, the same answer.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
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
from tests.support.cases import recorded_actions
from tests.support.polling import eventually
from workers.worker import build_worker

MUNICIPALITY = "berdsk"
CASES = "/api/v1/cases"
SPECIALIST = bearer("errors-specialist", StaffRole.SPECIALIST, (MUNICIPALITY,))
SUPERVISOR = bearer("errors-supervisor", StaffRole.SUPERVISOR, (MUNICIPALITY,))
# Short, so that the tests about a missing worker wait little.
UPDATE_TIMEOUT = 2.0


def _intake(registry_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "source": "agency_referral",
        "municipality": MUNICIPALITY,
        "family": synthetic_family(registry_id),
        **extra,
    }


@asynccontextmanager
async def _api(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = api_settings(
        dev_env, database_url, task_queue, update_timeout_seconds=UPDATE_TIMEOUT, **overrides
    )
    async with api_client(settings) as api:
        yield api


async def _open(api: httpx.AsyncClient) -> str:
    response = await api.post(CASES, headers=post_headers(SPECIALIST), json=_intake())
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case"]["case_id"]
    return case_id


def _error(response: httpx.Response, status: int, code: str) -> str:
    """The error's message, after checking its status, its JSON shape and its code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return str(body["message"])


# 422: the request itself is wrong.


async def test_a_bad_body_field_is_422_naming_the_field(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        case_id = await _open(api)
        before = await recorded_actions(sessions, case_id)
        path = f"{CASES}/{case_id}"

        wrong_value = await api.post(
            f"{path}/assessment", headers=post_headers(SPECIALIST), json={"decision": "maybe"}
        )
        assert "body.decision" in _error(wrong_value, 422, "invalid_request")
        assert wrong_value.json()["details"][0]["field"] == "body.decision"

        naive_deadline = {
            "items": [
                {
                    "item_id": "a",
                    "service_type": "legal",
                    "provider": "p",
                    "responsible": "x",
                    "deadline": "2030-01-01T10:00:00",
                }
            ]
        }
        naive = await api.post(
            f"{path}/plan", headers=post_headers(SUPERVISOR), json=naive_deadline
        )
        message = _error(naive, 422, "invalid_request")
        assert "body.items.0.deadline" in message
        assert "timezone" in message

        unknown_field = await api.post(
            f"{path}/contacts", headers=post_headers(SPECIALIST), json={"reachd": True}
        )
        assert "body.reachd" in _error(unknown_field, 422, "invalid_request")

        inconsistent = await api.post(
            f"{path}/reviews", headers=post_headers(SPECIALIST), json={"outcome": "change_level"}
        )
        assert "new_level" in _error(inconsistent, 422, "invalid_request")

        # Nothing reached the case.
        assert await recorded_actions(sessions, case_id) == before


async def test_unparsable_bodies_are_422_not_400_or_500(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    async with _api(dev_env, database_url, task_queue) as api:
        headers = {**post_headers(SPECIALIST), "Content-Type": "application/json"}
        for content in (b"\xff\xfe\x00{", b'{"source": ', b"[]", b"null", b'"text"'):
            response = await api.post(CASES, headers=headers, content=content)
            _error(response, 422, "invalid_request")


async def test_an_unknown_municipality_is_422(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    async with _api(dev_env, database_url, task_queue) as api:
        unknown = await api.post(
            CASES, headers=post_headers(SPECIALIST), json={**_intake(), "municipality": "atlantis"}
        )
        assert "atlantis" in _error(unknown, 422, "invalid_request")
        malformed = await api.post(
            CASES, headers=post_headers(SPECIALIST), json={**_intake(), "municipality": "Berdsk!"}
        )
        assert "body.municipality" in _error(malformed, 422, "invalid_request")


async def test_an_unknown_policy_is_422(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    async with _api(dev_env, database_url, task_queue) as api:
        unknown = await api.post(
            CASES, headers=post_headers(SPECIALIST), json=_intake(policy="nosuchpolicy")
        )
        assert "nosuchpolicy" in _error(unknown, 422, "invalid_request")


async def test_a_nul_character_in_an_intake_is_422(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    """PostgreSQL text cannot hold NUL: refused at the door, not a 500 or a stuck case."""
    async with _api(dev_env, database_url, task_queue) as api:
        in_comment = await api.post(
            CASES, headers=post_headers(SPECIALIST), json=_intake(comment="a\x00b")
        )
        assert "body.comment" in _error(in_comment, 422, "invalid_request")
        family = synthetic_family()
        family["members"][0]["full_name"] = "Тестова\x00Анна"
        in_name = await api.post(
            CASES, headers=post_headers(SPECIALIST), json={**_intake(), "family": family}
        )
        assert "full_name" in _error(in_name, 422, "invalid_request")


async def test_a_nul_character_in_an_action_is_422_and_the_case_goes_on(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        case_id = await _open(api)
        with_nul = await api.post(
            f"{CASES}/{case_id}/contacts",
            headers=post_headers(SPECIALIST),
            json={"reached": True, "comment": "a\x00b"},
        )
        assert "body.comment" in _error(with_nul, 422, "invalid_request")
        after = await api.post(
            f"{CASES}/{case_id}/contacts", headers=post_headers(SPECIALIST), json={}
        )
        assert after.status_code == 200, after.text


async def test_a_missing_or_malformed_idempotency_key_is_422(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    async with _api(dev_env, database_url, task_queue) as api:
        missing = await api.post(CASES, headers=SPECIALIST, json=_intake())
        assert "Idempotency-Key" in _error(missing, 422, "invalid_request")
        for key in ("short", "has spaces in it", "x" * 101):
            bad = await api.post(
                CASES, headers={**SPECIALIST, "Idempotency-Key": key}, json=_intake()
            )
            assert "Idempotency-Key" in _error(bad, 422, "invalid_request")


# 409 and 404: the case says no, or there is no such case.


async def test_an_action_not_allowed_in_the_stage_is_409_naming_the_stage(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    plan = {
        "items": [
            {
                "item_id": "a",
                "channel": "social",
                "provider": "p",
                "responsible": "x",
                "deadline": "2030-01-01T10:00:00+07:00",
            }
        ]
    }
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        case_id = await _open(api)
        before = await recorded_actions(sessions, case_id)
        response = await api.post(
            f"{CASES}/{case_id}/plan", headers=post_headers(SUPERVISOR), json=plan
        )
        message = _error(response, 409, "rejected")
        assert "approve_plan is not allowed in stage identified" in message
        no_plan = await api.post(
            f"{CASES}/{case_id}/plan-item-done",
            headers=post_headers(SPECIALIST),
            json={"item_id": "a"},
        )
        assert "identified" in _error(no_plan, 409, "rejected")
        # A refusal writes no history.
        assert await recorded_actions(sessions, case_id) == before


async def test_an_unknown_case_is_404(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    nobody = uuid.uuid4()
    async with _api(dev_env, database_url, task_queue) as api:
        for response in (
            await api.get(f"{CASES}/{nobody}", headers=SPECIALIST),
            await api.get(f"{CASES}/{nobody}/events", headers=SPECIALIST),
            await api.post(f"{CASES}/{nobody}/contacts", headers=post_headers(SPECIALIST), json={}),
        ):
            assert str(nobody) in _error(response, 404, "not_found")
        _error(await api.get(f"{CASES}/not-a-uuid", headers=SPECIALIST), 422, "invalid_request")
        _error(await api.get("/api/v1/nothing-here", headers=SPECIALIST), 404, "not_found")
        _error(await api.put(CASES, headers=SPECIALIST), 405, "method_not_allowed")


# When the case does not answer: 503, 429, and safe retries.


@pytest.mark.timing
async def test_no_worker_is_503_with_retry_after_and_a_retry_applies_once(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    key = f"urgent-{uuid.uuid4().hex}"
    urgent = {"service": "food_set", "comment": "the family has no food"}
    async with _api(dev_env, database_url, task_queue) as api:
        async with build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys
        ):
            case_id = await _open(api)
        path = f"{CASES}/{case_id}"

        # The worker is gone: the answer comes in bounded time, and says retry.
        started = time.monotonic()
        unknown = await api.post(
            f"{path}/urgent-services", headers=post_headers(SPECIALIST, key), json=urgent
        )
        waited = time.monotonic() - started
        assert "retry with the same Idempotency-Key" in _error(unknown, 503, "unavailable")
        assert int(unknown.headers["Retry-After"]) > 0
        assert waited < UPDATE_TIMEOUT + 1.5, f"answered after {waited:.1f}s"

        # Reads come from PostgreSQL: they answer without a worker.
        read = await api.get(path, headers=SPECIALIST)
        assert read.status_code == 200, read.text
        assert read.json()["stage"] == "identified"
        listed = await api.get(CASES, headers=SPECIALIST, params={"stage": "identified"})
        assert listed.status_code == 200
        assert (
            await api.get(f"{path}/events", headers=read_headers(SPECIALIST))
        ).status_code == 200
        assert (await api.get("/api/v1/tasks", headers=SPECIALIST)).status_code == 200

        # The worker is back: the client retries with the same key until it gets an answer.
        async with build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys
        ):

            async def retry() -> httpx.Response:
                return await api.post(
                    f"{path}/urgent-services", headers=post_headers(SPECIALIST, key), json=urgent
                )

            def answered(response: httpx.Response) -> bool:
                assert response.status_code in (200, 503), response.text
                return response.status_code == 200

            applied = await eventually(retry, answered, within=45, what="the retry's 200")
            again = await retry()
        assert again.status_code == 200
        assert again.json() == applied.json()

    actions = await recorded_actions(sessions, case_id)
    assert actions.count("urgent_service_given") == 1, actions


@pytest.mark.timing
async def test_too_many_actions_in_flight_on_one_case_is_429(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    """Temporal admits at most 10 updates in flight per workflow. With no worker to complete
    them, the 11th and 12th concurrent actions are refused: 429, retry shortly."""
    async with _api(dev_env, database_url, task_queue) as api:
        async with build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys
        ):
            case_id = await _open(api)
        started = time.monotonic()
        responses = await asyncio.gather(
            *(
                api.post(
                    f"{CASES}/{case_id}/urgent-services",
                    headers=post_headers(SPECIALIST),
                    json={"service": "clothing"},
                )
                for _ in range(14)
            )
        )
        waited = time.monotonic() - started
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {429, 503}, statuses
    # However the SDK retries underneath, each answer comes within the update timeout.
    assert waited < UPDATE_TIMEOUT + 1.5, f"answered after {waited:.1f}s"
    assert 429 in statuses, f"no 429 among {statuses}"
    refused = next(response for response in responses if response.status_code == 429)
    _error(refused, 429, "too_many_updates")
    assert int(refused.headers["Retry-After"]) > 0


@pytest.mark.timing
async def test_unreachable_temporal_is_503_in_bounded_time_and_reads_still_answer(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        case_id = await _open(api)
    async with _api(dev_env, database_url, task_queue, temporal_address="127.0.0.1:1") as api:
        started = time.monotonic()
        response = await api.post(
            f"{CASES}/{case_id}/contacts", headers=post_headers(SPECIALIST), json={}
        )
        waited = time.monotonic() - started
        _error(response, 503, "unavailable")
        assert "Retry-After" in response.headers
        assert waited < UPDATE_TIMEOUT + 1.5, f"answered after {waited:.1f}s"
        read = await api.get(f"{CASES}/{case_id}", headers=SPECIALIST)
        assert read.status_code == 200, read.text
        intake = await api.post(CASES, headers=post_headers(SPECIALIST), json=_intake())
        _error(intake, 503, "unavailable")


async def test_an_application_date_the_calendar_does_not_cover_is_refused_and_the_case_goes_on(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    """A date far in the past passes the body's validation; the workflow must refuse it (or
    the API must), not fail its workflow task: that leaves the case unable to answer."""
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        case_id = await _open(api)
        dated = await api.post(
            f"{CASES}/{case_id}/intake",
            headers=post_headers(SPECIALIST),
            json={"application_date": "2000-01-01"},
        )
        assert dated.status_code in (409, 422), dated.text
        registered = await api.post(
            f"{CASES}/{case_id}/intake", headers=post_headers(SPECIALIST), json={}
        )
        assert registered.status_code == 200, registered.text
        assert registered.json()["stage"] == "assessment"


# Idempotency and duplicates.


async def test_a_repeated_post_with_the_same_key_has_one_effect_and_the_same_answer(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    intake_key = f"intake-{uuid.uuid4().hex}"
    contact_key = f"contact-{uuid.uuid4().hex}"
    registry_id = f"TEST-{uuid.uuid4().hex[:12]}"
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        opened = [
            await api.post(
                CASES, headers=post_headers(SPECIALIST, intake_key), json=_intake(registry_id)
            )
            for _ in range(2)
        ]
        assert [r.status_code for r in opened] == [201, 201], [r.text for r in opened]
        assert opened[0].json() == opened[1].json()
        case_id = opened[0].json()["case"]["case_id"]

        contacts = [
            await api.post(
                f"{CASES}/{case_id}/contacts",
                headers=post_headers(SPECIALIST, contact_key),
                json={"reached": True, "comment": "by phone"},
            )
            for _ in range(3)
        ]
        assert [r.status_code for r in contacts] == [200, 200, 200], [r.text for r in contacts]
        assert contacts[0].json() == contacts[1].json() == contacts[2].json()

    actions = await recorded_actions(sessions, case_id)
    assert actions.count("signal_received") == 1, actions
    assert "signal_joined" not in actions
    assert actions.count("contact_recorded") == 1, actions


async def test_concurrent_intakes_for_one_family_make_one_case(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    registry_id = f"TEST-{uuid.uuid4().hex[:12]}"
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        _api(dev_env, database_url, task_queue) as api,
    ):
        responses = await asyncio.gather(
            *(
                api.post(CASES, headers=post_headers(SPECIALIST), json=_intake(registry_id))
                for _ in range(5)
            )
        )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201], [
        r.text for r in responses
    ]
    case_ids = {r.json()["case"]["case_id"] for r in responses}
    assert len(case_ids) == 1
    assert sorted(r.json()["joined"] for r in responses) == [False, True, True, True, True]
    case_id = case_ids.pop()
    actions = await recorded_actions(sessions, case_id)
    assert actions.count("signal_received") == 1
    assert actions.count("signal_joined") == 4
