"""Collecting what one workflow step persists: numbered events and their notifications."""

from datetime import datetime
from typing import Any

from models.lifecycle.state import CaseState
from models.payloads.case_view import CaseStep, NotificationDraft
from models.payloads.events import SYSTEM_ACTOR, CaseEventDraft, EventOrigin
from models.payloads.vocabulary import NotificationKind
from models.policy import DeadlineCode


class StepLog:
    """Events and notifications of one step, numbered from the state's last event."""

    def __init__(self, state: CaseState, now: datetime, actor_id: str, actor_role: str) -> None:
        self.state = state
        self.now = now
        self.actor_id = actor_id
        self.actor_role = actor_role
        self.events: list[CaseEventDraft] = []
        self.notifications: list[NotificationDraft] = []

    @classmethod
    def system(cls, state: CaseState, now: datetime) -> "StepLog":
        return cls(state, now, SYSTEM_ACTOR, SYSTEM_ACTOR)

    def event(
        self,
        action: str,
        *,
        stage_before: str | None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Record an event (the stage after is the state's current stage); its number."""
        self.state.seq += 1
        self.events.append(
            CaseEventDraft(
                case_id=self.state.case_id,
                seq=self.state.seq,
                action=action,
                actor_id=self.actor_id,
                actor_role=self.actor_role,
                stage_before=stage_before,
                stage_after=self.state.stage,
                reason=reason,
                data=data or {},
                occurred_at=self.now,
            )
        )
        return self.state.seq

    def notify(
        self,
        event_seq: int,
        recipient: str,
        *,
        is_role: bool,
        kind: NotificationKind,
        message: str,
        code: DeadlineCode | None = None,
        due_at: datetime | None = None,
    ) -> None:
        self.notifications.append(
            NotificationDraft(
                case_id=self.state.case_id,
                event_seq=event_seq,
                recipient=recipient,
                recipient_is_role=is_role,
                municipality=self.state.municipality,
                kind=kind,
                deadline_code=code,
                due_at=due_at,
                message=message,
            )
        )

    def step(self, origin: EventOrigin | None = None) -> CaseStep | None:
        """What to persist, or None when nothing happened; `origin` is where it came from."""
        if not self.events:
            return None
        return CaseStep(
            events=list(self.events),
            notifications=list(self.notifications),
            view=self.state.view(),
            origin=origin,
        )
