"""The FastAPI application and its lifespan (the API's composition root)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from api.body_limit import install_body_limit
from api.codec_caller import CODEC_PREFIX
from api.codec_cors import CodecCors
from api.database_errors import install_database_error_handlers
from api.errors import error_responses, install_error_handlers
from api.glossary import glossary_markdown
from api.metrics import ApiMetrics
from api.oidc import oidc_from_settings
from api.routes import (
    actions,
    audit,
    cases,
    codec,
    codec_sign_in,
    families,
    health,
    notifications,
    proposals,
    reports,
    resources,
    social_contract,
    staff,
    tasks,
)
from api.state import AppState
from infra.sealing.setup import sealing_from_settings
from infra.temporal_client import connect_temporal
from models.db import make_async_engine, make_session_factory
from models.reports.compute import load_report_setup
from models.settings import Settings

# A PostgreSQL that accepts connections and then says nothing (frozen, or a half-open network
# path) would hold each request for psycopg's default of 130 s before the 503.
DATABASE_CONNECT_TIMEOUT_SECONDS = 3


def create_app(settings: Settings, *, seal_payloads: bool = True) -> FastAPI:
    """The API. `seal_payloads=False` talks to Temporal in plain pydantic JSON: only for
    `kurator bench --no-seal`, which measures what sealing costs; never in production."""
    metrics = ApiMetrics() if settings.api_metrics_port is not None else None
    # Here, not in the lifespan: a wrong indicator file stops `kurator api` before it serves.
    report_setup = load_report_setup(settings.indicators_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_async_engine(
            settings.require_database_url(),
            pool_size=settings.database_pool_size,
            connect_timeout=DATABASE_CONNECT_TIMEOUT_SECONDS,
        )
        sessions = make_session_factory(engine)
        keys, data_converter = sealing_from_settings(settings, sessions)
        if not seal_payloads:
            data_converter = pydantic_data_converter
        # Lazy: the API starts, serves reads and reports health while Temporal is down.
        temporal = await connect_temporal(
            settings.require_temporal_address(),
            settings.temporal_namespace,
            data_converter=data_converter,
            lazy=True,
            # A staff member waits for the answer: retrying a refusal such as "too many updates
            # in flight" for longer than the update timeout would turn a 429 into a 503.
            retry_config=RetryConfig(
                max_elapsed_time_millis=int(settings.update_timeout_seconds * 500), max_retries=3
            ),
        )
        # The identity provider's JWKS is fetched through this client (api/oidc.py).
        idp_http = httpx.AsyncClient()
        app.state.kurator = AppState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            reads=make_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
            temporal=temporal,
            keys=keys,
            jwt_secret=settings.require_secret("jwt_secret"),
            pseudonym_secret=settings.require_secret("pseudonym_secret"),
            reports=report_setup,
            oidc=oidc_from_settings(settings, idp_http),
            local_tokens=settings.accepts_local_tokens,
        )
        stop_metrics = (
            metrics.serve(settings.metrics_host, settings.api_metrics_port)
            if metrics is not None and settings.api_metrics_port is not None
            else None
        )
        try:
            yield
        finally:
            await engine.dispose()
            await idp_http.aclose()
            if stop_metrics is not None:
                stop_metrics()

    app = FastAPI(
        title="Kurator",
        summary="Social support of families with children, one durable case per family episode.",
        description="Staff complete each step of a family's path here and get an immediate "
        "answer. Every endpoint but /health needs `Authorization: Bearer <token>` "
        "(`kurator token`); every POST needs an `Idempotency-Key` (but the codec server's, "
        "which follows Temporal's remote codec protocol)." + glossary_markdown(),
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_database_error_handlers(app)
    install_body_limit(app, max_bytes=settings.max_body_bytes)
    if metrics is not None:
        app.add_middleware(metrics.middleware)
    # Outermost, so that every answer of the codec routes (a 413 or a 401 too) carries CORS
    # headers the UI can read.
    app.add_middleware(CodecCors, prefix=CODEC_PREFIX, origins=settings.codec_cors_origins)
    app.include_router(health.router)
    # Documented for every route of these routers: the body limit answers before any route,
    # and each route reads PostgreSQL, which may be unavailable (503).
    app.include_router(cases.router, responses=error_responses(413, 503))
    app.include_router(actions.router, responses=error_responses(413, 503))
    app.include_router(social_contract.router, responses=error_responses(413, 503))
    app.include_router(tasks.router, responses=error_responses(503))
    app.include_router(notifications.router, responses=error_responses(503))
    app.include_router(families.router, responses=error_responses(413, 503))
    app.include_router(audit.router, responses=error_responses(503))
    app.include_router(codec.router, responses=error_responses(413, 503))
    app.include_router(codec_sign_in.router, responses=error_responses(413, 503))
    app.include_router(reports.router, responses=error_responses(503))
    app.include_router(resources.router, responses=error_responses(413, 503))
    app.include_router(proposals.router, responses=error_responses(503))
    app.include_router(staff.router, responses=error_responses(413, 503))
    return app
