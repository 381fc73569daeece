"""The API's Prometheus metrics: requests counted by method, route and status, and their
latency as a histogram, served on a port of their own (KURATOR_API_METRICS_PORT), away from the
staff API and its authentication.

Requests are labelled by the route's template (`/api/v1/cases/{case_id}`), never by the raw
path: a path holds case ids, and a label per case would both leak them into the monitoring and
grow without bound. A path no route matches is `unmatched`.
"""

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import get_logger
from infra.metrics import MetricsPortError, bind_address

log = get_logger(__name__)

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# From a cached read (~5 ms) to the update timeout (10 s) and past it.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15)


class ApiMetrics:
    """The API's metrics in a registry of their own (one per app, so tests can make many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "kurator_api_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kurator_api_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Serve /metrics on host:port from a thread; returns what stops it."""
        try:
            server, thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as error:
            raise MetricsPortError(
                f"API metrics: cannot listen on {host}:{port}: {error.strerror}"
            ) from None
        log.info("API metrics for Prometheus", url=f"http://{bind_address(host, port)}/metrics")

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """`app` with every HTTP request it answers counted and timed."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            status = 500  # what the client gets if the app fails before it answers

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            started = time.perf_counter()
            try:
                await app(scope, receive, send_status)
            finally:
                method = scope["method"] if scope["method"] in _METHODS else "other"
                route = _route_template(scope)
                self.latency.labels(method, route).observe(time.perf_counter() - started)
                self.requests.labels(method, route, str(status)).inc()

        return measured


def _route_template(scope: Scope) -> str:
    # The router records the route it matched in the scope (starlette.routing).
    route: Any = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return UNMATCHED
