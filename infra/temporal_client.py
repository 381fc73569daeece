"""Connecting to Temporal with a data converter the caller chooses: Kurator's sealing one
(`infra.sealing.converter`) wherever payloads are written or read."""

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig


async def connect_temporal(
    address: str,
    namespace: str,
    *,
    data_converter: DataConverter,
    lazy: bool = False,
    retry_config: RetryConfig | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client for `namespace`. `data_converter` is required so that no process can write a
    payload in clear by forgetting it; a probe that exchanges no payloads passes the SDK's
    default. `lazy` defers the connection to the first call, so the API can start (and serve
    reads and /health) while Temporal is still down. `retry_config` bounds the client's own
    retries of failed calls (default: the SDK's, about ten seconds). `runtime` carries the
    SDK's telemetry, e.g. the worker's Prometheus endpoint (default: the SDK's runtime, which
    exports nothing)."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter,
        lazy=lazy,
        retry_config=retry_config,
        runtime=runtime,
    )
