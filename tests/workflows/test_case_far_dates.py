"""A case whose deadlines reach years past its start keeps working, and counts working days
right in those years: the ИППСУ review (T8) three years after a plan approved late next year,
and a plan item (T10) five years ahead, with New Year passed on the way.

Default policy, time-skipping server, the real worker; asserted on PostgreSQL. The years are
counted from the server's clock, so the test means the same whenever it runs: it always reaches
beyond the three years after the start that a case's calendar once covered.

The expected working days are counted here by hand from the Labour Code: Saturdays and Sundays
off, the holidays of ст. 112 ч. 1, and (no decree being published that far ahead) the day off
of a holiday that falls on a weekend moved to the next working day (ст. 112 ч. 2).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.crud.case_events import list_events
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_start import CaseOutcome
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import (
    ServiceType,
    Stage,
)
from models.policy.loader import load_policy
from models.tables.case_event import CaseEventPublic
from tests.support.cases import (
    case_in_planning,
    policy_shift,
    recorded_at,
    sleep_until,
    specialist,
    supervisor,
)
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow

POLICY = load_policy("default")
LOCAL = timezone(POLICY.utc_offset)
SPECIALIST = specialist("staff-101")
SUPERVISOR = supervisor("staff-201")
CaseHandle = WorkflowHandle[CaseWorkflow, CaseOutcome]
# Holidays of ст. 112 ч. 1 that stand alone (no other holiday within a week): a weekend one
# moves its day off to the Monday after. 1 May is left out, 9 May follows it too closely.
LONE_HOLIDAYS = ((2, 23), (3, 8), (5, 9), (6, 12), (11, 4))


def at_local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL).astimezone(UTC)


def weekend_holiday(first_year: int) -> date:
    """The first lone holiday falling on a Saturday or Sunday, in `first_year` or after."""
    for year in range(first_year, first_year + 20):
        for month, day in LONE_HOLIDAYS:
            holiday = date(year, month, day)
            if holiday.weekday() >= 5:
                return holiday
    raise AssertionError(f"no weekend holiday in the 20 years from {first_year}")


async def answered(update: Awaitable[CaseView]) -> CaseView:
    """The update's answer; a failure, not a hang, when the case cannot answer (a workflow task
    failing on every attempt leaves an update waiting for ever)."""
    return await asyncio.wait_for(update, timeout=30)


@asynccontextmanager
async def cases(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> AsyncIterator[list[CaseHandle]]:
    """The real worker; every case started is stopped at the end, passed or failed."""
    started: list[CaseHandle] = []
    async with build_worker(
        env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
    ):
        try:
            yield started
        finally:
            for handle in started:
                with contextlib.suppress(RPCError):  # already completed
                    await handle.terminate("test finished")


def item(item_id: str, deadline: datetime) -> a.PlanItemIn:
    return a.PlanItemIn(
        item_id=item_id,
        service_type=ServiceType.LEGAL,
        provider="centre",
        responsible="staff-102",
        deadline=deadline,
    )


def due_of(view: CaseView, key: str) -> datetime:
    return next(d.due_at for d in view.deadlines if d.key == key)


def alarms(events: Sequence[CaseEventPublic], key: str) -> dict[str, datetime]:
    """When each alarm of deadline `key` that fired was scheduled, by step."""
    return {
        e.data["step"]: datetime.fromisoformat(e.data["scheduled_at"])
        for e in events
        if e.data.get("deadline") == key
    }


async def test_t8_three_years_after_a_plan_approved_late_next_year(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    async with cases(env, task_queue, sessions) as started:
        handle, case_id = await case_in_planning(env.client, task_queue)
        started.append(handle)
        # The plan waits until November of next year: its T8 falls four years after the start.
        next_year = (await env.get_current_time()).year + 1
        await sleep_until(env, at_local(date(next_year, 11, 1), 10))
        view = await answered(
            handle.execute_update(
                CaseWorkflow.approve_plan,
                a.PlanBody(items=[item("leg-1", at_local(date(next_year, 12, 15), 12))]).by(
                    SUPERVISOR
                ),
            )
        )
        planned = await recorded_at(sessions, case_id, "plan_approved")
        assert view.stage is Stage.SUPPORT
        assert due_of(view, "T8") == policy_shift(planned, "P3Y")
        assert due_of(view, "T8").year == next_year + 3

        # Past New Year the case still takes its steps.
        await sleep_until(env, at_local(date(next_year + 1, 1, 20), 10))
        view = await answered(
            handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        )
        contacted = await recorded_at(sessions, case_id, "contact_recorded")
        assert due_of(view, "T5") == policy_shift(contacted, "P30D")
        assert due_of(view, "T8") == policy_shift(planned, "P3Y")


async def test_a_plan_item_five_years_ahead_counts_the_moved_day_off(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    """A plan item due the Tuesday after a weekend holiday, five years ahead: its reminder
    (2WD before) skips the Monday the holiday's day off moved to, and the weekend, and lands on
    the Thursday before; its second rung (1WD after) at the end of the Wednesday."""
    env = time_skipping_env
    start = await env.get_current_time()
    holiday = weekend_holiday(start.year + 5)
    moved = holiday + timedelta(days=7 - holiday.weekday())  # the Monday after
    deadline = at_local(moved + timedelta(days=1), 12)  # that Tuesday, noon
    thursday_before = holiday - timedelta(days=holiday.weekday() - 3)
    async with cases(env, task_queue, sessions) as started:
        handle, case_id = await case_in_planning(env.client, task_queue)
        started.append(handle)
        # Approved 20 months before the item is due: within the 24-month cap.
        approval = policy_shift(deadline, "P20M", backwards=True)
        await sleep_until(env, approval)
        view = await answered(
            handle.execute_update(
                CaseWorkflow.approve_plan,
                a.PlanBody(items=[item("far-1", deadline)]).by(SUPERVISOR),
            )
        )
        assert view.stage is Stage.SUPPORT
        assert due_of(view, "T10:far-1") == deadline

        # Two New Years later the case still takes its steps.
        await sleep_until(env, at_local(date(deadline.year, 1, 20), 10))
        view = await answered(
            handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        )
        assert view.stage in (Stage.SUPPORT, Stage.REVIEW)

        await sleep_until(env, deadline + timedelta(days=3))

        async def fired() -> dict[str, datetime]:
            async with sessions() as session:
                return alarms(
                    await list_events(session, case_id=case_id, keys=test_key_store(sessions)),
                    "T10:far-1",
                )

        found = await eventually(
            fired, lambda f: {"reminder", "rung-1", "rung-2"} <= f.keys(), what="T10 alarms"
        )
        assert found["reminder"] == at_local(thursday_before, 0)
        assert found["rung-1"] == deadline
        assert found["rung-2"] == at_local(moved + timedelta(days=3), 0)  # end of Wednesday
