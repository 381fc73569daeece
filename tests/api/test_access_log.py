"""The access log of reads (PRODUCT.md §5, issue 10 point 6), through HTTP on real servers.

Every read of a case's history or a family's record needs an X-Purpose and leaves a row with
who, role, what, case and purpose; heads and the ministry list the log per family and per
staff member; a replayed intake writes no second row. Synthetic families only.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.family_access import FamilyAccess
from tests.support.api import (
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
    synthetic_family,
)
from workers.worker import build_worker

# Municipalities no other test uses.
A = "zdvinsk_district"
B = "kyshtovka_district"
CASES = "/api/v1/cases"
FAMILIES = "/api/v1/families"


@dataclass(frozen=True)
class World:
    api: httpx.AsyncClient
    sessions: SessionFactory
    case_id: str
    family_id: str
    suffix: str  # makes this run's staff ids its own

    def auth(self, role: StaffRole, municipality: str = A) -> dict[str, str]:
        return bearer(f"{role}-{municipality}-{self.suffix}", role, (municipality,))

    def staff_id(self, role: StaffRole, municipality: str = A) -> str:
        return f"{role}-{municipality}-{self.suffix}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, keys: FamilyKeyStore
) -> AsyncIterator[World]:
    task_queue = f"test-access-log-{uuid.uuid4().hex}"
    suffix = uuid.uuid4().hex[:8]
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        specialist = bearer(f"specialist-{A}-{suffix}", StaffRole.SPECIALIST, (A,))
        opened = await api.post(
            CASES,
            headers=post_headers(specialist),
            json={"source": "self_request", "municipality": A, "family": synthetic_family()},
        )
        assert opened.status_code == 201, opened.text
        yield World(
            api=api,
            sessions=sessions,
            case_id=opened.json()["case"]["case_id"],
            family_id=opened.json()["family_id"],
            suffix=suffix,
        )


async def _rows(world: World, **where: Any) -> list[FamilyAccess]:
    conditions = [col(getattr(FamilyAccess, name)) == value for name, value in where.items()]
    async with world.sessions() as session:
        statement = select(FamilyAccess).where(*conditions).order_by(col(FamilyAccess.at))
        return list((await session.exec(statement)).all())


async def _count(world: World) -> int:
    async with world.sessions() as session:
        return (await session.exec(select(func.count()).select_from(FamilyAccess))).one()


async def test_a_case_history_read_logs_who_role_what_case_and_purpose(world: World) -> None:
    supervisor = world.auth(StaffRole.SUPERVISOR)
    note = "проверка плана"
    response = await world.api.get(
        f"{CASES}/{world.case_id}/events",
        headers=read_headers(supervisor, f"supervision: {quote(note)}"),
    )
    assert response.status_code == 200, response.text
    assert response.json()
    rows = await _rows(world, staff_id=world.staff_id(StaffRole.SUPERVISOR), what="case_history")
    assert [
        (str(r.family_id), str(r.case_id), r.role, r.action, r.purpose_code, r.purpose)
        for r in rows
    ] == [
        (
            world.family_id,
            world.case_id,
            "supervisor",
            "read",
            "supervision",
            f"supervision: {note}",
        )
    ]


@pytest.mark.parametrize(
    ("purpose", "problem"),
    [
        (None, "X-Purpose"),
        ("   ", "X-Purpose: missing"),
        ("curiosity", "unknown purpose code"),
        ("audit: " + "x" * 151, "longer than 150"),
        ("audit " + "x" * 2001, "X-Purpose"),
        ("audit: a%00b", "control character"),
    ],
    ids=["missing", "blank", "unknown", "long-note", "too-long", "nul"],
)
async def test_a_read_without_a_valid_purpose_is_422_naming_the_header_and_logs_nothing(
    world: World, purpose: str | None, problem: str
) -> None:
    auth = world.auth(StaffRole.SUPERVISOR)
    headers = auth if purpose is None else {**auth, "X-Purpose": purpose}
    before = await _count(world)
    for path in (f"{CASES}/{world.case_id}/events", f"{FAMILIES}/{world.family_id}"):
        response = await world.api.get(path, headers=headers)
        assert response.status_code == 422, response.text
        assert "X-Purpose" in response.json()["message"]
        assert problem in response.json()["message"]
    assert await _count(world) == before


async def test_the_family_record_is_read_in_its_territory_with_a_logged_purpose(
    world: World,
) -> None:
    for role in StaffRole:
        response = await world.api.get(
            f"{FAMILIES}/{world.family_id}", headers=read_headers(world.auth(role), "case_work")
        )
        assert response.status_code == 200, (role, response.text)
        record = response.json()
        assert record["id"] == world.family_id
        assert "Тестов Иван Синтетический" in [m["full_name"] for m in record["members"]]
        rows = await _rows(
            world, staff_id=world.staff_id(role), what="family_record", action="read"
        )
        assert [r.purpose_code for r in rows] == ["case_work"]
    for role in (StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD):
        elsewhere = await world.api.get(
            f"{FAMILIES}/{world.family_id}", headers=read_headers(world.auth(role, B))
        )
        assert elsewhere.status_code == 404, elsewhere.text
        missing = await world.api.get(
            f"{FAMILIES}/{uuid.uuid4()}", headers=read_headers(world.auth(role, B))
        )
        assert elsewhere.json()["code"] == missing.json()["code"] == "not_found"
    assert await _rows(world, staff_id=world.staff_id(StaffRole.HEAD, B)) == []


async def test_only_the_ministry_and_the_familys_head_list_its_log(world: World) -> None:
    path = f"{FAMILIES}/{world.family_id}/access-log"
    for role in (StaffRole.SPECIALIST, StaffRole.SUPERVISOR):
        for url in (path, f"/api/v1/access-log?staff_id={world.staff_id(StaffRole.SPECIALIST)}"):
            refused = await world.api.get(url, headers=read_headers(world.auth(role), "audit"))
            assert refused.status_code == 403, refused.text
    other_head = await world.api.get(
        path, headers=read_headers(world.auth(StaffRole.HEAD, B), "audit")
    )
    assert other_head.status_code == 404, other_head.text
    for role in (StaffRole.HEAD, StaffRole.MINISTRY):
        listed = await world.api.get(path, headers=read_headers(world.auth(role), "audit"))
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        # The intake's write is there, by the specialist who registered the family.
        assert ("write", world.staff_id(StaffRole.SPECIALIST), "family_record") in {
            (item["action"], item["staff_id"], item["what"]) for item in items
        }
        assert {item["family_id"] for item in items} == {world.family_id}
    # Each listing is itself logged, once, as a read of the family's access log.
    rows = await _rows(world, what="access_log", family_id=uuid.UUID(world.family_id))
    assert sorted(r.role for r in rows) == ["head", "ministry"]


async def test_a_staff_members_accesses_come_in_keyset_pages_and_heads_see_their_territory(
    world: World,
) -> None:
    reader = world.auth(StaffRole.SUPERVISOR)
    for _ in range(5):
        read = await world.api.get(
            f"{CASES}/{world.case_id}/events", headers=read_headers(reader, "supervision")
        )
        assert read.status_code == 200, read.text
    staff_id = world.staff_id(StaffRole.SUPERVISOR)
    expected = [str(r.id) for r in await _rows(world, staff_id=staff_id)]
    assert len(expected) >= 5
    ministry = read_headers(world.auth(StaffRole.MINISTRY), "audit: staff review")
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"staff_id": staff_id, "limit": 2}
        if after:
            params["after"] = after
        page = await world.api.get("/api/v1/access-log", headers=ministry, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        pages += 1
        after = body.get("next_cursor")
        if after is None:
            break
    assert seen == expected  # every row once, in order, none skipped
    assert pages == (len(expected) + 1) // 2
    # The head of the family's territory sees the same; another territory's head nothing.
    own = await world.api.get(
        "/api/v1/access-log",
        headers=read_headers(world.auth(StaffRole.HEAD), "audit"),
        params={"staff_id": staff_id, "limit": 200},
    )
    assert [item["id"] for item in own.json()["items"]] == expected
    other = await world.api.get(
        "/api/v1/access-log",
        headers=read_headers(world.auth(StaffRole.HEAD, B), "audit"),
        params={"staff_id": staff_id},
    )
    assert other.status_code == 200
    assert other.json()["items"] == []
    bad = await world.api.get(
        "/api/v1/access-log", headers=ministry, params={"staff_id": staff_id, "after": "nope"}
    )
    assert bad.status_code == 422, bad.text
    assert "after" in bad.json()["message"]


async def test_a_replayed_intake_writes_no_second_access_row(world: World) -> None:
    specialist = world.auth(StaffRole.SPECIALIST)
    key = f"replay-{uuid.uuid4().hex}"
    body = {"source": "proactive", "municipality": A, "family": synthetic_family()}
    first = await world.api.post(CASES, headers=post_headers(specialist, key), json=body)
    assert first.status_code == 201, first.text
    again = await world.api.post(CASES, headers=post_headers(specialist, key), json=body)
    assert again.status_code in (200, 201), again.text
    assert again.json()["family_id"] == first.json()["family_id"]
    assert again.json()["case"]["case_id"] == first.json()["case"]["case_id"]
    rows = await _rows(world, family_id=uuid.UUID(first.json()["family_id"]))
    assert [(r.action, r.what) for r in rows] == [("write", "family_record")]
    # A new request (a new key) about the same family is a new write.
    other = await world.api.post(CASES, headers=post_headers(specialist), json=body)
    assert other.status_code == 200, other.text
    rows = await _rows(world, family_id=uuid.UUID(first.json()["family_id"]))
    assert [r.action for r in rows] == ["write", "write"]
