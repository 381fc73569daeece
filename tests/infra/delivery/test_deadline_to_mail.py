"""From a deadline timer firing to the e-mail in a real SMTP server, under load: many cases on
the compressed policy (T1 due 10 s after the signal, overdue to the supervisor at once, to the
head 10 s later) on the real dev server, the real worker and the dispatcher.

The time measured is the e-mail's arrival at the SMTP server minus the deadline's due moment
(the rung's own time): the worker's timer, the step's transaction, the dispatcher's poll and
fan-out, and the SMTP conversation. It must stay within a minute; the figures are printed."""

import asyncio
import contextlib
import statistics
from datetime import timedelta

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from infra.delivery.dispatcher import RetryRule
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads.vocabulary import NotificationKind, StaffRole
from tests.support.cases import open_case
from tests.support.delivery import add_staff, deliveries_of, dispatcher
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.devstack.mail_catcher import MailCatcher
from workers.worker import build_worker

CASES = 60
SUPERVISORS = 2
BOUND = timedelta(minutes=1)


async def test_overdue_and_escalation_mails_leave_within_a_minute_of_the_deadline(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    delivery_sessions: SessionFactory,
    catcher: MailCatcher,
) -> None:
    for n in range(SUPERVISORS):
        await add_staff(delivery_sessions, f"sup-load-{n}", StaffRole.SUPERVISOR)
    await add_staff(delivery_sessions, "head-load", StaffRole.HEAD)
    stop = asyncio.Event()
    sender = dispatcher(delivery_sessions, catcher, retry=RetryRule())
    running = asyncio.create_task(sender.run(stop, poll_seconds=1))
    handles = []
    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        sessions=delivery_sessions,
        keys=test_key_store(delivery_sessions),
    )
    try:
        async with worker:
            opened = await asyncio.gather(
                *(open_case(dev_env.client, task_queue) for _ in range(CASES))
            )
            handles = [handle for handle, _ in opened]
            case_ids = [outcome.view.case_id for _, outcome in opened]
            wanted = CASES * (SUPERVISORS + 1)  # T1 overdue to each supervisor, then the head

            def mails_of(kind: str) -> list[str]:
                return [m.message_id for m in catcher.messages if m.subject.startswith(kind)]

            async def arrived() -> int:
                return len(mails_of("Просрочено")) + len(mails_of("Эскалация"))

            await eventually(arrived, lambda n: n >= wanted, within=120, what="the mails")
    finally:
        stop.set()
        await running
        for handle in handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")

    arrival = {m.message_id: m.received_at for m in catcher.messages}
    latencies: dict[str, list[float]] = {"overdue": [], "escalation": []}
    dispatching: list[float] = []  # the outbox row's commit -> the e-mail at the server
    for case_id in case_ids:
        async with delivery_sessions() as session:
            notes = {n.id: n for n in await list_for_case(session, case_id=case_id)}
        for row in await deliveries_of(delivery_sessions, case_id):
            note = notes[row.notification_id] if row.notification_id else None
            if row.channel != "email" or note is None or note.kind not in latencies:
                continue
            assert row.state == "sent"
            assert note.due_at is not None
            # The rung's moment: the due time for the overdue rung, 10 s after it for the head.
            rung_at = note.due_at + (
                timedelta(seconds=10) if note.kind == NotificationKind.ESCALATION else timedelta()
            )
            arrived_at = arrival[f"<{row.idempotency_key}@kurator>"]
            latencies[note.kind].append((arrived_at - rung_at).total_seconds())
            assert note.created_at is not None
            dispatching.append((arrived_at - note.created_at).total_seconds())
    assert len(latencies["overdue"]) == CASES * SUPERVISORS
    assert len(latencies["escalation"]) == CASES
    every = latencies["overdue"] + latencies["escalation"]
    figures = (
        f"{CASES} cases, {len(every)} e-mails: deadline -> e-mail at the SMTP server: "
        f"median {statistics.median(every):.2f} s, "
        f"p95 {statistics.quantiles(every, n=20)[-1]:.2f} s, max {max(every):.2f} s; "
        f"of which outbox -> SMTP: median {statistics.median(dispatching):.2f} s, "
        f"max {max(dispatching):.2f} s"
    )
    print(figures)  # noqa: T201  (the report's figures)
    assert max(every) <= BOUND.total_seconds(), figures
    assert len(set(arrival)) == len(catcher.messages)  # each message once
