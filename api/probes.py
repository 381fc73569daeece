"""Readiness probes of what Kurator depends on, each bounded in time."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.state import AppState

PROBE_TIMEOUT = timedelta(seconds=3)
# An idle worker long-polls for up to a minute, then polls again: a poller seen within this
# window is alive. The server keeps entries of departed pollers for minutes, so age matters.
POLLER_FRESHNESS = timedelta(seconds=75)


async def probe_postgres(state: AppState) -> str | None:
    """None when PostgreSQL answers, else what went wrong."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT.total_seconds()):
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT.total_seconds():.0f}s"
    except Exception as error:  # any driver error means "not usable"; name its type only
        return f"unreachable ({type(error).__name__})"
    return None


async def probe_temporal(state: AppState) -> str | None:
    try:
        healthy = await state.temporal.service_client.check_health(timeout=PROBE_TIMEOUT)
    except Exception as error:  # RPC errors and connection failures alike
        return f"unreachable ({type(error).__name__})"
    return None if healthy else "frontend reports not serving"


async def probe_worker(state: AppState) -> str | None:
    """None when a worker polled Kurator's workflow task queue recently."""
    request = DescribeTaskQueueRequest(
        namespace=state.settings.temporal_namespace,
        task_queue=TaskQueue(name=state.settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        response = await state.temporal.workflow_service.describe_task_queue(
            request, timeout=PROBE_TIMEOUT
        )
    except Exception as error:
        return f"cannot ask Temporal ({type(error).__name__})"
    cutoff = datetime.now(UTC) - POLLER_FRESHNESS
    fresh = [
        poller
        for poller in response.pollers
        if poller.last_access_time.ToDatetime(tzinfo=UTC) >= cutoff
    ]
    if not fresh:
        return f"no worker is polling task queue {state.settings.task_queue}"
    return None
