"""Engines and sessions for PostgreSQL through psycopg. Nothing is created at import time."""

import select
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
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
    its own; psycopg's default is 130 s.

    A pooled connection the server has closed (it restarted, or ended the session) is
    replaced at checkout, as `pool_pre_ping` would, but without its round trip: a look at the
    socket (`discard_if_closed`). A read of one statement was two round trips with the ping."""
    url = sqlalchemy_url(database_url)
    connect_args = (
        {"connect_timeout": connect_timeout}
        if connect_timeout is not None and "connect_timeout=" not in url
        else {}
    )
    engine = create_async_engine(url, pool_size=pool_size, connect_args=connect_args)
    event.listen(engine.sync_engine, "checkout", discard_if_closed)
    return engine


def discard_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pool checkout's check: an idle connection has nothing to read, so a socket with
    something to read (the server's last words and the end of the stream, when it shut down or
    ended the session), or in error, is a connection the server is done with. Raising
    DisconnectionError makes the pool discard it and connect anew. A connection that only
    looks so (an asynchronous notice) is replaced for nothing, which is harmless."""
    connection = dbapi_connection.driver_connection  # the psycopg connection
    if connection.closed or connection.broken:
        raise exc.DisconnectionError("the connection was closed")
    poll = select.poll()
    poll.register(connection.pgconn.socket, select.POLLIN | select.POLLPRI)
    if poll.poll(0):
        raise exc.DisconnectionError("the server closed the connection")


def make_sync_engine(database_url: str) -> Engine:
    """A plain engine, for migrations and scripts."""
    return create_engine(sqlalchemy_url(database_url), pool_pre_ping=True)


SessionFactory = async_sessionmaker[AsyncSession]


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (DTOs are built after it)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
