"""Request bodies over KURATOR_MAX_BODY_BYTES are refused with 413 and a JSON reason before
anything parses them, before authentication even: when Content-Length says so and when a
chunked body with no Content-Length streams past the limit. What follows the limit is read and
dropped only so far (DRAIN_BYTES) that the client can read the answer; beyond that, nothing.

The app runs in-process over the session's PostgreSQL and dev server; the last test serves it
with uvicorn on a real socket, as production does.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.body_limit import DRAIN_BYTES
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.ports import server_port

CASES = "/api/v1/cases"
SPECIALIST = bearer("body-limit-specialist", StaffRole.SPECIALIST, ("berdsk",))
LIMIT = 16 * 1024
CHUNK = 4 * 1024
TWO_MB = 2 * 1024 * 1024


def _settings(dev_env: WorkflowEnvironment, database_url: str, **overrides: Any) -> Settings:
    return api_settings(
        dev_env, database_url, f"test-body-{uuid.uuid4().hex}", max_body_bytes=LIMIT, **overrides
    )


class CountingBody:
    """A request body streamed in chunks, counting how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # A JSON string that never ends: valid as far as it goes, so only its size is wrong.
        prefix = b'{"source": "proactive", "comment": "'
        self.sent += len(prefix)
        yield prefix
        while self.sent < self.total:
            piece = b"x" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


def _too_large(response: httpx.Response) -> str:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "body_too_large", body
    assert str(LIMIT) in body["message"], body
    return str(body["message"])


def test_the_default_limit_is_256_kib_and_an_absurd_one_is_refused() -> None:
    assert Settings().max_body_bytes == 256 * 1024
    for absurd in (0, -1, 100):
        with pytest.raises(ValidationError, match="max_body_bytes"):
            Settings(max_body_bytes=absurd)


async def test_a_declared_length_over_the_limit_is_413(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with api_client(_settings(dev_env, database_url)) as api:
        for path in (CASES, f"{CASES}/{uuid.uuid4()}/contacts"):
            response = await api.post(
                path,
                headers={**post_headers(SPECIALIST), "Content-Type": "application/json"},
                content=b"{" + b" " * TWO_MB + b"}",
            )
            _too_large(response)


async def test_a_chunked_body_past_the_limit_is_413(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with api_client(_settings(dev_env, database_url)) as api:
        for path in (CASES, f"{CASES}/{uuid.uuid4()}/contacts"):
            body = CountingBody(TWO_MB)
            response = await api.post(
                path,
                headers={**post_headers(SPECIALIST), "Content-Type": "application/json"},
                content=body,
            )
            assert "content-length" not in response.request.headers
            _too_large(response)


async def test_a_huge_body_is_never_read_beyond_the_drain_bound(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    """Declared too large to drop, nothing of it is read; streamed, reading stops at the
    bound, however much more the client has."""
    huge = 8 * DRAIN_BYTES
    headers = {**post_headers(SPECIALIST), "Content-Type": "application/json"}
    async with api_client(_settings(dev_env, database_url)) as api:
        declared = CountingBody(huge, chunk=64 * 1024)
        response = await api.post(
            CASES, headers={**headers, "Content-Length": str(huge)}, content=declared
        )
        _too_large(response)
        assert declared.sent == 0, f"{declared.sent} bytes were read"
        streamed = CountingBody(huge, chunk=64 * 1024)
        response = await api.post(CASES, headers=headers, content=streamed)
        _too_large(response)
        assert streamed.sent <= DRAIN_BYTES + 64 * 1024, f"{streamed.sent} bytes were read"


async def test_the_limit_comes_before_authentication_and_applies_to_every_method(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with api_client(_settings(dev_env, database_url)) as api:
        anonymous = await api.post(CASES, content=b"{" + b" " * TWO_MB + b"}")
        _too_large(anonymous)
        get_with_a_body = await api.request(
            "GET", CASES, headers=SPECIALIST, content=b" " * (LIMIT + 1)
        )
        _too_large(get_with_a_body)


async def test_a_body_within_the_limit_is_read_and_parsed_as_before(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    """At the limit exactly, streamed or declared: the usual answers (here 422), never 413."""
    intake: dict[str, Any] = {
        "source": "proactive",
        "municipality": "berdsk",
        "family": synthetic_family(),
        "comment": "",
    }
    # Padded to the limit exactly with a comment far longer than the 2,000 characters allowed.
    intake["comment"] = "x" * (LIMIT - len(json.dumps(intake).encode()))
    body = json.dumps(intake).encode()
    assert len(body) == LIMIT
    async with api_client(_settings(dev_env, database_url)) as api:
        headers = {**post_headers(SPECIALIST), "Content-Type": "application/json"}
        declared = await api.post(CASES, headers=headers, content=body)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), CHUNK):
                yield body[start : start + CHUNK]

        streamed = await api.post(CASES, headers=headers, content=chunks())
    for response in (declared, streamed):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
        assert "body.comment" in response.json()["message"]


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[str]:
    port = server_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                assert not serving.done(), "uvicorn did not start"
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_over_a_real_socket_both_ways_are_413_and_the_server_goes_on(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with (
        _served(_settings(dev_env, database_url)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        headers = {**post_headers(SPECIALIST), "Content-Type": "application/json"}
        declared = await http.post(CASES, headers=headers, content=b"{" + b" " * TWO_MB + b"}")
        _too_large(declared)
        assert declared.headers.get("connection") == "close"
        streamed = await http.post(CASES, headers=headers, content=CountingBody(TWO_MB))
        _too_large(streamed)
        # The refusals left the server answering.
        health = await http.get("/health")
        assert health.status_code in (200, 503), health.text
