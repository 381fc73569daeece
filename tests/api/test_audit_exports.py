"""Audit exports and the chain's verdict when something is wrong: a municipality's period,
`kurator audit verify-export` on a file (and on one altered), a history a superuser altered
behind the triggers, an erased family's history, and the export's speed."""

import csv
import io
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert
from temporalio.testing import WorkflowEnvironment

from api import audit_export
from infra.sealing.columns import ERASED_TEXT
from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import append_events
from models.crud.inserts import table_of
from models.db import SessionFactory
from models.payloads.events import CaseEventDraft, EventOrigin
from models.tables.case_projection import CaseProjection
from tests.support.api import api_client, api_settings, post_headers
from tests.support.audit_api import (
    CASES,
    AuditStaff,
    audit_service,
    export_text,
    history,
    open_case,
    records,
)
from tests.support.sealing import TEST_MASTER_KEY_FILE

MUNICIPALITY = "chistoozernoye_district"
BULK_MUNICIPALITY = "ust_tarka_district"
REPO = Path(__file__).resolve().parents[2]


def _verify_export(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify-export", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KURATOR_MASTER_KEY_FILE": str(TEST_MASTER_KEY_FILE)},
    )


async def _closed_case(api: Any, staff: AuditStaff, comment: str) -> dict[str, Any]:
    case = await open_case(api, staff.specialist, MUNICIPALITY, comment=comment)
    path = f"{CASES}/{case['case_id']}"
    for auth, route, body in (
        (staff.specialist, "closure-request", {"reason": "written_refusal"}),
        (staff.supervisor, "closure-approval", {"approve": True, "comment": comment}),
    ):
        answer = await api.post(f"{path}/{route}", headers=post_headers(auth), json=body)
        assert answer.status_code == 200, answer.text
    return case


async def test_exports_verify_offline_and_a_tampered_or_erased_history_says_so(
    dev_env: WorkflowEnvironment,
    database_url: str,
    owner_database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
    tmp_path: Path,
) -> None:
    staff = AuditStaff(MUNICIPALITY)
    start = datetime.now(UTC)
    async with audit_service(dev_env, database_url, sessions, keys, task_queue) as api:
        cases = [await _closed_case(api, staff, f"synthetic comment {n}") for n in range(3)]
        end = datetime.now(UTC) + timedelta(seconds=1)
        ids = sorted(case["case_id"] for case in cases)
        period = {"from": start.isoformat(), "to": end.isoformat()}
        municipal = f"/municipalities/{MUNICIPALITY}/export"

        # The period's export: every event of the three cases, case by case; it verifies.
        jsonl = await export_text(api, municipal, staff.ministry, **period)
        exported = records(jsonl)
        ours = [r for r in exported if r["record"] == "case" and r["case_id"] in ids]
        assert [r["case_id"] for r in ours] == ids
        manifest = exported[-1]
        assert manifest["record"] == "manifest"
        assert manifest["scope"]["municipality"] == MUNICIPALITY
        assert manifest["events"] == sum(r["record"] == "event" for r in exported)
        for case_id in ids:
            audited = await history(api, case_id, staff.head)
            exported_events = [
                r for r in exported if r["record"] == "event" and r["case_id"] == case_id
            ]
            # The history as it was exported (the follow-up workflow may have added to it).
            hashes = [e["hash"] for e in audited["events"]]
            assert [r["hash"] for r in exported_events] == hashes[: len(exported_events)]
            assert exported_events[0]["seq"] == 1
        file = tmp_path / "export.jsonl"
        file.write_text(jsonl, encoding="utf-8")
        verified = _verify_export(file)
        assert verified.returncode == 0, verified.stderr
        summary = json.loads(verified.stdout)
        assert (summary["verified"], summary["cases"], summary["events"]) == (
            True,
            manifest["cases"],
            manifest["events"],
        )
        csv_rows = await export_text(api, municipal, staff.ministry, format="csv", **period)
        table = list(csv.DictReader(io.StringIO(csv_rows)))
        csv_manifest = json.loads(table[-1]["data"])
        assert (table[-1]["record"], csv_manifest["record"]) == ("manifest", "manifest")
        assert csv_manifest["events"] == sum(row["record"] == "event" for row in table)
        assert csv_manifest["cases"] == sum(row["record"] == "case" for row in table)
        first = next(row for row in table if row["case_id"] == ids[0])
        comment = {case["case_id"]: f"synthetic comment {n}" for n, case in enumerate(cases)}
        assert first["reason"] == comment[ids[0]]
        assert first["stored_reason"].startswith("sealed:v1:")

        # An event with no sealed text carries its columns once (`stored` null: they read as
        # stored, in CSV its stored cells empty); one with sealed text carries both.
        lines = jsonl.splitlines()
        parsed = [(number, json.loads(line)) for number, line in enumerate(lines)]
        ours_events = [
            (number, r) for number, r in parsed if r["record"] == "event" and r["case_id"] in ids
        ]
        plain = [(n, e) for n, e in ours_events if e["stored"] is None]
        sealed = [(n, e) for n, e in ours_events if e["stored"] is not None]
        assert plain
        assert sealed
        assert all("sealed:v1:" not in json.dumps(e) for _, e in plain)
        assert all("sealed:v1:" in json.dumps(e["stored"]) for _, e in sealed)
        assert all("sealed:v1:" not in json.dumps(e["reason"]) for _, e in sealed)
        csv_events = [row for row in table if row["record"] == "event" and row["case_id"] in ids]
        stored_cells = ("stored_reason", "stored_data", "stored_view_changes")
        for row in csv_events:
            holds_sealed = "sealed:v1:" in "".join(row[name] for name in stored_cells)
            assert holds_sealed or all(row[name] == "" for name in stored_cells)
            assert holds_sealed or row["data"] != ""
        assert any("sealed:v1:" not in str(row) for row in csv_events)

        # An export altered in a stored value (a sealed event's `stored`, a plain event's own
        # columns), or cut short, does not verify.
        def altered_at(number: int, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
            altered = tmp_path / f"altered-{number}.jsonl"
            altered.write_text(
                "\n".join([*lines[:number], json.dumps(event), *lines[number + 1 :]]) + "\n"
            )
            return _verify_export(altered)

        number, event = sealed[0]
        event["stored"]["data"] = {**event["stored"]["data"], "forged": True}
        refused = altered_at(number, event)
        assert refused.returncode == 1
        assert f"line {number + 1}:" in refused.stderr
        assert "does not hash" in refused.stderr
        number, event = plain[0]
        event["data"] = {**event["data"], "forged": True}
        refused = altered_at(number, event)
        assert refused.returncode == 1
        assert f"line {number + 1}:" in refused.stderr
        assert "does not hash" in refused.stderr
        # Opened text is not what the chain covers: a sealed event's readable columns may be
        # rewritten without the check noticing; its stored ones may not (above).
        number, event = sealed[0]
        event = json.loads(lines[number])
        event["data"] = {**event["data"], "forged": True}
        assert altered_at(number, event).returncode == 0
        cut = tmp_path / "cut.jsonl"
        cut.write_text("\n".join(lines[:-3]) + "\n")
        assert _verify_export(cut).returncode == 1
        assert _verify_export(tmp_path / "missing.jsonl").returncode == 2

        # A period with none of their events: an empty export that verifies.
        later = {"from": end.isoformat(), "to": (end + timedelta(hours=1)).isoformat()}
        empty = records(await export_text(api, municipal, staff.ministry, **later))
        assert [r for r in empty if r.get("case_id") in ids] == []

        # A superuser alters event 2 of the first case behind the triggers: the history says
        # event 1 verifies, event 2 does not and why, and neither do the events after it.
        tampered = ids[0]
        with psycopg.connect(owner_database_url) as connection:
            connection.execute("SET session_replication_role = replica")
            connection.execute(
                "UPDATE case_events SET actor_id = 'someone-else' WHERE case_id = %s AND seq = 2",
                (tampered,),
            )
        audited = await history(api, tampered, staff.ministry)
        assert audited["chain"]["verified"] is False
        assert audited["chain"]["broken_seq"] == 2
        assert audited["chain"]["head_seq"] == 1
        assert "hash differs" in audited["chain"]["problem"]
        verdicts = [(e["seq"], e["chain_verified"]) for e in audited["events"]]
        assert verdicts[0] == (1, True)
        assert all(not verified for _, verified in verdicts[1:])
        assert audited["events"][1]["chain_problem"] == audited["chain"]["problem"]
        assert "after the broken link at event 2" in audited["events"][2]["chain_problem"]
        after = tmp_path / "tampered.jsonl"
        after.write_text(
            await export_text(api, f"/cases/{tampered}/export", staff.ministry), encoding="utf-8"
        )
        assert _verify_export(after).returncode == 1

    # The second case's family is erased (its key destroyed): its comments read as erased,
    # and its history and exports still verify.
    erased = ids[1]
    family_key = next(c["workflow_id"] for c in cases if c["case_id"] == erased)[len("case-") :]
    await keys.destroy(family_key, staff_id="staff-erase", role="head", reason="synthetic test")
    async with api_client(api_settings(dev_env, database_url, task_queue)) as fresh:
        audited = await history(fresh, erased, staff.ministry)
        assert audited["chain"]["verified"] is True
        reasons = {e["reason"] for e in audited["events"] if e["reason"] is not None}
        assert reasons == {ERASED_TEXT}
        file = tmp_path / "erased.jsonl"
        file.write_text(
            await export_text(fresh, f"/cases/{erased}/export", staff.ministry), encoding="utf-8"
        )
        assert _verify_export(file).returncode == 0


async def _bulk_history(
    sessions: SessionFactory, keys: FamilyKeyStore, *, cases: int, events: int
) -> datetime:
    """`cases` cases of BULK_MUNICIPALITY with `events` events each, written as the worker
    writes them (sealed, chained); when the first occurred."""
    start = datetime.now(UTC)
    projections = table_of(CaseProjection)
    for _ in range(cases):
        case_id, family_key = uuid.uuid4(), uuid.uuid4().hex
        workflow_id = f"case-{family_key}"
        key = await keys.for_owner(family_key)
        drafts = [
            CaseEventDraft(
                case_id=case_id,
                seq=seq,
                action="contact_recorded",
                actor_id="staff-bulk",
                actor_role="specialist",
                stage_before="support",
                stage_after="support",
                reason="synthetic comment",
                data={"reached": True, "provider": "synthetic provider"},
                occurred_at=start + timedelta(milliseconds=seq),
            )
            for seq in range(1, events + 1)
        ]
        async with sessions() as session, session.begin():
            await append_events(
                session,
                drafts=drafts,
                origin=EventOrigin(workflow_id=workflow_id, idempotency_key="bulk-key"),
                key=key,
                view_changes={"stage": "support"},
            )
            await session.exec(
                insert(projections).values(
                    case_id=case_id,
                    workflow_id=workflow_id,
                    version=events,
                    municipality=BULK_MUNICIPALITY,
                    stage="support",
                    policy_version="compressed-1",
                    opened_at=start,
                    view={},
                )
            )
    return start


# 7: three batches, the last short; 5: four full ones, then an empty listing, whose batch
# (no events) carries the manifest.
@pytest.mark.parametrize("batch_cases", [7, 5])
async def test_a_municipality_s_large_export_is_complete_verifies_and_is_timed(
    batch_cases: int,
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twelve thousand events over batches of a few cases (two read ahead while one is
    written): every one exported once, in order, and the file verifies. The rate is printed;
    the issue's target (50,000 events/s) is asserted when KURATOR_EXPORT_RATE_TARGET is set,
    on a machine quiet enough to measure it."""
    monkeypatch.setattr(audit_export, "BATCH_CASES", batch_cases)
    cases, events = 20, 600
    start = await _bulk_history(sessions, keys, cases=cases, events=events)
    staff = AuditStaff(BULK_MUNICIPALITY)
    period = {"from": start.isoformat(), "to": (start + timedelta(minutes=1)).isoformat()}
    async with api_client(api_settings(dev_env, database_url, task_queue)) as api:
        began = time.perf_counter()
        jsonl = await export_text(
            api, f"/municipalities/{BULK_MUNICIPALITY}/export", staff.ministry, **period
        )
        seconds = time.perf_counter() - began
    exported = records(jsonl)
    manifest = exported[-1]
    assert (manifest["cases"], manifest["events"]) == (cases, cases * events)
    in_order = [(r["case_id"], r["seq"]) for r in exported if r["record"] == "event"]
    assert in_order == sorted(in_order)
    assert len(set(in_order)) == cases * events
    opened = {(r["reason"], r["data"]["provider"]) for r in exported if r["record"] == "event"}
    assert opened == {("synthetic comment", "synthetic provider")}
    file = tmp_path / "bulk.jsonl"
    file.write_text(jsonl, encoding="utf-8")
    verified = _verify_export(file)
    assert verified.returncode == 0, verified.stderr
    rate = manifest["events"] / seconds
    sys.stderr.write(f"exported {manifest['events']} events in {seconds:.2f} s: {rate:,.0f}/s\n")
    target = os.environ.get("KURATOR_EXPORT_RATE_TARGET")
    if target is not None:
        assert rate >= float(target)
