"""Route and curator proposals for real cases: the dev server, the real worker and the app
in-process, on the compressed policy. A resource map of invented providers in a municipality
no other test uses; the family's needs come from its assessment."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.staff_member import StaffMember
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.polling import eventually
from tests.support.resources import provider_body
from tests.support.sealing import test_key_store
from workers.worker import build_worker

MUNICIPALITY = "chany_district"
NEIGHBOUR = "severnoye_district"
CASES = "/api/v1/cases"


@asynccontextmanager
async def _service(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        yield api


class Staff:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.curators = [f"curator-a-{tag}", f"curator-b-{tag}", f"curator-c-{tag}"]
        self.specialist = bearer(self.curators[0], StaffRole.SPECIALIST, (MUNICIPALITY,))
        self.supervisor = bearer(f"sup-{tag}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
        self.ministry = bearer(f"min-{tag}", StaffRole.MINISTRY, ())


async def _post(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _entry(api: httpx.AsyncClient, staff: Staff, **fields: Any) -> str:
    home = fields.pop("municipality", MUNICIPALITY)
    body = {"provider": provider_body(home, **fields)}
    created = await _post(api, "/api/v1/resources", staff.ministry, body)
    return str(created["id"])


async def _assessed_case(api: httpx.AsyncClient, staff: Staff) -> str:
    created = await _post(
        api,
        CASES,
        staff.specialist,
        {
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": synthetic_family(),
            "policy": "compressed",
        },
    )
    case_id: str = created["case"]["case_id"]
    await _post(api, f"{CASES}/{case_id}/intake", staff.specialist, {})
    early = await api.get(f"{CASES}/{case_id}/route-proposals", headers=staff.specialist)
    assert (early.status_code, early.json()["code"]) == (409, "not_assessed")
    view = await _post(
        api,
        f"{CASES}/{case_id}/assessment",
        staff.specialist,
        {
            "decision": "need_recognised",
            "circumstances": ["child_adaptation_difficulty"],
            "level": "L1",
        },
    )
    assert view["stage"] == "routing"
    return case_id


async def _proposals(api: httpx.AsyncClient, staff: Staff, case_id: str) -> dict[str, Any]:
    async def read() -> httpx.Response:
        return await api.get(f"{CASES}/{case_id}/route-proposals", headers=staff.specialist)

    response = await eventually(read, lambda r: r.status_code == 200, what="proposals")
    answer: dict[str, Any] = response.json()
    return answer


async def test_providers_are_proposed_for_the_familys_needs_and_capacity_counts(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    staff = Staff()
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        small = await _entry(
            api, staff, services=["psychological", "pedagogical"], channels=["psychological"],
            capacity=1,
        )  # fmt: skip
        one_service = await _entry(api, staff, services=["psychological"], capacity=5)
        from_elsewhere = await _entry(
            api, staff, municipality=NEIGHBOUR,
            served_municipalities=[NEIGHBOUR, MUNICIPALITY],
            services=["psychological", "pedagogical", "communication"], capacity=10,
        )  # fmt: skip
        unrelated = await _entry(api, staff, services=["legal"])
        elsewhere_only = await _entry(
            api, staff, municipality=NEIGHBOUR, served_municipalities=[NEIGHBOUR]
        )
        gone = await _entry(api, staff)
        await _post(
            api, f"/api/v1/resources/{gone}/deactivate", staff.ministry, {"reason": "закрыт"}
        )

        first = await _assessed_case(api, staff)
        proposed = await _proposals(api, staff, first)
        assert proposed["needed_services"] == ["communication", "pedagogical", "psychological"]
        assert proposed["needed_channels"] == ["pedagogical", "psychological"]
        ours = [
            p
            for p in proposed["proposals"]
            if p["provider_id"] in {small, one_service, from_elsewhere}
        ]
        # Three needs met, local; three met, from elsewhere; one met.
        assert [p["provider_id"] for p in ours] == [small, from_elsewhere, one_service]
        listed = {p["provider_id"] for p in proposed["proposals"]}
        assert not listed & {unrelated, elsewhere_only, gone}
        codes = {p["provider_id"]: [r["code"] for r in p["reasons"]] for p in ours}
        assert codes[small] == [
            "offers_needed_services", "offers_needed_channels", "own_territory",
            "has_free_capacity",
        ]  # fmt: skip
        assert "serves_territory" in codes[from_elsewhere]
        assert all(r["text_ru"] for p in ours for r in p["reasons"])

        # The specialist confirms the first proposal; the plan names it by id.
        path = f"{CASES}/{first}"
        view = await _post(
            api, f"{path}/route", staff.specialist,
            {"routes": ["other_providers"], "provider_ids": [small]},
        )  # fmt: skip
        assert view["details"]["route"]["provider_ids"] == [small]
        await _post(api, f"{path}/team", staff.specialist, {"curator": staff.curators[0]})
        deadline = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
        item = {
            "item_id": "item-1",
            "service_type": "psychological",
            "provider": "Тестовый центр",
            "responsible": staff.curators[0],
            "deadline": deadline,
        }
        outside = {**item, "provider_id": elsewhere_only}
        refused = await api.post(
            f"{path}/plan", headers=post_headers(staff.supervisor), json={"items": [outside]}
        )
        assert refused.status_code == 422, refused.text
        assert (
            f"items.0.provider_id: resource map entry {elsewhere_only} does not serve"
            in (refused.json()["message"])
        )
        plan = {"items": [{**item, "provider_id": small}, {**item, "item_id": "item-2"}]}
        view = await _post(api, f"{path}/plan", staff.supervisor, plan)
        by_id = {i["item_id"]: i["provider_id"] for i in view["plan_items"]}
        assert by_id == {"item-1": small, "item-2": None}  # item-2: outside the map

        # The small provider's one place is taken now: proposed last, and it says so.
        second = await _assessed_case(api, staff)
        proposed = await _proposals(api, staff, second)
        ours = [
            p
            for p in proposed["proposals"]
            if p["provider_id"] in {small, one_service, from_elsewhere}
        ]
        assert [p["provider_id"] for p in ours] == [from_elsewhere, one_service, small]
        full = ours[-1]
        assert (full["at_capacity"], full["in_use"], full["free"]) == (True, 1, 0)
        assert "at_capacity" in [r["code"] for r in full["reasons"]]
        assert proposed["proposals"][-1]["provider_id"] == small

        route = f"{CASES}/{second}/route"
        for body, field in (
            ({"routes": ["other_providers"], "provider_ids": [small]}, "comment"),
            ({"routes": ["other_providers"], "provider_ids": [unrelated]}, "comment"),
            ({"routes": ["other_providers"], "providers": ["Фонд Вымышленный"]}, "comment"),
            (
                {"routes": ["other_providers"], "provider_ids": [str(uuid.uuid4())]},
                "provider_ids.0",
            ),
            ({"routes": ["other_providers"], "provider_ids": [gone]}, "provider_ids.0"),
        ):
            response = await api.post(route, headers=post_headers(staff.specialist), json=body)
            assert response.status_code == 422, response.text
            assert response.json()["message"].startswith(f"{field}: "), response.text
        view = await _post(
            api, route, staff.specialist,
            {"routes": ["other_providers"], "provider_ids": [unrelated],
             "comment": "семья уже получает там помощь"},
        )  # fmt: skip
        assert view["stage"] == "team"


async def test_curators_are_proposed_by_weighted_caseload(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    staff = Staff()
    busy, free, retired = staff.curators
    async with sessions() as session, session.begin():
        for staff_id, active in ((busy, True), (free, True), (retired, False)):
            session.add(
                StaffMember(
                    staff_id=staff_id,
                    full_name=f"Тестовый Куратор {staff_id}",
                    role="specialist",
                    municipalities=[MUNICIPALITY],
                    active=active,
                )
            )
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        first = await _assessed_case(api, staff)
        await _post(api, f"{CASES}/{first}/route", staff.specialist, {"routes": ["own_services"]})
        await _post(api, f"{CASES}/{first}/team", staff.specialist, {"curator": busy})

        second = await _assessed_case(api, staff)
        response = await api.get(f"{CASES}/{second}/curator-proposals", headers=staff.specialist)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["caseload_limit"] == 30
        ours = [p for p in answer["proposals"] if p["staff_id"] in staff.curators]
        assert [(p["staff_id"], p["open_cases"], p["caseload"]) for p in ours] == [
            (free, 0, 0.0),
            (busy, 1, 1.0),  # one open L1 case
        ]
        assert not any(p["over_limit"] for p in ours)
        assert ours[0]["full_name"] == f"Тестовый Куратор {free}"
