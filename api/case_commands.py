"""Sending staff actions to case workflows, and turning Temporal's answers into HTTP ones.

An action answers at once: accepted with the new state, or rejected with the workflow
validator's reason. When Temporal or the worker does not answer in time the outcome is
unknown: 503 with Retry-After, and the client retries with the same Idempotency-Key, which is
the update id, so the retry can never apply the action twice.
"""

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from models.payloads.actions import SignalIn
from models.payloads.case_start import CaseInput, CaseStart, SignalOutcome
from workflows.case import CaseWorkflow
from workflows.ids import case_workflow_id

Result = TypeVar("Result")
RETRY_AFTER_SECONDS = 5


async def open_or_join(
    client: Client,
    *,
    task_queue: str,
    family_key: str,
    start: CaseStart,
    signal: SignalIn,
    key: str,
    wait: timedelta,
) -> SignalOutcome:
    """Open the family's episode, or join its open one: one atomic update-with-start."""
    operation = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(start=start),
        id=case_workflow_id(family_key),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue,
        # What supervisors read in the Web UI's list: codes only, no personal data.
        static_summary=f"Family case · {start.municipality}",
        static_details=f"Case {start.case_id} · policy {start.policy}",
    )
    outcome: SignalOutcome = await _answer(
        client.execute_update_with_start_workflow(
            CaseWorkflow.receive_signal,
            signal,
            start_workflow_operation=operation,
            id=f"receive_signal:{key}",
            rpc_timeout=wait,
        ),
        wait,
    )
    return outcome


async def act(
    client: Client,
    *,
    workflow_id: str,
    first_run_id: str | None,
    update: Any,
    command: Any,
    action: str,
    key: str,
    wait: timedelta,
) -> Any:
    """Run one staff action (a Workflow Update) on the workflow; its result. Pinned to the
    case's own run chain: a family's later episode reuses the workflow id."""
    handle = client.get_workflow_handle(workflow_id, first_execution_run_id=first_run_id)
    return await _answer(
        handle.execute_update(update, command, id=f"{action}:{key}", rpc_timeout=wait), wait
    )


async def _answer(call: Any, wait: timedelta) -> Any:
    try:
        # `rpc_timeout` bounds each RPC, not the call: the SDK retries an aborted update and
        # polls for its outcome after accepting it, each with a fresh timeout. This is the bound.
        async with asyncio.timeout(wait.total_seconds()):
            return await call
    except TimeoutError:
        raise _unknown_outcome() from None
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == "Rejected":
            raise ApiError(409, "rejected", cause.message) from None
        raise ApiError(409, "failed", "the case could not apply the action") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise _unknown_outcome() from None
    except RPCError as error:
        raise _rpc_answer(error) from None
    except RuntimeError as error:
        # The lazy client's first connection failed (the SDK raises a bare RuntimeError):
        # Temporal is unreachable, which is "retry later", not a server fault.
        if str(error).startswith("Failed client connect"):
            raise _unknown_outcome() from None
        raise


def _unknown_outcome() -> ApiError:
    return ApiError(
        503,
        "unavailable",
        "the case did not answer in time; the outcome is unknown: retry with the same "
        "Idempotency-Key",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _rpc_answer(error: RPCError) -> ApiError:
    if error.status == RPCStatusCode.RESOURCE_EXHAUSTED:
        return ApiError(
            429,
            "too_many_updates",
            "the case has too many actions in flight; retry shortly",
            headers={"Retry-After": "1"},
        )
    if error.status == RPCStatusCode.NOT_FOUND:
        return ApiError(409, "case_closed", "the case is closed and takes no more actions")
    return _unknown_outcome()
