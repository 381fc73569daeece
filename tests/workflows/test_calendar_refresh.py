"""A year's decree published while a case runs reaches the case, and its history still replays.

The worker reads the production calendar from a data file of the test's own. A case opens
under a file without the year after next; the year's (synthetic) decree is then added to the
file, as a deploy would ship it (the worker reads the file at each call). Once the case's
calendar is a month old and lacks the next year, the case reads the file again through an
activity: a plan item due in that year then counts the decreed day off. The history replays
with today's code, the read recorded in it.

The second test is a case that ran under code without the refresh (its history has none where
this code would refresh): it replays those points as they ran, and refreshes at its first stale
point once it runs on.

Time-skipping server, the real worker, default policy; alarms asserted on PostgreSQL.
"""

import contextlib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_start import CaseOutcome
from models.payloads.vocabulary import ServiceType, Stage
from models.policy import WorkingCalendar
from models.policy.loader import CALENDAR_FILE, load_policy
from tests.support.cases import case_in_planning, sleep_until, specialist, supervisor
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policy" / CALENDAR_FILE
LOCAL = timezone(load_policy("default").utc_offset)
CaseHandle = WorkflowHandle[CaseWorkflow, CaseOutcome]


def at_local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL).astimezone(UTC)


class Decree:
    """A synthetic decree for the year after next (published nowhere yet): a Tuesday with no
    holiday near it, the first on or after 14 March, becomes a day off."""

    def __init__(self, data: Path, now: datetime) -> None:
        self.data, self.year = data, now.year + 2
        data.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
        assert f"[years.{self.year}]" not in data.read_text(encoding="utf-8")
        first = date(self.year, 3, 14)
        self.day_off = first + timedelta(days=(1 - first.weekday()) % 7)
        # A plan item due the Thursday after, noon: its reminder (2WD before) is on the Tuesday
        # by the rule alone, on the Monday once the decree is known.
        self.item_due = at_local(self.day_off + timedelta(days=2), 12)

    def publish(self) -> None:
        with self.data.open("a", encoding="utf-8") as file:
            file.write(
                f'\n[years.{self.year}]\nsource = "synthetic test decree"\n'
                f"days_off = [{self.day_off.isoformat()}]\nworking_days = []\n"
            )


async def refreshes(handle: CaseHandle) -> int:
    """How many times the case read the production calendar again (local activity markers)."""
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and b"refresh_calendar" in e.marker_recorded_event_attributes.SerializeToString()
    )


async def plan_and_reminder(
    env: WorkflowEnvironment,
    sessions: SessionFactory,
    handle: CaseHandle,
    case_id: UUID,
    due: datetime,
) -> datetime:
    """Approve a plan with one item due `due`; when its reminder was scheduled."""
    item = a.PlanItemIn(
        item_id="leg-1",
        service_type=ServiceType.LEGAL,
        provider="centre",
        responsible="staff-102",
        deadline=due,
    )
    view = await handle.execute_update(
        CaseWorkflow.approve_plan, a.PlanBody(items=[item]).by(supervisor())
    )
    assert view.stage is Stage.SUPPORT
    await sleep_until(env, due + timedelta(hours=1))

    async def reminder() -> datetime | None:
        async with sessions() as session:
            events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        found = [
            e.data["scheduled_at"]
            for e in events
            if e.data.get("deadline") == "T10:leg-1" and e.data.get("step") == "reminder"
        ]
        return datetime.fromisoformat(found[0]) if found else None

    scheduled = await eventually(reminder, bool, what="the T10 reminder")
    assert scheduled is not None
    return scheduled


async def assert_replays(client: Client, handle: CaseHandle) -> None:
    history = await handle.fetch_history()
    replayer = Replayer(
        workflows=[CaseWorkflow, CaseFollowUpWorkflow], data_converter=client.data_converter
    )
    result = await replayer.replay_workflow(WorkflowHistory.from_json(handle.id, history.to_json()))
    assert result.replay_failure is None


async def test_a_decree_published_while_the_case_runs_reaches_it(
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
    tmp_path: Path,
) -> None:
    env = time_skipping_env
    decree = Decree(tmp_path / CALENDAR_FILE, await env.get_current_time())
    async with build_worker(
        env.client, task_queue=task_queue, sessions=sessions, keys=keys, calendar_file=decree.data
    ):
        handle, case_id = await case_in_planning(env.client, task_queue)
        try:
            decree.publish()
            # February of next year: the case's calendar is two months old and lacks the year.
            await sleep_until(env, at_local(date(decree.year - 1, 2, 1), 10))
            await handle.execute_update(
                CaseWorkflow.record_contact, a.ContactBody().by(specialist())
            )
            # Read again once, through the activity, into the history.
            assert await eventually(lambda: refreshes(handle), bool, what="a refresh") == 1

            reminder = await plan_and_reminder(env, sessions, handle, case_id, decree.item_due)
            # Wednesday, then (Tuesday decreed off) Monday.
            assert reminder == at_local(decree.day_off - timedelta(days=1), 0)
            await assert_replays(env.client, handle)
        finally:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


async def test_a_case_from_before_the_refresh_replays_then_refreshes(
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Code without the refresh is played by a calendar that never needs one. The worker
    caches no workflow: every task replays the whole history, as after a deploy."""
    env = time_skipping_env
    decree = Decree(tmp_path / CALENDAR_FILE, await env.get_current_time())
    monkeypatch.setattr(WorkingCalendar, "needs_refresh", lambda self, today: False)
    async with build_worker(
        env.client,
        task_queue=task_queue,
        sessions=sessions,
        keys=keys,
        calendar_file=decree.data,
        max_cached_workflows=0,
    ):
        handle, case_id = await case_in_planning(env.client, task_queue)
        try:
            decree.publish()
            await sleep_until(env, at_local(date(decree.year - 1, 2, 1), 10))
            await handle.execute_update(
                CaseWorkflow.record_contact, a.ContactBody().by(specialist())
            )
            assert await refreshes(handle) == 0
            monkeypatch.undo()

            # Today's code: the stale points above replay without a read; this one reads.
            await handle.execute_update(
                CaseWorkflow.record_contact, a.ContactBody().by(specialist())
            )
            assert await eventually(lambda: refreshes(handle), bool, what="a refresh") == 1

            reminder = await plan_and_reminder(env, sessions, handle, case_id, decree.item_due)
            assert reminder == at_local(decree.day_off - timedelta(days=1), 0)
            await assert_replays(env.client, handle)
        finally:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")
