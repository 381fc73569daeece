"""A small, hand-made history for the indicator tests: cases written through the real CRUD
writers (events and projections, sealed as the worker seals them) into a database of their
own, so that every indicator has a value one can work out on paper (tests/reports/)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from infra.sealing.family_keys import DataKey
from models.crud.case_events import append_events, lock_case_history
from models.crud.case_projections import save_view, view_changes
from models.db import SessionFactory
from models.payloads.case_view import CaseView
from models.payloads.events import CaseEventDraft, EventOrigin
from models.payloads.vocabulary import Stage
from models.policy.codes import AccompanimentLevel, ClosureReason


def at(day: str, hour: int = 3) -> datetime:
    """`day` (YYYY-MM-DD) at `hour`:00 UTC; 03:00 UTC is 10:00 in Novosibirsk."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@dataclass
class Case:
    municipality: str
    stage: Stage
    opened: datetime
    events: list[tuple[str, datetime, dict[str, Any]]]
    level: AccompanimentLevel | None = None
    curator: str | None = None
    closed: datetime | None = None
    closure_reason: ClosureReason | None = None
    case_id: UUID = field(default_factory=uuid4)


def overdue(code: str, when: datetime, rung: int = 1) -> tuple[str, datetime, dict[str, Any]]:
    """The event a deadline's rung records (models/lifecycle/timers.py)."""
    return (
        "overdue" if rung == 1 else "escalation",
        when,
        {"deadline": code, "code": code, "step": f"rung-{rung}", "rung": rung},
    )


async def store(
    sessions: SessionFactory, key: DataKey, case: Case, *, events_a_step: int | None = None
) -> None:
    """Write the case's events and its view; all in one step, or `events_a_step` at a time,
    one transaction each, as the worker appends a case's steps."""
    ordered = sorted(case.events, key=lambda event: event[1])
    drafts = [
        CaseEventDraft(
            case_id=case.case_id,
            seq=seq,
            action=action,
            actor_id="staff-test",
            actor_role="specialist",
            stage_after=case.stage,
            reason="комментарий сотрудника",  # sealed, as every comment
            data=data,
            occurred_at=when,
        )
        for seq, (action, when, data) in enumerate(ordered, start=1)
    ]
    view = CaseView(
        case_id=case.case_id,
        workflow_id=f"case-test-{case.case_id.hex[:12]}",
        version=max(len(drafts), 1),
        municipality=case.municipality,
        stage=case.stage,
        level=case.level,
        curator=case.curator,
        policy_version="2026.11-default",
        opened_at=case.opened,
        closed_at=case.closed,
        closure_reason=case.closure_reason,
    )
    size = events_a_step or max(len(drafts), 1)
    steps = [drafts[first : first + size] for first in range(0, len(drafts), size)] or [[]]
    for number, step in enumerate(steps, start=1):
        async with sessions() as session, session.begin():
            await lock_case_history(session, case.case_id)
            await append_events(
                session,
                drafts=step,
                origin=EventOrigin(workflow_id=view.workflow_id),
                key=key,
                view_changes=await view_changes(session, view=view, key=key)
                if number == len(steps)
                else None,
            )
            if number == len(steps):
                await save_view(session, view=view, key=key)


def march_cases() -> list[Case]:
    """The history of tests/reports: see the expected values in test_indicators.py."""
    signal = {"source": "self_request", "child_safety": False}
    reached = {"reached": True}

    def intake(when: datetime) -> tuple[str, datetime, dict[str, Any]]:
        return ("intake_registered", when, {"application_at": when.isoformat()})

    def assessed(when: datetime, decision: str = "need_recognised", level: str = "L2") -> Any:
        return ("assessment_recorded", when, {"decision": decision, "level": level})

    a = Case(  # decided on time (4 WD: 9 March is a day off), plan on time, review on time
        "berdsk",
        Stage.SUPPORT,
        at("2026-03-05"),
        [
            ("signal_received", at("2026-03-05"), signal),
            intake(at("2026-03-05")),
            ("contact_recorded", at("2026-03-05", 7), reached),
            assessed(at("2026-03-12")),
            ("plan_approved", at("2026-03-18"), {"items": []}),
            ("review_recorded", at("2026-03-25"), {"outcome": "continue"}),
        ],
        level=AccompanimentLevel.L2,
        curator="staff-1",
    )
    b = Case(  # T2 late (7 WD), T3 overdue and escalated, a contact late after T5 overdue
        "berdsk",
        Stage.PLANNING,
        at("2026-03-10"),
        [
            ("signal_received", at("2026-03-10"), signal),
            intake(at("2026-03-10")),
            ("contact_recorded", at("2026-03-11"), reached),
            overdue("T2", at("2026-03-17", 17)),
            assessed(at("2026-03-19"), level="L1"),
            overdue("T3", at("2026-03-24", 17)),
            overdue("T3", at("2026-03-25", 17), rung=2),
            overdue("T5", at("2026-03-26", 17)),
            ("contact_recorded", at("2026-03-26", 20), {"reached": False}),
            ("contact_recorded", at("2026-03-27"), reached),
        ],
        level=AccompanimentLevel.L1,
        curator="staff-1",
    )
    c = Case(  # no need found (2 WD), closed at once
        "berdsk",
        Stage.CLOSED,
        at("2026-03-02"),
        [
            ("signal_received", at("2026-03-02"), signal),
            intake(at("2026-03-02")),
            assessed(at("2026-03-04"), decision="no_need"),
            ("case_closed", at("2026-03-04", 4), {"closure_reason": "no_need"}),
        ],
        closed=at("2026-03-04", 4),
        closure_reason=ClosureReason.NO_NEED,
    )
    d = Case(  # Iskitim district, opened in February: a late review, an urgent service
        "iskitim_district",
        Stage.CLOSED,
        at("2026-02-20"),
        [
            ("signal_received", at("2026-02-20"), signal),
            ("contact_recorded", at("2026-02-20", 5), reached),
            ("plan_approved", at("2026-02-27"), {"items": []}),
            overdue("T6", at("2026-03-10", 17)),
            ("review_recorded", at("2026-03-12"), {"outcome": "continue"}),
            ("urgent_service_given", at("2026-03-15"), {"service": "sealed"}),
            ("child_safety_alert", at("2026-03-15", 4), {"indicators": ["violence"]}),
            ("case_closed", at("2026-03-20"), {"closure_reason": "goals_achieved"}),
        ],
        closed=at("2026-03-20"),
        closure_reason=ClosureReason.GOALS_ACHIEVED,
    )
    e = Case(  # a child-safety signal on 30 March: T1 overdue, first contact 26 hours later
        "berdsk",
        Stage.IDENTIFIED,
        at("2026-03-30"),
        [
            ("signal_received", at("2026-03-30"), {"source": "agency_referral"}),
            ("child_safety_alert", at("2026-03-30", 4), {"indicators": ["violence"]}),
            overdue("T1", at("2026-03-30", 17)),
            overdue("T1", at("2026-03-31", 4), rung=2),
            ("contact_recorded", at("2026-03-31", 5), reached),
        ],
    )
    f = Case(  # opened after the period: in none of its figures
        "berdsk",
        Stage.IDENTIFIED,
        at("2026-04-02"),
        [("signal_received", at("2026-04-02"), signal)],
        curator="staff-2",
    )
    g = Case(  # opened in January, closed in March with its goals achieved
        "berdsk",
        Stage.CLOSED,
        at("2026-01-15"),
        [
            ("signal_received", at("2026-01-15"), signal),
            ("case_closed", at("2026-03-25"), {"closure_reason": "goals_achieved"}),
        ],
        closed=at("2026-03-25"),
        closure_reason=ClosureReason.GOALS_ACHIEVED,
    )
    return [a, b, c, d, e, f, g]


def utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)
