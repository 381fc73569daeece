"""The staff directory's API tests' common ground: an app that does not register tokens' staff
on its own (tests/support/staff_directory.py), and managers put in the directory directly."""

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer
from tests.support.staff_directory import register_token_staff

STAFF = "/api/v1/staff"


@dataclass(frozen=True)
class Directory:
    api: httpx.AsyncClient
    database_url: str
    suffix: str  # makes the test's staff ids its own in the shared database
    ministry: dict[str, str]
    head: dict[str, str]  # a head of berdsk and iskitim_district

    def staff_id(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def register(self, name: str, role: StaffRole, municipalities: Sequence[str]) -> dict[str, str]:
        """A token for a member written straight into the directory (test set-up)."""
        auth = bearer(self.staff_id(name), role, municipalities)
        register_token_staff(self.database_url, auth)
        return auth


def member(role: str, municipalities: Sequence[str], **more: object) -> dict[str, object]:
    """A PUT body with an invented name."""
    return {
        "full_name": "Тестова Сотрудница Синтетическая",
        "role": role,
        "municipalities": list(municipalities),
        "email": "test.staff@example.org",
        **more,
    }


@asynccontextmanager
async def directory(
    env: WorkflowEnvironment, database_url: str, **overrides: object
) -> AsyncIterator[Directory]:
    suffix = uuid.uuid4().hex[:10]
    settings = api_settings(env, database_url, f"test-staff-{suffix}", **overrides)
    async with api_client(settings, register_staff=False) as api:
        ministry = bearer(f"min-{suffix}", StaffRole.MINISTRY, ())
        head = bearer(f"head-{suffix}", StaffRole.HEAD, ("berdsk", "iskitim_district"))
        register_token_staff(database_url, ministry, head)
        yield Directory(api, database_url, suffix, ministry, head)
