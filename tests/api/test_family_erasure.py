"""Erasure by destroying a family's key (issue 10 point 4), on the dev server through the API
and the CLI: a whole case lifecycle, then the erasure, then every history of the family read
back with a fresh key store. Synthetic names and comments only, distinctive so a search for
them cannot miss.
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from google.protobuf.message import Message
from sqlmodel import col, select
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from infra.sealing.codec import is_sealed, key_id_of
from infra.sealing.family_keys import FamilyKeyStore, KeyDestroyed
from infra.sealing.master_keys import read_key_file
from infra.sealing.payloads import payloads_of
from models.crud.families import save_family
from models.db import SessionFactory
from models.family_records import FamilyIn
from models.payloads.vocabulary import StaffRole
from models.tables.case_event import CaseEvent
from models.tables.family_access import FamilyAccess
from models.tables.family_data_key import FamilyDataKey
from models.tables.family_erasure import FamilyErasure
from tests.support.api import (
    JWT_SECRET,
    PSEUDONYM_SECRET,
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
)
from tests.support.polling import eventually
from tests.support.sdk_markers import sdk_marker_record
from tests.support.sealing import TEST_MASTER_KEY_FILE
from workers.worker import build_worker
from workflows.ids import follow_up_workflow_id

A = "vengerovo_district"  # used by no other test
B = "bagan_district"
CASES = "/api/v1/cases"
FAMILIES = "/api/v1/families"
NAMES = ("Эрейзова Вероника Шредингеровна", "Эрейзов Тимофей Шредингерович")
COMMENTS = (
    "komment-signala-zx81 семья просила о помощи",
    "komment-kontakta-qv42 мама на связи",
    "komment-plana-hk77 согласовано",
    "komment-zakrytiya-mm13 цели достигнуты",
    "komment-kontrolya-pp05 всё хорошо",
)
ERASE = {"reason": "retention period over (synthetic test)", "legal_basis": "152-ФЗ ст. 21 ч. 4"}


def _family(registry_id: str) -> dict[str, Any]:
    return {
        "registry_id": registry_id,
        "members": [
            {"role": "parent", "full_name": NAMES[0], "birth_date": "1988-02-03"},
            {"role": "child", "full_name": NAMES[1], "birth_date": "2017-05-06"},
        ],
        "address": "ул. Шифровальная, д. 404 (synthetic)",
        "phone": "+7 900 000-00-00",
    }


async def _post(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code in (200, 201), (path, response.text)
    answer: dict[str, Any] = response.json()
    return answer


async def _whole_lifecycle(
    api: httpx.AsyncClient, specialist: dict[str, str], supervisor: dict[str, str], curator: str
) -> tuple[str, str]:
    """Intake to closure, with a comment at each step that takes one; (case id, family id)."""
    opened = await _post(
        api,
        CASES,
        specialist,
        {
            "source": "self_request",
            "municipality": A,
            "family": _family(f"ERASE-{uuid.uuid4().hex[:10]}"),
            "comment": COMMENTS[0],
            "policy": "compressed",
        },
    )
    case_id, family_id = opened["case"]["case_id"], opened["family_id"]
    path = f"{CASES}/{case_id}"
    await _post(api, f"{path}/contacts", specialist, {"reached": True, "comment": COMMENTS[1]})
    await _post(api, f"{path}/intake", specialist, {})
    await _post(
        api,
        f"{path}/assessment",
        specialist,
        {"decision": "need_recognised", "circumstances": ["no_work_no_means"], "level": "L1"},
    )
    await _post(api, f"{path}/route", specialist, {"routes": ["own_services"]})
    await _post(api, f"{path}/team", specialist, {"curator": curator})
    await _post(
        api,
        f"{path}/plan",
        supervisor,
        {
            "items": [
                {
                    "item_id": "item-1",
                    "service_type": "everyday",
                    "provider": "КЦСОН (synthetic)",
                    "responsible": curator,
                    # Within the compressed policy's maximum term (24 minutes).
                    "deadline": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
                }
            ],
            "comment": COMMENTS[2],
        },
    )
    await _post(api, f"{path}/plan-item-done", specialist, {"item_id": "item-1"})
    await _post(
        api,
        f"{path}/closure-request",
        specialist,
        {"reason": "goals_achieved", "comment": COMMENTS[3]},
    )
    closed = await _post(api, f"{path}/closure-approval", supervisor, {"approve": True})
    assert closed["stage"] == "closed"
    return case_id, family_id


def _payloads(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere in a protobuf message but in search attributes, which Temporal
    indexes in clear and which hold codes only, and the SDK's own marker records."""
    for path, payload in payloads_of(message):
        if "search_attributes" not in path and not sdk_marker_record(path, payload):
            yield payload


async def _every_run(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of the workflow, newest first, following continue-as-new back to the first."""
    histories = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while True:
        started = histories[-1].events[0].workflow_execution_started_event_attributes
        previous = started.continued_execution_run_id
        if not previous:
            return histories
        histories.append(
            await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history()
        )


async def _status(client: Client, workflow_id: str) -> WorkflowExecutionStatus.ValueType:
    described = await client.get_workflow_handle(workflow_id).describe()
    return described.raw_description.workflow_execution_info.status


async def test_an_erased_family_can_no_longer_be_decoded_anywhere_and_its_coded_history_stays(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    curator = f"curator-{suffix}"
    specialist = bearer(curator, StaffRole.SPECIALIST, (A,))
    supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (A,))
    head = bearer(f"head-{suffix}", StaffRole.HEAD, (A,))
    other_head = bearer(f"head-b-{suffix}", StaffRole.HEAD, (B,))
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        case_id, family_id = await _whole_lifecycle(api, specialist, supervisor, curator)
        erase_path = f"{FAMILIES}/{family_id}/erase"
        purpose = {"X-Purpose": f"erasure: {quote('по заявлению семьи')}"}

        async def erase(auth: dict[str, str], key: str | None = None) -> httpx.Response:
            return await api.post(
                erase_path, headers={**post_headers(auth, key), **purpose}, json=ERASE
            )

        # Who may erase: not a specialist or a supervisor; not a head of another territory.
        for auth in (specialist, supervisor):
            refused = await erase(auth)
            assert refused.status_code == 403, refused.text
        assert (await erase(other_head)).status_code == 404

        # The follow-ups still run: refused, naming why; recording them ends the workflow.
        follow_up = follow_up_workflow_id(uuid.UUID(case_id))
        running = await erase(head)
        assert running.status_code == 409, running.text
        assert running.json()["code"] == "workflow_running"
        assert follow_up in running.json()["message"]
        for number, comment in ((1, COMMENTS[4]), (2, None)):
            body = {"number": number, "reached": True, **({"comment": comment} if comment else {})}
            await _post(api, f"{CASES}/{case_id}/follow-ups", specialist, body)
        await eventually(
            lambda: _status(dev_env.client, follow_up),
            lambda status: status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
            what="follow-ups completed",
        )
        async with sessions() as session:
            coded_before = (
                await session.exec(
                    select(CaseEvent.seq, CaseEvent.action, CaseEvent.stage_after).where(
                        col(CaseEvent.case_id) == uuid.UUID(case_id)
                    )
                )
            ).all()

        key = f"erase-{uuid.uuid4().hex}"
        erased = await erase(head, key)
        assert erased.status_code == 200, erased.text
        answer = erased.json()
        assert answer["family_id"] == family_id
        assert answer["erased_by"] == f"head-{suffix}"
        assert answer["role"] == "head"
        assert answer["cases"] == [case_id]
        assert set(answer["unreadable_workflows"]) >= {follow_up}
        assert any("data key" in line for line in answer["erased"])
        # A retry with the same key answers the same; another request finds it done.
        again = await erase(head, key)
        assert again.status_code == 200
        assert again.json()["key_id"] == answer["key_id"]
        done = await erase(head)
        assert done.status_code == 409
        assert done.json()["code"] == "already_erased"

        # The record reads 410 Gone; the family cannot be registered again (409, no 500).
        gone = await api.get(f"{FAMILIES}/{family_id}", headers=read_headers(head, "audit"))
        assert gone.status_code == 410, gone.text
        assert gone.json()["code"] == "family_erased"
        # The coded history is still served.
        events = await api.get(f"{CASES}/{case_id}/events", headers=read_headers(head, "audit"))
        assert events.status_code == 200, events.text
        assert [e["action"] for e in events.json()][-1]

    # Every history of the family, every payload in it, opened with a fresh key store.
    fresh = FamilyKeyStore(sessions, read_key_file(TEST_MASTER_KEY_FILE), cache_seconds=0)
    sealed = 0
    for workflow_id in answer["unreadable_workflows"]:
        for history in await _every_run(dev_env.client, workflow_id):
            raw = history.to_json()
            for secret in (*NAMES, *COMMENTS, "Шифровальная"):
                assert secret not in raw, (workflow_id, secret)
            for event in history.events:
                for payload in _payloads(event):
                    assert is_sealed(payload), (workflow_id, EventType.Name(event.event_type))
                    assert str(key_id_of(payload)) == answer["key_id"]
                    try:
                        await fresh.by_id(key_id_of(payload))
                    except KeyDestroyed:
                        sealed += 1
                    else:
                        raise AssertionError(f"a payload of {workflow_id} still opens")
    assert sealed > 20  # a whole lifecycle's inputs, updates and results

    async with sessions() as session:
        key_row = await session.get(FamilyDataKey, uuid.UUID(answer["key_id"]))
        assert key_row is not None
        assert key_row.wrapped is None
        assert (key_row.destroyed_by, key_row.destroyed_role) == (f"head-{suffix}", "head")
        erasure = (
            await session.exec(
                select(FamilyErasure).where(col(FamilyErasure.family_id) == uuid.UUID(family_id))
            )
        ).one()
        assert (erasure.reason, erasure.legal_basis) == (ERASE["reason"], ERASE["legal_basis"])
        logged = (
            await session.exec(
                select(FamilyAccess.action, FamilyAccess.what, FamilyAccess.purpose_code).where(
                    col(FamilyAccess.family_id) == uuid.UUID(family_id),
                    col(FamilyAccess.action) == "erase",
                )
            )
        ).all()
        assert logged == [("erase", "family_data", "erasure")]
        coded_after = (
            await session.exec(
                select(CaseEvent.seq, CaseEvent.action, CaseEvent.stage_after).where(
                    col(CaseEvent.case_id) == uuid.UUID(case_id)
                )
            )
        ).all()
    assert sorted(coded_after) == sorted(coded_before)
    assert {"signal_received", "plan_approved", "case_closed"} <= {e[1] for e in coded_after}


async def test_an_open_case_refuses_the_erasure_and_an_erased_family_refuses_an_intake(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    specialist = bearer(f"specialist-{suffix}", StaffRole.SPECIALIST, (A,))
    ministry = bearer(f"ministry-{suffix}", StaffRole.MINISTRY, ())
    registry_id = f"ERASE-{uuid.uuid4().hex[:10]}"
    intake = {"source": "proactive", "municipality": A, "family": _family(registry_id)}
    headers = {"X-Purpose": "audit"}
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        opened = await _post(api, CASES, specialist, intake)
        family_id, case_id = opened["family_id"], opened["case"]["case_id"]
        path = f"{FAMILIES}/{family_id}/erase"
        refused = await api.post(path, headers={**post_headers(ministry), **headers}, json=ERASE)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "case_open"
        assert "close it first" in refused.json()["message"]
        no_purpose = await api.post(path, headers=post_headers(ministry), json=ERASE)
        assert no_purpose.status_code == 422
        assert "X-Purpose" in no_purpose.json()["message"]
        blank = await api.post(
            path, headers={**post_headers(ministry), **headers}, json={"reason": "  "}
        )
        assert blank.status_code == 422, blank.text

        await _post(api, f"{CASES}/{case_id}/closure-request", specialist, {"reason": "duplicate"})
        for number in (1, 2):  # the family cannot be reached: the follow-ups end
            await _post(
                api,
                f"{CASES}/{case_id}/follow-ups",
                specialist,
                {"number": number, "reached": False},
            )
        await eventually(
            lambda: api.post(path, headers={**post_headers(ministry), **headers}, json=ERASE),
            lambda response: response.status_code == 200,
            what="erasure once the closed case's workflow has ended",
        )
        again = await api.post(CASES, headers=post_headers(specialist), json=intake)
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "family_erased"
        assert registry_id not in again.text


async def test_the_cli_erases_a_family_with_the_settings_database_and_master_keys(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    family = FamilyIn.model_validate(_family(f"ERASE-{uuid.uuid4().hex[:10]}"))
    family_key = uuid.uuid4().hex
    async with sessions() as session, session.begin():
        family_id, _ = await save_family(
            session,
            keys=keys,
            family_key=family_key,
            municipality=A,
            family=family,
            staff_id="specialist-cli",
            role=StaffRole.SPECIALIST,
            purpose="intake of a signal",
        )
    live = await keys.for_owner(family_key)
    env = {
        **os.environ,
        "KURATOR_DATABASE_URL": database_url,
        "KURATOR_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "KURATOR_MASTER_KEY_FILE": str(TEST_MASTER_KEY_FILE),
        "KURATOR_JWT_SECRET": JWT_SECRET,
        "KURATOR_PSEUDONYM_SECRET": PSEUDONYM_SECRET,
    }
    command = [sys.executable, "-m", "workers.cli", "family", "erase", str(family_id)]
    options = ["--reason", "retention period over", "--staff-id", "ministry-cli"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *options, *extra], env=env, capture_output=True, text=True, timeout=60
        )

    bad = await asyncio.to_thread(run, "--purpose", "curiosity")
    assert bad.returncode == 2, bad.stderr
    assert "purpose" in bad.stderr
    done = await asyncio.to_thread(run)
    assert done.returncode == 0, done.stderr
    assert str(live.key_id) in done.stdout
    fresh = FamilyKeyStore(sessions, read_key_file(TEST_MASTER_KEY_FILE))
    try:
        await fresh.for_owner(family_key)
    except KeyDestroyed:
        pass
    else:
        raise AssertionError("the erased family's key still opens")
    twice = await asyncio.to_thread(run)
    assert twice.returncode == 1
    assert "already_erased" in twice.stderr
