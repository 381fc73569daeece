"""Delivery channels behind one interface, so SMS or a messenger is one more class.

A channel says where a staff member is reached on it (or that they are not) and sends one
message there. `send` raises `DeliveryError`; `permanent` ones are dead-lettered at once (a
mailbox the server refuses), the others retried with backoff (a server down or busy).
"""

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from models.payloads.delivery import DeliveryChannel
from models.tables.staff_member import StaffMember


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str  # the delivery's idempotency key: the same on every attempt
    address: str
    subject: str
    body: str


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Channel(Protocol):
    name: DeliveryChannel

    def address_of(self, member: StaffMember) -> str | None:
        """Where `member` is reached on this channel; None when they are not."""
        ...

    async def send(self, message: OutgoingMessage) -> None:
        """Hand the message over; returns once the channel has accepted it."""
        ...


class InboxChannel:
    """The staff member's notifications in the API (`GET /api/v1/notifications`): the
    delivery row is the message, so sending is recording it as sent."""

    name = DeliveryChannel.INBOX

    def address_of(self, member: StaffMember) -> str | None:
        return member.staff_id

    async def send(self, message: OutgoingMessage) -> None:
        return None


# Refusals that say our settings are wrong (TLS or a login required, credentials refused), not
# the message: retried, so mail flows again once an operator fixes them, instead of every
# message going to the dead letter.
_SETTINGS_TO_FIX = frozenset({530, 534, 535, 538})


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "kurator@localhost"
    timeout_seconds: float = 30
    ca_file: Path | None = None  # a private CA the server's certificate is checked against


class EmailChannel:
    """E-mail over SMTP (smtplib in a thread: one short conversation per message). The
    Message-ID is the delivery's idempotency key, so a message re-sent after a crash is the
    same message to the receiving mail system."""

    name = DeliveryChannel.EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def address_of(self, member: StaffMember) -> str | None:
        return member.email or None

    async def send(self, message: OutgoingMessage) -> None:
        await asyncio.to_thread(self._send, self.compose(message))

    def compose(self, message: OutgoingMessage) -> Message:
        # The older email API on purpose: the modern one (EmailMessage) drops the space at
        # the point where it folds a long Cyrillic subject into two encoded words, so mail
        # clients showed "решениепо случаю". `Header` keeps each space inside an encoded word.
        email = MIMEText(message.body, "plain", "utf-8")
        email["From"] = self.config.sender
        email["To"] = message.address
        email["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]  # typeshed: str only; the compat32 API takes a Header
        email["Message-ID"] = f"<{message.message_id}@kurator>"
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        return email

    def _send(self, email: Message) -> None:
        config = self.config
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
                if config.username is not None:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryError(
                f"SMTP refused the recipient: {_codes(error.recipients)}",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPAuthenticationError as error:  # a setting to fix: keep retrying
            raise DeliveryError(f"SMTP login refused: {error.smtp_code}", permanent=False) from None
        except smtplib.SMTPResponseException as error:
            text = _text(error.smtp_error)[:200]
            code = error.smtp_code
            raise DeliveryError(
                f"SMTP answered {code}: {text}",
                permanent=code >= 500 and code not in _SETTINGS_TO_FIX,
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"SMTP {config.host}:{config.port}: {type(error).__name__}: {error}",
                permanent=False,
            ) from None


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{code} {_text(text)[:100]}" for code, text in recipients.values())


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
