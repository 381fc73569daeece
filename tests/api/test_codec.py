"""The codec server (Temporal's remote codec protocol) against the real app, with the sealed
payloads of a real case history: opened for supervisors and heads of the family's
municipality and for the ministry, left sealed for everyone else, every decode in the access
log once per family and request; CORS for the UI's origin only; bad input a 4xx."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from infra.sealing.codec import KEY_ID_METADATA, SEALED_ENCODING, key_id_of
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.family import Family
from models.tables.family_access import FamilyAccess
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.api import (
    JWT_SECRET,
    api_client,
    api_settings,
    bearer,
    post_headers,
    synthetic_family,
)
from tests.support.codec import (
    CODEC,
    as_request,
    from_answer,
    history_payloads,
    readable,
    sealed_count,
)
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.ids import family_key_of

MUNICIPALITY = "ordynskoye_district"
ELSEWHERE = "toguchin_district"
UI_ORIGIN = "http://127.0.0.1:8233"


@dataclass(frozen=True)
class RecordedCase:
    workflow_id: str
    family_key: str
    comment: str
    payloads: list[Payload]


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


async def _record_case(api: httpx.AsyncClient, dev_env: WorkflowEnvironment) -> RecordedCase:
    """A case opened and registered through the API, with a distinctive synthetic comment;
    its history's payloads as the server holds them (sealed)."""
    comment = f"synthetic codec comment {uuid.uuid4().hex}"
    specialist = bearer("codec-specialist", StaffRole.SPECIALIST, (MUNICIPALITY,))
    created = await api.post(
        "/api/v1/cases",
        headers=post_headers(specialist),
        json={
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": synthetic_family(),
            "comment": comment,
            "policy": "compressed",
        },
    )
    assert created.status_code == 201, created.text
    case = created.json()["case"]
    registered = await api.post(
        f"/api/v1/cases/{case['case_id']}/intake",
        headers=post_headers(specialist),
        json={"comment": f"{comment} (registration)"},
    )
    assert registered.status_code == 200, registered.text
    history = await dev_env.client.get_workflow_handle(case["workflow_id"]).fetch_history()
    payloads = history_payloads(history)
    family = family_key_of(case["workflow_id"])
    assert family is not None
    assert payloads
    assert sealed_count(payloads) == len(payloads)
    assert comment not in readable(payloads)  # the premise: the server holds it sealed
    return RecordedCase(case["workflow_id"], family, comment, payloads)


async def _decode(
    api: httpx.AsyncClient, payloads: list[Payload], auth: dict[str, str] | None = None
) -> list[Payload]:
    response = await api.post(
        f"{CODEC}/decode",
        json=as_request(payloads),
        headers={**(auth or {}), "X-Namespace": "default"},
    )
    assert response.status_code == 200, response.text
    return from_answer(response.json())


async def _codec_reads(sessions: SessionFactory, family_key: str) -> list[tuple[str, str]]:
    """(staff id, role) of each codec read of the family, from the access log."""
    statement = (
        select(FamilyAccess.staff_id, FamilyAccess.role)
        .join(Family, col(Family.id) == col(FamilyAccess.family_id))
        .where(
            col(Family.family_key) == family_key,
            col(FamilyAccess.action) == "read",
            col(FamilyAccess.what) == "codec_decode",
            col(FamilyAccess.purpose) == "supervision: Web UI",
        )
    )
    async with sessions() as session:
        return [(row[0], row[1]) for row in (await session.exec(statement)).all()]


async def test_staff_of_the_territory_and_the_ministry_read_others_see_it_sealed(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = await _record_case(api, dev_env)
        suffix = uuid.uuid4().hex[:8]
        readers = {
            "supervisor": bearer(f"sup-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,)),
            "head": bearer(f"head-{suffix}", StaffRole.HEAD, (ELSEWHERE, MUNICIPALITY)),
            "ministry": bearer(f"min-{suffix}", StaffRole.MINISTRY, ()),
        }
        for role, auth in readers.items():
            opened = await _decode(api, case.payloads, auth)
            assert len(opened) == len(case.payloads)
            assert sealed_count(opened) == 0, role
            assert case.comment in readable(opened), role
            assert f"{case.comment} (registration)" in readable(opened), role

        refused = {
            "supervisor elsewhere": bearer(f"sup2-{suffix}", StaffRole.SUPERVISOR, (ELSEWHERE,)),
            "specialist of the territory": bearer(
                f"spec-{suffix}", StaffRole.SPECIALIST, (MUNICIPALITY,)
            ),
            "no credentials": {},
        }
        for who, auth in refused.items():
            answered = await _decode(api, case.payloads, auth)
            assert answered == case.payloads, who  # as they came: sealed, byte for byte
            assert case.comment not in readable(answered), who

        # One row per reader and request, though each request opened every payload.
        assert sorted(await _codec_reads(sessions, case.family_key)) == sorted(
            [
                (f"sup-{suffix}", "supervisor"),
                (f"head-{suffix}", "head"),
                (f"min-{suffix}", "ministry"),
            ]
        )
        await _decode(api, case.payloads[:1], readers["supervisor"])
        reads = await _codec_reads(sessions, case.family_key)
        assert reads.count((f"sup-{suffix}", "supervisor")) == 2


async def test_a_batch_of_two_families_is_opened_per_family_and_logged_once_each(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        first, second = await _record_case(api, dev_env), await _record_case(api, dev_env)
        plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"recorded before sealing"')
        batch = [*first.payloads, plain, *second.payloads, *first.payloads]
        supervisor = bearer(f"sup-{uuid.uuid4().hex[:8]}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
        opened = await _decode(api, batch, supervisor)
        assert sealed_count(opened) == 0
        assert opened[len(first.payloads)] == plain  # unsealed payloads pass through
        assert first.comment in readable(opened)
        assert second.comment in readable(opened)
        assert len(await _codec_reads(sessions, first.family_key)) == 1
        assert len(await _codec_reads(sessions, second.family_key)) == 1


async def test_an_erased_familys_payloads_stay_sealed_even_for_the_ministry(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
    keys: FamilyKeyStore,
) -> None:
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = await _record_case(api, dev_env)
    await keys.destroy(
        case.family_key, staff_id="codec-head", role="head", reason="synthetic erasure test"
    )
    # A fresh app: the first one still holds the key in its cache (a minute at most).
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        ministry = bearer("codec-ministry", StaffRole.MINISTRY, ())
        answered = await _decode(api, case.payloads, ministry)
    assert answered == case.payloads
    assert await _codec_reads(sessions, case.family_key) == []


async def test_encode_seals_under_the_system_key_for_staff_only(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
    keys: FamilyKeyStore,
) -> None:
    typed = Payload(metadata={"encoding": b"json/plain"}, data=b'"typed into the UI"')
    specialist = bearer("codec-specialist", StaffRole.SPECIALIST, (MUNICIPALITY,))
    supervisor = bearer("codec-supervisor", StaffRole.SUPERVISOR, (ELSEWHERE,))
    async with api_client(api_settings(dev_env, database_url, task_queue)) as api:
        refused = await api.post(f"{CODEC}/encode", json=as_request([typed]))
        assert refused.status_code == 401, refused.text
        response = await api.post(f"{CODEC}/encode", json=as_request([typed]), headers=specialist)
        assert response.status_code == 200, response.text
        sealed = from_answer(response.json())
        assert sealed[0].metadata["encoding"] == SEALED_ENCODING
        assert b"typed into the UI" not in sealed[0].data
        system_key = await keys.for_owner(SYSTEM_KEY_OWNER)
        assert key_id_of(sealed[0]) == system_key.key_id

        again = await api.post(f"{CODEC}/encode", json=as_request(sealed), headers=supervisor)
        assert from_answer(again.json()) == sealed  # never sealed twice

        # No family's data: any decoding role opens it, in any territory; nobody else.
        assert await _decode(api, sealed, supervisor) == [typed]
        assert await _decode(api, sealed, specialist) == sealed
        assert await _decode(api, sealed) == sealed

        # The CLI's endpoint may name the namespace (`--codec-endpoint .../{namespace}`).
        in_namespace = await api.post(
            f"{CODEC}/default/decode", json=as_request(sealed), headers=supervisor
        )
        assert from_answer(in_namespace.json()) == [typed]


async def test_cors_answers_the_ui_origin_on_the_codec_routes_only(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    preflight = {
        "Origin": UI_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    async with api_client(api_settings(dev_env, database_url, task_queue)) as api:
        allowed = await api.options(f"{CODEC}/decode", headers=preflight)
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        allowed_headers = allowed.headers["access-control-allow-headers"].lower()
        for header in ("x-namespace", "authorization", "content-type"):
            assert header in allowed_headers
        assert "POST" in allowed.headers["access-control-allow-methods"]

        foreign = await api.options(
            f"{CODEC}/decode", headers={**preflight, "Origin": "https://elsewhere.example"}
        )
        assert foreign.status_code == 400
        assert "access-control-allow-origin" not in foreign.headers

        # The answer itself carries the headers the browser needs to read it.
        answer = await api.post(
            f"{CODEC}/decode", json={"payloads": []}, headers={"Origin": UI_ORIGIN}
        )
        assert answer.status_code == 200
        assert answer.json() == {"payloads": []}
        assert answer.headers["access-control-allow-origin"] == UI_ORIGIN

        elsewhere = await api.options("/api/v1/cases", headers=preflight)
        assert "access-control-allow-origin" not in elsewhere.headers


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "json"),
        (b'["payloads"]', "dictionary"),
        (b'{"payloads": "all of them"}', "payloads"),
        (b'{"payloads": [{"data": "not base64!"}]}', "base64"),
        (b'{"payloads": [{"metadata": {"encoding": 7}}]}', "base64"),
        (b'{"payloads": [{"metadata": {}, "data": "", "extra": 1}]}', "extra"),
        (b'{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2t1cmF0b3Itc2VhbGVk"}}]}', "key-id"),
        (
            b'{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2t1cmF0b3Itc2VhbGVk", '
            b'"kurator-key-id": "bm90LWEtdXVpZA=="}}]}',
            "UUID",
        ),
    ],
)
async def test_malformed_bodies_get_a_422_naming_the_problem(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, body: bytes, problem: str
) -> None:
    supervisor = bearer("codec-supervisor", StaffRole.SUPERVISOR, (MUNICIPALITY,))
    async with api_client(api_settings(dev_env, database_url, task_queue)) as api:
        for auth in (supervisor, {}):
            response = await api.post(
                f"{CODEC}/decode",
                content=body,
                headers={**auth, "Content-Type": "application/json"},
            )
            assert response.status_code == 422, response.text
            assert problem.lower() in response.text.lower()
    assert KEY_ID_METADATA == "kurator-key-id"  # the name the bodies above spell out


async def test_a_bad_token_is_a_401_not_a_sealed_answer(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    expired = issue_token(
        secret=JWT_SECRET.encode(),
        staff_id="codec-supervisor",
        role=StaffRole.SUPERVISOR,
        municipalities=(MUNICIPALITY,),
        ttl=timedelta(seconds=-1),
    )
    async with api_client(api_settings(dev_env, database_url, task_queue)) as api:
        for authorization in (f"Bearer {expired}", "Bearer not-a-token", "Basic dXNlcjpwdw=="):
            response = await api.post(
                f"{CODEC}/decode", json={"payloads": []}, headers={"Authorization": authorization}
            )
            assert response.status_code == 401, authorization
            assert response.json()["code"] == "invalid_token"
        from_cookie = await api.post(
            f"{CODEC}/decode",
            json={"payloads": []},
            headers={"Cookie": f"kurator_codec_token={expired}"},
        )
        assert from_cookie.status_code == 401
        assert "sign in again" in from_cookie.json()["message"]


async def test_sign_in_sets_a_cookie_the_codec_reads_and_sign_out_forgets_it(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    token = issue_token(
        secret=JWT_SECRET.encode(),
        staff_id=f"sup-{uuid.uuid4().hex[:8]}",
        role=StaffRole.SUPERVISOR,
        municipalities=(MUNICIPALITY,),
    )
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = await _record_case(api, dev_env)
        page = await api.get(f"{CODEC}/sign-in")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "http://kurator/api/v1/codec" in page.text  # the endpoint to give the UI
        assert "script-src 'sha256-" in page.headers["content-security-policy"]

        refused = await api.post(f"{CODEC}/sign-in", json={"token": "forged"})
        assert refused.status_code == 401
        assert "kurator_codec_token" not in api.cookies

        signed_in = await api.post(f"{CODEC}/sign-in", json={"token": token})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["territory"] == MUNICIPALITY
        cookie = signed_in.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=lax", f"path={CODEC}"):
            assert attribute in cookie
        assert "max-age" not in cookie  # a session cookie
        assert "expires" not in cookie

        opened = await _decode(api, case.payloads)  # no Authorization: the cookie
        assert case.comment in readable(opened)

        signed_out = await api.post(f"{CODEC}/sign-out")
        assert signed_out.status_code == 204
        assert await _decode(api, case.payloads) == case.payloads
