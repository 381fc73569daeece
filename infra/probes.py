"""Readiness probes of what Kurator depends on, each bounded in time. `GET /health` asks all
three; the worker container's Docker health check asks `probe_worker` for its own host."""

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

PROBE_TIMEOUT = timedelta(seconds=3)
# An idle worker long-polls for up to a minute, then polls again: a poller seen within this
# window is alive. The server keeps entries of departed pollers for minutes, so age matters.
POLLER_FRESHNESS = timedelta(seconds=75)


async def probe_postgres(engine: AsyncEngine) -> str | None:
    """None when PostgreSQL answers, else what went wrong."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT.total_seconds()):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT.total_seconds():.0f}s"
    except Exception as error:  # any driver error means "not usable"; name its type only
        return f"unreachable ({type(error).__name__})"
    return None


async def probe_temporal(client: Client) -> str | None:
    try:
        healthy = await client.service_client.check_health(timeout=PROBE_TIMEOUT)
    except Exception as error:  # RPC errors and connection failures alike
        return f"unreachable ({type(error).__name__})"
    return None if healthy else "frontend reports not serving"


async def probe_worker(
    client: Client, *, namespace: str, task_queue: str, host: str | None = None
) -> str | None:
    """None when a worker (on `host`, if given) polled the workflow task queue recently."""
    request = DescribeTaskQueueRequest(
        namespace=namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        response = await client.workflow_service.describe_task_queue(request, timeout=PROBE_TIMEOUT)
    except Exception as error:
        return f"cannot ask Temporal ({type(error).__name__})"
    if not polling_recently(response.pollers, datetime.now(UTC), host=host):
        where = f" from {host}" if host else ""
        return f"no worker{where} is polling task queue {task_queue}"
    return None


def polling_recently(pollers: Iterable[PollerInfo], now: datetime, *, host: str | None) -> bool:
    """Whether one of `pollers` polled within `POLLER_FRESHNESS` (and runs on `host`). The SDK
    names a worker `<pid>@<hostname>`, so the identity's suffix says where it runs."""
    cutoff = now - POLLER_FRESHNESS
    return any(
        (host is None or poller.identity.endswith(f"@{host}"))
        and poller.last_access_time.ToDatetime(tzinfo=UTC) >= cutoff
        for poller in pollers
    )
