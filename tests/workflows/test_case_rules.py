"""Who may do what, and when, on a real case (time-skipping server, real worker, PostgreSQL):
refusals that write nothing, idempotent updates, a refusal closing the case with a
supervisor's approval, and one open episode per family ("one window").
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_start import CaseOutcome, SignalOutcome
from models.payloads.case_view import CaseView
from models.payloads.events import SYSTEM_ACTOR
from models.payloads.vocabulary import (
    AccompanimentChannel,
    NeedCircumstance,
    NeedDecision,
    NotificationKind,
    RouteKind,
    Stage,
)
from models.policy import AccompanimentLevel, ClosureReason
from models.policy.loader import load_policy
from models.tables.case_event import CaseEventPublic
from models.tables.case_projection import CaseProjection
from models.tables.notification import Notification
from tests.support.cases import ministry, specialist, supervisor
from tests.support.cases import open_case as open_signal
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.ids import follow_up_workflow_id

POLICY = load_policy("default")
SPECIALIST = specialist("staff-101")
SUPERVISOR = supervisor("staff-201")
MINISTRY = ministry()
OUTSIDER = specialist("staff-301", municipality="iskitim_district")
CaseHandle = WorkflowHandle[CaseWorkflow, CaseOutcome]


class Cases:
    """The cases (and follow-ups) a test starts on its own task queue; see `cases_worker`."""

    def __init__(self, env: WorkflowEnvironment, task_queue: str) -> None:
        self.env, self.task_queue = env, task_queue
        self.started: list[WorkflowHandle[Any, Any]] = []

    async def open(self, *, family_key: str | None = None) -> tuple[CaseHandle, SignalOutcome]:
        """A signal under the default policy (no timer fires while a test runs)."""
        handle, outcome = await open_signal(
            self.env.client, self.task_queue, family_key=family_key, policy="default"
        )
        self.started.append(handle)
        return handle, outcome

    def follow_up(self, case_id: UUID) -> WorkflowHandle[Any, Any]:
        handle = self.env.client.get_workflow_handle(follow_up_workflow_id(case_id))
        self.started.append(handle)
        return handle


@asynccontextmanager
async def cases_worker(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> AsyncIterator[Cases]:
    """The real worker, and at the end every workflow stopped, passed or failed: one left
    running without a worker would hold the shared test server's clock when its timer fires."""
    cases = Cases(env, task_queue)
    async with build_worker(
        env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
    ):
        try:
            yield cases
        finally:
            for handle in cases.started:
                with contextlib.suppress(RPCError):  # already completed
                    await handle.terminate("test finished")


async def history(
    sessions: SessionFactory, case_id: UUID
) -> tuple[Sequence[CaseEventPublic], Sequence[Notification], CaseView]:
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        notes = await list_for_case(session, case_id=case_id)
        view = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert view is not None
    return events, notes, view


async def history_length(handle: WorkflowHandle[Any, Any]) -> int:
    return len([event async for event in handle.fetch_history_events()])


async def rejection(update: Awaitable[object]) -> str:
    """The reason a rejected update gives the caller."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == ("Rejected", True)
    return cause.message


def actions(events: Sequence[CaseEventPublic]) -> list[str]:
    return [event.action for event in events]


def by_staff(events: Sequence[CaseEventPublic]) -> list[CaseEventPublic]:
    return [event for event in events if event.actor_id != SYSTEM_ACTOR]


async def to_planning(handle: CaseHandle) -> CaseView:
    """Signal -> intake -> assessment (L2) -> route -> team: the plan awaits approval."""
    await handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST))
    await handle.execute_update(
        CaseWorkflow.record_assessment,
        a.AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[NeedCircumstance.CHILD_ADAPTATION_DIFFICULTY],
            level=AccompanimentLevel.L2,
        ).by(SPECIALIST),
    )
    await handle.execute_update(
        CaseWorkflow.set_route, a.RouteBody(routes=[RouteKind.OWN_SERVICES]).by(SPECIALIST)
    )
    return await handle.execute_update(
        CaseWorkflow.name_team, a.TeamBody(curator="staff-102").by(SPECIALIST)
    )


# --- Refusals -------------------------------------------------------------------------------


async def test_wrong_stage_role_or_territory_is_refused_with_its_reason_and_writes_nothing(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    # The dev server (a real Temporal server): the time-skipping test server records a workflow
    # task for every update, even one its validator rejects, so only here does "no history"
    # hold (and it is what production runs).
    env = dev_env
    async with cases_worker(env, task_queue, sessions) as cases:
        handle, opened = await cases.open()
        case_id = opened.view.case_id
        plan = a.PlanBody(
            items=[
                a.PlanItemIn(
                    item_id="item-1",
                    channel=AccompanimentChannel.PSYCHOLOGICAL,
                    provider="KCSON Berdsk",
                    responsible="staff-102",
                    deadline=opened.view.opened_at + timedelta(days=30),
                )
            ]
        ).by(SUPERVISOR)

        # In stage identified.
        events_before, notes_before, _ = await history(sessions, case_id)
        length_before = await history_length(handle)
        reasons = [
            await rejection(handle.execute_update(CaseWorkflow.approve_plan, plan)),
            await rejection(
                handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(MINISTRY))
            ),
            await rejection(
                handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(MINISTRY))
            ),
            await rejection(
                handle.execute_update(
                    CaseWorkflow.approve_plan, plan.model_copy(update={"actor": MINISTRY})
                )
            ),
            await rejection(
                handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(OUTSIDER))
            ),
            await rejection(
                handle.execute_update(
                    CaseWorkflow.approve_closure,
                    a.ClosureApprovalBody(approve=True).by(SUPERVISOR),
                )
            ),
        ]
        assert reasons == [
            "approve_plan is not allowed in stage identified (allowed in: planning); "
            "in stage identified a supervisor may: receive_signal, register_intake, "
            "record_contact, request_closure, approve_closure, give_urgent_service, "
            "raise_child_safety_alert",
            "role ministry may not register_intake (allowed for: head, specialist, supervisor)",
            "role ministry may not record_contact (allowed for: head, specialist, supervisor)",
            "approve_plan is not allowed in stage identified (allowed in: planning); "
            "in stage identified a ministry may: nothing",
            "the case belongs to a municipality outside the actor's territory",
            "no closure has been requested",
        ]
        events, notes, view = await history(sessions, case_id)
        assert [e.id for e in events] == [e.id for e in events_before]
        assert [n.id for n in notes] == [n.id for n in notes_before]
        assert await history_length(handle) == length_before
        assert view.stage is Stage.IDENTIFIED

        # In stage planning.
        view = await to_planning(handle)
        assert view.stage is Stage.PLANNING
        events_before, notes_before, _ = await history(sessions, case_id)
        length_before = await history_length(handle)
        reasons = [
            await rejection(
                handle.execute_update(
                    CaseWorkflow.approve_plan, plan.model_copy(update={"actor": SPECIALIST})
                )
            ),
            await rejection(
                handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST))
            ),
            await rejection(
                handle.execute_update(
                    CaseWorkflow.complete_plan_item,
                    a.PlanItemDoneBody(item_id="item-1").by(SPECIALIST),
                )
            ),
            await rejection(
                handle.execute_update(
                    CaseWorkflow.reassign_curator,
                    a.ReassignCuratorBody(curator="staff-103").by(SPECIALIST),
                )
            ),
            await rejection(
                handle.execute_update(
                    CaseWorkflow.approve_plan, plan.model_copy(update={"actor": OUTSIDER})
                )
            ),
        ]
        assert reasons == [
            "role specialist may not approve_plan (allowed for: head, supervisor)",
            "register_intake is not allowed in stage planning (allowed in: identified); "
            "in stage planning a specialist may: receive_signal, record_contact, "
            "request_closure, give_urgent_service, raise_child_safety_alert, "
            "record_commission_decision",
            "complete_plan_item is not allowed in stage planning "
            "(allowed in: prolongation, review, support); in stage planning a specialist may: "
            "receive_signal, record_contact, request_closure, give_urgent_service, "
            "raise_child_safety_alert, record_commission_decision",
            "role specialist may not reassign_curator (allowed for: head, supervisor)",
            "the case belongs to a municipality outside the actor's territory",
        ]
        events, notes, view = await history(sessions, case_id)
        assert [e.id for e in events] == [e.id for e in events_before]
        assert [n.id for n in notes] == [n.id for n in notes_before]
        assert await history_length(handle) == length_before
        assert view.stage is Stage.PLANNING

        # The same plan from a supervisor of the territory is accepted.
        view = await handle.execute_update(CaseWorkflow.approve_plan, plan)
        assert view.stage is Stage.SUPPORT
        events, _, _ = await history(sessions, case_id)
        assert actions(events)[len(events_before) :] == ["plan_approved"]
        assert (events[-1].actor_id, events[-1].actor_role) == (SUPERVISOR.staff_id, "supervisor")


# --- Idempotency ----------------------------------------------------------------------------


async def test_an_update_repeated_with_the_same_id_takes_effect_once(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    async with cases_worker(env, task_queue, sessions) as cases:
        handle, opened = await cases.open()
        contact = a.ContactBody(comment="reached by phone").by(SPECIALIST)
        first = await handle.execute_update(CaseWorkflow.record_contact, contact, id="same-key")
        await env.sleep(timedelta(minutes=5))  # a retry, later
        again = await handle.execute_update(CaseWorkflow.record_contact, contact, id="same-key")
        assert again == first

        # Staff events only: the five minutes may cross a deadline's reminder, a timer event.
        events, _, view = await history(sessions, opened.view.case_id)
        assert actions(by_staff(events)) == ["signal_received", "contact_recorded"]
        assert view.version == len(events)  # the projection holds every recorded event

        # Another id is another contact.
        other = await handle.execute_update(CaseWorkflow.record_contact, contact, id="other-key")
        assert other.version > first.version
        events, _, _ = await history(sessions, opened.view.case_id)
        assert actions(by_staff(events)) == [
            "signal_received",
            "contact_recorded",
            "contact_recorded",
        ]


# --- A refusal closes the case, with a supervisor's approval ------------------------------


async def test_written_refusal_at_assessment_closes_with_approval_and_starts_follow_ups(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    assert POLICY.needs_approval(ClosureReason.WRITTEN_REFUSAL)
    async with cases_worker(env, task_queue, sessions) as cases:
        handle, opened = await cases.open()
        case_id = opened.view.case_id
        await handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        await handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST))

        view = await handle.execute_update(
            CaseWorkflow.record_assessment,
            a.AssessmentBody(
                decision=NeedDecision.REFUSED, comment="the family refused in writing"
            ).by(SPECIALIST),
        )
        assert view.stage is Stage.ASSESSMENT
        assert view.closure_requested is ClosureReason.WRITTEN_REFUSAL
        assert "T2" not in {d.key for d in view.deadlines}  # the decision is made
        still_open = sorted(d.key for d in view.deadlines)
        events, notes, _ = await history(sessions, case_id)
        assessed, requested = events[-2:]
        assert (assessed.action, assessed.stage_before, assessed.stage_after) == (
            "assessment_recorded",
            Stage.ASSESSMENT,
            Stage.ASSESSMENT,
        )
        assert assessed.data["decision"] == NeedDecision.REFUSED
        assert assessed.reason == "the family refused in writing"
        assert (requested.action, requested.actor_id, requested.data) == (
            "closure_requested",
            SPECIALIST.staff_id,
            {"closure_reason": "written_refusal"},
        )
        assert [(n.event_seq, n.recipient, n.kind) for n in notes] == [
            (requested.seq, "supervisor", NotificationKind.APPROVAL_REQUESTED)
        ]

        # Only a supervisor (or head) approves.
        reason = await rejection(
            handle.execute_update(
                CaseWorkflow.approve_closure, a.ClosureApprovalBody(approve=True).by(SPECIALIST)
            )
        )
        assert reason == "role specialist may not approve_closure (allowed for: head, supervisor)"
        view = await handle.execute_update(
            CaseWorkflow.approve_closure,
            a.ClosureApprovalBody(approve=True, comment="refusal on file").by(SUPERVISOR),
        )
        assert (view.stage, view.closure_reason, view.closure_requested) == (
            Stage.CLOSED,
            ClosureReason.WRITTEN_REFUSAL,
            None,
        )
        assert view.deadlines == []
        events, _, stored = await history(sessions, case_id)
        closed = events[-1]
        assert (closed.action, closed.actor_id, closed.actor_role) == (
            "case_closed",
            SUPERVISOR.staff_id,
            "supervisor",
        )
        assert (closed.stage_before, closed.stage_after) == (Stage.ASSESSMENT, Stage.CLOSED)
        assert closed.data == {
            "closure_reason": "written_refusal",
            "deadlines_stopped": still_open,
        }
        assert stored.stage is Stage.CLOSED

        follow_up = cases.follow_up(case_id)
        outcome = await handle.result()
        assert outcome.case_id == case_id
        assert outcome.closure_reason is ClosureReason.WRITTEN_REFUSAL
        assert outcome.closed_at == closed.occurred_at
        assert outcome.follow_up_workflow_id == follow_up.id
        status = (await follow_up.describe()).status
        assert status is WorkflowExecutionStatus.RUNNING

        async def planned() -> list[str]:
            return actions((await history(sessions, case_id))[0])

        found = await eventually(
            planned, lambda found: "follow_ups_planned" in found, what="follow-ups planned"
        )
        assert found[-1] == "follow_ups_planned"


# --- One window -----------------------------------------------------------------------------


async def projections_of(sessions: SessionFactory, workflow_id: str) -> list[UUID]:
    """The cases PostgreSQL knows under one family's workflow id, oldest first."""
    async with sessions() as session:
        statement = (
            select(CaseProjection.case_id)
            .where(CaseProjection.workflow_id == workflow_id)
            .order_by(col(CaseProjection.opened_at))
        )
        return list((await session.exec(statement)).all())


async def test_one_open_episode_per_family(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    async with cases_worker(env, task_queue, sessions) as cases:
        family = uuid.uuid4().hex
        first, opened = await cases.open(family_key=family)
        again, joined = await cases.open(family_key=family)
        assert (opened.joined, joined.joined) == (False, True)
        assert joined.view.case_id == opened.view.case_id
        assert first.first_execution_run_id is not None
        assert (again.id, again.first_execution_run_id) == (first.id, first.first_execution_run_id)
        case_id = opened.view.case_id
        events, _, _ = await history(sessions, case_id)
        assert [(e.seq, e.action, e.stage_before, e.stage_after) for e in events] == [
            (1, "signal_received", None, Stage.IDENTIFIED),
            (2, "signal_joined", Stage.IDENTIFIED, Stage.IDENTIFIED),
        ]

        # The family moves away: a supervisor's own request closes at once.
        view = await first.execute_update(
            CaseWorkflow.request_closure,
            a.ClosureRequestBody(reason=ClosureReason.RELOCATED).by(SUPERVISOR),
        )
        assert view.stage is Stage.CLOSED
        cases.follow_up(case_id)
        assert (await first.result()).closure_reason is ClosureReason.RELOCATED

        # A new signal about the same family opens a new episode.
        later, reopened = await cases.open(family_key=family)
        assert not reopened.joined
        assert reopened.view.case_id != case_id
        assert later.id == first.id
        assert later.first_execution_run_id is not None
        assert later.first_execution_run_id != first.first_execution_run_id
        assert reopened.view.stage is Stage.IDENTIFIED
        events, _, _ = await history(sessions, reopened.view.case_id)
        assert actions(events) == ["signal_received"]
        assert await projections_of(sessions, first.id) == [case_id, reopened.view.case_id]

        # Two signals at once about a new family: one case, the other signal joins it.
        newcomer = uuid.uuid4().hex
        (one, one_opened), (other, other_opened) = await asyncio.gather(
            cases.open(family_key=newcomer), cases.open(family_key=newcomer)
        )
        assert one_opened.view.case_id == other_opened.view.case_id
        assert one.first_execution_run_id is not None
        assert (one.id, one.first_execution_run_id) == (other.id, other.first_execution_run_id)
        assert sorted([one_opened.joined, other_opened.joined]) == [False, True]
        events, _, _ = await history(sessions, one_opened.view.case_id)
        assert actions(events) == ["signal_received", "signal_joined"]
        assert await projections_of(sessions, one.id) == [one_opened.view.case_id]
