"""`kurator dispatch`: the process that delivers the notifications outbox (its composition
root: settings -> engine -> channels and templates -> dispatcher).

Its own process, not a task in the worker: it needs no Temporal, scales apart from the case
workers (several may run side by side; their claims never overlap), and is stopped or killed
without touching a case.
"""

import asyncio
import signal
from datetime import timedelta

from infra.delivery.channels import Channel, EmailChannel, InboxChannel, SmtpConfig
from infra.delivery.dispatcher import Dispatcher, RetryRule
from infra.logs import get_logger
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.message_text import MessageTemplates, TemplateError
from models.settings import Settings, SettingsError

log = get_logger(__name__)


def channels_from(settings: Settings) -> list[Channel]:
    """The inbox always; e-mail when an SMTP server is set."""
    channels: list[Channel] = [InboxChannel()]
    if settings.smtp_host is None:
        log.warning("e-mail notifications are off: set KURATOR_SMTP_HOST")
        return channels
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    channels.append(
        EmailChannel(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password,
                sender=settings.smtp_from,
                timeout_seconds=settings.smtp_timeout_seconds,
                ca_file=settings.smtp_ca_file,
            )
        )
    )
    return channels


def templates_from(settings: Settings) -> MessageTemplates:
    try:
        return MessageTemplates.load(settings.templates_dir)
    except TemplateError as error:
        raise SettingsError(f"KURATOR_TEMPLATES_DIR: {error}") from None


def retry_rule_from(settings: Settings) -> RetryRule:
    return RetryRule(
        max_attempts=settings.delivery_max_attempts,
        first_delay=timedelta(seconds=settings.delivery_retry_seconds),
        max_delay=timedelta(seconds=settings.delivery_retry_max_seconds),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
    )


def build_dispatcher(settings: Settings, sessions: SessionFactory) -> Dispatcher:
    return Dispatcher(
        sessions,
        channels=channels_from(settings),
        templates=templates_from(settings),
        link_base=settings.case_link_base_url,
        retry=retry_rule_from(settings),
    )


async def run_dispatcher(settings: Settings) -> None:
    """Deliver until SIGINT or SIGTERM; the attempts under way finish first."""
    engine = make_async_engine(settings.require_database_url())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        dispatcher = build_dispatcher(settings, make_session_factory(engine))
        await dispatcher.run(
            stop,
            poll_seconds=settings.dispatch_poll_seconds,
            heartbeat=settings.dispatch_heartbeat_file,
        )
    finally:
        await engine.dispose()
