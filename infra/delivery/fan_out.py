"""Fanning a notification out: its recipient resolved through the staff directory to people,
one delivery row per person and channel, its text rendered once.

A role recipient ("supervisor" of the case's municipality) names every active member holding
that role there; a personal one (a staff id) names that member if active. A notification that
names nobody the directory knows gets one dead row saying so, so the gap shows in the API
instead of vanishing.
"""

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from infra.delivery.channels import Channel
from models.crud.staff_directory import active_members, get_member
from models.message_text import (
    MessageTemplates,
    RenderedMessage,
    case_label,
    case_link,
    resource_link,
)
from models.payloads.vocabulary import NotificationKind, StaffRole
from models.policy.codes import DeadlineCode
from models.tables.notification import Notification
from models.tables.staff_member import StaffMember

_MESSAGE_ID_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Policy roles that are no directory role: "curator" is a case's curator, addressed as a role
# before one is named (T1's reminder), which is the territory's specialists (куратор случая).
_ROLE_OF_POLICY_ROLE = {"curator": StaffRole.SPECIALIST}


def delivery_key(source: str, staff_id: str | None, channel: str) -> str:
    """The idempotency key (and Message-ID's local part) of one message to one person on one
    channel: readable when the staff id is plain, hashed when it holds other characters."""
    who = "nobody" if staff_id is None else staff_id
    if not _MESSAGE_ID_SAFE.match(who):
        who = "h" + hashlib.sha256(who.encode()).hexdigest()[:24]
    return f"{source}.{who}.{channel}"


class Recipients:
    """Resolves recipients through the directory, each role once per batch."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._roles: dict[tuple[StaffRole, str], Sequence[StaffMember]] = {}

    async def of(self, note: Notification) -> tuple[Sequence[StaffMember], str | None]:
        """The members the notification names, or none and why."""
        if not note.recipient_is_role:
            member = await get_member(self._session, note.recipient)
            if member is None or not member.active:
                return [], f"staff member {note.recipient} is not an active directory member"
            return [member], None
        try:
            role = _ROLE_OF_POLICY_ROLE.get(note.recipient) or StaffRole(note.recipient)
        except ValueError:
            return [], f"role {note.recipient} is not a staff role the directory holds"
        key = (role, note.municipality)
        if key not in self._roles:
            self._roles[key] = await active_members(
                self._session, role=role, municipality=note.municipality
            )
        if not self._roles[key]:
            return [], f"no active {role.value} of {note.municipality} in the staff directory"
        return self._roles[key], None


def render_notice(
    templates: MessageTemplates, note: Notification, case_number: str | None, link_base: str
) -> RenderedMessage:
    kind = NotificationKind(note.kind)
    link = case_link(link_base, note.case_id)
    if kind is NotificationKind.RESOURCE_REVIEW_DUE:
        # Its `case_id` holds the resource-map entry's id (models/resource_map): link the entry.
        link = resource_link(link_base, note.case_id)
    return templates.notice(
        kind=kind,
        case_number=case_label(note.case_id, case_number),
        code=DeadlineCode(note.deadline_code) if note.deadline_code else None,
        due_at=note.due_at,
        municipality=note.municipality,
        link=link,
    )


def delivery_rows(
    *,
    source: str,
    members: Sequence[StaffMember],
    problem: str | None,
    channels: Sequence[Channel],
    message: RenderedMessage,
    now: datetime,
    kind: str,
    notification_id: UUID | None = None,
    case_id: UUID | None = None,
    digest_day: Any = None,
) -> list[dict[str, Any]]:
    """The rows to queue: pending for each member's channels, or one dead row with `problem`."""
    common = {
        "notification_id": notification_id,
        "case_id": case_id,
        "digest_day": digest_day,
        "kind": kind,
        "subject": message.subject,
        "body": message.body,
        "attempts": 0,
        "sent_at": None,
    }
    if problem is not None:
        return [
            {
                **common,
                "idempotency_key": delivery_key(source, None, "inbox"),
                "recipient_staff_id": None,
                "channel": "inbox",
                "address": None,
                "state": "dead",
                "next_attempt_at": None,
                "last_error": problem,
            }
        ]
    rows = []
    for member in members:
        for channel in channels:
            address = channel.address_of(member)
            if address is None:
                continue
            rows.append(
                {
                    **common,
                    "idempotency_key": delivery_key(source, member.staff_id, channel.name),
                    "recipient_staff_id": member.staff_id,
                    "channel": channel.name.value,
                    "address": address,
                    "state": "pending",
                    "next_attempt_at": now,
                    "last_error": None,
                }
            )
    return rows
