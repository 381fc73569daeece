"""A database of each test's own, a signing key and an anchor log."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from infra.audit.anchor_keys import SigningKey, write_new_signing_key
from tests.support.audit import AuditDatabase, audit_database


@pytest_asyncio.fixture
async def audit_db(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    async with audit_database(empty_database_url) as db:
        yield db


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
