"""How a client addresses case workflows: the intake (an update-with-start) and staff actions
(updates), each with an update id made from the caller's idempotency key, so a retried request
can never take effect twice. The API turns Temporal's answers into HTTP ones (api/case_commands);
tests and tools call these directly.
"""

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from models.payloads.actions import StaffAction
from models.payloads.case_start import CaseInput, CaseStart, SignalOutcome
from models.payloads.policy_context import CasePolicyContext
from workflows.case import CaseWorkflow
from workflows.ids import case_workflow_id


async def open_or_join(
    client: Client,
    *,
    task_queue: str,
    family_key: str,
    start: CaseStart,
    signal: StaffAction,
    key: str,
    rpc_timeout: timedelta,
    policy_context: CasePolicyContext | None = None,
) -> SignalOutcome:
    """Open the family's episode, or join its open one: one atomic update-with-start. A new
    case starts with `policy_context` if given (else it loads its policy itself)."""
    operation = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(start=start, context=policy_context),
        id=case_workflow_id(family_key),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue,
        # What supervisors read in the Web UI's list: codes only, no personal data.
        static_summary=f"Family case · {start.municipality}",
        static_details=f"Case {start.case_id} · policy {start.policy}",
    )
    try:
        return await client.execute_update_with_start_workflow(
            CaseWorkflow.receive_signal,
            signal,
            start_workflow_operation=operation,
            id=f"receive_signal:{key}",
            rpc_timeout=rpc_timeout,
        )
    except BaseException:
        await _collect_start_outcome(operation)
        raise


async def _collect_start_outcome(operation: WithStartWorkflowOperation[Any, Any]) -> None:
    """Retrieve the start's failure from the operation, which the SDK sets when the call fails
    (an RPC error, or the call cancelled by our deadline) and nobody else awaits: unretrieved,
    asyncio reports "Future exception was never retrieved" at error level when it is freed.
    The caller already has the call's own error; this one says the same."""
    task = asyncio.current_task()
    cancelling = task.cancelling() if task is not None else 0
    try:
        # A set handle answers without yielding; the zero deadline keeps one that is never set
        # (the call failed before its RPC) from holding us up.
        async with asyncio.timeout(0):
            await operation.workflow_handle()
    except asyncio.CancelledError:
        # The SDK stores a cancellation as the start's error; one aimed at us goes on.
        if task is not None and task.cancelling() > cancelling:
            raise
    except Exception:  # the start's error (or the zero deadline): the caller raises its own
        pass


def send_action(
    client: Client,
    *,
    workflow_id: str,
    first_run_id: str | None,
    update: Any,
    command: Any,
    action: str,
    key: str,
    rpc_timeout: timedelta,
) -> Awaitable[Any]:
    """One staff action (a Workflow Update) on the workflow. Pinned to the case's own run
    chain: a family's later episode reuses the workflow id."""
    handle = client.get_workflow_handle(workflow_id, first_execution_run_id=first_run_id)
    return handle.execute_update(update, command, id=f"{action}:{key}", rpc_timeout=rpc_timeout)
