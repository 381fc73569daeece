"""Connecting to Temporal with Kurator's data converter (pydantic payloads)."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig


async def connect_temporal(
    address: str,
    namespace: str,
    *,
    lazy: bool = False,
    retry_config: RetryConfig | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client for `namespace`. `lazy` defers the connection to the first call, so the API can
    start (and serve reads and /health) while Temporal is still down. `retry_config` bounds
    the client's own retries of failed calls (default: the SDK's, about ten seconds).
    `runtime` carries the SDK's telemetry, e.g. the worker's Prometheus endpoint (default: the
    SDK's runtime, which exports nothing)."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
        retry_config=retry_config,
        runtime=runtime,
    )
