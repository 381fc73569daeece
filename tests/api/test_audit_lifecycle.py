"""The ministry's audit of one whole case, through the staff API alone (dev server, real
worker, compressed policy): every event complete (who, what, when, why, the request's key,
the workflow run), timer-driven ones included; the state at every moment equal to what GET
/cases/{id} answered then; exports that verify offline; and all of it unchanged once Temporal
has deleted the case's workflow histories (retention)."""

import asyncio
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from infra.audit.chain import genesis_hash
from infra.audit.export_check import check_export
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from tests.support.api import post_headers, read_headers, synthetic_family
from tests.support.audit_api import (
    CASES,
    AuditStaff,
    audit_service,
    export_text,
    history,
    records,
    state_at,
)
from tests.support.polling import eventually

MUNICIPALITY = "kyshtovka_district"
Snapshot = tuple[str, dict[str, Any], dict[str, Any]]  # at, as the head, as the ministry


async def _read(api: httpx.AsyncClient, path: str, auth: dict[str, str]) -> dict[str, Any]:
    response = await api.get(path, headers=auth)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _snapshot(api: httpx.AsyncClient, path: str, staff: AuditStaff) -> Snapshot:
    """What GET /cases/{id} answers the head and the ministry, and a moment when it did: taken
    again until no step (a timer's) lands between the reads and the moment."""
    for _ in range(20):
        as_head = await _read(api, path, staff.head)
        as_ministry = await _read(api, path, staff.ministry)
        at = datetime.now(UTC).isoformat()
        # A step that occurred before `at` is stored well within this pause.
        await asyncio.sleep(0.5)
        again = await _read(api, path, staff.head)
        if as_head["version"] == as_ministry["version"] == again["version"]:
            return at, as_head, as_ministry
    raise AssertionError("the case kept changing")


async def _act(
    api: httpx.AsyncClient,
    path: str,
    auth: dict[str, str],
    body: dict[str, Any],
    keys: dict[str, str],
    action: str,
) -> dict[str, Any]:
    key = f"audit-{uuid.uuid4().hex}"
    keys[action] = key
    response = await api.post(path, headers=post_headers(auth, key), json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _delete_histories(client: Client, workflow_ids: list[str]) -> None:
    """Temporal's retention, done now: every run of the workflows deleted."""
    for workflow_id in workflow_ids:
        async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"'):
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(
                        workflow_id=workflow_id, run_id=execution.run_id
                    ),
                )
            )

    async def gone() -> bool:
        for workflow_id in workflow_ids:
            try:
                await client.get_workflow_handle(workflow_id).describe()
                return False
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
        return True

    # The server deletes in the background, behind its other work: on a loaded machine (the
    # suite runs on several processes) that takes longer than the request.
    await eventually(gone, bool, within=90, what="the workflow histories deleted")


async def _everything(
    api: httpx.AsyncClient, case_id: str, staff: AuditStaff, snapshots: list[Snapshot]
) -> dict[str, Any]:
    """Every audit read of the case: history, the state at each snapshot's moment (as the
    head and the ministry), and its exports."""
    states = []
    for at, _, _ in snapshots:
        for auth in (staff.head, staff.ministry):
            answer = await state_at(api, case_id, auth, at)
            assert answer.status_code == 200, answer.text
            states.append(answer.json())
    jsonl = await export_text(api, f"/cases/{case_id}/export", staff.ministry)
    csv_text = await export_text(api, f"/cases/{case_id}/export", staff.ministry, format="csv")
    return {
        "history": await history(api, case_id, staff.ministry),
        "states": states,
        "jsonl": [_without_generated_at(r) for r in records(jsonl)],
        "csv": csv_text.splitlines()[:-1],  # the manifest row names its generation time
        "current": await _read(api, f"{CASES}/{case_id}", staff.head),
    }


def _without_generated_at(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != "generated_at"}


async def test_the_audit_of_a_whole_case_survives_temporal_retention(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
    tmp_path: Any,
) -> None:
    staff = AuditStaff(MUNICIPALITY)
    sent: dict[str, str] = {}  # the Idempotency-Key of each staff action
    async with audit_service(dev_env, database_url, sessions, keys, task_queue) as api:
        before_case = datetime.now(UTC)
        sent["signal_received"] = key = f"audit-{uuid.uuid4().hex}"
        opened = await api.post(
            CASES,
            headers=post_headers(staff.specialist, key),
            json={
                "source": "self_request",
                "municipality": MUNICIPALITY,
                "family": synthetic_family(),
                "comment": "synthetic request",
                "policy": "compressed",
            },
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]["case_id"]
        path = f"{CASES}/{case_id}"
        snapshots = [await _snapshot(api, path, staff)]

        # No contact: T1's reminder, overdue and its second rung fire (7 s, 10 s, 20 s).
        async def timer_actions() -> set[str]:
            answer = await api.get(f"{path}/events", headers=read_headers(staff.head, "audit"))
            assert answer.status_code == 200, answer.text
            return {
                f"{e['action']}:{e['data'].get('rung')}"
                for e in answer.json()
                if e["actor_role"] == "system"
            }

        await eventually(
            timer_actions,
            lambda seen: "escalation:2" in seen,
            within=40,
            what="T1's second rung",
        )
        snapshots.append(await _snapshot(api, path, staff))

        steps: list[tuple[str, dict[str, str], dict[str, Any], str]] = [
            ("intake", staff.specialist, {"comment": "registered"}, "intake_registered"),
            (
                "assessment",
                staff.specialist,
                {
                    "decision": "need_recognised",
                    "circumstances": ["child_adaptation_difficulty"],
                    "level": "L1",
                },
                "assessment_recorded",
            ),
            ("route", staff.specialist, {"routes": ["own_services"]}, "route_set"),
            ("team", staff.specialist, {"curator": staff.curator_id}, "team_named"),
            (
                "plan",
                staff.supervisor,
                {
                    "items": [
                        {
                            "item_id": "item-1",
                            "service_type": "psychological",
                            "provider": "КЦСОН (synthetic)",
                            "responsible": staff.curator_id,
                            "deadline": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
                        }
                    ],
                    "comment": "agreed with the family",
                },
                "plan_approved",
            ),
            ("plan-item-done", staff.specialist, {"item_id": "item-1"}, "plan_item_done"),
            ("contacts", staff.specialist, {"reached": True}, "contact_recorded"),
            ("reviews", staff.specialist, {"outcome": "continue"}, "review_recorded"),
            (
                "closure-request",
                staff.specialist,
                {"reason": "goals_achieved"},
                "closure_requested",
            ),
            (
                "closure-approval",
                staff.supervisor,
                {"approve": True, "comment": "goals achieved"},
                "case_closed",
            ),
            ("follow-ups", staff.specialist, {"number": 1, "reached": True}, "follow_up_recorded"),
        ]
        for route, auth, body, action in steps:
            await _act(api, f"{path}/{route}", auth, body, sent, action)
            snapshots.append(await _snapshot(api, path, staff))
        assert snapshots[-1][1]["stage"] == "closed"

        read = await _everything(api, case_id, staff, snapshots)
        audited = read["history"]
        events = audited["events"]

        # The chain holds from the case's start to its head.
        assert audited["chain"] == {
            "verified": True,
            "events": len(events),
            "head_seq": events[-1]["seq"],
            "head_hash": events[-1]["hash"],
            "broken_seq": None,
            "problem": None,
        }
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[0]["prev_hash"] == genesis_hash(uuid.UUID(case_id))
        for before, event in itertools.pairwise(events):
            assert event["prev_hash"] == before["hash"]
        assert all(e["chain_verified"] and e["chain_problem"] is None for e in events)

        # Every event: who, what, when, and the workflow run that recorded it.
        case_workflow = opened.json()["case"]["workflow_id"]
        follow_up_workflow = f"case-follow-up-{case_id}"
        for event in events:
            assert event["actor_id"], event
            assert event["actor_role"] in {"specialist", "supervisor", "system"}, event
            assert event["action"], event
            assert event["stage_after"], event
            recorded = datetime.fromisoformat(event["recorded_at"])
            assert datetime.fromisoformat(event["occurred_at"]) <= recorded, event
            assert event["workflow_id"] in {case_workflow, follow_up_workflow}, event
            assert event["run_id"], event
            assert len(event["hash"]) == 64
        assert events[0]["stage_before"] is None
        occurred = [datetime.fromisoformat(e["occurred_at"]) for e in events]
        assert occurred == sorted(occurred)
        assert before_case <= occurred[0]

        # Staff actions carry their request's key; timer-driven events none.
        by_action = {e["action"]: e for e in events if e["actor_role"] != "system"}
        for action, key in sent.items():
            assert by_action[action]["idempotency_key"] == key, action
        staff_events = [e for e in events if e["actor_role"] != "system"]
        assert {e["idempotency_key"] for e in staff_events} <= set(sent.values())
        timers = [e for e in events if e["actor_role"] == "system"]
        assert {e["action"] for e in timers} >= {"reminder", "overdue", "escalation"}
        assert all(e["idempotency_key"] is None for e in timers)
        t1 = [(e["action"], e["data"]["step"]) for e in timers if e["data"].get("deadline") == "T1"]
        assert t1[:3] == [("reminder", "reminder"), ("overdue", "rung-1"), ("escalation", "rung-2")]
        assert all(
            e["workflow_id"] == case_workflow for e in timers if e["data"].get("deadline") == "T1"
        )

        # Why: the comments, opened.
        assert by_action["signal_received"]["reason"] == "synthetic request"
        assert by_action["plan_approved"]["reason"] == "agreed with the family"
        assert by_action["case_closed"]["reason"] == "goals achieved"
        assert by_action["closure_requested"]["data"]["closure_reason"] == "goals_achieved"
        assert by_action["follow_up_recorded"]["workflow_id"] == follow_up_workflow
        assert by_action["plan_approved"]["actor_id"].startswith("supervisor-")
        assert by_action["plan_approved"]["actor_role"] == "supervisor"
        # The first step carries the whole state; the plan's provider is opened.
        assert events[0]["view_changes"]["case_id"] == case_id
        plan_step = [e for e in events if e["view_changes"].get("plan_items")]
        assert plan_step[0]["view_changes"]["plan_items"][0]["provider"] == "КЦСОН (synthetic)"

        # The state at every moment is what GET /cases/{id} answered then, per role.
        expected = [
            view for _, as_head, as_ministry in snapshots for view in (as_head, as_ministry)
        ]
        assert read["states"] == expected
        assert snapshots[0][2]["allowed_actions"] == []
        assert snapshots[0][1]["allowed_actions"]  # a head may act on an open case
        # Before the first event: the case did not exist yet; far ahead: as it is now.
        early = await state_at(api, case_id, staff.ministry, before_case.isoformat())
        assert early.status_code == 409, early.text
        assert early.json()["code"] == "not_yet_opened"
        assert "did not exist yet" in early.json()["message"]
        future = await state_at(api, case_id, staff.head, "2999-01-01T00:00:00+07:00")
        assert future.status_code == 200
        assert future.json() == read["current"]

        # The JSON-lines export: every event with its stored values, then the case record and
        # the manifest; it verifies offline.
        exported = read["jsonl"]
        assert [r["record"] for r in exported] == ["event"] * len(events) + ["case", "manifest"]
        assert [(r["seq"], r["hash"], r["reason"]) for r in exported[:-2]] == [
            (e["seq"], e["hash"], e["reason"]) for e in events
        ]
        assert exported[-2] == {
            "record": "case",
            "case_id": case_id,
            "first_seq": 1,
            "last_seq": len(events),
            "events": len(events),
            "prev_hash": genesis_hash(uuid.UUID(case_id)),
            "last_hash": events[-1]["hash"],
            "chain_head": {"seq": len(events), "hash": events[-1]["hash"]},
        }
        manifest = exported[-1]
        assert manifest["scope"] == {"case_id": case_id, "from": None, "to": None}
        assert manifest["exported_by"]["role"] == "ministry"
        assert (manifest["cases"], manifest["events"]) == (1, len(events))
        stored_reason = exported[0]["stored"]["reason"]
        assert stored_reason.startswith("sealed:v1:")
        exported_text = await export_text(api, f"/cases/{case_id}/export", staff.head)
        check = check_export(exported_text.splitlines())
        assert (check.verified, check.cases, check.events, check.problems) == (
            True,
            1,
            len(events),
            [],
        )
        rows = read["csv"]
        assert rows[0].startswith("record,case_id,seq,id,action")
        assert len(rows) == 1 + len(events) + 1  # header, events, the case row

        # Temporal deletes the closed case's histories (the case's runs and its follow-ups).
        await _delete_histories(dev_env.client, [case_workflow, follow_up_workflow])
        again = await _everything(api, case_id, staff, snapshots)
        assert again == read
        assert json.dumps(again["history"]) == json.dumps(read["history"])
