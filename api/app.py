"""The FastAPI application and its lifespan (the API's composition root)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health
from api.state import AppState
from models.db import make_async_engine, make_session_factory
from models.settings import Settings
from workers.temporal_client import connect_temporal


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_async_engine(settings.require_database_url())
        # Lazy: the API starts, serves reads and reports health while Temporal is down.
        temporal = await connect_temporal(
            settings.require_temporal_address(), settings.temporal_namespace, lazy=True
        )
        app.state.kurator = AppState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            temporal=temporal,
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Kurator",
        summary="Social support of families with children, one durable case per family episode.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    return app
