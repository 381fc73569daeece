"""The dispatcher: drains the outbox into deliveries and sends them, at least once, and never
twice to one person.

Each round (1) fans new notifications out (infra/delivery/fan_out.py) in one transaction that
also marks them handed over, and (2) claims due deliveries and sends them. The claim commits
`sending` (with a lease) before anything leaves; the outcome is committed after the channel
accepted or refused. So a dispatcher killed at any point loses nothing: a claimed row whose
lease runs out is claimed again and re-sent with the same Message-ID.

The one window left is between the SMTP server's "250 accepted" and our commit of `sent` (a
kill there, milliseconds wide): the message is then sent a second time, with the same
Message-ID. We chose that over the alternative (never re-sending a row whose outcome is
unknown), which would silently lose escalations; a receiving mail store that keys on
Message-ID (and Kurator's dev catcher) shows it once, and the delivery's `last_error` says
that the attempt before was interrupted. A server that drops the connection before its 250
has not accepted the message (RFC 5321 §4.1.1.4), and the re-send delivers it exactly once.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import exc

from infra.delivery.channels import Channel, DeliveryError, OutgoingMessage
from infra.delivery.fan_out import Recipients, delivery_rows, render_notice
from infra.logs import get_logger
from models.crud import deliveries
from models.crud.notifications import mark_sent
from models.db import SessionFactory
from models.message_text import MessageTemplates
from models.payloads.delivery import DeliveryChannel
from models.tables.delivery import Delivery

log = get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryRule:
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=2)

    def delay(self, attempt: int) -> timedelta:
        """Exponential backoff: the first delay after attempt 1, doubling, capped."""
        delay: timedelta = self.first_delay * 2 ** (attempt - 1)
        return min(delay, self.max_delay)


class Dispatcher:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        channels: Sequence[Channel],
        templates: MessageTemplates,
        link_base: str,
        retry: RetryRule,
        batch: int = 200,
        concurrency: int = 16,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._channels = {channel.name: channel for channel in channels}
        self._templates = templates
        self._link_base = link_base
        self._retry = retry
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock

    async def run(
        self, stop: asyncio.Event, *, poll_seconds: float, heartbeat: Path | None = None
    ) -> None:
        """Rounds until `stop`; a round that found work is followed by the next at once.
        `heartbeat` is touched after every round that reached the database (a health check
        reads its age)."""
        log.info("dispatcher running", channels=sorted(self._channels), poll_seconds=poll_seconds)
        while not stop.is_set():
            try:
                busy = await self.round()
            except (exc.OperationalError, exc.InterfaceError, OSError) as error:
                log.warning("dispatcher: database unavailable", error=type(error).__name__)
                busy = 0
            else:
                if heartbeat is not None:
                    await asyncio.to_thread(heartbeat.touch)
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
        log.info("dispatcher stopped")

    async def round(self) -> int:
        """One fan-out and one delivery pass; how much work they found."""
        return await self.fan_out() + await self.deliver()

    async def fan_out(self) -> int:
        """Queue the deliveries of up to a batch of new notifications; how many."""
        now = self._clock()
        channels = list(self._channels.values())
        async with self._sessions() as session, session.begin():
            notes = await deliveries.undispatched(session, limit=self._batch)
            if not notes:
                return 0
            numbers = await deliveries.case_numbers(session, {note.case_id for note in notes})
            recipients = Recipients(session)
            rows = []
            for note in notes:
                members, problem = await recipients.of(note)
                rows += delivery_rows(
                    source=str(note.id),
                    members=members,
                    problem=problem,
                    channels=channels,
                    message=render_notice(
                        self._templates, note, numbers.get(note.case_id), self._link_base
                    ),
                    now=now,
                    kind=note.kind,
                    notification_id=note.id,
                    case_id=note.case_id,
                )
                if problem is not None:
                    log.warning("notification names nobody", notification=str(note.id), why=problem)
            await deliveries.queue(session, rows)
            await mark_sent(session, ids=[note.id for note in notes], at=now)
        return len(notes)

    async def deliver(self) -> int:
        """Claim up to a batch of due deliveries and attempt each; how many were claimed."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            claimed = await deliveries.claim_due(
                session, now=now, lease_until=now + self._retry.lease, limit=self._batch
            )
        await asyncio.gather(*(self._attempt(delivery) for delivery in claimed))
        return len(claimed)

    async def _attempt(self, delivery: Delivery) -> None:
        async with self._slots:
            problem = await self._send(delivery)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if problem is None:
                await deliveries.record_sent(
                    session, delivery_id=delivery.id, attempt=delivery.attempts, at=now
                )
                log.info(
                    "delivered",
                    delivery=str(delivery.id),
                    kind=delivery.kind,
                    channel=delivery.channel,
                    staff_id=delivery.recipient_staff_id,
                    attempt=delivery.attempts,
                )
                return
            reason, permanent = problem
            last = permanent or delivery.attempts >= self._retry.max_attempts
            if last and not permanent:
                reason = f"gave up after {delivery.attempts} attempts; last: {reason}"
            retry_at = None if last else now + self._retry.delay(delivery.attempts)
            await deliveries.record_failure(
                session,
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                error=reason,
                retry_at=retry_at,
            )
        log.warning(
            "delivery dead-lettered" if last else "delivery failed; will retry",
            delivery=str(delivery.id),
            channel=delivery.channel,
            attempt=delivery.attempts,
            retry_at=None if retry_at is None else retry_at.isoformat(),
            error=reason,
        )

    async def _send(self, delivery: Delivery) -> tuple[str, bool] | None:
        """None when the channel accepted the message, else (why, whether permanent)."""
        if delivery.attempts > self._retry.max_attempts:  # its last attempt was interrupted
            return f"the last attempt's outcome is unknown: {delivery.last_error}", True
        channel = self._channels.get(DeliveryChannel(delivery.channel))
        if channel is None:
            return f"channel {delivery.channel} is not configured on this dispatcher", False
        message = OutgoingMessage(
            message_id=delivery.idempotency_key,
            address=delivery.address or "",
            subject=delivery.subject,
            body=delivery.body,
        )
        try:
            await channel.send(message)
        except DeliveryError as error:
            return str(error), error.permanent
        return None
