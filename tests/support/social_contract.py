"""The staff side of a social contract for the API tests (tests/api/test_api_social_contract.py,
test_api_family_category.py, test_contract_inbox_audit.py): a family in Iskitim district
routed to a job-search contract on the compressed policy (a month lasts 60 s), and reading the
contract's state."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from temporalio.testing import WorkflowEnvironment

from models.crud.case_events import list_events
from models.db import SessionFactory
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.vocabulary import StaffRole
from tests.support.api import bearer, post_headers, read_headers, synthetic_family
from tests.support.cases import sleep_until
from tests.support.polling import eventually
from tests.support.sealing import test_key_store

MUNICIPALITY = "iskitim_district"
CASES = "/api/v1/cases"
MONTH = timedelta(seconds=60)  # the compressed policy's month


class Staff:
    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.curator_id = f"curator-{suffix}"
        self.specialist = bearer(self.curator_id, StaffRole.SPECIALIST, (MUNICIPALITY,))
        self.supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
        self.outsider = bearer(f"other-{suffix}", StaffRole.SPECIALIST, ("berdsk",))


async def post(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def refused(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> tuple[int, str]:
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code in (409, 422), response.text
    return response.status_code, response.text


async def open_case(api: httpx.AsyncClient, staff: Staff) -> str:
    response = await api.post(
        CASES,
        headers=post_headers(staff.specialist),
        json={
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": synthetic_family(),
            "policy": "compressed",
        },
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case"]["case_id"]
    view = await post(api, f"{CASES}/{case_id}/intake", staff.specialist, {})
    assert view["stage"] == "assessment"
    return case_id


def plan_body(now: datetime) -> dict[str, Any]:
    return {
        "items": [
            {
                "item_id": "job-1",
                "service_type": "labour",
                "provider": "Центр занятости (синтетический)",
                "responsible": "staff-101",
                "deadline": (now + timedelta(seconds=300)).isoformat(),
            }
        ]
    }


async def to_support(
    api: httpx.AsyncClient, env: WorkflowEnvironment, staff: Staff, case_id: str
) -> dict[str, Any]:
    path = f"{CASES}/{case_id}"
    view = await post(
        api,
        f"{path}/assessment",
        staff.specialist,
        {
            "decision": "need_recognised",
            "circumstances": ["no_work_no_means"],
            "level": "L2",
            "category": "tzhs",
        },
    )
    assert view["family_category"] == "tzhs"
    view = await post(
        api,
        f"{path}/route",
        staff.specialist,
        {"routes": ["own_services", "social_contract"], "social_contract": "job_search"},
    )
    await post(api, f"{path}/team", staff.specialist, {"curator": staff.curator_id})
    now = await env.get_current_time()
    view = await post(api, f"{path}/plan", staff.supervisor, plan_body(now))
    assert view["stage"] == "support"
    return view


async def contract(
    api: httpx.AsyncClient,
    staff: Staff,
    case_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda state: True,
) -> dict[str, Any]:
    """The contract's state once it shows `until`: its workflow writes each step a moment
    after the timer or the start that caused it."""

    async def read() -> dict[str, Any] | None:
        response = await api.get(
            f"{CASES}/{case_id}/social-contract", headers=read_headers(staff.specialist)
        )
        assert response.status_code in (200, 404), response.text
        return response.json() if response.status_code == 200 else None

    found = await eventually(read, lambda state: state is not None and until(state))
    assert found is not None
    return found


async def contract_actions(sessions: SessionFactory, case_id: str) -> list[str]:
    async with sessions() as session:
        events = await list_events(
            session, case_id=contract_id_of(UUID(case_id)), keys=test_key_store(sessions)
        )
    return [event.action for event in events]


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Time skipped to `moment` a compressed month at a time: each month fires a few alarms,
    and one sleep RPC over a year of them outlasts its own timeout."""
    while (now := await env.get_current_time()) + MONTH < moment:
        await sleep_until(env, now + MONTH)
    await sleep_until(env, moment)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)
