"""Building the key store and the sealing data converter from settings (composition roots)."""

from temporalio.converter import DataConverter

from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import master_keys_of
from models.db import SessionFactory
from models.settings import Settings


def sealing_from_settings(
    settings: Settings, sessions: SessionFactory
) -> tuple[FamilyKeyStore, DataConverter]:
    keys = FamilyKeyStore(sessions, master_keys_of(settings))
    return keys, sealing_data_converter(keys)
