"""What the worker's and the API's Prometheus endpoints share: how their address is written and
the error when one cannot listen (workers/worker_metrics.py, api/metrics.py)."""


class MetricsPortError(RuntimeError):
    """A metrics endpoint could not listen; says which and where."""


def bind_address(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
