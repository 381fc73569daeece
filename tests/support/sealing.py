"""The test suite's master keys: a committed, synthetic key file (the committed histories'
data keys are wrapped by it, so it must never change), and helpers to build what production
builds from it."""

from pathlib import Path

from temporalio.converter import DataConverter

from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import read_key_file
from models.db import SessionFactory

TEST_MASTER_KEY_FILE = Path(__file__).with_name("test-master-keys")


def test_key_store(sessions: SessionFactory) -> FamilyKeyStore:
    return FamilyKeyStore(sessions, read_key_file(TEST_MASTER_KEY_FILE))


def test_data_converter(sessions: SessionFactory) -> DataConverter:
    return sealing_data_converter(test_key_store(sessions))


# Helpers, not tests: test modules import them, and pytest would collect them by their names.
test_key_store.__test__ = False  # type: ignore[attr-defined]
test_data_converter.__test__ = False  # type: ignore[attr-defined]
