"""Running the real FastAPI app in-process (lifespan included) and calling it as staff."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import issue_token
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from tests.support.sealing import TEST_MASTER_KEY_FILE
from tests.support.staff_directory import directory_row, register_rows, tokens_of_request

JWT_SECRET = "test-jwt-secret-" + "x" * 32
PSEUDONYM_SECRET = "test-pseudonym-secret-" + "y" * 32


def api_settings(
    env: WorkflowEnvironment, database_url: str, task_queue: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "temporal_address": env.client.service_client.config.target_host,
        "task_queue": task_queue,
        "jwt_secret": SecretStr(JWT_SECRET),
        "pseudonym_secret": SecretStr(PSEUDONYM_SECRET),
        "master_key_file": TEST_MASTER_KEY_FILE,
        "allow_policy_override": True,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def api_client(
    settings: Settings, *, register_staff: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, in-process. `register_staff`: put the staff of every token a request carries
    into the directory first (tests/support/staff_directory.py); off for the directory's own
    tests, which change the directory through the API and expect its refusals."""
    app = create_app(settings)
    hooks: dict[str, list[Callable[..., Any]]] = (
        {"request": [_DirectoryRegistrar(settings.require_database_url())]}
        if register_staff
        else {}
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://kurator", timeout=60, event_hooks=hooks
        ) as client:
            yield client


class _DirectoryRegistrar:
    """An httpx request hook: registers each token's staff once per client (again when the
    same staff id comes with another role or territory: the last token wins)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.registered: dict[str, dict[str, Any]] = {}

    async def __call__(self, request: httpx.Request) -> None:
        cookies = SimpleCookie(request.headers.get("cookie", ""))
        body = None
        if request.method == "POST" and request.url.path.endswith("/codec/sign-in"):
            with contextlib.suppress(ValueError, httpx.RequestNotRead):
                body = json.loads(request.content)
        tokens = tokens_of_request(
            request.headers, {name: morsel.value for name, morsel in cookies.items()}, body
        )
        rows = [row for token in tokens if (row := directory_row(token)) is not None]
        rows = [row for row in rows if self.registered.get(row["staff_id"]) != row]
        if not rows:
            return
        try:
            await asyncio.to_thread(register_rows, self.database_url, rows)
        except psycopg.OperationalError:
            return  # the database is down (an outage test): the API answers 503 anyway
        self.registered.update({row["staff_id"]: row for row in rows})


def bearer(
    staff_id: str, role: StaffRole, municipalities: Sequence[str] = ("berdsk",)
) -> dict[str, str]:
    token = issue_token(
        secret=JWT_SECRET.encode(), staff_id=staff_id, role=role, municipalities=municipalities
    )
    return {"Authorization": f"Bearer {token}"}


def post_headers(auth: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**auth, "Idempotency-Key": key or uuid.uuid4().hex}


def read_headers(auth: dict[str, str], purpose: str = "case_work") -> dict[str, str]:
    """For a read of personal data or a case's history, which needs an X-Purpose."""
    return {**auth, "X-Purpose": purpose}


def synthetic_family(registry_id: str | None = None) -> dict[str, Any]:
    """An invented family: obviously synthetic names, never real data."""
    return {
        "registry_id": registry_id or f"TEST-{uuid.uuid4().hex[:12]}",
        "members": [
            {
                "role": "parent",
                "full_name": "Тестова Анна Синтетическая",
                "birth_date": "1990-04-01",
            },
            {"role": "child", "full_name": "Тестов Иван Синтетический", "birth_date": "2016-09-15"},
        ],
    }
