"""Who may audit what, the errors that name the problem, and the access log of every audit
read (the ministry's endpoints, /api/v1/audit)."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.tables.family_access import FamilyAccess
from tests.support.api import read_headers
from tests.support.audit_api import AUDIT, AuditStaff, audit_service, export_text, open_case

MUNICIPALITY = "zdvinsk_district"


async def test_only_the_ministry_and_the_territory_s_head_audit_and_every_read_is_logged(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    staff = AuditStaff(MUNICIPALITY)
    async with audit_service(dev_env, database_url, sessions, keys, task_queue) as api:
        case_id = (await open_case(api, staff.specialist, MUNICIPALITY))["case_id"]
        now = datetime.now(UTC).isoformat()
        case = f"{AUDIT}/cases/{case_id}"
        reads = {
            "history": (f"{case}/history", {}),
            "state": (f"{case}/state", {"at": now}),
            "export": (f"{case}/export", {}),
        }
        for path, params in reads.values():
            for auth, role in ((staff.specialist, "specialist"), (staff.supervisor, "supervisor")):
                refused = await api.get(path, headers=read_headers(auth, "audit"), params=params)
                assert refused.status_code == 403, refused.text
                assert refused.json()["code"] == "forbidden"
                assert f"a {role} does not audit" in refused.json()["message"]
            # Another territory's head: as if the case did not exist.
            hidden = await api.get(
                path, headers=read_headers(staff.other_head, "audit"), params=params
            )
            assert hidden.status_code == 404, hidden.text
            unknown = await api.get(
                path.replace(case_id, str(uuid.uuid4())),
                headers=read_headers(staff.ministry, "audit"),
                params=params,
            )
            assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
            no_purpose = await api.get(path, headers=staff.ministry, params=params)
            assert no_purpose.status_code == 422, no_purpose.text
            assert "X-Purpose" in no_purpose.json()["message"]
            bad_purpose = await api.get(
                path, headers=read_headers(staff.ministry, "curiosity"), params=params
            )
            assert (bad_purpose.status_code, bad_purpose.json()["code"]) == (422, "invalid_purpose")

        audit = read_headers(staff.ministry, "audit")
        for params, named in (
            ({"at": "2026-01-01T10:00:00"}, "at"),  # no time zone
            ({"at": "yesterday"}, "at"),
            ({}, "at"),
        ):
            answer = await api.get(f"{case}/state", headers=audit, params=params)
            assert answer.status_code == 422, answer.text
            assert named in answer.json()["message"]
        for params, named in (
            ({"format": "xml"}, "format"),
            ({"from": "2026-01-01T10:00:00"}, "from"),
            ({"from": now, "to": now}, "from"),
        ):
            answer = await api.get(f"{case}/export", headers=audit, params=params)
            assert answer.status_code == 422, answer.text
            assert named in answer.json()["message"]

        # A municipality's export: the ministry's and that territory's head's.
        period = {
            "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        }
        municipal = f"{AUDIT}/municipalities/{MUNICIPALITY}/export"
        elsewhere = await api.get(
            municipal, headers=read_headers(staff.other_head, "audit"), params=period
        )
        assert elsewhere.status_code == 403, elsewhere.text
        assert "outside your territory" in elsewhere.json()["message"]
        for auth in (staff.specialist, staff.supervisor):
            refused = await api.get(municipal, headers=read_headers(auth, "audit"), params=period)
            assert refused.status_code == 403, refused.text
        for path, params, named in (
            (f"{AUDIT}/municipalities/atlantis/export", period, "municipality"),
            (municipal, {"to": period["to"]}, "from"),
            (municipal, {"from": period["from"]}, "to"),
            (municipal, {**period, "to": "2030-01-01T00:00:00"}, "to"),
        ):
            answer = await api.get(path, headers=audit, params=params)
            assert answer.status_code == 422, answer.text
            assert named in answer.json()["message"]
        head_export = await export_text(
            api, f"/municipalities/{MUNICIPALITY}/export", staff.head, **period
        )
        assert case_id in head_export

        # Every audit read is in the family's access log, with its purpose.
        before = await _logged(sessions, case_id)
        for path, params in reads.values():
            answer = await api.get(path, headers=audit, params=params)
            assert answer.status_code == 200, answer.text
        after = await _logged(sessions, case_id)
        assert after[len(before) :] == [
            ("audit_history", "ministry", "audit"),
            ("audit_state", "ministry", "audit"),
            ("audit_export", "ministry", "audit"),
        ]
        assert ("audit_export", "head", "audit") in before


async def _logged(sessions: SessionFactory, case_id: str) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = (
            await session.exec(
                select(FamilyAccess)
                .where(col(FamilyAccess.case_id) == uuid.UUID(case_id))
                .where(col(FamilyAccess.what).startswith("audit_"))
                .order_by(col(FamilyAccess.at), col(FamilyAccess.id))
            )
        ).all()
    assert all(row.family_id is not None for row in rows)
    # The same family whichever read logged it: an export's batch rows pair each case with
    # its own family.
    assert len({row.family_id for row in rows}) == 1, rows
    return [(row.what, row.role, row.purpose) for row in rows]


async def test_a_history_is_read_only_with_its_access_logged(
    dev_env: WorkflowEnvironment,
    database_url: str,
    owner_database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    """The history's read and its access log's row are one: when the row cannot be written,
    the history is not answered; a case outside the reader's territory is read and logged for
    no one; a read that answers logs one row."""
    staff = AuditStaff(MUNICIPALITY)
    async with audit_service(dev_env, database_url, sessions, keys, task_queue) as api:
        case_id = (await open_case(api, staff.specialist, MUNICIPALITY))["case_id"]
        path = f"{AUDIT}/cases/{case_id}/history"
        ministry = read_headers(staff.ministry, "audit")
        refuse = "refuse_audit_log_" + uuid.uuid4().hex[:8]
        with psycopg.connect(owner_database_url, autocommit=True) as connection:
            connection.execute(
                f"CREATE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.staff_id = '{staff.ministry_id}' THEN "
                "RAISE EXCEPTION 'the access log refuses this row'; END IF; RETURN NEW; END $$"
            )
            connection.execute(
                f"CREATE TRIGGER {refuse} BEFORE INSERT ON family_access_log "
                f"FOR EACH ROW EXECUTE FUNCTION {refuse}()"
            )
        try:
            with pytest.raises(DBAPIError, match="the access log refuses this row"):
                # The app answers 500 (a fault, not an outage); the test client re-raises.
                await api.get(path, headers=ministry)
        finally:
            with psycopg.connect(owner_database_url, autocommit=True) as connection:
                connection.execute(f"DROP TRIGGER {refuse} ON family_access_log")
                connection.execute(f"DROP FUNCTION {refuse}()")
        assert await _logged_by(sessions, staff.ministry_id) == []

        hidden = await api.get(path, headers=read_headers(staff.other_head, "audit"))
        assert hidden.status_code == 404, hidden.text
        assert await _logged_by(sessions, staff.other_head_id) == []

        answered = await api.get(path, headers=ministry)
        assert answered.status_code == 200, answered.text
        assert answered.json()["events"]
        assert await _logged_by(sessions, staff.ministry_id) == [("audit_history", case_id)]


async def _logged_by(sessions: SessionFactory, staff_id: str) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = (
            await session.exec(select(FamilyAccess).where(col(FamilyAccess.staff_id) == staff_id))
        ).all()
    return [(row.what, str(row.case_id)) for row in rows]
