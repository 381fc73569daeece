"""`kurator keys`: master key rotation. The master key wraps every family's data key; rotating
it re-wraps those (a few hundred bytes a family) and leaves Temporal histories and sealed
columns alone, since the data keys themselves do not change.

The flow (README, "Keys"): put a new key (`kurator keys new-master-key`) on the first line of
the key file, keeping the old one below it as retired; restart the processes so new data keys
are wrapped by the new one; run `kurator keys rewrap`; then delete the old line.
"""

from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import master_keys_of
from models.db import make_async_engine, make_session_factory
from models.settings import Settings


async def rewrap_data_keys(settings: Settings) -> tuple[str, int]:
    """Re-wrap every live data key under the key file's current master key: its id, and how
    many keys were re-wrapped (0 when all already were). Raises SettingsError or
    MasterKeyError (a key wrapped by a master key the file no longer holds)."""
    master_keys = master_keys_of(settings)
    engine = make_async_engine(settings.require_database_url())
    try:
        store = FamilyKeyStore(make_session_factory(engine), master_keys)
        return master_keys.current.key_id, await store.rewrap()
    finally:
        await engine.dispose()
