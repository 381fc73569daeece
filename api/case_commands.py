"""Sending staff actions to case workflows, and turning Temporal's answers into HTTP ones.

An action answers at once: accepted with the new state, or rejected with the workflow
validator's reason. When Temporal or the worker does not answer in time the outcome is
unknown: 503 with Retry-After, and the client retries with the same Idempotency-Key, which is
the update id, so the retry can never apply the action twice.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from infra.sealing.family_keys import KeyDestroyed

Result = TypeVar("Result")
RETRY_AFTER_SECONDS = 5
# The follow-up workflow a closure starts exists within milliseconds of the closure's answer.
STARTING_GRACE = timedelta(seconds=2)
STARTING_POLL = timedelta(milliseconds=100)
CASE_CLOSED = "case_closed"


async def answered(
    send: Callable[[], Awaitable[Result]], wait: timedelta, *, may_be_starting: bool = False
) -> Result:
    """The answer of `send()` (a call of infra.case_client) within `wait`, or the ApiError
    that says what happened. `may_be_starting`: the workflow may not exist yet for a moment
    (a closed case's follow-ups start just after the closure is answered), so "not found" is
    asked again until `STARTING_GRACE` has passed."""
    started = asyncio.get_running_loop().time()
    while True:
        try:
            answer: Result = await _answer(send(), wait)
            return answer
        except ApiError as error:
            waited = asyncio.get_running_loop().time() - started
            starting = may_be_starting and waited < STARTING_GRACE.total_seconds()
            if error.code != CASE_CLOSED or not starting:
                raise
        await asyncio.sleep(STARTING_POLL.total_seconds())


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
    except KeyDestroyed:
        # The codec found the family's key destroyed (erased while this request was on its way).
        raise family_erased_error() from None
    except RuntimeError as error:
        # The lazy client's first connection failed (the SDK raises a bare RuntimeError):
        # Temporal is unreachable, which is "retry later", not a server fault.
        if str(error).startswith("Failed client connect"):
            raise _unknown_outcome() from None
        raise


def family_erased_error() -> ApiError:
    return ApiError(
        409,
        "family_erased",
        "this family's data was erased (its key destroyed); nothing was recorded. A family "
        "whose data was erased cannot be registered again under the same registry id",
    )


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
        return ApiError(409, CASE_CLOSED, "the case is closed and takes no more actions")
    return _unknown_outcome()
