"""The HTTP client `kurator bench` drives the API with: plain HTTP/1.1 over kept-alive
connections, JSON in and out, nothing else.

Why not httpx: the driver shares the bench process with the worker (and, by default, the API),
and httpx spent about 5 ms of that process's CPU per request (measured: 31.9 against 25.2 ms
per call for the whole process, 24.9 against 30.5 steps/s). That cost belongs to the caller (a
staff member's browser, in production), not to Kurator, and the bare side has no counterpart
to it: its driver is the Temporal client, which the API pays for as well. The API still parses
and answers real HTTP requests (uvicorn, FastAPI); only the client side is lean.

A POST carries an Idempotency-Key and a GET changes nothing, so a request whose kept-alive
connection turns out to be closed is safely sent once more on a new connection. A GET's answer
may be chunked (a streamed export): `sink` then receives it chunk by chunk, never held whole.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

# uvicorn closes a connection idle for 5 s (its default); reuse one only well before that.
_MAX_IDLE_SECONDS = 2.0


class HttpError(Exception):
    """The server did not answer in a way the driver understands."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.last_used = time.monotonic()

    def close(self) -> None:
        self.writer.close()


# Receives a streamed answer's bytes as they arrive.
Sink = Callable[[bytes], None]


class LeanHttp:
    """POSTs JSON to, and GETs from, one server over up to `size` kept-alive connections."""

    def __init__(self, host: str, port: int, *, size: int, request_seconds: float) -> None:
        self._host = host
        self._port = port
        self._request_seconds = request_seconds
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        """The status and the decoded JSON answer of `POST path`."""
        data = json.dumps(body).encode()
        head = "".join(
            [
                f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n",
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                "\r\n",
            ]
        )
        status, payload = await self._send(f"POST {path}", head.encode() + data, None)
        return status, json.loads(payload) if payload else None

    async def get(
        self, path: str, headers: dict[str, str], *, sink: Sink | None = None
    ) -> tuple[int, bytes]:
        """The status and the body of `GET path` (empty when `sink` took it)."""
        head = "".join(
            [
                f"GET {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                "\r\n",
            ]
        )
        return await self._send(f"GET {path}", head.encode(), sink)

    async def _send(self, what: str, request: bytes, sink: Sink | None) -> tuple[int, bytes]:
        async with self._slots, asyncio.timeout(self._request_seconds):
            connection = self._take()
            if connection is not None:
                try:
                    return await self._exchange(connection, request, sink)
                except _ClosedBeforeAnswer:
                    pass  # the server closed it while idle: send again on a new one
            connection = _Connection(*await asyncio.open_connection(self._host, self._port))
            try:
                return await self._exchange(connection, request, sink)
            except _ClosedBeforeAnswer:
                raise HttpError(f"{what}: the server closed the connection") from None

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _take(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if time.monotonic() - connection.last_used < _MAX_IDLE_SECONDS:
                return connection
            connection.close()
        return None

    async def _exchange(
        self, connection: _Connection, request: bytes, sink: Sink | None
    ) -> tuple[int, bytes]:
        reader = connection.reader
        try:
            connection.writer.write(request)
            status_line = await reader.readline()
            if not status_line:
                raise _ClosedBeforeAnswer
            status = int(status_line.split(b" ", 2)[1])
            length, keep, chunked = None, True, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep = False
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                payload = await _read_chunked(reader, sink)
            elif length is None:
                raise HttpError(f"answer {status} without Content-Length")
            else:
                payload = await reader.readexactly(length)
                if sink is not None:
                    sink(payload)
                    payload = b""
        except (ConnectionResetError, BrokenPipeError):
            connection.close()
            raise _ClosedBeforeAnswer from None
        except BaseException:
            connection.close()
            raise
        if keep:
            connection.last_used = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return status, payload


async def _read_chunked(reader: asyncio.StreamReader, sink: Sink | None) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b""):
                pass  # trailers
            return b"".join(parts)
        chunk = await reader.readexactly(size)
        await reader.readexactly(2)  # the chunk's CRLF
        if sink is None:
            parts.append(chunk)
        else:
            sink(chunk)


class _ClosedBeforeAnswer(Exception):
    pass


@asynccontextmanager
async def lean_http(base_url: str, *, size: int, request_seconds: float) -> AsyncIterator[LeanHttp]:
    """A `LeanHttp` for `http://host:port`, its connections closed on exit."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise ValueError(f"not an http://host:port URL: {base_url}")
    client = LeanHttp(parts.hostname, parts.port, size=size, request_seconds=request_seconds)
    try:
        yield client
    finally:
        await client.close()
