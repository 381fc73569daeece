"""Docker health check of a `kurator worker` container: is the worker in this container polling?

The API's /health asks whether any worker polls Kurator's task queue; this asks, with the same
probe, whether this container's does: a container's hostname is its own, and the SDK names a
worker `<pid>@<hostname>`. The Dockerfile copies this file into the image; it exits 0 when
healthy and 1 otherwise, as Docker expects.
"""

import asyncio
import socket
import sys

from temporalio.converter import DataConverter

from infra.probes import probe_worker
from infra.temporal_client import connect_temporal
from models.settings import get_settings

OVERALL_TIMEOUT_SECONDS = 10.0


async def problem_of_this_host() -> str | None:
    settings = get_settings()
    client = await connect_temporal(
        settings.require_temporal_address(),
        settings.temporal_namespace,
        # The probe describes the task queue and exchanges no payloads: nothing to seal.
        data_converter=DataConverter.default,
    )
    return await probe_worker(
        client,
        namespace=settings.temporal_namespace,
        task_queue=settings.task_queue,
        host=socket.gethostname(),
    )


def main() -> int:
    try:
        problem = asyncio.run(asyncio.wait_for(problem_of_this_host(), OVERALL_TIMEOUT_SECONDS))
    except Exception as error:  # any failure to ask means "not known to be healthy"
        sys.stderr.write(f"unhealthy: cannot ask Temporal ({type(error).__name__}: {error})\n")
        return 1
    if problem is not None:
        sys.stderr.write(f"unhealthy: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
