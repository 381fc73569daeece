"""The test suite's keys: a committed, synthetic master key file, helpers to build what
production builds from it, and the export of a test database's data keys for the committed
sealed histories (infra.sealing.static_keys reads them back)."""

from pathlib import Path

from sqlalchemy import text
from temporalio.converter import DataConverter

from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import read_key_file
from infra.sealing.static_keys import StaticKeySource
from models.db import SessionFactory
from workflows.ids import family_key_of

TEST_MASTER_KEY_FILE = Path(__file__).with_name("test-master-keys")


def test_key_store(sessions: SessionFactory) -> FamilyKeyStore:
    return FamilyKeyStore(sessions, read_key_file(TEST_MASTER_KEY_FILE))


def test_data_converter(sessions: SessionFactory) -> DataConverter:
    return sealing_data_converter(test_key_store(sessions))


async def exported_key_source(
    store: FamilyKeyStore, sessions: SessionFactory, workflow_ids: dict[str, str]
) -> StaticKeySource:
    """Every live data key of the database `store` reads, and the family of every case."""
    async with sessions() as session:
        connection = await session.connection()
        key_ids = (
            await connection.execute(
                text("SELECT key_id FROM family_data_keys WHERE wrapped IS NOT NULL")
            )
        ).scalars()
        keys = [await store.by_id(key_id) for key_id in list(key_ids)]
        cases = (
            await connection.execute(text("SELECT case_id, workflow_id FROM case_projections"))
        ).all()
    families = {row[0]: family_key_of(row[1]) for row in cases}
    known = {case_id: family for case_id, family in families.items() if family is not None}
    return StaticKeySource(keys, known, workflow_ids)


# Helpers, not tests: test modules import them, and pytest would collect them by their names.
test_key_store.__test__ = False  # type: ignore[attr-defined]
test_data_converter.__test__ = False  # type: ignore[attr-defined]
