"""A database of each test's own (verify reads the whole history, and the tamper tests rewrite
it as a superuser would: neither may see or disturb the shared test database), a signing key
and an anchor log."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from infra.audit.anchor_keys import SigningKey, write_new_signing_key
from infra.db_roles import ensure_app_login, url_as
from infra.migrate import upgrade_to_head
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory, make_async_engine, make_session_factory
from tests.conftest import TEST_APP_LOGIN
from tests.support.sealing import test_key_store


@dataclass(frozen=True)
class AuditDatabase:
    owner_url: str  # a superuser: may bypass the append-only guard
    app_url: str  # a member of kurator_app, as the worker logs in
    sessions: SessionFactory
    keys: FamilyKeyStore


@pytest_asyncio.fixture
async def audit_db(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    app_url = url_as(empty_database_url, TEST_APP_LOGIN)
    await asyncio.to_thread(ensure_app_login, empty_database_url, app_url)
    engine = make_async_engine(app_url)
    sessions = make_session_factory(engine)
    yield AuditDatabase(empty_database_url, app_url, sessions, test_key_store(sessions))
    await engine.dispose()


@pytest.fixture
def signing_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit-signing-key.pem"
    write_new_signing_key(path)
    return path


@pytest.fixture
def signing_key(signing_key_file: Path) -> SigningKey:
    from infra.audit.anchor_keys import read_signing_key

    return read_signing_key(signing_key_file)


@pytest.fixture
def anchor_log(tmp_path: Path) -> Path:
    return tmp_path / "anchors" / "audit-anchors.jsonl"
