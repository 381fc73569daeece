"""The worker's Prometheus endpoint: the Temporal SDK's own metrics (workflow and activity task
latencies and failures, sticky cache hits and misses, pollers, task slots), served by the SDK's
native runtime on KURATOR_METRICS_HOST:KURATOR_WORKER_METRICS_PORT at /metrics.

The runtime is made by the worker's composition root (workers/worker.py), never at import:
it binds the port as it is created.
"""

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.metrics import MetricsPortError, bind_address


def metrics_runtime(host: str, port: int) -> Runtime:
    """A Temporal runtime that serves the SDK's metrics for Prometheus."""
    prometheus = PrometheusConfig(
        bind_address=bind_address(host, port),
        # Seconds, and names that say so (…_latency_seconds), as Prometheus names go and as the
        # API's histograms are: one unit in every alert rule.
        durations_as_seconds=True,
        unit_suffix=True,
        counters_total_suffix=True,
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except Exception as error:  # the SDK raises a bare RuntimeError or ValueError from Rust
        raise MetricsPortError(
            f"worker metrics: cannot listen on {prometheus.bind_address}: {error}"
        ) from None
