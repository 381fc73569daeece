"""Delivery tests' shared parts: a database of their own (the dispatcher drains every
notification it finds, so it must not see other tests'), synthetic staff in the directory,
outbox rows, and a dispatcher against a real aiosmtpd server.

Staff names and addresses are invented (`@kurator.example`); no family data anywhere."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert

from infra.db_roles import ensure_app_login, url_as
from infra.delivery.channels import EmailChannel, InboxChannel, SmtpConfig
from infra.delivery.dispatcher import Dispatcher, RetryRule, utc_now
from infra.migrate import upgrade_to_head
from models.crud.notifications import enqueue
from models.db import SessionFactory
from models.message_text import MessageTemplates
from models.payloads.case_view import NotificationDraft
from models.payloads.vocabulary import NotificationKind, StaffRole
from models.policy.codes import DeadlineCode
from models.tables.delivery import Delivery
from models.tables.staff_member import StaffMember
from workers.devstack.embedded_postgres import ensure_database
from workers.devstack.mail_catcher import MailCatcher

LINK_BASE = "https://kurator.example/api/v1/cases"
DELIVERY_APP_LOGIN = "kurator_test_app"


def fresh_database(postgres_server: str) -> str:
    """A new database migrated to head; the URL the application logs in with."""
    owner = ensure_database(postgres_server, f"delivery_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(owner)
    app = url_as(owner, DELIVERY_APP_LOGIN)
    ensure_app_login(owner, app)
    return app


async def add_staff(
    sessions: SessionFactory,
    staff_id: str,
    role: StaffRole,
    municipalities: Sequence[str] = ("berdsk",),
    *,
    email: bool = True,
    active: bool = True,
) -> None:
    row = {
        "staff_id": staff_id,
        "full_name": f"Сотрудник {staff_id}",
        "role": role.value,
        "municipalities": list(municipalities),
        "email": f"{staff_id}@kurator.example" if email else None,
        "active": active,
    }
    async with sessions() as session, session.begin():
        await session.exec(insert(StaffMember).values(**row).on_conflict_do_nothing())


async def add_notification(
    sessions: SessionFactory,
    *,
    recipient: str = "supervisor",
    is_role: bool = True,
    municipality: str = "berdsk",
    kind: NotificationKind = NotificationKind.OVERDUE,
    code: DeadlineCode | None = DeadlineCode.T2,
    due_at: datetime | None = None,
    case_id: UUID | None = None,
) -> UUID:
    """One outbox row as a deadline timer writes it; returns its case id."""
    case_id = case_id or uuid.uuid4()
    draft = NotificationDraft(
        case_id=case_id,
        event_seq=1,
        recipient=recipient,
        recipient_is_role=is_role,
        municipality=municipality,
        kind=kind,
        deadline_code=code,
        due_at=due_at or datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        message="overdue",
    )
    async with sessions() as session, session.begin():
        await enqueue(session, drafts=[draft])
    return case_id


class Clock:
    """A clock a test moves by hand, for backoff and leases."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += timedelta(**delta)


def dispatcher(
    sessions: SessionFactory,
    catcher: MailCatcher,
    *,
    clock: Clock | None = None,
    retry: RetryRule | None = None,
) -> Dispatcher:
    config = SmtpConfig(host=catcher.host, port=catcher.port, timeout_seconds=10)
    return Dispatcher(
        sessions,
        channels=[InboxChannel(), EmailChannel(config)],
        templates=MessageTemplates.load(),
        link_base=LINK_BASE,
        retry=retry or RetryRule(),
        clock=clock or utc_now,
    )


async def deliveries_of(sessions: SessionFactory, case_id: UUID) -> list[Delivery]:
    from models.crud.deliveries import for_case

    async with sessions() as session:
        return list(await for_case(session, case_id=case_id))
