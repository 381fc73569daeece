"""The inbox table: rewritten with each stored view, and read per caller in the inbox's order
(overdue first, then by due time, approvals last), within the caller's territory."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from activities.case_records import CaseRecordActivities
from infra.db_roles import ensure_app_login, url_as
from infra.migrate import upgrade_to_head
from models.crud.inbox import list_inbox
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.payloads.actions import Actor
from models.payloads.case_view import CaseStep, CaseView, DeadlineView
from models.payloads.events import CaseEventDraft
from models.payloads.vocabulary import StaffRole, Stage
from models.policy.codes import ClosureReason, DeadlineCode
from tests.support.sealing import test_key_store
from workflows.ids import case_workflow_id

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def sessions(empty_database_url: str) -> AsyncIterator[SessionFactory]:
    """A database of the test's own: the inbox reads across all cases."""
    upgrade_to_head(empty_database_url)
    app_url = url_as(empty_database_url, "kurator_inbox_app")
    ensure_app_login(empty_database_url, app_url)
    engine = make_async_engine(app_url)
    yield make_session_factory(engine)
    await engine.dispose()


def deadline(key: str, hours: int, responsible: str, **more: object) -> DeadlineView:
    return DeadlineView(
        key=key,
        code=DeadlineCode(key.split(":")[0]),
        due_at=NOW + timedelta(hours=hours),
        responsible=responsible,
        **more,
    )


def case_view(
    case_id: UUID, version: int, municipality: str, deadlines: list[DeadlineView], **more: object
) -> CaseView:
    return CaseView(
        case_id=case_id,
        workflow_id=case_workflow_id(case_id.hex),
        version=version,
        municipality=municipality,
        stage=Stage.SUPPORT,
        deadlines=deadlines,
        policy_version="2026.11-default",
        opened_at=NOW,
        **more,
    )


async def store(sessions: SessionFactory, view: CaseView) -> None:
    events = [
        CaseEventDraft(
            case_id=view.case_id,
            seq=seq,
            action="synthetic",
            actor_id="staff-001",
            actor_role="specialist",
            stage_after=view.stage,
            occurred_at=NOW,
        )
        for seq in range(1, view.version + 1)
    ]
    activities = CaseRecordActivities(sessions, test_key_store(sessions))
    await ActivityEnvironment().run(activities.persist_step, CaseStep(events=events, view=view))


def actor(staff_id: str, role: StaffRole, *places: str) -> Actor:
    return Actor(staff_id=staff_id, role=role, municipalities=places)


async def read(
    sessions: SessionFactory, who: Actor, territory: tuple[str, ...] | None, limit: int = 100
) -> list[tuple[UUID, str]]:
    async with sessions() as session:
        items = await list_inbox(session, actor=who, municipalities=territory, limit=limit)
    return [(item.case_id, item.key) for item in items]


async def test_each_caller_sees_what_waits_for_them_in_the_inbox_order(
    sessions: SessionFactory,
) -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    await store(
        sessions,
        case_view(
            a,
            1,
            "berdsk",
            [
                deadline("T3", 48, "staff-1"),
                deadline(
                    "T1", 2, "staff-1", overdue=True, escalation_level=1, escalated_to="supervisor"
                ),
            ],
            closure_requested=ClosureReason.GOALS_ACHIEVED,
        ),
    )
    await store(sessions, case_view(b, 1, "berdsk", [deadline("T2", 1, "curator")]))
    await store(
        sessions,
        case_view(
            c,
            1,
            "iskitim",
            [
                deadline(
                    "T2", 5, "staff-1", escalated_to="ministry", overdue=True, escalation_level=3
                )
            ],
        ),
    )
    specialist = actor("staff-1", StaffRole.SPECIALIST, "berdsk")
    assert await read(sessions, specialist, ("berdsk",)) == [(a, "T1"), (b, "T2"), (a, "T3")]
    supervisor = actor("staff-9", StaffRole.SUPERVISOR, "berdsk")
    # The escalated deadline, then the approval (undated, last); nothing of another territory.
    assert await read(sessions, supervisor, ("berdsk",)) == [(a, "T1"), (a, "closure")]
    assert await read(sessions, supervisor, ("iskitim",)) == []
    ministry = actor("staff-m", StaffRole.MINISTRY, "berdsk")
    assert await read(sessions, ministry, None) == [(c, "T2")]
    assert await read(sessions, specialist, ("berdsk",), limit=2) == [(a, "T1"), (b, "T2")]
    assert await read(sessions, specialist, ()) == []


async def test_a_newer_view_replaces_the_cases_items_and_an_older_one_does_not(
    sessions: SessionFactory,
) -> None:
    case_id = uuid4()
    specialist = actor("staff-1", StaffRole.SPECIALIST, "berdsk")
    await store(sessions, case_view(case_id, 1, "berdsk", [deadline("T1", 2, "staff-1")]))
    await store(sessions, case_view(case_id, 2, "berdsk", [deadline("T2", 9, "staff-1")]))
    assert await read(sessions, specialist, ("berdsk",)) == [(case_id, "T2")]
    # A stale attempt of step 1 stores no view, so it leaves the items alone.
    await store(sessions, case_view(case_id, 1, "berdsk", [deadline("T1", 2, "staff-1")]))
    assert await read(sessions, specialist, ("berdsk",)) == [(case_id, "T2")]
    await store(sessions, case_view(case_id, 3, "berdsk", []))
    assert await read(sessions, specialist, ("berdsk",)) == []
