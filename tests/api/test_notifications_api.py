"""The API shows each notification's delivery (per person and channel) and each staff
member's own inbox; territory and validation answer as everywhere else."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.case_projection import CaseProjection
from tests.support.api import api_client, api_settings, bearer
from tests.support.delivery import add_notification, add_staff, dispatcher
from workers.devstack.mail_catcher import MailCatcher

SUPERVISOR = bearer("sup-api", StaffRole.SUPERVISOR, ("berdsk",))
ELSEWHERE = bearer("sup-api-iskitim", StaffRole.SUPERVISOR, ("iskitim",))


async def _stored_case(sessions: SessionFactory, case_id: uuid.UUID) -> None:
    """The projection row a case's first step writes (only the columns the route reads)."""
    opened = datetime(2026, 12, 1, tzinfo=UTC)
    row = {
        "case_id": case_id,
        "workflow_id": f"case-{uuid.uuid4().hex}",
        "version": 1,
        "municipality": "berdsk",
        "stage": "identified",
        "policy_version": "compressed-1",
        "opened_at": opened,
        "view": {"case_id": str(case_id), "first_run_id": None},
    }
    async with sessions() as session, session.begin():
        await session.exec(insert(CaseProjection).values(**row))


async def test_case_notifications_with_their_deliveries_and_my_inbox(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    delivery_database_url: str,
    delivery_sessions: SessionFactory,
    catcher: MailCatcher,
) -> None:
    await add_staff(delivery_sessions, "sup-api", StaffRole.SUPERVISOR)
    case_id = await add_notification(delivery_sessions)
    await _stored_case(delivery_sessions, case_id)
    catcher.fail_next.append("451 later")
    sender = dispatcher(delivery_sessions, catcher)
    await sender.round()

    settings = api_settings(dev_env, delivery_database_url, task_queue)
    async with api_client(settings) as api:
        response = await api.get(f"/api/v1/cases/{case_id}/notifications", headers=SUPERVISOR)
        assert response.status_code == 200, response.text
        [note] = response.json()
        assert (note["kind"], note["recipient"], note["deadline_code"]) == (
            "overdue",
            "supervisor",
            "T2",
        )
        assert note["dispatched_at"] is not None
        by_channel = {d["channel"]: d for d in note["deliveries"]}
        assert by_channel["inbox"]["state"] == "sent"
        assert by_channel["email"]["state"] == "failed"
        assert by_channel["email"]["attempts"] == 1
        assert by_channel["email"]["last_error"] == "SMTP answered 451: later"
        assert by_channel["email"]["message_id"].endswith(".sup-api.email@kurator>")
        assert {d["recipient_staff_id"] for d in note["deliveries"]} == {"sup-api"}

        hidden = await api.get(f"/api/v1/cases/{case_id}/notifications", headers=ELSEWHERE)
        assert hidden.status_code == 404
        unknown = await api.get(f"/api/v1/cases/{uuid.uuid4()}/notifications", headers=SUPERVISOR)
        assert unknown.status_code == 404
        malformed = await api.get("/api/v1/cases/not-a-uuid/notifications", headers=SUPERVISOR)
        assert malformed.status_code == 422
        assert (await api.get(f"/api/v1/cases/{case_id}/notifications")).status_code == 401

        inbox = await api.get("/api/v1/notifications", headers=SUPERVISOR)
        assert inbox.status_code == 200
        [message] = inbox.json()
        assert message["case_id"] == str(case_id)
        assert message["subject"] == f"Просрочено: T2 по случаю №{str(case_id)[:8]}"
        assert "Здравствуйте!" in message["body"]
        assert (await api.get("/api/v1/notifications", headers=ELSEWHERE)).json() == []
        too_many = await api.get("/api/v1/notifications?limit=100000", headers=SUPERVISOR)
        assert too_many.status_code == 422
