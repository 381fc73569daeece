"""`persist_step` writes a step's events, notifications and view in one idempotent
transaction; the projection and outbox queries the API and the delivery adapter use."""

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
import pytest_asyncio
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.case_records import CaseRecordActivities
from infra.migrate import upgrade_to_head
from infra.sealing.columns import ERASED_TEXT, SealedValueError
from models.crud.case_events import list_events
from models.crud.case_projections import get_view, list_views, save_view
from models.crud.cursors import CursorError
from models.crud.notifications import enqueue, list_for_case, mark_sent, pending
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.payloads.case_view import CaseStep, CaseView, NotificationDraft, PlanItemView
from models.payloads.events import CaseEventDraft
from models.payloads.vocabulary import NotificationKind, Stage
from models.policy.codes import AccompanimentLevel, DeadlineCode
from models.tables.case_projection import CaseProjection
from tests.support.sealing import test_key_store
from workflows.ids import case_workflow_id

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def view(
    case_id: UUID,
    version: int,
    *,
    municipality: str = "berdsk",
    stage: Stage = Stage.IDENTIFIED,
    level: AccompanimentLevel | None = None,
    curator: str | None = None,
    overdue: bool = False,
    next_deadline: datetime | None = None,
) -> CaseView:
    return CaseView(
        case_id=case_id,
        workflow_id=case_workflow_id(case_id.hex),  # the case id's hex as its family key
        version=version,
        municipality=municipality,
        stage=stage,
        level=level,
        curator=curator,
        overdue=overdue,
        escalation_level=1 if overdue else 0,
        next_deadline=next_deadline,
        policy_version="2026.11-default",
        opened_at=OPENED,
        details={"version_note": f"v{version}"},
    )


def event(case_id: UUID, seq: int, action: str = "signal_received") -> CaseEventDraft:
    return CaseEventDraft(
        case_id=case_id,
        seq=seq,
        action=action,
        actor_id="staff-001",
        actor_role="specialist",
        stage_after="identified",
        occurred_at=OPENED + timedelta(minutes=seq),
    )


def note(
    case_id: UUID,
    seq: int,
    recipient: str = "supervisor",
    kind: NotificationKind = NotificationKind.REMINDER,
) -> NotificationDraft:
    return NotificationDraft(
        case_id=case_id,
        event_seq=seq,
        recipient=recipient,
        recipient_is_role=not recipient.startswith("staff-"),
        municipality="berdsk",
        kind=kind,
        deadline_code=DeadlineCode.T1,
        due_at=OPENED + timedelta(days=1),
        message="T1 first contact due 2026-03-03",
    )


async def persist(sessions: SessionFactory, step: CaseStep) -> None:
    """Run the activity as the worker would, with a real activity context."""
    activities = CaseRecordActivities(sessions, test_key_store(sessions))
    await ActivityEnvironment().run(activities.persist_step, step)


@pytest_asyncio.fixture
async def own_sessions(empty_database_url: str) -> AsyncIterator[SessionFactory]:
    """A database of the test's own, for queries over all cases (lists, the outbox)."""
    upgrade_to_head(empty_database_url)
    engine = make_async_engine(empty_database_url, pool_size=2)
    yield make_session_factory(engine)
    await engine.dispose()


async def test_persist_step_writes_events_notifications_and_view(
    sessions: SessionFactory,
) -> None:
    case_id = uuid4()
    step = CaseStep(
        events=[event(case_id, 1), event(case_id, 2, "intake_registered")],
        notifications=[note(case_id, 2), note(case_id, 2, "staff-001")],
        view=view(case_id, 2, stage=Stage.ASSESSMENT, curator="staff-001"),
    )

    await persist(sessions, step)

    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        notifications = await list_for_case(session, case_id=case_id)
        stored = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
        row = await session.get(CaseProjection, case_id)
    assert [(e.seq, e.action) for e in events] == [(1, "signal_received"), (2, "intake_registered")]
    assert [(n.event_seq, n.recipient, n.recipient_is_role) for n in notifications] == [
        (2, "staff-001", False),
        (2, "supervisor", True),
    ]
    assert all(n.sent_at is None and n.created_at is not None for n in notifications)
    assert stored == step.view
    assert row is not None
    assert (row.version, row.stage, row.curator, row.municipality) == (
        2,
        "assessment",
        "staff-001",
        "berdsk",
    )


async def test_the_same_step_twice_changes_nothing(sessions: SessionFactory) -> None:
    case_id = uuid4()
    step = CaseStep(
        events=[event(case_id, 1)], notifications=[note(case_id, 1)], view=view(case_id, 1)
    )
    await persist(sessions, step)
    async with sessions() as session:
        first_row = await session.get(CaseProjection, case_id)
        first_notes = await list_for_case(session, case_id=case_id)

    await persist(sessions, step)  # a retried activity

    key = await test_key_store(sessions).for_owner(case_id.hex)
    async with sessions() as session, session.begin():
        assert not await save_view(session, view=step.view, key=key)
        assert await enqueue(session, drafts=step.notifications) == 0
    async with sessions() as session:
        row = await session.get(CaseProjection, case_id)
        notes = await list_for_case(session, case_id=case_id)
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
    assert first_row is not None
    assert row is not None
    assert len(events) == 1
    assert [n.id for n in notes] == [n.id for n in first_notes]
    assert row.updated_at == first_row.updated_at
    assert row.view == first_row.view


async def test_an_older_step_never_overwrites_a_newer_view(sessions: SessionFactory) -> None:
    case_id = uuid4()
    first = CaseStep(events=[event(case_id, 1)], view=view(case_id, 1))
    newer = CaseStep(events=[event(case_id, 3)], view=view(case_id, 3, stage=Stage.ROUTING))
    older = CaseStep(events=[event(case_id, 2)], view=view(case_id, 2, stage=Stage.ASSESSMENT))

    await persist(sessions, first)
    await persist(sessions, older)
    await persist(sessions, newer)
    await persist(sessions, older)  # a stale attempt of step 2 that lands after step 3

    async with sessions() as session:
        stored = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
    key = await test_key_store(sessions).for_owner(case_id.hex)
    async with sessions() as session, session.begin():
        moved_on = await save_view(session, view=view(case_id, 4, stage=Stage.TEAM), key=key)
    async with sessions() as session:
        after = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert stored == newer.view
    assert [e.seq for e in events] == [1, 2, 3]  # recorded once each
    assert moved_on
    assert after is not None
    assert (after.version, after.stage) == (4, Stage.TEAM)


async def test_get_view_of_an_unknown_case_is_none(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert await get_view(session, case_id=uuid4(), keys=test_key_store(sessions)) is None


# Case ids in a known order, so ties of the list order (case id last) are predictable.
A, B, C, D, E, F = (UUID(int=n) for n in range(1, 7))


@pytest_asyncio.fixture
async def listed(own_sessions: SessionFactory) -> SessionFactory:
    soon, later = OPENED + timedelta(days=1), OPENED + timedelta(days=2)
    views = [
        view(A, 5, stage=Stage.SUPPORT, level=AccompanimentLevel.L2, curator="staff-001",
             overdue=True, next_deadline=later),
        view(B, 5, stage=Stage.SUPPORT, level=AccompanimentLevel.L1, curator="staff-002",
             next_deadline=soon),
        view(C, 2, stage=Stage.ASSESSMENT),
        view(D, 7, municipality="iskitim_district", stage=Stage.SUPPORT,
             level=AccompanimentLevel.L2, curator="staff-001", overdue=True, next_deadline=soon),
        view(E, 9, municipality="iskitim_district", stage=Stage.CLOSED),
        view(F, 1, municipality="kolyvan_district"),
    ]  # fmt: skip
    for item in views:
        await persist(own_sessions, CaseStep(events=[event(item.case_id, 1)], view=item))
    return own_sessions


async def ids(sessions: SessionFactory, **filters: Any) -> tuple[list[UUID], int]:
    """The ids of one page and the total; the ministry's view (all territories) by default."""
    arguments: dict[str, Any] = {"municipalities": None, "limit": 50, **filters}
    async with sessions() as session:
        page = await list_views(session, keys=test_key_store(sessions), **arguments)
    assert page.total is not None
    return [v.case_id for v in page.views], page.total


async def test_list_order_overdue_first_then_by_next_deadline(listed: SessionFactory) -> None:
    # Overdue by deadline (D, A), then the rest by deadline with none last (B), then case id.
    assert await ids(listed) == ([D, A, B, C, E, F], 6)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"municipalities": ["berdsk"]}, [A, B, C]),
        ({"municipalities": {"berdsk", "iskitim_district"}, "stage": Stage.SUPPORT}, [D, A, B]),
        ({"municipalities": []}, []),  # a staff member with no territory sees nothing
        ({"municipalities": ["berdsk"], "municipality": "iskitim_district"}, []),
        ({"municipality": "iskitim_district"}, [D, E]),
        ({"overdue": True}, [D, A]),
        ({"overdue": False}, [B, C, E, F]),
        ({"level": AccompanimentLevel.L2}, [D, A]),
        ({"level": AccompanimentLevel.L1}, [B]),
        ({"curator": "staff-001"}, [D, A]),
        ({"curator": "staff-001", "municipalities": ["berdsk"]}, [A]),
        ({"stage": Stage.CLOSED}, [E]),
    ],
)
async def test_list_filters_and_territory(
    listed: SessionFactory, filters: dict[str, Any], expected: list[UUID]
) -> None:
    assert await ids(listed, **filters) == (expected, len(expected))


async def test_list_pages_are_stable_and_complete(listed: SessionFactory) -> None:
    pages = [await ids(listed, limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert pages == [([D, A], 6), ([B, C], 6), ([E, F], 6), ([], 6)]


@pytest.mark.parametrize(("cap", "total", "capped"), [(4, 4, True), (5, 5, True), (6, 6, False)])
async def test_the_count_stops_at_its_cap_and_says_so(
    listed: SessionFactory, cap: int, total: int, capped: bool
) -> None:
    async with listed() as session:
        page = await list_views(session, municipalities=None, limit=2, count_cap=cap, keys=None)
    assert (page.total, page.total_capped) == (total, capped)
    assert len(page.views) == 2  # the page itself is whole


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6])
async def test_cursor_pages_walk_the_whole_list_in_order(
    listed: SessionFactory, limit: int
) -> None:
    walked: list[UUID] = []
    cursor = None
    async with listed() as session:
        for _ in range(10):
            page = await list_views(
                session, municipalities=None, limit=limit, after=cursor, count=False, keys=None
            )
            assert page.total is None
            walked += [view.case_id for view in page.views]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert walked == [D, A, B, C, E, F]


async def test_a_cursor_within_the_filters_and_a_forged_one(listed: SessionFactory) -> None:
    async with listed() as session:
        first = await list_views(session, municipalities=["berdsk"], limit=1, keys=None)
        assert [v.case_id for v in first.views] == [A]
        assert first.next_cursor is not None
        rest = await list_views(
            session, municipalities=["berdsk"], limit=5, after=first.next_cursor, keys=None
        )
        assert [v.case_id for v in rest.views] == [B, C]
        assert rest.next_cursor is None
        assert rest.total == 3  # the total counts the filters, not the cursor
        for forged in ("garbage!", "MnwxfHg=", base64.urlsafe_b64encode(b"1|x|y").decode()):
            with pytest.raises(CursorError):
                await list_views(session, municipalities=None, limit=5, after=forged, keys=None)


async def test_outbox_pending_and_mark_sent(own_sessions: SessionFactory) -> None:
    first, second = uuid4(), uuid4()
    await persist(
        own_sessions,
        CaseStep(
            events=[event(first, 1)],
            notifications=[note(first, 1), note(first, 1, "staff-001")],
            view=view(first, 1),
        ),
    )
    await persist(
        own_sessions,
        CaseStep(
            events=[event(second, 1)],
            notifications=[note(second, 1, "head", NotificationKind.CHILD_SAFETY_ALERT)],
            view=view(second, 1),
        ),
    )

    async with own_sessions() as session:
        unsent = await pending(session, limit=10)
        one = await pending(session, limit=1)
    assert [n.case_id for n in unsent] == [first, first, second]  # oldest first
    assert [n.id for n in one] == [unsent[0].id]

    sent_at = OPENED + timedelta(hours=1)
    async with own_sessions() as session, session.begin():
        assert await mark_sent(session, ids=[n.id for n in unsent[:2]], at=sent_at) == 2
    async with own_sessions() as session, session.begin():  # a repeated delivery report
        assert await mark_sent(session, ids=[unsent[0].id], at=sent_at + timedelta(hours=1)) == 0
    async with own_sessions() as session:
        still = await pending(session, limit=10)
        first_notes = await list_for_case(session, case_id=first)

    assert [n.case_id for n in still] == [second]
    assert [n.sent_at for n in first_notes] == [sent_at, sent_at]  # the first time is kept


def _with_free_text(case_id: UUID) -> CaseStep:
    """A step with a comment and providers in its events and its view (synthetic)."""
    route = {"routes": ["other_providers"], "providers": ["Фонд Вымышленный"]}
    signal = event(case_id, 1).model_copy(update={"reason": "Соседка Синтетическая звонила"})
    routed = event(case_id, 2, "route_set").model_copy(
        update={"reason": "Маршрут с семьёй Тестовых", "data": route}
    )
    item = PlanItemView(
        item_id="item-1",
        service_type="psychological",
        provider="Клиника Выдуманная",
        responsible="staff-001",
        deadline=OPENED + timedelta(days=30),
    )
    stored = view(case_id, 2, stage=Stage.TEAM).model_copy(
        update={"plan_items": [item], "details": {"route": route}}
    )
    return CaseStep(events=[signal, routed], view=stored)


_FREE_TEXT = ("Соседка Синтетическая", "семьёй Тестовых", "Фонд Вымышленный", "Клиника Выдуманная")


async def _raw_rows(sessions: SessionFactory, case_id: UUID) -> str:
    async with sessions() as session:
        connection = await session.connection()
        rows = await connection.execute(
            text(
                "SELECT e::text FROM case_events e WHERE case_id = :id UNION ALL "
                "SELECT p::text FROM case_projections p WHERE case_id = :id"
            ),
            {"id": case_id},
        )
        return "\n".join(rows.scalars())


async def test_a_steps_free_text_is_sealed_at_rest_and_opens_back(
    sessions: SessionFactory,
) -> None:
    case_id = uuid4()
    step = _with_free_text(case_id)
    await persist(sessions, step)

    raw = await _raw_rows(sessions, case_id)
    assert "sealed:v1:" in raw
    assert all(clear not in raw for clear in _FREE_TEXT)
    keys = test_key_store(sessions)
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=keys)
        stored = await get_view(session, case_id=case_id, keys=keys)
    assert [(e.reason, e.data) for e in events] == [(e.reason, e.data) for e in step.events]
    assert stored == step.view


async def test_a_comment_moved_to_another_event_does_not_open(
    sessions: SessionFactory, owner_database_url: str
) -> None:
    case_id = uuid4()
    await persist(sessions, _with_free_text(case_id))
    # As a superuser would, past the append-only guard (the chain would name it too).
    with psycopg.connect(owner_database_url) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute(
            "UPDATE case_events SET reason = (SELECT reason FROM case_events "
            "WHERE case_id = %(id)s AND seq = 1) WHERE case_id = %(id)s AND seq = 2",
            {"id": case_id},
        )
    async with sessions() as session:
        with pytest.raises(SealedValueError, match=r"case_events\.reason"):
            await list_events(session, case_id=case_id, keys=test_key_store(sessions))


async def test_after_the_family_key_is_destroyed_its_free_text_reads_as_erased(
    sessions: SessionFactory,
) -> None:
    case_id = uuid4()
    await persist(sessions, _with_free_text(case_id))
    keys = test_key_store(sessions)
    assert await keys.destroy(case_id.hex, staff_id="staff-900", role="head", reason="lawful")

    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=keys)
        stored = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert [e.reason for e in events] == [ERASED_TEXT, ERASED_TEXT]
    assert events[1].data == {"routes": ["other_providers"], "providers": [ERASED_TEXT]}
    assert [e.action for e in events] == ["signal_received", "route_set"]  # the audit stays
    assert stored is not None
    assert [item.provider for item in stored.plan_items] == [ERASED_TEXT]
    assert stored.details["route"]["providers"] == [ERASED_TEXT]
    assert stored.stage is Stage.TEAM


async def test_each_steps_changes_fold_back_into_each_state_it_persisted(
    sessions: SessionFactory,
) -> None:
    case_id = uuid4()
    opened = view(case_id, 1)
    routed = _with_free_text(case_id).view.model_copy(update={"version": 3})
    closed = routed.model_copy(update={"version": 4, "stage": Stage.CLOSED, "plan_items": []})
    steps = [
        CaseStep(events=[event(case_id, 1)], view=opened),
        CaseStep(events=[event(case_id, 2), event(case_id, 3, "route_set")], view=routed),
        CaseStep(events=[event(case_id, 4, "case_closed")], view=closed),
    ]
    for step in steps:
        await persist(sessions, step)
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
    # Only the changed fields, on each step's last event; the first step carries them all.
    assert events[0].view_changes == opened.model_dump(mode="json")
    assert events[1].view_changes == {}
    assert set(events[2].view_changes) == {"version", "stage", "plan_items", "details"}
    assert events[2].view_changes["plan_items"][0]["provider"] == "Клиника Выдуманная"
    assert set(events[3].view_changes) == {"version", "stage", "plan_items"}
    state: dict[str, Any] = {}
    folded = []
    for stored in events:
        state |= stored.view_changes
        folded.append(CaseView.model_validate(state))
    assert [folded[0], folded[2], folded[3]] == [opened, routed, closed]
    raw = await _raw_rows(sessions, case_id)
    assert "Клиника Выдуманная" not in raw  # sealed in view_changes as in the view
