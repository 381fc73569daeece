"""The daily digest: per active supervisor and head, what went overdue or was escalated in
their territory in the last day and what waits for a decision, queued once per day and sent
through the same deliveries; its workflow and its schedule on the real dev server."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from temporalio.client import ScheduleRange
from temporalio.testing import WorkflowEnvironment

from activities.notification_digest import DigestActivities
from infra.delivery.channels import EmailChannel, InboxChannel, SmtpConfig
from infra.delivery.digest_schedule import ensure_digest_schedule
from models.db import SessionFactory
from models.message_text import MessageTemplates
from models.payloads.vocabulary import NotificationKind, StaffRole
from models.policy.codes import DeadlineCode
from models.tables.case_projection import CaseProjection
from models.tables.notification import Notification
from tests.support.delivery import LINK_BASE, add_notification, add_staff, dispatcher
from tests.support.sealing import test_key_store
from workers.devstack.mail_catcher import MailCatcher
from workers.worker import build_worker
from workflows.notification_digest import NotificationDigestWorkflow

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 08:00 in Novosibirsk


def digests(sessions: SessionFactory, catcher: MailCatcher) -> DigestActivities:
    return DigestActivities(
        sessions,
        templates=MessageTemplates.load(),
        channels=[InboxChannel(), EmailChannel(SmtpConfig(host=catcher.host, port=catcher.port))],
        link_base=LINK_BASE,
    )


async def _projection(sessions: SessionFactory, *, stage: str, **view: object) -> uuid.UUID:
    case_id = uuid.uuid4()
    row = {
        "case_id": case_id,
        "workflow_id": f"case-{uuid.uuid4().hex}",
        "version": 3,
        "municipality": "berdsk",
        "stage": stage,
        "policy_version": "default-1",
        "opened_at": NOW - timedelta(days=90),
        "closed_at": NOW if stage == "closed" else None,
        "view": {"case_id": str(case_id), **view},
    }
    async with sessions() as session, session.begin():
        await session.exec(insert(CaseProjection).values(**row))
    return case_id


async def _created_at(sessions: SessionFactory, case_id: uuid.UUID, at: datetime) -> None:
    async with sessions() as session, session.begin():
        statement = update(Notification).where(Notification.case_id == case_id)  # type: ignore[arg-type]
        await session.exec(statement.values(created_at=at))


async def test_a_digest_per_supervisor_and_head_counted_listed_and_queued_once(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    await add_staff(delivery_sessions, "sup-digest", StaffRole.SUPERVISOR)
    await add_staff(delivery_sessions, "head-digest", StaffRole.HEAD, email=False)
    await add_staff(delivery_sessions, "sup-gone", StaffRole.SUPERVISOR, active=False)
    await add_staff(delivery_sessions, "sup-quiet", StaffRole.SUPERVISOR, ("ob",))
    overdue = await add_notification(delivery_sessions, code=DeadlineCode.T2)
    escalated = await add_notification(
        delivery_sessions, recipient="head", kind=NotificationKind.ESCALATION, code=DeadlineCode.T1
    )
    old = await add_notification(delivery_sessions, code=DeadlineCode.T3)
    for case_id in (overdue, escalated):
        await _created_at(delivery_sessions, case_id, NOW - timedelta(hours=3))
    await _created_at(delivery_sessions, old, NOW - timedelta(days=2))
    closing = await _projection(
        delivery_sessions, stage="review", closure_requested="goals_achieved"
    )
    prolonging = await _projection(delivery_sessions, stage="prolongation", case_number="БРД-7")
    await _projection(delivery_sessions, stage="closed", closure_requested="goals_achieved")
    await _projection(delivery_sessions, stage="support")

    queued = await digests(delivery_sessions, catcher).queue_digests_at(NOW)
    assert (queued.day, queued.recipients, queued.deliveries) == ("2026-12-02", 2, 3)
    again = await digests(delivery_sessions, catcher).queue_digests_at(NOW + timedelta(hours=1))
    assert again.deliveries == 0  # the day's digests are queued already

    await dispatcher(delivery_sessions, catcher).deliver()
    [mail] = catcher.messages
    assert mail.recipients == ("sup-digest@kurator.example",)
    assert mail.message_id == "<digest-2026-12-02.sup-digest.email@kurator>"
    assert mail.subject == ("Сводка за 02.12.2026: просрочено 1, эскалаций 1, ждут решения 2")
    assert "Сводка по вашей территории (город Бердск)" in mail.body
    overdue_part, rest = mail.body.split("Эскалированы: 1")
    escalated_part, approvals_part = rest.split("Ждут вашего решения: 2")
    assert f"№{str(overdue)[:8]} — T2" in overdue_part
    assert f"№{str(old)[:8]}" not in mail.body  # older than a day
    assert f"№{str(escalated)[:8]} — T1" in escalated_part
    assert f"№{str(closing)[:8]}" in approvals_part
    assert "БРД-7" in approvals_part
    assert f"{LINK_BASE}/{prolonging}" in approvals_part


async def test_the_digest_workflow_runs_its_activity_and_the_schedule_is_daily(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    delivery_sessions: SessionFactory,
    catcher: MailCatcher,
) -> None:
    await add_staff(delivery_sessions, "sup-scheduled", StaffRole.SUPERVISOR, ("ob",))
    await add_notification(delivery_sessions, municipality="ob")
    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        sessions=delivery_sessions,
        keys=test_key_store(delivery_sessions),
        digests=digests(delivery_sessions, catcher),
    )
    async with worker:
        result = await dev_env.client.execute_workflow(
            NotificationDigestWorkflow.run, id=f"digest-{task_queue}", task_queue=task_queue
        )
    assert (result.recipients, result.deliveries) == (1, 2)

    schedule_id = f"digest-schedule-{task_queue}"
    handle = await ensure_digest_schedule(
        dev_env.client, task_queue=task_queue, local_hour=8, schedule_id=schedule_id
    )
    try:
        await ensure_digest_schedule(  # a second worker's start updates it
            dev_env.client, task_queue=task_queue, local_hour=9, schedule_id=schedule_id
        )
        [calendar] = (await handle.describe()).schedule.spec.calendars
        assert list(calendar.hour) == [ScheduleRange(2, 2)]  # 09:00 at UTC+7
        assert list(calendar.minute) == [ScheduleRange(0, 0)]
    finally:
        await handle.delete()
