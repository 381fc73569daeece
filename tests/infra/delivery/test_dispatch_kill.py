"""`kurator dispatch` killed (SIGKILL) in the middle of sending: the SMTP server holds its
reply to DATA while the process dies, a second dispatcher takes the interrupted deliveries
over once their lease runs out, and every message arrives exactly once, none lost."""

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import col, select

from models.crud.deliveries import INTERRUPTED
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from models.tables.delivery import Delivery
from tests.support.delivery import add_notification, add_staff
from tests.support.polling import eventually
from tests.support.worker_process import kurator_process
from workers.devstack.mail_catcher import MailCatcher

SUPERVISORS = 3
NOTIFICATIONS = 4
LET_THROUGH = 3  # messages accepted before the server starts holding its replies


@contextmanager
def dispatch_process(
    database_url: str, catcher: MailCatcher, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    settings = {
        "KURATOR_DATABASE_URL": database_url,
        "KURATOR_SMTP_HOST": catcher.host,
        "KURATOR_SMTP_PORT": str(catcher.port),
        "KURATOR_SMTP_TIMEOUT_SECONDS": "5",
        "KURATOR_DELIVERY_LEASE_SECONDS": "2",
        "KURATOR_DISPATCH_POLL_SECONDS": "0.2",
    }
    with kurator_process("dispatch", log, settings, stop_within=20) as process:
        yield process


async def _emails(sessions: SessionFactory) -> list[Delivery]:
    async with sessions() as session:
        statement = select(Delivery).where(col(Delivery.channel) == "email")
        return list((await session.exec(statement)).all())


async def _setup(sessions: SessionFactory, prefix: str) -> int:
    for n in range(SUPERVISORS):
        await add_staff(sessions, f"{prefix}-{n}", StaffRole.SUPERVISOR)
    for _ in range(NOTIFICATIONS):
        await add_notification(sessions)
    return SUPERVISORS * NOTIFICATIONS


async def _all_sent(sessions: SessionFactory) -> None:
    async def states() -> set[str]:
        return {d.state for d in await _emails(sessions)}

    await eventually(states, lambda found: found == {"sent"}, within=60, what="all sent")


async def test_a_dispatcher_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    delivery_database_url: str,
    delivery_sessions: SessionFactory,
    catcher: MailCatcher,
    tmp_path: Path,
) -> None:
    expected = await _setup(delivery_sessions, "sup-kill")
    release = asyncio.Event()
    let_through: list[str] = []
    held: list[str] = []

    async def hold(address: str) -> None:
        if len(let_through) < LET_THROUGH:
            let_through.append(address)
            return
        held.append(address)
        await release.wait()

    catcher.hold = hold
    log = tmp_path / "dispatch.log"
    with dispatch_process(delivery_database_url, catcher, log) as first:

        async def sent_so_far() -> int:
            return sum(d.state == "sent" for d in await _emails(delivery_sessions))

        await eventually(
            sent_so_far,
            lambda sent: bool(held) and sent == LET_THROUGH,
            within=60,
            what="the first messages sent and the next held",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    in_flight = [d for d in await _emails(delivery_sessions) if d.state == "sending"]
    # Claimed and not finished: those the server held, and those still waiting for a thread.
    assert len(in_flight) >= len(held) >= 1
    catcher.hold = None
    release.set()

    with dispatch_process(delivery_database_url, catcher, log):
        await _all_sent(delivery_sessions)

    received = catcher.by_message_id()
    assert len(received) == expected, log.read_text()[-3000:]
    assert all(len(copies) == 1 for copies in received.values())
    rows = {d.id: d for d in await _emails(delivery_sessions)}
    assert {f"<{d.idempotency_key}@kurator>" for d in rows.values()} == set(received)
    for interrupted in in_flight:
        again = rows[interrupted.id]
        assert (again.attempts, again.last_error) == (2, INTERRUPTED)


async def test_killed_between_the_servers_acceptance_and_the_commit_resends_the_same_message_id(
    delivery_database_url: str, delivery_sessions: SessionFactory, tmp_path: Path
) -> None:
    """The documented window (infra/delivery/dispatcher.py): the server has taken the message,
    the dispatcher dies before recording it. The message goes again with the same Message-ID,
    which a mail store keyed on it (here the catcher's Maildir) keeps once; nothing is lost."""
    expected = await _setup(delivery_sessions, "sup-window")
    catcher = await MailCatcher(maildir=tmp_path / "mail").start()
    process: list[subprocess.Popen[bytes]] = []

    def kill_on_second(message: object) -> None:
        if len(catcher.messages) == 2:
            process[0].send_signal(signal.SIGKILL)

    catcher.on_accept = kill_on_second
    log = tmp_path / "dispatch.log"
    try:
        with dispatch_process(delivery_database_url, catcher, log) as first:
            process.append(first)

            async def exited() -> bool:
                return first.poll() is not None

            await eventually(exited, bool, within=60, what="the dispatcher killed")
        catcher.on_accept = None
        # What the dead dispatcher had already written to its sockets is still read and
        # accepted by the server after the kill: the same window, for those messages too.
        await asyncio.sleep(1)
        accepted_by_first = {m.message_id for m in catcher.messages}
        with dispatch_process(delivery_database_url, catcher, log):
            await _all_sent(delivery_sessions)
    finally:
        await catcher.stop()

    received = catcher.by_message_id()
    assert len(received) == expected
    # Sent twice: the message accepted at the kill, and any other the server accepted from
    # the first dispatcher whose commit the kill cut off; each re-sent with its Message-ID.
    twice = {mid for mid, copies in received.items() if len(copies) == 2}
    assert catcher.messages[1].message_id in twice
    assert twice <= accepted_by_first
    assert catcher.duplicates == len(twice)
    assert all(len(copies) <= 2 for copies in received.values())
    assert len(list((tmp_path / "mail" / "new").iterdir())) == expected  # one copy each
    for row in await _emails(delivery_sessions):
        if f"<{row.idempotency_key}@kurator>" in twice:
            assert (row.attempts, row.last_error) == (2, INTERRUPTED)
