"""Opening and driving cases in tests, as the API will: update-with-start, then updates.
Synthetic staff and municipalities only."""

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.intake_policy import intake_policy_context
from infra.case_client import open_or_join
from models.crud.case_events import list_events
from models.db import SessionFactory
from models.lifecycle.state import CaseState
from models.payloads import actions as a
from models.payloads.actions import Actor, SignalBody
from models.payloads.case_start import CaseOutcome, CaseStart, SignalOutcome
from models.payloads.vocabulary import (
    NeedCircumstance,
    NeedDecision,
    RouteKind,
    SignalSource,
    StaffRole,
    Stage,
)
from models.policy import AccompanimentLevel, Duration, shift
from models.policy.loader import load_calendar, load_policy
from tests.support.sealing import test_key_store
from workflows.case import CaseWorkflow
from workflows.ids import case_workflow_id

MUNICIPALITY = "berdsk"
DEFAULT_POLICY = load_policy("default")


def specialist(staff_id: str = "staff-101", municipality: str = MUNICIPALITY) -> Actor:
    return Actor(staff_id=staff_id, role=StaffRole.SPECIALIST, municipalities=(municipality,))


def supervisor(staff_id: str = "staff-201", municipality: str = MUNICIPALITY) -> Actor:
    return Actor(staff_id=staff_id, role=StaffRole.SUPERVISOR, municipalities=(municipality,))


def ministry() -> Actor:
    return Actor(staff_id="staff-901", role=StaffRole.MINISTRY, municipalities=(MUNICIPALITY,))


async def open_case(
    client: Client,
    task_queue: str,
    *,
    family_key: str | None = None,
    policy: str = "compressed",
    child_safety: bool = False,
    actor: Actor | None = None,
    as_the_api: bool = False,
) -> tuple[WorkflowHandle[CaseWorkflow, CaseOutcome], SignalOutcome]:
    """A signal about a (synthetic) family: opens its episode or joins the open one, through
    the same update-with-start the API uses; `as_the_api`, with the policy context in the
    start's input as the API gives it (else the case loads its policy by an activity)."""
    family_key = family_key or uuid.uuid4().hex
    outcome = await open_or_join(
        client,
        task_queue=task_queue,
        family_key=family_key,
        start=CaseStart(case_id=uuid.uuid4(), municipality=MUNICIPALITY, policy=policy),
        signal=SignalBody(
            source=SignalSource.SELF_REQUEST, child_safety_indicators=child_safety
        ).by(actor or specialist()),
        key=uuid.uuid4().hex,
        rpc_timeout=timedelta(seconds=60),
        policy_context=intake_policy_context(policy, datetime.now(UTC)) if as_the_api else None,
    )
    handle = client.get_workflow_handle(
        case_workflow_id(family_key),
        result_type=CaseOutcome,
        first_execution_run_id=outcome.view.first_run_id,
    )
    return handle, outcome


def policy_shift(moment: datetime, duration: str, *, backwards: bool = False) -> datetime:
    """`moment` shifted by `duration` under the default policy and the RU calendar."""
    calendar = load_calendar()
    return shift(
        moment, Duration.parse(duration), calendar, DEFAULT_POLICY.utc_offset, backwards=backwards
    )


async def recorded_at(sessions: SessionFactory, case_id: UUID, action: str) -> datetime:
    """When the workflow recorded its latest `action`: the moment its deadlines count from."""
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
    return next(e.occurred_at for e in reversed(events) if e.action == action)


async def case_in_planning(
    client: Client, task_queue: str
) -> tuple[WorkflowHandle[CaseWorkflow, CaseOutcome], UUID]:
    """A new L1 case on the default policy, taken to the planning stage (its first contact
    made, its curator staff-101): the plan is the next step."""
    handle, opened = await open_case(client, task_queue, policy="default")
    update, staff = handle.execute_update, specialist()
    await update(CaseWorkflow.record_contact, a.ContactBody().by(staff))
    await update(CaseWorkflow.register_intake, a.IntakeBody().by(staff))
    await update(
        CaseWorkflow.record_assessment,
        a.AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[NeedCircumstance.NO_WORK_NO_MEANS],
            level=AccompanimentLevel.L1,
        ).by(staff),
    )
    await update(CaseWorkflow.set_route, a.RouteBody(routes=[RouteKind.OWN_SERVICES]).by(staff))
    view = await update(CaseWorkflow.name_team, a.TeamBody(curator="staff-101").by(staff))
    assert view.stage is Stage.PLANNING
    return handle, opened.view.case_id


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    """Let the time-skipping server's clock run to `moment`, firing every timer on the way."""
    now = await env.get_current_time()
    assert moment > now, f"{moment} is already past (server time {now})"
    await env.sleep(moment - now)


async def recorded_actions(sessions: SessionFactory, case_id: str | UUID) -> list[str]:
    """The actions of the case's recorded events, oldest first."""
    async with sessions() as session:
        events = await list_events(
            session, case_id=UUID(str(case_id)), keys=test_key_store(sessions)
        )
    return [event.action for event in events]


def fresh_state(opened_at: datetime, policy: str = "default") -> CaseState:
    """A case's state as the workflow starts it, for the pure functions' tests."""
    return CaseState(
        case_id=uuid.uuid4(),
        workflow_id="case-test",
        municipality=MUNICIPALITY,
        policy=load_policy(policy),
        calendar=load_calendar(),
        opened_at=opened_at,
    )
