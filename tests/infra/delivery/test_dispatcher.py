"""The dispatcher against real PostgreSQL and a real SMTP server (aiosmtpd): recipients from
the directory, one delivery per person and channel, idempotent fan-out, backoff, the dead
letter, and a lease that hands a dead dispatcher's claim to another without a double send."""

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from infra.delivery.dispatcher import RetryRule
from models.crud import deliveries
from models.db import SessionFactory
from models.payloads.vocabulary import NotificationKind, StaffRole
from tests.support.delivery import (
    Clock,
    add_notification,
    add_staff,
    deliveries_of,
    dispatcher,
)
from tests.support.polling import eventually
from workers.devstack.mail_catcher import MailCatcher


async def test_a_role_reaches_the_active_members_of_the_territory_by_mail_and_inbox(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    await add_staff(delivery_sessions, "sup-1", StaffRole.SUPERVISOR)
    await add_staff(delivery_sessions, "sup-2", StaffRole.SUPERVISOR, email=False)
    await add_staff(delivery_sessions, "sup-gone", StaffRole.SUPERVISOR, active=False)
    await add_staff(delivery_sessions, "sup-elsewhere", StaffRole.SUPERVISOR, ("iskitim",))
    await add_staff(delivery_sessions, "head-1", StaffRole.HEAD)
    case_id = await add_notification(delivery_sessions, recipient="supervisor")

    sender = dispatcher(delivery_sessions, catcher)
    assert await sender.fan_out() == 1
    assert await sender.deliver() == 3

    rows = await deliveries_of(delivery_sessions, case_id)
    assert sorted((r.recipient_staff_id, r.channel, r.state) for r in rows) == [
        ("sup-1", "email", "sent"),
        ("sup-1", "inbox", "sent"),
        ("sup-2", "inbox", "sent"),
    ]
    assert [m.recipients for m in catcher.messages] == [("sup-1@kurator.example",)]
    mail = catcher.messages[0]
    email_row = next(r for r in rows if r.channel == "email")
    assert mail.message_id == f"<{email_row.idempotency_key}@kurator>"
    assert mail.subject == f"Просрочено: T2 по случаю №{str(case_id)[:8]}"
    assert "город Бердск" in mail.body
    assert f"https://kurator.example/api/v1/cases/{case_id}" in mail.body
    assert "Истёк: 02.12.2026 00:00 (время НСО)" in mail.body

    # Nothing is left: a second round finds no work, and sends nothing again.
    assert await sender.round() == 0
    assert len(catcher.messages) == 1


async def test_fan_out_is_idempotent_and_a_named_nobody_is_dead_with_its_reason(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    unknown = await add_notification(delivery_sessions, recipient="staff-unknown", is_role=False)
    unstaffed = await add_notification(
        delivery_sessions, recipient="head", municipality="ob", kind=NotificationKind.ESCALATION
    )
    sender = dispatcher(delivery_sessions, catcher)
    assert await sender.fan_out() == 2
    async with delivery_sessions() as session:
        again = await deliveries.undispatched(session, limit=10)
    assert again == []

    [dead] = await deliveries_of(delivery_sessions, unknown)
    assert (dead.state, dead.recipient_staff_id) == ("dead", None)
    assert dead.last_error == "staff member staff-unknown is not an active directory member"
    [dead] = await deliveries_of(delivery_sessions, unstaffed)
    assert dead.last_error == "no active head of ob in the staff directory"
    assert await sender.deliver() == 0
    assert catcher.messages == []


async def test_failures_back_off_exponentially_then_succeed(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    await add_staff(delivery_sessions, "sup-retry", StaffRole.SUPERVISOR, ("koltsovo",))
    case_id = await add_notification(delivery_sessions, municipality="koltsovo")
    clock = Clock()
    retry = RetryRule(max_attempts=5, first_delay=timedelta(seconds=30))
    sender = dispatcher(delivery_sessions, catcher, clock=clock, retry=retry)
    await sender.fan_out()
    catcher.fail_next[:] = ["451 4.3.0 try later", "421 4.3.2 shutting down"]

    started = clock.now
    assert await sender.deliver() == 2  # the inbox and the e-mail
    email = next(r for r in await deliveries_of(delivery_sessions, case_id) if r.channel == "email")
    assert (email.state, email.attempts) == ("failed", 1)
    assert email.next_attempt_at == started + timedelta(seconds=30)
    assert email.last_error == "SMTP answered 451: 4.3.0 try later"

    assert await sender.deliver() == 0  # not due yet
    clock.advance(seconds=30)
    assert await sender.deliver() == 1
    email = next(r for r in await deliveries_of(delivery_sessions, case_id) if r.channel == "email")
    assert (email.state, email.attempts) == ("failed", 2)
    assert email.next_attempt_at == clock.now + timedelta(seconds=60)  # doubled

    clock.advance(seconds=60)
    assert await sender.deliver() == 1
    email = next(r for r in await deliveries_of(delivery_sessions, case_id) if r.channel == "email")
    assert (email.state, email.attempts, email.sent_at) == ("sent", 3, clock.now)
    assert len(catcher.messages) == 1


async def test_dead_letter_after_the_last_attempt_or_at_once_when_refused(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    await add_staff(delivery_sessions, "sup-busy", StaffRole.SUPERVISOR, ("ob",))
    await add_staff(delivery_sessions, "sup-bounce", StaffRole.SUPERVISOR, ("iskitim",))
    busy = await add_notification(delivery_sessions, municipality="ob")
    clock = Clock()
    retry = RetryRule(max_attempts=3, first_delay=timedelta(seconds=1))
    sender = dispatcher(delivery_sessions, catcher, clock=clock, retry=retry)
    await sender.fan_out()
    catcher.fail_next[:] = ["451 busy"] * 3
    for _ in range(3):
        await sender.deliver()
        clock.advance(seconds=10)
    email = next(r for r in await deliveries_of(delivery_sessions, busy) if r.channel == "email")
    assert (email.state, email.attempts, email.next_attempt_at) == ("dead", 3, None)
    assert email.last_error == "gave up after 3 attempts; last: SMTP answered 451: busy"

    bounced = await add_notification(delivery_sessions, municipality="iskitim")
    await sender.fan_out()
    catcher.fail_next[:] = ["550 5.1.1 no such mailbox"]
    await sender.deliver()
    email = next(r for r in await deliveries_of(delivery_sessions, bounced) if r.channel == "email")
    assert (email.state, email.attempts) == ("dead", 1)
    assert email.last_error == "SMTP answered 550: 5.1.1 no such mailbox"
    assert catcher.messages == []
    assert await sender.deliver() == 0  # dead stays dead


async def test_a_claim_whose_dispatcher_died_is_taken_over_after_its_lease_and_fenced(
    delivery_sessions: SessionFactory, catcher: MailCatcher
) -> None:
    await add_staff(delivery_sessions, "sup-lease", StaffRole.SUPERVISOR, ("novosibirsk",))
    case_id = await add_notification(delivery_sessions, municipality="novosibirsk")
    clock = Clock()
    retry = RetryRule(lease=timedelta(seconds=120))
    sender = dispatcher(delivery_sessions, catcher, clock=clock, retry=retry)
    await sender.fan_out()
    # A first dispatcher claims and dies before sending: its claim is on record only.
    async with delivery_sessions() as session, session.begin():
        [first, _] = await deliveries.claim_due(
            session, now=clock.now, lease_until=clock.now + retry.lease, limit=10
        )
    assert await sender.deliver() == 0  # leased: nobody else takes it
    clock.advance(seconds=121)
    assert await sender.deliver() == 2
    rows = {r.channel: r for r in await deliveries_of(delivery_sessions, case_id)}
    assert (rows["email"].state, rows["email"].attempts) == ("sent", 2)
    assert rows["email"].last_error == deliveries.INTERRUPTED
    assert len(catcher.messages) == 1
    # The dead dispatcher, had it woken, could not overwrite its successor's outcome.
    async with delivery_sessions() as session, session.begin():
        assert not await deliveries.record_failure(
            session, delivery_id=first.id, attempt=1, error="late", retry_at=None
        )
    assert {r.state for r in await deliveries_of(delivery_sessions, case_id)} == {"sent"}
    assert uuid.UUID(str(first.id))


async def test_run_touches_the_heartbeat_after_each_round_and_stops_when_told(
    delivery_sessions: SessionFactory, catcher: MailCatcher, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "alive"
    stop = asyncio.Event()
    sender = dispatcher(delivery_sessions, catcher)
    running = asyncio.create_task(sender.run(stop, poll_seconds=0.05, heartbeat=heartbeat))

    async def alive() -> bool:
        return heartbeat.exists()

    await eventually(alive, bool, within=10, what="the heartbeat")
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert running.done()
