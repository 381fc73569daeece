"""Docker health check of a `kurator worker` container: is the worker in this container polling?

The API's /health asks whether any worker polls Kurator's task queue; this asks whether this
container's does. The SDK names a worker `<pid>@<hostname>` and a container's hostname is its
own, so a fresh poller with this host's suffix is this container's worker. The Dockerfile copies
this file into the image; it exits 0 when healthy and 1 otherwise, as Docker expects.
"""

import asyncio
import socket
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api.probes import POLLER_FRESHNESS
from models.settings import get_settings

RPC_TIMEOUT = timedelta(seconds=5)
OVERALL_TIMEOUT_SECONDS = 10.0


def polling_from_host(pollers: Iterable[PollerInfo], hostname: str, now: datetime) -> bool:
    """Whether one of `pollers` runs on `hostname` and polled within `POLLER_FRESHNESS`."""
    cutoff = now - POLLER_FRESHNESS
    return any(
        poller.identity.endswith(f"@{hostname}")
        and poller.last_access_time.ToDatetime(tzinfo=UTC) >= cutoff
        for poller in pollers
    )


async def worker_is_polling() -> bool:
    settings = get_settings()
    client = await Client.connect(
        settings.require_temporal_address(), namespace=settings.temporal_namespace
    )
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=RPC_TIMEOUT,
    )
    return polling_from_host(response.pollers, socket.gethostname(), datetime.now(UTC))


def main() -> int:
    try:
        healthy = asyncio.run(asyncio.wait_for(worker_is_polling(), OVERALL_TIMEOUT_SECONDS))
    except Exception as error:  # any failure to ask means "not known to be healthy"
        sys.stderr.write(f"unhealthy: cannot ask Temporal ({type(error).__name__}: {error})\n")
        return 1
    if not healthy:
        sys.stderr.write(f"unhealthy: no worker on {socket.gethostname()} polls recently\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
