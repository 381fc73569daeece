"""The daily digest's one activity: for every active supervisor and head, what became overdue
or escalated in their territory in the last day and what waits for their decision, counted and
listed, queued as deliveries (the dispatcher sends them like any notification).

Keyed by the day: a second run on the same day (a retry, a manual trigger) queues nothing new.
A member with nothing to report gets no digest."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from infra.delivery.channels import Channel
from infra.delivery.fan_out import delivery_rows
from models.crud import deliveries
from models.crud.digest_sources import alarms, awaiting_decision, supervisors_and_heads
from models.db import SessionFactory
from models.message_text import (
    DIGEST,
    LOCAL,
    DigestContent,
    DigestLine,
    MessageTemplates,
    case_label,
    case_link,
)
from models.payloads.delivery import DigestsWritten
from models.payloads.vocabulary import NotificationKind
from models.policy.codes import DeadlineCode
from models.tables.staff_member import StaffMember
from models.territory import MUNICIPALITY_CODES

DIGEST_PERIOD = timedelta(days=1)


class DigestActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        templates: MessageTemplates,
        channels: Sequence[Channel],
        link_base: str,
    ) -> None:
        self._sessions = sessions
        self._templates = templates
        self._channels = list(channels)
        self._link_base = link_base

    @activity.defn
    async def queue_digests(self) -> DigestsWritten:
        return await self.queue_digests_at(datetime.now(UTC))

    async def queue_digests_at(self, now: datetime) -> DigestsWritten:
        day = now.astimezone(LOCAL).date()
        rows, recipients = [], 0
        async with self._sessions() as session, session.begin():
            for member in await supervisors_and_heads(session):
                content = await self._content(session, member, now)
                if content.is_empty():
                    continue
                recipients += 1
                rows += delivery_rows(
                    source=f"digest-{day.isoformat()}",
                    members=[member],
                    problem=None,
                    channels=self._channels,
                    message=self._templates.digest(content),
                    now=now,
                    kind=DIGEST,
                    digest_day=day,
                )
            queued = await deliveries.queue(session, rows)
        return DigestsWritten(day=day.isoformat(), recipients=recipients, deliveries=queued)

    async def _content(
        self, session: AsyncSession, member: StaffMember, now: datetime
    ) -> DigestContent:
        territory = [m for m in member.municipalities if m in MUNICIPALITY_CODES]
        fired = await alarms(
            session, municipalities=territory, since=now - DIGEST_PERIOD, until=now
        )
        waiting = await awaiting_decision(session, municipalities=territory)
        numbers = await deliveries.case_numbers(session, {alarm.case_id for alarm in fired})

        def line(
            case_id: UUID, number: str | None, code: str | None, due_at: datetime | None
        ) -> DigestLine:
            return DigestLine(
                case_number=case_label(case_id, number),
                code=DeadlineCode(code) if code else None,
                due_at=due_at,
                link=case_link(self._link_base, case_id),
            )

        return DigestContent(
            day=now.astimezone(LOCAL).date(),
            generated_at=now,
            municipalities=territory,
            overdue=[
                line(a.case_id, numbers.get(a.case_id), a.deadline_code, a.due_at)
                for a in fired
                if a.kind is NotificationKind.OVERDUE
            ],
            escalated=[
                line(a.case_id, numbers.get(a.case_id), a.deadline_code, a.due_at)
                for a in fired
                if a.kind is NotificationKind.ESCALATION
            ],
            approvals=[line(w.case_id, w.case_number, None, w.term_ends_at) for w in waiting],
        )
