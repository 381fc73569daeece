"""A social contract in the staff inbox and in the ministry's audit, end to end through the API
with the real worker on the compressed policy and the time-skipping server:

the contract's monitoring contacts listed to its curator (kind `contract_contact`, under the
case's id and number), one made and gone from the inbox, one missed and escalated to the head;
the case's own inbox rewrite leaving them alone; then its audit history, its exports (JSON
lines checked offline, CSV, the municipality's period) and `kurator audit verify` covering the
contract's chain, and a contract event altered behind the triggers named as such.
"""

import asyncio
import csv
import io
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from infra.audit.verify import verify_database
from models.crud.social_contracts import get_contract_view, save_contract_view
from models.db import SessionFactory
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.vocabulary import StaffRole
from tests.support.api import bearer, read_headers
from tests.support.audit import as_superuser
from tests.support.audit_api import AUDIT, export_text, history, records
from tests.support.cases import sleep_until
from tests.support.sealing import TEST_MASTER_KEY_FILE, test_key_store
from tests.support.social_contract import (
    CASES,
    MUNICIPALITY,
    Staff,
    at,
    contract,
    open_case,
    post,
    to_support,
)

REPO = Path(__file__).resolve().parents[2]
TASKS = "/api/v1/tasks"
CONTRACT_ITEM = "contract_contact"


async def contract_items(
    api: httpx.AsyncClient, auth: dict[str, str], case_id: str
) -> dict[str, dict[str, Any]]:
    """The caller's inbox items of the case's social contract, by key."""
    response = await api.get(TASKS, headers=auth, params={"limit": 500})
    assert response.status_code == 200, response.text
    return {
        item["key"]: item
        for item in response.json()
        if item["case_id"] == case_id and item["kind"] == CONTRACT_ITEM
    }


def verify_export(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify-export", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KURATOR_MASTER_KEY_FILE": str(TEST_MASTER_KEY_FILE)},
    )


async def test_a_contracts_contacts_wait_in_the_inbox_and_its_chain_is_in_the_audit(
    api: httpx.AsyncClient,
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    database_url: str,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    env, staff = time_skipping_env, Staff()
    suffix = uuid.uuid4().hex[:8]
    head = bearer(f"head-{suffix}", StaffRole.HEAD, (MUNICIPALITY,))
    ministry = bearer(f"ministry-{suffix}", StaffRole.MINISTRY, ())
    started = await env.get_current_time()
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    view = await to_support(api, env, staff, case_id)
    case_number = view["case_number"]
    assert case_number
    today = (await env.get_current_time() + timedelta(hours=7)).date()
    await post(
        api,
        f"{path}/social-contract",
        staff.specialist,
        {"number": "СК-9", "concluded_on": today.isoformat(), "term": "PT180S"},
    )
    state = await contract(api, staff, case_id)
    due = {c["number"]: at(c["due_at"]) for c in state["contacts"]}
    open_keys = {f"social_contract:{d['key']}" for d in state["deadlines"]}
    assert open_keys  # the term's contacts are due

    # The curator's inbox: each open contact, the case's id and number for the link.
    items = await contract_items(api, staff.specialist, case_id)
    assert set(items) == open_keys
    first = items["social_contract:T13:1"]
    assert (first["case_number"], first["municipality"], first["code"]) == (
        case_number,
        MUNICIPALITY,
        "T13",
    )
    assert first["stage"] is None  # the contract's, not a stage of the case
    assert first["overdue"] is False
    assert await contract_items(api, staff.outsider, case_id) == {}  # another territory

    # A step of the case itself (its view stored, its inbox rows rewritten) leaves them.
    agreement = {"number": "19/2026-С", "concluded_on": today.isoformat()}
    await post(api, f"{path}/agreement", staff.specialist, agreement)
    assert set(await contract_items(api, staff.specialist, case_id)) == open_keys

    # Contact 1 made: its item is gone at once (the update answers once it is stored).
    await post(api, f"{path}/social-contract/contacts", staff.specialist, {"number": 1})
    assert "social_contract:T13:1" not in await contract_items(api, staff.specialist, case_id)

    # Contact 2 missed: overdue, then escalated to the head, whose inbox shows it.
    await sleep_until(env, due[2] + timedelta(seconds=35))
    await contract(
        api, staff, case_id, lambda s: any(d["escalation_level"] == 2 for d in s["deadlines"])
    )
    missed = (await contract_items(api, staff.specialist, case_id))["social_contract:T13:2"]
    assert (missed["overdue"], missed["escalation_level"]) == (True, 2)
    escalated = await contract_items(api, head, case_id)
    assert escalated["social_contract:T13:2"]["overdue"] is True

    # Storing the same view again, or an older one, changes no row.
    inbox_sql = text(
        "SELECT key, overdue, escalation_level, escalated_to FROM case_inbox_items "
        "WHERE case_id = :case_id AND kind = 'contract_contact' ORDER BY key"
    )
    async with sessions() as session, session.begin():
        before = (await session.exec(inbox_sql, params={"case_id": case_id})).all()  # type: ignore[call-overload]
        stored = await get_contract_view(
            session, case_id=UUID(case_id), keys=test_key_store(sessions)
        )
        assert stored is not None
        key = await test_key_store(sessions).for_owner(
            await test_key_store(sessions).owner_of_workflow(stored.workflow_id)
        )
        older = stored.model_copy(update={"version": stored.version - 1, "deadlines": []})
        assert await save_contract_view(session, view=stored, key=key) is False
        assert await save_contract_view(session, view=older, key=key) is False
        after = (await session.exec(inbox_sql, params={"case_id": case_id})).all()  # type: ignore[call-overload]
    assert after == before
    assert ("social_contract:T13:2", True, 2, "head") in [tuple(row) for row in after]

    # The audit history: the contract's events beside the case's, each chain verified.
    contract_id = str(contract_id_of(UUID(case_id)))
    audited = await history(api, case_id, ministry)
    assert audited["contract_id"] == contract_id
    assert audited["chain"]["verified"] is True
    assert audited["contract_chain"]["verified"] is True
    chains = {event["chain"] for event in audited["events"]}
    assert chains == {"case", "social_contract"}
    ours = [e for e in audited["events"] if e["chain"] == "social_contract"]
    assert all(e["contract_id"] == contract_id == e["case_id"] for e in ours)
    assert all(e["chain_verified"] and len(e["hash"]) == 64 for e in ours)
    assert [e["seq"] for e in ours] == list(range(1, len(ours) + 1))
    assert audited["contract_chain"]["events"] == len(ours)
    actions = [e["action"] for e in ours]
    assert actions[0] == "contract_monitoring_started"
    assert {"contract_contact_recorded", "overdue", "escalation"} <= set(actions)
    case_events = [e for e in audited["events"] if e["chain"] == "case"]
    assert all(e["contract_id"] is None and e["case_id"] == case_id for e in case_events)
    # As moments, not strings: a whole second is written without its fraction ("…:17Z"),
    # which sorts after "…:17.097000Z" as text.
    moments = [datetime.fromisoformat(e["occurred_at"]) for e in audited["events"]]
    assert moments == sorted(moments)  # one timeline of both chains

    # The export of the case: the contract's chain after the case's, checked offline.
    jsonl = await export_text(api, f"/cases/{case_id}/export", ministry)
    exported = records(jsonl)
    kinds = [r["record"] for r in exported if r["record"] != "event"]
    assert kinds == ["case", "social_contract", "manifest"]
    closing = next(r for r in exported if r["record"] == "social_contract")
    assert (closing["contract_id"], closing["case_id"]) == (contract_id, case_id)
    assert closing["events"] == len(ours)
    assert closing["chain_head"]["hash"] == closing["last_hash"]
    contract_lines = [r for r in exported if r["record"] == "event" and r["chain"] != "case"]
    assert {r["case_id"] for r in contract_lines} == {contract_id}
    assert exported[-1]["social_contracts"] == 1
    assert exported[-1]["events"] == len(audited["events"])
    file = tmp_path / "case.jsonl"
    file.write_text(jsonl, encoding="utf-8")
    checked = verify_export(file)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["social_contracts"] == 1

    # A contract record moved to another case, or dropped, does not pass.
    lines = jsonl.splitlines()
    index = next(n for n, line in enumerate(lines) if '"record":"social_contract"' in line)
    moved = json.loads(lines[index])
    moved["case_id"] = str(uuid.uuid4())
    (tmp_path / "moved.jsonl").write_text(
        "\n".join([*lines[:index], json.dumps(moved), *lines[index + 1 :]]) + "\n"
    )
    refused = verify_export(tmp_path / "moved.jsonl")
    assert refused.returncode == 1
    assert "not the contract of case" in refused.stderr
    (tmp_path / "dropped.jsonl").write_text("\n".join(lines[:index] + lines[index + 1 :]) + "\n")
    assert verify_export(tmp_path / "dropped.jsonl").returncode == 1

    # CSV: every row names its chain.
    rows = list(
        csv.DictReader(
            io.StringIO(await export_text(api, f"/cases/{case_id}/export", ministry, format="csv"))
        )
    )
    assert {row["chain"] for row in rows if row["record"] == "event"} == chains
    contract_row = next(row for row in rows if row["record"] == "social_contract")
    assert (contract_row["case_id"], contract_row["chain"]) == (contract_id, "social_contract")
    assert json.loads(contract_row["data"])["case_id"] == case_id

    # The municipality's period holds the contract's chain under its case too.
    period = {
        "from": (started - timedelta(minutes=1)).isoformat(),
        "to": (await env.get_current_time() + timedelta(minutes=1)).isoformat(),
    }
    municipal = records(
        await export_text(api, f"/municipalities/{MUNICIPALITY}/export", head, **period)
    )
    found = [r for r in municipal if r["record"] == "social_contract" and r["case_id"] == case_id]
    contract_lines_there = [
        r for r in municipal if r["record"] == "event" and r.get("chain") == "social_contract"
    ]
    contract_lines_there = [r for r in contract_lines_there if r["case_id"] == contract_id]
    # The contract lives on and its timers go on writing (a loaded machine lets the test
    # server's clock reach the next rung): the record counts its own export's lines, which
    # begin with the chain read above.
    assert [r["events"] for r in found] == [len(contract_lines_there)]
    assert [r["seq"] for r in contract_lines_there][: len(ours)] == [e["seq"] for e in ours]
    assert len(contract_lines_there) >= len(ours)

    # Who may not audit, and ids that are bad or name nothing.
    for auth, status in ((staff.specialist, 403), (staff.supervisor, 403)):
        answer = await api.get(
            f"{AUDIT}/cases/{case_id}/history", headers=read_headers(auth, "audit")
        )
        assert answer.status_code == status, answer.text
    bad = await api.get(
        f"{AUDIT}/cases/not-a-uuid/history", headers=read_headers(ministry, "audit")
    )
    assert bad.status_code == 422, bad.text
    unknown = await api.get(
        f"{AUDIT}/cases/{contract_id}/history", headers=read_headers(ministry, "audit")
    )
    assert unknown.status_code == 404, unknown.text  # a contract's id is no case's

    # `kurator audit verify` walks the contract's chain; one of its events altered is named.
    clean = await asyncio.to_thread(verify_database, database_url, case_id=UUID(contract_id))
    assert clean.clean, clean.problems
    assert (clean.cases, clean.events) == (1, len(ours))
    assert (
        as_superuser(
            owner_database_url,
            "UPDATE case_events SET actor_id = 'someone-else' WHERE case_id = %(id)s AND seq = 2",
            {"id": contract_id},
        )
        == 1
    )
    tampered = await asyncio.to_thread(verify_database, database_url, case_id=UUID(contract_id))
    assert [(p.case_id, p.seq) for p in tampered.problems] == [(contract_id, 2)]
    after_tamper = await history(api, case_id, ministry)
    assert after_tamper["chain"]["verified"] is True
    assert (
        after_tamper["contract_chain"]["verified"],
        after_tamper["contract_chain"]["broken_seq"],
    ) == (False, 2)
    broken = [
        e for e in after_tamper["events"] if e["chain"] == "social_contract" and e["seq"] == 2
    ]
    assert broken[0]["chain_verified"] is False
    assert "hash differs" in broken[0]["chain_problem"]
