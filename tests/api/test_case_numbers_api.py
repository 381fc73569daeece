"""Case numbers through the staff API (dev server, real worker, the app in-process): the
intake answers with the number, a retried or joining intake with the same one, the case's
state shows it, and the list finds a case by it, within the caller's territory only."""

from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from models.case_numbers import is_case_number
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.sealing import test_key_store
from workers.worker import build_worker

# A municipality no other test uses, so its sequence is this test's alone.
MUNICIPALITY = "severnoye_district"
CASES = "/api/v1/cases"
SPECIALIST = bearer("staff-151", StaffRole.SPECIALIST, (MUNICIPALITY,))
SUPERVISOR = bearer("staff-251", StaffRole.SUPERVISOR, (MUNICIPALITY,))
ELSEWHERE = bearer("staff-252", StaffRole.SUPERVISOR, ("berdsk",))


def _intake(family: dict[str, Any]) -> dict[str, Any]:
    return {"source": "self_request", "municipality": MUNICIPALITY, "family": family}


async def _numbers(api: httpx.AsyncClient, auth: dict[str, str], number: str) -> list[str]:
    response = await api.get(CASES, headers=auth, params={"number": number})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [item["case_number"] for item in page["items"]]


async def test_the_number_is_in_the_answers_and_finds_its_case(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    keys = test_key_store(sessions)
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        family = synthetic_family()
        headers = post_headers(SPECIALIST)
        opened = await api.post(CASES, headers=headers, json=_intake(family))
        assert opened.status_code == 201, opened.text
        case = opened.json()["case"]
        number = case["case_number"]
        year = case["opened_at"][:4]
        assert number == f"СЕВ-{year}-00001"
        retried = await api.post(CASES, headers=headers, json=_intake(family))
        joined = await api.post(CASES, headers=post_headers(SPECIALIST), json=_intake(family))
        other = await api.post(
            CASES, headers=post_headers(SPECIALIST), json=_intake(synthetic_family())
        )
        read = await api.get(f"{CASES}/{case['case_id']}", headers=SUPERVISOR)

        found = await _numbers(api, SUPERVISOR, number)
        typed_lower = await _numbers(api, SUPERVISOR, f" {number.lower()} ")
        unknown = await _numbers(api, SUPERVISOR, f"СЕВ-{year}-99999")
        outside = await _numbers(api, ELSEWHERE, number)
        refused = [
            await api.get(CASES, headers=SUPERVISOR, params={"number": bad})
            for bad in ("42", "SEV-2026-00001", "СЕВ-2026-1", "СЕВ-2026-00001; DROP", "x" * 33)
        ]

    assert retried.status_code == 201, retried.text  # the first answer, replayed
    assert retried.json()["case"]["case_number"] == number
    assert joined.status_code == 200, joined.text
    assert joined.json()["joined"] is True
    assert joined.json()["case"]["case_number"] == number
    assert other.status_code == 201, other.text
    assert other.json()["case"]["case_number"] == f"СЕВ-{year}-00002"
    assert read.json()["case_number"] == number
    assert is_case_number(number)
    assert found == typed_lower == [number]
    assert unknown == []
    assert outside == []
    for response in refused:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
        assert "number" in response.json()["message"]
