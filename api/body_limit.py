"""A limit on the size of request bodies: a pure ASGI middleware in front of the whole app.

Without it a client could send megabytes (or an endless chunked stream) and FastAPI would
buffer and parse all of it before any validation said no. Here a body whose Content-Length
exceeds the limit is refused with 413 without being buffered or parsed, and a body without
Content-Length (chunked) is read here, counting, and refused the moment it passes the limit. A
body within the limit is handed on to the app unchanged.

Before answering, the rest of an over-long body is read and dropped, up to `DRAIN_BYTES` and
`DRAIN_SECONDS`: HTTP/1.1 clients (httpx, requests) send the whole body before they read the
answer, and a server that closes with unread data sends a TCP reset, so without this they
would see a broken connection instead of the 413. Beyond those bounds the connection is
simply closed: a client sending that much is not owed an answer.
"""

import asyncio
from collections import deque

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorBody
from infra.logs import get_logger

log = get_logger(__name__)

DRAIN_BYTES = 8 * 1024 * 1024
DRAIN_SECONDS = 5.0


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            if declared <= DRAIN_BYTES:
                await _drain(receive, DRAIN_BYTES)
            await self._refuse(scope, send, declared=True)
            return
        # Read the body here (FastAPI would read it whole anyway before parsing), so that an
        # over-long one is refused before the app sees any of it. The server already enforces a
        # declared length; counting covers chunked bodies and any server that does not.
        messages: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see it as it would have
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                messages.clear()
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_BYTES - size)
                await self._refuse(scope, send, declared=False)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            # The buffered body first, then the server's own receive (for http.disconnect).
            return messages.popleft() if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, *, declared: bool) -> None:
        log.warning(
            "request body too large",
            path=scope.get("path"),
            limit=self.max_bytes,
            how="content-length" if declared else "streamed",
        )
        body = (
            ErrorBody(
                code="body_too_large",
                message=f"the request body is larger than {self.max_bytes} bytes, the most "
                "this server accepts",
            )
            .model_dump_json(exclude_none=True)
            .encode()
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body stays unread, so this connection cannot carry
                    # another request: the server closes it after the answer.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of the body: at most `budget` bytes, for at most DRAIN_SECONDS."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while budget > 0:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                budget -= len(message.get("body", b""))
    except TimeoutError:
        return


def _content_length(scope: Scope) -> int | None:
    """The declared Content-Length, or None when absent or not a plain number (the server,
    which frames the body, refuses a malformed one itself)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def install_body_limit(app: FastAPI, *, max_bytes: int) -> None:
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
