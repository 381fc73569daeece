"""A local SMTP catcher (aiosmtpd) for `kurator dev` and the tests: a real SMTP server on
127.0.0.1 that keeps what it accepts instead of delivering it.

Accepted messages are kept in memory (`messages`, for tests) and, given a directory, in a
Maildir there (one file per message under `new/`, readable with any mail client or `cat`).
A message whose Message-ID it already holds is accepted but kept once, as a real mail store
keyed on Message-ID does (`duplicates` counts them).

Tests can make it misbehave like a real server: `hold` is awaited before it answers a
recipient (RCPT TO), so a dispatcher can be killed mid-conversation, before the message was
transmitted; `on_accept` runs once a message is stored and before the 250 goes out (the
window where the server has taken the message and the sender does not know it yet); and a
queue of forced replies (`fail_next`) refuses messages with 4xx or 5xx.
"""

import asyncio
import email
import mailbox
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from infra.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CaughtMessage:
    message_id: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    received_at: datetime
    raw: bytes


@dataclass
class MailCatcher:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port; `port` holds the real one once started
    maildir: Path | None = None
    hold: Callable[[str], Awaitable[None]] | None = None
    on_accept: Callable[["CaughtMessage"], None] | None = None
    messages: list[CaughtMessage] = field(default_factory=list)
    duplicates: int = 0
    fail_next: list[str] = field(default_factory=list)  # e.g. "451 try later"
    # A real server's security, for tests of the client's: STARTTLS required with this
    # context, and AUTH (over TLS only) with these credentials.
    tls_context: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    _server: asyncio.Server | None = None
    _mailbox: mailbox.Maildir | None = None

    async def start(self) -> "MailCatcher":
        if self.maildir is not None:
            self._mailbox = mailbox.Maildir(self.maildir, create=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, host=self.host, port=self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _session(self) -> SMTP:
        return SMTP(
            self,
            hostname="kurator-mail-catcher",
            tls_context=self.tls_context,
            require_starttls=self.tls_context is not None,
            authenticator=self._authenticate if self.credentials is not None else None,
            auth_required=self.credentials is not None,
            auth_require_tls=self.tls_context is not None,
            # PLAIN only: smtplib falls back from a refused PLAIN to LOGIN, whose exchange
            # aiosmtpd's LOGIN does not answer as smtplib expects (it hangs).
            auth_exclude_mechanism=["LOGIN"],
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        given = (
            (data.login.decode(), data.password.decode())
            if isinstance(data, LoginPassword)
            else None
        )
        return AuthResult(success=given == self.credentials, handled=False)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def by_message_id(self) -> dict[str, list[CaughtMessage]]:
        found: dict[str, list[CaughtMessage]] = {}
        for message in self.messages:
            found.setdefault(message.message_id, []).append(message)
        return found

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.hold is not None:
            await self.hold(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed: Any = email.message_from_bytes(raw, policy=default_policy)
        if self.fail_next:
            return self.fail_next.pop(0)
        message_id = str(parsed.get("Message-ID", "")).strip()
        if any(known.message_id == message_id for known in self.messages):
            self.duplicates += 1
        elif self._mailbox is not None:
            self._mailbox.add(raw)
        body = parsed.get_body(preferencelist=("plain",))
        caught = CaughtMessage(
            message_id=message_id,
            recipients=tuple(envelope.rcpt_tos),
            subject=str(parsed.get("Subject", "")),
            body="" if body is None else body.get_content(),
            received_at=datetime.now(UTC),
            raw=raw,
        )
        self.messages.append(caught)
        log.info("e-mail caught", to=list(caught.recipients), subject=caught.subject)
        if self.on_accept is not None:
            self.on_accept(caught)
        return "250 OK"
