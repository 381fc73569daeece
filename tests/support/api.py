"""Running the real FastAPI app in-process (lifespan included) and calling it as staff."""

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import issue_token
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from tests.support.sealing import TEST_MASTER_KEY_FILE

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
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://kurator", timeout=60
        ) as client:
            yield client


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
