"""The audit history opens each event's sealed text, and reads as stored the events that hold
none (PostgreSQL tells which: `holds_sealed`); a sealed value altered behind the guard reads as
unreadable, and the chain names the event."""

import psycopg
from temporalio.testing import WorkflowEnvironment

from infra.sealing.columns import SEALED_TEXT_PREFIX
from infra.sealing.family_keys import FamilyKeyStore
from models.crud.audit_events import UNREADABLE_TEXT
from models.db import SessionFactory
from models.payloads.audit import AuditHistory
from tests.support.api import post_headers, read_headers
from tests.support.audit_api import AUDIT, CASES, AuditStaff, audit_service, history, open_case

MUNICIPALITY = "kochenevo_district"
COMMENT = "синтетический комментарий о встрече"


async def test_sealed_text_opens_plain_events_read_as_stored_and_altered_ones_as_unreadable(
    dev_env: WorkflowEnvironment,
    database_url: str,
    owner_database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    staff = AuditStaff(MUNICIPALITY)
    async with audit_service(dev_env, database_url, sessions, keys, task_queue) as api:
        case_id = (await open_case(api, staff.specialist, MUNICIPALITY))["case_id"]
        contact = await api.post(
            f"{CASES}/{case_id}/contacts",
            headers=post_headers(staff.specialist),
            json={"reached": True, "comment": COMMENT},
        )
        assert contact.status_code == 200, contact.text
        silent = await api.post(
            f"{CASES}/{case_id}/contacts",
            headers=post_headers(staff.specialist),
            json={"reached": False},
        )
        assert silent.status_code == 200, silent.text
        with psycopg.connect(owner_database_url) as connection:
            stored = connection.execute(
                "SELECT seq, reason, data::text LIKE %(sealed)s OR view_changes::text LIKE "
                "%(sealed)s FROM case_events WHERE case_id = %(case)s ORDER BY seq",
                {"case": case_id, "sealed": f"%{SEALED_TEXT_PREFIX}%"},
            ).fetchall()
        sealed_reasons = [seq for seq, reason, _ in stored if reason and "sealed:" in reason]
        plain = [seq for seq, reason, in_json in stored if not in_json and not reason]
        assert sealed_reasons, stored
        assert plain, stored  # the case has both kinds of event

        audited = await history(api, case_id, staff.ministry)
        assert audited["chain"]["verified"] is True
        # The answer is AuditHistory's JSON exactly: read back as the model, written again.
        raw = await api.get(
            f"{AUDIT}/cases/{case_id}/history", headers=read_headers(staff.ministry, "audit")
        )
        assert AuditHistory.model_validate_json(raw.content).model_dump_json() == raw.text
        by_seq = {event["seq"]: event for event in audited["events"]}
        assert COMMENT in {by_seq[seq]["reason"] for seq in sealed_reasons}
        for event in audited["events"]:
            for value in (event["reason"], str(event["data"]), str(event["view_changes"])):
                assert SEALED_TEXT_PREFIX not in (value or ""), event["seq"]

        # A superuser flips one character of a sealed reason's envelope, and writes a sealed
        # text naming no key into a plain event's data.
        altered, forged = sealed_reasons[-1], plain[-1]
        with psycopg.connect(owner_database_url) as connection:
            connection.execute("SET session_replication_role = replica")
            connection.execute(
                "UPDATE case_events SET reason = left(reason, -3) || "
                "CASE WHEN right(reason, 3) = 'AAA' THEN 'BBB' ELSE 'AAA' END "
                "WHERE case_id = %s AND seq = %s",
                (case_id, altered),
            )
            connection.execute(
                "UPDATE case_events SET data = data || "
                """'{"comment": "sealed:v1:not-a-key:AAAA"}'::jsonb """
                "WHERE case_id = %s AND seq = %s",
                (case_id, forged),
            )
        audited = await history(api, case_id, staff.ministry)
        by_seq = {event["seq"]: event for event in audited["events"]}
        assert by_seq[altered]["reason"] == UNREADABLE_TEXT
        assert by_seq[forged]["data"]["comment"] == UNREADABLE_TEXT
        assert audited["chain"]["verified"] is False
        assert audited["chain"]["broken_seq"] == min(altered, forged)
