"""Open deadlines and their escalation ladders, as data the workflow keeps in its state.

A deadline is planned once: its reminder and every rung become alarms with fixed times. The
workflow sleeps until the earliest unfired alarm; each alarm fires once, in order, and a
deadline's remaining alarms vanish with it when its step is done.
"""

from datetime import datetime

from pydantic import BaseModel, Field

from models.payloads.vocabulary import NotificationKind
from models.policy import DeadlineCode, Duration, Policy, Role, WorkingCalendar, shift


class Alarm(BaseModel):
    step: str  # "open", "reminder" or "rung-<level>"
    at: datetime
    recipient: str
    recipient_is_role: bool
    kind: NotificationKind
    rung_level: int = 0
    marks_overdue: bool = False


class OpenDeadline(BaseModel):
    key: str
    code: DeadlineCode
    due_at: datetime
    responsible: str
    responsible_is_role: bool
    alarms: list[Alarm]
    fired: int = Field(0, description="How many of the alarms (in time order) have fired.")
    overdue: bool = False
    escalation_level: int = 0

    def escalated_to(self) -> str | None:
        """The role the latest fired rung notified, if it went to a role."""
        fired = [a for a in self.alarms[: self.fired] if a.rung_level and a.recipient_is_role]
        return fired[-1].recipient if fired else None

    def next_alarm(self) -> Alarm | None:
        return self.alarms[self.fired] if self.fired < len(self.alarms) else None


def plan_deadline(
    *,
    key: str,
    code: DeadlineCode,
    start: datetime,
    due: Duration | datetime,
    responsible: str,
    responsible_is_role: bool,
    curator: str | None,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
) -> OpenDeadline:
    """The deadline `due` after `start` (or at `due`), with its reminder and ladder.

    A reminder whose time has already passed (a same-day deadline) is left out: a reminder
    after the fact reminds nobody. Rungs are kept even when past, so a late-armed deadline
    still escalates at once.
    """
    rules = policy.deadlines[code]
    offset = policy.utc_offset
    due_at = due if isinstance(due, datetime) else shift(start, due, calendar, offset)
    alarms: list[Alarm] = []
    if rules.opens_before is not None:
        opens_at = shift(due_at, rules.opens_before, calendar, offset, backwards=True)
        alarms.append(
            Alarm(
                step="open",
                at=max(opens_at, now),
                recipient=responsible,
                recipient_is_role=responsible_is_role,
                kind=NotificationKind.REMINDER,
            )
        )
    if rules.reminder_before is not None:
        remind_at = shift(due_at, rules.reminder_before, calendar, offset, backwards=True)
        if remind_at > now:
            alarms.append(
                Alarm(
                    step="reminder",
                    at=remind_at,
                    recipient=responsible,
                    recipient_is_role=responsible_is_role,
                    kind=NotificationKind.REMINDER,
                )
            )
    for rung in rules.ladder:
        recipient, is_role = _recipient(rung.notify, responsible, responsible_is_role, curator)
        alarms.append(
            Alarm(
                step=f"rung-{rung.level}",
                at=shift(due_at, rung.after_due, calendar, offset),
                recipient=recipient,
                recipient_is_role=is_role,
                kind=NotificationKind.OVERDUE
                if rung.marks_overdue
                else NotificationKind.ESCALATION,
                rung_level=rung.level,
                marks_overdue=rung.marks_overdue,
            )
        )
    alarms.sort(key=lambda alarm: alarm.at)  # stable: equal times keep the ladder's order
    return OpenDeadline(
        key=key,
        code=code,
        due_at=due_at,
        responsible=responsible,
        responsible_is_role=responsible_is_role,
        alarms=alarms,
    )


def _recipient(
    role: Role, responsible: str, responsible_is_role: bool, curator: str | None
) -> tuple[str, bool]:
    if role is Role.RESPONSIBLE:
        return responsible, responsible_is_role
    if role is Role.CURATOR and curator is not None:
        return curator, False
    return role.value, True


def next_alarm_at(deadlines: dict[str, OpenDeadline]) -> datetime | None:
    times = [alarm.at for d in deadlines.values() if (alarm := d.next_alarm()) is not None]
    return min(times, default=None)


def fire_due_alarms(
    deadlines: dict[str, OpenDeadline], now: datetime
) -> list[tuple[OpenDeadline, Alarm]]:
    """Fire, in time order, every alarm due by `now`; each exactly once."""
    fired: list[tuple[OpenDeadline, Alarm]] = []
    while True:
        due = [
            (alarm.at, deadline.key)
            for deadline in deadlines.values()
            if (alarm := deadline.next_alarm()) is not None and alarm.at <= now
        ]
        if not due:
            return fired
        _, key = min(due)
        deadline = deadlines[key]
        alarm = deadline.alarms[deadline.fired]
        deadline.fired += 1
        if alarm.marks_overdue:
            deadline.overdue = True
        deadline.escalation_level = max(deadline.escalation_level, alarm.rung_level)
        fired.append((deadline, alarm))
