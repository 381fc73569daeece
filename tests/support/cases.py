"""Opening and driving cases in tests, as the API will: update-with-start, then updates.
Synthetic staff and municipalities only."""

import uuid

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from models.payloads.actions import Actor, SignalIn
from models.payloads.case_start import CaseInput, CaseOutcome, CaseStart, SignalOutcome
from models.payloads.vocabulary import SignalSource, StaffRole
from workflows.case import CaseWorkflow
from workflows.ids import case_workflow_id

MUNICIPALITY = "berdsk"


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
) -> tuple[WorkflowHandle[CaseWorkflow, CaseOutcome], SignalOutcome]:
    """A signal about a (synthetic) family: opens its episode, or joins the open one."""
    family_key = family_key or uuid.uuid4().hex
    operation = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(start=CaseStart(case_id=uuid.uuid4(), municipality=MUNICIPALITY, policy=policy)),
        id=case_workflow_id(family_key),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue,
    )
    outcome = await client.execute_update_with_start_workflow(
        CaseWorkflow.receive_signal,
        SignalIn(
            actor=actor or specialist(),
            source=SignalSource.SELF_REQUEST,
            child_safety_indicators=child_safety,
        ),
        start_workflow_operation=operation,
    )
    return await operation.workflow_handle(), outcome
