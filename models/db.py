"""Engines and sessions for PostgreSQL through psycopg. Nothing is created at import time."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy form of a postgresql:// URL, with the psycopg (v3) driver."""
    scheme, sep, rest = database_url.partition("://")
    if scheme not in ("postgresql", "postgresql+psycopg") or not sep:
        raise ValueError("database URL must start with postgresql://")
    return f"postgresql+psycopg://{rest}"


def make_async_engine(
    database_url: str, *, pool_size: int = 5, connect_timeout: int | None = None
) -> AsyncEngine:
    """The engine the worker's activities and the API share within one process.

    `connect_timeout` (seconds, at least 2) bounds each connection attempt unless the URL sets
    its own; psycopg's default is 130 s."""
    url = sqlalchemy_url(database_url)
    connect_args = (
        {"connect_timeout": connect_timeout}
        if connect_timeout is not None and "connect_timeout=" not in url
        else {}
    )
    return create_async_engine(
        url, pool_size=pool_size, pool_pre_ping=True, connect_args=connect_args
    )


def make_sync_engine(database_url: str) -> Engine:
    """A plain engine, for migrations and scripts."""
    return create_engine(sqlalchemy_url(database_url), pool_pre_ping=True)


SessionFactory = async_sessionmaker[AsyncSession]


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (DTOs are built after it)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
