"""The worker killed (SIGKILL) while deadline timers fire, a new one taking over, and the
dispatcher running all along: every escalation e-mail arrives once, none is lost, and none
carries a word of the families' data."""

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.notification import Notification
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.delivery import add_staff, dispatcher
from tests.support.polling import eventually
from tests.support.worker_process import worker_process
from workers.devstack.mail_catcher import MailCatcher

pytestmark = pytest.mark.slow

CASES = 8
SPECIALIST = bearer("spec-kill", StaffRole.SPECIALIST, ("berdsk",))


async def _overdue_notes(sessions: SessionFactory) -> int:
    async with sessions() as session:
        statement = select(Notification.id).where(col(Notification.kind) == "overdue")
        return len((await session.exec(statement)).all())


async def test_escalations_arrive_once_each_across_a_worker_kill(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    delivery_database_url: str,
    delivery_sessions: SessionFactory,
    catcher: MailCatcher,
    tmp_path: Path,
) -> None:
    await add_staff(delivery_sessions, "sup-wk", StaffRole.SUPERVISOR)
    await add_staff(delivery_sessions, "head-wk", StaffRole.HEAD)
    stop = asyncio.Event()
    running = asyncio.create_task(
        dispatcher(delivery_sessions, catcher).run(stop, poll_seconds=0.5)
    )
    log = tmp_path / "workers.log"
    families = [synthetic_family(f"TEST-WK-{uuid.uuid4().hex[:8]}") for _ in range(CASES)]
    try:
        async with api_client(api_settings(dev_env, delivery_database_url, task_queue)) as api:
            with worker_process(dev_env, delivery_database_url, task_queue, log) as first:
                for family in families:
                    opened = await api.post(
                        "/api/v1/cases",
                        headers=post_headers(SPECIALIST),
                        json={
                            "source": "self_request",
                            "municipality": "berdsk",
                            "policy": "compressed",
                            "family": family,
                        },
                    )
                    assert opened.status_code == 201, opened.text
                # Killed as the first T1 goes overdue: the others' timers fire meanwhile.
                await eventually(
                    lambda: _overdue_notes(delivery_sessions), lambda n: n >= 1, within=60
                )
                first.kill()
                first.wait()
            with worker_process(dev_env, delivery_database_url, task_queue, log):

                async def escalations() -> int:
                    return sum(
                        m.subject.startswith(("Просрочено", "Эскалация")) for m in catcher.messages
                    )

                await eventually(escalations, lambda n: n >= 2 * CASES, within=90)
                await asyncio.sleep(2)  # anything sent twice would arrive by now
    finally:
        stop.set()
        await running

    escalations_sent = [
        m for m in catcher.messages if m.subject.startswith(("Просрочено", "Эскалация"))
    ]
    assert len(escalations_sent) == 2 * CASES, log.read_text()[-2000:]
    assert len({m.message_id for m in catcher.messages}) == len(catcher.messages)
    assert sorted({m.recipients for m in escalations_sent}) == [
        ("head-wk@kurator.example",),
        ("sup-wk@kurator.example",),
    ]
    personal = {family["registry_id"] for family in families}
    personal |= {member["full_name"] for f in families for member in f["members"]}
    personal |= {word for name in list(personal) for word in name.split()}
    personal |= {member["birth_date"] for f in families for member in f["members"]}
    personal |= {"01.04.1990", "15.09.2016"}
    for message in catcher.messages:
        text = message.subject + message.body
        assert not [word for word in personal if word in text], text
